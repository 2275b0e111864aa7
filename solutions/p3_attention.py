"""Answers to Part III, attention blocks: masked attention, MulT, Perceiver and ViLBERT co-attention; numpy float32."""

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
  return F32(0.5) * x * (1 + np.tanh(F32(math.sqrt(2 / math.pi)) * (x + F32(0.044715) * x**3)))


def _mha(p, x_q, x_kv, kv_real=None):
  """Flax MHDPA layout: [B, Lq, Dq], [B, Lk, Dkv] -> [B, Lq, D_out]; kv_real [B, Lk] drops padded keys."""
  q = np.einsum("bld,dhk->bhlk", x_q, p["query"]["kernel"]) + p["query"]["bias"][:, None]
  k = np.einsum("bld,dhk->bhlk", x_kv, p["key"]["kernel"]) + p["key"]["bias"][:, None]
  v = np.einsum("bld,dhk->bhlk", x_kv, p["value"]["kernel"]) + p["value"]["bias"][:, None]
  s = np.einsum("bhqk,bhsk->bhqs", q, k) / F32(math.sqrt(q.shape[-1]))
  if kv_real is not None:  # a sample with no real key keeps its scores here; its message is zeroed below
    keep = kv_real | ~kv_real.any(axis=1, keepdims=True)
    s = np.where(keep[:, None, None, :], s, F32(-np.inf))
  heads = np.einsum("bhqs,bhsk->bhqk", _softmax_rows(s), v)
  return np.einsum("bhqk,hko->bqo", heads, p["out"]["kernel"]) + p["out"]["bias"]


def _cross_block(params, x, ctx, ctx_real=None):
  """Pre-LN cross-attention block: x + MHA(LN(x), LN(ctx)), then + MLP(LN(.)) with tanh-GELU."""
  p = _as_f32(params)
  msg = _mha(p["attn"], _layer_norm(x, p["ln_q"]), _layer_norm(ctx, p["ln_ctx"]), ctx_real)
  if ctx_real is not None:
    msg = np.where(ctx_real.any(axis=1)[:, None, None], msg, F32(0))
  z = x + msg
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


def co_attention(params, x_a, x_b, mask_a, mask_b, num_heads):
  """x_a [B, La, Da], x_b [B, Lb, Db], masks True = real -> (new_a, new_b), both from the given streams."""
  assert params["a"]["attn"]["query"]["kernel"].shape[1] == num_heads, "num_heads must match the parameters"
  x_a, x_b = np.asarray(x_a, F32), np.asarray(x_b, F32)
  mask_a, mask_b = np.asarray(mask_a, bool), np.asarray(mask_b, bool)
  return _cross_block(params["a"], x_a, x_b, mask_b), _cross_block(params["b"], x_b, x_a, mask_a)
