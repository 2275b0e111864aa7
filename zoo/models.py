"""Models by name with one frozen config: `build(name, cfg)`, `init_params`, `example_batch`, `load_params`.

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

import dataclasses
import json
import os
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from zoo import tokenizer
from zoo.architectures import AlignmentModel, ParallelModel, SerialModel, UnimodalModel
from zoo.encdec import EncoderDecoder

MODALITIES = ("text", "image", "audio")


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Everything a model's shape depends on (defaults: a small model that trains on a CPU)."""
  # Transformer widths, shared by every encoder, the fusion transformer and the decoder.
  width: int = 64
  depth: int = 2                 # encoder blocks per modality (and in the alignment fusion transformer)
  heads: int = 4
  mlp_dim: int = 128
  dropout: float = 0.0
  num_classes: int = 10
  # Text (zoo.tokenizer: byte ids; 0 = pad).
  vocab_size: int = tokenizer.VOCAB_SIZE
  text_len: int = 32             # max text tokens (learned positions)
  # Image (ViT patches).
  image_size: int = 32
  image_channels: int = 3
  patch_size: int = 8
  # Audio (raw waveform -> log-mel; 25 ms windows, 10 ms hop at 16 kHz, as Whisper).
  audio_len: int = 16000         # samples per clip
  sample_rate: int = 16000
  n_fft: int = 400
  hop: int = 160
  n_mels: int = 40
  # Which modalities the model reads; unimodal baselines use one, e.g. ("text",).
  modalities: tuple[str, ...] = MODALITIES
  # Parallel: the catalog fusion by name (`python -m zoo list --family fusion`), and extra fields for it
  # (used only where cfg.fusion is built; align_fusion and memory get the shared widths alone).
  fusion: str = "LateConcat"
  fusion_kwargs: tuple[tuple[str, Any], ...] = ()
  # Alignment: "interp" | "dtw" | "soft_dtw" onto the text clock, the early token fusion, the CLIP loss.
  align: str = "interp"
  soft_dtw_gamma: float = 0.1
  align_fusion: str = "EarlyConcat"
  contrastive: bool = True
  embed_dim: int = 64            # the shared (contrastive) space
  # Encoder-decoder: "concat" or a token fusion building the memory; decoder depth; max target tokens.
  memory: str = "concat"
  decoder_depth: int = 2
  target_len: int = 16
  # Computation dtype ("float32" | "bfloat16"); parameters stay float32 (Flax's param_dtype).
  dtype: str = "float32"

  def __post_init__(self):
    bad = [m for m in self.modalities if m not in MODALITIES]
    if bad or not self.modalities or len(set(self.modalities)) != len(self.modalities):
      raise ValueError(f"modalities={self.modalities}: each of {MODALITIES}, at least one, no repeats")
    if self.image_size % self.patch_size:
      raise ValueError(f"image_size={self.image_size} is not a multiple of patch_size={self.patch_size}")
    if self.audio_len < self.n_fft:
      raise ValueError(f"audio_len={self.audio_len} is shorter than one frame (n_fft={self.n_fft})")

  @property
  def compute_dtype(self):
    return jnp.dtype(self.dtype)

  def replace(self, **changes) -> "ModelConfig":
    """A copy with some fields changed."""
    return dataclasses.replace(self, **changes)


# A tiny config for tests and smoke runs: everything compiles in seconds.
TINY = ModelConfig(width=16, depth=1, heads=2, mlp_dim=32, num_classes=3, text_len=8, image_size=16,
                   patch_size=8, audio_len=1600, n_mels=16, embed_dim=16, decoder_depth=1, target_len=6)

