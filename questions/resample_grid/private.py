"""resample_grid, private: the cases and the zoo's float64 reference (zoo.align.space.grid_tokens)."""

import functools

import numpy as np

from grader import refjit


def visible():
  """The worked example of the task, then a 3×3 map of 2 channels onto a 2×5 grid."""
  line = np.array([[[0.0], [1.0]]], np.float32)
  grid = np.arange(18, dtype=np.float32).reshape(3, 3, 2) / 2.0
  return [(line, 1, 4), (grid, 2, 5)]


def hidden(rng):
  """8 cases: a 1×1 map blown up, the same size, up one axis and down the other, non-integer ratios,
  everything onto one pixel, a 1-wide map, exact 2× upsampling.

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  sizes = [
    (1, 1, 3, 4, 5),
    (4, 4, 2, 4, 4),
    (3, 5, 1, 7, 2),
    (8, 6, 3, 3, 4),
    (2, 7, 2, 1, 1),
    (5, 1, 4, 10, 3),
    (6, 6, 1, 12, 12),
    (7, 3, 2, 5, 9),
  ]
  return [(rng.standard_normal((h, w, c)).astype(np.float32), oh, ow) for h, w, c, oh, ow in sizes]


@functools.cache
def _jitted():
  """The zoo's grid_tokens under one jax.jit, the grid and the method static."""

  from zoo.align.space import grid_tokens

  return refjit.jit(grid_tokens, static_argnames=("grid", "method", "antialias"))


def reference(feat, out_h, out_w):
  """Bilinear, half-pixel centres, no antialiasing: the zoo's grid_tokens (jax.image.resize), unflattened."""
  tokens_1xNxC = _jitted()(feat[None], grid=(out_h, out_w), method="linear", antialias=False)
  return np.asarray(tokens_1xNxC).reshape(out_h, out_w, feat.shape[-1])  # in numpy: no eager JAX op to compile
