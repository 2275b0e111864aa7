"""Every zoo method by name: `python -m zoo list` prints this catalog."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass(frozen=True)
class Entry:
  name: str  # registry key, e.g. "fusion/gmu"
  family: str  # "attention", "fusion", "alignment", "encoder", "architecture", ...
  paper: str  # "Arevalo et al. 2017, Gated Multimodal Units for Information Fusion"
  shapes: str  # "x_a [B, d_a], x_b [B, d_b] -> [B, o]"
  obj: Any  # the function or the flax.linen.Module class


_REGISTRY: dict[str, Entry] = {}


def register(name: str, *, family: str, paper: str, shapes: str) -> Callable[[Any], Any]:
  """Decorator that files a function or Module class under `name`."""

  def wrap(obj):
    if name in _REGISTRY and _REGISTRY[name].obj is not obj:
      raise ValueError(f"zoo method {name!r} is registered twice")
    _REGISTRY[name] = Entry(name, family, paper, shapes, obj)
    return obj

  return wrap


# The modules that hold registered methods, and only those: `get` and `entries` import them, never the
# rest of the package (training, checkpoints, image I/O, the CLI). tests/zoo/test_layering.py checks
# that every module with an `@register` is listed here.
METHOD_MODULES = (
  "zoo.attention",
  "zoo.audio",
  "zoo.align.features",
  "zoo.align.space",
  "zoo.align.time",
  "zoo.fusion.basic",
  "zoo.fusion.gating",
  "zoo.fusion.tensor",
  "zoo.fusion.tokens",
  "zoo.encoders",
  "zoo.architectures",
  "zoo.encdec",
)


def _load_all() -> None:
  """Import the method modules, which runs their @register decorators."""
  import importlib

  for name in METHOD_MODULES:
    importlib.import_module(name)


def get(name: str) -> Any:
  """The registered object called `name`."""
  _load_all()
  try:
    return _REGISTRY[name].obj
  except KeyError:
    raise KeyError(f"no zoo method {name!r}; `python -m zoo list` shows them all") from None


def entries(family: str | None = None) -> list[Entry]:
  """All entries, sorted by name, optionally of one family."""
  _load_all()
  return sorted((e for e in _REGISTRY.values() if family in (None, e.family)), key=lambda e: e.name)