MODELS: dict[str, type[nn.Module]] = {
    "parallel": ParallelModel,     # encoders side by side + late fusion by cfg.fusion
    "serial": SerialModel,         # image/audio encoders -> projector -> text transformer (LLaVA-style)
    "alignment": AlignmentModel,   # align onto the text clock (+ contrastive space), fuse early
    "unimodal": UnimodalModel,     # one modality, cfg.modalities = (m,)
    "encdec": EncoderDecoder,      # fused memory -> causal decoder; batch["target"] for training
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


def save_params(path: str, params: Any) -> None:
  """Write {"params": params} with orbax's StandardCheckpointer (the training engineer's format)."""
  import orbax.checkpoint as ocp
  with ocp.StandardCheckpointer() as ckpt:
    ckpt.save(os.path.abspath(path), {"params": params})


def checkpoint_dir(path: str) -> str:
  """The orbax item directory under `path`: itself, or zoo.train's `<workdir>/checkpoints/<latest step>/default`.

  Accepts a training workdir, its `checkpoints/` folder, one `checkpoints/<step>/` folder, or the item
  directory itself (what `save_params` writes).
  """
  path = os.path.abspath(path)
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  steps = [int(d) for d in os.listdir(path) if d.isdigit()] if os.path.isdir(path) else []
  if steps:
    path = os.path.join(path, str(max(steps)))
  if os.path.isdir(os.path.join(path, "default")):
    path = os.path.join(path, "default")
  return path


def load_params(path: str) -> Any:
  """The "params" of an orbax StandardCheckpointer checkpoint of {"params": ..., ...} (see `checkpoint_dir`)."""
  import orbax.checkpoint as ocp
  path = checkpoint_dir(path)
  with ocp.StandardCheckpointer() as ckpt:
    restored = ckpt.restore(path)
  if not isinstance(restored, dict) or "params" not in restored:
    raise ValueError(f"{path}: expected a checkpoint of {{'params': ...}}, found keys "
                     f"{list(restored) if isinstance(restored, dict) else type(restored).__name__}")
  return jax.tree.map(jnp.asarray, restored["params"])


MODEL_CONFIG_FILE = "model_config.json"  # beside a checkpoint: the ModelConfig it was trained with


def config_to_json(cfg: ModelConfig) -> str:
  """The config as JSON (tuples become lists)."""
  return json.dumps(dataclasses.asdict(cfg), indent=2, sort_keys=True)


def config_from_json(text: str) -> ModelConfig:
  """Inverse of `config_to_json`; unknown keys are an error, missing ones take the defaults."""
  d = json.loads(text)
  d["modalities"] = tuple(d.get("modalities", MODALITIES))
  d["fusion_kwargs"] = tuple(tuple(kv) for kv in d.get("fusion_kwargs", ()))
  return ModelConfig(**d)


def find_model_config(path: str) -> str | None:
  """`MODEL_CONFIG_FILE` in `path` or up to three folders above it (a step folder sits under a workdir)."""
  path = os.path.abspath(path)
  for _ in range(4):
    candidate = os.path.join(path, MODEL_CONFIG_FILE)
    if os.path.isfile(candidate):
      return candidate
    path = os.path.dirname(path)
  return None


def parse_override(cfg: ModelConfig, item: str) -> ModelConfig:
  """Apply one "field=value" (ints, floats, bools, strings, comma-separated tuples) to `cfg`."""
  key, sep, raw = item.partition("=")
  fields = {f.name: f for f in dataclasses.fields(ModelConfig)}
  if not sep or key not in fields:
    raise ValueError(f"--config {item!r}: expected FIELD=VALUE with FIELD one of {sorted(fields)}")
  current = getattr(cfg, key)
  if isinstance(current, bool):
    if raw.lower() not in ("true", "false", "1", "0"):
      raise ValueError(f"--config {item!r}: {key} is true or false")
    value: Any = raw.lower() in ("true", "1")
  elif isinstance(current, int):
    value = int(raw)
  elif isinstance(current, float):
    value = float(raw)
  elif key == "modalities":
    value = tuple(s.strip() for s in raw.split(",") if s.strip())
  elif key == "fusion_kwargs":  # name:value,name:value with int/float/str values
    pairs = []
    for kv in filter(None, raw.split(",")):
      k, _, v = kv.partition(":")
      for conv in (int, float):
        try:
          v = conv(v)
          break
        except ValueError:
          pass
      pairs.append((k, v))
    value = tuple(pairs)
  else:
    value = raw
  return cfg.replace(**{key: value})


def preset(name: str) -> ModelConfig:
  """Named configs: "default" (ModelConfig()) and "tiny" (TINY)."""
  presets = {"default": ModelConfig(), "tiny": TINY}
  if name not in presets:
    raise KeyError(f"no preset {name!r}; choose one of {sorted(presets)}")
  return presets[name]
