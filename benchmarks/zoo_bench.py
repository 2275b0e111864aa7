"""Forward-pass benchmark of every zoo method: jitted Flax, un-jitted, and a PyTorch twin, in one process.

    .venv-bench/bin/python benchmarks/zoo_bench.py                # full run: figures, JSON, README table
    .venv/bin/python benchmarks/zoo_bench.py --quick --out /tmp/q.json   # tiny shapes, 2 repeats (a smoke test)

For every attention method, fusion (function and Module) and architecture (zoo.models) it reports the
median milliseconds of many calls after warm-up, the FLOPs (XLA's cost analysis of the jitted function),
GFLOP/s, the ratio to PyTorch, and the fraction of this machine's matrix-multiply peak measured in the
same run (jnp.dot and torch.matmul, f32 and bf16). Each PyTorch twin (benchmarks/torch_twins.py) is
first checked to give the zoo's output on the same parameters and inputs; one that does not is not timed.
The three ways are timed in blocks of consecutive calls, three rounds of (jit, eager, torch) with a pause
before each block, so that neither library runs among the other's threads (timed_blocks says why).

The full run does each measurement in a child process: once with XLA's default CPU flags and once with
the zoo's (zoo/xla_cpu.py), plus two processes that compile every model against one fresh persistent
compilation cache (the second shows what the cache saves). `--xla default|zoo` runs one config in-process.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
README = os.path.join(HERE, "README.md")


def zoo_flags(override=None):
  """The flags of the configured run: `--flags` if given, else zoo/xla_cpu.py's FLAGS."""
  if override is not None:
    return tuple(override.split())
  sys.path.insert(0, ROOT)
  from zoo import xla_cpu

  return tuple(xla_cpu.FLAGS)


def _configure_xla(which, override=None):
  """Apply the configured run's flags before jax starts its backend (`which` = "zoo"), or leave XLA alone."""
  if which == "zoo":
    from zoo import xla_cpu

    xla_cpu.configure(zoo_flags(override))


# Imports that start jax come after the flags are set (see main()).
jax = jnp = nn = np = None


def _imports():
  global jax, jnp, nn, np
  import flax.linen as nn_
  import jax as jax_
  import jax.numpy as jnp_
  import numpy as np_

  jax, jnp, nn, np = jax_, jnp_, nn_, np_


def torch_or_none():
  """The torch module, or None when it is not installed (the main venv)."""
  try:
    import torch
  except ImportError:
    return None
  return torch


# ------------------------------------------------------------------------------------------------
# Cases.


@dataclasses.dataclass
class Case:
  name: str  # "attention/multi_head_attention"
  shape: str  # what it was run at, for the table
  fn: Callable  # fn(params, *inputs) -> array, jax
  params: Any
  inputs: tuple
  twin: Callable | None  # twin(params) -> torch callable(*inputs), or None
  note: str = ""


def _tt():
  """benchmarks/torch_twins.py, imported only when a twin is built (it needs torch)."""
  import torch_twins

  return torch_twins


def _module_twin(name, module):
  """twin(params) for fusion Module `name`: its torch_twins builder applied, or None when it has none."""

  def build(p):
    builder = _tt().twin(name)
    return builder(p, module) if builder else None

  return build


def _keys(n, seed=0):
  return list(jax.random.split(jax.random.key(seed), n))


def _normal(key, shape):
  return jax.random.normal(key, shape, jnp.float32)


def _sdpa_weights_first(q, k, v):
  """softmax(q·kᵀ/√d)·v computed as written: the weights normalised, then the value product."""
  logits = jnp.einsum("...qd,...kd->...qk", q, k) / jnp.sqrt(jnp.asarray(q.shape[-1], q.dtype))
  return jnp.einsum("...qk,...kv->...qv", jax.nn.softmax(logits, axis=-1), v)


