"""Outer-product fusions: TFN (Zadeh 2017), LMF (Liu 2018), MFB (Yu 2017)."""
from __future__ import annotations

import jax.numpy as jnp

from zoo.registry import register


def _with_one(z_BxD):
  """[B, d] -> [B, d+1] with a 1 prepended, as TFN's and LMF's authors do."""
  return jnp.concatenate([jnp.ones(z_BxD.shape[:-1] + (1,), z_BxD.dtype), z_BxD], axis=-1)


@register("tensor_fusion", family="fusion",
          paper="Zadeh et al. 2017, Tensor Fusion Network for Multimodal Sentiment Analysis",
          shapes="z_t [B, dt], z_i [B, di], z_a [B, da] -> [B, (dt+1)(di+1)(da+1)]")
def tensor_fusion(z_text, z_image, z_audio):
  """Three-way outer product of [1; z_m], flattened in C order."""
  t, i, a = (_with_one(z) for z in (z_text, z_image, z_audio))
  out_BxTxIxA = jnp.einsum("bt,bi,ba->btia", t, i, a)
  return out_BxTxIxA.reshape(out_BxTxIxA.shape[0], -1)


@register("low_rank_fusion", family="fusion",
          paper="Liu et al. 2018, Efficient Low-rank Multimodal Fusion with Modality-Specific Factors",
          shapes="z_t [B, dt], z_i [B, di], z_a [B, da]; factors [r, d_m+1, o] -> [B, o]")
def low_rank_fusion(params, z_text, z_image, z_audio):
  """Σ_r w_r · Π_m ([1; z_m]·F_m[r]) + bias, the authors' and MultiBench's form."""
  prod_BxRxO = None
  for z, f_RxDxO in zip((z_text, z_image, z_audio), params["factors"]):
    p = jnp.einsum("bd,rdo->bro", _with_one(z), f_RxDxO)
    prod_BxRxO = p if prod_BxRxO is None else prod_BxRxO * p
  return jnp.einsum("r,bro->bo", params["fusion_weights"][0], prod_BxRxO) + params["fusion_bias"][0]
