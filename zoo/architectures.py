"""The source article's three architectures, made precise: serial (cascade), parallel (late fusion), alignment.

The article (§4) names them without defining them; docs/architectures.md gives the definitions we chose, with
references and diagrams. Every model maps a batch dict ("text" [B, Lt] int32, "image" [B, H, W, C],
"audio" [B, S]) to `(logits [B, num_classes], aux)`; aux holds intermediates (big_vision style):
  aux["pooled"][m]       [B, D] each modality encoder's pooled vector,
  aux["pre_logits"]      [B, D'] what the classification head reads,
  aux["contrastive_loss"] [] (alignment model with cfg.contrastive) for training to add.
Logits are computed in float32 even when cfg.dtype is bfloat16 (the head is tiny, and the softmax
cross-entropy on top of it wants the range).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo.align.features import clip_loss
from zoo.align.time import dtw_warp, interp_align
from zoo.config import ModelConfig
from zoo.encoders import encode_all, make_encoder
from zoo.fusion.catalog import ALIGNED_REASON, fuse, fusion_class, make_fusion
from zoo.layers import Transformer, masked_mean
from zoo.registry import register

# ---------------------------------------------------------------------------------------------------------
# The architectures.


@register(
  "UnimodalModel",
  family="architecture",
  paper="Baseline: one modality's encoder and a linear head (the unimodal rows of Baltrušaitis et al. 2019)",
  shapes="batch[m] -> logits [B, num_classes]; m = the single entry of cfg.modalities",
)
class UnimodalModel(nn.Module):
  """One encoder, mean-pooled, and a linear head: the baseline every fusion must beat."""

  cfg: ModelConfig

  @nn.compact
  def __call__(self, batch: dict, train: bool = False):
    """A single-modality classifier (the unimodal baseline of Baltrušaitis et al. 2019)."""
    cfg = self.cfg
    if len(cfg.modalities) != 1:
      raise ValueError(f"unimodal needs exactly one modality, got cfg.modalities={cfg.modalities}")
    enc = encode_all(cfg, batch, train)
    ((m, e),) = enc.items()
    logits = nn.Dense(cfg.num_classes, dtype=jnp.float32, name="head")(e["pooled"])
    return logits, {"pooled": {m: e["pooled"]}, "pre_logits": e["pooled"]}


@register(
  "ParallelModel",
  family="architecture",
  paper="Late fusion: Baltrušaitis et al. 2019 survey §4 (model-agnostic late fusion); Ngiam et al. 2011",
  shapes="batch -> logits [B, num_classes]; encoders side by side, one catalog fusion (cfg.fusion)",
)
class ParallelModel(nn.Module):
  """Independent encoders side by side, combined late by the catalog fusion `cfg.fusion`.

  Pooled fusions read each encoder's pooled vector; token fusions read the token sequences and their
  masks, and their output is masked-mean pooled.
  """

  cfg: ModelConfig

  @nn.compact
  def __call__(self, batch: dict, train: bool = False):
    """Parallel encoders + late fusion (Baltrušaitis et al. 2019, §4)."""
    cfg = self.cfg
    if fusion_class(cfg.fusion).needs_aligned:
      raise ValueError(f"parallel cannot use {cfg.fusion}: {ALIGNED_REASON}")
    enc = encode_all(cfg, batch, train)
    fused_BxD, _, _ = fuse(make_fusion(cfg, cfg.fusion), enc)
    logits = nn.Dense(cfg.num_classes, dtype=jnp.float32, name="head")(fused_BxD)
    return logits, {"pooled": {m: e["pooled"] for m, e in enc.items()}, "pre_logits": fused_BxD}


@register(
  "Projector",
  family="architecture",
  paper="Liu et al. 2023, Improved Baselines with Visual Instruction Tuning (LLaVA-1.5's two-layer MLP)",
  shapes="tokens [B, L, d_in] -> [B, L, D]",
)
class Projector(nn.Module):
  """Maps one encoder's tokens into the next model's embedding space: Dense-GELU-Dense (LLaVA-1.5)."""

  features: int
  dtype: Any = jnp.float32

  @nn.compact
  def __call__(self, x_BxLxD):
    """LLaVA-1.5's MLP connector (Liu et al. 2023)."""
    h = nn.gelu(nn.Dense(self.features, dtype=self.dtype, name="fc1")(x_BxLxD))
    return nn.Dense(self.features, dtype=self.dtype, name="fc2")(h)


