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

With torch (.venv-bench, `PYTHONPATH=$PWD` from a worktree), three more views, each against the twin
(model_bench.torch_trainer); run them under `taskset -c 0` on a shared machine, so that each library's
arithmetic is compared on one core by process CPU time, which other processes do not inflate:
  --split      forward loss, value_and_grad, the optimizer update alone, the whole step (wall and CPU ms);
  --profile    XLA's per-thunk times from a jax.profiler trace, summed by pass (forward / backward /
               optimizer, from each op's op_name) and by layer; then torch.profiler's operators;
  --residuals  MiB the forward keeps for the backward (JAX's saved residuals; autograd's saved tensors).
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import re
import resource
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


def _timed(fn, steps, warm=2):
  """(wall ms, process CPU ms) per call of `fn` over `steps` calls after `warm` untimed ones."""
  for _ in range(warm):
    fn()
  r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
  for _ in range(steps):
    fn()
  wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
  cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
  return 1e3 * wall / steps, 1e3 * cpu / steps


def zoo_split(s, tcfg, steps):
  """The zoo's step split: forward loss, value_and_grad, the optimizer update alone, the whole step (each jitted)."""
  import optax

  from zoo import encdec, train

  step_fn, state = model_bench.zoo_step_fn(s, tcfg)
  rng = jax.random.key(2)
  if s.name != "encdec":
    loss_fn = functools.partial(
      train._loss, apply_fn=s.model.apply, batch=s.batch, dropout_rng=rng, contrastive_weight=tcfg.contrastive_weight
    )
    loss_fn = (lambda f: lambda p: f(p)[0])(loss_fn)
  else:

    def loss_fn(p):
      logits, _ = s.model.apply({"params": p}, s.batch, train=True, rngs={"dropout": rng})
      return encdec.sequence_loss(logits, s.batch["target"])

  fwd = jax.jit(loss_fn)
  vg = jax.jit(jax.value_and_grad(loss_fn))
  _, grads = vg(state.params)

  def update(st, g):  # what TrainState.apply_gradients does: clip + adamw, then add the updates
    updates, opt_state = st.tx.update(g, st.opt_state, st.params)
    return st.replace(step=st.step + 1, params=optax.apply_updates(st.params, updates), opt_state=opt_state)

  upd = jax.jit(update, donate_argnums=0)
  holder = {"u": model_bench._copy_state(state), "s": model_bench._copy_state(state)}

  def run_upd():
    holder["u"] = upd(holder["u"], grads)
    jax.block_until_ready(holder["u"].params)

  def run_step():
    holder["s"], _ = step_fn(holder["s"], s.batch, rng)
    jax.block_until_ready(holder["s"].params)

  return {
    "forward (loss)": _timed(lambda: jax.block_until_ready(fwd(state.params)), steps),
    "forward + backward (value_and_grad)": _timed(lambda: jax.block_until_ready(vg(state.params)), steps),
    "optimizer (clip + adamw + apply)": _timed(run_upd, steps),
    "whole step (train_step)": _timed(run_step, steps),
  }


def torch_split(s, tcfg, steps):
  """The twin's step split the same way: forward loss, forward + backward, clip + AdamW(fused) + LambdaLR, whole step."""
  import torch

  mt = model_bench._mt()
  twin, step = model_bench.torch_trainer(s, tcfg)
  tb = mt.batch_to_torch(s.batch)
  opt = torch.optim.AdamW(twin.parameters(), lr=tcfg.learning_rate, weight_decay=tcfg.weight_decay, fused=True)

  def fwd():
    with torch.no_grad():
      mt.loss(s.name, twin, tb, tcfg.contrastive_weight)

  def fwd_bwd():
    twin.zero_grad(set_to_none=True)
    mt.loss(s.name, twin, tb, tcfg.contrastive_weight).backward()

  fwd_bwd()

  def update():  # gradients stay from the last backward; the learning rate is a constant 1e-9 (no drift)
    torch.nn.utils.clip_grad_norm_(twin.parameters(), tcfg.grad_clip)
    opt.step()

  for g in opt.param_groups:
    g["lr"] = 1e-9
  return {
    "forward (loss)": _timed(fwd, steps),
    "forward + backward (value_and_grad)": _timed(fwd_bwd, steps),
    "optimizer (clip + adamw + apply)": _timed(update, steps),
    "whole step (train_step)": _timed(step, steps),
  }


def print_split(row, batch, zoo, tw):
  """A table: each part's wall and CPU ms per step, zoo and twin, and torch/zoo of the wall times."""
  print(f"\ntrain/{row} B{batch}: where the step goes (ms per call: wall / process CPU; load {os.getloadavg()[0]:.1f})")
  print("| part | zoo wall | zoo CPU | torch wall | torch CPU | torch/zoo (wall) |")
  print("|---|---:|---:|---:|---:|---:|")
  for k, (zw, zc) in zoo.items():
    if tw:
      t_w, t_c = tw[k]
      print(f"| {k} | {zw:.1f} | {zc:.1f} | {t_w:.1f} | {t_c:.1f} | {t_w / zw:.2f} |")
    else:
      print(f"| {k} | {zw:.1f} | {zc:.1f} | | | |")


