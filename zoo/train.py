"""Training on the synthetic task: `create_train_state`, jitted `train_step` / `eval_step`, the loop.

Flax examples/wmt's split: models live in zoo.models, this file holds a frozen `TrainConfig` and flat
pure functions. The loop checkpoints with orbax (a stopped run resumes at the same step with the same
data and ends with the same parameters) and runs data-parallel over a `jax.sharding.Mesh` of every
device (batch split along "data", parameters replicated; XLA inserts the gradient all-reduce).

The workdir's layout (config.json, model_config.json, checkpoints/) is zoo.checkpoint's; beside them,
<workdir>/history.json holds the held-out evaluations so far (kept across resumes).
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax.training import train_state
from jax.sharding import Mesh, NamedSharding
from jax.sharding import PartitionSpec as P

from zoo import checkpoint, models
from zoo import data as data_lib

# The run's configuration and the preset table live in zoo.config (no JAX: the CLI checks them first).
from zoo.config import (  # noqa: F401
  PRESETS,
  TrainConfig,
  config_to_json,
  model_config,
  train_config_from_args,
)

TrainState = train_state.TrainState


def make_optimizer(cfg: TrainConfig) -> optax.GradientTransformation:
  """Global-norm clipping, then adamw on a linear-warmup, cosine-decay schedule."""
  return _optimizer(cfg.steps, cfg.learning_rate, cfg.warmup_steps, cfg.weight_decay, cfg.grad_clip)


@functools.cache
def _optimizer(steps, learning_rate, warmup_steps, weight_decay, grad_clip):
  # Cached: the optimizer is a static field of TrainState, so runs that share one object (seeds of a
  # config) share the jitted train_step instead of compiling it again.
  schedule = optax.warmup_cosine_decay_schedule(
    init_value=0.0,
    peak_value=learning_rate,
    warmup_steps=warmup_steps,
    decay_steps=max(steps, warmup_steps + 1),
    end_value=learning_rate * 0.01,
  )
  return optax.chain(optax.clip_by_global_norm(grad_clip), optax.adamw(schedule, weight_decay=weight_decay))


# Runs in one process (the seeds of a results row, a resumed run) share compilations: the jitted
# step's cache key holds TrainState's static fields, model.apply (a bound method, equal only for the
# same Module object) and the optimizer, so both are built once per config; and init_params, whose
# inner jit is a fresh lambda per call, is jitted here once per (model, config).
build_model = functools.lru_cache(maxsize=None)(models.build)
_init_params = jax.jit(models.init_params, static_argnums=(0, 1))


def create_train_state(cfg: TrainConfig, model, rng) -> TrainState:
  """Fresh parameters and optimizer state for `model`."""
  params = _init_params(model, model_config(cfg), rng)
  return TrainState.create(apply_fn=model.apply, params=params, tx=make_optimizer(cfg))


def _loss(params, apply_fn, batch, dropout_rng, contrastive_weight):
  logits_BxC, aux = apply_fn({"params": params}, batch, train=True, rngs={"dropout": dropout_rng})
  ce = optax.softmax_cross_entropy_with_integer_labels(logits_BxC.astype(jnp.float32), batch["label"]).mean()
  loss = ce
  if "contrastive_loss" in aux:
    loss = loss + contrastive_weight * aux["contrastive_loss"].astype(jnp.float32)
  return loss, (ce, logits_BxC)


def train_step(state: TrainState, batch: dict, rng, contrastive_weight: float = 0.0):
  """One adamw step on the batch's mean loss; metrics: loss (with the aux term), ce, accuracy."""
  dropout_rng = jax.random.fold_in(rng, state.step)
  grad_fn = jax.value_and_grad(_loss, has_aux=True)
  (loss, (ce, logits_BxC)), grads = grad_fn(state.params, state.apply_fn, batch, dropout_rng, contrastive_weight)
  acc = jnp.mean(jnp.argmax(logits_BxC, -1) == batch["label"])
  return state.apply_gradients(grads=grads), {"loss": loss, "ce": ce, "accuracy": acc}


def eval_step(state: TrainState, batch: dict):
  """Sums over the batch (so batches add up exactly): correct, ce_sum, count."""
  logits_BxC, _ = state.apply_fn({"params": state.params}, batch, train=False)
  ce_B = optax.softmax_cross_entropy_with_integer_labels(logits_BxC.astype(jnp.float32), batch["label"])
  return {
    "correct": jnp.sum(jnp.argmax(logits_BxC, -1) == batch["label"]),
    "ce_sum": jnp.sum(ce_B),
    "count": jnp.asarray(batch["label"].shape[0]),
  }