@register(
  "SerialModel",
  family="architecture",
  paper="Cascade as in LLaVA (Liu et al. 2023, Visual Instruction Tuning) and BLIP-2 (Li et al. 2023)",
  shapes="batch -> logits [B, num_classes]; [image tokens; audio tokens; text] through the text transformer",
)
class SerialModel(nn.Module):
  """One model feeds the next: image (and audio) encoders -> projector -> the text transformer's prefix.

  Decision: audio joins the same way as the image, as a second projected prefix after the image's
  (as speech LLMs such as SALMONN / Qwen-Audio feed audio tokens to the LLM). Each prefix gets a learned
  modality-type embedding so the text transformer can tell them apart. The pooled output is the masked
  mean over the whole sequence the text transformer returns (prefix and text).
  """

  cfg: ModelConfig

  @nn.compact
  def __call__(self, batch: dict, train: bool = False):
    """A LLaVA / BLIP-2 style cascade (Liu et al. 2023; Li et al. 2023)."""
    cfg = self.cfg
    if "text" not in cfg.modalities:
      raise ValueError("serial ends in the text transformer, so cfg.modalities must include 'text'")
    pooled, prefix, prefix_mask = {}, [], []
    for m in ("image", "audio"):
      if m not in cfg.modalities:
        continue
      e = make_encoder(cfg, m)(batch[m], train)
      pooled[m] = e["pooled"]
      p = Projector(cfg.width, cfg.compute_dtype, name=f"{m}_projector")(e["tokens"])
      type_emb = self.param(f"{m}_type_embedding", nn.initializers.normal(0.02), (1, 1, cfg.width))
      prefix.append(p + type_emb.astype(p.dtype))
      prefix_mask.append(e["mask"])
    prefix_BxPxD = jnp.concatenate(prefix, axis=1) if prefix else None
    prefix_mask_BxP = jnp.concatenate(prefix_mask, axis=1) if prefix else None
    t = make_encoder(cfg, "text")(batch["text"], train, prefix_BxPxD, prefix_mask_BxP)
    pooled["text"] = t["pooled"]
    logits = nn.Dense(cfg.num_classes, dtype=jnp.float32, name="head")(t["pooled"])
    return logits, {"pooled": pooled, "pre_logits": t["pooled"]}


# ---------------------------------------------------------------------------------------------------------
# Alignment: put every stream on one clock, then fuse early.


def uniform_clock(mask_BxL, duration):
  """Times of the real tokens spread evenly over `duration` seconds, [B, L]: token i of n at (i + ½)·duration/n.

  A constant speaking rate: the assumption under which time interpolation aligns text with audio.
  Padded positions get times past the end (they are masked out downstream anyway).
  """
  n_B = jnp.maximum(mask_BxL.sum(axis=1), 1).astype(jnp.float32)
  i_L = jnp.arange(mask_BxL.shape[1], dtype=jnp.float32)
  return (i_L[None, :] + 0.5) * duration / n_B[:, None]


ALIGNERS = ("interp", "dtw", "soft_dtw")


