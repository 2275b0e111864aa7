"""deep_cca_loss, private: the cases and the zoo's float64 reference (zoo.align.features.cca_loss)."""

import functools

import numpy as np

from grader import refjit


def visible():
  """The worked example of the task, then 8 samples of a 3-d and a 2-d view, both correlations summed."""
  h1 = np.array([[1.0], [2.0], [3.0]], np.float32)
  h2 = np.array([[2.0], [4.0], [6.0]], np.float32)
  a = np.array(
    [
      [1.0, 0.0, 2.0],
      [0.5, 1.0, -1.0],
      [-1.0, 2.0, 0.0],
      [2.0, -0.5, 1.0],
      [0.0, 1.5, 1.5],
      [-1.5, -1.0, 0.5],
      [1.0, 1.0, -2.0],
      [0.0, -2.0, 1.0],
    ],
    np.float32,
  )
  b = np.array(
    [[1.5, 0.0], [0.0, 1.0], [-1.0, 2.5], [2.0, 0.0], [0.5, 2.0], [-2.0, -1.0], [0.0, 1.0], [1.0, -2.0]], np.float32
  )
  return [(h1, h2, 0.25, 1.0, 1), (a, b, 0.01, 0.1, 2)]


def hidden(rng):
  """8 cases: n = 2, n below the width (rank-deficient covariances), d1 ≠ d2, views that are linear
  images of each other (correlations near 1), k = 1 and k = min(d1, d2), ridges from 1e−3 to 1.

  Draw rule: the ridge is at least 1e−3 where n is well above the width and at least 0.05 where the
  covariance is rank-deficient, so the whitening stays well conditioned in float32.

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  loguniform = lambda lo, hi: float(np.exp(rng.uniform(np.log(lo), np.log(hi))))
  cases = []
  # n = 2, one feature each: a single correlation, ±1 shrunk by the ridges.
  cases.append((normal(2, 1), normal(2, 1), loguniform(0.05, 1.0), loguniform(0.05, 1.0), 1))
  cases.append((normal(12, 3), normal(12, 2), loguniform(1e-3, 1e-2), loguniform(1e-3, 1e-2), 2))
  cases.append((normal(20, 4), normal(20, 4), loguniform(1e-3, 0.1), loguniform(1e-3, 0.1), 1))
  # h2 a linear image of h1 plus a little noise: correlations just below 1.
  h1 = normal(16, 3)
  h2 = (h1 @ (np.eye(3) + 0.3 * rng.standard_normal((3, 3))) + 0.01 * normal(16, 3)).astype(np.float32)
  cases.append((h1, h2, loguniform(1e-3, 1e-2), loguniform(1e-3, 1e-2), 3))
  # n below the widths: Σ11 and Σ22 have rank n − 1 before the ridge.
  cases.append((normal(4, 5), normal(4, 3), loguniform(0.05, 0.5), loguniform(0.05, 0.5), 3))
  cases.append((normal(3, 2), normal(3, 6), loguniform(0.05, 0.5), loguniform(0.05, 0.5), 2))
  cases.append((normal(30, 2), normal(30, 6), loguniform(1e-3, 0.1), loguniform(1e-3, 0.1), 2))
  # Unnormalised features on different scales.
  cases.append(
    (
      (3.0 * normal(25, 3)).astype(np.float32),
      (0.5 * normal(25, 4)).astype(np.float32),
      loguniform(0.01, 1.0),
      loguniform(0.01, 1.0),
      int(rng.integers(1, 4)),
    )
  )
  return cases


@functools.cache
def _jitted():
  """The zoo's cca_loss under one jax.jit, k static (one compile per shape and k)."""

  from zoo.align.features import cca_loss

  return refjit.jit(cca_loss, static_argnames="k")


def reference(h1, h2, r1, r2, k):
  """−(sum of the top-k canonical correlations), by the zoo (Cholesky whitening, the same singular values)."""
  return _jitted()(h1, h2, k=k, r1=r1, r2=r2)
