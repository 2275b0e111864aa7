"""Whole models against their PyTorch twins: forward passes, AdamW training steps and generation, in one process.

    .venv-bench/bin/python benchmarks/model_bench.py                  # full run: JSON into results/cpu.json
                                                                      # ("models"), table into README.md
    .venv-bench/bin/python benchmarks/model_bench.py --only 'train/parallel' --no-readme   # a subset
    .venv-bench/bin/python benchmarks/model_bench.py --quick --out /tmp/m.json             # tiny smoke run

Rows (each zoo function jitted, each twin from benchmarks/model_twins.py built from the same parameters):
  forward/<model>   the model's forward pass (train=False; the twin under torch.inference_mode).
  train/<model>     one optimizer step on the same batch, steady state: forward, backward, global-norm
                    clipping and AdamW on the warmup-cosine schedule of zoo.train.TrainConfig, by
                    zoo.train.train_step (optax) against torch.optim.AdamW + clip_grad_norm_ + LambdaLR.
                    Before timing, three steps of each from the same parameters must land on the same
                    parameters within float32 noise (`adamw_check`); a row that fails is not timed.
  generate/encdec   greedy and beam-4 decoding of 32 tokens at batch 1 and 16: zoo.encdec's jitted
                    KV-cache loops against the twin's eager loop with its own cache. No early stop: the
                    zoo's loops stop once every sequence has ended, so the EOS and PAD rows of the tied
                    embedding are set to zero (their logit is 0, below every argmax and beam candidate of a
                    random model), and the run checks afterwards that all 32 steps ran and that both
                    libraries produced the same tokens. Tokens/s counts B·32 output tokens per call.
  ... (torch.compile) the same train and generate rows with the twin under torch.compile (inductor): the
                    train step's forward and loss, the decoder step of generation (full-length cache,
                    position mask); "torch_mode" says which, compile time is reported, not timed.
FLOPs: XLA's cost analysis of the zoo's compiled function, once; the twin's GFLOP/s uses the same count.
Peak: the best (fastest repeat) f32 square matmul of several sizes, per library; "% peak" divides by the
better library's, so that no row reads above 100 %. Figures are medians of consecutive calls in blocks
(zoo_bench.timed_blocks); they mean something only from a quiet machine (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
import zoo_bench  # noqa: E402

RESULTS = os.path.join(HERE, "results", "cpu.json")
README = os.path.join(HERE, "README.md")
GEN_TOKENS = 32
# (row name, zoo model, ModelConfig changes): the parallel model with three fusions of different shapes.
MODELS = (
  ("parallel", "parallel", {}),
  ("parallel+LMF", "parallel", {"fusion": "LMF"}),
  ("parallel+GMU", "parallel", {"fusion": "GMU"}),
  ("serial", "serial", {}),
  ("alignment", "alignment", {}),
  ("encdec", "encdec", {}),
)


def _torch():
  import torch

  return torch


def _mt():
  import model_twins

  return model_twins


# ------------------------------------------------------------------------------------------------
# Peak.


def matmul_peak(quick, torch):
  """Best f32 GFLOP/s of square matmuls per library (fastest repeat of each size, best size); both printed."""
  sizes = (128,) if quick else (512, 1024, 2048)
  res = {"sizes": list(sizes)}
  for n in sizes:
    a = jax.random.normal(jax.random.key(7), (n, n), jnp.float32)
    f = jax.jit(lambda x, y: jnp.dot(x, y))
    fns = {"jax_f32": lambda: f(a, a).block_until_ready()}
    if torch is not None:
      ta = torch.randn(n, n)
      fns["torch_f32"] = lambda: torch.matmul(ta, ta)
    for k, v in zoo_bench.timed_blocks(fns, 6 if quick else 30, 2.0 if quick else 12.0).items():
      res[k] = max(res.get(k, 0.0), 2 * n**3 / (v["min_ms"] / 1e3) / 1e9)
  res["f32_peak"] = max(v for k, v in res.items() if k.endswith("_f32"))
  return res


# ------------------------------------------------------------------------------------------------
# Models, batches, optimizers.


@dataclasses.dataclass
class Setup:
  row: str
  name: str
  cfg: object
  model: object
  params: object
  batch: dict


def setup(row, name, changes, quick, batch_size, dtype="float32"):
  """The model, its parameters and a labelled batch (default config, or TINY with --quick)."""
  from zoo import models

  cfg = (models.TINY if quick else models.ModelConfig()).replace(dtype=dtype, **changes)
  model = models.build(name, cfg)
  params = models.init_params(model, cfg, jax.random.key(0))
  batch = models.example_batch(cfg, jax.random.key(1), batch_size)
  return Setup(row, name, cfg, model, params, batch)


def train_config():
  """The optimisation of `python -m zoo train`'s default preset (lr, warmup, decay, clipping, steps)."""
  from zoo import train

  return train.TrainConfig()