@register(
  "AlignmentModel",
  family="architecture",
  paper="Align then fuse early: Baltrušaitis et al. 2019 §5 (alignment); CLIP (Radford et al. 2021) "
  "for the shared space; Tsai et al. 2019 (MulT) on unaligned vs aligned streams",
  shapes="batch -> logits [B, num_classes]; aux['contrastive_loss'] []",
)
class AlignmentModel(nn.Module):
  """Align first, then fuse early on the aligned sequences.

  1. Feature alignment: a linear projection head per modality into a shared `cfg.embed_dim` space
     (CLIP's), and `clip_loss` of every modality against the clock modality, returned as
     aux["contrastive_loss"] for training to add (cfg.contrastive).
  2. Time alignment onto the clock (the text's tokens; the audio's frames if there is no text):
     audio tokens by `cfg.align` = "interp" (zoo.align.time.interp_align at the text tokens' times,
     spread evenly over the clip), "dtw" or "soft_dtw" (zoo.align.time.dtw_warp: the DTW path, or
     soft-DTW's expected alignment at γ = cfg.soft_dtw_gamma, between text and audio tokens in the
     shared space, each text token taking the mean of the audio tokens matched to it; the hard path is
     a constant of the forward pass, the soft one also trains the projections). The image has no time
     axis: its pooled vector holds for the whole clip, so it is repeated at every step.
  3. Early fusion: the aligned streams, one length and one mask, go through the catalog token fusion
     `cfg.align_fusion` (EarlyConcat by default) and a transformer; masked mean; linear head.
  """

  cfg: ModelConfig

  @nn.compact
  def __call__(self, batch: dict, train: bool = False):
    """Alignment model (Baltrušaitis et al. 2019 §5; Radford et al. 2021)."""
    cfg = self.cfg
    if cfg.align not in ALIGNERS:
      raise ValueError(f"cfg.align={cfg.align!r}; choose one of {ALIGNERS}")
    enc = encode_all(cfg, batch, train)
    aux: dict[str, Any] = {"pooled": {m: e["pooled"] for m, e in enc.items()}}
    clock = next(m for m in ("text", "audio", "image") if m in enc)

    # 1. Shared space: CLIP's linear projections (no bias), one per modality.
    proj = {m: nn.Dense(cfg.embed_dim, use_bias=False, dtype=cfg.compute_dtype, name=f"{m}_proj") for m in enc}
    others = [m for m in enc if m != clock]
    if cfg.contrastive and others:
      # CLIP's learnable temperature, initialised at 0.07 and kept as a log.
      log_t = self.param("log_temperature", nn.initializers.constant(jnp.log(0.07)), ())
      losses = [
        clip_loss(
          proj[m](enc[m]["pooled"]).astype(jnp.float32),
          proj[clock](enc[clock]["pooled"]).astype(jnp.float32),
          jnp.exp(log_t),
        )
        for m in others
      ]
      aux["contrastive_loss"] = jnp.mean(jnp.stack(losses))

    # 2. Every stream onto the clock.
    ref = enc[clock]
    mask_BxL = ref["mask"]
    b, l, _ = ref["tokens"].shape
    streams = [ref["tokens"]]
    for m in others:
      if m == "image":
        streams.append(jnp.broadcast_to(enc[m]["pooled"][:, None, :], (b, l, enc[m]["pooled"].shape[-1])))
      else:  # audio onto the text clock (the clock is audio only when there is no text)
        streams.append(self._align_audio(enc["audio"], ref, proj, clock))
    aux["aligned"] = streams

    # 3. Early fusion on the aligned streams, then a transformer over the fused sequence.
    fusion = make_fusion(cfg, cfg.align_fusion)
    if fusion.input_kind != "tokens":
      raise ValueError(f"cfg.align_fusion={cfg.align_fusion!r} must be a token fusion")
    masks = [mask_BxL] * len(streams)
    fused_BxLxF = fusion(streams, masks)
    fmask_BxL = fusion.output_mask(streams, masks)
    x = nn.Dense(cfg.width, dtype=cfg.compute_dtype, name="fused_in")(fused_BxLxF)
    x = Transformer(cfg.depth, cfg.heads, cfg.mlp_dim, cfg.dropout, cfg.compute_dtype, name="fusion_transformer")(
      x, fmask_BxL, not train
    )
    pooled_BxD = masked_mean(x, fmask_BxL)
    aux["pre_logits"] = pooled_BxD
    return nn.Dense(cfg.num_classes, dtype=jnp.float32, name="head")(pooled_BxD), aux

  def _align_audio(self, a: dict, ref: dict, proj: dict, clock: str):
    """Audio tokens [B, La, D] onto the clock's positions, [B, L, D]."""
    cfg = self.cfg
    tok_BxLaxD = a["tokens"]
    if self.cfg.align == "interp":
      times_La = a["times"]
      duration = cfg.audio_len / cfg.sample_rate
      t_dst_BxL = uniform_clock(ref["mask"], duration)
      return jax.vmap(lambda x, t: interp_align(times_La, x, t))(tok_BxLaxD.astype(jnp.float32), t_dst_BxL).astype(
        tok_BxLaxD.dtype
      )

    # (Soft-)DTW in the shared space between L2-normalised token embeddings (CLIP's cosine geometry:
    # the squared distance is 2 − 2·cos), averaging the audio encoder's own tokens along the alignment.
    def unit(x):
      x = x.astype(jnp.float32)
      return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), 1e-6)

    gamma = 0.0 if cfg.align == "dtw" else cfg.soft_dtw_gamma
    q_BxLxE, k_BxLaxE = unit(proj[clock](ref["tokens"])), unit(proj["audio"](tok_BxLaxD))
    warp = lambda q, k, v, qm, km: dtw_warp(q, k, gamma, x_mask_N=qm, y_mask_M=km, values_MxE=v)
    return jax.vmap(warp)(q_BxLxE, k_BxLaxE, tok_BxLaxD.astype(jnp.float32), ref["mask"], a["mask"]).astype(
      tok_BxLaxD.dtype
    )
