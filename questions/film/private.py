"""film: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

from grader import draw, refjit
from grader.draw import f32


def visible():
  """One feature row and a one-number condition; then a batch of two."""
  p = {
    "gamma": {"kernel": f32([[2, 3]]), "bias": f32([0, 1])},
    "beta": {"kernel": f32([[1, 1]]), "bias": f32([0.5, 0])},
  }
  p2 = {
    "gamma": {"kernel": f32([[1, 0, 2], [0, 1, -1]]), "bias": f32([1, 1, 0])},
    "beta": {"kernel": f32([[0.5, 0, 0], [0, 0, 1]]), "bias": f32([0, -1, 0])},
  }
  return [(p, f32([[1, 2]]), f32([[1]])), (p2, f32([[1, 2, 3], [-1, 0, 1]]), f32([[1, 0], [2, -1]]))]


def hidden(rng):
  """Batches of 1 (twice) and 2 to 4; feature and condition widths 1 to 5."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 4)
    c, d = k(1, 5), k(1, 5)
    params = {
      "gamma": {"kernel": draw.normal(rng, c, d), "bias": draw.normal(rng, d)},
      "beta": {"kernel": draw.normal(rng, c, d), "bias": draw.normal(rng, d)},
    }
    out.append((params, draw.normal(rng, b, d), draw.normal(rng, b, c)))
  return out


@functools.cache
def _jitted():
  from zoo.fusion.gating import film

  return refjit.jit(film)


def reference(params, x, cond):
  """The zoo's film, in one jax.jit."""
  return _jitted()(params, x, cond)
