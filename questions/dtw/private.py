"""dtw: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

from grader import draw, refjit
from grader.draw import f32


def visible():
  """A repeated first sample; then two 2-d streams of different lengths."""
  return [(f32([[0], [1], [2]]), f32([[0], [0], [1], [2]])), (f32([[0, 0], [1, 1], [2, 0]]), f32([[0, 1], [2, 1]]))]


def hidden(rng):
  """One-sample streams on either side, 2×5 and 6×3, then four random sizes with n != m; d in 1..3.

  No filtering of near-ties is needed: a path chosen differently because float32 flipped a near-tie
  costs the optimum plus less than float32's error, well inside rtol = atol = 1e-4.
  """
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  nm = [(1, k(2, 6)), (k(2, 6), 1), (2, 5), (6, 3)] + [(k(1, 7), k(1, 7)) for _ in range(4)]
  out = []
  for j, (n, m) in enumerate(nm):
    if j >= 4 and n == m:
      m = m % 7 + 1
    d = k(1, 3)
    out.append((draw.normal(rng, n, d), draw.normal(rng, m, d)))
  return out


def reference(x, y):
  """The zoo's dtw, as its fixed-size form in one jax.jit; the path is cut to its length in numpy.

  (`dtw` itself cuts the path with a JAX slice, one more compilation per path length.)
  """
  import jax

  cost, path_Lx2, length = jax.device_get(_jitted()(x, y))
  return cost, path_Lx2[: int(length)]


@functools.cache
def _jitted():
  from zoo.align.time import dtw_fixed

  return refjit.jit(dtw_fixed)
