"""siglip_loss, private: the cases and the zoo's float64 reference (zoo.align.features.siglip_loss)."""

import functools
import math

import numpy as np

from grader import refjit


def visible():
  """The worked example of the task, then a batch of 3 in 4-d at t = 5, b = −2."""
  eye = np.eye(2, dtype=np.float32)
  img = np.array([[1.0, 2.0, 0.0, -1.0], [0.5, -1.0, 1.5, 0.0], [-2.0, 0.0, 1.0, 1.0]], np.float32)
  txt = np.array([[1.0, 1.5, 0.5, -1.0], [0.0, -1.0, 2.0, 0.5], [1.0, 0.0, 1.0, 2.0]], np.float32)
  return [(eye, eye.copy(), 10.0, -10.0), (img, txt, 5.0, -2.0)]


def hidden(rng):
  """8 cases: B = 1 (no negatives), d = 1, a perfect match, unnormalised scales, t up to 100 (stability).

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  shapes = [(1, 4), (2, 1), (4, 8), (3, 3), (6, 5), (5, 16), (8, 2), (4, 6)]
  temps = [10.0, 3.0, 100.0, 1.0, 30.0, 10.0, 100.0, 20.0]
  biases = [-10.0, 0.0, -10.0, 2.0, -15.0, -5.0, 0.0, -3.0]
  cases = []
  for k, ((bsz, d), t, b) in enumerate(zip(shapes, temps, biases)):
    img = (rng.standard_normal((bsz, d)) * rng.uniform(0.1, 10.0)).astype(np.float32)
    txt = img.copy() if k == 2 else rng.standard_normal((bsz, d)).astype(np.float32)
    txt[np.linalg.norm(txt, axis=1) == 0] = 1.0  # never a zero row (a probability-zero draw)
    img[np.linalg.norm(img, axis=1) == 0] = 1.0
    jitter = 1.0 if t in (1.0, 100.0) else float(np.exp(rng.uniform(-0.1, 0.1)))
    cases.append((img, txt, t * jitter, b + float(rng.uniform(-0.5, 0.5))))
  return cases


@functools.cache
def _jitted():
  """The zoo's siglip_loss under one jax.jit (one compile per shape)."""

  from zoo.align.features import siglip_loss

  return refjit.jit(siglip_loss)


def reference(img_emb, txt_emb, t, b):
  """The zoo's SigLIP loss, which takes the log-temperature t′ = log t."""
  return _jitted()(img_emb, txt_emb, math.log(t), b)
