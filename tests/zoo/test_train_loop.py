"""zoo.train: the step learns, the aux loss counts, checkpoints resume exactly, the CLI."""

import argparse
import dataclasses
import json
import os

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import __main__ as cli
from zoo import data, models, train

TINY = train.PRESETS["tiny"]


def test_train_step_decreases_the_loss_on_a_fixed_batch():
  cfg = dataclasses.replace(
    TINY, model_cfg=TINY.model_cfg.replace(fusion="LMF"), steps=25, warmup_steps=1, learning_rate=1e-2
  )
  model = models.build("parallel", train.model_config(cfg))
  state = train.create_train_state(cfg, model, jax.random.key(0))
  batch = jax.tree.map(jnp.asarray, data.batch(cfg.data, 0, 0, 16))
  step = jax.jit(train.train_step)
  losses = []
  for _ in range(cfg.steps):
    state, m = step(state, batch, jax.random.key(1))
    losses.append(float(m["loss"]))
  chex.assert_trees_all_equal(int(state.step), cfg.steps)
  assert np.all(np.isfinite(losses))
  assert losses[-1] < 0.5 * losses[0], losses


class _StandIn(nn.Module):
  """A linear classifier of the mean audio sample, with a parameter-dependent contrastive term."""

  @nn.compact
  def __call__(self, batch, train=False):
    x = batch["audio"].mean(axis=1, keepdims=True)
    w = self.param("w", nn.initializers.constant(0.5), (1,))
    return nn.Dense(4)(x), {"contrastive_loss": jnp.sum(w**2)}


def test_train_step_adds_the_weighted_contrastive_loss():
  cfg = dataclasses.replace(TINY, learning_rate=0.1, warmup_steps=1)
  model = _StandIn()
  batch = jax.tree.map(jnp.asarray, data.batch(cfg.data, 0, 0, 8))
  params = model.init(jax.random.key(0), batch)["params"]
  state = train.TrainState.create(apply_fn=model.apply, params=params, tx=train.make_optimizer(cfg))
  new, m = train.train_step(state, batch, jax.random.key(1), contrastive_weight=2.0)
  np.testing.assert_allclose(float(m["loss"]), float(m["ce"]) + 2.0 * 0.25, rtol=1e-6)
  # The contrastive term's gradient moves w towards 0 (nothing else depends on w) once the
  # warmup's first step (learning rate 0) is past.
  new, _ = train.train_step(new, batch, jax.random.key(1), contrastive_weight=2.0)
  assert float(new.params["w"][0]) < 0.5
  _, m0 = train.train_step(state, batch, jax.random.key(1), contrastive_weight=0.0)
  np.testing.assert_allclose(float(m0["loss"]), float(m0["ce"]), rtol=1e-6)


def test_optimizer_clips_and_follows_warmup_cosine():
  cfg = dataclasses.replace(TINY, steps=100, warmup_steps=10, learning_rate=1.0, weight_decay=0.0, grad_clip=1e-3)
  tx = train.make_optimizer(cfg)
  params = {"x": jnp.zeros(3)}
  opt = tx.init(params)
  huge = {"x": jnp.full(3, 1e6)}
  upd, opt = tx.update(huge, opt, params)
  # Step 0 of the warmup has learning rate 0: no move at all.
  np.testing.assert_array_equal(upd["x"], 0)
  for _ in range(9):
    upd, opt = tx.update(huge, opt, params)
  # At the peak, adam's normalised step is about lr in size whatever the clipped gradient's scale.
  np.testing.assert_allclose(np.abs(upd["x"]), 0.9, rtol=0.05)


def _params(summary):
  return jax.device_get(summary["state"].params)


def test_a_stopped_run_resumes_to_the_same_result(tmp_path):
  cfg = TINY
  straight = train.train_and_evaluate(cfg, str(tmp_path / "straight"), progress=False)
  first = train.train_and_evaluate(cfg, str(tmp_path / "resumed"), stop_at=3, progress=False)
  assert first["step"] == 3 and "eval" not in first
  steps_saved = sorted(int(d) for d in os.listdir(tmp_path / "resumed" / "checkpoints") if d.isdigit())
  assert steps_saved == [2, 3]
  resumed = train.train_and_evaluate(cfg, str(tmp_path / "resumed"), progress=False)
  assert resumed["step"] == straight["step"] == cfg.steps
  chex.assert_trees_all_equal(_params(resumed), _params(straight))
  chex.assert_trees_all_equal(jax.device_get(resumed["state"].opt_state), jax.device_get(straight["state"].opt_state))
  assert resumed["eval"] == straight["eval"]
  assert resumed["train"] == straight["train"]
  # The final checkpoint holds {"params": ...} where zoo.models.load_params finds it.
  loaded = models.load_params(str(tmp_path / "resumed" / "checkpoints" / str(cfg.steps) / "default"))
  chex.assert_trees_all_equal(jax.device_get(loaded), _params(straight))
  with open(tmp_path / "resumed" / "summary.json") as f:
    assert json.load(f)["eval"] == straight["eval"]
  # A different config cannot silently continue someone else's run.
  with pytest.raises(ValueError, match="another config"):
    train.train_and_evaluate(dataclasses.replace(cfg, seed=1), str(tmp_path / "resumed"), progress=False)


def _train_parser():
  p = argparse.ArgumentParser()
  from zoo.__main__ import add_train_arguments  # the CLI owns its options (it imports no JAX)

  add_train_arguments(p)
  return p


def test_every_train_option_has_help():
  for action in _train_parser()._actions:
    assert action.help, action.option_strings


def test_cli_options_reach_the_config():
  args = _train_parser().parse_args(
    [
      "--workdir",
      "w",
      "--model",
      "parallel",
      "--fusion",
      "GMU",
      "--steps",
      "7",
      "--seed",
      "3",
      "--batch-size",
      "16",
      "--learning-rate",
      "0.01",
      "--aligned",
      "--modalities",
      "text,image",
    ]
  )
  cfg = train.config_from_args(args)
  assert (cfg.model, cfg.model_cfg.fusion, cfg.steps, cfg.seed, cfg.batch_size) == ("parallel", "GMU", 7, 3, 16)
  assert cfg.learning_rate == 0.01 and not cfg.data.misalign
  assert cfg.model_cfg.modalities == ("text", "image")
  assert cfg.warmup_steps == train.PRESETS["cpu"].warmup_steps


def test_cli_trains_and_prints_a_summary(tmp_path, capsys):
  rc = cli.main(
    [
      "train",
      "--workdir",
      str(tmp_path),
      "--preset",
      "tiny",
      "--model",
      "unimodal",
      "--modalities",
      "image",
      "--steps",
      "2",
      "--no-progress",
    ]
  )
  assert rc == 0
  out = json.loads(capsys.readouterr().out)
  assert out["step"] == 2 and 0 <= out["eval"]["accuracy"] <= 1 and out["params"] > 0