def schedule_values(tcfg, n):
  """The learning rate of steps 0..n-1: the same warmup-cosine schedule zoo.train._optimizer builds."""
  sched = optax.warmup_cosine_decay_schedule(
    init_value=0.0,
    peak_value=tcfg.learning_rate,
    warmup_steps=tcfg.warmup_steps,
    decay_steps=max(tcfg.steps, tcfg.warmup_steps + 1),
    end_value=tcfg.learning_rate * 0.01,
  )
  return [float(sched(i)) for i in range(n)]


def zoo_step_fn(s, tcfg):
  """The zoo's jitted training step for `s` (zoo.train.train_step; for the encoder-decoder, the same
  step on zoo.encdec.sequence_loss, since zoo.train trains the classifiers only) and its TrainState."""
  from flax.training import train_state

  from zoo import encdec, train

  state = train_state.TrainState.create(apply_fn=s.model.apply, params=s.params, tx=train.make_optimizer(tcfg))
  if s.name != "encdec":
    fn = functools.partial(train.train_step, contrastive_weight=tcfg.contrastive_weight)
  else:

    def fn(state, batch, rng):
      def loss(p):
        logits, _ = state.apply_fn(
          {"params": p}, batch, train=True, rngs={"dropout": jax.random.fold_in(rng, state.step)}
        )
        return encdec.sequence_loss(logits, batch["target"])

      value, grads = jax.value_and_grad(loss)(state.params)
      return state.apply_gradients(grads=grads), {"loss": value}

  return jax.jit(fn, donate_argnums=0), state


def torch_trainer(s, tcfg, params=None, device="cpu", compile=False):
  """(twin, step()) with torch.optim.AdamW (fused), clip_grad_norm_ and LambdaLR on the zoo's schedule;
  with `compile`, the forward pass and loss (and so their backward) through torch.compile (inductor)."""
  torch, mt = _torch(), _mt()
  twin = mt.build(s.name, s.cfg, s.params if params is None else params).to(device).train()
  tb = mt.batch_to_torch(s.batch, device)
  loss_fn = functools.partial(mt.loss, s.name, twin)
  if compile:
    loss_fn = torch.compile(loss_fn, fullgraph=True, dynamic=False)
  opt = torch.optim.AdamW(
    twin.parameters(), lr=tcfg.learning_rate, betas=(0.9, 0.999), eps=1e-8, weight_decay=tcfg.weight_decay, fused=True
  )
  lrs = schedule_values(tcfg, tcfg.steps)
  sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: lrs[min(i, len(lrs) - 1)] / tcfg.learning_rate)

  def step():
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(tb, tcfg.contrastive_weight)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(twin.parameters(), tcfg.grad_clip)
    opt.step()
    sched.step()
    return loss

  return twin, step


def _copy_state(state):
  return jax.tree.map(lambda x: jnp.array(x, copy=True) if isinstance(x, jax.Array) else x, state)


