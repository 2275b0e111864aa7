"""Modality encoders: text (Vaswani 2017), image (ViT, Dosovitskiy 2021), audio (log-mel + conv + transformer, Whisper).

Every encoder returns a dict (big_vision style):
  "tokens" [B, L, D]   the token sequence after the final LayerNorm,
  "mask"   [B, L] bool True = real token (audio and image tokens are all real),
  "pooled" [B, D]      the masked mean of "tokens",
and the audio encoder adds "times" [L], every token's centre in seconds (the clock alignment needs).
So both pooled fusions and token fusions of the catalog can sit on top of any encoder.

Each encoder has explicit typed fields with the defaults of `zoo.config.ModelConfig()`, so
`registry.get("ImageEncoder")(width=8)` works alone; `make_encoder(cfg, modality)` is the one place that
builds an encoder from a ModelConfig.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax.numpy as jnp

from zoo import audio as audio_lib
from zoo import tokenizer
from zoo.config import ModelConfig
from zoo.layers import Transformer, masked_mean
from zoo.registry import register

Dtype = Any
_D = ModelConfig()  # the encoders' field defaults are the config's


def _outputs(tokens_BxLxD, mask_BxL, **extra):
  return {"tokens": tokens_BxLxD, "mask": mask_BxL, "pooled": masked_mean(tokens_BxLxD, mask_BxL), **extra}


class _Encoder(nn.Module):
  """Fields every encoder has: its transformer's sizes, dropout and computation dtype."""

  width: int = _D.width
  depth: int = _D.depth
  heads: int = _D.heads
  mlp_dim: int = _D.mlp_dim
  dropout: float = _D.dropout
  dtype: Dtype = jnp.float32  # computation dtype; parameters stay float32

  def _transformer(self) -> Transformer:
    """This encoder's transformer (named "transformer" in the parameter tree)."""
    return Transformer(self.depth, self.heads, self.mlp_dim, self.dropout, self.dtype, name="transformer")


@register(
  "TextEncoder",
  family="encoder",
  paper="Vaswani et al. 2017, Attention Is All You Need (encoder; byte tokens as ByT5, Xue et al. 2022)",
  shapes="text [B, Lt] int32 (0 = pad), prefix [B, P, D] -> tokens [B, P+Lt, D], mask, pooled [B, D]",
)
class TextEncoder(_Encoder):
  """Token embedding + learned positions + transformer with a padding mask (Vaswani et al. 2017).

  An optional `prefix` of already-embedded tokens (another modality's projected tokens, as in LLaVA)
  is put before the text and attended to like text: this is the serial architecture's second stage.
  Positions are learned for the text only; a prefix carries its own encoder's positions.
  """

  vocab_size: int = _D.vocab_size
  text_len: int = _D.text_len  # max text tokens (learned positions)

  @nn.compact
  def __call__(self, text_BxL, train: bool = False, prefix_BxPxD=None, prefix_mask_BxP=None):
    """Transformer encoder over byte tokens (Vaswani et al. 2017)."""
    if text_BxL.shape[1] > self.text_len:
      raise ValueError(f"text of length {text_BxL.shape[1]} > text_len={self.text_len}")
    mask_BxL = text_BxL != tokenizer.PAD
    x = nn.Embed(self.vocab_size, self.width, dtype=self.dtype, name="embed")(text_BxL)
    pos = self.param("pos_embedding", nn.initializers.normal(0.02), (1, self.text_len, self.width))
    x = x + pos[:, : text_BxL.shape[1]].astype(x.dtype)
    if prefix_BxPxD is not None:
      if prefix_mask_BxP is None:
        prefix_mask_BxP = jnp.ones(prefix_BxPxD.shape[:2], bool)
      x = jnp.concatenate([prefix_BxPxD.astype(x.dtype), x], axis=1)
      mask_BxL = jnp.concatenate([prefix_mask_BxP, mask_BxL], axis=1)
    x = nn.Dropout(self.dropout)(x, not train)
    return _outputs(self._transformer()(x, mask_BxL, not train), mask_BxL)


@register(
  "ImageEncoder",
  family="encoder",
  paper="Dosovitskiy et al. 2021, An Image is Worth 16x16 Words (ViT); GAP head as in big_vision",
  shapes="image [B, H, W, C] -> tokens [B, (H/p)(W/p), D], mask, pooled [B, D]",
)
class ImageEncoder(_Encoder):
  """ViT: non-overlapping p×p patches by a strided conv, learned positions, transformer (Dosovitskiy et al. 2021)."""

  patch_size: int = _D.patch_size

  @nn.compact
  def __call__(self, image_BxHxWxC, train: bool = False):
    """ViT encoder with global average pooling (Dosovitskiy et al. 2021)."""
    p = self.patch_size
    x = nn.Conv(self.width, (p, p), strides=(p, p), padding="VALID", dtype=self.dtype, name="patch_embed")(
      image_BxHxWxC
    )
    b, h, w, d = x.shape
    x = x.reshape(b, h * w, d)
    # big_vision initialises learned positions with stddev 1/sqrt(D).
    pos = self.param("pos_embedding", nn.initializers.normal(d**-0.5), (1, h * w, d))
    x = nn.Dropout(self.dropout)(x + pos.astype(x.dtype), not train)
    mask_BxL = jnp.ones((b, h * w), bool)
    return _outputs(self._transformer()(x, mask_BxL, not train), mask_BxL)


