"""Every configuration, at the bottom of the stack: `ModelConfig`, `DataConfig` (the synthetic task),
`TrainConfig` (a training run), the one preset table of `zoo infer` and `zoo train`, overrides and JSON.

Nothing here imports another zoo module but `zoo.tokenizer` (for the vocabulary size), nor JAX at import
time: the CLI parses and checks `--preset` and every `--config FIELD=VALUE` before it pays for loading JAX.

    cfg = ModelConfig(fusion="GMU")                      # or preset("tiny").replace(...)
    cfg = parse_override(cfg, "width=32")                # one `--config FIELD=VALUE`
    config_from_json(config_to_json(cfg)) == cfg
    run = parse_train_override(PRESETS["cpu"], "data.misalign=false")
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from zoo import tokenizer

MODALITIES = ("text", "image", "audio")
VOWELS = "aeiou"  # the synthetic task's vowels (zoo.data)
NUM_CLASSES = 4  # the synthetic task's classes: label = 2·(t XOR i) + a (zoo.data)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
  """Everything a model's shape depends on (defaults: a small model that trains on a CPU)."""

  # Transformer widths, shared by every encoder, the fusion transformer and the decoder.
  width: int = 64
  depth: int = 2  # encoder blocks per modality (and in the alignment fusion transformer)
  heads: int = 4
  mlp_dim: int = 128
  dropout: float = 0.0
  num_classes: int = 10
  # Text (zoo.tokenizer: byte ids; 0 = pad).
  vocab_size: int = tokenizer.VOCAB_SIZE
  text_len: int = 32  # max text tokens (learned positions)
  # Image (ViT patches).
  image_size: int = 32
  image_channels: int = 3
  patch_size: int = 8
  # Audio (raw waveform -> log-mel; 25 ms windows, 10 ms hop at 16 kHz, as Whisper).
  audio_len: int = 16000  # samples per clip
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
  embed_dim: int = 64  # the shared (contrastive) space
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


# A tiny model for tests and smoke runs: everything compiles in seconds (also the "tiny" preset's model).
TINY = ModelConfig(
  width=16,
  depth=1,
  heads=2,
  mlp_dim=32,
  num_classes=3,
  text_len=8,
  image_size=16,
  patch_size=8,
  audio_len=1600,
  n_mels=16,
  embed_dim=16,
  decoder_depth=1,
  target_len=6,
)


@dataclasses.dataclass(frozen=True)
class DataConfig:
  """Shapes and difficulty of the synthetic task."""

  text_len: int = 12  # Lt, tokens incl. padding; needs ≥ 3·max_syllables
  min_syllables: int = 2  # even: half the tone marks high, half low
  max_syllables: int = 4
  vowels: int = 4  # how many of "aeiou", pitched geometrically from f_low to f_high
  image_size: int = 16  # H = W
  image_noise: float = 0.15
  audio_len: int = 8000  # S samples (0.5 s)
  sample_rate: int = 16_000
  voiced: float = 0.7  # fraction of a token's slot that sounds; the rest is silence
  f_low: float = 300.0  # the vowels' pitches
  f_high: float = 2400.0
  whistles: tuple[float, float] = (3200.0, 4800.0)  # low and high tone marks, in Hz
  audio_noise: float = 0.1
  stretch: tuple[float, float] = (0.5, 1.0)  # the fraction of the clip a misaligned reading fills
  misalign: bool = True  # False: every reading fills the clip (on the text's clock)

  def __post_init__(self):
    if self.text_len < 3 * self.max_syllables:
      raise ValueError(f"text_len {self.text_len} < 3·max_syllables = {3 * self.max_syllables}")
    if self.min_syllables % 2 or self.max_syllables % 2 or not 2 <= self.min_syllables <= self.max_syllables:
      raise ValueError("min_syllables and max_syllables must be even, 2 <= min <= max")
    if not 2 <= self.vowels <= len(VOWELS):
      raise ValueError(f"vowels must be in [2, {len(VOWELS)}]")
    if not 0 < self.stretch[0] <= self.stretch[1] <= 1:
      raise ValueError(f"stretch {self.stretch}: need 0 < low <= high <= 1 (the reading stays in the clip)")
    hz = np.concatenate([self.pitches, self.whistles])
    gaps = np.abs(np.log(hz[:, None] / hz[None, :])) + np.eye(len(hz))
    if hz.max() >= self.sample_rate / 2 or gaps.min() < 0.1:
      raise ValueError("vowel pitches and whistles must be 10% apart and below the Nyquist frequency")

  @property
  def pitches(self) -> np.ndarray:
    """Each vowel's pitch in Hz, [vowels]."""
    return self.f_low * (self.f_high / self.f_low) ** (np.arange(self.vowels) / (self.vowels - 1))


