"""Part III records of exercises/p3_attention.py: masked attention, the MulT block, Perceiver cross-attention.

For each record: its question.toml fields, exactly 2 visible and 8 seeded hidden cases (deterministic
per seed), the stub, and the zoo's float64 reference against the float64 answer set and the float32
solution over the visible cases and 3 seeds of hidden ones, within the record's own tolerances.
"""

from __future__ import annotations

import copy
import inspect
import math

import numpy as np
import pytest
from p3_records import (
  KINDS,
  ROOT,
  SEEDS,
  load_py,
  mismatch,
  plain_data,
  record,
  reference,
  same_cases,
  stub_doc_matches,
)

MODULE = "p3_attention"
NAMES = ["masked_attention", "mult_block", "perceiver_cross_attention", "co_attention"]


@pytest.fixture(scope="module")
def mods():
  return {
    tag: load_py(ROOT / folder / f"{MODULE}.py", f"_p3_{tag}_{MODULE}")
    for tag, folder in (("stub", "exercises"), ("f32", "solutions"), ("f64", "tests/answers_f64"))
  }


@pytest.fixture(scope="module")
def all_cases():
  """name -> (toml, private, [(case, reference)]) over the visible cases and SEEDS' hidden ones."""
  out = {}
  for name in NAMES:
    toml, private = record(name)
    cs = list(private.visible()) + [c for s in SEEDS for c in private.hidden(np.random.default_rng(s))]
    out[name] = toml, private, [(c, reference(private, c)) for c in cs]
  return out


@pytest.mark.parametrize("name", NAMES)
def test_record_fields(name, mods):
  toml, _ = record(name)
  assert (toml["name"], toml["module"], toml["part"]) == (name, MODULE, 3)
  assert toml["params"] == list(inspect.signature(getattr(mods["stub"], name)).parameters)
  assert toml["title_en"] and toml["title_zh"] and toml["task"]["en"] and toml["task"]["zh"]
  cmp = toml["compare"]
  assert cmp["kind"] in KINDS and cmp["atol_scales_with_input"] is False
  assert (cmp["rtol"], cmp["atol"]) == (1e-4, 1e-4)  # Part II's rule; no input scaling


@pytest.mark.parametrize("name", NAMES)
def test_case_counts_and_determinism(name):
  _, private = record(name)
  assert len(private.visible()) == 2 and same_cases(private.visible(), private.visible())
  first = private.hidden(np.random.default_rng(7))
  assert len(first) == 8 and all(isinstance(c, tuple) for c in first)
  assert same_cases(first, private.hidden(np.random.default_rng(7)))
  assert not same_cases(first, private.hidden(np.random.default_rng(8)))
  assert all(plain_data(c) for c in private.visible() + first)


@pytest.mark.parametrize("name", NAMES)
def test_stub_raises_and_shows_the_task(name, mods):
  toml, private = record(name)
  fn = getattr(mods["stub"], name)
  assert stub_doc_matches(fn, toml)
  with pytest.raises(NotImplementedError):
    fn(*copy.deepcopy(private.visible()[0]))


@pytest.mark.parametrize("tag", ["f64", "f32"])
@pytest.mark.parametrize("name", NAMES)
def test_answers_match_the_reference(name, tag, mods, all_cases):
  toml, _, pairs = all_cases[name]
  cmp = toml["compare"]
  for i, (args, want) in enumerate(pairs):
    assert all(np.all(np.isfinite(w)) for w in (want if isinstance(want, tuple) else (want,))), (
      f"{name} case {i}: the reference is not finite"
    )
    got = getattr(mods[tag], name)(*copy.deepcopy(args))
    why = mismatch(cmp["kind"], cmp["rtol"], cmp["atol"], want, got)
    assert why is None, f"{name} case {i} ({tag}): {why}"


