"""Why the small pooled fusions trail PyTorch on 2 cores: the same cases on one core and on all, and with
PyTorch's OpenMP workers told not to spin (a script, not a test; about 5 minutes).

    .venv-bench/bin/python benchmarks/threads_probe.py [--only REGEX] [--out results/threads_probe.json]

Each configuration is a child `zoo_bench.py --only REGEX` run (same cases, same timing, twin checks):
  one core      the child pinned to CPU 0 (sched_setaffinity): each library's arithmetic alone, no threads
  all cores     as zoo_bench.py runs it
  all, passive  all cores with OMP_WAIT_POLICY=PASSIVE: PyTorch's workers sleep between calls as XLA's do
It prints jitted zoo and PyTorch medians side by side, and each library's speed-up from the extra cores.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ONLY = ("fusion/(LateConcat|Sum|FiLM|GMU|LMF|EarlyConcat|FixedWeightFusion|MultiplicativeInteraction)$"
                "|fusion/(film|low_rank_fusion|weighted_sum|gated_fusion)$|model/proj")
CONFIGS = (("one core", {}, {0}), ("all cores", {}, None), ("all, passive", {"OMP_WAIT_POLICY": "PASSIVE"}, None))


def run_config(only: str, env_extra: dict, cpus: set | None, out: Path) -> dict:
  """One child zoo_bench run; its rows by case name."""
  env = {**os.environ, **env_extra}
  cmd = [sys.executable, str(HERE / "zoo_bench.py"), "--only", only, "--xla", "default", "--no-readme",
         "--no-cache-check", "--out", str(out)]
  preexec = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
  subprocess.run(cmd, env=env, check=True, preexec_fn=preexec, stdout=subprocess.DEVNULL)
  run = next(iter(json.loads(out.read_text())["runs"].values()))
  return {r["name"]: r for r in run["rows"] if "jit_ms" in r}


def main() -> int:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--only", default=DEFAULT_ONLY, help="regex on zoo_bench case names (default: the pooled fusions)")
  ap.add_argument("--out", default=None, help="also write every configuration's rows as JSON")
  args = ap.parse_args()
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    for name, env_extra, cpus in CONFIGS:
      print(f"== {name}", file=sys.stderr, flush=True)
      results[name] = run_config(args.only, env_extra, cpus, Path(tmp) / "run.json")
  cases = list(results["all cores"])
  print(f"{os.cpu_count()} cores; milliseconds, median of each zoo_bench timing (jit zoo / PyTorch)\n")
  print("| case | one core | all cores | all, torch passive | zoo speed-up from cores | torch speed-up |")
  print("|---|---:|---:|---:|---:|---:|")
  for c in cases:
    one, allc, passive = (results[n].get(c, {}) for n, _, _ in CONFIGS)
    cell = lambda r: f"{r['jit_ms']:.2f} / {r['torch_ms']:.2f}" if "torch_ms" in r else f"{r.get('jit_ms', 0):.2f} / -"
    sz = one["jit_ms"] / allc["jit_ms"]
    st = f"{one['torch_ms'] / allc['torch_ms']:.2f}" if "torch_ms" in one and "torch_ms" in allc else "-"
    print(f"| {c} | {cell(one)} | {cell(allc)} | {cell(passive)} | {sz:.2f} | {st} |")
  if args.out:
    Path(args.out).write_text(json.dumps(results, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
