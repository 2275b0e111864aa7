"""grader/compare.py: the contract's tolerance rules, pairs, scalars, the DTW path check, errata, hostile answers."""

from __future__ import annotations

import time

import numpy as np
import pytest

from grader import cases as C
from grader.compare import Verdict, compare, tolerance


def _case(name, index=0, seed=0):
  c = C.cases(name, seed)[index]
  return C.SPECS[name], c, C.reference(name, c.args)


# ---------------------------------------------------------------------------------------------
# Accepted forms.


def test_pair_as_tuple_list_or_2xk_array():
  spec, case, want = _case("time_align", 0)
  a, b = [1, 2, 3, 4, 5], [2, 4, 6, 8, 10]
  for got in ((a, b), [a, b], np.array([a, b]), np.array([a, b], np.float32), (np.array(a), b), (tuple(a), tuple(b))):
    assert compare(spec, case, want, got).ok
  assert compare("time_align", case, want, (a, b)).ok  # the spec may be given by name


def test_empty_pair_and_empty_vector():
  spec = C.SPECS["time_align"]
  case = C.Case("time_align", 2, False, ([], [1.5, 2]))
  want = C.reference("time_align", case.args)
  for got in (([], []), [[], []], np.zeros((2, 0)), (np.zeros(0, np.float32), ())):
    assert compare(spec, case, want, got).ok, got
  assert compare(spec, case, want, ([], [1.5])).reason == "wrong shape"
  case = C.Case("encode", 2, False, ([],))
  assert compare("encode", case, C.reference("encode", case.args), []).ok
  assert compare("encode", case, C.reference("encode", case.args), [0.0]).reason == "wrong shape"


def test_arrays_in_any_numeric_form():
  spec, case, want = _case("feature_fusion", 0)
  for got in (
    [12, 15, 18],
    (12.0, 15.0, 18.0),
    np.array([12, 15, 18], np.int64),
    np.array([12, 15, 18], np.float32),
    [np.float32(12), np.int64(15), 18.0],
  ):
    assert compare(spec, case, want, got).ok, got


def test_scalar_forms():
  spec, case, want = _case("clip_loss", 0)
  w = float(want)
  for got in (w, np.float32(w), np.float64(w), np.array(w), np.array(w, np.float32)):
    assert compare(spec, case, want, got).ok, got
  for got in ([w], np.array([w]), (w,)):
    assert compare(spec, case, want, got).reason == "wrong shape"


# ---------------------------------------------------------------------------------------------
# Tolerances: |got − want| <= atol + rtol·|want|.


def test_part1_tolerance_scales_with_the_largest_input():
  spec = C.SPECS["feature_fusion"]
  case = C.Case("feature_fusion", 2, False, ([100.0, 0.0], [0.0, 0.0], [0.0, -3.0]))
  want = C.reference("feature_fusion", case.args)
  rtol, atol = tolerance(spec, case)
  assert (rtol, atol) == (1e-5, pytest.approx(1e-3))
  for k, ok in ((0.9, True), (1.1, False)):
    got = want + k * (atol + rtol * np.abs(want))
    v = compare(spec, case, want, got)
    assert v.ok is ok and (ok or v.reason == "wrong values")
  small = C.Case("feature_fusion", 2, False, ([0.5], [0.25], [0.0]))  # s = max(1, 0.5) = 1
  assert tolerance(spec, small) == (1e-5, 1e-5)


def test_part2_tolerance():
  spec, case, want = _case("film", 1)
  assert tolerance(spec, case) == (1e-4, 1e-4)
  bound = 1e-4 + 1e-4 * np.abs(want)
  assert compare(spec, case, want, want + 0.9 * bound).ok
  bad = want.copy()
  bad[1, 2] += 1.1 * bound[1, 2]
  v = compare(spec, case, want, bad)
  assert not v.ok and v.reason == "wrong values"
  assert v.first_diff.startswith("the answer at index [1, 2]: expected")  # visible: the first place it differs


def test_wrong_shape():
  spec, case, want = _case("scaled_dot_product_attention", 1)
  for got in (want[0], want[..., None], np.concatenate([want, want]), want.tolist()[0], []):
    v = compare(spec, case, want, got)
    assert not v.ok and v.reason == "wrong shape", got
  assert "shape" in compare(spec, case, want, want[0]).detail


