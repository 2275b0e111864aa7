"""Where a jitted training step's time goes on the CPU: per-thread CPU time and the optimized HLO's shape.

    .venv/bin/python benchmarks/profile_train.py --model parallel --batch 32 --steps 20
    .venv/bin/python benchmarks/profile_train.py --model serial --batch 256 --hlo /tmp/serial.hlo

Runs model_bench.py's `train/<model>` step (zoo.train.train_step, donated state, the same batch) and
reports, over `--steps` steady-state steps: wall time per step, each thread's CPU time from
/proc/self/task/*/stat (which a loaded machine does not inflate, unlike wall time), the CPU/wall ratio
(how many cores the step keeps busy), and from the compiled step's optimized HLO the number of
top-level operations XLA's CPU runtime dispatches one after another per step (thunks: fusions, dots,
custom calls, copies) and XLA's FLOP count. Small models are many small operations: each one pays a
fixed dispatch and, when it is split over cores, a thread hand-off (benchmarks/README.md, "Small
calls"), so the count over the step time says how much of it is fixed cost.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import jax  # noqa: E402
import model_bench  # noqa: E402
import zoo_bench  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu():
  """{thread id: (name, CPU seconds)} of this process, from /proc/self/task/*/stat."""
  out = {}
  for tid in os.listdir("/proc/self/task"):
    try:
      with open(f"/proc/self/task/{tid}/stat") as f:
        stat = f.read()
    except OSError:
      continue  # a thread that ended
    name = stat[stat.index("(") + 1 : stat.rindex(")")]
    fields = stat[stat.rindex(")") + 2 :].split()
    out[tid] = (name, (int(fields[11]) + int(fields[12])) / TICK)  # utime + stime
  return out


def hlo_summary(text):
  """Counts of the entry computation's instructions by opcode (what runs one after another per step)."""
  entry = text[text.index("ENTRY") :]
  entry = entry[: entry.index("\n}") if "\n}" in entry else len(entry)]
  ops = collections.Counter()
  for line in entry.splitlines()[1:]:
    m = re.search(r"=\s*\S+\s+([a-z\-]+)\(", line)
    if m and m.group(1) not in ("parameter", "constant", "get-tuple-element", "tuple", "bitcast"):
      ops[m.group(1)] += 1
  return ops


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument(
    "--model", default="parallel", help="a model_bench.MODELS row: " + ", ".join(r for r, _, _ in model_bench.MODELS)
  )
  ap.add_argument("--batch", type=int, default=32)
  ap.add_argument("--steps", type=int, default=20)
  ap.add_argument("--quick", action="store_true", help="TINY config")
  ap.add_argument("--hlo", default=None, help="write the optimized HLO text here")
  args = ap.parse_args(argv)
  zoo_bench._imports()
  row, name, changes = next(m for m in model_bench.MODELS if m[0] == args.model)
  s = model_bench.setup(row, name, changes, args.quick, args.batch)
  tcfg = model_bench.train_config()
  step_fn, state = model_bench.zoo_step_fn(s, tcfg)
  rng = jax.random.key(2)
  compiled = step_fn.lower(state, s.batch, rng).compile()
  text = compiled.as_text()
  if args.hlo:
    with open(args.hlo, "w") as f:
      f.write(text)
  for _ in range(3):
    state, _ = step_fn(state, s.batch, rng)
  jax.block_until_ready(state.params)
  before, t0 = thread_cpu(), time.perf_counter()
  for _ in range(args.steps):
    state, _ = step_fn(state, s.batch, rng)
  jax.block_until_ready(state.params)
  wall = (time.perf_counter() - t0) / args.steps
  after = thread_cpu()
  per = sorted(((after[t][1] - before.get(t, (None, 0.0))[1]) / args.steps, after[t][0]) for t in after)[::-1]
  busy = [(c, n) for c, n in per if c > 0]
  total = sum(c for c, _ in busy)
  ops = hlo_summary(text)
  flops = zoo_bench.flops_of(compiled)
  cost = compiled.cost_analysis()
  cost = (cost[0] if isinstance(cost, (list, tuple)) else cost) or {}
  moved = float(cost.get("bytes accessed", 0.0))
  print(
    f"train/{row} B{args.batch}: {1e3 * wall:.1f} ms/step wall, {1e3 * total:.1f} ms CPU/step "
    f"({total / wall:.2f} cores busy), {flops / 1e9:.2f} GFLOP/step -> {flops / wall / 1e9:.0f} GFLOP/s"
  )
  print(
    f"XLA's bytes accessed: {moved / 1e9:.2f} GB/step ({flops / max(moved, 1):.1f} FLOP/byte), "
    f"{moved / wall / 1e9:.1f} GB/s at this step time"
  )
  print("threads (ms CPU per step): " + ", ".join(f"{n} {1e3 * c:.1f}" for c, n in busy[:8]))
  print(
    f"entry computation: {sum(ops.values())} operations per step: "
    + ", ".join(f"{k} {v}" for k, v in ops.most_common(8))
  )
  print(f"per operation: {1e3 * wall / max(sum(ops.values()), 1):.3f} ms of wall time on average")
  return 0


if __name__ == "__main__":
  sys.exit(main())
