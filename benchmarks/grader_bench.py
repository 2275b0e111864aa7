"""Grader benchmark (a script, not a test): one submission end to end, cold and warm, and batch throughput.

  .venv/bin/python benchmarks/grader_bench.py [--roster-size 40] [--workers N] [--sandbox auto]

Cold: an empty reference cache, so the float64 references are computed (jax) before grading.
Warm: the cache from the cold run; the grader imports neither jax nor the zoo.
Batch: generated rosters of numpy submissions (the float64 answer set in several forms, some with a
function broken) graded with --batch. Targets on the project's 2-core machine: warm < 5 s, 40 in < 40 s.
Floor: a bare Python process that imports numpy (and one that imports jax) started in the same sandbox,
the least any per-submission grader could cost; every figure is also given as a ratio to it.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ANSWERS = ROOT / "tests" / "answers_f64"
TARGET_WARM_S = 5.0
TARGET_BATCH_S = 40.0


def run(args, env, cwd):
  """Runs `python -m grader ARGS`; returns (seconds, completed process)."""
  t = time.perf_counter()
  proc = subprocess.run(
    [sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, env=env, capture_output=True, text=True
  )
  took = time.perf_counter() - t
  if proc.returncode != 0:
    sys.exit(f"grader failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
  return took, proc


def _answer_files():
  return sorted(p for p in ANSWERS.glob("*.py") if p.name != "__init__.py")


def _break(text: str, rng: random.Random) -> str:
  """The same module with one function's return replaced by a wrong value."""
  lines = text.splitlines()
  returns = [i for i, ln in enumerate(lines) if ln.lstrip().startswith("return ")]
  i = rng.choice(returns)
  indent = lines[i][: len(lines[i]) - len(lines[i].lstrip())]
  lines[i] = f"{indent}return [[0.0]]"
  return "\n".join(lines) + "\n"


