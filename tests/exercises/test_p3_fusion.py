"""Part III, fusion records: reference (zoo, float64) = f64 answer = float32 solution, over 3 seeds."""

from __future__ import annotations

import _p3_support as S
import numpy as np
import pytest

MODULE = "p3_fusion"
NAMES = ["mfb_pool", "multiplicative_interaction", "mbt_bottleneck"]


@pytest.fixture(scope="module")
def modules():
  return {
    folder: S.load_module(S.ROOT / folder / f"{MODULE}.py", f"_p3_{folder.replace('/', '_')}_{MODULE}")
    for folder in ("solutions", "tests/answers_f64", "exercises")
  }


@pytest.mark.parametrize("name", NAMES)
def test_reference_f64_answer_and_f32_solution_agree(name, modules):
  meta, _ = S.record(name)
  for label, args, want in S.expected_cases(name):
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


# ---------------------------------------------------------------------------------------------
# Plausible mistakes, each one convention away from the task; the hidden cases must catch every one.


def _mfb(params, x, y, k, window_major=False, power=True, l2=True):
  a = lambda v: np.asarray(v, np.float64)
  e = (a(x) @ a(params["expand_0"]["kernel"]) + a(params["expand_0"]["bias"])) * (
    a(y) @ a(params["expand_1"]["kernel"]) + a(params["expand_1"]["bias"])
  )
  b = e.shape[0]
  pooled = e.reshape(b, k, -1).sum(1) if window_major else e.reshape(b, -1, k).sum(-1)
  s = np.sign(pooled) * np.sqrt(np.abs(pooled)) if power else pooled
  return s / np.maximum(np.linalg.norm(s, axis=-1, keepdims=True), 1e-12) if l2 else s


def _mi(params, x, z, linear=True, bias=True):
  a = lambda v: np.asarray(v, np.float64)
  x, z = a(x), a(z)
  out = np.einsum("bi,ijo,bj->bo", x, a(params["W"]), z)
  if linear:
    out = out + x @ a(params["U"]) + z @ a(params["V"])
  return out + a(params["b"]) if bias else out


def _ln(u, p):
  mu = u.mean(-1, keepdims=True)
  return (u - mu) / np.sqrt(((u - mu) ** 2).mean(-1, keepdims=True) + 1e-6) * p["scale"] + p["bias"]


def _mha(p, y):
  q, k, v = (
    np.einsum("bld,dhe->bhle", y, p[n]["kernel"]) + p[n]["bias"][None, :, None] for n in ("query", "key", "value")
  )
  s = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
  w = np.exp(s - s.max(-1, keepdims=True))
  return np.einsum("bhle,hed->bld", (w / w.sum(-1, keepdims=True)) @ v, p["out"]["kernel"]) + p["out"]["bias"]


def _mbt(params, x_a, x_b, bn, h, post_ln=False, combine="mean", joint=False):
  params = S.upcast(params)
  x_a, x_b, bn = (np.asarray(t, np.float64) for t in (x_a, x_b, bn))
  if joint:  # one sequence of all tokens: the modalities see each other directly (no bottleneck)
    u = np.concatenate([x_a, x_b, bn], 1)
    u = u + _mha(params["a"]["attn"], _ln(u, params["a"]["ln"]))
    la, lb = x_a.shape[1], x_b.shape[1]
    return u[:, :la], u[:, la : la + lb], u[:, la + lb :]
  outs, copies = [], []
  for m, x in (("a", x_a), ("b", x_b)):
    u = np.concatenate([x, bn], 1)
    p = params[m]
    u = _ln(u + _mha(p["attn"], u), p["ln"]) if post_ln else u + _mha(p["attn"], _ln(u, p["ln"]))
    outs.append(u[:, : x.shape[1]])
    copies.append(u[:, x.shape[1] :])
  new = {"mean": (copies[0] + copies[1]) / 2, "sum": copies[0] + copies[1], "a only": copies[0]}[combine]
  return outs[0], outs[1], new


MISTAKES = {
  "mfb_pool": {
    "pooling windows k apart (reshape(B, k, o))": lambda p, x, y, k: _mfb(p, x, y, k, window_major=True),
    "no signed square root": lambda p, x, y, k: _mfb(p, x, y, k, power=False),
    "no l2 normalisation": lambda p, x, y, k: _mfb(p, x, y, k, l2=False),
  },
  "multiplicative_interaction": {
    "bilinear term only": lambda p, x, z: _mi(p, x, z, linear=False, bias=False),
    "no bias": lambda p, x, z: _mi(p, x, z, bias=False),
  },
  "mbt_bottleneck": {
    "post-LayerNorm": lambda *a: _mbt(*a, post_ln=True),
    "copies summed, not averaged": lambda *a: _mbt(*a, combine="sum"),
    "bottleneck from modality a only": lambda *a: _mbt(*a, combine="a only"),
    "one joint sequence (no bottleneck)": lambda *a: _mbt(*a, joint=True),
  },
}


@pytest.mark.parametrize("name,mistake", [(n, m) for n, ms in MISTAKES.items() for m in ms])
def test_hidden_cases_catch_the_plausible_mistakes(name, mistake):
  assert S.caught_by_hidden(name, MISTAKES[name][mistake]), (name, mistake)


CONTROLS = {  # the same helpers without the mistake: they must pass, or the test above proves nothing
  "mfb_pool": _mfb,
  "multiplicative_interaction": _mi,
  "mbt_bottleneck": _mbt,
}


@pytest.mark.parametrize("name", list(CONTROLS))
def test_the_mistakes_helpers_are_right_without_the_mistake(name):
  assert not S.caught_by_hidden(name, CONTROLS[name])


# The worked example each task prints (for its first visible case) is the reference's value.
EXAMPLES = {"mfb_pool": ("[[0.5, 0.866025]]", [[0.5, 0.866025]]), "multiplicative_interaction": ("[[13.5]]", [[13.5]])}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_tasks_worked_example_is_the_reference(name):
  meta, _ = S.record(name)
  text, value = EXAMPLES[name]
  assert text in meta["task"]["en"] and text in meta["task"]["zh"]
  want = S.expected_cases(name)[0][2]
  assert np.allclose(want, value, rtol=0, atol=5e-7), (name, want)


def test_mbt_example_a_zero_output_projection_leaves_b_and_averages_the_bottleneck():
  # The task's example: modality b's attention adds nothing, so x_b′ = x_b and the new bottleneck is
  # (n_a + bottleneck)/2, where n_a is a's copy (what the step returns when both modalities use a's weights).
  private = S.record("mbt_bottleneck")[1]
  params, x_a, x_b, bn, h = private.visible()[0]
  assert not np.any(params["b"]["attn"]["out"]["kernel"]) and not np.any(params["b"]["attn"]["out"]["bias"])
  _, new_b, new_bn = S.reference(private, (params, x_a, x_b, bn, h))
  n_a = S.reference(private, ({"a": params["a"], "b": params["a"]}, x_a, x_a, bn, h))[2]
  assert np.allclose(new_b, x_b, rtol=0, atol=1e-12)
  assert np.allclose(new_bn, (n_a + bn) / 2, rtol=0, atol=1e-12)
  assert not np.allclose(n_a, bn)  # a's attention does move the bottleneck
