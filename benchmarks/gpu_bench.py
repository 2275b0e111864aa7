"""The zoo's forward passes on a GPU in bfloat16: one prepared script, a few minutes, figures into a JSON.

    python benchmarks/gpu_bench.py                    # on a machine with a GPU (jax[cuda] installed)
    python benchmarks/gpu_bench.py --dry-run          # tiny shapes on whatever device there is (CPU: a smoke test)

It times, jitted, every case of benchmarks/zoo_bench.py (attention, fusions, proj+LMF, the architectures)
with parameters and inputs cast to bfloat16, plus attention through `jax.nn.dot_product_attention` with
implementation="cudnn" (falling back to "xla" where cuDNN does not apply, and saying so) at the zoo's
attention shape and at a long-sequence one; and a bf16 matmul peak (f32 accumulation) for the fractions.
The JSON (benchmarks/results/gpu-<date>.json by default) records the date, the device name and versions.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import zoo_bench  # noqa: E402


def to_bf16(tree):
  """Every floating leaf of `tree` as bfloat16 (ints and bools unchanged)."""
  def cast(a):
    a = jnp.asarray(a)
    return a.astype(jnp.bfloat16) if jnp.issubdtype(a.dtype, jnp.floating) else a
  return jax.tree.map(cast, tree)


def time_ms(f, repeats, budget_s=5.0):
  """Median milliseconds of `f()` (blocking), after two warm-up calls."""
  f(); f()
  ts, start = [], time.perf_counter()
  for _ in range(repeats):
    t0 = time.perf_counter()
    f()
    ts.append(time.perf_counter() - t0)
    if len(ts) >= 3 and time.perf_counter() - start > budget_s:
      break
  return 1e3 * statistics.median(ts)


def matmul_peak(n, repeats):
  """TFLOP/s of an n×n bf16 matmul with f32 accumulation, and of an f32 one."""
  a = jax.random.normal(jax.random.key(0), (n, n), jnp.float32)
  ab = a.astype(jnp.bfloat16)
  bf = jax.jit(lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.float32))
  f32 = jax.jit(lambda x, y: jnp.dot(x, y))
  tf = lambda ms: 2 * n ** 3 / (ms / 1e3) / 1e12
  return {"n": n, "bf16_tflops": tf(time_ms(lambda: bf(ab, ab).block_until_ready(), repeats)),
          "f32_tflops": tf(time_ms(lambda: f32(a, a).block_until_ready(), repeats))}


def cudnn_attention(b, l, d, h, repeats):
  """jax.nn.dot_product_attention in bf16 on [B, L, H, d/H]: cuDNN where it applies, else XLA."""
  k = jax.random.split(jax.random.key(1), 3)
  q, kk, v = (jax.random.normal(ki, (b, l, h, d // h), jnp.bfloat16) for ki in k)
  flops = 4 * b * h * l * l * (d // h)
  row = {"name": f"attention/jax.nn.dot_product_attention", "shape": f"B{b} L{l} D{d} H{h} bf16"}
  for impl in ("cudnn", "xla"):
    try:
      f = jax.jit(lambda q, k, v, impl=impl: jax.nn.dot_product_attention(q, k, v, implementation=impl))
      f(q, kk, v).block_until_ready()
    except Exception as err:  # cuDNN absent, or this shape/dtype unsupported: say so and fall back
      row[f"{impl}_error"] = f"{type(err).__name__}: {str(err)[:200]}"
      continue
    ms = time_ms(lambda: f(q, kk, v).block_until_ready(), repeats)
    row.update(implementation=impl, ms=ms, tflops=flops / (ms / 1e3) / 1e12)
    break
  return row


def zoo_case(case, repeats, cast=True):
  """One zoo_bench case, jitted, in bf16 (`cast`: parameters and inputs cast; else the case computes in bf16 itself)."""
  row = {"name": case.name, "shape": case.shape + " bf16"}
  if case.fn is None:
    row["error"] = case.note
    return row
  params, inputs = (to_bf16(case.params), to_bf16(case.inputs)) if cast else (case.params, case.inputs)
  t0 = time.perf_counter()
  compiled = jax.jit(case.fn).lower(params, *inputs).compile()
  row["compile_s"] = time.perf_counter() - t0
  row["flops"] = zoo_bench.flops_of(compiled)
  out = compiled(params, *inputs)
  row["out_dtype"] = str(out.dtype)
  row["finite"] = bool(jnp.all(jnp.isfinite(out.astype(jnp.float32))))
  row["ms"] = time_ms(lambda: jax.block_until_ready(compiled(params, *inputs)), repeats)
  if row["flops"]:
    row["tflops"] = row["flops"] / (row["ms"] / 1e3) / 1e12
  return row


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--dry-run", action="store_true", help="tiny shapes, 2 repeats; runs on a CPU")
  ap.add_argument("--repeats", type=int, default=None)
  ap.add_argument("--only", default=None, help="regex on case names")
  ap.add_argument("--out", default=None, help="JSON path (default benchmarks/results/gpu-<date>.json; "
                  "--dry-run: not written unless given)")
  args = ap.parse_args(argv)
  repeats = args.repeats or (2 if args.dry_run else 50)
  dev = jax.devices()[0]
  if dev.platform != "gpu" and not args.dry_run:
    print(f"no GPU here ({dev.platform}: {dev.device_kind}); use --dry-run for a CPU smoke test", file=sys.stderr)
    return 2
  zoo_bench._imports()
  import flax
  result = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "dry_run": args.dry_run,
            "device": {"platform": dev.platform, "kind": dev.device_kind, "count": jax.device_count()},
            "versions": {"jax": jax.__version__, "flax": flax.__version__}, "dtype": "bfloat16"}
  result["peak"] = matmul_peak(256 if args.dry_run else 8192, repeats)
  print(f"peak: {result['peak']}", flush=True)
  rows = []
  shapes = [(2, 16, 32, 4)] if args.dry_run else [(8, 256, 512, 8), (8, 4096, 1024, 16)]
  for b, l, d, h in shapes:
    rows.append(cudnn_attention(b, l, d, h, repeats))
    print(rows[-1], flush=True)
  # Models compute in bf16 through their config (parameters stay f32, as in training); the rest are cast.
  cases = [(c, True) for c in zoo_bench.all_cases(quick=args.dry_run, only=args.only, models=False)]
  cases += [(c, False) for c in zoo_bench.model_cases(args.dry_run, dtype="bfloat16")
            if not args.only or re.search(args.only, c.name)]
  for case, cast in cases:
    try:
      row = zoo_case(case, repeats, cast)
    except Exception as err:  # report and go on
      row = {"name": case.name, "error": f"{type(err).__name__}: {str(err)[:300]}"}
    if row.get("tflops"):
      row["frac_bf16_peak"] = row["tflops"] / result["peak"]["bf16_tflops"]
    rows.append(row)
    print({k: row.get(k) for k in ("name", "ms", "tflops", "error")}, flush=True)
  result["rows"] = rows
  out = args.out or (None if args.dry_run else os.path.join(
      HERE, "results", f"gpu-{datetime.date.today().isoformat()}.json"))
  if out:
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
      json.dump(result, f, indent=1)
    print(f"wrote {out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
