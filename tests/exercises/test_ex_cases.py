"""grader/cases.py: the 17 specs, the visible and hidden cases, and both answer sets passing every case."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import cases as C
from grader import compare as K

ROOT = Path(__file__).resolve().parents[2]
SEEDS = (0, 1, 2, 12345)
CONTRACT_ORDER = [
  "time_align",
  "feature_align",
  "feature_fusion",
  "attention_fusion",
  "encode",
  "decode",
  "self_attention",
  "self_attention_fusion",
  "scaled_dot_product_attention",
  "multi_head_attention",
  "tensor_fusion",
  "low_rank_fusion",
  "gated_fusion",
  "film",
  "clip_loss",
  "interp_align",
  "dtw",
]


def _load(folder: str, module: str, tag: str):
  spec = importlib.util.spec_from_file_location(f"_{tag}_{module}", ROOT / folder / f"{module}.py")
  mod = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(mod)
  return mod


ANSWER_SETS = {"solutions_f32": "solutions", "answers_f64": "tests/answers_f64"}


@pytest.fixture(scope="module")
def answers():
  return {tag: {m: _load(folder, m, tag) for m in C.MODULES} for tag, folder in ANSWER_SETS.items()}


@pytest.fixture(scope="module")
def refs():
  """(name, seed) -> (cases, expected values), computed once for the module."""
  memo = {}

  def get(name, seed):
    if (name, seed) not in memo:
      cs = C.cases(name, seed)
      visible = memo[(name, SEEDS[0])][1][:2] if (name, SEEDS[0]) in memo else None
      exp = [(visible[c.index] if visible is not None and c.visible else C.reference(name, c.args)) for c in cs]
      memo[(name, seed)] = (cs, exp)
    return memo[(name, seed)]

  return get


def _as_wire(x):
  """What the grader's wire hands back: plain data, jax arrays become numpy arrays."""
  if isinstance(x, (tuple, list)):
    return type(x)(_as_wire(v) for v in x)
  if isinstance(x, (int, float, np.ndarray)) or x is None:
    return x
  return np.asarray(x)


# ---------------------------------------------------------------------------------------------
# Structure.


def test_seventeen_functions_in_contract_order():
  assert [s.name for s in C.FUNCTIONS] == CONTRACT_ORDER
  assert [s.part for s in C.FUNCTIONS] == [1] * 8 + [2] * 9
  kinds = {s.name: s.kind for s in C.FUNCTIONS}
  assert kinds["time_align"] == kinds["feature_align"] == "pair"
  assert kinds["clip_loss"] == "scalar" and kinds["dtw"] == "dtw"
  assert {s.kind for s in C.FUNCTIONS} == {"array", "pair", "scalar", "dtw"}


def test_every_function_has_a_stub_a_solution_and_an_f64_answer(answers):
  for s in C.FUNCTIONS:
    for folder in ("exercises", "solutions", "tests/answers_f64"):
      assert (ROOT / folder / f"{s.module}.py").is_file(), (folder, s.module)
    stub = _load("exercises", s.module, "stub")
    assert callable(getattr(stub, s.name)), s.name
    for tag in ANSWER_SETS:
      assert callable(getattr(answers[tag][s.module], s.name)), (tag, s.name)


def test_errata_specs():
  wrong = {s.name for s in C.FUNCTIONS if s.erratum_en}
  assert wrong == {"attention_fusion", "decode", "self_attention_fusion"}
  for s in C.FUNCTIONS:
    assert (s.erratum_en is None) == (s.erratum_zh is None)
    if s.erratum_en:  # the reason, which the grader's feedback quotes after "a known erratum of the article:"
      assert str(s.article_printed) in s.erratum_en and str(s.article_printed) in s.erratum_zh
    if s.part == 2:
      assert s.article_printed is None and s.erratum_en is None
  printed = {s.name: s.article_printed for s in C.FUNCTIONS}
  assert printed["attention_fusion"] == [7.8, 8.9, 9.0]
  assert printed["decode"] == [0.5, 1.0, 1.5, 2.0, 2.5]
  assert printed["self_attention_fusion"] == [9.0, 10.5, 12.0]


