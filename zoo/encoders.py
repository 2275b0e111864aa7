"""Modality encoders: text (Vaswani 2017), image (ViT, Dosovitskiy 2021), audio (log-mel + conv + transformer, Whisper).

Every encoder returns a dict (big_vision style):
  "tokens" [B, L, D]   the token sequence after the final LayerNorm,
  "mask"   [B, L] bool True = real token (audio and image tokens are all real),
  "pooled" [B, D]      the masked mean of "tokens",
and the audio encoder adds "times" [L], every token's centre in seconds (the clock alignment needs).
So both pooled fusions and token fusions of the catalog can sit on top of any encoder.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import flax.linen as nn
import jax.numpy as jnp

from zoo import audio as audio_lib
from zoo import tokenizer
from zoo.attention import heads_major_attention
from zoo.registry import register

if TYPE_CHECKING:  # zoo.models imports this module; the config type is only for readers and checkers
  from zoo.models import ModelConfig

Dtype = Any


def masked_mean(x_BxLxD, mask_BxL):
  """Mean over the real tokens; an all-padding row gives 0 rather than NaN."""
  m = mask_BxL.astype(x_BxLxD.dtype)[..., None]
  return (x_BxLxD * m).sum(axis=1) / jnp.maximum(m.sum(axis=1), 1)


class MlpBlock(nn.Module):
  """Transformer feed-forward block (Vaswani et al. 2017), GELU as in ViT."""
  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x_BxLxD, deterministic: bool = True):
    d = x_BxLxD.shape[-1]
    h = nn.gelu(nn.Dense(self.mlp_dim, dtype=self.dtype, name="fc1")(x_BxLxD))
    h = nn.Dropout(self.dropout)(h, deterministic)
    return nn.Dense(d, dtype=self.dtype, name="fc2")(h)


class EncoderBlock(nn.Module):
  """Pre-LN transformer encoder block (Xiong et al. 2020; big_vision's ViT block)."""
  heads: int
  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x_BxLxD, mask_BxL, deterministic: bool = True):
    y = nn.LayerNorm(dtype=self.dtype, name="ln1")(x_BxLxD)
    y = nn.MultiHeadDotProductAttention(
        attention_fn=heads_major_attention, num_heads=self.heads, dtype=self.dtype, dropout_rate=self.dropout,
        deterministic=deterministic, name="attn")(y, y, mask=nn.make_attention_mask(mask_BxL, mask_BxL))
    x_BxLxD = x_BxLxD + nn.Dropout(self.dropout)(y, deterministic)
    y = nn.LayerNorm(dtype=self.dtype, name="ln2")(x_BxLxD)
    y = MlpBlock(self.mlp_dim, self.dropout, self.dtype, name="mlp")(y, deterministic)
    return x_BxLxD + nn.Dropout(self.dropout)(y, deterministic)


class Transformer(nn.Module):
  """A stack of pre-LN encoder blocks with a final LayerNorm (Vaswani et al. 2017, big_vision's Encoder)."""
  depth: int
  heads: int
  mlp_dim: int
  dropout: float = 0.0
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x_BxLxD, mask_BxL, deterministic: bool = True):
    for i in range(self.depth):
      x_BxLxD = EncoderBlock(self.heads, self.mlp_dim, self.dropout, self.dtype,
                             name=f"block{i}")(x_BxLxD, mask_BxL, deterministic)
    return nn.LayerNorm(dtype=self.dtype, name="norm")(x_BxLxD)


def _transformer(cfg: ModelConfig, name: str, depth: int | None = None) -> Transformer:
  return Transformer(cfg.depth if depth is None else depth, cfg.heads, cfg.mlp_dim, cfg.dropout,
                     cfg.compute_dtype, name=name)


def _outputs(tokens_BxLxD, mask_BxL, **extra):
  return {"tokens": tokens_BxLxD, "mask": mask_BxL, "pooled": masked_mean(tokens_BxLxD, mask_BxL), **extra}


@register("TextEncoder", family="encoder",
          paper="Vaswani et al. 2017, Attention Is All You Need (encoder; byte tokens as ByT5, Xue et al. 2022)",
          shapes="text [B, Lt] int32 (0 = pad), prefix [B, P, D] -> tokens [B, P+Lt, D], mask, pooled [B, D]")
class TextEncoder(nn.Module):
  """Token embedding + learned positions + transformer with a padding mask (Vaswani et al. 2017).

  An optional `prefix` of already-embedded tokens (another modality's projected tokens, as in LLaVA)
  is put before the text and attended to like text: this is the serial architecture's second stage.
  Positions are learned for the text only; a prefix carries its own encoder's positions.
  """
  cfg: ModelConfig

  @nn.compact
  def __call__(self, text_BxL, train: bool = False, prefix_BxPxD=None, prefix_mask_BxP=None):
    cfg = self.cfg
    if text_BxL.shape[1] > cfg.text_len:
      raise ValueError(f"text of length {text_BxL.shape[1]} > cfg.text_len={cfg.text_len}")
    mask_BxL = text_BxL != tokenizer.PAD
    x = nn.Embed(cfg.vocab_size, cfg.width, dtype=cfg.compute_dtype, name="embed")(text_BxL)
    pos = self.param("pos_embedding", nn.initializers.normal(0.02), (1, cfg.text_len, cfg.width))
    x = x + pos[:, : text_BxL.shape[1]].astype(x.dtype)
    if prefix_BxPxD is not None:
      if prefix_mask_BxP is None:
        prefix_mask_BxP = jnp.ones(prefix_BxPxD.shape[:2], bool)
      x = jnp.concatenate([prefix_BxPxD.astype(x.dtype), x], axis=1)
      mask_BxL = jnp.concatenate([prefix_mask_BxP, mask_BxL], axis=1)
    x = nn.Dropout(cfg.dropout)(x, not train)
    return _outputs(_transformer(cfg, "transformer")(x, mask_BxL, not train), mask_BxL)