def adamw_check(s, tcfg, step_fn, state, steps=3, rtol=2e-2, noise=1e-6, compile=False):
  """Three optax steps and three torch.optim.AdamW steps from the same parameters on the same batch.

  Compares the twins built from the parameters each library reached, entry by entry: max |torch − zoo|
  must be at most `rtol` of how far the zoo moved that tensor (float32 rounding in small gradient
  entries reached 0.2 % on the TINY parallel model and 0.5 % at the default config, B 32; a wrong
  learning rate, betas, bias correction or schedule step is of the order of the move, over 50 %), the losses of the three steps must agree, and every
  tensor must have moved in both libraries or in neither. What three steps cannot show: the weight
  decay moves a parameter by lr·1e-4 of itself, and Adam's normalisation cancels a uniform gradient
  scale such as the clipping (it shows only through eps), so both are below this tolerance.
  Entries whose first gradient (in PyTorch) is below `noise` × the largest are left out of the
  comparison and counted, apart from those of gradient exactly 0 (rows of the embedding no token of the
  batch uses, which only the weight decay moves): attention's key biases have a zero gradient in exact
  arithmetic (the softmax does not see a shift shared by all keys), so their gradient is float32 rounding, which Adam divides by its own root
  mean square into a move of the learning rate's size and random sign, in either library.
  The schedule starts at 0, so the first step moves nothing: three steps make the check bite.
  """
  torch, mt = _torch(), _mt()
  rng = jax.random.key(2)
  z = _copy_state(state)
  z_losses = []
  for _ in range(steps):
    z, metrics = step_fn(z, s.batch, rng)
    z_losses.append(float(metrics["loss"]))
  twin, tstep = torch_trainer(s, tcfg, compile=compile)
  t0 = time.perf_counter()
  t_losses = [float(tstep().detach())]
  first_step_s = time.perf_counter() - t0
  grads = {k: p.grad.detach().abs().clone() for k, p in twin.named_parameters() if p.grad is not None}
  t_losses += [float(tstep().detach()) for _ in range(steps - 1)]
  floor = noise * max(float(g.max()) for g in grads.values())
  start = dict(mt.build(s.name, s.cfg, s.params).named_parameters())
  want = dict(mt.build(s.name, s.cfg, z.params).named_parameters())
  worst, worst_name, moved_only_one, left_out, zero = 0.0, "", [], 0, 0
  for k, p in twin.named_parameters():
    p, w, p0 = p.detach(), want[k].detach(), start[k].detach()
    dz, dt = float((w - p0).abs().max()), float((p - p0).abs().max())
    if (dz > 0) != (dt > 0):
      moved_only_one.append(k)
      continue
    g = grads.get(k, torch.zeros_like(p))
    signal = g > floor
    left_out += int(((g > 0) & ~signal).sum())
    zero += int((g == 0).sum())
    if dz > 0 and bool(signal.any()):
      r = float((p - w).abs()[signal].max()) / dz
      if r > worst:
        worst, worst_name = r, k
  ok = not moved_only_one and worst <= rtol and np.allclose(z_losses, t_losses, rtol=1e-4)
  return {
    "adamw_check": "passed" if ok else "FAILED",
    "adamw_steps": steps,
    "adamw_worst_rel_diff": worst,
    "adamw_worst_tensor": worst_name,
    "adamw_rtol": rtol,
    "adamw_noise_entries_left_out": left_out,
    "adamw_zero_gradient_entries_left_out": zero,
    "moved_in_one_library_only": moved_only_one,
    "loss_zoo": z_losses,
    "loss_torch": t_losses,
    "torch_first_step_s": first_step_s,
  }


# ------------------------------------------------------------------------------------------------
# Rows.


def _time(fns, args):
  return zoo_bench.timed_blocks(fns, args.repeats, args.budget, pause_s=0.0 if args.quick else 0.2, warm_s=args.warm_s)


