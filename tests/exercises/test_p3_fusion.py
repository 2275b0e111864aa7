"""Part III, fusion records: reference (zoo, float64) = f64 answer = float32 solution, over 3 seeds."""
from __future__ import annotations

import pytest

import _p3_support as S

MODULE = "p3_fusion"
NAMES = ["mfb_pool", "multiplicative_interaction", "mbt_bottleneck"]


@pytest.fixture(scope="module")
def modules():
  return {folder: S.load_module(S.ROOT / folder / f"{MODULE}.py", f"_p3_{folder.replace('/', '_')}_{MODULE}")
          for folder in ("solutions", "tests/answers_f64", "exercises")}


@pytest.mark.parametrize("name", NAMES)
def test_reference_f64_answer_and_f32_solution_agree(name, modules):
  meta, private = S.record(name)
  for label, args in S.all_cases(private):
    want = S.reference(private, args)
    for folder in ("tests/answers_f64", "solutions"):
      got = getattr(modules[folder], name)(*S.fresh(args))
      S.assert_close(meta, want, got, (name, label, folder))


@pytest.mark.parametrize("name", NAMES)
def test_record_shape_counts_and_determinism(name, modules):
  meta, private = S.record(name)
  assert meta["name"] == name and meta["module"] == MODULE and meta["part"] == 3
  assert meta["task"]["en"].strip() and meta["task"]["zh"].strip()
  assert len(private.visible()) == 2
  import numpy as np
  for seed in S.SEEDS:
    first = private.hidden(np.random.default_rng(seed))
    assert len(first) == 8
    assert S.equal_cases(first, private.hidden(np.random.default_rng(seed)))
    for args in first:
      assert len(args) == len(meta["params"])
  assert not S.equal_cases(private.hidden(np.random.default_rng(0)), private.hidden(np.random.default_rng(1)))


@pytest.mark.parametrize("name", NAMES)
def test_stub_raises_and_carries_the_task(name, modules):
  meta, private = S.record(name)
  stub = getattr(modules["exercises"], name)
  with pytest.raises(NotImplementedError):
    stub(*private.visible()[0])
  squash = lambda s: " ".join(s.split())
  for lang in ("en", "zh"):
    assert squash(meta["task"][lang]) in squash(stub.__doc__), (name, lang)