@register("ImageEncoder", family="encoder",
          paper="Dosovitskiy et al. 2021, An Image is Worth 16x16 Words (ViT); GAP head as in big_vision",
          shapes="image [B, H, W, C] -> tokens [B, (H/p)(W/p), D], mask, pooled [B, D]")
class ImageEncoder(nn.Module):
  """ViT: non-overlapping p×p patches by a strided conv, learned positions, transformer (Dosovitskiy et al. 2021)."""
  cfg: ModelConfig

  @nn.compact
  def __call__(self, image_BxHxWxC, train: bool = False):
    cfg = self.cfg
    p = cfg.patch_size
    x = nn.Conv(cfg.width, (p, p), strides=(p, p), padding="VALID", dtype=cfg.compute_dtype,
                name="patch_embed")(image_BxHxWxC)
    b, h, w, d = x.shape
    x = x.reshape(b, h * w, d)
    # big_vision initialises learned positions with stddev 1/sqrt(D).
    pos = self.param("pos_embedding", nn.initializers.normal(d ** -0.5), (1, h * w, d))
    x = nn.Dropout(cfg.dropout)(x + pos.astype(x.dtype), not train)
    mask_BxL = jnp.ones((b, h * w), bool)
    return _outputs(_transformer(cfg, "transformer")(x, mask_BxL, not train), mask_BxL)


def audio_token_times(cfg: ModelConfig, num_samples: int | None = None):
  """Centre in seconds of each audio-encoder token, [La] (the stride-2 conv keeps every other frame)."""
  t = audio_lib.frame_times(cfg.audio_len if num_samples is None else num_samples,
                            cfg.n_fft, cfg.hop, cfg.sample_rate)
  # A 'SAME' conv of stride 2 centres output j on input frame 2j.
  return t[::2]


@register("AudioEncoder", family="encoder",
          paper="Radford et al. 2022, Robust Speech Recognition via Large-Scale Weak Supervision (Whisper encoder)",
          shapes="audio [B, S] 16 kHz -> tokens [B, ceil(T/2), D], mask, pooled [B, D], times [ceil(T/2)]")
class AudioEncoder(nn.Module):
  """Raw waveform -> log-mel -> two 1-D convs (the second of stride 2) -> learned positions -> transformer (Whisper)."""
  cfg: ModelConfig

  @nn.compact
  def __call__(self, audio_BxS, train: bool = False):
    cfg = self.cfg
    mel_BxTxM = audio_lib.log_mel_spectrogram(
        audio_BxS, sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop=cfg.hop, n_mels=cfg.n_mels)
    # Whisper floors log10-mel 8 below each clip's peak (8·ln 10 in our natural log), then rescales by a
    # fixed (x + 4)/4; we keep the floor and use a learned LayerNorm over mel bins for the rescaling.
    mel_BxTxM = jnp.maximum(mel_BxTxM, mel_BxTxM.max(axis=(1, 2), keepdims=True) - 8 * jnp.log(10.0))
    x = nn.LayerNorm(name="mel_norm")(mel_BxTxM).astype(cfg.compute_dtype)
    x = nn.gelu(nn.Conv(cfg.width, (3,), padding="SAME", dtype=cfg.compute_dtype, name="conv1")(x))
    x = nn.gelu(nn.Conv(cfg.width, (3,), strides=(2,), padding="SAME", dtype=cfg.compute_dtype,
                        name="conv2")(x))
    b, l, d = x.shape
    pos = self.param("pos_embedding", nn.initializers.normal(d ** -0.5), (1, l, d))
    x = nn.Dropout(cfg.dropout)(x + pos.astype(x.dtype), not train)
    mask_BxL = jnp.ones((b, l), bool)
    times = audio_token_times(cfg, audio_BxS.shape[-1])
    return _outputs(_transformer(cfg, "transformer")(x, mask_BxL, not train), mask_BxL, times=times)


ENCODERS = {"text": TextEncoder, "image": ImageEncoder, "audio": AudioEncoder}


def encode_all(cfg: ModelConfig, batch: dict, train: bool) -> dict[str, dict]:
  """Run each modality in `cfg.modalities` through its encoder (called inside a parent's compact method)."""
  return {m: ENCODERS[m](cfg, name=f"{m}_encoder")(batch[m], train) for m in cfg.modalities}
