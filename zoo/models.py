"""Models by name: `build(name, cfg)`, `init_params`, `example_batch` (config: zoo.config; checkpoints: zoo.checkpoint).

    cfg = ModelConfig(fusion="GMU")                     # or TINY.replace(...)
    model = build("parallel", cfg)
    params = init_params(model, cfg, jax.random.key(0))
    logits, aux = model.apply({"params": params}, example_batch(cfg, key, 2), train=False)

Batches are dicts: "text" [B, Lt] int32 byte ids (zoo.tokenizer; 0 = pad), "image" [B, H, W, C] float32
in [0, 1], "audio" [B, S] float32 16 kHz waveform in [-1, 1], "label" [B] int32 (absent at inference),
and for "encdec" "target" [B, T] int32 byte ids ending in EOS. Dropout (cfg.dropout > 0) with
train=True needs `rngs={"dropout": key}`.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from zoo import tokenizer
from zoo.architectures import AlignmentModel, ParallelModel, SerialModel, UnimodalModel

# zoo.checkpoint's and zoo.config's names this module held before they existed, kept for its callers.
from zoo.checkpoint import (  # noqa: F401
  MODEL_CONFIG_FILE,
  checkpoint_dir,
  find_model_config,
  load_params,
  save_params,
)
from zoo.config import (  # noqa: F401
  MODALITIES,
  PRESETS,
  TINY,
  ModelConfig,
  config_from_json,
  config_to_json,
  parse_override,
  preset,
)
from zoo.encdec import EncoderDecoder

MODELS: dict[str, type[nn.Module]] = {
  "parallel": ParallelModel,  # encoders side by side + late fusion by cfg.fusion
  "serial": SerialModel,  # image/audio encoders -> projector -> text transformer (LLaVA-style)
  "alignment": AlignmentModel,  # align onto the text clock (+ contrastive space), fuse early
  "unimodal": UnimodalModel,  # one modality, cfg.modalities = (m,)
  "encdec": EncoderDecoder,  # fused memory -> causal decoder; batch["target"] for training
}


def build(name: str, cfg: ModelConfig) -> nn.Module:
  """The model called `name` (one of MODELS) for `cfg`."""
  try:
    return MODELS[name](cfg)
  except KeyError:
    raise KeyError(f"no model {name!r}; choose one of {sorted(MODELS)}") from None


def example_batch(cfg: ModelConfig, rng, batch_size: int = 2, *, with_label: bool = True) -> dict:
  """A random batch of the right shapes and dtypes for `cfg` (all modalities, plus "target" and "label")."""
  k_len, k_txt, k_img, k_aud, k_tgt, k_tlen, k_lab = jax.random.split(rng, 7)
  b = batch_size
  # Text: 1..text_len real byte ids, the rest padding.
  lengths = jax.random.randint(k_len, (b, 1), 1, cfg.text_len + 1)
  ids = jax.random.randint(k_txt, (b, cfg.text_len), tokenizer.OFFSET, min(cfg.vocab_size, 259))
  text = jnp.where(jnp.arange(cfg.text_len) < lengths, ids, tokenizer.PAD).astype(jnp.int32)
  # Target: 0..target_len-1 byte ids, then EOS, then padding.
  tlen = jax.random.randint(k_tlen, (b, 1), 0, cfg.target_len)
  tids = jax.random.randint(k_tgt, (b, cfg.target_len), tokenizer.OFFSET, min(cfg.vocab_size, 259))
  pos = jnp.arange(cfg.target_len)
  target = jnp.where(pos < tlen, tids, jnp.where(pos == tlen, tokenizer.EOS, tokenizer.PAD)).astype(jnp.int32)
  batch = {
    "text": text,
    "image": jax.random.uniform(k_img, (b, cfg.image_size, cfg.image_size, cfg.image_channels)),
    "audio": jax.random.uniform(k_aud, (b, cfg.audio_len), minval=-1.0, maxval=1.0),
    "target": target,
  }
  if with_label:
    batch["label"] = jax.random.randint(k_lab, (b,), 0, cfg.num_classes).astype(jnp.int32)
  return batch


def init_params(model: nn.Module, cfg: ModelConfig, rng) -> Any:
  """Freshly initialised parameters for `model` (traced once on a 2-example batch, jitted)."""
  batch = example_batch(cfg, jax.random.key(0), 2, with_label=False)
  return jax.jit(lambda r: model.init({"params": r}, batch, train=False)["params"])(rng)