def audio_token_times(cfg: ModelConfig, num_samples: int | None = None):
  """Centre in seconds of each audio-encoder token for `cfg`'s clips (or `num_samples` samples), [La]."""
  return make_encoder(cfg, "audio").token_times(cfg.audio_len if num_samples is None else num_samples)


@register(
  "AudioEncoder",
  family="encoder",
  paper="Radford et al. 2022, Robust Speech Recognition via Large-Scale Weak Supervision (Whisper encoder)",
  shapes="audio [B, S] 16 kHz -> tokens [B, ceil(T/2), D], mask, pooled [B, D], times [ceil(T/2)]",
)
class AudioEncoder(_Encoder):
  """Raw waveform -> log-mel -> two 1-D convs (the second of stride 2) -> learned positions -> transformer (Whisper)."""

  sample_rate: int = _D.sample_rate
  n_fft: int = _D.n_fft
  hop: int = _D.hop
  n_mels: int = _D.n_mels

  @nn.nowrap
  def token_times(self, num_samples: int):
    """Centre in seconds of each token for a clip of `num_samples` samples, [La]."""
    t = audio_lib.frame_times(num_samples, self.n_fft, self.hop, self.sample_rate)
    # A 'SAME' conv of stride 2 centres output j on input frame 2j.
    return t[::2]

  @nn.compact
  def __call__(self, audio_BxS, train: bool = False):
    """Whisper-style audio encoder (Radford et al. 2022)."""
    mel_BxTxM = audio_lib.log_mel_spectrogram(
      audio_BxS, sample_rate=self.sample_rate, n_fft=self.n_fft, hop=self.hop, n_mels=self.n_mels
    )
    # Whisper floors log10-mel 8 below each clip's peak (8·ln 10 in our natural log), then rescales by a
    # fixed (x + 4)/4; we keep the floor and use a learned LayerNorm over mel bins for the rescaling.
    mel_BxTxM = jnp.maximum(mel_BxTxM, mel_BxTxM.max(axis=(1, 2), keepdims=True) - 8 * jnp.log(10.0))
    x = nn.LayerNorm(name="mel_norm")(mel_BxTxM).astype(self.dtype)
    x = nn.gelu(nn.Conv(self.width, (3,), padding="SAME", dtype=self.dtype, name="conv1")(x))
    x = nn.gelu(nn.Conv(self.width, (3,), strides=(2,), padding="SAME", dtype=self.dtype, name="conv2")(x))
    b, l, d = x.shape
    pos = self.param("pos_embedding", nn.initializers.normal(d**-0.5), (1, l, d))
    x = nn.Dropout(self.dropout)(x + pos.astype(x.dtype), not train)
    mask_BxL = jnp.ones((b, l), bool)
    times = self.token_times(audio_BxS.shape[-1])
    return _outputs(self._transformer()(x, mask_BxL, not train), mask_BxL, times=times)


ENCODERS = {"text": TextEncoder, "image": ImageEncoder, "audio": AudioEncoder}


def make_encoder(cfg: ModelConfig, modality: str, *, name: str | None = None) -> _Encoder:
  """The encoder of `modality` with `cfg`'s sizes: the one place encoders are built from a config.

  `name` defaults to "<modality>_encoder", the name every model gives it in its parameter tree.
  """
  common = dict(
    width=cfg.width,
    depth=cfg.depth,
    heads=cfg.heads,
    mlp_dim=cfg.mlp_dim,
    dropout=cfg.dropout,
    dtype=cfg.compute_dtype,
    name=name or f"{modality}_encoder",
  )
  if modality == "text":
    return TextEncoder(vocab_size=cfg.vocab_size, text_len=cfg.text_len, **common)
  if modality == "image":
    return ImageEncoder(patch_size=cfg.patch_size, **common)
  if modality == "audio":
    return AudioEncoder(sample_rate=cfg.sample_rate, n_fft=cfg.n_fft, hop=cfg.hop, n_mels=cfg.n_mels, **common)
  raise ValueError(f"no encoder for modality {modality!r}; choose one of {sorted(ENCODERS)}")


def encode_all(cfg: ModelConfig, batch: dict, train: bool) -> dict[str, dict]:
  """Run each modality in `cfg.modalities` through its encoder (called inside a parent's compact method)."""
  return {m: make_encoder(cfg, m)(batch[m], train) for m in cfg.modalities}
