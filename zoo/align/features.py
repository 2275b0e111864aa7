"""Feature alignment: contrastive shared spaces (CLIP, Radford et al. 2021)."""
from __future__ import annotations

import jax.numpy as jnp
import optax

from zoo.registry import register


def _l2_normalize(x, eps=1e-12):
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), eps)


@register("clip_loss", family="alignment",
          paper="Radford et al. 2021, Learning Transferable Visual Models From Natural Language Supervision",
          shapes="image_emb [B, d], text_emb [B, d], temperature [] -> []")
def clip_loss(image_emb, text_emb, temperature):
  """Symmetric InfoNCE: mean of row- and column-wise cross-entropy against the diagonal."""
  logits_BxB = _l2_normalize(image_emb) @ _l2_normalize(text_emb).T / temperature
  labels = jnp.arange(logits_BxB.shape[0])
  rows = optax.softmax_cross_entropy_with_integer_labels(logits_BxB, labels).mean()
  cols = optax.softmax_cross_entropy_with_integer_labels(logits_BxB.T, labels).mean()
  return (rows + cols) / 2
