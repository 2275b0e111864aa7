"""Answer to question 3 (feature fusion by summation), in float32 numpy."""

import numpy as np


def feature_fusion(vector_text, vector_image, vector_audio):
  """Three vectors [d] -> their element-wise sum [d]."""
  stacked_3xD = np.array([vector_text, vector_image, vector_audio], dtype=np.float32)
  return stacked_3xD.sum(axis=0)
