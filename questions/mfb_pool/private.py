"""mfb_pool, private: the cases and the zoo's float64 reference (zoo.fusion.tensor.MFB)."""

import functools

import numpy as np

from grader import refjit


def _params(k0, b0, k1, b1):
  return {"expand_0": {"kernel": k0, "bias": b0}, "expand_1": {"kernel": k1, "bias": b1}}


def visible():
  """The worked example of the task, then a batch of 2 with biases, k = 3, o = 2."""
  f = lambda a: np.array(a, np.float32)
  ex = (_params(f([[1, 2, 0.5, 1]]), f([0, 0, 0, 0]), f([[3, -1, 2, 2]]), f([0, 0, 0, 0])), f([[1]]), f([[1]]), 2)
  k0 = f([[1, 0, -1, 2, 0.5, 1], [0, 1, 1, -1, 2, 0]])
  k1 = f([[0.5, 1, 1, 0, -1, 2], [1, -1, 0, 1, 1, 1], [2, 0, 1, -0.5, 0, 1]])
  second = (
    _params(k0, f([0.1, 0, 0, 0.2, 0, -0.1]), k1, f([0, 0.5, 0, 0, -0.5, 0])),
    f([[1, 2], [-1, 0.5]]),
    f([[0, 1, -1], [2, 1, 0.5]]),
    3,
  )
  return [ex, second]


def hidden(rng):
  """8 cases: B = 1, k = 1 (no pooling), o = 1 (outputs ±1), a zero row that pools to zero, wide
  inputs, large input scales (normalisation removes them).

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  # (B, dx, dy, k, o, input scale)
  shapes = [
    (1, 3, 2, 5, 4, 1.0),
    (4, 1, 1, 1, 3, 1.0),
    (3, 6, 4, 5, 1, 1.0),
    (2, 2, 5, 3, 6, 1.0),
    (5, 4, 3, 2, 4, 1.0),
    (6, 8, 8, 5, 8, 1.0),
    (2, 3, 3, 4, 2, 30.0),
    (3, 2, 7, 10, 3, 0.1),
  ]
  cases = []
  for idx, (b, dx, dy, k, o, scale) in enumerate(shapes):
    x, y = (scale * normal(b, dx)).astype(np.float32), normal(b, dy)
    params = _params(normal(dx, k * o), 0.1 * normal(k * o), normal(dy, k * o), 0.1 * normal(k * o))
    if idx == 4:  # row 2 of x is zero and x's bias is zero: that row pools to exactly zero
      x[2] = 0.0
      params["expand_0"]["bias"] = np.zeros(k * o, np.float32)
    cases.append((params, x, y, k))
  return cases


@functools.cache
def _jitted():
  """MFB(features=o, factors=k).apply under one jax.jit, o and k static."""

  from zoo.fusion.tensor import MFB

  apply = lambda params, x, y, o, k: MFB(features=o, factors=k).apply({"params": params}, [x, y])
  return refjit.jit(apply, static_argnums=(3, 4))


def reference(params, x, y, k):
  """The zoo's MFB with these parameters: expand, multiply, sum-pool over k, signed root, l2."""
  return _jitted()(params, x, y, params["expand_0"]["kernel"].shape[1] // k, k)
