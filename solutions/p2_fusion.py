"""Answers to Part II, fusion: TFN, LMF, GMU and FiLM, in float32 jax.numpy."""

import jax
import jax.numpy as jnp


def _prepend_one(z_BxD):
  """[B, d] -> [B, 1 + d], the 1 first (TFN's and LMF's authors' code)."""
  z_BxD = jnp.asarray(z_BxD, jnp.float32)
  return jnp.concatenate([jnp.ones((z_BxD.shape[0], 1), jnp.float32), z_BxD], axis=1)


@jax.jit
def tensor_fusion(z_text, z_image, z_audio):
  """[B, dt], [B, di], [B, da] -> [B, (dt+1)(di+1)(da+1)]: the flattened outer product of [1; z_m]."""
  t, i, a = _prepend_one(z_text), _prepend_one(z_image), _prepend_one(z_audio)
  cube_BxTxIxA = t[:, :, None, None] * i[:, None, :, None] * a[:, None, None, :]
  return cube_BxTxIxA.reshape(t.shape[0], -1)  # C order: the audio index varies fastest


@jax.jit
def low_rank_fusion(params, z_text, z_image, z_audio):
  """[B, d_m] × 3, factors [r, d_m+1, o] -> [B, o] = Σ_r w_r · Π_m ([1; z_m]·F_m[r]) + bias."""
  product_RxBxO = 1.0
  for z, factor_RxDxO in zip((z_text, z_image, z_audio), params["factors"]):
    product_RxBxO = product_RxBxO * (_prepend_one(z) @ factor_RxDxO)  # [B, d+1] @ [r, d+1, o] -> [r, B, o]
  return jnp.tensordot(params["fusion_weights"][0], product_RxBxO, axes=1) + params["fusion_bias"][0]


@jax.jit
def gated_fusion(params, x_a, x_b):
  """x_a [B, d_a], x_b [B, d_b] -> [B, o]: z·tanh(x_a·W_a) + (1 − z)·tanh(x_b·W_b), z = σ([x_a; x_b]·W_z)."""
  x_a, x_b = jnp.asarray(x_a, jnp.float32), jnp.asarray(x_b, jnp.float32)
  gate_BxO = jax.nn.sigmoid(jnp.concatenate([x_a, x_b], axis=1) @ params["W_z"])
  h_a, h_b = jnp.tanh(x_a @ params["W_a"]), jnp.tanh(x_b @ params["W_b"])
  return gate_BxO * h_a + (1 - gate_BxO) * h_b


@jax.jit
def film(params, x, cond):
  """x [B, d], cond [B, c] -> [B, d]: γ(cond)·x + β(cond), with γ and β affine in cond."""
  cond = jnp.asarray(cond, jnp.float32)
  gamma_BxD = cond @ params["gamma"]["kernel"] + params["gamma"]["bias"]
  beta_BxD = cond @ params["beta"]["kernel"] + params["beta"]["bias"]
  return gamma_BxD * jnp.asarray(x, jnp.float32) + beta_BxD
