"""Question 2 in float64 numpy."""

import numpy as np


def feature_align(A, B):
  """A [n], B [m] -> (A[:k], B[:k]), k = min(n, m)."""
  pairs = list(zip(A, B))  # zip stops at the shorter input: exactly the paired dimensions
  out_Kx2 = np.array(pairs, dtype=np.float64).reshape(len(pairs), 2)
  return out_Kx2[:, 0], out_Kx2[:, 1]
