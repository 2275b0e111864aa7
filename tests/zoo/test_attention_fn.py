"""heads_major_attention is a drop-in `attention_fn`: the same outputs as Flax's default, cache included."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.attention import heads_major_attention


def _mha(fn, **kw):
  return nn.MultiHeadDotProductAttention(num_heads=4, qkv_features=32, out_features=24, attention_fn=fn, **kw)


@pytest.mark.parametrize("lead", [(), (3,)])
def test_same_as_flax_default_with_masks(lead):
  r = np.random.default_rng(0)
  q = jnp.asarray(r.normal(size=lead + (2, 5, 16)), jnp.float32)
  kv = jnp.asarray(r.normal(size=lead + (2, 7, 16)), jnp.float32)
  mask = r.random(lead + (2, 1, 5, 7)) < 0.7
  mask[..., 0] = True  # no query row attends to nothing
  mask[..., -1] = False  # and one key nobody may see
  params = _mha(nn.dot_product_attention).init(jax.random.key(1), q, kv)
  want = _mha(nn.dot_product_attention).apply(params, q, kv, mask=mask)
  got = jax.jit(lambda p, a, b, m: _mha(heads_major_attention).apply(p, a, b, mask=m))(params, q, kv, mask)
  np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-5)
  # Padded keys really are hidden: changing them changes nothing.
  hidden = ~mask.any(axis=(-3, -2))  # keys no query of that example may see
  kv2 = jnp.where(hidden[..., None], 100.0, kv)
  again = _mha(heads_major_attention).apply(params, q, kv2, mask=mask)
  np.testing.assert_allclose(again, got, rtol=2e-5, atol=2e-5)


def test_decode_cache_matches_flax_default():
  r = np.random.default_rng(2)
  x = jnp.asarray(r.normal(size=(2, 6, 16)), jnp.float32)
  outs = {}
  for name, fn in (("flax", nn.dot_product_attention), ("heads_major", heads_major_attention)):
    m = _mha(fn, decode=True)
    v = m.init(jax.random.key(0), x, x)
    params, cache = v["params"], v["cache"]
    steps = []
    for t in range(x.shape[1]):
      y, mut = m.apply({"params": params, "cache": cache}, x[:, t : t + 1], x[:, t : t + 1], mutable=["cache"])
      cache = mut["cache"]
      steps.append(y)
    outs[name] = jnp.concatenate(steps, axis=1)
  np.testing.assert_allclose(outs["heads_major"], outs["flax"], rtol=2e-5, atol=2e-5)


def test_dropout_falls_back_to_flax():
  x = jnp.ones((1, 3, 8))
  m = nn.MultiHeadDotProductAttention(
    num_heads=2, dropout_rate=0.5, deterministic=False, attention_fn=heads_major_attention
  )
  m_ref = nn.MultiHeadDotProductAttention(num_heads=2, dropout_rate=0.5, deterministic=False)
  p = m_ref.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x, x)
  rngs = {"dropout": jax.random.key(3)}
  np.testing.assert_allclose(m.apply(p, x, x, rngs=rngs), m_ref.apply(p, x, x, rngs=rngs), rtol=1e-6)
