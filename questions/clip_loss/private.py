"""clip_loss: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

import numpy as np

from grader import draw, refjit
from grader.draw import f32


def visible():
  """Two orthogonal pairs at temperature 1; then a batch of three at CLIP's 0.07."""
  return [
    (f32([[1, 0], [0, 1]]), f32([[1, 0], [0, 1]]), 1.0),
    (f32([[1, 2, 0], [0, 1, 1], [2, 0, 1]]), f32([[1, 1, 0], [0, 2, 1], [1, 0, 0]]), 0.07),
  ]


def hidden(rng):
  """Temperatures log-uniform over CLIP's range [0.01, 1], both ends included, to 3 significant digits."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  temps = [0.01, 1.0] + [float(f"{np.exp(rng.uniform(np.log(0.01), 0.0)):.3g}") for _ in range(6)]
  out = []
  for j, t in enumerate(temps):
    b = 1 if j in (0, 4) else k(2, 4)
    d = k(1, 8)
    out.append((draw.normal(rng, b, d), draw.normal(rng, b, d), t))
  return out


@functools.cache
def _jitted():
  from zoo.align.features import clip_loss

  return refjit.jit(clip_loss)


def reference(image_emb, text_emb, temperature):
  """The zoo's clip_loss, in one jax.jit."""
  return _jitted()(image_emb, text_emb, temperature)