def test_nan_and_inf():
  spec, case, want = _case("gated_fusion", 0)
  for bad in (np.nan, np.inf, -np.inf):
    got = want.copy()
    got.flat[0] = bad
    v = compare(spec, case, want, got)
    assert not v.ok and v.reason == "not finite"
  # Where the reference itself is not finite, the same value is required there.
  odd = want.copy()
  odd.flat[0] = np.nan
  assert compare(spec, case, odd, odd.copy()).ok
  assert not compare(spec, case, odd, want).ok


def test_hidden_failures_reveal_no_values_or_shapes():
  spec, case, want = _case("interp_align", 5, seed=3)
  assert not case.visible
  v = compare(spec, case, want, want + 1.0)
  assert v.reason == "wrong values" and v.first_diff is None
  assert repr(float(want.flat[0])) not in v.detail
  v = compare(spec, case, want, want[:-1])
  assert v.reason == "wrong shape" and str(want.shape) not in v.detail and v.first_diff is None


# ---------------------------------------------------------------------------------------------
# DTW: the cost must be right and the path a valid warping path of optimal cost.


def test_dtw_accepts_the_optimum_and_any_tied_path():
  spec, case, want = _case("dtw", 1)  # x = [[0,0],[1,1],[2,0]], y = [[0,1],[2,1]]: two optimal paths
  cost = float(want[0])
  assert cost == pytest.approx(3.0)
  for path in (
    [(0, 0), (1, 0), (2, 1)],
    [(0, 0), (1, 1), (2, 1)],
    np.array([[0, 0], [1, 1], [2, 1]]),
    [[0, 0], [1, 0], [2, 1]],
    np.array([[0, 0], [1, 0], [2, 1]], np.float64),
  ):
    assert compare(spec, case, want, (cost, path)).ok, path
    assert compare(spec, case, want, [np.float32(cost), path]).ok


@pytest.mark.parametrize(
  "path, why",
  [
    ([(0, 1), (1, 1), (2, 1)], "start"),
    ([(0, 0), (1, 0), (2, 0)], "end"),
    ([(0, 0), (2, 1)], "step"),  # a (2, 1) step skips a sample
    ([(0, 0), (1, 1), (1, 0), (2, 1)], "step"),  # going back
    ([(0, 0), (1, 0), (1, 0), (2, 1)], "step"),  # standing still
    ([(0, 0), (0.5, 0), (2, 1)], "integers"),
    ([], "non-empty"),
    ([(0, 0, 0), (2, 1, 0)], "non-empty"),
    ("0,0;2,1", "contains"),
    ([(0, 0), (1, 0), [2]], "ragged"),
  ],
)
def test_dtw_rejects_invalid_paths(path, why):
  spec, case, want = _case("dtw", 1)
  v = compare(spec, case, want, (float(want[0]), path))
  assert not v.ok and v.reason == "invalid path" and why in v.detail, v


def test_dtw_rejects_a_suboptimal_path_and_a_wrong_cost():
  spec, case, want = _case("dtw", 0)  # optimum 0 along (0,0),(0,1),(1,2),(2,3)
  v = compare(spec, case, want, (0.0, [(0, 0), (1, 1), (2, 2), (2, 3)]))
  assert not v.ok and v.reason == "invalid path" and "optimum" in v.detail
  v = compare(spec, case, want, (0.5, [(0, 0), (0, 1), (1, 2), (2, 3)]))
  assert not v.ok and v.reason == "wrong values"
  for got in ((0.0,), 0.0, "x", (0.0, [(0, 0)], 1), {"cost": 0.0}):
    assert compare(spec, case, want, got).reason == "wrong type"


def test_dtw_path_cost_is_recomputed_from_the_case():
  # Hidden cases: the reference's own path passes; the "along the edges" path (right, then down)
  # passes exactly when its own cost, recomputed here from x and y, is the optimum.
  suboptimal = 0
  for spec, case, want in (_case("dtw", i, seed=2) for i in range(2, 10)):
    assert compare(spec, case, want, (float(want[0]), want[1])).ok
    x, y = (a.astype(np.float64) for a in case.args)
    n, m = len(x), len(y)
    edge = [(0, j) for j in range(m)] + [(i, m - 1) for i in range(1, n)]
    own = sum(float(np.linalg.norm(x[i] - y[j])) for i, j in edge)
    v = compare(spec, case, want, (float(want[0]), edge))
    optimal = abs(own - float(want[0])) <= 1e-4 + 1e-4 * float(want[0])
    assert v.ok == optimal and (optimal or v.reason == "invalid path")
    suboptimal += not optimal
  assert suboptimal >= 3


# ---------------------------------------------------------------------------------------------
# The article's errata.


