"""Correct answers to all 17 graded functions in plain numpy: the honest part of every hostile submission.

The hostile tests drop from this file the functions an attack redefines and grade the rest, so that any
point an honest function loses is collateral damage from the attack (or a grader bug).
"""

import numpy as np


def time_align(A, B):
  n = min(len(A), len(B))
  return list(A[:n]), list(B[:n])


def feature_align(A, B):
  n = min(len(A), len(B))
  return list(A[:n]), list(B[:n])


def feature_fusion(vector_text, vector_image, vector_audio):
  return [t + i + a for t, i, a in zip(vector_text, vector_image, vector_audio)]


def attention_fusion(vector_text, vector_image, vector_audio):
  return [0.5 * t + 0.3 * i + 0.2 * a for t, i, a in zip(vector_text, vector_image, vector_audio)]


def encode(vector):
  return [2 * v for v in vector]


def decode(encoded_vector):
  return [v / 2 for v in encoded_vector]


def _softmax(s, axis=-1):
  s = s - np.max(s, axis=axis, keepdims=True)
  e = np.exp(s)
  return e / np.sum(e, axis=axis, keepdims=True)


def _attend(vectors):
  x = np.asarray(vectors, dtype=np.float64)
  return _softmax(x @ x.T / np.sqrt(x.shape[1])) @ x


def self_attention(vectors):
  return _attend(vectors)


def self_attention_fusion(vector_text, vector_image, vector_audio):
  return _attend([vector_text, vector_image, vector_audio]).mean(axis=0)


def scaled_dot_product_attention(q, k, v, mask=None):
  s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(mask, s, -np.inf)
  return _softmax(s) @ v


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  q = np.einsum("bld,dhk->blhk", x_q, params["query"]["kernel"]) + params["query"]["bias"]
  k = np.einsum("bld,dhk->blhk", x_kv, params["key"]["kernel"]) + params["key"]["bias"]
  v = np.einsum("bld,dhk->blhk", x_kv, params["value"]["kernel"]) + params["value"]["bias"]
  s = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(mask[:, None], s, -np.inf)
  o = np.einsum("bhqs,bshk->bqhk", _softmax(s), v)
  return np.einsum("bqhk,hko->bqo", o, params["out"]["kernel"]) + params["out"]["bias"]


def _one(z):
  return np.concatenate([np.ones((z.shape[0], 1), z.dtype), z], axis=1)


def tensor_fusion(z_text, z_image, z_audio):
  t, i, a = _one(z_text), _one(z_image), _one(z_audio)
  return np.einsum("bi,bj,bk->bijk", t, i, a).reshape(t.shape[0], -1)


def low_rank_fusion(params, z_text, z_image, z_audio):
  prod = 1.0
  for f, z in zip(params["factors"], (z_text, z_image, z_audio)):
    prod = prod * np.einsum("bd,rdo->rbo", _one(z), f)
  return np.einsum("r,rbo->bo", params["fusion_weights"][0], prod) + params["fusion_bias"]


def gated_fusion(params, x_a, x_b):
  z = 1 / (1 + np.exp(-(np.concatenate([x_a, x_b], axis=1) @ params["W_z"])))
  return z * np.tanh(x_a @ params["W_a"]) + (1 - z) * np.tanh(x_b @ params["W_b"])


def film(params, x, cond):
  gamma = cond @ params["gamma"]["kernel"] + params["gamma"]["bias"]
  beta = cond @ params["beta"]["kernel"] + params["beta"]["bias"]
  return gamma * x + beta


def _log_softmax(s, axis):
  s = s - np.max(s, axis=axis, keepdims=True)
  return s - np.log(np.sum(np.exp(s), axis=axis, keepdims=True))


def clip_loss(image_emb, text_emb, temperature):
  i = image_emb / np.linalg.norm(image_emb, axis=1, keepdims=True)
  t = text_emb / np.linalg.norm(text_emb, axis=1, keepdims=True)
  logits = (i.astype(np.float64) @ t.T.astype(np.float64)) / temperature
  rows = -np.mean(np.diag(_log_softmax(logits, 1)))
  cols = -np.mean(np.diag(_log_softmax(logits, 0)))
  return float((rows + cols) / 2)


def interp_align(t_src, x_src, t_dst):
  return np.stack([np.interp(t_dst, t_src, x_src[:, j]) for j in range(x_src.shape[1])], axis=1)


def dtw(x, y):
  n, m = len(x), len(y)
  d = np.linalg.norm(x[:, None, :].astype(np.float64) - y[None, :, :], axis=-1)
  acc = np.full((n + 1, m + 1), np.inf)
  acc[0, 0] = 0.0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      acc[i, j] = d[i - 1, j - 1] + min(acc[i - 1, j], acc[i, j - 1], acc[i - 1, j - 1])
  path, i, j = [(n - 1, m - 1)], n, m
  while (i, j) != (1, 1):
    steps = [(acc[i - 1, j - 1], i - 1, j - 1), (acc[i - 1, j], i - 1, j), (acc[i, j - 1], i, j - 1)]
    _, i, j = min(s for s in steps if s[1] >= 1 and s[2] >= 1)
    path.append((i - 1, j - 1))
  return float(acc[n, m]), path[::-1]
