"""The PyTorch twins of whole models compute what the zoo computes; model_bench.py's checks can fail; it runs.

The twin tests need torch (the optional `.venv-bench`) and are skipped without it. No timing is asserted.
"""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

from zoo import encdec, models, tokenizer  # noqa: E402

CASES = [
  ("parallel", {}),
  ("parallel", {"fusion": "LMF"}),
  ("parallel", {"fusion": "GMU"}),
  ("serial", {}),
  ("alignment", {}),
  ("encdec", {}),
]


@pytest.fixture(scope="module")
def mt():
  pytest.importorskip("torch")
  import model_twins

  return model_twins


@pytest.mark.parametrize("name,changes", CASES, ids=[f"{n}{c.get('fusion', '')}" for n, c in CASES])
def test_twin_forward_matches_zoo(mt, name, changes):
  """Logits (and the alignment model's contrastive loss) agree within float32 rounding, train=False."""
  import torch

  cfg = models.TINY.replace(**changes)
  model = models.build(name, cfg)
  params = models.init_params(model, cfg, jax.random.key(0))
  batch = models.example_batch(cfg, jax.random.key(1), 3)
  want, aux = model.apply({"params": params}, batch, train=False)
  with torch.inference_mode():
    got, got_aux = mt.build(name, cfg, params).eval()(mt.batch_to_torch(batch))
  np.testing.assert_allclose(got.numpy(), np.asarray(want), rtol=1e-4, atol=1e-4 * float(np.abs(want).max()))
  if name == "alignment":
    np.testing.assert_allclose(float(got_aux), float(aux["contrastive_loss"]), rtol=1e-5)


def test_twin_ids_are_the_tokenizers(mt):
  assert (mt.PAD, mt.BOS, mt.EOS) == (tokenizer.PAD, tokenizer.BOS, tokenizer.EOS)


def test_twin_generation_matches_zoo(mt):
  """The twin's cached greedy and beam-4 loops give the zoo's tokens and scores (ends and PAD included)."""
  import torch

  cfg = models.TINY.replace(target_len=10)
  model = models.build("encdec", cfg)
  params = models.init_params(model, cfg, jax.random.key(0))
  batch = models.example_batch(cfg, jax.random.key(1), 3, with_label=False)
  twin, tb = mt.build("encdec", cfg, params).eval(), mt.batch_to_torch(batch)
  with torch.inference_mode():
    greedy = twin.greedy(tb, 10).numpy()
    beam, scores = twin.beam(tb, 4, 10)
  np.testing.assert_array_equal(greedy, np.asarray(encdec.greedy_decode(model, params, batch, 10)))
  z_beam, z_scores = encdec.beam_search(model, params, batch, 4, 10)
  np.testing.assert_array_equal(beam.numpy(), np.asarray(z_beam))
  np.testing.assert_allclose(scores.numpy(), np.asarray(z_scores), rtol=1e-4)


def test_compiled_twin_generation_matches_zoo(mt):
  """With its decoder step under torch.compile (full-length cache, position mask) the twin still gives the
  zoo's greedy and beam-4 tokens and scores; the compiled step is what runs (a spy counts its calls)."""
  import torch

  cfg = models.TINY.replace(target_len=10)
  model = models.build("encdec", cfg)
  params = models.init_params(model, cfg, jax.random.key(0))
  batch = models.example_batch(cfg, jax.random.key(1), 3, with_label=False)
  twin, tb = mt.build("encdec", cfg, params).eval().compile_step(dynamic=False), mt.batch_to_torch(batch)
  compiled, calls = twin.compiled_step, []
  twin.compiled_step = lambda *a: calls.append(1) or compiled(*a)
  with torch.inference_mode():
    greedy = twin.greedy(tb, 10).numpy()
    beam, scores = twin.beam(tb, 4, 10)
  assert len(calls) == 20
  np.testing.assert_array_equal(greedy, np.asarray(encdec.greedy_decode(model, params, batch, 10)))
  z_beam, z_scores = encdec.beam_search(model, params, batch, 4, 10)
  np.testing.assert_array_equal(beam.numpy(), np.asarray(z_beam))
  np.testing.assert_allclose(scores.numpy(), np.asarray(z_scores), rtol=1e-4)


def test_generation_setup_never_ends_and_ran_all_steps_sees_an_early_stop(mt):
  """With EOS and PAD embeddings zeroed the zoo decodes every step; an early stop would be detected."""
  import model_bench

  s = model_bench.generation_setup(True, 2)
  tokens = np.asarray(encdec.greedy_decode(s.model, s.params, s.batch, model_bench.GEN_TOKENS))
  assert model_bench.ran_all_steps(tokens) and not np.isin(tokens, [tokenizer.PAD, tokenizer.EOS]).any()
  stopped = tokens.copy()
  stopped[:, -3:] = tokenizer.PAD
  assert not model_bench.ran_all_steps(stopped)


