"""The contract's grading rules, keyed by comparison kind: tolerances, pairs, tuples, the DTW path check, errata.

A question's record (questions/<name>/question.toml) gives its kind and tolerances; nothing here
depends on which question is graded. Every student-facing text is a keyed message of grader/i18n.py,
(key, params) with messages nested in params (`msg`, `first_msg`), so that `--lang zh` translates it;
`detail` and `first_diff` keep the English rendering.

`got` is a submission's decoded answer: plain data, but possibly hostile (ragged, huge, deeply
nested, of the wrong type). `compare` never raises, never calls a method of an object whose type
it does not know, and bounds its work by the size of the expected answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.cases import Case, max_abs_input, question
from grader.i18n import render
from grader.questions import Question

_MAX_DEPTH = 16  # deeper nesting than any answer needs is "wrong shape"


@dataclass(frozen=True)
class Verdict:
  ok: bool
  reason: str  # "ok", "wrong type", "wrong shape", "not finite", "wrong values", "invalid path"
  detail: str = ""  # student-facing, English; never reveals a hidden case's values or shapes
  first_diff: str | None = None  # "index, expected, got" of the first differing element (visible cases only)
  article_erratum: bool = False  # the answer is the article's printed (wrong) value for its own call
  msg: tuple | None = None  # `detail` as an i18n message (key, params)
  first_msg: tuple | None = None  # `first_diff` as an i18n message


def _fail(reason: str, msg: tuple, first: tuple | None = None, erratum: bool = False) -> Verdict:
  """A failing Verdict from i18n messages, their English rendering kept in detail and first_diff."""
  return Verdict(False, reason, render("en", msg), render("en", first) if first else None, erratum, msg, first)


OK = Verdict(True, "ok", "correct")


def tolerance(q: Question, case: Case) -> tuple[float, float]:
  """(rtol, atol) for a case: the record's, atol times s = max(1, largest |input value|) where it says so."""
  if q.atol_scales_with_input:
    return q.rtol, q.atol * max(1.0, max_abs_input(case.args))
  return q.rtol, q.atol


# ---------------------------------------------------------------------------------------------
# Reading untrusted data into float64 arrays.


class _Unreadable(Exception):
  def __init__(self, reason: str, key: str, **params):
    super().__init__(reason)
    self.reason, self.key, self.params = reason, key, params

  def msg(self, what) -> tuple:
    return (self.key, {"what": what, **self.params})


_NP_SCALARS = frozenset(t for t in set(np.sctypeDict.values()) if issubclass(t, (np.integer, np.floating)))
_TYPE_WORDS = {
  str: "kind_str",
  bytes: "kind_bytes",
  dict: "kind_dict",
  type(None): "kind_none",
  bool: "kind_bool",
  complex: "kind_complex",
  set: "kind_set",
}


def _describe(x) -> tuple:
  t = type(x)
  if t is np.ndarray:
    return ("kind_array", {"dtype": x.dtype.str})
  return (_TYPE_WORDS.get(t, "kind_object"), {})


def _int_to_float(x: int) -> float:
  try:
    return float(x)
  except OverflowError:
    return float("inf") if x > 0 else float("-inf")


def _read(x, budget: int, depth: int = 0) -> np.ndarray:
  """`x` as a float64 array; raises _Unreadable. `budget` bounds the number of elements read."""
  t = type(x)
  if t is float:
    return np.asarray(x, dtype=np.float64)
  if t is int:
    return np.asarray(_int_to_float(x), dtype=np.float64)
  if t in _NP_SCALARS:
    return np.asarray(x, dtype=np.float64)
  if t is np.ndarray:
    if x.dtype.kind not in "iuf":
      raise _Unreadable("wrong type", "cmp_not_numbers", kind=_describe(x))
    if x.size > budget:
      raise _Unreadable("wrong shape", "cmp_too_many")
    return x.astype(np.float64)
  if t is list or t is tuple:
    if depth >= _MAX_DEPTH:
      raise _Unreadable("wrong shape", "cmp_too_deep")
    n = len(x)
    if n > budget:
      raise _Unreadable("wrong shape", "cmp_too_many")
    if n == 0:
      return np.zeros((0,), np.float64)
    parts, used, shape = [], 0, None
    for item in x:
      a = _read(item, budget - used, depth + 1)
      used += max(a.size, 1)
      if used > budget:
        raise _Unreadable("wrong shape", "cmp_too_many")
      if shape is None:
        shape = a.shape
      elif a.shape != shape:
        raise _Unreadable("wrong shape", "cmp_ragged")
      parts.append(a)
    return np.stack(parts)
  raise _Unreadable("wrong type", "cmp_bad_item", kind=_describe(x))


