"""Why the small pooled fusions trail PyTorch on 2 cores: the same cases on one core and on all, with
PyTorch's OpenMP workers told not to spin, and without the warm-up (a script, not a test; about 7 minutes).

    .venv-bench/bin/python benchmarks/threads_probe.py [--only REGEX] [--out results/threads_probe.json]
    .venv-bench/bin/python benchmarks/threads_probe.py --variance 4 --out results/threads_variance.json
    .venv-bench/bin/python benchmarks/threads_probe.py --handoff       # one small op, one core and all

Each configuration is a child `zoo_bench.py --only REGEX` run (same cases, same timing, twin checks):
  one core      the child pinned to CPU 0 (sched_setaffinity): each library's arithmetic alone, no threads
  all cores     as zoo_bench.py runs it
  all, passive  all cores with OMP_WAIT_POLICY=PASSIVE: PyTorch's workers sleep between calls as XLA's do
  all, cold     all cores, each timed block after a 0.2 s pause and a single untimed call (--warm-s 0):
                the first calls after idling, where each library's workers must wake up
It prints jitted zoo and PyTorch medians side by side, and each library's speed-up from the extra cores.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_ONLY = (
  "fusion/(LateConcat|Sum|FiLM|GMU|LMF|EarlyConcat|FixedWeightFusion|MultiplicativeInteraction)$"
  "|fusion/(film|low_rank_fusion|weighted_sum|gated_fusion)$|model/proj"
)
CONFIGS = (
  ("one core", {}, {0}, []),
  ("all cores", {}, None, []),
  ("all, passive", {"OMP_WAIT_POLICY": "PASSIVE"}, None, []),
  ("all, cold", {}, None, ["--warm-s", "0"]),
)


def _pin(cpus: set | None):
  """A preexec_fn that pins the child to `cpus` (None: leave it on every core)."""
  return (lambda: os.sched_setaffinity(0, cpus)) if cpus else None


def run_config(only: str, env_extra: dict, cpus: set | None, extra: list, out: Path) -> dict:
  """One child zoo_bench run; its rows by case name."""
  env = {**os.environ, **env_extra}
  cmd = [
    sys.executable,
    str(HERE / "zoo_bench.py"),
    "--only",
    only,
    "--xla",
    "default",
    "--no-readme",
    "--no-cache-check",
    "--out",
    str(out),
    *extra,
  ]
  subprocess.run(cmd, env=env, check=True, preexec_fn=_pin(cpus), stdout=subprocess.DEVNULL)
  run = next(iter(json.loads(out.read_text())["runs"].values()))
  return {r["name"]: r for r in run["rows"] if "jit_ms" in r}


HANDOFF = """
import re, statistics, time, jax, jax.numpy as jnp
x = jnp.ones((512, 256))
f = jax.jit(lambda x: x * 2.0)
split = re.findall(r'outer_dimension_partitions":\\[([^\\]]*)\\]', f.lower(x).compile().as_text())
for _ in range(200):
  f(x).block_until_ready()
ws = []
for _ in range(3000):
  t = time.perf_counter(); f(x).block_until_ready(); ws.append(time.perf_counter() - t)
print(f"{1e6 * statistics.median(ws):.1f} {split}")
"""


def handoff() -> int:
  """x * 2 on a [512, 256] float32 array (0.5 MiB), jitted: median microseconds on one core and on all."""
  print("| where | jit x*2, [512, 256] f32, median µs | XLA's loop split (outer_dimension_partitions) |")
  print("|---|---:|---|")
  for name, cpus in (("one core", {0}), ("all cores", None)):
    out = subprocess.run(
      [sys.executable, "-c", HANDOFF], check=True, capture_output=True, text=True, preexec_fn=_pin(cpus)
    ).stdout.split(maxsplit=1)
    print(f"| {name} | {out[0]} | {out[1].strip()} |")
  try:
    import torch
  except ImportError:
    return 0
  x = torch.ones(512, 256)
  for _ in range(200):
    x * 2.0
  ws = []
  for _ in range(3000):
    t = time.perf_counter()
    x * 2.0
    ws.append(time.perf_counter() - t)
  print(f"| PyTorch, all cores (for comparison) | {1e6 * statistics.median(ws):.1f} | |")
  return 0


def variance(args) -> int:
  """The all-cores configuration N times in fresh processes: how far one run's medians are from another's."""
  runs = []
  with tempfile.TemporaryDirectory() as tmp:
    for i in range(args.variance):
      print(f"== all cores, run {i + 1} of {args.variance}", file=sys.stderr, flush=True)
      runs.append(run_config(args.only, {}, None, [], Path(tmp) / "run.json"))
  print(f"{os.cpu_count()} cores; {args.variance} runs of the all-cores configuration; ranges of the medians (ms)\n")
  print("| case | jit zoo | PyTorch | PyTorch / jit |")
  print("|---|---:|---:|---:|")
  for c in runs[0]:
    rs = [r[c] for r in runs if c in r and "torch_ms" in r[c]]
    if not rs:
      continue
    j, t = [r["jit_ms"] for r in rs], [r["torch_ms"] for r in rs]
    q = [r["torch_ms"] / r["jit_ms"] for r in rs]
    print(f"| {c} | {min(j):.2f}-{max(j):.2f} | {min(t):.2f}-{max(t):.2f} | {min(q):.2f}-{max(q):.2f} |")
  if args.out:
    Path(args.out).write_text(json.dumps({"all cores": runs}, indent=1))
  return 0


def main() -> int:
  ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
  ap.add_argument("--only", default=DEFAULT_ONLY, help="regex on zoo_bench case names (default: the pooled fusions)")
  ap.add_argument("--out", default=None, help="also write every configuration's rows as JSON")
  ap.add_argument(
    "--variance",
    type=int,
    default=0,
    metavar="N",
    help="instead: run the all-cores configuration N times and print each case's range of medians",
  )
  ap.add_argument(
    "--handoff",
    action="store_true",
    help="instead: time one small elementwise jitted op on one core and on all, and show XLA's split",
  )
  args = ap.parse_args()
  if args.variance:
    return variance(args)
  if args.handoff:
    return handoff()
  results = {}
  with tempfile.TemporaryDirectory() as tmp:
    for name, env_extra, cpus, extra in CONFIGS:
      print(f"== {name}", file=sys.stderr, flush=True)
      results[name] = run_config(args.only, env_extra, cpus, extra, Path(tmp) / "run.json")
  cases = list(results["all cores"])
  print(f"{os.cpu_count()} cores; milliseconds, median of each zoo_bench timing (jit zoo / PyTorch)\n")
  print("| case | one core | all cores | all, torch passive | all, cold | zoo speed-up from cores | torch's |")
  print("|---|---:|---:|---:|---:|---:|---:|")
  for c in cases:
    one, allc, passive, cold = (results[n].get(c, {}) for n, _, _, _ in CONFIGS)
    cell = lambda r: f"{r['jit_ms']:.2f} / {r['torch_ms']:.2f}" if "torch_ms" in r else f"{r.get('jit_ms', 0):.2f} / -"
    sz = one["jit_ms"] / allc["jit_ms"]
    st = f"{one['torch_ms'] / allc['torch_ms']:.2f}" if "torch_ms" in one and "torch_ms" in allc else "-"
    print(f"| {c} | {cell(one)} | {cell(allc)} | {cell(passive)} | {cell(cold)} | {sz:.2f} | {st} |")
  if args.out:
    Path(args.out).write_text(json.dumps(results, indent=1))
  return 0


if __name__ == "__main__":
  sys.exit(main())
