"""Part III records of exercises/p3_decoding.py: one cached decoding step and beam search over a table.

For each record: its question.toml fields, exactly 2 visible and 8 seeded hidden cases (deterministic
per seed), the stub, and the float64 reference against the float64 answer set and the float32
solution over the visible cases and 3 seeds of hidden ones, within the record's own tolerances; then
that the hidden cases catch the mistakes the task text warns about.
"""

from __future__ import annotations

import copy
import inspect

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

MODULE = "p3_decoding"
NAMES = ["kv_decode_step", "beam_search"]


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


def _hidden_by_seed(pairs):
  """The (case, reference) pairs of each seed's 8 hidden cases (the 2 visible ones come first)."""
  return [pairs[2 + 8 * s : 10 + 8 * s] for s in range(len(SEEDS))]


@pytest.mark.parametrize("name", NAMES)
def test_record_fields(name, mods):
  toml, _ = record(name)
  assert (toml["name"], toml["module"], toml["part"]) == (name, MODULE, 3)
  assert toml["params"] == list(inspect.signature(getattr(mods["stub"], name)).parameters)
  assert toml["title_en"] and toml["title_zh"] and toml["task"]["en"] and toml["task"]["zh"]
  cmp = toml["compare"]
  assert cmp["kind"] in KINDS and cmp["kind"] == "tuple" and cmp["atol_scales_with_input"] is False
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
    assert all(np.all(np.isfinite(w)) for w in want), f"{name} case {i}: the reference is not finite"
    got = getattr(mods[tag], name)(*copy.deepcopy(args))
    why = mismatch(cmp["kind"], cmp["rtol"], cmp["atol"], want, got)
    assert why is None, f"{name} case {i} ({tag}): {why}"


def test_kv_decode_step_leaves_its_inputs_alone(mods):
  _, private = record("kv_decode_step")
  args = private.hidden(np.random.default_rng(3))[1]
  before = copy.deepcopy(args)
  for tag in ("f32", "f64"):
    mods[tag].kv_decode_step(*args)
  assert same_cases(args, before)


def test_kv_decode_step_cases_catch_a_non_causal_step(mods, all_cases):
  """Attending to every cache slot (the garbage after pos included) fails some hidden case of every seed."""
  toml, _, pairs = all_cases["kv_decode_step"]
  cmp = toml["compare"]
  for s, hidden in enumerate(_hidden_by_seed(pairs)):
    fails = []
    for (params, x_t, ck, cv, pos), want in hidden:
      t_max = ck.shape[1]
      # Seen from the last slot, a step at pos that attends to everything: move pos's row to the end.
      order = [t for t in range(t_max) if t != pos] + [pos]
      out, _, _ = mods["f64"].kv_decode_step(params, x_t, ck[:, order], cv[:, order], t_max - 1)
      fails.append(mismatch("array", cmp["rtol"], cmp["atol"], want[0], out))
    assert any(fails), f"seed {SEEDS[s]}: a non-causal step passes every hidden case"


def _relabelled(private, table, beam_size, max_len, eos, alpha):
  """The reference with token ids reversed: ties then go to the larger original id."""
  v = table.shape[0]
  rev = np.arange(v)[::-1]
  seq, score = reference(private, (table[np.ix_(rev, rev)], beam_size, max_len, v - 1 - eos, alpha))
  return rev[seq], score


@pytest.mark.parametrize("mistake", ["inverted_penalty", "no_penalty", "ties_to_larger_ids", "greedy"])
def test_beam_search_cases_catch_the_usual_mistakes(mistake, all_cases):
  """Each mistake fails at least one hidden case of every seed (so an inverted length penalty cannot pass)."""
  toml, private, pairs = all_cases["beam_search"]
  cmp = toml["compare"]
  wrong = {
    "inverted_penalty": lambda t, k, n, e, a: reference(private, (t, k, n, e, -a)),  # multiplies by it
    "no_penalty": lambda t, k, n, e, a: reference(private, (t, k, n, e, 0.0)),
    "ties_to_larger_ids": lambda t, k, n, e, a: _relabelled(private, t, k, n, e, a),
    "greedy": lambda t, k, n, e, a: reference(private, (t, 1, n, e, a)),
  }[mistake]
  for s, hidden in enumerate(_hidden_by_seed(pairs)):
    fails = [mismatch("tuple", cmp["rtol"], cmp["atol"], want, wrong(*args)) for args, want in hidden]
    assert any(fails), f"seed {SEEDS[s]}: {mistake} passes every hidden case"


def test_beam_search_visible_cases_show_ties_and_the_penalty():
  """The first visible case needs the tie rule at step 2; the second changes answer without its penalty."""
  _, private = record("beam_search")
  (t1, k1, n1, e1, a1), (t2, k2, n2, e2, a2) = private.visible()
  assert a1 == 0.0 and a2 > 0
  seq, score = private.reference(t1, k1, n1, e1, a1)
  assert list(seq) == [2, 0, 0, 0] and score == -1.25
  assert list(private.reference(t2, k2, n2, e2, 0.0)[0]) != list(private.reference(t2, k2, n2, e2, a2)[0])