@pytest.mark.parametrize("name", ["attention_fusion", "decode", "self_attention_fusion"])
def test_the_articles_wrong_prints_are_flagged_as_errata(name):
  spec, case, want = _case(name, 0)
  for got in (spec.article_printed, tuple(spec.article_printed), np.array(spec.article_printed, np.float32)):
    v = compare(spec, case, want, got)
    assert not v.ok and v.article_erratum and v.reason == "wrong values"
    assert "erratum" in v.detail
  assert compare(spec, case, want, want).ok and not compare(spec, case, want, want).article_erratum
  v = compare(spec, case, want, np.asarray(spec.article_printed) + 0.5)  # wrong, but not the article's value
  assert not v.ok and not v.article_erratum
  spec1, case1, want1 = _case(name, 1)
  assert not compare(spec1, case1, want1, spec.article_printed).article_erratum  # only the article's own call


def test_right_article_prints_are_plain_passes():
  for name in ("time_align", "feature_align", "feature_fusion"):
    spec, case, want = _case(name, 0)
    v = compare(spec, case, want, spec.article_printed)
    assert v.ok and not v.article_erratum, name


# ---------------------------------------------------------------------------------------------
# Hostile answers: never raise, never hang, never call a method of an unknown object.


class _Trap:
  """Records any attempt to use it."""

  calls: list = []

  def __getattribute__(self, item):
    _Trap.calls.append(item)
    raise RuntimeError("touched")

  def __len__(self):
    _Trap.calls.append("__len__")
    raise RuntimeError("touched")

  def __iter__(self):
    _Trap.calls.append("__iter__")
    raise RuntimeError("touched")

  def __float__(self):
    _Trap.calls.append("__float__")
    raise RuntimeError("touched")

  def __array__(self, *a, **k):
    _Trap.calls.append("__array__")
    raise RuntimeError("touched")


class _EvilList(list):
  def __len__(self):
    _Trap.calls.append("EvilList.__len__")
    return 10**12

  def __iter__(self):
    _Trap.calls.append("EvilList.__iter__")
    while True:
      yield 1.0


class _SubArray(np.ndarray):
  """An ndarray subclass: its methods may be overridden, so compare must not trust it."""


def _deep(n):
  x = [1.0]
  for _ in range(n):
    x = [x]
  return x


HOSTILE = [
  [[1, 2], [3]],
  [1, [2, 3], 4],
  "12, 15, 18",
  b"abc",
  None,
  True,
  {"a": 1},
  {1, 2},
  3 + 4j,
  np.array([12, 15, 18], dtype=object),
  np.array(["1", "2", "3"]),
  np.array([1 + 2j, 3, 4]),
  np.array([True, False, True]),
  _deep(100_000),
  [0.0] * 2_000_000,
  np.zeros(3_000_000),
  10**400,
  -(10**400),
  [10**400, 1, 2],
  float("nan"),
  [_Trap(), 1, 2],
  _Trap(),
  _EvilList([1, 2, 3]),
  np.ma.masked_array([12, 15, 18]),
  np.array([12.0, 15, 18]).view(_SubArray),
  [[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]],
]


@pytest.mark.parametrize("name", ["feature_fusion", "time_align", "clip_loss", "dtw"])
def test_hostile_answers_are_rejected_without_raising(name):
  spec, case, want = _case(name, 0)
  _Trap.calls.clear()
  for got in HOSTILE + [(g, g) for g in HOSTILE[:12]] + [(1.0, g) for g in HOSTILE]:
    t0 = time.perf_counter()
    v = compare(spec, case, want, got)
    assert (
      isinstance(v, Verdict)
      and not v.ok
      and v.reason in ("wrong type", "wrong shape", "not finite", "wrong values", "invalid path")
    ), (name, v)
    assert isinstance(v.detail, str) and v.detail
    assert time.perf_counter() - t0 < 2.0, (name, v)
  assert _Trap.calls == []


def test_huge_ints_and_deep_nesting_give_clear_reasons():
  spec, case, want = _case("feature_fusion", 0)
  assert compare(spec, case, want, [10**400, 15, 18]).reason == "not finite"
  assert compare(spec, case, want, _deep(10_000)).reason == "wrong shape"
  assert compare(spec, case, want, [[12, 15], [18]]).reason == "wrong shape"
  assert "ragged" in compare(spec, case, want, [[12, 15], [18]]).detail
  assert compare(spec, case, want, np.array([12, 15, 18], dtype=object)).reason == "wrong type"
  assert compare(spec, case, want, "12 15 18").reason == "wrong type"
