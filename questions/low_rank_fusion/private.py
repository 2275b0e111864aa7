"""low_rank_fusion: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

from grader import draw, refjit


def _params(draw_fn, dims, r, o):
  """One factor [r, d + 1, o] per modality, the fusion weights [1, r] and bias [1, o]."""
  return {
    "factors": [draw_fn(r, d + 1, o) for d in dims],
    "fusion_weights": draw_fn(1, r),
    "fusion_bias": draw_fn(1, o),
  }


def visible():
  """Rank 2 and a batch of one; rank 3, a batch of two and one output; values to one decimal."""
  rng = draw.fixed_rng("low_rank_fusion")
  out = []
  for b, dims, r, o in ((1, (2, 1, 2), 2, 2), (2, (1, 3, 2), 3, 1)):
    params = _params(lambda *s: draw.round1(rng, *s), dims, r, o)
    out.append((params, *(draw.round1(rng, b, d) for d in dims)))
  return out


def hidden(rng):
  """Batches of 1 (twice) and 2 to 4; widths, rank and output size 1 to 4."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 4)
    dims, r, o = (k(1, 4), k(1, 4), k(1, 4)), k(1, 4), k(1, 4)
    params = _params(lambda *s: draw.normal(rng, *s), dims, r, o)
    out.append((params, *(draw.normal(rng, b, d) for d in dims)))
  return out


@functools.cache
def _jitted():
  from zoo.fusion.tensor import low_rank_fusion

  return refjit.jit(low_rank_fusion)


def reference(params, z_text, z_image, z_audio):
  """The zoo's low_rank_fusion, in one jax.jit."""
  return _jitted()(params, z_text, z_image, z_audio)