@dataclasses.dataclass(frozen=True)
class TrainConfig:
  """One training run (zoo.train): which model, its sizes, the task, and the optimisation."""

  model: str = "parallel"  # zoo.models.MODELS: parallel | serial | alignment | unimodal
  # Sizes and choices of the model (fusion, modalities, align). Its shape fields (text_len,
  # image_size, audio_len, sample_rate, num_classes) are overwritten from `data` by `model_config`.
  model_cfg: ModelConfig = ModelConfig(
    width=32, depth=1, heads=2, mlp_dim=64, embed_dim=32, patch_size=8, n_fft=200, hop=80, n_mels=24, fusion="LMF"
  )
  data: DataConfig = DataConfig()
  seed: int = 0  # parameters, dropout and the training data stream
  steps: int = 600
  batch_size: int = 32
  # Peak of the warmup-cosine schedule. 3e-3 let the alignment model learn only one of the label's
  # two bits (t XOR i, or a) and stall at 50% for 1500 steps; 1e-3 learns both (docs/results.md).
  learning_rate: float = 1e-3
  warmup_steps: int = 50
  weight_decay: float = 1e-4  # adamw's decoupled decay
  grad_clip: float = 1.0  # global-norm clipping before adamw
  contrastive_weight: float = 0.1  # × aux["contrastive_loss"] where a model returns one
  eval_every: int = 100
  eval_size: int = 512  # held-out examples (split "eval", the same for every seed)
  checkpoint_every: int = 200


def model_config(cfg: TrainConfig) -> ModelConfig:
  """The model a run trains: its model_cfg with the shapes taken from the data, so the two cannot disagree."""
  d = cfg.data
  return cfg.model_cfg.replace(
    text_len=d.text_len,
    image_size=d.image_size,
    audio_len=d.audio_len,
    sample_rate=d.sample_rate,
    num_classes=NUM_CLASSES,
  )


# The one preset table of `zoo infer --preset` and `zoo train --preset` (issue 15 merged infer's two
# model presets and train's three run presets). Each is a TrainConfig: `zoo train` runs it; `zoo infer`
# builds its `model_cfg` as it stands (`preset(name)`), so "default" and "tiny" give infer the same models
# as before. A trained model's own shapes (those `model_config` takes from the data) reach `infer`
# through the model_config.json beside its checkpoint.
#   default  ModelConfig() (infer's default model) with the run settings of cpu;
#   tiny     TINY (tests, the results script's --smoke): compiles in seconds, learns nothing much;
#   cpu      the results table's configuration (docs/results.md), a few hundred steps on 2 CPU cores
#            (`zoo train`'s default);
#   gpu      a larger model on longer, finer inputs for one accelerator (documented, not run here).
PRESETS: dict[str, TrainConfig] = {
  "default": TrainConfig(model_cfg=ModelConfig()),
  "tiny": TrainConfig(
    model_cfg=TINY,
    data=DataConfig(text_len=6, max_syllables=2, audio_len=1600),
    steps=6,
    batch_size=8,
    warmup_steps=2,
    eval_every=3,
    eval_size=16,
    checkpoint_every=2,
  ),
  "cpu": TrainConfig(),
  "gpu": TrainConfig(
    model_cfg=ModelConfig(
      width=128, depth=2, heads=4, mlp_dim=256, embed_dim=128, patch_size=4, n_fft=200, hop=80, n_mels=40
    ),
    data=DataConfig(text_len=24, max_syllables=8, image_size=32, audio_len=16_000),
    steps=3000,
    batch_size=256,
    learning_rate=1e-3,
    warmup_steps=300,
    eval_every=500,
    eval_size=4096,
    checkpoint_every=500,
  ),
}


def train_preset(name: str) -> TrainConfig:
  """The named run of `PRESETS` (KeyError naming the choices)."""
  if name not in PRESETS:
    raise KeyError(f"no preset {name!r}; choose one of {', '.join(PRESETS)}")
  return PRESETS[name]


def preset(name: str) -> ModelConfig:
  """The model `zoo infer --preset name` builds: that preset's model_cfg ("default": ModelConfig(), "tiny": TINY)."""
  return train_preset(name).model_cfg


def config_to_json(cfg: Any) -> str:
  """Any config dataclass (ModelConfig, zoo.train's TrainConfig) as JSON: sorted keys, tuples as lists."""
  return json.dumps(dataclasses.asdict(cfg), indent=2, sort_keys=True)


