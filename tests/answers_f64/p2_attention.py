"""Part II attention in float64 numpy."""

import numpy as np


def scaled_dot_product_attention(q, k, v, mask=None):
  """[..., Lq, d], [..., Lk, d], [..., Lk, dv], mask [..., Lq, Lk] -> [..., Lq, dv]."""
  q, k, v = (np.asarray(t, np.float64) for t in (q, k, v))
  s = np.einsum("...qd,...kd->...qk", q, k) / np.sqrt(q.shape[-1])
  if mask is not None:
    s = np.where(np.asarray(mask, bool), s, -np.inf)
  w = np.exp(s - s.max(axis=-1, keepdims=True))
  w = w / w.sum(axis=-1, keepdims=True)
  return np.einsum("...qk,...kv->...qv", w, v)


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  """[B, Lq, d_in], [B, Lk, d_in] -> [B, Lq, d_out], heads computed one at a time."""
  f = lambda a: np.asarray(a, np.float64)
  x_q, x_kv = f(x_q), f(x_kv)
  heads = []
  for h in range(num_heads):
    proj = lambda name, x: x @ f(params[name]["kernel"])[:, h, :] + f(params[name]["bias"])[h]
    q, k, v = proj("query", x_q), proj("key", x_kv), proj("value", x_kv)
    heads.append(scaled_dot_product_attention(q, k, v, mask) @ f(params["out"]["kernel"])[h])
  return sum(heads) + f(params["out"]["bias"])