def test_case_layout_and_article_calls_first():
  article = {
    "time_align": ([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]),
    "feature_align": ([1, 2, 3], [4, 5, 6]),
    "feature_fusion": ([1, 2, 3], [4, 5, 6], [7, 8, 9]),
    "attention_fusion": ([1, 2, 3], [4, 5, 6], [7, 8, 9]),
    "encode": ([1, 2, 3, 4, 5],),
    "decode": ([2, 4, 6, 8, 10],),
    "self_attention": ([[1, 2, 3], [4, 5, 6], [7, 8, 9]],),
    "self_attention_fusion": ([1, 2, 3], [4, 5, 6], [7, 8, 9]),
  }
  for name in C.NAMES:
    cs = C.cases(name, 0)
    assert [c.index for c in cs] == list(range(10))
    assert [c.visible for c in cs] == [True, True] + [False] * 8
    assert all(c.function == name and isinstance(c.args, tuple) for c in cs)
    if name in article:
      assert cs[0].args == article[name]


def _same(a, b) -> bool:
  if type(a) is not type(b):
    return False
  if isinstance(a, np.ndarray):
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
  if isinstance(a, dict):
    return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
  if isinstance(a, (list, tuple)):
    return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
  return a == b


def test_cases_are_deterministic_and_seeded():
  for name in C.NAMES:
    a, b, other = C.cases(name, 3), C.cases(name, 3), C.cases(name, 4)
    assert all(_same(x.args, y.args) for x, y in zip(a, b)), name
    assert all(_same(x.args, y.args) for x, y in zip(a[:2], other[:2])), name  # visible: fixed
    assert not all(_same(x.args, y.args) for x, y in zip(a[2:], other[2:])), name


def test_every_call_returns_fresh_arguments():
  # Code under test may mutate its inputs; the next call of cases() must not see it.
  for name in ("self_attention", "feature_fusion", "film", "dtw"):
    first = C.cases(name, 0)
    for c in first:
      for a in c.args:
        if isinstance(a, list) and a and isinstance(a[0], list):
          a[0].append(99)
        elif isinstance(a, list):
          a.append(99)
        elif isinstance(a, np.ndarray):
          a += 1
    assert all(_same(x.args, y.args) for x, y in zip(C.cases(name, 0), C.cases(name, 0)))
    assert not all(_same(x.args, y.args) for x, y in zip(first, C.cases(name, 0))), name


