"""interp_align: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

import numpy as np

from grader import draw, refjit
from grader.draw import f32


def visible():
  """Destinations on both sides of the source range; then a one-feature stream past its end."""
  return [
    (f32([0, 1, 3]), f32([[0, 1], [2, 3], [4, -1]]), f32([-1, 0.5, 2, 4])),
    (f32([0, 0.5, 2]), f32([[10], [20], [-10]]), f32([0.25, 1.25, 2, 3])),
  ]


def hidden(rng):
  """Outside the range on both sides, a single destination, exactly on the sources, then at random.

  n >= 2 source samples (one sample makes the resampling a constant, not an interpolation);
  destination times are sorted (a destination clock) but may lie outside the source range; times
  stay within about ±15 with gaps >= 0.25, so float32 interpolation weights are accurate to ~1e-6.
  """
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    n, d, m = k(2, 7), 1 + j % 4, k(1, 7)
    t_src = np.round(rng.uniform(-2, 2) + np.cumsum(rng.uniform(0.25, 1.5, n)), 3)
    lo, hi = t_src[0], t_src[-1]
    if j == 0:
      t_dst = np.sort(np.concatenate([rng.uniform(lo - 3, lo - 0.1, 2), rng.uniform(hi + 0.1, hi + 3, 2)]))
    elif j == 1:
      m = 1
      t_dst = rng.uniform(lo, hi, 1)
    elif j == 2:
      t_dst = t_src.copy()
    else:
      t_dst = np.sort(rng.uniform(lo - 1.5, hi + 1.5, m))
    out.append((f32(t_src), draw.normal(rng, n, d), f32(np.round(t_dst, 3))))
  return out


@functools.cache
def _jitted():
  from zoo.align.time import interp_align

  return refjit.jit(interp_align)


def reference(t_src, x_src, t_dst):
  """The zoo's interp_align, in one jax.jit."""
  return _jitted()(t_src, x_src, t_dst)
