"""Every zoo method by name: `python -m zoo list` prints this catalog."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class Entry:
  name: str      # registry key, e.g. "fusion/gmu"
  family: str    # "attention", "fusion", "alignment", "encoder", "architecture", ...
  paper: str     # "Arevalo et al. 2017, Gated Multimodal Units for Information Fusion"
  shapes: str    # "x_a [B, d_a], x_b [B, d_b] -> [B, o]"
  obj: Any       # the function or the flax.linen.Module class


_REGISTRY: dict[str, Entry] = {}


def register(name: str, *, family: str, paper: str, shapes: str) -> Callable[[Any], Any]:
  """Decorator that files a function or Module class under `name`."""
  def wrap(obj):
    if name in _REGISTRY and _REGISTRY[name].obj is not obj:
      raise ValueError(f"zoo method {name!r} is registered twice")
    _REGISTRY[name] = Entry(name, family, paper, shapes, obj)
    return obj
  return wrap


def _load_all() -> None:
  # Importing the method files runs their @register decorators.
  import importlib
  import pkgutil
  import zoo
  for m in pkgutil.walk_packages(zoo.__path__, "zoo."):
    if m.name.split(".")[-1].startswith("_") or m.name in _SKIP:
      continue
    importlib.import_module(m.name)


_SKIP = {"zoo.registry"}


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