def test_hidden_cases_do_not_depend_on_the_string_hash_and_the_module_is_import_light():
  # Two fresh interpreters with different string-hash seeds draw the same cases, and importing
  # the case and comparison modules brings in neither jax nor the zoo (the hand-out has neither).
  code = (
    "import sys, zlib; from grader import cases, compare; "
    "assert 'jax' not in sys.modules and 'zoo' not in sys.modules, sorted(sys.modules); "
    "print(zlib.crc32(repr([c.args for n in cases.NAMES for c in cases.cases(n, 7)]).encode()))"
  )
  outs = []
  for hash_seed in ("1", "2"):
    r = subprocess.run(
      [sys.executable, "-c", code],
      cwd=ROOT,
      capture_output=True,
      text=True,
      timeout=120,
      env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert r.returncode == 0, r.stderr
    outs.append(r.stdout.strip())
  assert outs[0] == outs[1] and outs[0]


def _plain_numbers(x) -> bool:
  return isinstance(x, list) and all(type(v) in (int, float) for v in x)


def _part2_plain(x) -> bool:
  if isinstance(x, np.ndarray):
    return x.dtype in (np.float32, np.bool_)
  if isinstance(x, dict):
    return all(isinstance(k, str) and _part2_plain(v) for k, v in x.items())
  if isinstance(x, list):
    return all(_part2_plain(v) for v in x)
  return type(x) in (int, float)


@pytest.mark.parametrize("seed", SEEDS)
def test_args_are_plain_data(seed):
  for s in C.FUNCTIONS:
    for c in C.cases(s.name, seed):
      if s.part == 1:
        rows = c.args[0] if s.name == "self_attention" else c.args
        assert all(_plain_numbers(a) for a in rows), (s.name, c.index)
      else:
        assert all(_part2_plain(a) for a in c.args), (s.name, c.index)


# ---------------------------------------------------------------------------------------------
# What the hidden generators cover (the list), checked over several seeds.


def _hidden(name, seed):
  return [c.args for c in C.cases(name, seed)[2:]]


def _values(args):
  out = []
  for a in args:
    if isinstance(a, list):
      out.extend(_values(a))
    else:
      out.append(a)
  return out


@pytest.mark.parametrize("seed", SEEDS)
def test_part1_hidden_coverage(seed):
  for name in ("time_align", "feature_align"):
    lens = [(len(a), len(b)) for a, b in _hidden(name, seed)]
    assert any(n == 0 < m for n, m in lens) and any(m == 0 < n for n, m in lens), name
    assert any(n > m > 0 for n, m in lens) and any(0 < n < m for n, m in lens), name
  for name in ("feature_fusion", "attention_fusion", "encode", "decode"):
    hidden = _hidden(name, seed)
    assert any(len(a[0]) == 0 for a in hidden) and any(len(a[0]) == 1 for a in hidden), name
    assert all(len({len(v) for v in a}) == 1 for a in hidden), name  # fusion inputs share one length
  for name in C.NAMES[:8]:
    vals = _values([list(a) for a in _hidden(name, seed)])
    lim = 5 if name.startswith("self_attention") else 100
    assert all(-lim <= v <= lim for v in vals), name
    assert any(v < 0 for v in vals), name
    assert any(isinstance(v, float) and v != int(v) for v in vals), name
    assert any(isinstance(v, int) for v in vals), name
  for name in ("self_attention", "self_attention_fusion"):
    for a in _hidden(name, seed):
      rows = a[0] if name == "self_attention" else a
      assert len(rows) >= 1 and all(len(r) >= 1 and len(r) == len(rows[0]) for r in rows), name
  assert any(len(a[0]) == 1 for a in _hidden("self_attention", seed))


@pytest.mark.parametrize("seed", SEEDS)
def test_part2_hidden_coverage(seed):
  sdpa = _hidden("scaled_dot_product_attention", seed)
  assert {q.ndim - 2 for q, *_ in sdpa} == {0, 1, 2}  # 0, 1, 2 leading batch axes
  assert any(q.shape[-1] != v.shape[-1] for q, k, v, *_ in sdpa)  # dv != d
  assert any(q.ndim > 2 and q.shape[0] == 1 for q, *_ in sdpa)  # batch of 1
  masks = [(q, k, a[0]) for q, k, v, *a in sdpa if a]
  assert len(masks) >= 3 and any(m.shape != q.shape[:-1] + (k.shape[-2],) for q, k, m in masks)
  for q, k, m in masks:
    full = np.broadcast_to(m, q.shape[:-1] + (k.shape[-2],))
    assert m.dtype == np.bool_ and full.any(axis=-1).all()  # no fully-masked query row
  assert any(not m.all() for _, _, m in masks)

  mha = _hidden("multi_head_attention", seed)
  assert any(len(a) == 5 for a in mha) and any(len(a) == 4 for a in mha)
  assert any(a[1].shape[0] == 1 for a in mha) and len({a[3] for a in mha}) >= 2
  for a in mha:
    params, x_q, x_kv, h = a[:4]
    assert params["query"]["kernel"].shape[1] == h
    if len(a) == 5:
      assert a[4].shape == (x_q.shape[0], x_q.shape[1], x_kv.shape[1]) and a[4].any(axis=-1).all()

  for name in ("tensor_fusion", "low_rank_fusion", "gated_fusion", "film"):
    batches = [args[-1].shape[0] for args in _hidden(name, seed)]  # the last argument is [B, ...]
    assert 1 in batches and max(batches) > 1, name

  clip = _hidden("clip_loss", seed)
  temps = [t for *_, t in clip]
  assert min(temps) == 0.01 and max(temps) == 1.0 and all(0.01 <= t <= 1 for t in temps)
  assert any(e.shape[0] == 1 for e, *_ in clip)

  for t_src, x_src, _t_dst in _hidden("interp_align", seed):
    assert np.all(np.diff(t_src) > 0) and x_src.shape[0] == t_src.shape[0] >= 2
  interp = _hidden("interp_align", seed)
  assert any(np.ptp(np.diff(t)) > 1e-3 for t, _, _ in interp)  # non-uniform timestamps
  assert any((d < t[0]).any() for t, _, d in interp) and any((d > t[-1]).any() for t, _, d in interp)

  dtw = _hidden("dtw", seed)
  assert all(x.shape[0] != y.shape[0] for x, y in dtw)
  assert any(x.shape[0] == 1 for x, _ in dtw) and any(y.shape[0] == 1 for _, y in dtw)


# ---------------------------------------------------------------------------------------------
# Both answer sets pass every case, visible and hidden, for several seeds.


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("name", CONTRACT_ORDER)
def test_answer_sets_pass_every_case(answers, refs, name, seed):
  s = C.SPECS[name]
  cs, expected = refs(name, seed)
  for tag in ANSWER_SETS:
    fn = getattr(answers[tag][s.module], name)
    for c, want in zip(cs, expected):
      got = _as_wire(fn(*C.cases(name, seed)[c.index].args))  # fresh inputs, as the grader gives
      v = K.compare(s, c, want, got)
      assert v.ok, (tag, name, seed, c.index, v)
      assert not v.article_erratum


def test_solutions_compute_in_float32(answers):
  sol = answers["solutions_f32"]
  for s in C.FUNCTIONS:
    if s.kind in ("array", "scalar"):
      out = getattr(sol[s.module], s.name)(*C.cases(s.name, 0)[1].args)
      assert np.asarray(out).dtype == np.float32, s.name
  a, b = sol["q1_time_align"].time_align([1, 2], [3])
  assert a.dtype == b.dtype == np.float32


def test_reference_output_types():
  for s in C.FUNCTIONS:
    out = C.reference(s.name, C.cases(s.name, 0)[0].args)
    if s.kind == "pair":
      assert isinstance(out, tuple) and len(out) == 2 and all(o.dtype == np.float64 for o in out)
    elif s.kind == "dtw":
      cost, path = out
      assert cost.dtype == np.float64 and cost.shape == () and path.dtype == np.int64 and path.shape[1] == 2
    else:
      assert isinstance(out, np.ndarray) and out.dtype == np.float64
      assert (out.shape == ()) == (s.kind == "scalar")


def test_reference_is_float64_where_float32_would_differ():
  # 1 + 1e-9 is lost in float32: a float64 reference keeps it.
  out = C.reference("feature_fusion", ([1.0], [1e-9], [0.0]))
  assert out[0] - 1.0 == pytest.approx(1e-9, rel=1e-6)
  x = np.array([[1.0]], np.float32)
  d = C.reference("dtw", (x, x + np.float32(1e-4)))[0]
  assert float(d) == pytest.approx(float(np.float32(1.0001) - np.float32(1.0)), rel=1e-12)


def test_multi_head_attention_matches_flax(answers):
  # The contract's definition: MultiHeadDotProductAttention with the same parameters.
  import flax.linen as nn
  import jax.numpy as jnp

  sol = answers["solutions_f32"]["p2_attention"]
  for c in C.cases("multi_head_attention", 0)[:2]:
    params, x_q, x_kv, h = c.args[:4]
    mask = c.args[4] if len(c.args) == 5 else None
    d_head, d_out = params["query"]["kernel"].shape[2], params["out"]["kernel"].shape[2]
    layer = nn.MultiHeadDotProductAttention(num_heads=h, qkv_features=h * d_head, out_features=d_out)
    want = layer.apply(
      {"params": params}, jnp.asarray(x_q), jnp.asarray(x_kv), mask=None if mask is None else jnp.asarray(mask)[:, None]
    )
    np.testing.assert_allclose(np.asarray(sol.multi_head_attention(*c.args)), np.asarray(want), rtol=1e-5, atol=1e-5)


def test_dtw_reference_path_is_optimal_on_a_brute_force_check():
  # Enumerate every warping path of a small case: the reference cost is the true minimum.
  x, y = C.cases("dtw", 5)[2].args
  x, y = x.astype(np.float64), y.astype(np.float64)
  n, m = len(x), len(y)

  def paths(i, j):
    if (i, j) == (n - 1, m - 1):
      yield [(i, j)]
      return
    for di, dj in ((1, 0), (0, 1), (1, 1)):
      if i + di < n and j + dj < m:
        for rest in paths(i + di, j + dj):
          yield [(i, j)] + rest

  best = min(sum(math.dist(x[i], y[j]) for i, j in p) for p in paths(0, 0))
  assert float(C.reference("dtw", (x.astype(np.float32), y.astype(np.float32)))[0]) == pytest.approx(best, rel=1e-6)