def _budget(want: np.ndarray) -> int:
  return 4 * int(want.size) + 64


def _expected_array(x) -> np.ndarray:
  return np.asarray(x, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Element-wise comparison.


def _fmt(v: float) -> str:
  """A value of a first difference: 8 significant digits (the tolerance is far coarser), as the self-check."""
  return format(float(v), ".8g")


def _idx(i: tuple) -> str:
  return "[" + ", ".join(str(int(k)) for k in i) + "]"


ANSWER = ("what_answer", {})


def _compare_values(
  want: np.ndarray, got: np.ndarray, rtol: float, atol: float, visible: bool, what=ANSWER
) -> Verdict | None:
  """None when `got` matches `want`; else the failing Verdict."""
  if got.shape != want.shape:
    msg = (
      ("cmp_shape", {"what": what, "got": str(got.shape), "want": str(want.shape)})
      if visible
      else ("cmp_shape_hidden", {"what": what})
    )
    return _fail("wrong shape", msg)
  with np.errstate(all="ignore"):
    want_fin, got_fin = np.isfinite(want), np.isfinite(got)
    # Where the reference is not finite, the answer must hold the same NaN or infinity.
    same_special = np.where(np.isnan(want), np.isnan(got), got == want)
    close = np.abs(got - want) <= atol + rtol * np.abs(want)
    good = np.where(want_fin, got_fin & close, same_special)
  if good.all():
    return None
  bad_idx = tuple(int(k) for k in np.argwhere(~good)[0]) if want.ndim else ()
  not_finite = bool(np.any(want_fin & ~got_fin))
  reason = "not finite" if not_finite else "wrong values"
  nbad, n = int((~good).sum()), int(good.size)
  first = None
  if visible:
    w, g = float(want[bad_idx]), float(got[bad_idx])
    delta = abs(g - w)
    first = (
      "cmp_first" if want.ndim else "cmp_first_scalar",
      {
        "what": what,
        "index": _idx(bad_idx),
        "want": _fmt(w),
        "got": _fmt(g),
        "delta": format(delta, ".3g") if np.isfinite(delta) else str(g - w),
        "allowed": format(float(atol + rtol * abs(w)), ".3g"),
      },
    )
  if not_finite:
    msg = ("cmp_not_finite", {"what": what})
  else:
    msg = ("cmp_values", {"what": what, "nbad": nbad, "n": n})
  if visible:
    msg = ("cmp_tolerance", {"text": msg, "rtol": f"{rtol:g}", "atol": f"{atol:g}"})
  return _fail(reason, msg, first)


def _read_or_verdict(x, want: np.ndarray, what):
  try:
    return _read(x, _budget(want)), None
  except _Unreadable as e:
    return None, _fail(e.reason, e.msg(what))


# ---------------------------------------------------------------------------------------------
# Kinds.


def _pair_parts(got):
  """The two parts of a pair answer (a tuple, a list or a 2×k array), or None."""
  t = type(got)
  if (t is tuple or t is list) and len(got) == 2:
    return got[0], got[1]
  if t is np.ndarray and got.ndim >= 1 and got.shape[0] == 2 and got.dtype.kind in "iuf":
    return got[0], got[1]
  return None


def _compare_array(want, got, rtol, atol, visible) -> Verdict:
  want = _expected_array(want)
  arr, bad = _read_or_verdict(got, want, ANSWER)
  if bad:
    return bad
  return _compare_values(want, arr, rtol, atol, visible) or OK


def _compare_pair(want, got, rtol, atol, visible) -> Verdict:
  parts = _pair_parts(got)
  if parts is None:
    kind = ("kind_other_length", {}) if type(got) in (list, tuple) else _describe(got)
    return _fail("wrong type", ("cmp_not_pair", {"kind": kind}))
  for k in range(2):
    w = _expected_array(want[k])
    what = (f"what_pair_{k + 1}", {})
    arr, bad = _read_or_verdict(parts[k], w, what)
    if bad:
      return bad
    v = _compare_values(w, arr, rtol, atol, visible, what)
    if v:
      return v
  return OK


def _compare_tuple(want, got, rtol, atol, visible) -> Verdict:
  n = len(want)
  t = type(got)
  if not ((t is tuple or t is list) and len(got) == n):
    kind = ("kind_other_length", {}) if t in (list, tuple) else _describe(got)
    return _fail("wrong type", ("cmp_not_tuple", {"n": n, "kind": kind}))
  for k in range(n):
    w = _expected_array(want[k])
    what = ("what_item", {"k": k})
    arr, bad = _read_or_verdict(got[k], w, what)
    if bad:
      return bad
    v = _compare_values(w, arr, rtol, atol, visible, what)
    if v:
      return v
  return OK


def _path_cost(x: np.ndarray, y: np.ndarray, path: np.ndarray) -> float:
  d = x[path[:, 0]] - y[path[:, 1]]
  return float(np.sqrt((d * d).sum(axis=1)).sum())


def _compare_dtw(case: Case, want, got, rtol, atol, visible) -> Verdict:
  t = type(got)
  if not ((t is tuple or t is list) and len(got) == 2):
    return _fail("wrong type", ("cmp_not_dtw", {}))
  want_cost = _expected_array(want[0]).reshape(())
  cost, bad = _read_or_verdict(got[0], want_cost, ("what_cost", {}))
  if bad:
    return bad
  v = _compare_values(want_cost, cost, rtol, atol, visible, ("what_cost", {}))
  if v:
    return v
  x = np.asarray(case.args[0], dtype=np.float64)
  y = np.asarray(case.args[1], dtype=np.float64)
  n, m = x.shape[0], y.shape[0]
  # A valid path has at most n + m − 1 pairs.
  path, bad = _read_or_verdict(got[1], np.zeros((n + m, 2)), ("what_path", {}))
  if bad:
    return _fail("invalid path", bad.msg)
  if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] == 0:
    return _fail("invalid path", ("cmp_path_shape", {}))
  if not (np.isfinite(path).all() and (path == np.round(path)).all()):
    return _fail("invalid path", ("cmp_path_int", {}))
  p = path.astype(np.int64)
  if tuple(p[0]) != (0, 0):
    return _fail("invalid path", ("cmp_path_start", {}))
  if tuple(p[-1]) != (n - 1, m - 1):
    msg = ("cmp_path_end", {"n1": n - 1, "m1": m - 1}) if visible else ("cmp_path_end_hidden", {})
    return _fail("invalid path", msg)
  steps = np.diff(p, axis=0)
  ok_step = (steps == (1, 0)).all(axis=1) | (steps == (0, 1)).all(axis=1) | (steps == (1, 1)).all(axis=1)
  if not ok_step.all():
    k = int(np.argmin(ok_step))
    first = (
      ("cmp_step_at", {"a": str(tuple(int(a) for a in p[k])), "b": str(tuple(int(a) for a in p[k + 1]))})
      if visible
      else None
    )
    return _fail("invalid path", ("cmp_path_step", {}), first)
  own = np.asarray(_path_cost(x, y, p))
  v = _compare_values(want_cost, own, rtol, atol, visible, ("what_path_cost", {}))
  if v:
    return _fail("invalid path", ("cmp_path_cost", {"detail": v.msg}), v.first_msg)
  return OK