def _entry_ops(text):
  """{entry instruction name: (opcode, op_name)}; a fusion without metadata gets its body's most common op_name."""
  bodies, cur = {}, None
  for line in text.splitlines():
    m = re.match(r"^(?:ENTRY )?%?([\w.\-]+) ", line)
    if m and line.rstrip().endswith("{"):
      cur = bodies.setdefault(m.group(1), collections.Counter())
    elif cur is not None:
      op = re.search(r'op_name="([^"]*)"', line)
      if op:
        cur[op.group(1)] += 1
  entry = text[text.index("ENTRY") :]
  out = {}
  for line in entry.splitlines()[1:]:
    m = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = .*? ([a-z\-]+)\(", line)
    if not m:
      continue
    op = re.search(r'op_name="([^"]*)"', line)
    name = op.group(1) if op else ""
    called = re.search(r"calls=%?([\w.\-]+)", line)
    if not name and called and bodies.get(called.group(1)):
      name = bodies[called.group(1)].most_common(1)[0][0]
    out[m.group(1)] = (m.group(2), name)
  return out


def _where(op_name):
  """(pass, layer) of an HLO op_name: forward / backward / optimizer, and its module path without block numbers."""
  p = "backward" if "transpose(jvp" in op_name else "forward" if "jvp(" in op_name else "optimizer, loss, other"
  path = re.sub(r"^jit\([^)]*\)/", "", op_name)
  path = re.sub(r"transpose\(jvp\([^)]*\)\)/|jvp\([^)]*\)/|jit\([^)]*\)/", "", path)
  path = re.sub(r"block\d+/", "", path)
  parts = path.split("/")
  layer = "/".join(parts[:-1]) if len(parts) > 1 else "(top)"
  if layer.endswith("/attn") or layer.endswith("/attn/attn"):
    layer += " (q·k, softmax, ·v)"
  return p, layer or "(top)"


def xprof(step_fn, state, batch, rng, steps, top):
  """Per-thunk times of `steps` steps from jax.profiler's trace, summed by pass and by layer (ms per step)."""
  import glob
  import shutil
  import tempfile

  text = step_fn.lower(state, batch, rng).compile().as_text()
  ops = _entry_ops(text)
  d = tempfile.mkdtemp(prefix="xprof")
  try:
    with jax.profiler.trace(d):
      for _ in range(steps):
        state, _ = step_fn(state, batch, rng)
      jax.block_until_ready(state.params)
    pd = jax.profiler.ProfileData.from_file(glob.glob(d + "/**/*.xplane.pb", recursive=True)[0])
    per_thunk = collections.Counter()
    for plane in pd.planes:
      for line in plane.lines:
        for e in line.events:
          if e.name in ops:
            per_thunk[e.name] += e.duration_ns / 1e6 / steps
  finally:
    shutil.rmtree(d, ignore_errors=True)
  by_pass, by_layer, by_kind, by_sub = (collections.Counter() for _ in range(4))
  for n, ms in per_thunk.items():
    opcode, op_name = ops[n]
    p, layer = _where(op_name)
    by_pass[p] += ms
    by_layer[(p, layer)] += ms
    by_sub[(p, re.sub(r"^\w+_encoder(/transformer)?/?", "", layer) or "(front end, embedding)")] += ms
    kind = "fusion (" + n.split("_fusion")[0].split(".")[0] + ")" if opcode == "fusion" else opcode
    by_kind[kind] += ms
  total = sum(per_thunk.values())
  print(f"\nXLA thunks: {total:.1f} ms per step summed over threads (load {os.getloadavg()[0]:.1f})")
  print("by pass: " + ", ".join(f"{k} {v:.1f}" for k, v in by_pass.most_common()))
  print("by kind: " + ", ".join(f"{k} {v:.1f}" for k, v in by_kind.most_common(10)))
  print("| pass | sub-layer (all encoders) | ms/step | share |\n|---|---|---:|---:|")
  for (p, layer), ms in sorted(by_sub.items()):
    print(f"| {p} | {layer} | {ms:.1f} | {100 * ms / total:.0f} % |")
  print("| pass | layer | ms/step | share |\n|---|---|---:|---:|")
  for (p, layer), ms in by_layer.most_common(top):
    print(f"| {p} | {layer} | {ms:.1f} | {100 * ms / total:.0f} % |")
  print("top thunks:")
  for n, ms in per_thunk.most_common(top):
    print(f"  {ms:7.2f} ms  {n:36s} {ops[n][0]:12s} {ops[n][1][:110]}")


def torch_prof(s, tcfg, steps, top):
  """torch.profiler's self CPU time per operator over `steps` twin steps (ms per step)."""
  import torch

  _, step = model_bench.torch_trainer(s, tcfg)
  for _ in range(2):
    step()
  with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
    for _ in range(steps):
      step()
  ev = sorted(prof.key_averages(), key=lambda e: -e.self_cpu_time_total)
  total = sum(e.self_cpu_time_total for e in ev) / 1e3 / steps
  print(f"\ntorch: {total:.1f} ms self CPU per step (main thread's view; load {os.getloadavg()[0]:.1f})")
  print("| operator | calls/step | self ms/step | share |\n|---|---:|---:|---:|")
  for e in ev[:top]:
    ms = e.self_cpu_time_total / 1e3 / steps
    print(f"| {e.key} | {e.count // steps} | {ms:.1f} | {100 * ms / total:.0f} % |")


def residuals(s, tcfg, torch_too):
  """MiB the forward pass keeps for the backward: JAX's saved residuals of the loss (before XLA optimises), and
  the distinct storages PyTorch's autograd saves for the twin (saved_tensors_hooks); parameters excluded."""
  import numpy as np
  from jax._src.ad_checkpoint import saved_residuals

  from zoo import encdec, train

  rng = jax.random.key(2)
  if s.name != "encdec":
    loss = lambda p: train._loss(p, s.model.apply, s.batch, rng, tcfg.contrastive_weight)[0]  # noqa: E731
  else:
    loss = lambda p: encdec.sequence_loss(  # noqa: E731
      s.model.apply({"params": p}, s.batch, train=True, rngs={"dropout": rng})[0], s.batch["target"]
    )
  kept = [a for a, why in saved_residuals(loss, s.params) if "from the argument" not in why]
  zoo_mib = sum(int(np.prod(a.shape)) * a.dtype.itemsize for a in kept) / 2**20
  print(f"\nzoo: {len(kept)} residuals, {zoo_mib:.0f} MiB kept for the backward")
  if torch_too:
    import torch

    mt = model_bench._mt()
    twin, tb = mt.build(s.name, s.cfg, s.params).train(), mt.batch_to_torch(s.batch)
    seen, count = {}, [0]

    def pack(t):
      count[0] += 1
      if not (t.requires_grad and t.is_leaf):
        seen[t.untyped_storage().data_ptr()] = t.untyped_storage().nbytes()
      return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
      mt.loss(s.name, twin, tb, tcfg.contrastive_weight)
    print(f"torch: {count[0]} saved tensors, {len(seen)} storages, {sum(seen.values()) / 2**20:.0f} MiB")


def main(argv=None):
  ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
  ap.add_argument(
    "--model", default="parallel", help="a model_bench.MODELS row: " + ", ".join(r for r, _, _ in model_bench.MODELS)
  )
  ap.add_argument("--batch", type=int, default=32)
  ap.add_argument("--steps", type=int, default=20)
  ap.add_argument("--quick", action="store_true", help="TINY config")
  ap.add_argument("--hlo", default=None, help="write the optimized HLO text here")
  ap.add_argument(
    "--split",
    action="store_true",
    help="time forward / backward / optimizer alone, and the PyTorch twin's (needs torch)",
  )
  ap.add_argument("--no-torch", action="store_true", help="with --split / --profile: the zoo alone")
  ap.add_argument(
    "--profile",
    action="store_true",
    help="per-HLO-thunk times (jax.profiler) by pass and layer, and torch.profiler's operators for the twin",
  )
  ap.add_argument("--residuals", action="store_true", help="MiB the forward keeps for the backward, zoo and twin")
  ap.add_argument("--top", type=int, default=25, help="rows of the --profile tables")
  args = ap.parse_args(argv)
  zoo_bench._imports()
  row, name, changes = next(m for m in model_bench.MODELS if m[0] == args.model)
  s = model_bench.setup(row, name, changes, args.quick, args.batch)
  tcfg = model_bench.train_config()
  if args.split:
    z = zoo_split(s, tcfg, args.steps)
    t = None if args.no_torch else torch_split(s, tcfg, args.steps)
    print_split(row, args.batch, z, t)
    return 0
  if args.residuals:
    residuals(s, tcfg, not args.no_torch)
    return 0
  if args.profile:
    step_fn, state = model_bench.zoo_step_fn(s, tcfg)
    state = model_bench._copy_state(state)  # the step donates it; s.params stay for the twin
    rng = jax.random.key(2)
    for _ in range(3):
      state, _ = step_fn(state, s.batch, rng)
    xprof(step_fn, state, s.batch, rng, args.steps, args.top)
    if not args.no_torch:
      torch_prof(s, tcfg, args.steps, args.top)
    return 0
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
