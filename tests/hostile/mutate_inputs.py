"""Right answers from functions that then wreck their inputs: every call must get a fresh copy."""

import numpy as np

HOSTILE = ["feature_fusion", "scaled_dot_product_attention", "multi_head_attention", "low_rank_fusion", "dtw"]
SEEN = []  # module state kept across calls: inputs seen before must never come back changed


def feature_fusion(vector_text, vector_image, vector_audio):
  out = [t + i + a for t, i, a in zip(vector_text, vector_image, vector_audio)]
  vector_text.clear()
  vector_image.append(10**9)
  return out


def _softmax(s):
  e = np.exp(s - s.max(axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def scaled_dot_product_attention(q, k, v, mask=None):
  s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(mask, s, -np.inf)
  out = _softmax(s) @ v
  q[...] = 0
  k *= -1
  v.fill(np.nan)
  if mask is not None:
    mask[...] = False
  SEEN.append(v)
  return out


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  q = np.einsum("bld,dhk->blhk", x_q, params["query"]["kernel"]) + params["query"]["bias"]
  k = np.einsum("bld,dhk->blhk", x_kv, params["key"]["kernel"]) + params["key"]["bias"]
  v = np.einsum("bld,dhk->blhk", x_kv, params["value"]["kernel"]) + params["value"]["bias"]
  s = np.einsum("bqhk,bshk->bhqs", q, k) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(mask[:, None], s, -np.inf)
  o = np.einsum("bhqs,bshk->bqhk", _softmax(s), v)
  out = np.einsum("bqhk,hko->bqo", o, params["out"]["kernel"]) + params["out"]["bias"]
  params["query"]["kernel"][...] = 0
  params.pop("out")
  params["extra"] = "junk"
  return out


def low_rank_fusion(params, z_text, z_image, z_audio):
  prod = 1.0
  for f, z in zip(params["factors"], (z_text, z_image, z_audio)):
    one = np.concatenate([np.ones((z.shape[0], 1)), z], axis=1)
    prod = prod * np.einsum("bd,rdo->rbo", one, f)
  out = np.einsum("r,rbo->bo", params["fusion_weights"][0], prod) + params["fusion_bias"]
  params["factors"].reverse()
  params["fusion_weights"] *= 0
  return out


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
  x[...] = y[0, 0]
  return float(acc[n, m]), path[::-1]
