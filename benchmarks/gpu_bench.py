"""The zoo's forward passes on a GPU in bfloat16: one prepared script, a few minutes, figures into a JSON.

    python benchmarks/gpu_bench.py                    # on a machine with a GPU (jax[cuda] installed)
    python benchmarks/gpu_bench.py --dry-run          # tiny shapes on whatever device there is (CPU: a smoke test)

It times, jitted, every case of benchmarks/zoo_bench.py (attention, fusions, proj+LMF, the architectures)
with parameters and inputs cast to bfloat16, plus attention through `jax.nn.dot_product_attention` with
implementation="cudnn" (falling back to "xla" where cuDNN does not apply, and saying so) at the zoo's
attention shape and at a long-sequence one; and a bf16 matmul peak (f32 accumulation) for the fractions.
Then model_bench.py's rows in bfloat16 (cfg.dtype; parameters stay f32, as in training): train/<model>
(the zoo's jitted AdamW step) and generate/encdec (greedy and beam-4, 32 tokens, batch 1 and 16), each
beside its PyTorch twin (benchmarks/model_twins.py) on the same device under torch.autocast(bfloat16)
when torch imports (the twins' float32 agreement is checked on the CPU by tests/zoo/test_bench_model_twins.py;
here the bf16 logits' distance and the share of equal tokens are recorded, not required).
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
  f()
  f()
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
  tf = lambda ms: 2 * n**3 / (ms / 1e3) / 1e12
  return {
    "n": n,
    "bf16_tflops": tf(time_ms(lambda: bf(ab, ab).block_until_ready(), repeats)),
    "f32_tflops": tf(time_ms(lambda: f32(a, a).block_until_ready(), repeats)),
  }


def cudnn_attention(b, l, d, h, repeats):
  """jax.nn.dot_product_attention in bf16 on [B, L, H, d/H]: cuDNN where it applies, else XLA."""
  k = jax.random.split(jax.random.key(1), 3)
  q, kk, v = (jax.random.normal(ki, (b, l, h, d // h), jnp.bfloat16) for ki in k)
  flops = 4 * b * h * l * l * (d // h)
  row = {"name": "attention/jax.nn.dot_product_attention", "shape": f"B{b} L{l} D{d} H{h} bf16"}
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


def _torch_device():
  """(torch, device name) for the twins: CUDA when there is a GPU, else the CPU; (None, None) without torch."""
  try:
    import torch
  except ImportError:
    return None, None
  return torch, ("cuda" if torch.cuda.is_available() else "cpu")


def _twin_timer(torch, dev, fn):
  """`fn` under bf16 autocast, waited for (CUDA runs asynchronously)."""

  def run():
    with torch.autocast(dev, dtype=torch.bfloat16):
      out = fn()
    if dev == "cuda":
      torch.cuda.synchronize()
    return out

  return run


def model_rows(args, repeats, peak):
  """train/<model> and generate/encdec rows in bf16, each with its PyTorch twin where torch imports."""
  import model_bench

  torch, dev = _torch_device()
  mt = None
  if torch is not None:
    import model_twins as mt
  keep = lambda n: not args.only or re.search(args.only, n)
  b = 2 if args.dry_run else 32
  rows = []
  tcfg = model_bench.train_config()
  for row_name, name, changes in model_bench.MODELS:
    if not keep(f"train/{row_name}"):
      continue
    row = {"name": f"train/{row_name}", "shape": f"B{b} bf16"}
    try:
      s = model_bench.setup(row_name, name, changes, args.dry_run, b, dtype="bfloat16")
      step_fn, state = model_bench.zoo_step_fn(s, tcfg)
      rng = jax.random.key(2)
      row["flops"] = zoo_bench.flops_of(step_fn.lower(state, s.batch, rng).compile())
      holder = {"state": model_bench._copy_state(state)}

      def zoo_step():
        holder["state"], _ = step_fn(holder["state"], s.batch, rng)
        jax.block_until_ready(holder["state"].params)

      row["ms"] = time_ms(zoo_step, repeats, 2.0)
      if mt is not None:
        twin, tstep = model_bench.torch_trainer(s, tcfg, device=dev)
        row["torch_ms"] = time_ms(_twin_timer(torch, dev, tstep), repeats, 2.0)
        row["speedup_vs_torch"] = row["torch_ms"] / row["ms"]
    except Exception as err:  # report and go on
      row["error"] = f"{type(err).__name__}: {str(err)[:300]}"
    if row.get("flops") and "ms" in row:
      row["tflops"] = row["flops"] / (row["ms"] / 1e3) / 1e12
      row["frac_bf16_peak"] = row["tflops"] / peak["bf16_tflops"]
    rows.append(row)
    print({k: row.get(k) for k in ("name", "ms", "torch_ms", "tflops", "error")}, flush=True)
  for gb in (1, 2) if args.dry_run else (1, 16):
    for beam in (1, 4):
      mode = "greedy" if beam == 1 else f"beam{beam}"
      if not keep(f"generate/encdec/{mode}"):
        continue
      rows.append(_generate_row(model_bench, mt, torch, dev, gb, beam, args, repeats))
      print({k: rows[-1].get(k) for k in ("name", "shape", "ms", "torch_ms", "error")}, flush=True)
  return rows


def _generate_row(model_bench, mt, torch, dev, b, beam, args, repeats):
  """One generate/encdec row in bf16: tokens/s of the zoo's jitted loop and of the twin's cached loop."""
  from zoo import encdec

  mode = "greedy" if beam == 1 else f"beam{beam}"
  n = model_bench.GEN_TOKENS
  row = {"name": f"generate/encdec/{mode}", "shape": f"B{b} {n} tokens bf16"}
  try:
    s = model_bench.generation_setup(args.dry_run, b, dtype="bfloat16")
    if beam == 1:
      zoo_fn = lambda: encdec.greedy_decode(s.model, s.params, s.batch, n)
    else:
      zoo_fn = lambda: encdec.beam_search(s.model, s.params, s.batch, beam, n)[0]
    zt = np.asarray(zoo_fn())
    row["all_steps_ran"] = model_bench.ran_all_steps(zt)
    row["ms"] = time_ms(lambda: zoo_fn().block_until_ready(), repeats, 2.0)
    row["tokens_per_s"] = b * n / (row["ms"] / 1e3)
    if mt is not None:
      twin = mt.build("encdec", s.cfg, s.params).to(dev).eval()
      tb = mt.batch_to_torch(s.batch, dev)

      def gen():
        with torch.inference_mode():
          return twin.greedy(tb, n) if beam == 1 else twin.beam(tb, beam, n)[0]

      run = _twin_timer(torch, dev, gen)
      row["tokens_agree"] = float((run().cpu().numpy() == zt).mean())
      row["torch_ms"] = time_ms(run, repeats, 2.0)
      row["torch_tokens_per_s"] = b * n / (row["torch_ms"] / 1e3)
      row["speedup_vs_torch"] = row["torch_ms"] / row["ms"]
  except Exception as err:  # report and go on
    row["error"] = f"{type(err).__name__}: {str(err)[:300]}"
  return row


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--dry-run", action="store_true", help="tiny shapes, 2 repeats; runs on a CPU")
  ap.add_argument("--repeats", type=int, default=None)
  ap.add_argument("--only", default=None, help="regex on case names")
  ap.add_argument(
    "--out",
    default=None,
    help="JSON path (default benchmarks/results/gpu-<date>.json; --dry-run: not written unless given)",
  )
  args = ap.parse_args(argv)
  repeats = args.repeats or (2 if args.dry_run else 50)
  dev = jax.devices()[0]
  if dev.platform != "gpu" and not args.dry_run:
    print(f"no GPU here ({dev.platform}: {dev.device_kind}); use --dry-run for a CPU smoke test", file=sys.stderr)
    return 2
  zoo_bench._imports()
  import flax

  result = {
    "date": datetime.datetime.now().isoformat(timespec="seconds"),
    "dry_run": args.dry_run,
    "device": {"platform": dev.platform, "kind": dev.device_kind, "count": jax.device_count()},
    "versions": {"jax": jax.__version__, "flax": flax.__version__},
    "dtype": "bfloat16",
  }
  result["peak"] = matmul_peak(256 if args.dry_run else 8192, repeats)
  print(f"peak: {result['peak']}", flush=True)
  rows = []
  shapes = [(2, 16, 32, 4)] if args.dry_run else [(8, 256, 512, 8), (8, 4096, 1024, 16)]
  for b, l, d, h in shapes:
    rows.append(cudnn_attention(b, l, d, h, repeats))
    print(rows[-1], flush=True)
  # Models compute in bf16 through their config (parameters stay f32, as in training); the rest are cast.
  cases = [(c, True) for c in zoo_bench.all_cases(quick=args.dry_run, only=args.only, models=False)]
  cases += [
    (c, False)
    for c in zoo_bench.model_cases(args.dry_run, dtype="bfloat16")
    if not args.only or re.search(args.only, c.name)
  ]
  for case, cast in cases:
    try:
      row = zoo_case(case, repeats, cast)
    except Exception as err:  # report and go on
      row = {"name": case.name, "error": f"{type(err).__name__}: {str(err)[:300]}"}
    if row.get("tflops"):
      row["frac_bf16_peak"] = row["tflops"] / result["peak"]["bf16_tflops"]
    rows.append(row)
    print({k: row.get(k) for k in ("name", "ms", "tflops", "error")}, flush=True)
  rows += model_rows(args, repeats, result["peak"])
  result["rows"] = rows
  out = args.out or (
    None if args.dry_run else os.path.join(HERE, "results", f"gpu-{datetime.date.today().isoformat()}.json")
  )
  if out:
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
      json.dump(result, f, indent=1)
    print(f"wrote {out}")
  return 0


if __name__ == "__main__":
  sys.exit(main())
