"""The model configuration, at the bottom of the stack: `ModelConfig`, the presets, overrides and JSON.

Nothing here imports another zoo module but `zoo.tokenizer` (for the vocabulary size), nor JAX at import
time: the CLI can parse and check a configuration before it pays for loading JAX.

    cfg = ModelConfig(fusion="GMU")                      # or preset("tiny").replace(...)
    cfg = parse_override(cfg, "width=32")                # one `--config FIELD=VALUE`
    config_from_json(config_to_json(cfg)) == cfg
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

from zoo import tokenizer

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
    """`dtype` as a JAX dtype (JAX is imported here, on first use, not with this module)."""
    import jax.numpy as jnp
    return jnp.dtype(self.dtype)

  def replace(self, **changes) -> ModelConfig:
    """A copy with some fields changed."""
    return dataclasses.replace(self, **changes)


# A tiny config for tests and smoke runs: everything compiles in seconds.
TINY = ModelConfig(width=16, depth=1, heads=2, mlp_dim=32, num_classes=3, text_len=8, image_size=16,
                   patch_size=8, audio_len=1600, n_mels=16, embed_dim=16, decoder_depth=1, target_len=6)

# The one preset table (`--preset NAME` of `zoo infer` and `zoo train`'s model part).
PRESETS: dict[str, ModelConfig] = {"default": ModelConfig(), "tiny": TINY}


def preset(name: str) -> ModelConfig:
  """The named config of `PRESETS`: "default" (ModelConfig()) or "tiny" (TINY)."""
  if name not in PRESETS:
    raise KeyError(f"no preset {name!r}; choose one of {sorted(PRESETS)}")
  return PRESETS[name]


def config_to_json(cfg: Any) -> str:
  """Any config dataclass (ModelConfig, zoo.train's TrainConfig) as JSON: sorted keys, tuples as lists."""
  return json.dumps(dataclasses.asdict(cfg), indent=2, sort_keys=True)


def config_from_json(text: str) -> ModelConfig:
  """Inverse of `config_to_json` for a ModelConfig; unknown keys are an error, missing ones take the defaults."""
  d = json.loads(text)
  d["modalities"] = tuple(d.get("modalities", MODALITIES))
  d["fusion_kwargs"] = tuple(tuple(kv) for kv in d.get("fusion_kwargs", ()))
  return ModelConfig(**d)


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
