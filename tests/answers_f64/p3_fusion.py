"""Part III fusion in float64 numpy, sample by sample and head by head (independent of the zoo and of solutions/)."""

import math

import numpy as np


def _a(x):
  return np.asarray(x, np.float64)


def mfb_pool(params, x, y, k):
  """Per sample: the k·o products, pooled by explicit windows, then the signed root and the l2 norm."""
  k0, b0 = _a(params["expand_0"]["kernel"]), _a(params["expand_0"]["bias"])
  k1, b1 = _a(params["expand_1"]["kernel"]), _a(params["expand_1"]["bias"])
  eps = 1e-12
  o = k0.shape[1] // k
  rows = []
  for xs, ys in zip(_a(x), _a(y)):
    e = (xs @ k0 + b0) * (ys @ k1 + b1)
    pooled = [sum(e[j * k + i] for i in range(k)) for j in range(o)]
    root = [math.copysign(math.sqrt(abs(v) + eps) - math.sqrt(eps), v) if v else 0.0 for v in pooled]
    norm = math.sqrt(sum(r * r for r in root))
    rows.append([r / max(norm, eps) for r in root])
  return np.array(rows)


def multiplicative_interaction(params, x, z):
  """Per sample and output unit: the double sum written out."""
  w, u, v, b = (_a(params[n]) for n in ("W", "U", "V", "b"))
  out = np.zeros((len(x), len(b)))
  for s, (xs, zs) in enumerate(zip(_a(x), _a(z))):
    for o in range(len(b)):
      out[s, o] = (
        sum(xs[i] * w[i, j, o] * zs[j] for i in range(len(xs)) for j in range(len(zs)))
        + xs @ u[:, o]
        + zs @ v[:, o]
        + b[o]
      )
  return out


def _token_layer_norm(t, scale, bias):
  mu = t.mean()
  return (t - mu) / math.sqrt(((t - mu) ** 2).mean() + 1e-6) * scale + bias


def _attend(p, u):
  """u [L, D] (one sample) -> u + MHA(LN(u)), head by head."""
  y = np.stack([_token_layer_norm(t, _a(p["ln"]["scale"]), _a(p["ln"]["bias"])) for t in u])
  attn = {n: {k: _a(v) for k, v in p["attn"][n].items()} for n in ("query", "key", "value", "out")}
  out = np.tile(attn["out"]["bias"], (len(u), 1))
  for h in range(attn["query"]["kernel"].shape[1]):
    q, k, v = (y @ attn[n]["kernel"][:, h, :] + attn[n]["bias"][h] for n in ("query", "key", "value"))
    for i in range(len(u)):
      s = np.array([q[i] @ k[j] for j in range(len(u))]) / math.sqrt(q.shape[1])
      w = np.exp(s - s.max())
      out[i] += (w / w.sum()) @ v @ attn["out"]["kernel"][h]
  return u + out


def mbt_bottleneck(params, x_a, x_b, bottleneck, num_heads):
  """Sample by sample: each modality's pre-LN self-attention over [x_m; bottleneck], the copies averaged."""
  x_a, x_b, bn = _a(x_a), _a(x_b), _a(bottleneck)
  new_a, new_b, new_bn = np.zeros_like(x_a), np.zeros_like(x_b), np.zeros_like(bn)
  for s in range(len(bn)):
    ua = _attend(params["a"], np.concatenate([x_a[s], bn[s]]))
    ub = _attend(params["b"], np.concatenate([x_b[s], bn[s]]))
    la, lb = len(x_a[s]), len(x_b[s])
    new_a[s], new_b[s] = ua[:la], ub[:lb]
    new_bn[s] = (ua[la:] + ub[lb:]) / 2
  return new_a, new_b, new_bn
