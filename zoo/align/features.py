"""Feature alignment: shared spaces learned contrastively (CLIP, SigLIP) or by correlation (Deep CCA)."""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from zoo.registry import register

# SigLIP's initial log-temperature t' = log 10 and bias b = −10 (Zhai et al. 2023, §3.2): with the
# B² − B negatives far outnumbering the B positives, the bias starts every pair near "not a match".
SIGLIP_INIT_T_PRIME = math.log(10.0)
SIGLIP_INIT_BIAS = -10.0


def _l2_normalize(x, eps=1e-12):
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), eps)


@register(
  "clip_loss",
  family="alignment",
  paper="Radford et al. 2021, Learning Transferable Visual Models From Natural Language Supervision",
  shapes="image_emb [B, d], text_emb [B, d], temperature [] -> []",
)
def clip_loss(image_emb, text_emb, temperature):
  """Symmetric InfoNCE: mean of row- and column-wise cross-entropy against the diagonal (Radford et al. 2021)."""
  logits_BxB = _l2_normalize(image_emb) @ _l2_normalize(text_emb).T / temperature
  labels = jnp.arange(logits_BxB.shape[0])
  rows = optax.softmax_cross_entropy_with_integer_labels(logits_BxB, labels).mean()
  cols = optax.softmax_cross_entropy_with_integer_labels(logits_BxB.T, labels).mean()
  return (rows + cols) / 2


@register(
  "siglip_loss",
  family="alignment",
  paper="Zhai et al. 2023, Sigmoid Loss for Language Image Pre-Training",
  shapes="image_emb [B, d], text_emb [B, d], t_prime [], bias [] -> []",
)
def siglip_loss(image_emb, text_emb, t_prime=SIGLIP_INIT_T_PRIME, bias=SIGLIP_INIT_BIAS):
  """−(1/B)·Σ_ij log σ(z_ij·(exp(t')·x̂_i·ŷ_j + b)), z_ij = +1 on the diagonal, −1 off it (Zhai et al. 2023).

  `t_prime` (the log-temperature) and `bias` are the learned scalars of the paper, passed in; every pair
  is an independent binary classification, and the sum is divided by B as in the paper's pseudocode.
  """
  logits_BxB = _l2_normalize(image_emb) @ _l2_normalize(text_emb).T * jnp.exp(t_prime) + bias
  b = logits_BxB.shape[0]
  z_BxB = 2 * jnp.eye(b, dtype=logits_BxB.dtype) - 1
  return -jnp.sum(jax.nn.log_sigmoid(z_BxB * logits_BxB)) / b


@register(
  "cca_loss",
  family="alignment",
  paper="Andrew et al. 2013, Deep Canonical Correlation Analysis",
  shapes="h1 [B, d1], h2 [B, d2] -> []",
)
def cca_loss(h1_BxD1, h2_BxD2, k=None, r1=1e-4, r2=1e-4):
  """−(sum of the top-k canonical correlations of two views), with ridge r·I on each covariance (Andrew et al. 2013).

  Σ11 = H̄1ᵀH̄1/(B−1) + r1·I, Σ22 likewise, Σ12 = H̄1ᵀH̄2/(B−1) on centred views; the correlations are the
  singular values of T = Σ11^{-1/2}·Σ12·Σ22^{-1/2}, and k = None takes all min(d1, d2) of them (the
  paper's trace norm of T). A perfectly correlated pair of views scores −k (with r → 0).

  Decision: the paper's symmetric inverse square roots are replaced by Cholesky whitening, Σ = L·Lᵀ and
  T' = L1⁻¹·Σ12·L2⁻ᵀ. Any whitening W (W·Σ·Wᵀ = I) is an orthogonal matrix times Σ^{-1/2}, so T' and T
  have the same singular values; but the Cholesky factor is differentiable everywhere, where eigh's
  gradient is undefined at repeated eigenvalues. The algebra runs in at least float32 (bfloat16 inputs
  are upcast; the loss comes back in float32), since Cholesky and SVD need the precision.
  """
  dtype = jnp.promote_types(jnp.result_type(h1_BxD1, h2_BxD2), jnp.float32)
  h1, h2 = jnp.asarray(h1_BxD1, dtype), jnp.asarray(h2_BxD2, dtype)
  b, d1, d2 = h1.shape[0], h1.shape[1], h2.shape[1]
  h1 = h1 - h1.mean(axis=0)
  h2 = h2 - h2.mean(axis=0)
  s11 = h1.T @ h1 / (b - 1) + r1 * jnp.eye(d1, dtype=dtype)
  s22 = h2.T @ h2 / (b - 1) + r2 * jnp.eye(d2, dtype=dtype)
  s12 = h1.T @ h2 / (b - 1)
  l1 = jnp.linalg.cholesky(s11)
  l2 = jnp.linalg.cholesky(s22)
  # T' = L1⁻¹ Σ12 L2⁻ᵀ, by two triangular solves.
  a_D1xD2 = jax.scipy.linalg.solve_triangular(l1, s12, lower=True)
  t_D1xD2 = jax.scipy.linalg.solve_triangular(l2, a_D1xD2.T, lower=True).T
  corr = jnp.linalg.svd(t_D1xD2, compute_uv=False)  # descending
  k = min(d1, d2) if k is None else k
  return -jnp.sum(corr[:k])


@register(
  "DualProjection",
  family="alignment",
  paper="Radford et al. 2021, Learning Transferable Visual Models From Natural Language Supervision",
  shapes="x_a [B, d_a], x_b [B, d_b] -> z_a [B, features], z_b [B, features], temperature []",
)
class DualProjection(nn.Module):
  """Two linear projections into one shared space with CLIP's learnable logit scale (a dual projection head)."""

  features: int = 64
  init_temperature: float = 0.07  # CLIP initialises the logit scale to log(1/0.07)
  max_logit_scale: float = 100.0  # CLIP keeps exp(scale) <= 100 to keep training stable
  use_bias: bool = False  # CLIP's W_i and W_t are plain matrices
  dtype: Any = None  # computation dtype of the projections (None: from the inputs and params)

  @nn.compact
  def __call__(self, x_a_BxDa, x_b_BxDb):
    """(ẑ_a, ẑ_b, τ): unit-norm embeddings [B, features] and τ = 1/min(exp(s), 100), so clip_loss(*head(a, b)) trains it (Radford et al. 2021)."""
    z_a = nn.Dense(self.features, use_bias=self.use_bias, dtype=self.dtype, name="proj_a")(x_a_BxDa)
    z_b = nn.Dense(self.features, use_bias=self.use_bias, dtype=self.dtype, name="proj_b")(x_b_BxDb)
    log_scale = self.param("logit_scale", nn.initializers.constant(-math.log(self.init_temperature)), ())
    # CLIP clips the parameter after each step; clipping in the forward pass keeps the module a pure
    # function of its parameters (the gradient is 0 while the scale sits at the cap).
    scale = jnp.minimum(jnp.exp(log_scale), self.max_logit_scale)
    return _l2_normalize(z_a), _l2_normalize(z_b), 1.0 / scale
