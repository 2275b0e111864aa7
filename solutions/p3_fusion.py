"""Answers to Part III, fusion: MFB pooling, multiplicative interactions and an MBT bottleneck step, in float32 numpy."""

import numpy as np

_EPS = np.float32(1e-12)  # MFB's ε, in the signed square root and the l2 floor


def _f32(tree):
  """Every array of a nested dict as float32."""
  return {k: _f32(v) for k, v in tree.items()} if isinstance(tree, dict) else np.asarray(tree, np.float32)


def mfb_pool(params, x, y, k):
  """[B, dx], [B, dy] -> [B, o]: expand both to k·o, multiply, sum over windows of k, signed root, l2."""
  p = _f32(params)
  e_BxKO = (np.asarray(x, np.float32) @ p["expand_0"]["kernel"] + p["expand_0"]["bias"]) * (
    np.asarray(y, np.float32) @ p["expand_1"]["kernel"] + p["expand_1"]["bias"]
  )
  pooled_BxO = e_BxKO.reshape(e_BxKO.shape[0], -1, k).sum(axis=-1)
  root_BxO = np.sign(pooled_BxO) * (np.sqrt(np.abs(pooled_BxO) + _EPS) - np.sqrt(_EPS))
  return root_BxO / np.maximum(np.linalg.norm(root_BxO, axis=-1, keepdims=True), _EPS)


def multiplicative_interaction(params, x, z):
  """[B, dx], [B, dz] -> [B, o] = xᵀ𝕎z + xᵀU + zᵀV + b."""
  p = _f32(params)
  x, z = np.asarray(x, np.float32), np.asarray(z, np.float32)
  return np.einsum("bi,ijo,bj->bo", x, p["W"], z) + x @ p["U"] + z @ p["V"] + p["b"]


_LN_EPS = np.float32(1e-6)  # flax.linen.LayerNorm's default


def _layer_norm(u, scale, bias, eps=_LN_EPS):
  mu = u.mean(axis=-1, keepdims=True)
  var = ((u - mu) ** 2).mean(axis=-1, keepdims=True)
  return (u - mu) / np.sqrt(var + eps) * scale + bias


def _self_attention(attn, y_BxLxD):
  """Flax MultiHeadDotProductAttention, queries = keys = values = y, no mask."""
  q, k, v = (
    np.einsum("bld,dhe->bhle", y_BxLxD, attn[n]["kernel"]) + attn[n]["bias"][None, :, None, :]
    for n in ("query", "key", "value")
  )
  logits_BxHxLxL = q @ np.swapaxes(k, -1, -2) / np.sqrt(np.float32(q.shape[-1]))
  logits_BxHxLxL = logits_BxHxLxL - logits_BxHxLxL.max(axis=-1, keepdims=True)
  w = np.exp(logits_BxHxLxL)
  o_BxHxLxE = (w / w.sum(axis=-1, keepdims=True)) @ v
  return np.einsum("bhle,hed->bld", o_BxHxLxE, attn["out"]["kernel"]) + attn["out"]["bias"]


def mbt_bottleneck(params, x_a, x_b, bottleneck, num_heads):
  """(x_a′, x_b′, bottleneck′): each modality self-attends over [its tokens; bottleneck], copies averaged."""
  p = _f32(params)
  bn = np.asarray(bottleneck, np.float32)
  outs, copies = [], []
  for m, x in (("a", np.asarray(x_a, np.float32)), ("b", np.asarray(x_b, np.float32))):
    u = np.concatenate([x, bn], axis=1)
    u = u + _self_attention(p[m]["attn"], _layer_norm(u, p[m]["ln"]["scale"], p[m]["ln"]["bias"]))
    outs.append(u[:, : x.shape[1]])
    copies.append(u[:, x.shape[1] :])
  return outs[0], outs[1], (copies[0] + copies[1]) / 2