def _is_erratum(q: Question, case: Case, got, rtol, atol) -> bool:
  """The answer to the article's own call (the first visible case) equals its printed, wrong, value."""
  if case.index != 0 or q.erratum_en is None or q.printed is None:
    return False
  printed = _expected_array(q.printed)
  try:
    arr = _read(got, _budget(printed))
  except _Unreadable:
    return False
  return _compare_values(printed, arr, rtol, atol, False) is None


def _by_kind(kind: str, case: Case, expected, got, rtol, atol) -> Verdict:
  if kind == "pair":
    return _compare_pair(expected, got, rtol, atol, case.visible)
  if kind == "tuple":
    return _compare_tuple(expected, got, rtol, atol, case.visible)
  if kind == "dtw":
    return _compare_dtw(case, expected, got, rtol, atol, case.visible)
  if kind in ("array", "scalar"):  # a scalar is a 0-d array: the shape check demands a single number
    return _compare_array(expected, got, rtol, atol, case.visible)
  raise ValueError(f"unknown comparison kind {kind!r}")


def compare(q: Question | str, case: Case, expected: Any, got: Any) -> Verdict:
  """Grade one answer against the reference, by the record's kind and tolerances; never raises."""
  try:
    if type(q) is str:
      q = question(q)
    rtol, atol = tolerance(q, case)
    v = _by_kind(q.kind, case, expected, got, rtol, atol)
    if not v.ok and _is_erratum(q, case, got, rtol, atol):
      return _fail(
        v.reason, ("cmp_erratum", {"why_en": q.erratum_en, "why_zh": q.erratum_zh or q.erratum_en}), v.first_msg, True
      )
    return v
  except Exception as e:  # noqa: BLE001 — a grader must not crash on any answer
    return _fail("wrong type", ("cmp_unreadable", {"exc": type(e).__name__}))