def make_roster(folder: Path, n: int, seed: int = 0) -> None:
  """n numpy submissions: folders, single files and zips of the answer set, a third with a broken function."""
  rng = random.Random(seed)
  folder.mkdir(parents=True)
  files = _answer_files()
  for k in range(n):
    texts = {p.name: p.read_text(encoding="utf-8") for p in files}
    if k % 3 == 1:
      name = rng.choice(sorted(texts))
      texts[name] = _break(texts[name], rng)
    form = k % 3
    student = f"student{k:03d}"
    if form == 0:
      (folder / student).mkdir()
      for name, text in texts.items():
        (folder / student / name).write_text(text, encoding="utf-8")
    elif form == 1:
      (folder / f"{student}.py").write_text("\n\n".join(texts.values()), encoding="utf-8")
    else:
      with zipfile.ZipFile(folder / f"{student}.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in texts.items():
          zf.writestr(f"hw/{name}", text)


def floor_seconds(mode: str, module: str, repeats: int = 5) -> float:
  """Median wall time to start `python -c "import MODULE"` in the grader's sandbox and see it exit."""
  from grader import isolation

  mode = isolation.detect(mode)
  times = []
  for _ in range(repeats):
    with tempfile.TemporaryDirectory(prefix="grader-floor-") as scratch:
      os.chmod(scratch, 0o777)
      t = time.perf_counter()
      proc = isolation.spawn(
        mode, [sys.executable, "-c", f"import {module}"], scratch=Path(scratch), limits=isolation.Limits()
      )
      try:
        proc.communicate(timeout=120)
        times.append(time.perf_counter() - t)  # to its exit: the sweep in kill() is the grader's cost, not the floor's
      finally:
        isolation.kill(proc)
      if proc.returncode != 0:
        sys.exit(f"the floor process (import {module}) failed in {mode}: exit {proc.returncode}")
  return sorted(times)[len(times) // 2]


def main() -> int:
  p = argparse.ArgumentParser(description="Time the grader: one submission cold and warm, then a batch.")
  p.add_argument(
    "--roster-sizes", default="40,200", help="comma-separated sizes of the generated rosters (default 40,200)"
  )
  p.add_argument("--workers", type=int, default=None, help="--workers for the batch (default: one per core)")
  p.add_argument(
    "--sandbox",
    default="auto",
    choices=("auto", "bwrap", "unshare", "plain"),
    help="isolation to benchmark (default auto: the strongest that works)",
  )
  p.add_argument(
    "--also-solutions", action="store_true", help="also time solutions/ warm (they use jax.jit, so every call compiles)"
  )
  args = p.parse_args()
  with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
    tmp = Path(tmp)
    os.chmod(tmp, 0o755)
    env = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
    env.update(GRADER_CACHE_DIR=str(tmp / "cache"), LANG="C.UTF-8", PYTHONPATH=str(ROOT))
    figures = []
    cold, _ = run([ANSWERS, "--sandbox", args.sandbox], env, tmp)
    figures.append(("one numpy submission, cold (references computed)", cold, None))
    warm, proc = run([ANSWERS, "--sandbox", args.sandbox], env, tmp)
    mode = next((ln.split(": ", 1)[1] for ln in proc.stdout.splitlines() if ln.startswith("isolation: ")), "?")
    figures.append(("one numpy submission, warm", warm, TARGET_WARM_S))
    if args.also_solutions:
      sol, _ = run([ROOT / "solutions", "--sandbox", args.sandbox], env, tmp)
      figures.append(("solutions/ (jax), warm", sol, None))
    extra = ["--workers", str(args.workers)] if args.workers else []
    # A batch grades each student against one of K hidden draws: their references are computed once, by
    # the first batch (a one-student roster here), and cached; the timed batches below find them there.
    from grader.seed import VARIANTS

    k = int(env.get("GRADER_VARIANTS") or VARIANTS)
    make_roster(tmp / "roster-refs", 1)
    refs, _ = run(
      ["--batch", tmp / "roster-refs", "--out", tmp / "out-refs", "--sandbox", args.sandbox, *extra], env, tmp
    )
    figures.append((f"references of the K={k} variants (a batch of one, cold)", refs, None))
    sizes = [int(n) for n in args.roster_sizes.split(",") if n.strip()]
    throughput = []
    for n in sizes:
      roster, out = tmp / f"roster{n}", tmp / f"out{n}"
      make_roster(roster, n)
      took, proc = run(["--batch", roster, "--out", out, "--sandbox", args.sandbox, *extra], env, tmp)
      figures.append((f"batch of {n} numpy submissions", took, TARGET_BATCH_S * n / 40))
      throughput.append((n, took))
      rerun, proc = run(["--batch", roster, "--out", out, "--sandbox", args.sandbox, *extra], env, tmp)
      figures.append((f"the same {n} again ({proc.stdout.strip().split(';')[0]})", rerun, None))
  floor_np = floor_seconds(args.sandbox, "numpy")
  floor_jax = floor_seconds(args.sandbox, "jax")
  print(f"isolation: {mode}; {os.cpu_count()} CPU cores; load average {os.getloadavg()[0]:.1f}")
  print(f"{'floor: bare python importing numpy in the sandbox':55s} {floor_np:7.2f} s")
  print(f"{'floor: bare python importing jax in the sandbox':55s} {floor_jax:7.2f} s")
  for what, seconds, target in figures:
    verdict = "" if target is None else (f"  (target < {target:.0f} s: {'met' if seconds < target else 'MISSED'})")
    print(f"{what:55s} {seconds:7.2f} s  {seconds / floor_np:6.1f}x floor{verdict}")
  for n, took in throughput:
    per = took / n
    print(
      f"batch of {n}: {n / took:.2f} submissions/s, {per:.2f} s each, {per / floor_np:.1f}x the numpy floor "
      f"({per * (args.workers or os.cpu_count()) / floor_np:.1f}x per worker)"
    )
  return 0


if __name__ == "__main__":
  sys.exit(main())
