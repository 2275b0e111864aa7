"""Answers to Part II, attention: scaled dot-product and multi-head attention, in float32 jax.numpy."""

import functools

import jax
import jax.numpy as jnp


@jax.jit
def scaled_dot_product_attention(q, k, v, mask=None):
  """q [..., Lq, d], k [..., Lk, d], v [..., Lk, dv], mask [..., Lq, Lk] (True = may attend) -> [..., Lq, dv]."""
  q, k, v = (jnp.asarray(t, jnp.float32) for t in (q, k, v))
  scores_QxK = q @ jnp.swapaxes(k, -1, -2) / jnp.sqrt(jnp.float32(q.shape[-1]))
  if mask is not None:
    # -inf gets weight exactly 0; every query row has at least one allowed key, so no row is all -inf.
    scores_QxK = jnp.where(mask, scores_QxK, -jnp.inf)
  return jax.nn.softmax(scores_QxK, axis=-1) @ v


@functools.partial(jax.jit, static_argnums=3)
def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  """x_q [B, Lq, d_in], x_kv [B, Lk, d_in], mask [B, Lq, Lk] -> [B, Lq, d_out]; Flax MHDPA's parameter layout."""

  def project(p, x_BxLxD):  # [B, L, d_in] · [d_in, h, d_head] + [h, d_head] -> [B, h, L, d_head]
    y_BxLxHxK = jnp.tensordot(jnp.asarray(x_BxLxD, jnp.float32), p["kernel"], axes=1) + p["bias"]
    return y_BxLxHxK.transpose(0, 2, 1, 3)

  assert params["query"]["kernel"].shape[1] == num_heads, "num_heads must match the parameters"
  q, k, v = project(params["query"], x_q), project(params["key"], x_kv), project(params["value"], x_kv)
  heads_BxHxQxK = scaled_dot_product_attention(q, k, v, None if mask is None else mask[:, None])
  # Concatenate the heads and project: contract the (h, d_head) axes with out's kernel [h, d_head, d_out].
  return jnp.tensordot(heads_BxHxQxK.transpose(0, 2, 1, 3), params["out"]["kernel"], axes=2) + params["out"]["bias"]
