"""The zoo's layering (issue 15): no import cycle, imports only downwards, a registry that loads only methods.

The layers are the ones docs/ARCHITECTURE.md lists, read from its table, so the page and the code cannot
drift apart: every module must be listed, and every import (module-level, inside functions, or under
`if TYPE_CHECKING:`, which hides a cycle at run time but not from `typing.get_type_hints`) goes to a module
of the same layer or below, with no cycle.
"""

import ast
import dataclasses
import json
import os
import re
import subprocess
import sys
import typing

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from zoo import config, encoders, registry
from zoo.fusion import base, catalog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ZOO = os.path.join(ROOT, "zoo")


def _modules() -> dict[str, str]:
  """Dotted module name -> path, for every .py under zoo/ except empty package markers."""
  out = {}
  for folder, _, files in os.walk(ZOO):
    for f in files:
      if not f.endswith(".py"):
        continue
      path = os.path.join(folder, f)
      rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
      if f == "__init__.py":
        if not open(path).read().strip():
          continue
        rel = rel[: -len(".__init__")]
      out[rel] = path
  return out


MODULES = _modules()


def _imports(path: str) -> set[str]:
  """Every zoo module `path` imports, anywhere in the file (functions and TYPE_CHECKING blocks included)."""
  out = set()
  for node in ast.walk(ast.parse(open(path).read(), path)):
    if isinstance(node, ast.Import):
      names = [a.name for a in node.names]
    elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
      # `from zoo import train` imports zoo.train; `from zoo.layers import X` imports zoo.layers.
      names = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
    else:
      continue
    for n in names:
      while n and n not in MODULES and "." in n:
        n = n.rsplit(".", 1)[0]
      if n in MODULES:
        out.add(n)
  return out


GRAPH = {m: _imports(p) - {m} for m, p in MODULES.items()}


def _doc_layers() -> dict[str, int]:
  text = open(os.path.join(ROOT, "docs", "ARCHITECTURE.md")).read()
  rows = re.findall(r"^\| `(zoo/[\w/]+\.py)` \| (\d) \|", text, re.M)
  return {p[:-3].replace("/", "."): int(layer) for p, layer in rows}


def test_import_graph_has_no_cycle():
  """Depth-first search over every import, type-only and function-level included."""
  state: dict[str, int] = {}  # 1 = on the stack, 2 = done

  def visit(m, stack):
    state[m] = 1
    for n in sorted(GRAPH[m]):
      if state.get(n) == 1:
        cycle = stack[stack.index(n) :] + [n]
        pytest.fail("import cycle: " + " -> ".join(cycle))
      if n not in state:
        visit(n, stack + [n])
    state[m] = 2

  for m in sorted(GRAPH):
    if m not in state:
      visit(m, [m])


def test_cycle_finder_sees_type_only_and_function_imports(tmp_path):
  """The scanner is not blind to the imports that hid the old cycle (`if TYPE_CHECKING:`) or to lazy ones."""
  src = tmp_path / "m.py"
  src.write_text(
    "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n  from zoo.models import ModelConfig\n"
    "def f():\n  from zoo import train\n"
  )
  assert _imports(str(src)) == {"zoo.models", "zoo.train"}


def test_architecture_page_lists_every_module_with_its_layer():
  layers = _doc_layers()
  assert set(layers) == set(MODULES), (
    f"docs/ARCHITECTURE.md misses {sorted(set(MODULES) - set(layers))}, "
    f"lists absent {sorted(set(layers) - set(MODULES))}"
  )


def test_imports_go_down_the_layers():
  layers = _doc_layers()
  upward = [
    f"{m} (layer {layers[m]}) imports {n} (layer {layers[n]})"
    for m, ns in GRAPH.items()
    for n in ns
    if layers[n] > layers[m]
  ]
  assert not upward, upward


def test_registry_lists_every_module_that_registers():
  """METHOD_MODULES is complete: every module using @register is loaded by `registry.get`."""
  registering = {
    m for m, p in MODULES.items() if m != "zoo.registry" and re.search(r"^@register\(", open(p).read(), re.M)
  }
  assert registering == set(registry.METHOD_MODULES)


def _fresh(code: str) -> dict:
  out = subprocess.run(
    [sys.executable, "-c", code],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=120,
    env={**os.environ, "PYTHONPATH": ROOT},
  )
  assert out.returncode == 0, out.stderr
  return json.loads(out.stdout.strip().splitlines()[-1])


def test_registry_get_imports_only_method_modules():
  """A fresh process looking one method up loads no training, checkpoint, image I/O, data or CLI code."""
  mods = _fresh(
    "import json, sys\nfrom zoo import registry\nregistry.get('ImageEncoder')\nregistry.entries()\n"
    "print(json.dumps(sorted(sys.modules)))"
  )
  zoo_loaded = {m for m in mods if m.startswith("zoo.")}
  allowed = set(registry.METHOD_MODULES) | {
    "zoo.registry",
    "zoo.config",
    "zoo.tokenizer",
    "zoo.layers",
    "zoo.fusion.base",
    "zoo.fusion.catalog",
    "zoo.align",
    "zoo.fusion",
  }
  assert zoo_loaded <= allowed, sorted(zoo_loaded - allowed)
  assert "zoo.encoders" in zoo_loaded  # the lookup did load the method
  assert not [m for m in mods if m.split(".")[0] in ("orbax", "PIL", "tqdm")]


