"""Answer to question 1 (time alignment), in float32 numpy."""

import numpy as np


def time_align(A, B):
  """A [n], B [m] sampled on one clock (sample i at time i) -> (A[:k], B[:k]), k = min(n, m)."""
  a = np.asarray(A, dtype=np.float32).reshape(-1)
  b = np.asarray(B, dtype=np.float32).reshape(-1)
  k = min(len(a), len(b))  # the instants 0 .. k-1 are the ones both streams cover
  return a[:k], b[:k]