def test_adamw_check_passes_and_catches_a_wrong_learning_rate(mt, monkeypatch):
  """optax and torch.optim.AdamW agree after three steps; a torch step at twice the rate is caught."""
  import dataclasses

  import model_bench
  import zoo_bench

  zoo_bench._imports()
  s = model_bench.setup("parallel", "parallel", {}, True, 2)
  tcfg = model_bench.train_config()
  step_fn, state = model_bench.zoo_step_fn(s, tcfg)
  ok = model_bench.adamw_check(s, tcfg, step_fn, state)
  assert ok["adamw_check"] == "passed", ok
  assert ok["adamw_noise_entries_left_out"] < 100  # the key biases, not whole tensors
  trainer = model_bench.torch_trainer
  monkeypatch.setattr(
    model_bench,
    "torch_trainer",
    lambda s, t, **kw: trainer(s, dataclasses.replace(t, learning_rate=2 * t.learning_rate), **kw),
  )
  bad = model_bench.adamw_check(s, tcfg, step_fn, state)
  assert bad["adamw_check"] == "FAILED" and bad["adamw_worst_rel_diff"] > 0.5, bad


def test_adamw_check_passes_on_the_compiled_twin(mt):
  """With forward and loss under torch.compile the twin's three AdamW steps still land on the zoo's
  parameters and losses (the `train/... (torch.compile)` rows are checked the same way before timing)."""
  import model_bench
  import zoo_bench

  zoo_bench._imports()
  s = model_bench.setup("parallel", "parallel", {}, True, 2)
  tcfg = model_bench.train_config()
  step_fn, state = model_bench.zoo_step_fn(s, tcfg)
  ok = model_bench.adamw_check(s, tcfg, step_fn, state, compile=True)
  assert ok["adamw_check"] == "passed", ok


def test_model_bench_quick_runs(tmp_path):
  """`model_bench.py --quick --no-torch` runs one forward and one train row and writes its JSON key."""
  out = tmp_path / "m.json"
  out.write_text(json.dumps({"runs": {"kept": True}}))
  proc = subprocess.run(
    [
      sys.executable,
      os.path.join(BENCH, "model_bench.py"),
      "--quick",
      "--no-torch",
      "--only",
      "^(forward|train)/parallel$",
      "--out",
      str(out),
    ],
    capture_output=True,
    text=True,
    timeout=600,
    env=dict(os.environ, PYTHONPATH=ROOT),
    cwd=ROOT,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  data = json.loads(out.read_text())
  assert data["runs"] == {"kept": True}  # zoo_bench.py's figures are left alone
  rows = {r["name"]: r for r in data["models"]["rows"]}
  assert set(rows) == {"forward/parallel", "train/parallel"}, rows
  assert all("error" not in r and r["zoo_ms"] > 0 and r["flops"] > 0 for r in rows.values()), rows
  assert rows["train/parallel"]["zoo_steps_per_s"] > 0
  assert "| train/parallel |" in proc.stdout


def test_pack_gpu_wheels_install_and_import(tmp_path):
  """benchmarks/pack_gpu.sh fetches one wheel each of flax, optax and chex at this venv's versions; they
  install offline into a target folder as the device command does, and import from there."""
  import importlib.metadata as md

  dest, site = tmp_path / "whl", tmp_path / "site"
  proc = subprocess.run(
    ["bash", os.path.join(BENCH, "pack_gpu.sh"), sys.executable, str(dest)],
    capture_output=True,
    text=True,
    timeout=300,
    cwd=ROOT,
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  wheels = sorted(p.name for p in dest.iterdir())
  assert [w.split("-")[0] for w in wheels] == ["chex", "flax", "optax"], wheels
  assert all(f"-{md.version(w.split('-')[0])}-" in w for w in wheels), wheels
  assert "--target /tmp/site" in proc.stdout and "gpu_bench.py" in proc.stdout
  subprocess.run(
    [
      sys.executable,
      "-m",
      "pip",
      "install",
      "-q",
      "--no-index",
      "--no-deps",
      "--no-compile",
      "--target",
      str(site),
      *map(str, dest.iterdir()),
    ],
    check=True,
    timeout=300,
    capture_output=True,
  )
  code = "import flax, optax, chex; print(flax.__file__, optax.__version__)"
  out = subprocess.run(
    [sys.executable, "-c", code],
    capture_output=True,
    text=True,
    timeout=120,
    check=True,
    env=dict(os.environ, PYTHONPATH=str(site)),
  ).stdout
  assert out.startswith(str(site)) and md.version("optax") in out, out
