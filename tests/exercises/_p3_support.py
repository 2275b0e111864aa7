"""Checks shared by the Part III record tests: load a record, compute the three answers, compare them.

Stands alone (tomllib and importlib) until the project's record loader lands; the rules are those of
docs/questions.md: every element |got − want| ≤ atol + rtol·|want|, equal shapes, no NaN unless the
reference has one there.
"""

from __future__ import annotations

import functools
import importlib.util
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2)


def load_module(path: Path, name: str):
  """Import the file at `path` under a private module name."""
  spec = importlib.util.spec_from_file_location(name, path)
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


def record(name: str):
  """(question.toml as a dict, private.py as a module) of the record `name`."""
  folder = ROOT / "questions" / name
  meta = tomllib.loads((folder / "question.toml").read_text(encoding="utf-8"))
  return meta, load_module(folder / "private.py", f"_p3_private_{name}")


def upcast(x):
  """Every floating numpy array in x (dicts, lists and tuples too) as float64; everything else unchanged."""
  if isinstance(x, np.ndarray):
    return x.astype(np.float64) if x.dtype.kind == "f" else x
  if isinstance(x, dict):
    return {k: upcast(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return type(x)(upcast(v) for v in x)
  return x


def reference(private, args):
  """The record's float64 reference, called as the grader does (inputs upcast, inside enable_x64)."""
  import jax

  with jax.enable_x64(True):
    out = private.reference(*upcast(args))
    return tuple(np.asarray(o, np.float64) for o in out) if isinstance(out, tuple) else np.asarray(out, np.float64)


def all_cases(private):
  """(label, args) for the visible cases and the hidden ones of every seed in SEEDS."""
  out = [(f"visible{i}", c) for i, c in enumerate(private.visible())]
  for seed in SEEDS:
    out += [(f"seed{seed}/hidden{i}", c) for i, c in enumerate(private.hidden(np.random.default_rng(seed)))]
  return out


def fresh(args):
  """A deep copy of the arguments, so no answer sees another's in-place changes."""
  if isinstance(args, np.ndarray):
    return args.copy()
  if isinstance(args, dict):
    return {k: fresh(v) for k, v in args.items()}
  if isinstance(args, (list, tuple)):
    return type(args)(fresh(v) for v in args)
  return args


def assert_close(meta, want, got, where):
  """The record's comparison: same structure and shapes, |got − want| ≤ atol + rtol·|want|, finite as want."""
  kind, rtol, atol = meta["compare"]["kind"], meta["compare"]["rtol"], meta["compare"]["atol"]
  if kind in ("tuple", "pair"):
    assert isinstance(got, (tuple, list)) and len(got) == len(want), (where, "structure")
    pairs = list(zip(want, got))
  else:
    pairs = [(want, got)]
  for w, g in pairs:
    w = np.asarray(w, np.float64)
    g = np.asarray(g, np.float64)
    if kind == "scalar":
      assert w.size == 1 and g.size == 1, (where, w.shape, g.shape)
      w, g = w.reshape(()), g.reshape(())
    assert g.shape == w.shape, (where, "shape", g.shape, w.shape)
    assert np.array_equal(np.isfinite(g), np.isfinite(w)), (where, "non-finite")
    fin = np.isfinite(w)
    err = np.abs(g[fin] - w[fin]) - (atol + rtol * np.abs(w[fin]))
    assert not err.size or err.max() <= 0, (where, "values", float(err.max()))


def equal_cases(a, b):
  """Structural equality of two argument tuples (arrays by value and dtype)."""
  if isinstance(a, np.ndarray):
    return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
  if isinstance(a, dict):
    return isinstance(b, dict) and a.keys() == b.keys() and all(equal_cases(a[k], b[k]) for k in a)
  if isinstance(a, (list, tuple)):
    return type(a) is type(b) and len(a) == len(b) and all(equal_cases(x, y) for x, y in zip(a, b))
  return type(a) is type(b) and a == b


@functools.cache
def expected_cases(name: str) -> tuple:
  """((label, args, reference), ...) for the visible cases and the hidden cases of every seed in SEEDS,
  computed once per test session (hidden(rng) is deterministic, as a test checks)."""
  private = record(name)[1]
  return tuple((label, args, reference(private, args)) for label, args in all_cases(private))


def caught_by_hidden(name, wrong, seed=0):
  """True when `wrong` fails at least one hidden case of the record `name` at `seed` (a wrong value or
  shape, or a non-finite value): the hidden cases alone catch this mistake."""
  meta = record(name)[0]
  for label, args, want in expected_cases(name):
    if not label.startswith(f"seed{seed}/"):
      continue
    try:
      with np.errstate(all="ignore"):
        assert_close(meta, want, wrong(*fresh(args)), name)
    except AssertionError:
      return True
  return False
