"""Answer to question 6 (self-attention over the modality vectors), in float32 numpy."""

import numpy as np


def self_attention(vectors):
  """n token vectors [n, d] -> softmax(X·Xᵀ/√d)·X [n, d]; the softmax runs over each row."""
  x_NxD = np.asarray(vectors, dtype=np.float32)
  scores_NxN = x_NxD @ x_NxD.T / np.sqrt(np.float32(x_NxD.shape[1]))
  # Subtracting each row's maximum leaves the softmax unchanged and keeps exp() from overflowing.
  e_NxN = np.exp(scores_NxN - scores_NxN.max(axis=1, keepdims=True))
  weights_NxN = e_NxN / e_NxN.sum(axis=1, keepdims=True)
  return weights_NxN @ x_NxD


def self_attention_fusion(vector_text, vector_image, vector_audio):
  """Three vectors [d] -> the mean over the rows of self_attention([text, image, audio]) [d]."""
  return self_attention([vector_text, vector_image, vector_audio]).mean(axis=0)
