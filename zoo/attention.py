"""Scaled dot-product and multi-head attention as pure functions (Vaswani et al. 2017).

Flax's `dot_product_attention` needs a heads axis and `jax.nn.dot_product_attention` needs the
[B, T, N, H] layout with equal key and value widths; the contract's headless `[..., L, d]` form
with `dv != d` is what these two functions add. `multi_head_attention` takes parameters in the
exact layout of `flax.linen.MultiHeadDotProductAttention`, so one parameter tree serves both.
"""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.registry import register


@register(
  "scaled_dot_product_attention",
  family="attention",
  paper="Vaswani et al. 2017, Attention Is All You Need",
  shapes="q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv], mask [..., Lq, Lk] -> [..., Lq, dv]",
)
def scaled_dot_product_attention(q, k, v, mask=None):
  """softmax(q·kᵀ/√d, masked)·v; `mask` True = may attend."""
  # Same arithmetic as `jax.nn.softmax` then the value product, ordered as flash attention does: q is
  # scaled ([Lq, d] multiplies, not [Lq, Lk]) and the softmax's normalisation divides the output
  # ([Lq, dv]) instead of the weights. XLA's CPU backend fuses the whole function into one library call
  # either way; this form ran 10.9 -> 6.6 ms at B8 H8 L256 d64 (benchmarks/README.md). A fully masked
  # row attends uniformly, as softmax over equal logits does.
  d = q.shape[-1]
  logits_QxK = jnp.einsum("...qd,...kd->...qk", q * jnp.asarray(d**-0.5, q.dtype), k)
  if mask is not None:
    logits_QxK = jnp.where(mask, logits_QxK, jnp.finfo(logits_QxK.dtype).min)
  # The max only shifts the exponent (softmax is shift invariant), so its gradient is not needed.
  e_QxK = jnp.exp(logits_QxK - jax.lax.stop_gradient(logits_QxK.max(axis=-1, keepdims=True)))
  return jnp.einsum("...qk,...kv->...qv", e_QxK, v) / e_QxK.sum(axis=-1, keepdims=True)


@register(
  "multi_head_attention",
  family="attention",
  paper="Vaswani et al. 2017, Attention Is All You Need",
  shapes="x_q [B, Lq, d_in], x_kv [B, Lk, d_in], mask [B, Lq, Lk] -> [B, Lq, d_out]",
)
def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  """Multi-head attention with `flax.linen.MultiHeadDotProductAttention`'s parameter layout."""

  def proj(p, x):  # [B, L, d_in] @ [d_in, h, d_head] -> [B, L, h, d_head]
    return jnp.einsum("bld,dhk->blhk", x, p["kernel"]) + p["bias"]

  q_BxQxHxK = proj(params["query"], x_q)
  k_BxLxHxK = proj(params["key"], x_kv)
  v_BxLxHxK = proj(params["value"], x_kv)
  if q_BxQxHxK.shape[2] != num_heads:
    raise ValueError(f"params hold {q_BxQxHxK.shape[2]} heads, num_heads={num_heads}")
  # Heads become a batch axis: [B, h, L, d_head].
  q, k, v = (jnp.swapaxes(t, 1, 2) for t in (q_BxQxHxK, k_BxLxHxK, v_BxLxHxK))
  o_BxHxQxK = scaled_dot_product_attention(q, k, v, None if mask is None else mask[:, None])
  return jnp.einsum("bhqk,hko->bqo", o_BxHxQxK, params["out"]["kernel"]) + params["out"]["bias"]


def heads_major_attention(
  query,
  key,
  value,
  bias=None,
  mask=None,
  broadcast_dropout=True,
  dropout_rng=None,
  dropout_rate=0.0,
  deterministic=False,
  dtype=None,
  precision=None,
  module=None,
  force_fp32_for_softmax=False,
  **einsums,
):
  """`attention_fn` for `nn.MultiHeadDotProductAttention` that attends in the heads-major [B, H, L, d] layout.

  Same arithmetic as Flax's default on [B, L, H, d]; but XLA's CPU backend fuses Flax's layout with the
  softmax into one single-threaded library call, while the heads-major one spreads over every core
  (benchmarks/README.md has the profile). Dropout, a bias, sown weights or custom einsums go to Flax's
  own function unchanged.
  """
  if (
    bias is not None
    or module is not None
    or force_fp32_for_softmax
    or (dropout_rate > 0 and not deterministic)
    or any(e is not None for e in einsums.values())
  ):
    return nn.dot_product_attention(
      query,
      key,
      value,
      bias,
      mask,
      broadcast_dropout,
      dropout_rng,
      dropout_rate,
      deterministic,
      dtype,
      precision,
      module,
      force_fp32_for_softmax,
      **einsums,
    )
  query, key, value = nn.dtypes.promote_dtype(query, key, value, dtype=dtype)
  q, k, v = (jnp.swapaxes(t, -3, -2) for t in (query, key, value))  # [..., L, H, d] -> [..., H, L, d]
  return jnp.swapaxes(scaled_dot_product_attention(q, k, v, mask), -3, -2)