def _finish(row, timings, peak, per_call=None):
  """Median ms, the ratio (torch/zoo: > 1 when the zoo is faster), GFLOP/s and % of the better peak."""
  for k, v in timings.items():
    row[f"{k}_ms"], row[f"{k}_min_ms"], row[f"{k}_n"] = v["median_ms"], v["min_ms"], v["n"]
  if "torch_ms" in row:
    row["speedup_vs_torch"] = row["torch_ms"] / row["zoo_ms"]
  for k in ("zoo", "torch"):
    if f"{k}_ms" in row:
      if row.get("flops"):
        row[f"{k}_gflops"] = row["flops"] / (row[f"{k}_ms"] / 1e3) / 1e9
        row[f"{k}_frac_peak"] = row[f"{k}_gflops"] / peak["f32_peak"]
      if per_call:
        row[f"{k}_{per_call[0]}"] = per_call[1] / (row[f"{k}_ms"] / 1e3)
  return row


def forward_row(s, args, peak, torch):
  """The forward pass, jitted, against the twin in inference mode; checked first."""
  row = {"name": f"forward/{s.row}", "shape": f"B{s.batch['text'].shape[0]} {args.config_name}", "torch_mode": "eager"}
  fn = jax.jit(lambda p, b: s.model.apply({"params": p}, b, train=False)[0])
  compiled = fn.lower(s.params, s.batch).compile()
  row["flops"] = zoo_bench.flops_of(compiled)
  ref = np.asarray(compiled(s.params, s.batch))
  fns = {"zoo": lambda: compiled(s.params, s.batch).block_until_ready()}
  if torch is not None:
    mt = _mt()
    twin = mt.build(s.name, s.cfg, s.params).eval()
    tb = mt.batch_to_torch(s.batch)
    with torch.inference_mode():
      got = twin(tb)[0].numpy()
    row["twin_rel_err"] = float(np.abs(got - ref).max() / (np.abs(ref).max() or 1.0))
    if row["twin_rel_err"] <= 1e-4:

      def run():
        with torch.inference_mode():
          twin(tb)

      fns["torch"] = run
    else:
      row["torch"] = "twin disagrees with the zoo: not timed"
  return _finish(row, _time(fns, args), peak)


def train_row(s, args, peak, torch, compiled=False):
  """One AdamW step, steady state, same batch; the AdamW check first (on the compiled twin if `compiled`:
  forward and loss under torch.compile, the optimizer eager; the check's first step, which compiles, gives
  `torch_compile_s`)."""
  tcfg = train_config()
  row = {
    "name": f"train/{s.row}" + (" (torch.compile)" if compiled else ""),
    "shape": f"B{s.batch['text'].shape[0]} {args.config_name}",
    "torch_mode": "compile" if compiled else "eager",
    "optimizer": f"clip {tcfg.grad_clip}, adamw lr {tcfg.learning_rate} wd {tcfg.weight_decay}, "
    f"warmup {tcfg.warmup_steps} + cosine to {tcfg.steps}",
  }
  step_fn, state = zoo_step_fn(s, tcfg)
  rng = jax.random.key(2)
  row["flops"] = zoo_bench.flops_of(step_fn.lower(state, s.batch, rng).compile())
  holder = {"state": _copy_state(state)}

  def zoo_step():
    holder["state"], m = step_fn(holder["state"], s.batch, rng)
    jax.block_until_ready(holder["state"].params)

  fns = {"zoo": zoo_step}
  if torch is not None:
    row.update(adamw_check(s, tcfg, step_fn, state, compile=compiled))
    if compiled:
      row["torch_compile_s"] = row["torch_first_step_s"]
    if row["adamw_check"] == "passed":
      fns["torch"] = torch_trainer(s, tcfg, compile=compiled)[1]
    else:
      row["torch"] = "AdamW check failed: not timed"
  return _finish(row, _time(fns, args), peak, ("steps_per_s", 1.0))


