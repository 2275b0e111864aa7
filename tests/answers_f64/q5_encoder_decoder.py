"""Question 5 in float64 numpy."""

import numpy as np


def encode(vector):
  """[d] -> 2·vector."""
  return np.asarray(vector, np.float64).reshape(-1) * 2.0


def decode(encoded_vector):
  """[d] -> encoded_vector / 2."""
  return np.asarray(encoded_vector, np.float64).reshape(-1) * 0.5
