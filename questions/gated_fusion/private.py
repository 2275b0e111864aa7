"""gated_fusion: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

from grader import draw, refjit


def _params(draw_fn, da, db, o):
  return {"W_a": draw_fn(da, o), "W_b": draw_fn(db, o), "W_z": draw_fn(da + db, o)}


def visible():
  """A batch of one; then a batch of two with a one-wide x_a; values to one decimal."""
  rng = draw.fixed_rng("gated_fusion")
  out = []
  for b, da, db, o in ((1, 2, 3, 2), (2, 1, 2, 3)):
    params = _params(lambda *s: draw.round1(rng, *s), da, db, o)
    out.append((params, draw.round1(rng, b, da), draw.round1(rng, b, db)))
  return out


def hidden(rng):
  """Batches of 1 (twice) and 2 to 4; widths 1 to 5."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 4)
    da, db, o = k(1, 5), k(1, 5), k(1, 5)
    params = _params(lambda *s: draw.normal(rng, *s), da, db, o)
    out.append((params, draw.normal(rng, b, da), draw.normal(rng, b, db)))
  return out


@functools.cache
def _jitted():
  from zoo.fusion.gating import gated_fusion

  return refjit.jit(gated_fusion)


def reference(params, x_a, x_b):
  """The zoo's gated_fusion, in one jax.jit."""
  return _jitted()(params, x_a, x_b)