def generation_setup(quick, batch_size, dtype="float32"):
  """The encoder-decoder with room for 32 tokens, EOS and PAD embeddings zeroed (no sequence ends)."""
  from zoo import models

  s = setup("encdec", "encdec", {"target_len": GEN_TOKENS}, quick, batch_size, dtype)
  emb = s.params["decoder"]["embed"]["embedding"]
  emb = emb.at[jnp.array([_mt_ids()["PAD"], _mt_ids()["EOS"]])].set(0.0)
  s.params = {**s.params, "decoder": {**s.params["decoder"], "embed": {"embedding": emb}}}
  s.batch = models.example_batch(s.cfg, jax.random.key(1), batch_size, with_label=False)
  return s


def _mt_ids():
  from zoo import tokenizer

  return {"PAD": tokenizer.PAD, "EOS": tokenizer.EOS}


def ran_all_steps(tokens):
  """Whether a decode ran every step: some returned sequence has a non-PAD last token."""
  return bool((np.asarray(tokens)[..., -1] != _mt_ids()["PAD"]).any())


def generate_row(s, beam, args, torch, compiled=False):
  """Greedy (beam=1) or beam search: the zoo's jitted loop against the twin's cached loop, eager, or with
  its decoder step under torch.compile (`compiled`: EncDecTwin.compile_step, a full-length cache and a
  position mask so that one graph serves every step). The first call, which compiles, is not timed:
  its wall time is the row's `torch_compile_s`.

  Why the step and not the whole loop: torch.compile of the whole greedy loop (32 steps unrolled into
  one graph) ran B1 at 1.75x the eager twin but took 502 s (122 s of CPU) to compile on a loaded
  machine, against 17-30 s for the step (benchmarks/README.md)."""
  from zoo import encdec

  b = s.batch["text"].shape[0]
  mode = "greedy" if beam == 1 else f"beam{beam}"
  row = {
    "name": f"generate/encdec/{mode}" + (" (torch.compile)" if compiled else ""),
    "shape": f"B{b} {GEN_TOKENS} tokens {args.config_name}",
    "torch_mode": "compile" if compiled else "eager",
  }
  if beam == 1:
    zoo_fn = lambda: encdec.greedy_decode(s.model, s.params, s.batch, GEN_TOKENS)
  else:
    zoo_fn = lambda: encdec.beam_search(s.model, s.params, s.batch, beam, GEN_TOKENS)[0]
  zt = np.asarray(zoo_fn())
  row["all_steps_ran"] = ran_all_steps(zt)
  fns = {"zoo": lambda: zoo_fn().block_until_ready()}
  if torch is not None:
    mt = _mt()
    twin = mt.build("encdec", s.cfg, s.params).eval()
    if compiled:
      twin.compile_step(dynamic=False)
    tb = mt.batch_to_torch(s.batch)

    def run():
      with torch.inference_mode():
        return twin.greedy(tb, GEN_TOKENS) if beam == 1 else twin.beam(tb, beam, GEN_TOKENS)[0]

    t0 = time.perf_counter()
    tt = run().numpy()
    if compiled:
      row["torch_compile_s"] = time.perf_counter() - t0
    row["tokens_agree"] = float((tt == zt).mean())
    if row["tokens_agree"] == 1.0 and row["all_steps_ran"]:
      fns["torch"] = run
    else:
      row["torch"] = "twin's tokens differ from the zoo's, or the loop stopped early: not timed"
  return _finish(row, _time(fns, args), {"f32_peak": 1.0}, ("tokens_per_s", b * GEN_TOKENS))


# ------------------------------------------------------------------------------------------------
# The run.


def _safe(fn, name):
  t0 = time.perf_counter()
  try:
    row = fn()
  except Exception as err:  # report and go on: one broken row must not hide the others
    row = {"name": name, "error": f"{type(err).__name__}: {str(err)[:400]}"}
  row["bench_s"] = time.perf_counter() - t0
  print(_progress(row), flush=True)
  return row


