"""Orbax checkpoints, all in one place: model parameters (`save_params`, `load_params`) and training runs.

Layout of a training workdir (zoo.train writes it; `load_params` and `python -m zoo infer` read it):
  <workdir>/config.json                      the TrainConfig (zoo.config.config_to_json)
  <workdir>/model_config.json                the model's ModelConfig (MODEL_CONFIG_FILE)
  <workdir>/checkpoints/<step>/default/      an orbax StandardCheckpointer directory holding
                                             {"step": [], "params": ..., "opt_state": ...}
`save_params` writes a bare StandardCheckpointer directory of {"params": ...}. Orbax is imported on first
use, not with this module (it costs a second of start-up).
"""

from __future__ import annotations

import os
from typing import Any

from zoo.config import ModelConfig, config_from_json, config_to_json

MODEL_CONFIG_FILE = "model_config.json"  # beside a checkpoint: the ModelConfig it was trained with


def save_params(path: str, params: Any) -> None:
  """Write {"params": params} with orbax's StandardCheckpointer (the training engineer's format)."""
  import orbax.checkpoint as ocp

  with ocp.StandardCheckpointer() as ckpt:
    ckpt.save(os.path.abspath(path), {"params": params})


def checkpoint_dir(path: str) -> str:
  """The orbax item directory under `path`: itself, or zoo.train's `<workdir>/checkpoints/<latest step>/default`.

  Accepts a training workdir, its `checkpoints/` folder, one `checkpoints/<step>/` folder, or the item
  directory itself (what `save_params` writes).
  """
  path = os.path.abspath(path)
  if os.path.isdir(os.path.join(path, "checkpoints")):
    path = os.path.join(path, "checkpoints")
  steps = [int(d) for d in os.listdir(path) if d.isdigit()] if os.path.isdir(path) else []
  if steps:
    path = os.path.join(path, str(max(steps)))
  if os.path.isdir(os.path.join(path, "default")):
    path = os.path.join(path, "default")
  return path


def load_params(path: str) -> Any:
  """The "params" of an orbax StandardCheckpointer checkpoint of {"params": ..., ...} (see `checkpoint_dir`)."""
  import jax
  import jax.numpy as jnp
  import orbax.checkpoint as ocp

  path = checkpoint_dir(path)
  with ocp.StandardCheckpointer() as ckpt:
    restored = ckpt.restore(path)
  if not isinstance(restored, dict) or "params" not in restored:
    raise ValueError(
      f"{path}: expected a checkpoint of {{'params': ...}}, found keys "
      f"{list(restored) if isinstance(restored, dict) else type(restored).__name__}"
    )
  return jax.tree.map(jnp.asarray, restored["params"])


def write_model_config(directory: str, cfg: ModelConfig) -> None:
  """Write `cfg` as `MODEL_CONFIG_FILE` in `directory`, what `python -m zoo infer --checkpoint` rebuilds from."""
  with open(os.path.join(directory, MODEL_CONFIG_FILE), "w") as f:
    f.write(config_to_json(cfg))


def find_model_config(path: str) -> str | None:
  """`MODEL_CONFIG_FILE` in `path` or up to three folders above it (a step folder sits under a workdir)."""
  path = os.path.abspath(path)
  for _ in range(4):
    candidate = os.path.join(path, MODEL_CONFIG_FILE)
    if os.path.isfile(candidate):
      return candidate
    path = os.path.dirname(path)
  return None


def read_model_config(path: str) -> ModelConfig | None:
  """The ModelConfig saved beside the checkpoint at `path` (see `find_model_config`), None when there is none."""
  found = find_model_config(path)
  if found is None:
    return None
  with open(found) as f:
    return config_from_json(f.read())


# --- training runs -------------------------------------------------------------------------------


def run_manager(directory: str, *, save_interval_steps: int, max_to_keep: int = 2):
  """Orbax CheckpointManager of `directory` (a run's `checkpoints/`), keeping the last `max_to_keep`."""
  import orbax.checkpoint as ocp

  # Synchronous saves: the models are small, and a donated train state must not be read later.
  options = ocp.CheckpointManagerOptions(
    max_to_keep=max_to_keep, save_interval_steps=save_interval_steps, enable_async_checkpointing=False
  )
  return ocp.CheckpointManager(os.path.abspath(directory), options=options)


def save_step(mngr, step: int, tree: Any, *, force: bool = False) -> None:
  """Save `tree` at `step` (when the manager's interval says so, or now with `force`)."""
  import orbax.checkpoint as ocp

  mngr.save(step, args=ocp.args.StandardSave(tree), force=force)


def restore_latest(mngr, target: Any) -> Any | None:
  """The latest step's tree, with `target`'s structure, dtypes and shardings; None when there is none."""
  import jax
  import orbax.checkpoint as ocp

  step = mngr.latest_step()
  if step is None:
    return None
  abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, target)
  return mngr.restore(step, args=ocp.args.StandardRestore(abstract))
