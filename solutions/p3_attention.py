"""Answers to Part III, attention blocks: masked attention, a MulT block, Perceiver cross-attention; numpy float32."""
import math

import numpy as np

F32 = np.float32


def _softmax_rows(s):
  """Softmax over the last axis; -inf entries get weight 0 (each row needs one finite entry)."""
  e = np.exp(s - s.max(axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def masked_attention(q, k, v, key_lengths):
  """q [B, Lq, d], k [B, Lk, d], v [B, Lk, dv], key_lengths [B] -> [B, Lq, dv]; no real key -> zeros."""
  q, k, v = (np.asarray(t, F32) for t in (q, k, v))
  lengths = np.asarray(key_lengths).reshape(-1)
  real_BxK = np.arange(k.shape[1])[None, :] < lengths[:, None]
  scores = np.einsum("bqd,bkd->bqk", q, k) / F32(math.sqrt(q.shape[-1]))
  # A sample with no real key keeps all its scores (any finite row), and is zeroed afterwards.
  keep = real_BxK | (lengths == 0)[:, None]
  w = _softmax_rows(np.where(keep[:, None, :], scores, F32(-np.inf)))
  out = np.einsum("bqk,bkv->bqv", w, v)
  return np.where((lengths > 0)[:, None, None], out, F32(0))


def _layer_norm(x, p, eps=1e-6):
  mu = x.mean(axis=-1, keepdims=True)
  var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
  return (x - mu) / np.sqrt(var + F32(eps)) * p["scale"] + p["bias"]


def _gelu_tanh(x):
  return F32(0.5) * x * (1 + np.tanh(F32(math.sqrt(2 / math.pi)) * (x + F32(0.044715) * x ** 3)))


def _mha(p, x_q, x_kv):
  """Flax MHDPA layout, no mask: [B, Lq, Dq], [B, Lk, Dkv] -> [B, Lq, D_out]."""
  q = np.einsum("bld,dhk->bhlk", x_q, p["query"]["kernel"]) + p["query"]["bias"][:, None]
  k = np.einsum("bld,dhk->bhlk", x_kv, p["key"]["kernel"]) + p["key"]["bias"][:, None]
  v = np.einsum("bld,dhk->bhlk", x_kv, p["value"]["kernel"]) + p["value"]["bias"][:, None]
  w = _softmax_rows(np.einsum("bhqk,bhsk->bhqs", q, k) / F32(math.sqrt(q.shape[-1])))
  heads = np.einsum("bhqs,bhsk->bhqk", w, v)
  return np.einsum("bhqk,hko->bqo", heads, p["out"]["kernel"]) + p["out"]["bias"]


def _cross_block(params, x, ctx):
  """Pre-LN cross-attention block: x + MHA(LN(x), LN(ctx)), then + MLP(LN(.)) with tanh-GELU."""
  p = _as_f32(params)
  z = x + _mha(p["attn"], _layer_norm(x, p["ln_q"]), _layer_norm(ctx, p["ln_ctx"]))
  fc1, fc2 = p["mlp"]["fc1"], p["mlp"]["fc2"]
  hidden = _gelu_tanh(_layer_norm(z, p["ln_mlp"]) @ fc1["kernel"] + fc1["bias"])
  return z + hidden @ fc2["kernel"] + fc2["bias"]


def _as_f32(tree):
  if isinstance(tree, dict):
    return {key: _as_f32(val) for key, val in tree.items()}
  return np.asarray(tree, F32)


def mult_block(params, x_tgt, x_src, num_heads):
  """x_tgt [B, Lt, D], x_src [B, Ls, D] -> [B, Lt, D]; the heads come from the kernels' shapes."""
  assert params["attn"]["query"]["kernel"].shape[1] == num_heads, "num_heads must match the parameters"
  return _cross_block(params, np.asarray(x_tgt, F32), np.asarray(x_src, F32))


def perceiver_cross_attention(params, latents, x, num_heads):
  """latents [N, D] shared by the batch, x [B, M, C] -> [B, N, D]."""
  assert params["attn"]["query"]["kernel"].shape[1] == num_heads, "num_heads must match the parameters"
  x = np.asarray(x, F32)
  z = np.broadcast_to(np.asarray(latents, F32), (x.shape[0],) + np.shape(latents))
  return _cross_block(params, z, x)