def _progress(r):
  if "error" in r:
    return f"{r['name']:28s} ERROR {r['error']}"
  t = f"{r['torch_ms']:9.2f}" if "torch_ms" in r else f"{'-':>9s}"
  extra = f"  check {r['adamw_check']}" if "adamw_check" in r else ""
  return f"{r['name']:44s} {r['shape']:32s} zoo {r['zoo_ms']:9.2f}  torch {t} ms{extra}  ({r['bench_s']:.1f} s)"


def measure(args):
  torch = None if args.no_torch else _torch_or_none()
  if torch is not None:
    torch.manual_seed(0)
  import flax

  info = {
    "date": datetime.datetime.now().isoformat(timespec="seconds"),
    "quick": args.quick,
    "machine": zoo_bench.machine(),
    "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""),
    "versions": {
      "jax": jax.__version__,
      "flax": flax.__version__,
      "optax": optax.__version__,
      "torch": torch.__version__ if torch else None,
    },
    "torch_threads": torch.get_num_threads() if torch else None,
    "loadavg_start": os.getloadavg(),
  }
  info["peak"] = matmul_peak(args.quick, torch)
  print(f"f32 matmul peak, GFLOP/s: {info['peak']}", flush=True)
  keep = lambda n: not args.only or re.search(args.only, n)
  rows = []
  for bsz in args.batches:
    for row, name, changes in MODELS:
      for kind, fn in (("forward", forward_row), ("train", train_row)):
        if keep(f"{kind}/{row}"):
          rows.append(
            _safe(lambda: fn(setup(row, name, changes, args.quick, bsz), args, info["peak"], torch), f"{kind}/{row}")
          )
      if torch is not None and not args.no_compile and keep(f"train/{row} (torch.compile)"):
        rows.append(
          _safe(
            lambda: train_row(setup(row, name, changes, args.quick, bsz), args, info["peak"], torch, True),
            f"train/{row} (torch.compile)",
          )
        )
  for bsz in args.gen_batches:
    for beam in (1, 4):
      for compiled in (False, True) if torch is not None and not args.no_compile else (False,):
        name = f"generate/encdec/{'greedy' if beam == 1 else f'beam{beam}'}" + (" (torch.compile)" if compiled else "")
        if keep(name):
          rows.append(_safe(lambda: generate_row(generation_setup(args.quick, bsz), beam, args, torch, compiled), name))
  info["rows"] = rows
  info["loadavg_end"] = os.getloadavg()
  return info


def _torch_or_none():
  try:
    import torch
  except ImportError:
    return None
  return torch


def _f(x, digits=3):
  return "" if x is None else f"{x:.{digits}g}"


def markdown(run):
  """The README's table for one run."""
  p = run["peak"]
  lines = [
    f"Run {run['date']} on {run['machine']['cpu']} ({run['machine']['cores']} cores), "
    f"jax {run['versions']['jax']}, flax {run['versions']['flax']}, optax {run['versions']['optax']}, "
    f"torch {run['versions']['torch']}; load average {run['loadavg_start'][0]:.1f} at the start, "
    f"{run['loadavg_end'][0]:.1f} at the end.",
    "",
    f"f32 matmul peak in the same run (best repeat of square {p['sizes']}): jax {p.get('jax_f32', 0):.0f}, "
    f"torch {p.get('torch_f32', 0):.0f} GFLOP/s; \"% peak\" is of the better, {p['f32_peak']:.0f}.",
    "",
    "| row | shape | zoo ms | torch ms | torch/zoo | zoo per s | torch per s | zoo % peak | torch % peak | check |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
  ]
  for r in run["rows"]:
    if "error" in r:
      lines.append(f"| {r['name']} | | {r['error']} | | | | | | | |")
      continue
    unit = "steps_per_s" if "zoo_steps_per_s" in r else "tokens_per_s" if "zoo_tokens_per_s" in r else None
    per = lambda k: _f(r.get(f"{k}_{unit}")) if unit else ""
    pct = lambda k: f"{100 * r[f'{k}_frac_peak']:.0f}" if f"{k}_frac_peak" in r else ""
    check = (
      r.get("adamw_check", "")
      + (f" ({r['adamw_worst_rel_diff']:.1e})" if "adamw_worst_rel_diff" in r else "")
      + (f"; compiled in {r['torch_compile_s']:.0f} s" if "torch_compile_s" in r else "")
      if "adamw_check" in r
      else f"tokens agree {r['tokens_agree']:.2f}"
      + (f"; compiled in {r['torch_compile_s']:.0f} s" if "torch_compile_s" in r else "")
      if "tokens_agree" in r
      else f"rel err {r['twin_rel_err']:.1e}"
      if "twin_rel_err" in r
      else ""
    )
    ratio = f"{r['speedup_vs_torch']:.2f}" if "speedup_vs_torch" in r else r.get("torch", "")
    lines.append(
      f"| {r['name']} | {r['shape']} | {_f(r['zoo_ms'])} | {_f(r.get('torch_ms'))} | {ratio} | "
      f"{per('zoo')} | {per('torch')} | {pct('zoo')} | {pct('torch')} | {check} |"
    )
  return "\n".join(lines)


