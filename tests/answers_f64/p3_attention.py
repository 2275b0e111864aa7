"""Part III attention blocks in float64 numpy, one sample, query and head at a time."""

import math

import numpy as np


def _f(a):
  return np.asarray(a, np.float64)


def _attend(qi, keys, values):
  """One query against a list of keys: softmax(q·k/√d)-weighted sum of values (keys non-empty)."""
  s = np.array([qi @ kj for kj in keys]) / math.sqrt(len(qi))
  w = np.exp(s - s.max())
  return (w / w.sum()) @ np.array(values)


def masked_attention(q, k, v, key_lengths):
  q, k, v = _f(q), _f(k), _f(v)
  out = np.zeros(q.shape[:2] + (v.shape[-1],))
  for b in range(q.shape[0]):
    n = int(key_lengths[b])
    for i in range(q.shape[1]):
      if n > 0:
        out[b, i] = _attend(q[b, i], k[b, :n], v[b, :n])
  return out


def _ln(x, p):
  """LayerNorm of one vector: biased variance, epsilon 1e-6."""
  return (x - x.mean()) / math.sqrt(((x - x.mean()) ** 2).mean() + 1e-6) * _f(p["scale"]) + _f(p["bias"])


def _gelu(x):
  return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _block_one(p, x_LxD, ctx_SxC, ctx_real_S=None):
  """The pre-LN cross-attention block for one sample, head by head; only real context tokens are read."""
  ys = [_ln(t, p["ln_q"]) for t in x_LxD]
  cs = [_ln(t, p["ln_ctx"]) for j, t in enumerate(ctx_SxC) if ctx_real_S is None or ctx_real_S[j]]
  a = p["attn"]
  out = []
  for t, y in zip(x_LxD, ys):
    msg = _f(a["out"]["bias"]).copy() if cs else np.zeros(len(t))  # no real context: no message
    for h in range(_f(a["query"]["kernel"]).shape[1] if cs else 0):
      lin = lambda name, u, h=h: u @ _f(a[name]["kernel"])[:, h, :] + _f(a[name]["bias"])[h]
      head = _attend(lin("query", y), [lin("key", c) for c in cs], [lin("value", c) for c in cs])
      msg += head @ _f(a["out"]["kernel"])[h]
    z = t + msg
    f1, f2 = p["mlp"]["fc1"], p["mlp"]["fc2"]
    hid = _gelu(_ln(z, p["ln_mlp"]) @ _f(f1["kernel"]) + _f(f1["bias"]))
    out.append(z + hid @ _f(f2["kernel"]) + _f(f2["bias"]))
  return np.array(out)


def mult_block(params, x_tgt, x_src, num_heads):
  return np.stack([_block_one(params, xt, xs) for xt, xs in zip(_f(x_tgt), _f(x_src))])


def perceiver_cross_attention(params, latents, x, num_heads):
  return np.stack([_block_one(params, _f(latents), xb) for xb in _f(x)])


def co_attention(params, x_a, x_b, mask_a, mask_b, num_heads):
  x_a, x_b = _f(x_a), _f(x_b)
  new_a = np.stack([_block_one(params["a"], x_a[i], x_b[i], mask_b[i]) for i in range(len(x_a))])
  new_b = np.stack([_block_one(params["b"], x_b[i], x_a[i], mask_a[i]) for i in range(len(x_b))])
  return new_a, new_b
