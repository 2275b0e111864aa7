"""Answer to question 5 (the article's toy encoder and decoder), in float32 numpy."""

import numpy as np


def encode(vector):
  """[d] -> 2·vector [d]."""
  return 2 * np.asarray(vector, dtype=np.float32).reshape(-1)


def decode(encoded_vector):
  """[d] -> encoded_vector / 2 [d]; decode(encode(v)) == v."""
  return np.asarray(encoded_vector, dtype=np.float32).reshape(-1) / 2
