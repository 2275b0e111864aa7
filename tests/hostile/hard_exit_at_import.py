"""A right answer in a module that ends the whole process (os._exit) while it is imported."""

import os

import numpy as np

HOSTILE = ["self_attention"]


def self_attention(vectors):
  x = np.asarray(vectors, dtype=np.float64)
  s = x @ x.T / np.sqrt(x.shape[1])
  e = np.exp(s - s.max(axis=1, keepdims=True))
  return (e / e.sum(axis=1, keepdims=True)) @ x


os._exit(0)