def write_readme(run, path=README):
  """Replace the table between this script's markers in benchmarks/README.md (appended if absent)."""
  zoo_bench.splice_readme(markdown(run), "model_bench", path)


def write_json(run, path):
  """Put the run under "models" in `path`, keeping whatever else it holds (zoo_bench.py's runs)."""
  data = {}
  if os.path.exists(path):
    with open(path) as f:
      data = json.load(f)
  data["models"] = run
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  with open(path, "w") as f:
    json.dump(data, f, indent=1)


def _ints(text):
  return [int(x) for x in text.split(",") if x]


def parse_args(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument("--quick", action="store_true", help="TINY config, batch 2, 2 repeats (a smoke test)")
  ap.add_argument("--only", default=None, help="regex on row names, e.g. 'train/(serial|parallel)$'")
  ap.add_argument(
    "--batches",
    type=_ints,
    default=None,
    help="batch sizes of the forward/ and train/ rows, comma-separated (default 32,256)",
  )
  ap.add_argument("--gen-batches", type=_ints, default=None, help="batch sizes of generate/ rows (default 1,16)")
  ap.add_argument("--repeats", type=int, default=None, help="timed calls per library (default 30; 2 with --quick)")
  ap.add_argument("--budget", type=float, default=None, help="seconds per row before stopping early (default 8)")
  ap.add_argument("--warm-s", type=float, default=None, help="untimed seconds before each block (default 0.3)")
  ap.add_argument("--no-torch", action="store_true", help="time the zoo alone")
  ap.add_argument("--no-compile", action="store_true", help="leave out the torch.compile rows (eager twins only)")
  ap.add_argument("--out", default=None, help="JSON path (full run: benchmarks/results/cpu.json, key \"models\")")
  ap.add_argument("--no-readme", action="store_true", help="print the table instead of writing README.md")
  args = ap.parse_args(argv)
  args.batches = args.batches or ([2] if args.quick else [32, 256])
  args.gen_batches = args.gen_batches or ([1, 2] if args.quick else [1, 16])
  args.repeats = args.repeats or (2 if args.quick else 30)
  args.budget = args.budget if args.budget is not None else (1.0 if args.quick else 8.0)
  args.warm_s = args.warm_s if args.warm_s is not None else (0.0 if args.quick else 0.3)
  args.config_name = "TINY" if args.quick else "default config"
  full = not args.quick and args.only is None
  if args.out is None and full:
    args.out = RESULTS
  args.readme = full and not args.no_readme
  return args


def main(argv=None):
  args = parse_args(argv)
  zoo_bench._imports()
  run = measure(args)
  if args.out:
    write_json(run, args.out)
    print(f"wrote {args.out}")
  if args.readme:
    write_readme(run)
    print(f"wrote {README}")
  else:
    print(markdown(run))
  return 0


if __name__ == "__main__":
  sys.exit(main())
