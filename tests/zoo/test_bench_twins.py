"""The benchmark's PyTorch twins compute what the zoo computes; `zoo_bench.py --quick` runs end to end.

The twin tests need torch (the optional `.venv-bench`); they are skipped where it is not installed.
No timing is asserted anywhere: speed is what benchmarks/zoo_bench.py measures and reports.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "benchmarks")
sys.path.insert(0, BENCH)

import zoo_bench  # noqa: E402  (benchmarks/ is not a package)

zoo_bench._imports()


def test_twins_match_zoo():
  """Each PyTorch twin gives the zoo's output on the same parameters and inputs, within float32 rounding."""
  pytest.importorskip("torch")
  import jax

  torch = zoo_bench.torch_or_none()
  cases = [c for c in zoo_bench.all_cases(quick=True, models=False) if c.fn is not None and c.twin is not None]
  assert len(cases) >= 20
  bad = []
  for case in cases:
    ref = np.asarray(jax.jit(case.fn)(case.params, *case.inputs), np.float32)
    fields, run = zoo_bench.twin_check(case, ref, torch)
    if run is None or not fields["twin_rel_err"] < 1e-5:
      bad.append(f"{case.name}: {fields}")
  assert not bad, "\n".join(bad)


def test_gmu_twin_two_modalities():
  """GMU with two modalities is `gated_fusion`'s layout (W_a, W_b, W_z); the twin follows it too."""
  torch = pytest.importorskip("torch")
  import jax
  import torch_twins as tt

  from zoo.fusion.gating import GMU

  zs = [jax.random.normal(jax.random.key(i), (3, d)) for i, d in enumerate((5, 7))]
  module = GMU(features=4)
  params = module.init(jax.random.key(9), zs)["params"]
  want = np.asarray(module.apply({"params": params}, zs))
  with torch.inference_mode():
    got = tt.twin_GMU(jax.tree.map(np.asarray, params), module)(tt.to_torch([np.asarray(z) for z in zs])).numpy()
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_token_twin_with_masks():
  """Token twins honour padding masks at the real positions (padded keys never reach real outputs)."""
  torch = pytest.importorskip("torch")
  import jax
  import jax.numpy as jnp
  import torch_twins as tt

  from zoo.fusion.tokens import ModalityTokenSelfAttention

  xs = [jax.random.normal(jax.random.key(i), (2, l, d)) for i, (l, d) in enumerate(((4, 6), (5, 3)))]
  masks = [jnp.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool), jnp.array([[1, 0, 0, 0, 0], [1, 1, 1, 0, 0]], bool)]
  module = ModalityTokenSelfAttention(features=8, num_heads=2, mlp_dim=16)
  params = module.init(jax.random.key(3), xs, masks)["params"]
  want = np.asarray(module.apply({"params": params}, xs, masks))
  real = np.asarray(module.output_mask(xs, masks))
  with torch.inference_mode():
    f = tt.twin_ModalityTokenSelfAttention(jax.tree.map(np.asarray, params), module)
    got = f(tt.to_torch([np.asarray(x) for x in xs]), tt.to_torch([np.asarray(m) for m in masks])).numpy()
  np.testing.assert_allclose(got[real], want[real], rtol=1e-4, atol=1e-5)


def test_quick_run_end_to_end(tmp_path):
  """`zoo_bench.py --quick --no-torch` runs (one attention, one fusion, one model: every case would take
  minutes of compilation on 2 cores) and writes a JSON with the torch column marked."""
  out = tmp_path / "quick.json"
  env = dict(os.environ, PYTHONPATH=ROOT)
  proc = subprocess.run(
    [
      sys.executable,
      os.path.join(BENCH, "zoo_bench.py"),
      "--quick",
      "--no-torch",
      "--only",
      r"attention/multi_head_attention|fusion/low_rank_fusion|model/proj\+LMF|fusion/TFN|model/parallel",
      "--out",
      str(out),
    ],
    capture_output=True,
    text=True,
    timeout=900,
    env=env,
    cwd=ROOT,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  run = json.loads(out.read_text())["runs"]["default"]
  names = {r["name"] for r in run["rows"]}
  assert {"attention/multi_head_attention", "fusion/low_rank_fusion", "model/proj+LMF"} <= names
  assert run["peak"]["f32_peak"] > 0
  for r in run["rows"]:
    if r["name"].startswith("model/") and "error" in r:
      continue  # an architecture still being written is reported, not fatal
    assert "error" not in r, r
    assert r["jit_ms"] > 0 and r["eager_ms"] > 0
    assert r["torch"].startswith("unavailable"), r
  assert "| attention/multi_head_attention |" in proc.stdout


def test_xla_cpu_configure_before_the_backend_only():
  """zoo.xla_cpu.configure() appends flags (those already set win) and refuses once jax's backend is up."""
  code = """
import os
os.environ["XLA_FLAGS"] = "--xla_cpu_enable_fast_min_max=false"
from zoo import xla_cpu
assert xla_cpu.FLAGS == ()  # the zoo's commands run with XLA's defaults (see the module's docstring)
got = xla_cpu.configure(("--xla_cpu_enable_fast_min_max=true", xla_cpu.NO_YNN_REDUCE))
assert got == "--xla_cpu_enable_fast_min_max=false " + xla_cpu.NO_YNN_REDUCE, got
import jax.numpy as jnp
jnp.ones(2).block_until_ready()
try:
  xla_cpu.configure()
except RuntimeError:
  print("refused")
"""
  proc = subprocess.run(
    [sys.executable, "-c", code],
    capture_output=True,
    text=True,
    timeout=120,
    cwd=ROOT,
    env=dict(os.environ, PYTHONPATH=ROOT),
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip() == "refused"
