"""Answer to question 2 (feature alignment by pairing dimensions), in float32 numpy."""

import numpy as np


def feature_align(A, B):
  """A [n], B [m] -> (A[:k], B[:k]), k = min(n, m): dimension i of A paired with dimension i of B."""
  a = np.asarray(A, dtype=np.float32).reshape(-1)
  b = np.asarray(B, dtype=np.float32).reshape(-1)
  k = min(a.size, b.size)  # a dimension only one side has cannot be paired, so it is dropped
  return a[:k], b[:k]
