"""The layered refactor (issue 15) changed no parameter-tree name and no output.

tests/zoo/fixtures/pre_refactor/ was written by the zoo as it was before zoo.config, zoo.layers and
zoo.checkpoint existed (commit cba5938; tests/zoo/fixtures/make_pre_refactor.py says how): the parameter
trees of every model x fusion / memory / aligner, their logits at init key 0, and two orbax checkpoints
of perturbed parameters with their logits. Today's code must reproduce all of them.
"""

import json
import os

import jax
import numpy as np
import pytest

from zoo import checkpoint, config, models

FIX_DIR = os.path.join(os.path.dirname(__file__), "fixtures", "pre_refactor")


def _read(name):
  with open(os.path.join(FIX_DIR, name)) as f:
    return f.read()


VARIANTS = {
  k: config.ModelConfig(
    **{**v, "modalities": tuple(v["modalities"]), "fusion_kwargs": tuple(map(tuple, v["fusion_kwargs"]))}
  )
  for k, v in json.loads(_read("variants.json")).items()
}
TREES = json.loads(_read("param_trees.json"))
BATCH = dict(np.load(os.path.join(FIX_DIR, "batch.npz")))


def _model(key):
  return models.build(key.split("-")[0], VARIANTS[key])


def _tree_lines(params):
  leaves = jax.tree_util.tree_flatten_with_path(params)[0]
  return sorted(f"{jax.tree_util.keystr(p)} {tuple(x.shape)} {x.dtype}" for p, x in leaves)


def test_fixture_config_reads_back():
  """The saved config.json is read by today's config_from_json, and written back byte for byte."""
  cfg = config.config_from_json(_read("config.json"))
  assert config.config_to_json(cfg) == _read("config.json")
  assert cfg == VARIANTS["serial"]


@pytest.mark.parametrize("key", sorted(TREES))
def test_parameter_tree_unchanged(key):
  """Every path, shape and dtype of every model's parameters is what it was (shapes only, no compute)."""
  model = _model(key)
  shapes = jax.eval_shape(lambda: model.init({"params": jax.random.key(0)}, BATCH, train=False)["params"])
  assert _tree_lines(shapes) == TREES[key]


# One variant per layer the refactor touched, each compiled once: the three encoders' EncoderBlock and the
# serial prefix (serial), the token fusions' AttentionBlock in self- and cross-attention with ln_ctx
# (CrossModalAttention), the decoder block (encdec). The checkpoints below add the alignment transformer
# and the single-stream token fusion. Every other variant's names are checked above.
INIT_KEYS = ["serial", "parallel-CrossModalAttention", "encdec-concat"]


@pytest.mark.parametrize("key", INIT_KEYS)
def test_init_logits_unchanged(key):
  """Same names and same arithmetic: init at key 0 gives the saved logits."""
  model = _model(key)
  (logits, _), _ = model.init_with_output({"params": jax.random.key(0)}, BATCH, train=False)
  want = np.load(os.path.join(FIX_DIR, "init_logits.npz"))[key]
  np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("key", ["parallel-ModalityTokenSelfAttention", "alignment-interp"])
def test_old_checkpoint_loads_with_same_logits(key):
  """A checkpoint saved before the refactor loads into today's model and gives the same logits."""
  params = checkpoint.load_params(os.path.join(FIX_DIR, key))
  model = _model(key)
  logits = jax.jit(lambda p: model.apply({"params": p}, BATCH, train=False)[0])(params)
  want = np.load(os.path.join(FIX_DIR, "ckpt_logits.npz"))[key]
  np.testing.assert_allclose(logits, want, rtol=1e-5, atol=1e-5)
  # ... and the loaded parameters are not the init ones (the test would pass vacuously otherwise).
  init = np.load(os.path.join(FIX_DIR, "init_logits.npz"))[key]
  assert np.abs(want - init).max() > 1e-2
