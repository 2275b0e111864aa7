"""soft_dtw, private: the cases and the zoo's float64 reference (zoo.align.time.soft_dtw)."""

import functools

import numpy as np

from grader import refjit


def visible():
  """The worked example of the task, then a 3-frame against 4-frame pair in 2-d at a smaller γ."""
  x = np.array([[0.0], [1.0]], np.float32)
  a = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, -1.0]], np.float32)
  b = np.array([[0.5, 1.0], [1.0, 1.0], [1.5, 0.0], [2.0, -0.5]], np.float32)
  return [(x, x.copy(), 1.0), (a, b, 0.1)]


def hidden(rng):
  """8 cases: single frames (n = 1, m = 1, both), equal sequences, long against short, γ from 0.01 to 10.

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  shapes = [(1, 5, 2), (6, 1, 3), (1, 1, 4), (4, 4, 1), (7, 3, 2), (5, 8, 3), (3, 6, 1), (8, 8, 2)]
  gammas = [1.0, 0.5, 2.0, 0.01, 0.1, 1.0, 10.0, 0.05]
  cases = []
  for k, ((n, m, d), g) in enumerate(zip(shapes, gammas)):
    x = normal(n, d)
    y = x.copy() if k == 3 else normal(m, d)  # one case warps a sequence onto itself
    cases.append((x, y, float(np.clip(g * np.exp(rng.uniform(-0.2, 0.2)), 0.01, 10.0))))
  return cases


@functools.cache
def _jitted():
  """The zoo's soft_dtw under one jax.jit (its scan compiles once per shape, not once per call)."""

  from zoo.align.time import soft_dtw

  return refjit.jit(soft_dtw, static_argnames="distance")


def reference(x, y, gamma):
  """R_γ(n−1, m−1) under the squared Euclidean cost, by the zoo."""
  return _jitted()(x, y, gamma, distance="sqeuclidean")
