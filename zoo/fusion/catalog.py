"""Fusions by name, built and applied the same way by every architecture: `make_fusion`, `fuse`.

Reads only what each fusion class declares (zoo.fusion.base.Fusion): its input kind, arity, whether it
needs aligned sequences, and which constructor fields take the model's shared sizes.
"""

from __future__ import annotations

from zoo import registry
from zoo.config import ModelConfig
from zoo.fusion.base import Fusion
from zoo.layers import masked_mean

ALIGNED_REASON = "needs streams of one length on one clock; the alignment model uses it after aligning"


def fusion_names(kind: str | None = None) -> list[str]:
  """Registered fusion Modules, optionally of one kind ("pooled" | "tokens")."""
  out = []
  for e in registry.entries("fusion"):
    if isinstance(e.obj, type) and issubclass(e.obj, Fusion) and kind in (None, e.obj.input_kind):
      out.append(e.name)
  return out


def fusion_class(fusion_name: str) -> type[Fusion]:
  """The catalog fusion Module called `fusion_name` (ValueError naming the choices otherwise)."""
  try:
    cls = registry.get(fusion_name)
  except KeyError:
    cls = None
  if not (isinstance(cls, type) and issubclass(cls, Fusion)):
    raise ValueError(f"{fusion_name!r} is not a fusion Module; choose one of {fusion_names()}")
  return cls


def fusion_arity(fusion_name: str) -> int | None:
  """How many modalities the fusion takes (None: any number from 2 up)."""
  return fusion_class(fusion_name).num_modalities


def make_fusion(cfg: ModelConfig, fusion_name: str, *, name: str = "fusion") -> Fusion:
  """The catalog Module `fusion_name`, its `config_fields` filled from `cfg`.

  Every other field keeps the fusion's own default; cfg.fusion_kwargs (pairs, e.g. (("rank", 8),) for
  LMF) override, for cfg.fusion only.
  """
  cls = fusion_class(fusion_name)
  kwargs = {field: getattr(cfg, attr) for field, attr in cls.config_fields.items()}
  if fusion_name == cfg.fusion:
    kwargs.update(dict(cfg.fusion_kwargs))
  return cls(**kwargs, name=name)


def fuse(fusion: Fusion, enc: dict[str, dict]):
  """Apply a catalog fusion to encoder outputs: (pooled vector [B, d], fused tokens or None, their mask).

  A token fusion's output is pooled by the masked mean over the tokens its own `output_mask` calls real.
  """
  mods = list(enc)
  if fusion.input_kind == "pooled":
    return fusion([enc[m]["pooled"] for m in mods]), None, None
  xs, masks = [enc[m]["tokens"] for m in mods], [enc[m]["mask"] for m in mods]
  fused_BxLxD = fusion(xs, masks)
  mask_BxL = fusion.output_mask(xs, masks)
  return masked_mean(fused_BxLxD, mask_BxL), fused_BxLxD, mask_BxL
