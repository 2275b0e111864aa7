"""scaled_dot_product_attention: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

import numpy as np

from grader import draw, refjit
from grader.draw import f32


def visible():
  """No mask; then a batch of one with a full mask."""
  return [
    (f32([[1, 0], [0, 1]]), f32([[1, 0], [0, 1], [1, 1]]), f32(np.eye(3))),
    (
      f32([[[1, 2], [0, -1]]]),
      f32([[[1, 0], [0, 1], [-1, 1]]]),
      f32([[[1], [2], [3]]]),
      np.array([[[True, False, True], [False, True, True]]]),
    ),
  ]


def hidden(rng):
  """No batch axis, one or two batch axes; masks full, 2-d (broadcast over the batch) or over keys only.

  Every mask row keeps at least one key; dv differs from d in half the cases at least; one case has
  a single query.
  """
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  # (batch axes, mask shape: None | "full" | "2d" (broadcast over batch) | "keys" ([..., 1, Lk]))
  plans = [
    ((), None),
    ((1,), "full"),
    ((k(2, 3),), None),
    ((k(1, 3), k(2, 3)), "full"),
    ((k(2, 3), k(1, 2)), "2d"),
    ((k(1, 3),), "keys"),
    ((), "2d"),
    ((1, 1), None),
  ]
  out = []
  for j, (batch, mode) in enumerate(plans):
    lq, lk, d = k(1, 6), k(1, 6), k(1, 8)
    dv = d + k(1, 4) if j % 2 == 0 else k(1, 8)
    if j == 6:
      lq = 1
    q = draw.normal(rng, *batch, lq, d)
    kk = draw.normal(rng, *batch, lk, d)
    v = draw.normal(rng, *batch, lk, dv)
    if mode is None:
      out.append((q, kk, v))
      continue
    shape = {"full": (*batch, lq, lk), "2d": (lq, lk), "keys": (*batch, 1, lk)}[mode]
    out.append((q, kk, v, draw.mask(rng, shape)))
  return out


@functools.cache
def _jitted():
  from zoo.attention import scaled_dot_product_attention

  return refjit.jit(scaled_dot_product_attention)


def reference(q, k, v, mask=None):
  """The zoo's scaled_dot_product_attention, in one jax.jit."""
  return _jitted()(q, k, v, mask)