def test_masked_attention_cases_catch_the_edge_rules(all_cases):
  """Every seed has a fully padded sample, so the uniform-average answer fails; ignoring the mask fails too."""
  toml, _, pairs = all_cases["masked_attention"]
  cmp = toml["compare"]

  def plain(q, k, v, lengths, masked):
    s = np.einsum("bqd,bkd->bqk", q, k) / np.sqrt(q.shape[-1])
    if masked:
      s = np.where(np.arange(k.shape[1])[None, None, :] < lengths[:, None, None], s, np.finfo(np.float64).min)
    w = np.exp(s - s.max(-1, keepdims=True))
    return np.einsum("bqk,bkv->bqv", w / w.sum(-1, keepdims=True), v)

  for masked in (True, False):
    for s in range(len(SEEDS)):
      hidden = pairs[2 + 8 * s : 10 + 8 * s]
      fails = [
        mismatch("array", cmp["rtol"], cmp["atol"], want, plain(*upcast64(args), masked)) for args, want in hidden
      ]
      assert any(fails), f"seed {SEEDS[s]}: masked={masked} passes every hidden case"


def upcast64(args):
  return tuple(np.asarray(a, np.float64) if np.asarray(a).dtype.kind == "f" else a for a in args)


@pytest.mark.parametrize("name", ["mult_block", "perceiver_cross_attention"])
def test_block_cases_catch_the_exact_gelu(name, mods, all_cases, monkeypatch):
  """The text fixes GELU's tanh approximation: the exact (erf) GELU fails some hidden case of every seed."""
  toml, _, pairs = all_cases[name]
  cmp = toml["compare"]
  erf = np.vectorize(math.erf)
  monkeypatch.setattr(mods["f64"], "_gelu", lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))))
  for s in range(len(SEEDS)):
    hidden = pairs[2 + 8 * s : 10 + 8 * s]
    fails = [
      mismatch("array", cmp["rtol"], cmp["atol"], want, getattr(mods["f64"], name)(*copy.deepcopy(args)))
      for args, want in hidden
    ]
    assert any(fails), f"seed {SEEDS[s]}: the exact GELU passes every hidden case"


@pytest.mark.parametrize("mistake", ["sequential", "ignores_masks"])
def test_co_attention_cases_catch_the_usual_mistakes(mistake, mods, all_cases):
  """Updating b from the new a, or reading padded tokens, fails some hidden case of every seed."""
  toml, _, pairs = all_cases["co_attention"]
  cmp = toml["compare"]
  block = mods["f64"]._block_one

  def wrong(params, x_a, x_b, mask_a, mask_b, num_heads):
    if mistake == "ignores_masks":
      return mods["f64"].co_attention(params, x_a, x_b, np.ones_like(mask_a), np.ones_like(mask_b), num_heads)
    new_a = np.stack([block(params["a"], x_a[i], x_b[i], mask_b[i]) for i in range(len(x_a))])
    return new_a, np.stack([block(params["b"], x_b[i], new_a[i], mask_a[i]) for i in range(len(x_b))])

  for s in range(len(SEEDS)):
    hidden = pairs[2 + 8 * s : 10 + 8 * s]
    fails = [mismatch("tuple", cmp["rtol"], cmp["atol"], want, wrong(*copy.deepcopy(args))) for args, want in hidden]
    assert any(fails), f"seed {SEEDS[s]}: the {mistake} answer passes every hidden case"


def test_masked_attention_text_example_is_true(all_cases):
  """The task's example, worked by hand: sample 0's queries weigh its two keys by a sigmoid; sample 1 is zeros."""
  want = all_cases["masked_attention"][2][0][1]
  w = 1 / (1 + math.exp(-1 / math.sqrt(2)))  # softmax of the scores (1/√2, 0)
  by_hand = [[[3 - 2 * w, 4 - 2 * w], [1 + 2 * w, 2 + 2 * w]], [[0, 0], [0, 0]]]
  np.testing.assert_allclose(want, by_hand, rtol=1e-12, atol=1e-12)
  np.testing.assert_allclose(want, [[[1.6604769, 2.6604769], [2.3395231, 3.3395231]], [[0, 0], [0, 0]]], atol=1e-7)
  toml, _ = record("masked_attention")
  assert "[[[1.6604769, 2.6604769], [2.3395231, 3.3395231]], [[0, 0], [0, 0]]]" in toml["task"]["en"]
