"""Part III, alignment records: reference (zoo, float64) = f64 answer = float32 solution, over 3 seeds."""

from __future__ import annotations

import _p3_support as S
import numpy as np
import pytest

MODULE = "p3_alignment"
NAMES = ["soft_dtw", "siglip_loss", "deep_cca_loss", "resample_grid"]


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


def _soft_dtw_table(cost, gamma, border=np.inf, scaled=True):
  n, m = cost.shape
  r = np.full((n + 1, m + 1), border)
  r[0, 0] = 0.0
  g = gamma if scaled else 1.0
  for i in range(1, n + 1):
    for j in range(1, m + 1):
      p = np.array([r[i - 1, j], r[i, j - 1], r[i - 1, j - 1]])
      lo = p.min()
      r[i, j] = cost[i - 1, j - 1] + lo - g * np.log(np.exp(-(p - lo) / g).sum())
  return r[n, m]


def _sq(x, y):
  return ((np.asarray(x, np.float64)[:, None] - np.asarray(y, np.float64)[None]) ** 2).sum(-1)


def _unit(e):
  e = np.asarray(e, np.float64)
  return e / np.linalg.norm(e, axis=1, keepdims=True)


def _siglip(img, txt, t, b, unit=True, per_pair=False, f32_naive=False):
  dtype = np.float32 if f32_naive else np.float64
  x, y = (_unit(img), _unit(txt)) if unit else (np.asarray(img, np.float64), np.asarray(txt, np.float64))
  logits = (t * x @ y.T + b).astype(dtype)
  z = (2 * np.eye(len(x)) - 1).astype(dtype)
  terms = -np.log(1 / (1 + np.exp(-z * logits))) if f32_naive else np.logaddexp(0, -z * logits)
  return terms.sum() / (len(x) ** 2 if per_pair else len(x))


def _cca(h1, h2, r1, r2, k, ddof=1, centre=True, top=True):
  h1, h2 = np.asarray(h1, np.float64), np.asarray(h2, np.float64)
  if centre:
    h1, h2 = h1 - h1.mean(0), h2 - h2.mean(0)
  n = len(h1) - ddof

  def inv_sqrt(s):
    lam, v = np.linalg.eigh(s)
    return (v / np.sqrt(lam)) @ v.T

  s11 = h1.T @ h1 / n + r1 * np.eye(h1.shape[1])
  s22 = h2.T @ h2 / n + r2 * np.eye(h2.shape[1])
  corr = np.linalg.svd(inv_sqrt(s11) @ (h1.T @ h2 / n) @ inv_sqrt(s22), compute_uv=False)
  return -corr[:k].sum() if top else -corr.sum()


def _resample_align_corners(feat, out_h, out_w):
  f = np.asarray(feat, np.float64)
  rows = [np.linspace(0, f.shape[0] - 1, out_h)] if out_h > 1 else [np.zeros(1)]
  cols = [np.linspace(0, f.shape[1] - 1, out_w)] if out_w > 1 else [np.zeros(1)]
  out = np.zeros((out_h, out_w, f.shape[2]))
  for a, s in enumerate(rows[0]):
    for c, t in enumerate(cols[0]):
      i0, j0 = int(np.floor(s)), int(np.floor(t))
      i1, j1 = min(i0 + 1, f.shape[0] - 1), min(j0 + 1, f.shape[1] - 1)
      u, v = s - i0, t - j0
      out[a, c] = (1 - u) * (1 - v) * f[i0, j0] + (1 - u) * v * f[i0, j1] + u * (1 - v) * f[i1, j0] + u * v * f[i1, j1]
  return out


def _resample_antialiased(feat, out_h, out_w):
  import jax

  return np.asarray(
    jax.image.resize(np.asarray(feat, np.float32), (out_h, out_w, feat.shape[2]), "linear", antialias=True)
  )


MISTAKES = {
  "soft_dtw": {
    "Euclidean instead of squared cost": lambda x, y, g: _soft_dtw_table(np.sqrt(_sq(x, y)), g),
    "hard minimum (plain DTW)": lambda x, y, g: _soft_dtw_table(_sq(x, y), 1e-9),
    "soft-min without γ": lambda x, y, g: _soft_dtw_table(_sq(x, y), g, scaled=False),
    "border cells 0 instead of +inf": lambda x, y, g: _soft_dtw_table(_sq(x, y), g, border=0.0),
  },
  "siglip_loss": {
    "mean over the B² pairs": lambda i, t_, t, b: _siglip(i, t_, t, b, per_pair=True),
    "no L2 normalisation": lambda i, t_, t, b: _siglip(i, t_, t, b, unit=False),
    "t read as the log-temperature": lambda i, t_, t, b: _siglip(i, t_, np.exp(t), b),
    "log(σ) in float32, unstabilised": lambda i, t_, t, b: _siglip(i, t_, t, b, f32_naive=True),
  },
  "deep_cca_loss": {
    "1/n instead of 1/(n − 1)": lambda a, b, r1, r2, k: _cca(a, b, r1, r2, k, ddof=0),
    "no centring": lambda a, b, r1, r2, k: _cca(a, b, r1, r2, k, centre=False),
    "all correlations instead of the top k": lambda a, b, r1, r2, k: _cca(a, b, r1, r2, k, top=False),
    "ridges swapped": lambda a, b, r1, r2, k: _cca(a, b, r2, r1, k),
  },
  "resample_grid": {
    "corners aligned (align_corners=True)": _resample_align_corners,
    "antialiased when shrinking": _resample_antialiased,
  },
}


@pytest.mark.parametrize("name,mistake", [(n, m) for n, ms in MISTAKES.items() for m in ms])
def test_hidden_cases_catch_the_plausible_mistakes(name, mistake):
  assert S.caught_by_hidden(name, MISTAKES[name][mistake]), (name, mistake)


CONTROLS = {  # the same helpers without the mistake: they must pass, or the test above proves nothing
  "soft_dtw": lambda x, y, g: _soft_dtw_table(_sq(x, y), g),
  "siglip_loss": _siglip,
  "deep_cca_loss": _cca,
}


@pytest.mark.parametrize("name", ["soft_dtw", "siglip_loss", "deep_cca_loss"])
def test_the_mistakes_helpers_are_right_without_the_mistake(name):
  assert not S.caught_by_hidden(name, CONTROLS[name])


def test_align_corners_helper_is_the_identity_at_equal_sizes():
  f = np.random.default_rng(0).standard_normal((3, 4, 2))
  assert np.allclose(_resample_align_corners(f, 3, 4), f)


# The worked example each task prints (for its first visible case) is the reference's value.
EXAMPLES = {
  "soft_dtw": ("−0.551445", -0.551445),
  "siglip_loss": ("0.693193", 0.693193),
  "deep_cca_loss": ("−0.8", -0.8),
  "resample_grid": ("[[[0], [0.25], [0.75], [1]]]", [[[0], [0.25], [0.75], [1]]]),
}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_the_tasks_worked_example_is_the_reference(name):
  meta = S.record(name)[0]
  text, value = EXAMPLES[name]
  assert text in meta["task"]["en"] and text in meta["task"]["zh"]
  want = S.expected_cases(name)[0][2]
  assert np.allclose(want, value, rtol=0, atol=5e-7), (name, want)
