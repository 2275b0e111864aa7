"""Start-up of `python -m zoo infer` against the floor `python -c "import jax, flax.linen"`, as ratios in one run.

Each figure is the median wall time of fresh processes (`--repeats`, default 3), interleaved so that a
noisy neighbour hits every kind alike:
  import  `python -c "import jax, flax.linen"` (the floor: nothing of the zoo can start faster);
  cold    `python -m zoo infer MODEL --random` with an empty compilation cache folder;
  warm    the same command again with the folder the cold run filled (JAX's persistent cache);
  nocache the same command with `--no-compile-cache` (every compilation done again);
  refs    the grader's references of every case of one seed and one variant, `--assignment all`
          (grade.load_caseset without its reference cache), in a fresh process whose compilation cache
          folder a first, unmeasured run filled (`--no-references` skips this row).
Goals (issue 15): warm within 3x of import, cold within 6x, refs within 3x. Writes results/startup.json; `--readme`
also rewrites the table between the markers in benchmarks/README.md.

    .venv/bin/python benchmarks/startup_bench.py                 # parallel model, default preset
    .venv/bin/python benchmarks/startup_bench.py --model encdec --args "--beam 4"
    .venv/bin/python benchmarks/startup_bench.py --only refs     # the import and the references alone
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOALS = {"warm": 3.0, "cold": 6.0, "refs": 3.0}
# One seed and variant of every assignment's cases, their references computed (no reference cache).
REFS_CODE = (
  "from grader import grade; grade.load_caseset('startup-bench', variant=0, use_cache=False, assignment_name='all')"
)


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
  """(wall seconds, CPU seconds: user + system) of one fresh process; it must succeed."""
  before = resource.getrusage(resource.RUSAGE_CHILDREN)
  t0 = time.perf_counter()
  r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
  dt = time.perf_counter() - t0
  after = resource.getrusage(resource.RUSAGE_CHILDREN)
  if r.returncode:
    raise SystemExit(f"{shlex.join(cmd)} failed ({r.returncode}):\n{r.stderr[-2000:]}")
  return dt, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(model: str, extra: list[str], repeats: int, references: bool = True, only: tuple = ()) -> dict:
  """Median wall times of import, cold, warm, no-cache (and references) runs, and the ratios to import.

  `only`: the kinds to run besides the import (the floor, always run), e.g. ("refs",).
  """
  py = sys.executable
  infer = [py, "-m", "zoo", "infer", model, "--random", *extra]
  kinds = ("import", "cold", "warm", "nocache") + (("refs",) if references else ())
  if only:
    kinds = ("import",) + tuple(k for k in kinds[1:] if k in only)
  runs: dict[str, list[float]] = {k: [] for k in kinds}
  cpu: dict[str, list[float]] = {k: [] for k in runs}
  base_env = {k: v for k, v in os.environ.items() if k not in ("MMZOO_COMPILE_CACHE", "GRADER_CACHE_DIR")}
  with tempfile.TemporaryDirectory() as grader_cache:
    refs_env = dict(base_env, GRADER_CACHE_DIR=grader_cache)
    refs = [py, "-c", REFS_CODE]
    if "refs" in kinds:
      timed(refs, refs_env)  # fills the grader's compilation cache: the runs measured below are warm
    for _ in range(repeats):
      with tempfile.TemporaryDirectory() as cache:
        env = dict(base_env, MMZOO_COMPILE_CACHE=cache)
        for kind, cmd, e in (
          ("import", [py, "-c", "import jax, flax.linen"], base_env),
          ("cold", infer, env),
          ("warm", infer, env),
          ("nocache", infer + ["--no-compile-cache"], base_env),
          ("refs", refs, refs_env),
        ):
          if kind in runs:
            wall, used = timed(cmd, e)
            runs[kind].append(wall)
            cpu[kind].append(used)
  med = {k: statistics.median(v) for k, v in runs.items()}
  med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
  ratios = {k: med[k] / med["import"] for k in kinds[1:]}
  cpu_ratios = {k: med_cpu[k] / med_cpu["import"] for k in kinds[1:]}
  return {
    "command": shlex.join(["python", "-m", "zoo", "infer", model, "--random", *extra]),
    "repeats": repeats,
    "runs_s": runs,
    "median_s": med,
    "ratio_to_import": ratios,
    "cpu_s": cpu,
    "median_cpu_s": med_cpu,
    "cpu_ratio_to_import": cpu_ratios,
    "load_average": os.getloadavg(),
    "cpus": os.cpu_count(),
    "goals": GOALS,
    "met": {k: ratios[k] <= g for k, g in GOALS.items() if k in ratios},
    "references": REFS_CODE if references else None,
    "python": sys.version.split()[0],
    "date": time.strftime("%Y-%m-%d"),
  }


def table(res: dict) -> str:
  """The README table of one result."""
  med, ratio = res["median_s"], res["ratio_to_import"]
  mcpu, rcpu = res["median_cpu_s"], res["cpu_ratio_to_import"]
  rows = [
    "| run | median wall (s) | wall ratio to the import | median CPU (s) | CPU ratio | goal (wall) |",
    "|---|---|---|---|---|---|",
    f"| `python -c \"import jax, flax.linen\"` | {med['import']:.2f} | 1.0 | {mcpu['import']:.2f} | 1.0 | |",
  ]
  for k, what in (
    ("warm", "warm (second run, same cache folder)"),
    ("cold", "cold (empty cache folder)"),
    ("nocache", "`--no-compile-cache`"),
    ("refs", "grader references, one seed+variant, `--assignment all`, warm compilation cache"),
  ):
    if k not in med:
      continue
    goal = f"≤ {GOALS[k]:.0f}x: {'met' if res['met'][k] else 'NOT met'}" if k in GOALS else ""
    rows.append(f"| {what} | {med[k]:.2f} | {ratio[k]:.2f} | {mcpu[k]:.2f} | {rcpu[k]:.2f} | {goal} |")
  load = ", ".join(f"{x:.1f}" for x in res["load_average"])
  return "\n".join(rows) + (
    f"\n\n`{res['command']}`, median of {res['repeats']} fresh processes each, "
    f"{res['date']}; {res['cpus']} CPUs, load average at the end {load}."
  )


def main(argv=None) -> int:
  p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  p.add_argument("--model", default="parallel", help="model to run (default: %(default)s)")
  p.add_argument("--args", default="", help="more `zoo infer` arguments, one string, e.g. \"--beam 4\"")
  p.add_argument("--repeats", type=int, default=3, help="fresh processes per kind (default: %(default)s)")
  p.add_argument(
    "--out",
    default=os.path.join(ROOT, "benchmarks", "results", "startup.json"),
    help="JSON output (default: results/startup.json)",
  )
  p.add_argument("--readme", action="store_true", help="rewrite the table in benchmarks/README.md")
  p.add_argument("--no-references", action="store_true", help="skip the grader references' row")
  p.add_argument(
    "--only",
    default="",
    help="comma-separated rows to run besides the import (cold, warm, nocache, refs), e.g. --only refs",
  )
  args = p.parse_args(argv)
  only = tuple(k for k in args.only.split(",") if k)
  unknown = set(only) - {"cold", "warm", "nocache", "refs"}
  if unknown:
    p.error(f"--only: unknown rows {sorted(unknown)}")
  if only and args.readme:
    p.error("--readme rewrites the whole table: run every row (no --only)")
  res = measure(args.model, shlex.split(args.args), args.repeats, not args.no_references, only)
  with open(args.out, "w") as f:
    json.dump(res, f, indent=2)
  print(table(res))
  if args.readme:
    sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
    import zoo_bench  # no JAX at import: the table writer the other benchmark scripts use

    zoo_bench.splice_readme(table(res), "startup")
  return 0 if all(res["met"].values()) else 1


if __name__ == "__main__":
  sys.exit(main())