# --- many devices --------------------------------------------------------------------------------


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh named "data" over `devices` (default: all of them)."""
  return Mesh(np.asarray(jax.devices() if devices is None else devices), ("data",))


def shard_batch(batch: dict, mesh: Mesh) -> dict:
  """Put a host batch on the mesh, split along its leading (batch) axis."""
  return jax.device_put(batch, NamedSharding(mesh, P("data")))


# --- checkpoints ---------------------------------------------------------------------------------


def checkpoint_manager(workdir: str, cfg: TrainConfig):
  """Orbax manager of <workdir>/checkpoints, keeping the last two."""
  return checkpoint.run_manager(os.path.join(workdir, "checkpoints"), save_interval_steps=cfg.checkpoint_every)


def _ckpt_tree(state: TrainState) -> dict:
  return {"step": state.step, "params": state.params, "opt_state": state.opt_state}


def save_checkpoint(mngr, state: TrainState, *, force: bool = False) -> None:
  """Save the state at its step (every `checkpoint_every` steps, or now with `force`)."""
  checkpoint.save_step(mngr, int(state.step), _ckpt_tree(state), force=force)


def restore_checkpoint(mngr, state: TrainState) -> TrainState:
  """The latest checkpoint's state, with `state`'s structure and shardings; `state` if there is none."""
  restored = checkpoint.restore_latest(mngr, _ckpt_tree(state))
  return state if restored is None else state.replace(**restored)


# --- the loop ------------------------------------------------------------------------------------


@functools.cache
def _jitted_steps(contrastive_weight: float, mesh: Mesh):
  """`train_step` and `eval_step` jitted for the mesh (cached, so runs in one process share compilations)."""
  replicated, batch_sharding = NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))
  step_fn = jax.jit(
    functools.partial(train_step, contrastive_weight=contrastive_weight),
    in_shardings=(replicated, batch_sharding, replicated),
    out_shardings=(replicated, replicated),
    donate_argnums=0,
  )
  eval_fn = jax.jit(eval_step, in_shardings=(replicated, batch_sharding), out_shardings=replicated)
  return step_fn, eval_fn


def evaluate(eval_fn, state: TrainState, cfg: TrainConfig, mesh: Mesh) -> dict[str, float]:
  """Accuracy and mean cross-entropy over the held-out split."""
  tot = {"correct": 0, "ce_sum": 0.0, "count": 0}
  for k in range(cfg.eval_size // cfg.batch_size):
    b = shard_batch(data_lib.batch(cfg.data, 0, k, cfg.batch_size, split="eval"), mesh)
    for name, v in jax.device_get(eval_fn(state, b)).items():
      tot[name] += v
  return {"accuracy": tot["correct"] / tot["count"], "ce": tot["ce_sum"] / tot["count"]}


def num_params(params) -> int:
  """Total number of parameter entries."""
  return int(sum(np.size(x) for x in jax.tree.leaves(params)))


def train_and_evaluate(
  cfg: TrainConfig, workdir: str, *, mesh: Mesh | None = None, stop_at: int | None = None, progress: bool = True
) -> dict[str, Any]:
  """Train `cfg` in `workdir`, resuming from its latest checkpoint; evaluate; return a summary.

  `stop_at` ends the run early at that step with a checkpoint, as a preempted job would; calling
  again with the same config and workdir continues from there.
  """
  from tqdm.auto import tqdm

  mesh = make_mesh() if mesh is None else mesh
  n_dev = mesh.devices.size
  if cfg.batch_size % n_dev or cfg.eval_size % cfg.batch_size:
    raise ValueError(
      f"batch_size {cfg.batch_size} must divide by {n_dev} devices and eval_size {cfg.eval_size} by batch_size"
    )
  os.makedirs(workdir, exist_ok=True)
  cfg_path = os.path.join(workdir, "config.json")
  extended_from = None
  if os.path.exists(cfg_path):
    with open(cfg_path) as f:
      saved, wanted = json.load(f), json.loads(config_to_json(cfg))
    if saved != wanted:
      # Decision: a larger `steps` extends the run (the warmup-cosine schedule is rebuilt for the new
      # total, so the learning rate rises again from where the old schedule ended); any other change,
      # or fewer steps, would mix two runs and is refused.
      if {**saved, "steps": cfg.steps} != wanted or cfg.steps < saved["steps"]:
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
        raise ValueError(
          f"{workdir} holds a run with another config ({', '.join(changed)} differ); use a "
          f"fresh workdir (only a larger steps, now {saved['steps']}, extends a run)"
        )
      extended_from = saved["steps"]
      with open(cfg_path, "w") as f:
        f.write(config_to_json(cfg))
  else:
    with open(cfg_path, "w") as f:
      f.write(config_to_json(cfg))
    # What `python -m zoo infer --checkpoint <workdir>` rebuilds the model from.
    checkpoint.write_model_config(workdir, model_config(cfg))

  model = build_model(cfg.model, model_config(cfg))
  init_rng, dropout_rng = jax.random.split(jax.random.key(cfg.seed))
  replicated = NamedSharding(mesh, P())
  state = jax.device_put(create_train_state(cfg, model, init_rng), replicated)
  mngr = checkpoint_manager(workdir, cfg)
  state = restore_checkpoint(mngr, state)
  start = int(state.step)
  history_path = os.path.join(workdir, "history.json")
  history = []
  if start and os.path.exists(history_path):  # the evaluations before the checkpoint we resume from
    with open(history_path) as f:
      history = [h for h in json.load(f) if h["step"] <= start]
  summary_path = os.path.join(workdir, "summary.json")
  if extended_from is not None and start == extended_from and os.path.exists(summary_path):
    with open(summary_path) as f:  # the finished run's final evaluation becomes a point of the history
      history.append({"step": start, **json.load(f)["eval"]})
  if start:
    note = f" (extended from {extended_from} steps)" if extended_from is not None else ""
    print(f"resuming {workdir} at step {start} of {cfg.steps}{note}", file=sys.stderr)

  step_fn, eval_fn = _jitted_steps(cfg.contrastive_weight, mesh)

  end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)
  # Step time: data generation included; the first (compiling) step, evaluations and checkpoint
  # saves excluded.
  metrics, t_first, t_aside = {}, None, 0.0
  bar = tqdm(
    range(start, end),
    initial=start,
    total=cfg.steps,
    disable=not progress,
    desc=f"{cfg.model}/{cfg.model_cfg.fusion}" if cfg.model == "parallel" else cfg.model,
  )
  for step in bar:
    batch = shard_batch(data_lib.batch(cfg.data, cfg.seed, step, cfg.batch_size), mesh)
    state, metrics = step_fn(state, batch, dropout_rng)
    if t_first is None:  # the first step compiles: time the rest
      jax.block_until_ready(state)
      t_first = time.perf_counter()
    done = step + 1
    if progress and (done % 10 == 0 or done == end):
      bar.set_postfix(loss=f"{float(metrics['loss']):.3f}", acc=f"{float(metrics['accuracy']):.2f}")
    due_eval = done % cfg.eval_every == 0 and done < cfg.steps
    due_save = done == end or mngr.should_save(done)
    if due_eval or due_save:
      jax.block_until_ready(state)  # finish the queued steps on the steps' clock
      t_side = time.perf_counter()
      if due_eval:
        history.append({"step": done, **evaluate(eval_fn, state, cfg, mesh)})
        with open(history_path, "w") as f:
          json.dump(history, f, indent=2)
      if due_save:
        save_checkpoint(mngr, state, force=(done == end))
      t_aside += time.perf_counter() - t_side
  bar.close()
  jax.block_until_ready(state)
  timed = end - start - 1
  step_time = (time.perf_counter() - t_first - t_aside) / timed if t_first is not None and timed > 0 else float("nan")
  mngr.wait_until_finished()
  mngr.close()

  summary = {
    "step": int(state.step),
    "params": num_params(state.params),
    "step_time_s": step_time,
    "history": history,
    "train": {k: float(v) for k, v in jax.device_get(metrics).items()},
  }
  if int(state.step) == cfg.steps:
    summary["eval"] = evaluate(eval_fn, state, cfg, mesh)
    with open(summary_path, "w") as f:
      json.dump(summary, f, indent=2)
  summary["state"] = state
  return summary


# --- the command line ----------------------------------------------------------------------------

config_from_args = train_config_from_args  # the preset, its shorthand flags, then --config (zoo.config)


def main(args, cfg: TrainConfig | None = None) -> int:
  """`python -m zoo train`: train, evaluate, print the summary as JSON."""
  cfg = config_from_args(args) if cfg is None else cfg
  summary = train_and_evaluate(cfg, args.workdir, stop_at=args.stop_at, progress=not args.no_progress)
  summary.pop("state")
  print(json.dumps(summary, indent=2, default=float))
  return 0
