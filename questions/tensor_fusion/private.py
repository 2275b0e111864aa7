"""tensor_fusion: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

from grader import draw, refjit
from grader.draw import f32


def visible():
  """One row of single numbers; then a batch of two with widths 2, 1, 1."""
  return [(f32([[2]]), f32([[3]]), f32([[0.5]])), (f32([[1, -1], [0, 2]]), f32([[2], [-0.5]]), f32([[3], [1]]))]


def hidden(rng):
  """Batches of 1 (twice) and 2 to 4, widths 1 to 4."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 4)
    out.append(tuple(draw.normal(rng, b, k(1, 4)) for _ in range(3)))
  return out


@functools.cache
def _jitted():
  from zoo.fusion.tensor import tensor_fusion

  return refjit.jit(tensor_fusion)


def reference(z_text, z_image, z_audio):
  """The zoo's tensor_fusion, in one jax.jit."""
  return _jitted()(z_text, z_image, z_audio)