def attention_cases(quick):
  """SDPA, the zoo's MHA and Flax's MHDPA at batch 8, sequence 256, width 512, 8 heads."""
  from zoo.attention import heads_major_attention, multi_head_attention, scaled_dot_product_attention

  b, l, d, h = (2, 16, 32, 4) if quick else (8, 256, 512, 8)
  k = _keys(4)
  q, kk, v = (_normal(k[i], (b, h, l, d // h)) for i in range(3))
  x = _normal(k[3], (b, l, d))
  mha = nn.MultiHeadDotProductAttention(num_heads=h)  # Flax's default attention_fn: the [B, L, H, d] layout
  p = jax.jit(mha.init)(jax.random.key(1), x, x)["params"]
  mha_twin = lambda p: (lambda m: lambda x: m(x, x))(_tt().twin_multi_head_attention(p))
  shape = f"B{b} L{l} D{d} H{h}"
  mha_hm = nn.MultiHeadDotProductAttention(num_heads=h, attention_fn=heads_major_attention)
  return [
    Case(
      "attention/scaled_dot_product_attention",
      f"B{b} H{h} L{l} d{d // h}",
      lambda p, q, k, v: scaled_dot_product_attention(q, k, v),
      None,
      (q, kk, v),
      lambda p: _tt().twin_scaled_dot_product_attention(),
    ),
    Case(
      "attention/SDPA, softmax weights first",
      f"B{b} H{h} L{l} d{d // h}",
      lambda p, q, k, v: _sdpa_weights_first(q, k, v),
      None,
      (q, kk, v),
      lambda p: _tt().twin_scaled_dot_product_attention(),
      "the zoo's form before 2026-11-29 (jax.nn.softmax, then the value product): the baseline of the row above",
    ),
    Case(
      "attention/multi_head_attention",
      shape,
      lambda p, x: multi_head_attention(p, x, x, h),
      p,
      (x,),
      mha_twin,
      "twin: torch.nn.MultiheadAttention",
    ),
    Case(
      "attention/flax.linen.MultiHeadDotProductAttention",
      shape,
      lambda p, x: mha.apply({"params": p}, x, x),
      p,
      (x,),
      mha_twin,
      "Flax's module with its default attention_fn",
    ),
    Case(
      "attention/flax MHDPA, attention_fn=heads_major_attention",
      shape,
      lambda p, x: mha_hm.apply({"params": p}, x, x),
      p,
      (x,),
      mha_twin,
      "the same module and parameters with zoo.attention.heads_major_attention, as zoo's blocks use it",
    ),
  ]


def _array_fusion_cases(quick):
  """The graded array fusions (functions) at pooled shapes."""
  from zoo.fusion import basic, gating, tensor

  b = 4 if quick else 512
  d = 8 if quick else 256
  dt = 4 if quick else 32  # TFN's output is Π(d_m + 1) wide
  k = _keys(12, 2)
  zs = [_normal(k[i], (b, d)) for i in range(3)]
  small = [_normal(k[3 + i], (b, dt)) for i in range(3)]
  o, r = (6 if quick else 256), 4
  gp = {
    "W_a": _normal(k[6], (d, o)) / d**0.5,
    "W_b": _normal(k[7], (d, o)) / d**0.5,
    "W_z": _normal(k[8], (2 * d, o)) / (2 * d) ** 0.5,
  }
  fp = {
    n: {"kernel": _normal(kk, (d, d)) / d**0.5, "bias": jnp.zeros(d)} for n, kk in (("gamma", k[9]), ("beta", k[10]))
  }
  lp = {
    "factors": [_normal(kk, (r, d + 1, o)) / (d + 1) ** 0.5 for kk in jax.random.split(k[11], 3)],
    "fusion_weights": jnp.full((1, r), r**-0.5),
    "fusion_bias": jnp.zeros((1, o)),
  }
  w = jnp.asarray([0.5, 0.3, 0.2])
  s = f"B{b} d{d}×3"
  return [
    Case(
      "fusion/weighted_sum",
      s,
      lambda p, zs, w: basic.weighted_sum(zs, w),
      None,
      (zs, w),
      lambda p: _tt().twin_weighted_sum(),
    ),
    Case(
      "fusion/gated_fusion",
      f"B{b} d{d}×2 o{o}",
      lambda p, a, c: gating.gated_fusion(p, a, c),
      gp,
      (zs[0], zs[1]),
      lambda p: _tt().twin_gated_fusion(p),
    ),
    Case(
      "fusion/film",
      f"B{b} d{d} c{d}",
      lambda p, x, c: gating.film(p, x, c),
      fp,
      (zs[0], zs[1]),
      lambda p: _tt().twin_film(p),
    ),
    Case(
      "fusion/tensor_fusion",
      f"B{b} d{dt}×3",
      lambda p, a, c, e: tensor.tensor_fusion(a, c, e),
      None,
      tuple(small),
      lambda p: _tt().twin_tensor_fusion(),
    ),
    Case(
      "fusion/low_rank_fusion",
      f"B{b} d{d}×3 r{r} o{o}",
      lambda p, a, c, e: tensor.low_rank_fusion(p, a, c, e),
      lp,
      tuple(zs),
      lambda p: _tt().twin_low_rank_fusion(p),
    ),
  ]


def fusion_module_cases(quick, keep=lambda name: True):
  """Every registered fusion Module (input_kind "pooled" or "tokens") at a realistic shape."""
  from zoo import registry

  out = []
  for e in registry.entries("fusion"):
    cls = e.obj
    if not (isinstance(cls, type) and hasattr(cls, "input_kind")) or not keep(f"fusion/{e.name}"):
      continue  # not a Module, or filtered out by --only before paying for its init
    kw, widths, b, lengths = _fusion_setup(cls, quick)
    try:
      module = cls(**kw)
    except TypeError as err:
      out.append(Case(f"fusion/{e.name}", "", None, None, (), None, f"not built: {err}"))
      continue
    ks = _keys(len(widths) + 1, 3)
    if cls.input_kind == "pooled":
      xs = [_normal(k, (b, d)) for k, d in zip(ks, widths)]
      shape = f"B{b} d{'/'.join(map(str, widths))}"
    else:
      xs = [_normal(k, (b, l, d)) for k, l, d in zip(ks, lengths, widths)]
      shape = f"B{b} L{'/'.join(map(str, lengths))} d{'/'.join(map(str, widths))}"
    shape += "".join(f" {k}={v}" for k, v in kw.items())
    params = jax.jit(module.init)(ks[-1], xs)["params"]  # one compile, rather than one per primitive
    out.append(
      Case(
        f"fusion/{e.name}",
        shape,
        lambda p, xs, module=module: module.apply({"params": p}, xs),
        params,
        (xs,),
        _module_twin(e.name, module),
      )
    )
  return out


def _fusion_setup(cls, quick):
  """Constructor kwargs, modality widths, batch and token lengths for one fusion Module."""
  name = cls.__name__
  fields = {f.name for f in dataclasses.fields(cls)}
  two = name in ("CoAttention",)
  if quick:
    kw = {"features": 8} if "features" in fields else {}
    kw.update({k: v for k, v in (("num_heads", 2), ("mlp_dim", 16)) if k in fields})
    widths, lengths = ((6, 8) if two else (6, 8, 5)), ((4, 5) if two else (4, 5, 3))
    if name == "EarlyConcat":
      lengths = (4, 4, 4)
    return kw, widths, 3, lengths
  if cls.input_kind == "tokens":
    kw = {k: v for k, v in (("features", 256), ("num_heads", 8), ("mlp_dim", 1024)) if k in fields}
    widths, lengths = ((256, 384) if two else (256, 384, 128)), ((128, 196) if two else (128, 196, 100))
    if name == "EarlyConcat":
      lengths = (128, 128, 128)
    return kw, widths, 8, lengths
  kw = {"features": 256} if "features" in fields else {}
  widths = (256, 384, 128)
  if name == "TFN":  # the post-fusion Dense has Π(d_m + 1)·features weights
    kw, widths = {"features": 64}, (32, 32, 32)
  if name == "MultiplicativeInteraction":  # 𝕎 is d_x·d_y·features
    kw, widths = {"features": 128}, (128, 64, 64)
  if name == "FixedWeightFusion":
    widths = (256, 256, 256)
  return kw, widths, 512, None


def proj_lmf_case(quick):
  """A projection + low-rank-fusion model: one Dense per modality onto h, then LMF (rank 4)."""
  from zoo.fusion.tensor import LMF

  widths, h, o, b = ((6, 8, 5), 4, 3, 3) if quick else ((300, 512, 74), 128, 64, 512)

  class ProjLMF(nn.Module):
    @nn.compact
    def __call__(self, zs):
      hs = [nn.Dense(h, name=f"proj_{m}")(z) for m, z in enumerate(zs)]
      return LMF(rank=4, features=o, name="lmf")(hs)

  module = ProjLMF()
  ks = _keys(4, 5)
  zs = [_normal(k, (b, d)) for k, d in zip(ks, widths)]
  params = jax.jit(module.init)(ks[-1], zs)["params"]

  def twin(p):
    tt = _tt()
    projs = [tt.linear(p[f"proj_{m}"]) for m in range(3)]
    fuse = tt.lmf(p["lmf"])
    return lambda zs: fuse([f(z) for f, z in zip(projs, zs)])

  return Case(
    "model/proj+LMF",
    f"B{b} d{'/'.join(map(str, widths))} h{h} r4 o{o}",
    lambda p, zs: module.apply({"params": p}, zs),
    params,
    (zs,),
    twin,
  )


def model_cases(quick, batch=None, dtype="float32", keep=lambda name: True):
  """Each architecture of zoo.models at its default config (TINY with --quick); no PyTorch twin."""
  try:
    from zoo import models
  except ImportError as err:
    return [Case("model/*", "", None, None, (), None, f"zoo.models not importable: {err}")]
  cfg = (models.TINY if quick else models.ModelConfig()).replace(dtype=dtype)
  b = batch or (2 if quick else 32)
  out = []
  for name in sorted(n for n in models.MODELS if keep(f"model/{n}")):
    c = cfg.replace(modalities=("text",)) if name == "unimodal" else cfg
    try:
      model = models.build(name, c)
      params = models.init_params(model, c, jax.random.key(0))
      data = models.example_batch(c, jax.random.key(1), b, with_label=False)
    except Exception as err:  # an architecture still being written must not stop the others
      out.append(Case(f"model/{name}", "", None, None, (), None, f"not built: {type(err).__name__}: {err}"))
      continue
    fn = lambda p, data, model=model: model.apply({"params": p}, data, train=False)[0]
    out.append(
      Case(
        f"model/{name}",
        f"B{b} default config" if not quick else f"B{b} TINY",
        fn,
        params,
        (data,),
        None,
        "no PyTorch twin",
      )
    )
  return out


def all_cases(quick, only=None, models=True):
  """Every case (`models=False`: all but the architectures), optionally only names matching regex `only`."""
  keep = lambda name: not only or re.search(only, name)
  cases = attention_cases(quick) + _array_fusion_cases(quick) + fusion_module_cases(quick, keep)
  cases += [proj_lmf_case(quick)] + (model_cases(quick, keep=keep) if models else [])
  return [c for c in cases if keep(c.name)]


# ------------------------------------------------------------------------------------------------
# Timing.


def _block(x):
  jax.block_until_ready(x)
  return x


def timed_blocks(fns, repeats, budget_s, rounds=3, pause_s=0.2, warm_s=0.3):
  """Wall-clock median and min, and median process CPU time, of each callable: `rounds` rounds, each
  giving every callable a block of consecutive calls (about repeats/rounds, fewer past its share of the
  budget) after a pause and `warm_s` seconds of untimed calls (at least one, which also compiles a
  jitted callable and fills the un-jitted path's per-primitive cache before anything is timed).

  Why blocks and not strict alternation (jit, eager, torch, jit, ...): alternating, each library ran
  among the other's threads, PyTorch's OpenMP workers still spinning after its call and XLA's pool
  asleep, which made a 1.1 ms jitted LateConcat read 2.2 ms. The pause lets the previous block's
  threads go idle; the warm-up brings this one's threads, and the machine's cores, to the steady state
  of a loop (one warm call was not enough for 1-3 ms calls on a 2-vCPU virtual machine: the first calls
  after idling pay the wake-up of the second core; benchmarks/threads_probe.py measures that case); the
  rounds still spread a drifting load over all three."""
  times = {k: [] for k in fns}
  cpu = {k: [] for k in fns}
  per_block = max(1, -(-repeats // rounds))
  share_s = budget_s / (rounds * len(fns))
  for _ in range(rounds):
    for k, f in fns.items():
      time.sleep(pause_s)
      warm = time.perf_counter()
      f()
      while time.perf_counter() - warm < warm_s:
        f()
      start = time.perf_counter()
      for i in range(per_block):
        c0, t0 = time.process_time(), time.perf_counter()
        f()
        times[k].append(time.perf_counter() - t0)
        cpu[k].append(time.process_time() - c0)
        if i >= 1 and time.perf_counter() - start > share_s:
          break
  return {
    k: {
      "median_ms": 1e3 * statistics.median(v),
      "min_ms": 1e3 * min(v),
      "n": len(v),
      "cpu_ms": 1e3 * statistics.median(cpu[k]),
    }
    for k, v in times.items()
  }


def flops_of(compiled):
  """FLOPs of a compiled jax function by XLA's cost analysis (None if it does not say)."""
  cost = compiled.cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else {}
  f = (cost or {}).get("flops")
  return float(f) if f and f > 0 else None


def matmul_peak(quick, repeats, torch):
  """GFLOP/s of square matmuls: jnp.dot f32, bf16 (f32 accumulate, and plain), torch.matmul f32 and bf16."""
  sizes = (128,) if quick else (1024, 2048)
  res = {}
  for n in sizes:
    a = _normal(jax.random.key(7), (n, n))
    ab = a.astype(jnp.bfloat16)
    f32 = jax.jit(lambda x, y: jnp.dot(x, y))
    bf = jax.jit(lambda x, y: jnp.dot(x, y, preferred_element_type=jnp.float32))
    fns = {
      "jax_f32": lambda: _block(f32(a, a)),
      "jax_bf16_f32acc": lambda: _block(bf(ab, ab)),
      "jax_bf16_plain": lambda: _block(f32(ab, ab)),
    }
    if torch is not None:
      ta = torch.randn(n, n)
      tb = ta.bfloat16()
      fns.update({"torch_f32": lambda: torch.matmul(ta, ta), "torch_bf16": lambda: torch.matmul(tb, tb)})
    for k, v in timed_blocks(fns, max(repeats, 6), 10.0).items():
      g = 2 * n**3 / (v["median_ms"] / 1e3) / 1e9
      res[k] = max(res.get(k, 0.0), g)
  res["f32_peak"] = max(v for k, v in res.items() if k.endswith("f32"))
  res["bf16_peak"] = max(v for k, v in res.items() if "bf16" in k)
  res["sizes"] = list(sizes)
  return res


def _to_numpy_tree(tree):
  return jax.tree.map(np.asarray, tree)


def twin_check(case, ref, torch, tol=1e-4):
  """(fields for the row, a callable running the twin or None): the twin is timed only if it agrees."""
  if torch is None:
    return {"torch": "unavailable (torch not installed)"}, None
  with torch.inference_mode():
    tw = case.twin(_to_numpy_tree(case.params)) if case.twin else None
    if tw is None:
      return {"torch": "no twin"}, None
    t_inputs = _tt().to_torch(_to_numpy_tree(case.inputs))
    got = tw(*t_inputs).numpy()
  err = float(np.max(np.abs(got - ref))) if got.shape == ref.shape else float("inf")
  scale = float(np.max(np.abs(ref))) or 1.0
  fields = {"twin_max_abs_err": err, "twin_rel_err": err / scale}
  if not err / scale <= tol:
    fields["torch"] = f"twin disagrees with the zoo (max |Δ| {err:.3g}, output scale {scale:.3g}): not timed"
    return fields, None

  def run_torch():
    with torch.inference_mode():
      tw(*t_inputs)

  return fields, run_torch


def run_case(case, repeats, budget_s, torch, pause_s=0.2, warm_s=0.3):
  """Compile, check the twin, and time one case three ways (timed_blocks); a dict for the JSON."""
  row = {"name": case.name, "shape": case.shape, "note": case.note}
  if case.fn is None:
    row["error"] = case.note
    return row
  t0 = time.perf_counter()
  compiled = jax.jit(case.fn).lower(case.params, *case.inputs).compile()
  row["compile_s"] = time.perf_counter() - t0
  row["flops"] = flops_of(compiled)
  ref = np.asarray(_block(compiled(case.params, *case.inputs)), np.float32)
  fns = {
    "jit": lambda: _block(compiled(case.params, *case.inputs)),
    "eager": lambda: _block(case.fn(case.params, *case.inputs)),
  }
  fields, run_torch = twin_check(case, ref, torch)
  row.update(fields)
  if run_torch:
    fns["torch"] = run_torch
  for k, v in timed_blocks(fns, repeats, budget_s, pause_s=pause_s, warm_s=warm_s).items():
    row[f"{k}_ms"], row[f"{k}_min_ms"], row[f"{k}_cpu_ms"], row[f"{k}_n"] = (
      v["median_ms"],
      v["min_ms"],
      v["cpu_ms"],
      v["n"],
    )
  if "torch_ms" in row:
    row["speedup_vs_torch"] = row["torch_ms"] / row["jit_ms"]  # > 1: the jitted zoo is faster
  if row["flops"]:
    row["gflops"] = row["flops"] / (row["jit_ms"] / 1e3) / 1e9
  return row


def machine():
  """What this ran on."""
  cpu = platform.processor()
  try:
    with open("/proc/cpuinfo") as f:
      cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
  except OSError:
    pass
  return {"cpu": cpu, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()}


def measure(args):
  """The benchmark under the current XLA flags, as a dict."""
  torch = None if args.no_torch else torch_or_none()
  if torch is not None:
    torch.manual_seed(0)
  import flax

  info = {
    "date": datetime.datetime.now().isoformat(timespec="seconds"),
    "xla": args.xla,
    "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
    "quick": args.quick,
    "machine": machine(),
    "versions": {"jax": jax.__version__, "flax": flax.__version__, "torch": torch.__version__ if torch else None},
    "torch_threads": torch.get_num_threads() if torch else None,
    "loadavg_start": os.getloadavg(),
  }
  t0 = time.perf_counter()
  info["peak"] = matmul_peak(args.quick, args.repeats, torch)
  print(f"matmul peak ({time.perf_counter() - t0:.1f} s): {info['peak']}", flush=True)
  rows = []
  t_cases = time.perf_counter()
  cases = all_cases(args.quick, args.only)
  info["setup_s"] = time.perf_counter() - t_cases
  for case in cases:
    t0 = time.perf_counter()
    try:
      row = run_case(case, args.repeats, args.budget, torch, pause_s=0.0 if args.quick else 0.2, warm_s=args.warm_s)
    except Exception as err:  # report and go on: one broken method must not hide the others' figures
      row = {"name": case.name, "shape": case.shape, "error": f"{type(err).__name__}: {err}"}
    row["bench_s"] = time.perf_counter() - t0
    if row.get("gflops"):
      row["frac_f32_peak"] = row["gflops"] / info["peak"]["f32_peak"]
    rows.append(row)
    print(_progress_line(row), flush=True)
  info["rows"] = rows
  info["loadavg_end"] = os.getloadavg()
  return info


def _progress_line(r):
  if "error" in r:
    return f"{r['name']:55s} ERROR {r['error']}"
  t = f"{r['torch_ms']:9.2f}" if "torch_ms" in r else f"{'-':>9s}"
  return f"{r['name']:55s} jit {r['jit_ms']:9.2f}  eager {r['eager_ms']:9.2f}  torch {t} ms  ({r['bench_s']:.1f} s)"


# ------------------------------------------------------------------------------------------------
# Compile times and the persistent compilation cache.


def compile_models(args):
  """Trace and compile every model once in this process: {name: {"lower_s", "compile_s"} or {"error"}}."""
  if args.cache_dir:
    jax.config.update("jax_compilation_cache_dir", args.cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  out = {}
  for case in model_cases(args.quick) + [proj_lmf_case(args.quick)]:
    if case.fn is None:
      out[case.name] = {"error": case.note}
      continue
    t0 = time.perf_counter()
    lowered = jax.jit(case.fn).lower(case.params, *case.inputs)
    t1 = time.perf_counter()
    lowered.compile()
    out[case.name] = {"lower_s": t1 - t0, "compile_s": time.perf_counter() - t1}
  return out


def _child(argv, out_path, timeout=1800):
  """Run this script in a fresh process with `argv`, reading back the JSON it writes."""
  cmd = [sys.executable, os.path.abspath(__file__), *argv, "--child-out", out_path]
  subprocess.run(cmd, check=True, timeout=timeout)
  with open(out_path) as f:
    return json.load(f)


def cache_check(args, tmp):
  """Two fresh processes compile every model against one new persistent cache: cold, then warm."""
  cache = os.path.join(tmp, "jax_cache")
  common = ["--compile-only", "--cache-dir", cache] + (["--quick"] if args.quick else [])
  cold = _child(common, os.path.join(tmp, "cold.json"))
  warm = _child(common, os.path.join(tmp, "warm.json"))
  return {name: {"cold": cold[name], "warm": warm.get(name, {})} for name in cold}


# ------------------------------------------------------------------------------------------------
# Output.


def _ms(x):
  return "" if x is None else (f"{x:.3g}" if x < 10 else f"{x:.0f}" if x >= 100 else f"{x:.1f}")


def markdown(result):
  """The README's table(s) for a merged result."""
  runs = result["runs"]
  base = runs["default"]
  zoo_run = runs.get("zoo")
  peak = base["peak"]
  lines = [
    f"Run {base['date']} on {base['machine']['cpu']} ({base['machine']['cores']} cores), "
    f"jax {base['versions']['jax']}, flax {base['versions']['flax']}, torch {base['versions']['torch']}; "
    f"load average {base['loadavg_start'][0]:.1f} at the start, {base['loadavg_end'][0]:.1f} at the end "
    "(the 1-minute average: the start one counts work that ran before, the end one the run's own threads).",
    "",
    f"Matrix-multiply peak measured in the same run (GFLOP/s, square {peak['sizes']}): "
    + ", ".join(f"{k} {v:.0f}" for k, v in peak.items() if k != "sizes")
    + ".",
    "",
  ]
  head = "| method | shape | jit ms | un-jitted ms | torch ms | torch/jit | GFLOP/s | % f32 peak |"
  sep = "|---|---|---:|---:|---:|---:|---:|---:|"
  if zoo_run:
    lines += [f"Last two columns: the same cases in a second process with XLA_FLAGS=`{zoo_run['XLA_FLAGS']}`.", ""]
    head += " jit ms, flags | torch/jit, flags |"
    sep += "---:|---:|"
  elif "configured_flags" in result:
    lines += [
      "zoo/xla_cpu.py sets no XLA flags (its docstring has the ones measured and why), so there is "
      "no second, configured run.",
      "",
    ]
  lines += [head, sep]
  zoo_rows = {r["name"]: r for r in zoo_run["rows"]} if zoo_run else {}
  for r in base["rows"]:
    if "error" in r:
      lines.append(f"| {r['name']} | {r.get('shape', '')} | {r['error']} | | | | | |" + (" | |" if zoo_run else ""))
      continue
    torch_cell = _ms(r.get("torch_ms")) or r.get("torch", "")
    ratio = f"{r['speedup_vs_torch']:.2f}" if "speedup_vs_torch" in r else ""
    frac = f"{100 * r['frac_f32_peak']:.0f}" if r.get("frac_f32_peak") else ""
    gf = f"{r['gflops']:.0f}" if r.get("gflops") else ""
    line = f"| {r['name']} | {r['shape']} | {_ms(r['jit_ms'])} | {_ms(r['eager_ms'])} | {torch_cell} | {ratio} | {gf} | {frac} |"
    if zoo_run:
      z = zoo_rows.get(r["name"], {})
      zr = f"{z['torch_ms'] / z['jit_ms']:.2f}" if "torch_ms" in z and "jit_ms" in z else ""
      line += f" {_ms(z.get('jit_ms'))} | {zr} |"
    lines.append(line)
  cache = result.get("compile_cache")
  if cache:
    lines += [
      "",
      "First call of each model in a fresh process: tracing/lowering, then XLA compilation, without "
      "and with JAX's persistent compilation cache (filled by the first process; the cache saves only "
      "the compilation):",
      "",
      "| model | lower s | compile s (cold) | compile s (cache hit) |",
      "|---|---:|---:|---:|",
    ]
    for k, v in cache.items():
      c, w = v["cold"], v["warm"]
      if "error" in c or "error" in w:
        lines.append(f"| {k} | {c.get('error') or w.get('error')} | | |")
      else:
        lines.append(f"| {k} | {c['lower_s']:.2f} | {c['compile_s']:.2f} | {w['compile_s']:.2f} |")
  return "\n".join(lines)


def splice_readme(table: str, tag: str, path=README):
  """Put `table` between the markers `<!-- TAG:begin -->` and `<!-- TAG:end -->` of `path` (appended if absent).

  Each benchmark script writes its own marked table in benchmarks/README.md (zoo_bench, model_bench, startup)."""
  begin, end = f"<!-- {tag}:begin -->", f"<!-- {tag}:end -->"
  with open(path) as f:
    text = f.read()
  block = f"{begin}\n{table}\n{end}"
  if begin in text and end in text:
    text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
  else:
    text += "\n" + block + "\n"
  with open(path, "w") as f:
    f.write(text)


def write_readme(result, path=README):
  """Replace the table between the markers of benchmarks/README.md."""
  splice_readme(markdown(result), "zoo_bench", path)


def parse_args(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--quick", action="store_true", help="tiny shapes, 2 repeats, in-process, default XLA flags")
  ap.add_argument("--repeats", type=int, default=None, help="timed calls per way (default 30; 2 with --quick)")
  ap.add_argument("--budget", type=float, default=None, help="seconds per case before stopping early (default 8)")
  ap.add_argument(
    "--warm-s",
    type=float,
    default=None,
    help="seconds of untimed calls before each timed block (default 0.3; 0 with --quick)",
  )
  ap.add_argument("--only", default=None, help="regex on the case names, e.g. 'attention|LMF'")
  ap.add_argument(
    "--xla",
    choices=("default", "zoo", "both"),
    default=None,
    help="XLA flags: the default, zoo/xla_cpu.py's, or both in child processes (full run's default)",
  )
  ap.add_argument(
    "--flags",
    default=None,
    help="XLA flags of the configured run instead of zoo/xla_cpu.py's "
    "FLAGS, e.g. --flags=--xla_cpu_experimental_ynn_fusion_type=-reduce",
  )
  ap.add_argument("--no-torch", action="store_true", help="leave the PyTorch column out even if torch imports")
  ap.add_argument("--no-cache-check", action="store_true", help="skip the persistent compilation cache check")
  ap.add_argument("--out", default=None, help="JSON path (full run: benchmarks/results/cpu.json)")
  ap.add_argument(
    "--readme", action="store_true", help="write the table into benchmarks/README.md (the default of a full run)"
  )
  ap.add_argument("--no-readme", action="store_true")
  ap.add_argument("--compile-only", action="store_true", help=argparse.SUPPRESS)
  ap.add_argument("--cache-dir", default=None, help=argparse.SUPPRESS)
  ap.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
  args = ap.parse_args(argv)
  if args.repeats is None:
    args.repeats = 2 if args.quick else 30
  if args.budget is None:
    args.budget = 1.0 if args.quick else 8.0
  if args.warm_s is None:
    args.warm_s = 0.0 if args.quick else 0.3
  if args.xla is None:
    args.xla = "default" if args.quick else "both"
  full = not args.quick and args.only is None
  if args.out is None and full:
    args.out = os.path.join(RESULTS, "cpu.json")
  args.readme = (args.readme or full) and not args.no_readme
  return args


def main(argv=None):
  args = parse_args(argv)
  sys.path.insert(0, HERE)
  sys.path.insert(0, ROOT)
  if args.compile_only:
    _imports()
    res = compile_models(args)
    with open(args.child_out, "w") as f:
      json.dump(res, f)
    return 0
  if args.xla != "both":
    _configure_xla(args.xla, args.flags)
    _imports()
    run = measure(args)
    if args.child_out:
      with open(args.child_out, "w") as f:
        json.dump(run, f)
      return 0
    result = {"runs": {args.xla: run}}
    if args.xla == "zoo":
      result["runs"]["default"] = run  # the table's base columns
  else:
    passthrough = [a for a in ("--quick", "--no-torch") if getattr(args, a[2:].replace("-", "_"))]
    passthrough += ["--repeats", str(args.repeats), "--budget", str(args.budget), "--warm-s", str(args.warm_s)]
    if args.only:
      passthrough += ["--only", args.only]
    if args.flags is not None:
      passthrough += [f"--flags={args.flags}"]
    configured = zoo_flags(args.flags)
    with tempfile.TemporaryDirectory() as tmp:
      result = {"runs": {}, "configured_flags": list(configured)}
      for which in ("default", "zoo") if configured else ("default",):
        print(f"== XLA flags: {which}", flush=True)
        result["runs"][which] = _child(passthrough + ["--xla", which], os.path.join(tmp, f"{which}.json"))
      if not args.no_cache_check:
        print("== persistent compilation cache: two processes", flush=True)
        result["compile_cache"] = cache_check(args, tmp)
  if args.out:
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    if os.path.exists(args.out):  # keep what model_bench.py wrote there ("models"): its own run, its own date
      with open(args.out) as f:
        old = json.load(f)
      result = {**{k: v for k, v in old.items() if k == "models"}, **result}
    with open(args.out, "w") as f:
      json.dump(result, f, indent=1)
    print(f"wrote {args.out}")
  if args.readme:
    write_readme(result)
    print(f"wrote {README}")
  else:
    print(markdown(result))
  return 0


if __name__ == "__main__":
  sys.exit(main())
