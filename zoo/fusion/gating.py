"""Gating and conditioning fusions: GMU (Arevalo 2017), FiLM (Perez 2018), multiplicative interactions (Jayakumar 2020)."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.registry import register


@register("gated_fusion", family="fusion",
          paper="Arevalo et al. 2017, Gated Multimodal Units for Information Fusion",
          shapes="x_a [B, d_a], x_b [B, d_b] -> [B, o]")
def gated_fusion(params, x_a, x_b):
  """h = z·tanh(x_a·W_a) + (1−z)·tanh(x_b·W_b), z = σ([x_a; x_b]·W_z)."""
  z = jax.nn.sigmoid(jnp.concatenate([x_a, x_b], axis=-1) @ params["W_z"])
  return z * jnp.tanh(x_a @ params["W_a"]) + (1 - z) * jnp.tanh(x_b @ params["W_b"])


@register("film", family="fusion",
          paper="Perez et al. 2018, FiLM: Visual Reasoning with a General Conditioning Layer",
          shapes="x [B, d], cond [B, c] -> [B, d]")
def film(params, x, cond):
  """(cond·Wγ + bγ)·x + (cond·Wβ + bβ)."""
  gamma = cond @ params["gamma"]["kernel"] + params["gamma"]["bias"]
  beta = cond @ params["beta"]["kernel"] + params["beta"]["bias"]
  return gamma * x + beta
