"""Helpers for the Part III record tests: load a question's record and check answers against its reference.

Read-only over questions/<name>/ (question.toml, private.py); independent of the grader's loader, so the
records can be checked before (and beside) it.
"""

from __future__ import annotations

import copy
import importlib.util
import inspect
import tomllib
from pathlib import Path

import jax
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)
KINDS = {"array", "scalar", "pair", "tuple", "dtw"}


def load_py(path: Path, tag: str):
  """Import a file as a fresh module named `tag`."""
  spec = importlib.util.spec_from_file_location(tag, path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


def record(name: str):
  """(question.toml as a dict, private.py as a module)."""
  folder = ROOT / "questions" / name
  with open(folder / "question.toml", "rb") as fh:
    toml = tomllib.load(fh)
  return toml, load_py(folder / "private.py", f"_p3_private_{name}")


def upcast(x):
  """Every floating numpy array, inside dicts, lists and tuples too, to float64; the rest unchanged."""
  if isinstance(x, np.ndarray):
    return x.astype(np.float64) if x.dtype.kind == "f" else x
  if isinstance(x, dict):
    return {k: upcast(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return type(x)(upcast(v) for v in x)
  return x


def reference(private, args):
  """The record's float64 expected value, called as the contract says (float64 inputs, x64 enabled)."""
  with jax.enable_x64(True):
    out = private.reference(*upcast(copy.deepcopy(args)))
    return tuple(np.asarray(o) for o in out) if isinstance(out, tuple) else np.asarray(out)


def cases(private, seed):
  """The 2 visible cases then the 8 hidden ones for `seed`."""
  return list(private.visible()) + list(private.hidden(np.random.default_rng(seed)))


def mismatch(kind: str, rtol: float, atol: float, want, got) -> str | None:
  """None when `got` passes the record's comparison against `want`, else why not."""
  if kind in ("tuple", "pair"):
    if not isinstance(got, (tuple, list)) or len(got) != len(want):
      return f"expected a tuple of {len(want)}"
    for i, (w, g) in enumerate(zip(want, got)):
      why = mismatch("array", rtol, atol, w, g)
      if why:
        return f"item {i}: {why}"
    return None
  w, g = np.asarray(want, np.float64), np.asarray(got, np.float64)
  if kind == "scalar":
    w, g = w.reshape(()), (g.reshape(()) if g.size == 1 else g)
  if w.shape != g.shape:
    return f"shape {g.shape} != {w.shape}"
  same_nonfinite = ~np.isfinite(w) & ((g == w) | (np.isnan(g) & np.isnan(w)))
  ok = same_nonfinite | (np.isfinite(g) & (np.abs(g - w) <= atol + rtol * np.abs(w)))
  if not ok.all():
    return f"max |diff| {np.nanmax(np.abs(g - w))}"
  return None


def stub_doc_matches(fn, toml) -> bool:
  """The stub's docstring is the record's task, English then Chinese."""
  return inspect.getdoc(fn) == inspect.cleandoc(toml["task"]["en"] + "\n\n" + toml["task"]["zh"])


def same_cases(a, b) -> bool:
  """Deep equality of two case lists (arrays by dtype, shape and value)."""
  if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
    return (
      isinstance(a, np.ndarray)
      and isinstance(b, np.ndarray)
      and a.dtype == b.dtype
      and a.shape == b.shape
      and np.array_equal(a, b)
    )
  if isinstance(a, dict):
    return isinstance(b, dict) and a.keys() == b.keys() and all(same_cases(a[k], b[k]) for k in a)
  if isinstance(a, (list, tuple)):
    return type(a) is type(b) and len(a) == len(b) and all(same_cases(x, y) for x, y in zip(a, b))
  return type(a) is type(b) and a == b


def plain_data(x) -> bool:
  """The contract's argument types: float32, bool and int32 numpy arrays, Python numbers, dicts/lists/tuples of them."""
  if isinstance(x, np.ndarray):
    return x.dtype in (np.float32, np.bool_, np.int32)
  if isinstance(x, dict):
    return all(isinstance(k, str) and plain_data(v) for k, v in x.items())
  if isinstance(x, (list, tuple)):
    return all(plain_data(v) for v in x)
  return type(x) in (int, float, bool)
