"""The cases of the graded questions: visible ones from each record's visible.json, hidden ones drawn by
its private.hidden(rng), and the float64 references by its private.reference (docs/questions.md).

No question is named here: everything about one question lives in questions/<name>/. This module
keeps what is common to all of them: the hidden cases' random generator (one function, `_rng`), the
upcast to float64 around a reference, and the shapes of the values a comparison kind expects.
The `FUNCTIONS`/`SPECS`/`NAMES` of the default assignment (core) remain for older callers.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader import questions as Q

N_VISIBLE = Q.N_VISIBLE
N_HIDDEN = Q.N_HIDDEN


@dataclass(frozen=True)
class Case:
  function: str
  index: int  # 0, 1 visible; 2..9 hidden
  visible: bool
  args: tuple  # positional arguments, plain data


@functools.lru_cache(maxsize=8)
def catalog(extra: tuple = ()) -> Q.Catalog:
  """The project's records plus the `extra` --questions folders (loaded once per process)."""
  return Q.load(extra)


def _core():
  return catalog().assignment(Q.DEFAULT_ASSIGNMENT).questions


def __getattr__(attr):
  # The default assignment's questions under the names this module had before the records.
  if attr == "FUNCTIONS":
    return list(_core())
  if attr == "SPECS":
    return {q.name: q for q in _core()}
  if attr == "NAMES":
    return [q.name for q in _core()]
  if attr == "MODULES":
    return list(dict.fromkeys(q.module for q in _core()))
  raise AttributeError(attr)


def question(name_or_q) -> Q.Question:
  """A Question given itself or its name (looked up among the project's records)."""
  if isinstance(name_or_q, Q.Question):
    return name_or_q
  qs = catalog().questions
  if name_or_q not in qs:
    raise KeyError(f"unknown graded function {name_or_q!r}")
  return qs[name_or_q]


spec = question


def _rng(name: str, seed) -> np.random.Generator:
  """The hidden cases' generator of one question: the one place the seed is turned into draws.

  `seed`: a grader.seed.Draw (a stretched key and a variant), or a plain seed (stretched; variant 0).
  The generator is keyed by (key, variant, name) in grader/seed.py.
  """
  from grader import seed as seeds

  d = seeds.as_draw(seed)
  return seeds.case_rng(d.key, name, d.variant)


def visible_cases(q) -> list[Case]:
  q = question(q)
  return [Case(q.name, i, True, args) for i, (args, _) in enumerate(q.visible_cases())]


def hidden_cases(q, seed) -> list[Case]:
  q = question(q)
  args = q.private.hidden(_rng(q.name, seed))
  if len(args) != N_HIDDEN or not all(isinstance(a, tuple) for a in args):
    raise Q.RecordError(f"{q.folder}/private.py: hidden(rng) must return {N_HIDDEN} argument tuples")
  return [Case(q.name, N_VISIBLE + i, False, a) for i, a in enumerate(args)]


def cases(q, seed) -> list[Case]:
  """2 visible cases (index 0, 1; fixed) then 8 hidden ones (index 2..9; drawn from `seed`)."""
  return visible_cases(q) + hidden_cases(q, seed)


def all_cases(seed, questions=None) -> dict[str, list[Case]]:
  """Every question's cases for one seed, in order (default: the core assignment)."""
  return {q.name: cases(q, seed) for q in (questions if questions is not None else _core())}


def max_abs_input(args: Any) -> float:
  """The largest absolute numeric value anywhere in `args` (0.0 when there is none)."""
  m = 0.0
  stack = [args]
  while stack:
    x = stack.pop()
    if isinstance(x, (list, tuple)):
      stack.extend(x)
    elif isinstance(x, dict):
      stack.extend(x.values())
    elif isinstance(x, np.ndarray):
      if x.size and x.dtype.kind in "iuf":
        m = max(m, float(np.max(np.abs(x))))
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
      m = max(m, abs(float(x)))
  return m


# ---------------------------------------------------------------------------------------------
# References: the record's private.reference, in float64.


def upcast(x):
  """Every floating numpy array inside `x` (dicts, lists, tuples too) as float64; the rest unchanged."""
  if isinstance(x, np.ndarray):
    return x.astype(np.float64) if x.dtype.kind == "f" else x
  if isinstance(x, dict):
    return {k: upcast(v) for k, v in x.items()}
  if isinstance(x, (list, tuple)):
    return type(x)(upcast(v) for v in x)
  return x


def normalise(kind: str, out) -> Any:
  """A reference's output in the structure its comparison kind expects, as numpy.

  array/scalar: a float64 ndarray (0-d for a scalar); pair/tuple: a tuple of float64 ndarrays;
  dtw: (cost as a 0-d float64 array, path as an [L, 2] int64 array).
  """
  if kind in ("pair", "tuple"):
    return tuple(np.asarray(o, dtype=np.float64) for o in out)
  if kind == "dtw":
    cost, path = out
    return np.asarray(cost, dtype=np.float64), np.asarray(path, dtype=np.int64).reshape(-1, 2)
  return np.asarray(out, dtype=np.float64)


def aot_cache_dir() -> str:
  """The references' ahead-of-time executables (grader.refjit): <the grader's cache folder (grade.cache_dir)>/jax-aot."""
  from grader.grade import cache_dir

  return str(cache_dir() / "jax-aot")


@functools.cache
def use_compile_cache() -> bool:
  """Turns on the grader's cache of compiled references for this (the grader's) process, once; True if on.

  The references of a new seed compile one XLA computation per case (hidden cases each have shapes of
  their own). The records jit them with grader.refjit, whose executables are keyed without tracing: a
  later process loads each one and runs it, neither tracing nor lowering again. The folder is the
  grader's alone (0700, its owner checked by zoo.compile_cache) and lies outside everything the sandbox
  binds (the venv, the worker's folder, scratch), and student code starts with a cleared environment, so
  it never turns the cache on. GRADER_COMPILE_CACHE=off turns it off.

  Decision: JAX's own persistent cache stays off here. It would only store every computation a second
  time (it must trace and lower a call to find its key, which refjit avoids), and an executable it reads
  back cannot be serialized again whole (refjit would store executables that fail when called).
  """
  if os.environ.get("GRADER_COMPILE_CACHE", "").lower() in ("0", "off", "false", "no"):
    return False
  from grader import refjit

  return refjit.enable(aot_cache_dir(), "set GRADER_CACHE_DIR to a private folder")


def reference(q, args: tuple) -> Any:
  """The expected value for `q(*args)`: the record's reference in float64, normalised by its kind."""
  import jax

  use_compile_cache()
  q = question(q)
  with jax.enable_x64(True):
    return normalise(q.kind, q.private.reference(*upcast(tuple(args))))


def expected(q, seed) -> list:
  """reference() for every case of `q` at `seed`, in case order."""
  return [reference(q, c.args) for c in cases(q, seed)]
