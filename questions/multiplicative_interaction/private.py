"""multiplicative_interaction, private: the cases and the zoo's float64 reference
(zoo.fusion.gating.MultiplicativeInteraction)."""

import functools

import numpy as np

from grader import refjit


def visible():
  """The worked example of the task, then a batch of 2 with dx = 2, dz = 3, o = 2 (the axes of W differ)."""
  f = lambda a: np.array(a, np.float32)
  ex = ({"W": f([[[2]]]), "U": f([[1]]), "V": f([[-1]]), "b": f([0.5])}, f([[3]]), f([[2]]))
  w = f([[[1, 0], [0, 1], [2, -1]], [[0.5, 0.5], [-1, 0], [0, 2]]])
  second = (
    {"W": w, "U": f([[1, 0], [0, -1]]), "V": f([[0, 1], [1, 0], [0.5, 0.5]]), "b": f([0, 1])},
    f([[1, 2], [-1, 0.5]]),
    f([[1, 0, -1], [2, 1, 0]]),
  )
  return [ex, second]


def hidden(rng):
  """8 cases: B = 1, dx = 1, dz = 1, o = 1, wider layers, a zero input (only z's terms remain).

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  shapes = [
    (1, 3, 4, 2),
    (3, 1, 5, 3),
    (2, 4, 1, 4),
    (4, 3, 3, 1),
    (5, 6, 2, 5),
    (2, 8, 8, 6),
    (1, 1, 1, 1),
    (6, 5, 4, 3),
  ]
  cases = []
  for idx, (b, dx, dz, o) in enumerate(shapes):
    params = {"W": normal(dx, dz, o), "U": normal(dx, o), "V": normal(dz, o), "b": normal(o)}
    x = np.zeros((b, dx), np.float32) if idx == 3 else normal(b, dx)  # x = 0: out = zᵀV + b
    cases.append((params, x, normal(b, dz)))
  return cases


@functools.cache
def _jitted():
  """MultiplicativeInteraction(features=o).apply under one jax.jit, o static."""

  from zoo.fusion.gating import MultiplicativeInteraction

  apply = lambda params, x, z, o: MultiplicativeInteraction(features=o).apply({"params": params}, [x, z])
  return refjit.jit(apply, static_argnums=3)


def reference(params, x, z):
  """The zoo's MI layer with these parameters: xᵀ𝕎z + xᵀU + zᵀV + b."""
  return _jitted()(params, x, z, params["b"].shape[0])
