"""zoo.layers, the one implementation of the zoo's transformer blocks: masking, dropout, causality, decode."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo import layers

B, L, S, D = 2, 5, 4, 8


def _x(seed, shape):
  return jax.random.normal(jax.random.key(seed), shape)


def test_attention_block_ignores_padded_keys_and_sends_no_message_without_keys():
  blk = layers.AttentionBlock(num_heads=2, mlp_dim=16)
  x, ctx = _x(0, (B, L, D)), _x(1, (B, S, D))
  ctx_mask = jnp.array([[True, True, False, False], [False, False, False, False]])
  params = blk.init(jax.random.key(2), x, jnp.ones((B, L), bool), ctx, ctx_mask)
  out = blk.apply(params, x, jnp.ones((B, L), bool), ctx, ctx_mask)
  # Garbage in the padded context positions changes nothing.
  ctx2 = ctx.at[0, 2:].set(1e3).at[1].set(-1e3)
  np.testing.assert_allclose(blk.apply(params, x, jnp.ones((B, L), bool), ctx2, ctx_mask), out, atol=1e-5)
  # Sample 1 has no real key: only the MLP sub-layer acts, x + MLP(LN(x)).
  p = params["params"]
  ln, fc1, fc2 = p["ln_mlp"], p["mlp"]["fc1"], p["mlp"]["fc2"]
  h = (x[1] - x[1].mean(-1, keepdims=True)) / jnp.sqrt(x[1].var(-1, keepdims=True) + 1e-6) * ln["scale"] + ln["bias"]
  mlp = jax.nn.gelu(h @ fc1["kernel"] + fc1["bias"]) @ fc2["kernel"] + fc2["bias"]
  np.testing.assert_allclose(out[1], x[1] + mlp, atol=1e-5)


def test_dropout_acts_in_training_only():
  blk = layers.EncoderBlock(num_heads=2, mlp_dim=16, dropout=0.5)
  x, mask = _x(0, (B, L, D)), jnp.ones((B, L), bool)
  params = blk.init(jax.random.key(1), x, mask)
  det = blk.apply(params, x, mask)
  no_drop = layers.EncoderBlock(num_heads=2, mlp_dim=16).apply(params, x, mask)
  np.testing.assert_allclose(det, no_drop, atol=1e-6)
  a = blk.apply(params, x, mask, deterministic=False, rngs={"dropout": jax.random.key(3)})
  b = blk.apply(params, x, mask, deterministic=False, rngs={"dropout": jax.random.key(4)})
  assert np.abs(a - det).max() > 1e-3 and np.abs(a - b).max() > 1e-3
  with pytest.raises(Exception):  # noqa: B017  training without a dropout key is an error (Flax's own type), not a silent no-op
    blk.apply(params, x, mask, deterministic=False)


def test_encoder_block_names():
  blk = layers.EncoderBlock(num_heads=2, mlp_dim=16)
  p = blk.init(jax.random.key(0), _x(0, (B, L, D)), jnp.ones((B, L), bool))["params"]
  assert set(p) == {"ln1", "attn", "ln2", "mlp"}
  p = layers.AttentionBlock(num_heads=2, mlp_dim=16).init(
    jax.random.key(0), _x(0, (B, L, D)), jnp.ones((B, L), bool), _x(1, (B, S, D)), jnp.ones((B, S), bool)
  )["params"]
  assert set(p) == {"ln_q", "ln_ctx", "attn", "ln_mlp", "mlp"}


def test_decoder_block_is_causal_and_decode_matches_the_full_pass():
  blk = layers.DecoderBlock(heads=2, mlp_dim=16)
  y, mem = _x(0, (B, L, D)), _x(1, (B, S, D))
  mem_mask = jnp.array([[True] * S, [True, True, False, False]])
  params = blk.init(jax.random.key(2), y, mem, mem_mask)
  assert set(params["params"]) == {"ln1", "self_attn", "ln2", "cross_attn", "ln3", "mlp"}
  full = blk.apply(params, y, mem, mem_mask)
  # Changing the last position changes no earlier output.
  later = blk.apply(params, y.at[:, -1].set(9.0), mem, mem_mask)
  np.testing.assert_allclose(later[:, :-1], full[:, :-1], atol=1e-5)
  assert np.abs(later[:, -1] - full[:, -1]).max() > 1e-3
  # One token at a time with the key/value cache gives the full pass.
  dec = layers.DecoderBlock(heads=2, mlp_dim=16, decode=True)
  cache = dec.init(jax.random.key(2), y, mem, mem_mask)["cache"]
  steps = []
  for t in range(L):
    out, v = dec.apply({"params": params["params"], "cache": cache}, y[:, t : t + 1], mem, mem_mask, mutable=["cache"])
    cache = v["cache"]
    steps.append(out)
  np.testing.assert_allclose(jnp.concatenate(steps, axis=1), full, atol=1e-5)


def test_masked_mean():
  x = jnp.arange(12.0).reshape(1, 4, 3)
  np.testing.assert_allclose(layers.masked_mean(x, jnp.array([[True, False, True, False]])), [[3.0, 4.0, 5.0]])
  np.testing.assert_allclose(layers.masked_mean(x, jnp.zeros((1, 4), bool)), [[0.0, 0.0, 0.0]])