def test_config_module_loads_without_jax():
  """The CLI can read and check a configuration before paying for JAX."""
  mods = _fresh(
    "import json, sys\nfrom zoo import config\nc = config.parse_override(config.TINY, 'width=8')\n"
    "config.config_from_json(config.config_to_json(c))\nprint(json.dumps(sorted(sys.modules)))"
  )
  assert not [m for m in mods if m.split(".")[0] in ("jax", "flax")]


def _classes():
  for m in sorted(MODULES):
    if m.endswith("__main__"):
      continue
    mod = __import__(m, fromlist=["_"])
    for obj in vars(mod).values():
      if isinstance(obj, type) and obj.__module__ == m:
        yield obj


def test_every_class_has_resolvable_type_hints():
  """`typing.get_type_hints` works on every class of the zoo (it failed on TextEncoder before)."""
  for cls in _classes():
    typing.get_type_hints(cls)
  assert typing.get_type_hints(encoders.TextEncoder)["width"] is int


def test_encoders_stand_alone_with_the_config_defaults():
  """`registry.get("ImageEncoder")(width=8)` works, as docs/ARCHITECTURE.md promises."""
  enc = registry.get("ImageEncoder")(width=8)
  out, _ = enc.init_with_output(jax.random.key(0), jnp.zeros((1, 16, 16, 3)))
  assert out["tokens"].shape == (1, 4, 8) and out["pooled"].shape == (1, 8)
  default = config.ModelConfig()
  for cls in (encoders.TextEncoder, encoders.ImageEncoder, encoders.AudioEncoder):
    for f in dataclasses.fields(cls):
      if hasattr(default, f.name) and f.name != "dtype":
        assert f.default == getattr(default, f.name), (cls.__name__, f.name)


def test_make_encoder_copies_every_shared_field_from_the_config():
  cfg = config.TINY.replace(dropout=0.25, dtype="bfloat16", n_fft=256, hop=128, vocab_size=300)
  for m, cls in encoders.ENCODERS.items():
    enc = encoders.make_encoder(cfg, m)
    assert type(enc) is cls and enc.name == f"{m}_encoder"
    for f in dataclasses.fields(cls):
      if f.name == "dtype":
        assert enc.dtype == jnp.bfloat16
      elif hasattr(cfg, f.name):
        assert getattr(enc, f.name) == getattr(cfg, f.name), (m, f.name)
  with pytest.raises(ValueError, match="smell"):
    encoders.make_encoder(cfg, "smell")


def test_fusion_metadata_lives_on_the_classes():
  names = catalog.fusion_names()
  assert len(names) >= 15
  model_attrs = {f.name for f in dataclasses.fields(config.ModelConfig)} | {"compute_dtype"}
  for name in names:
    cls = registry.get(name)
    assert issubclass(cls, base.Fusion) and cls.input_kind in ("pooled", "tokens")
    fields = {f.name for f in dataclasses.fields(cls)}
    assert set(cls.config_fields) <= fields, (name, set(cls.config_fields) - fields)
    assert set(cls.config_fields.values()) <= model_attrs, name
    assert cls.num_modalities in (None, 2)
  assert catalog.fusion_arity("CoAttention") == 2 and catalog.fusion_arity("GMU") is None
  assert [n for n in names if registry.get(n).needs_aligned] == ["EarlyConcat"]
  assert catalog.fusion_names("tokens") == sorted(n for n in names if registry.get(n).input_kind == "tokens")
  # Every registered fusion Module is a Fusion (nothing is left out of the catalog by a missing base class).
  for e in registry.entries("fusion"):
    if isinstance(e.obj, type) and issubclass(e.obj, nn.Module):
      assert e.name in names


def test_make_fusion_fills_declared_fields_only():
  cfg = config.TINY.replace(
    width=24, heads=3, mlp_dim=40, fusion="PerceiverFusion", fusion_kwargs=(("num_latents", 5),)
  )
  p = catalog.make_fusion(cfg, "PerceiverFusion")
  assert (p.features, p.num_heads, p.mlp_dim, p.num_latents) == (24, 3, 40, 5)
  assert p.cross_heads == 1  # a head count the config does not own keeps the fusion's default
  film = catalog.make_fusion(cfg, "FiLM")
  assert film.dtype == jnp.float32 and not hasattr(film, "features")
  fixed = catalog.make_fusion(cfg, "FixedWeightFusion")
  assert fixed.features == 24 and fixed.weights == (0.5, 0.3, 0.2)
  # fusion_kwargs go to cfg.fusion only, not to another fusion built from the same config.
  assert catalog.make_fusion(cfg, "CrossModalAttention").features == 24
  with pytest.raises(ValueError, match="choose one of"):
    catalog.make_fusion(cfg, "Foo")
  with pytest.raises(ValueError, match="choose one of"):
    catalog.make_fusion(cfg, "weighted_sum")  # a registered function, not a fusion Module


def test_one_config_to_json():
  from zoo import models, train

  assert train.config_to_json is config.config_to_json and models.config_to_json is config.config_to_json
  assert models.ModelConfig is config.ModelConfig  # zoo.models keeps its old names for its callers
