"""Token-level fusions: self-attention over modality tokens, MulT, ViLBERT co-attention, Perceiver, MBT.

Every module here takes `xs = [x_m [B, L_m, d_m]]` and `masks = [m_m [B, L_m]]` (True = real token;
None = all real), projects each modality to `features` with its own Dense, and returns a fused token
sequence `[B, L_out, features]`. Padded tokens are zeroed on entry and never attended to (masks by
`nn.make_attention_mask`), so changing them, even to NaN or inf, changes no real output (a masked
attention weight is 0, and 0 × NaN would still be NaN without the zeroing). `output_mask(xs, masks)` says
which of the L_out outputs are real ([B, L_out], True = real) for the masked mean a caller pools with.

Shared choices (ours, where the papers differ or are silent):
- blocks are pre-LayerNorm (as ViT / big_vision), not the post-LN of BERT-era ViLBERT and MulT;
- no positional embeddings are added: the modality encoders upstream own positions;
- no dropout (deterministic modules; regularise around them);
- a query whose sample has no real key at all (a modality that is entirely padding) receives a
  zero attention message instead of the average of padding.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.fusion.base import SIZED_LIKE_TRANSFORMER, Fusion
from zoo.fusion.basic import require_modalities
from zoo.layers import AttentionBlock
from zoo.registry import register

_TOKENS_SHAPES = "xs M × [B, L_m, d_m], masks M × [B, L_m] -> [B, ΣL_m, features]"


def _masks_or_ones(xs, masks):
  """The given masks as bool, or all-True [B, L_m] ones when `masks` is None."""
  if masks is None:
    return [jnp.ones(x.shape[:2], bool) for x in xs]
  if len(masks) != len(xs):
    raise ValueError(f"{len(xs)} modalities but {len(masks)} masks")
  return [jnp.asarray(m, bool) for m in masks]


def _zero_padding(xs, masks):
  """The tokens with every padded position set to 0, so no NaN or inf there reaches a real output."""
  return [jnp.where(m[..., None], x, jnp.zeros((), x.dtype)) for x, m in zip(xs, masks)]


def _concat_output_mask(xs, masks):
  """Output mask of fusions that return every modality's tokens, concatenated along the sequence."""
  return jnp.concatenate(_masks_or_ones(xs, masks), axis=1)


class _Embed(nn.Module):
  """Each modality's own Dense onto `features`, plus (optionally) a learned modality-type embedding."""

  features: int
  type_embedding: bool = False
  dtype: Any = None

  @nn.compact
  def __call__(self, xs):
    """Token projection with modality-type embeddings (Devlin et al. 2019, BERT's segment embeddings)."""
    hs = [nn.Dense(self.features, dtype=self.dtype, name=f"proj_{m}")(x) for m, x in enumerate(xs)]
    if not self.type_embedding:
      return hs
    type_MxD = self.param("modality_type", nn.initializers.normal(0.02), (len(xs), self.features))
    return [h + type_MxD[m].astype(h.dtype) for m, h in enumerate(hs)]