def config_from_json(text: str) -> ModelConfig:
  """Inverse of `config_to_json` for a ModelConfig; unknown keys are an error, missing ones take the defaults."""
  d = json.loads(text)
  d["modalities"] = tuple(d.get("modalities", MODALITIES))
  d["fusion_kwargs"] = tuple(tuple(kv) for kv in d.get("fusion_kwargs", ()))
  return ModelConfig(**d)


def _value(item: str, key: str, current: Any, raw: str) -> Any:
  """`raw` as the type of the field's current value; a ValueError naming the field and its type otherwise."""
  if isinstance(current, bool):
    if raw.lower() not in ("true", "false", "1", "0"):
      raise ValueError(f"--config {item!r}: {key} is true or false")
    return raw.lower() in ("true", "1")
  if isinstance(current, (int, float)):
    kind = type(current).__name__
    try:
      return type(current)(raw)
    except ValueError:
      raise ValueError(f"--config {item!r}: {key} takes {'an' if kind == 'int' else 'a'} {kind}") from None
  if isinstance(current, tuple) and current and all(isinstance(v, float) for v in current):  # data.stretch
    try:
      return tuple(float(v) for v in raw.split(","))
    except ValueError:
      raise ValueError(f"--config {item!r}: {key} takes comma-separated numbers") from None
  return raw


def parse_override(cfg: ModelConfig, item: str) -> ModelConfig:
  """Apply one "field=value" (ints, floats, bools, strings, comma-separated tuples) to `cfg`."""
  key, sep, raw = item.partition("=")
  fields = {f.name: f for f in dataclasses.fields(ModelConfig)}
  if not sep or key not in fields:
    raise ValueError(f"--config {item!r}: expected FIELD=VALUE with FIELD one of {sorted(fields)}")
  if key == "modalities":
    value: Any = tuple(s.strip() for s in raw.split(",") if s.strip())
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
    value = _value(item, key, getattr(cfg, key), raw)
  return cfg.replace(**{key: value})


def parse_train_override(cfg: TrainConfig, item: str) -> TrainConfig:
  """One `zoo train --config FIELD=VALUE`: a TrainConfig field, a ModelConfig field or data.FIELD."""
  key, sep, raw = item.partition("=")
  scalars = {f.name for f in dataclasses.fields(TrainConfig)} - {"model_cfg", "data"}
  data_fields = {f.name for f in dataclasses.fields(DataConfig)}
  model_fields = {f.name for f in dataclasses.fields(ModelConfig)}
  if sep and key in model_fields:
    return dataclasses.replace(cfg, model_cfg=parse_override(cfg.model_cfg, item))
  target, name = (cfg.data, key[5:]) if key.startswith("data.") else (cfg, key)
  if not sep or (target is cfg and name not in scalars) or (target is cfg.data and name not in data_fields):
    raise ValueError(
      f"--config {item!r}: expected FIELD=VALUE with FIELD a TrainConfig field "
      f"({', '.join(sorted(scalars))}), a ModelConfig field ({', '.join(sorted(model_fields))}) "
      f"or data.FIELD ({', '.join(sorted(data_fields))})"
    )
  value = _value(item, key, getattr(target, name), raw)
  if target is cfg:
    return dataclasses.replace(cfg, **{name: value})
  return dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, **{name: value}))


# `zoo train`'s older flags, shorthands for --config: flag attribute -> TrainConfig field.
TRAIN_FLAGS = (
  "model",
  "steps",
  "seed",
  "batch_size",
  "learning_rate",
  "warmup_steps",
  "weight_decay",
  "grad_clip",
  "contrastive_weight",
  "eval_every",
  "eval_size",
  "checkpoint_every",
)


def train_config_from_args(args) -> TrainConfig:
  """`zoo train`'s configuration: the preset, then its shorthand flags, then every --config (no JAX)."""
  cfg = train_preset(args.preset)
  mcfg = cfg.model_cfg
  for field in ("fusion", "align"):
    if getattr(args, field, None) is not None:
      mcfg = mcfg.replace(**{field: getattr(args, field)})
  if getattr(args, "modalities", None) is not None:
    mcfg = mcfg.replace(modalities=tuple(m.strip() for m in args.modalities.split(",") if m.strip()))
  changes = {f: getattr(args, f) for f in TRAIN_FLAGS if getattr(args, f, None) is not None}
  data = dataclasses.replace(cfg.data, misalign=False) if getattr(args, "aligned", False) else cfg.data
  cfg = dataclasses.replace(cfg, model_cfg=mcfg, data=data, **changes)
  for item in getattr(args, "config", None) or ():
    cfg = parse_train_override(cfg, item)
  return cfg
