"""zoo.cold_start: a function cut at its random draws gives the one jit's values bit for bit, and the CLI's
random model is still `zoo.models.init_params` (its logits `model.apply`'s)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import cold_start, encdec, models


def split_call(fn, *args):
  """fn(*args) the way `zoo infer` runs it: `bits`, cut into draws on the host, then `rest`."""
  split = cold_start.SplitAtBits(fn, *args)
  tables = split.tables()
  bits = jax.jit(split.bits)(tables, *args)
  return jax.jit(split.rest)(split.split_bits(bits), *args), split


def assert_identical(got, want):
  assert jax.tree.structure(got) == jax.tree.structure(want)
  for g, w in zip(jax.tree.leaves(got), jax.tree.leaves(want)):
    assert g.dtype == w.dtype and g.shape == w.shape
    np.testing.assert_array_equal(np.asarray(g), np.asarray(w))


# The CLI's two paths: init_with_output (the classifiers) and init + greedy decoding (encdec). The alignment
# and unimodal models went through the same check when the split was written (46 s and 15 s more on 2 cores).
CONFIGS = {
  "parallel": models.TINY.replace(modalities=("text", "image", "audio"), fusion="GMU"),
  "encdec": models.TINY,
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_split_init_is_init_params_and_the_forward_is_the_models(name):
  cfg = CONFIGS[name]
  model = models.build(name, cfg)

  def run(seed):
    k_init, k_batch = jax.random.split(jax.random.key(seed))
    batch = models.example_batch(cfg, k_batch, 1, with_label=False)
    if name == "encdec":
      params = model.init({"params": k_init}, batch, train=False)["params"]
      return params, encdec.greedy_decode(model, params, batch, 4), batch
    out, variables = model.init_with_output({"params": k_init}, batch, train=False)
    return variables["params"], out, batch

  seed = np.int32(5)
  (params, out, batch), split = split_call(run, seed)
  assert split.draws and len(split.fused) == len(split.draws)  # every draw went through the one threefry
  assert_identical((params, out, batch), jax.jit(run)(seed))  # the one jit the CLI compiled before
  k_init, k_batch = jax.random.split(jax.random.key(5))
  assert_identical(params, models.init_params(model, cfg, k_init))
  assert_identical(batch, jax.jit(lambda k: models.example_batch(cfg, k, 1, with_label=False))(k_batch))
  if name == "encdec":
    assert_identical(out, encdec.greedy_decode(model, params, batch, 4))
  else:
    want = jax.jit(lambda p, b: model.apply({"params": p}, b, train=False))(params, batch)
    jax.tree.map(lambda g, w: np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-6), out, want)


def test_fused_threefry_is_jax_random_bits():
  """Odd sizes, a scalar and an empty draw, keys from split and fold_in: the one threefry is jax.random.bits."""
  shapes = [(), (3,), (2, 5, 7), (0,), (1, 33), (4, 4)]

  def draws(seed):
    root = jax.random.key(seed)
    keys = [jax.random.fold_in(root, i) for i in range(3)] + list(jax.random.split(root, 3))
    return [jax.random.bits(k, s) for k, s in zip(keys, shapes)]

  got, split = split_call(draws, np.int32(3))
  assert len(split.fused) == len(shapes)
  assert_identical(got, jax.jit(draws)(np.int32(3)))


def test_other_draws_are_kept_whole_and_still_exact():
  """8- and 64-bit draws and a batch of keys are not fused: drawn by random_bits itself, in `bits`."""

  def draws(seed):
    k = jax.random.key(seed)
    ka, kb = jax.random.split(k)
    return (
      jax.random.bits(ka, (5, 3), jnp.uint8),
      jax.random.bits(kb, (7,), jnp.uint32),
      jax.vmap(lambda kk: jax.random.normal(kk, (4,)))(jax.random.split(k, 3)),
      jax.random.uniform(jax.random.fold_in(k, 9), (6,)),
    )

  got, split = split_call(draws, np.int32(1))
  assert 0 < len(split.fused) < len(split.draws)
  assert_identical(got, jax.jit(draws)(np.int32(1)))


def test_no_draws_no_bits():
  """A function without random draws: nothing to cut, `rest` is the function."""
  split = cold_start.SplitAtBits(lambda x: x * 2 + 1, np.float32(3))
  assert split.draws == [] and split.draw_shapes == []
  assert float(jax.jit(split.rest)([], np.float32(3))) == 7.0