class _TokenFusion(Fusion):
  """Fields shared by the token fusions (no behaviour)."""

  input_kind: ClassVar[str] = "tokens"
  config_fields: ClassVar[Mapping[str, str]] = SIZED_LIKE_TRANSFORMER
  features: int = 64  # D, the fused token width
  num_heads: int = 4
  num_layers: int = 1
  mlp_dim: int = 128
  dtype: Any = None  # computation dtype; None follows inputs and parameters

  def _block(self, name):
    """A transformer block with this fusion's heads, MLP width and dtype."""
    return AttentionBlock(num_heads=self.num_heads, mlp_dim=self.mlp_dim, dtype=self.dtype, name=name)

  @nn.nowrap
  def output_mask(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """[B, L_out] True where the fused token is real: here every modality's tokens, concatenated."""
    return _concat_output_mask(xs, masks)


@register(
  "ModalityTokenSelfAttention",
  family="fusion",
  paper="Vaswani et al. 2017, Attention Is All You Need; single-stream fusion with modality-type "
  "embeddings as in Chen et al. 2020, UNITER",
  shapes=_TOKENS_SHAPES,
)
class ModalityTokenSelfAttention(_TokenFusion):
  """Self-attention over the concatenation of all modalities' tokens, tagged by a learned type embedding."""

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Single-stream transformer fusion (Chen et al. 2020, UNITER: UNiversal Image-TExt Representation Learning)."""
    masks = _masks_or_ones(xs, masks)
    xs = _zero_padding(xs, masks)
    x_BxNxD = jnp.concatenate(_Embed(self.features, True, self.dtype, name="embed")(xs), axis=1)
    mask_BxN = jnp.concatenate(masks, axis=1)
    for i in range(self.num_layers):
      x_BxNxD = self._block(f"layer_{i}")(x_BxNxD, mask_BxN)
    return nn.LayerNorm(dtype=self.dtype, name="out_norm")(x_BxNxD)


@register(
  "CrossModalAttention",
  family="fusion",
  paper="Tsai et al. 2019, Multimodal Transformer for Unaligned Multimodal Language Sequences (MulT)",
  shapes=_TOKENS_SHAPES,
)
class CrossModalAttention(_TokenFusion):
  """MulT: every target modality's tokens attend to every other modality through cross-modal blocks.

  For target t and source s ≠ t, `num_layers` cross-modal blocks update t's stream with keys and
  values from s's (fixed, low-level) tokens; the M−1 results are concatenated feature-wise, merged
  by a Dense to D and passed through `num_layers` self-attention blocks (MulT's final transformer).
  The targets' outputs are then concatenated along the sequence: [B, ΣL_m, D]. MulT's temporal
  convolution for the projection is a position-wise Dense here.
  """

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Cross-modal transformer fusion (Tsai et al. 2019, Multimodal Transformer for Unaligned Multimodal Language Sequences)."""
    require_modalities("CrossModalAttention", xs)
    masks = _masks_or_ones(xs, masks)
    xs = _zero_padding(xs, masks)
    hs = _Embed(self.features, False, self.dtype, name="embed")(xs)
    outs = []
    for t, (h_t, mask_t) in enumerate(zip(hs, masks)):
      msgs = []
      for s, (h_s, mask_s) in enumerate(zip(hs, masks)):
        if s == t:
          continue
        z_BxLxD = h_t
        for i in range(self.num_layers):
          z_BxLxD = self._block(f"cross_{s}_to_{t}_{i}")(z_BxLxD, mask_t, h_s, mask_s)
        msgs.append(nn.LayerNorm(dtype=self.dtype, name=f"cross_norm_{s}_to_{t}")(z_BxLxD))
      z_BxLxD = nn.Dense(self.features, dtype=self.dtype, name=f"merge_{t}")(jnp.concatenate(msgs, axis=-1))
      for i in range(self.num_layers):
        z_BxLxD = self._block(f"self_{t}_{i}")(z_BxLxD, mask_t)
      outs.append(nn.LayerNorm(dtype=self.dtype, name=f"out_norm_{t}")(z_BxLxD))
    return jnp.concatenate(outs, axis=1)


@register(
  "CoAttention",
  family="fusion",
  paper="Lu et al. 2019, ViLBERT: Pretraining Task-Agnostic Visiolinguistic Representations for "
  "Vision-and-Language Tasks",
  shapes="xs 2 × [B, L_m, d_m], masks 2 × [B, L_m] -> [B, L_0 + L_1, features]",
)
class CoAttention(_TokenFusion):
  """ViLBERT's two streams: per layer a co-attentional block (each stream's queries attend to the other
  stream's keys and values, both from the previous layer), then a self-attention block per stream.
  Output: both streams' tokens concatenated along the sequence."""

  num_modalities: ClassVar[int | None] = 2  # ViLBERT is two-stream

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Co-attentional transformer layers (Lu et al. 2019, ViLBERT)."""
    if len(xs) != 2:
      raise ValueError(f"CoAttention is two-stream (ViLBERT); got {len(xs)} modalities")
    mask_a, mask_b = _masks_or_ones(xs, masks)
    xs = _zero_padding(xs, (mask_a, mask_b))
    a_BxLxD, b_BxSxD = _Embed(self.features, False, self.dtype, name="embed")(xs)
    for i in range(self.num_layers):
      a_BxLxD, b_BxSxD = (
        self._block(f"co_a_{i}")(a_BxLxD, mask_a, b_BxSxD, mask_b),
        self._block(f"co_b_{i}")(b_BxSxD, mask_b, a_BxLxD, mask_a),
      )
      a_BxLxD = self._block(f"self_a_{i}")(a_BxLxD, mask_a)
      b_BxSxD = self._block(f"self_b_{i}")(b_BxSxD, mask_b)
    return jnp.concatenate(
      [
        nn.LayerNorm(dtype=self.dtype, name="out_norm_a")(a_BxLxD),
        nn.LayerNorm(dtype=self.dtype, name="out_norm_b")(b_BxSxD),
      ],
      axis=1,
    )


@register(
  "PerceiverFusion",
  family="fusion",
  paper="Jaegle et al. 2021, Perceiver: General Perception with Iterative Attention",
  shapes="xs M × [B, L_m, d_m], masks M × [B, L_m] -> [B, num_latents, features]",
)
class PerceiverFusion(_TokenFusion):
  """A learned latent array cross-attends to all modalities' tokens (tagged by a modality embedding),
  then `num_layers` latent self-attention blocks. One cross-attention, not the paper's repeated
  (weight-shared) ones; the output has no padding."""

  num_latents: int = 16
  cross_heads: int = 1  # the paper's cross-attention is single-headed

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Latent bottleneck cross-attention (Jaegle et al. 2021, Perceiver: General Perception with Iterative Attention)."""
    masks = _masks_or_ones(xs, masks)
    xs = _zero_padding(xs, masks)
    inputs_BxNxD = jnp.concatenate(_Embed(self.features, True, self.dtype, name="embed")(xs), axis=1)
    mask_BxN = jnp.concatenate(masks, axis=1)
    b = inputs_BxNxD.shape[0]
    latents_KxD = self.param("latents", nn.initializers.truncated_normal(0.02), (self.num_latents, self.features))
    z_BxKxD = jnp.broadcast_to(latents_KxD.astype(inputs_BxNxD.dtype), (b,) + latents_KxD.shape)
    z_mask_BxK = jnp.ones((b, self.num_latents), bool)
    z_BxKxD = AttentionBlock(num_heads=self.cross_heads, mlp_dim=self.mlp_dim, dtype=self.dtype, name="cross")(
      z_BxKxD, z_mask_BxK, inputs_BxNxD, mask_BxN
    )
    for i in range(self.num_layers):
      z_BxKxD = self._block(f"latent_{i}")(z_BxKxD, z_mask_BxK)
    return nn.LayerNorm(dtype=self.dtype, name="out_norm")(z_BxKxD)

  @nn.nowrap
  def output_mask(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """[B, num_latents], all True: latents are never padding."""
    return jnp.ones((xs[0].shape[0], self.num_latents), bool)


@register(
  "BottleneckFusion",
  family="fusion",
  paper="Nagrani et al. 2021, Attention Bottlenecks for Multimodal Fusion (MBT)",
  shapes=_TOKENS_SHAPES,
)
class BottleneckFusion(_TokenFusion):
  """MBT: one transformer per modality; from layer `fusion_layer` on, each modality's layer also sees
  `num_bottlenecks` shared tokens, and the modalities' updated copies are averaged into the next
  layer's bottleneck. Modalities exchange information only through those tokens, so a modality's
  output reflects the others from the second fused layer on. Output: the modalities' tokens
  concatenated along the sequence (the bottleneck tokens are internal, as in the paper)."""

  num_layers: int = 2
  num_bottlenecks: int = 4
  fusion_layer: int = 0  # layers before this one are unimodal

  @nn.compact
  def __call__(self, xs: Sequence[jax.Array], masks: Sequence[jax.Array] | None = None) -> jax.Array:
    """Multimodal bottleneck transformer (Nagrani et al. 2021, Attention Bottlenecks for Multimodal Fusion)."""
    masks = _masks_or_ones(xs, masks)
    xs = _zero_padding(xs, masks)
    hs = _Embed(self.features, False, self.dtype, name="embed")(xs)
    b, nb = hs[0].shape[0], self.num_bottlenecks
    bn_NxD = self.param("bottleneck", nn.initializers.normal(0.02), (nb, self.features))
    bn_BxNxD = jnp.broadcast_to(bn_NxD.astype(hs[0].dtype), (b,) + bn_NxD.shape)
    bn_mask_BxN = jnp.ones((b, nb), bool)
    for i in range(self.num_layers):
      if i < self.fusion_layer:
        hs = [self._block(f"layer_{i}_m{m}")(h, mask) for m, (h, mask) in enumerate(zip(hs, masks))]
        continue
      updated = []
      for m, (h_BxLxD, mask_BxL) in enumerate(zip(hs, masks)):
        y = self._block(f"layer_{i}_m{m}")(
          jnp.concatenate([h_BxLxD, bn_BxNxD], axis=1), jnp.concatenate([mask_BxL, bn_mask_BxN], axis=1)
        )
        hs[m] = y[:, : h_BxLxD.shape[1]]
        updated.append(y[:, h_BxLxD.shape[1] :])
      bn_BxNxD = jnp.mean(jnp.stack(updated), axis=0)
    return nn.LayerNorm(dtype=self.dtype, name="out_norm")(jnp.concatenate(hs, axis=1))
