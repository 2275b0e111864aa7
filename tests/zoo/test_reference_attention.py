"""The graded attention references (spec Part II) against independent implementations.

`scaled_dot_product_attention` is checked against a float64 numpy loop and against
`jax.nn.dot_product_attention`; `multi_head_attention` against `flax.linen.MultiHeadDotProductAttention`
applied to the very same parameter tree.
"""

import chex
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from zoo.attention import multi_head_attention, scaled_dot_product_attention


def _random_mask(rng, shape):
  """A boolean mask [..., Lq, Lk] with about half the entries False and no fully masked query row."""
  mask = rng.random(shape) < 0.5
  lk = shape[-1]
  # Force one allowed key per row at a random place, so no row may attend to nothing.
  keep = rng.integers(0, lk, size=shape[:-1])
  np.put_along_axis(mask, keep[..., None], True, axis=-1)
  return mask


def _np_attention(q, k, v, mask=None):
  """softmax(q·kᵀ/√d, masked)·v in float64, one query row at a time, log-sum-exp by hand."""
  q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
  batch = np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2])
  lq, lk, d, dv = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
  if mask is None:
    mask = np.ones((lq, lk), bool)
  mask = np.broadcast_to(mask, batch + (lq, lk))
  q, k, v = (np.broadcast_to(a, batch + a.shape[-2:]) for a in (q, k, v))
  out = np.zeros(batch + (lq, dv))
  for idx in np.ndindex(*batch):
    for i in range(lq):
      allowed = [j for j in range(lk) if mask[idx + (i, j)]]
      scores = [sum(q[idx + (i, c)] * k[idx + (j, c)] for c in range(d)) / np.sqrt(d) for j in allowed]
      top = max(scores)
      weights = [np.exp(s - top) for s in scores]
      total = sum(weights)
      for w, j in zip(weights, allowed):
        out[idx + (i,)] += (w / total) * v[idx + (j,)]
  return out


class ScaledDotProductAttentionTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_matches_float64_numpy_with_masks_and_batch_axes(self):
    rng = np.random.default_rng(0)
    f = self.variant(scaled_dot_product_attention)
    # Zero, one and two leading batch axes; dv != d; Lq != Lk.
    for batch in [(), (2,), (2, 3)]:
      lq, lk, d, dv = 3, 5, 4, 6
      q = rng.standard_normal(batch + (lq, d))
      k = rng.standard_normal(batch + (lk, d))
      v = rng.standard_normal(batch + (lk, dv))
      mask = _random_mask(rng, batch + (lq, lk))
      with jax.enable_x64(True):
        got = np.asarray(f(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v), jnp.asarray(mask)))
        got_nomask = np.asarray(f(jnp.asarray(q), jnp.asarray(k), jnp.asarray(v)))
      self.assertEqual(got.dtype, np.float64)
      np.testing.assert_allclose(got, _np_attention(q, k, v, mask), rtol=1e-12, atol=1e-12)
      np.testing.assert_allclose(got_nomask, _np_attention(q, k, v), rtol=1e-12, atol=1e-12)
      # The float32 path the students use stays within the grader's tolerance.
      got32 = np.asarray(f(*(jnp.asarray(a, jnp.float32) for a in (q, k, v)), jnp.asarray(mask)))
      self.assertEqual(got32.dtype, np.float32)
      np.testing.assert_allclose(got32, _np_attention(q, k, v, mask), rtol=1e-4, atol=1e-4)

  def test_mask_broadcasts_from_a_smaller_shape(self):
    rng = np.random.default_rng(1)
    q, k, v = (rng.standard_normal((2, 3, n, w)) for n, w in ((4, 5), (6, 5), (6, 2)))
    key_mask = _random_mask(rng, (1, 6))[0]  # [Lk]: one mask for every query row
    with jax.enable_x64(True):
      got = np.asarray(scaled_dot_product_attention(q, k, v, key_mask))
    np.testing.assert_allclose(got, _np_attention(q, k, v, key_mask), rtol=1e-12, atol=1e-12)

  def test_masked_keys_do_not_matter(self):
    # Changing what sits behind a masked key must not change the output at all.
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((3, 4), (5, 4), (5, 2)))
    mask = np.ones((3, 5), bool)
    mask[:, 2] = False
    k2, v2 = k.copy(), v.copy()
    k2[2] += 100.0
    v2[2] -= 100.0
    np.testing.assert_array_equal(
      scaled_dot_product_attention(q, k, v, mask), scaled_dot_product_attention(q, k2, v2, mask)
    )

  def test_matches_jax_nn_dot_product_attention(self):
    # jax.nn wants [B, T, N, H] with equal key and value widths; ours is [B, N, T, H].
    rng = np.random.default_rng(3)
    b, n, lq, lk, h = 2, 3, 4, 5, 8
    q, k, v = (rng.standard_normal((b, n, l, h)).astype(np.float32) for l in (lq, lk, lk))
    mask = _random_mask(rng, (b, n, lq, lk))
    want = jax.nn.dot_product_attention(*(np.swapaxes(a, 1, 2) for a in (q, k, v)), mask=mask)
    got = scaled_dot_product_attention(q, k, v, mask)
    np.testing.assert_allclose(np.swapaxes(np.asarray(got), 1, 2), want, rtol=1e-5, atol=1e-5)

  def test_bfloat16_close_to_float32(self):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 8), (2, 5, 8), (2, 5, 4)))
    want = scaled_dot_product_attention(q, k, v)
    got = scaled_dot_product_attention(*(jnp.asarray(a, jnp.bfloat16) for a in (q, k, v)))
    self.assertEqual(got.dtype, jnp.bfloat16)
    np.testing.assert_allclose(np.asarray(got, np.float32), want, atol=0.1, rtol=0.05)


def _flax_mhdpa_params(rng, d_in, h, d_head, d_out, dtype=np.float32):
  """Random parameters (biases non-zero) in the layout `flax.linen.MultiHeadDotProductAttention.init` makes."""
  module = nn.MultiHeadDotProductAttention(num_heads=h, qkv_features=h * d_head, out_features=d_out)
  x = jax.ShapeDtypeStruct((1, 2, d_in), jnp.float32)
  layout = jax.eval_shape(module.init, jax.random.key(0), x, x)["params"]  # shapes only, nothing compiled
  params = jax.tree.map(lambda p: np.asarray(rng.standard_normal(p.shape), dtype), layout)
  assert params["query"]["kernel"].shape == (d_in, h, d_head) and params["out"]["kernel"].shape == (h, d_head, d_out)
  return module, params


class MultiHeadAttentionTest(chex.TestCase):
  @chex.variants(with_jit=True, without_jit=True)
  def test_equals_flax_module(self):
    rng = np.random.default_rng(5)
    b, lq, lk, d_in, h, d_head, d_out = 2, 3, 5, 6, 2, 4, 7  # d_out != d_in, Lq != Lk
    module, params = _flax_mhdpa_params(rng, d_in, h, d_head, d_out)
    self.assertTrue(all(np.all(params[n]["bias"] != 0) for n in ("query", "key", "value", "out")))
    x_q = rng.standard_normal((b, lq, d_in)).astype(np.float32)
    x_kv = rng.standard_normal((b, lk, d_in)).astype(np.float32)
    mask = _random_mask(rng, (b, lq, lk))
    f = self.variant(multi_head_attention, static_argnums=3)
    for m in (None, mask):
      want = module.apply({"params": params}, x_q, x_kv, mask=None if m is None else m[:, None])
      got = f(params, x_q, x_kv, h, m)
      self.assertEqual(got.shape, (b, lq, d_out))
      np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

  def test_equals_flax_module_in_float64(self):
    rng = np.random.default_rng(6)
    b, lq, lk, d_in, h, d_head, d_out = 1, 4, 2, 3, 3, 2, 5
    module, params = _flax_mhdpa_params(rng, d_in, h, d_head, d_out, np.float64)
    with jax.enable_x64(True):
      x_q, x_kv = rng.standard_normal((b, lq, d_in)), rng.standard_normal((b, lk, d_in))
      mask = _random_mask(rng, (b, lq, lk))
      module64 = module.clone(dtype=jnp.float64, param_dtype=jnp.float64)
      want = module64.apply({"params": params}, x_q, x_kv, mask=mask[:, None])
      got = multi_head_attention(params, jnp.asarray(x_q), jnp.asarray(x_kv), h, jnp.asarray(mask))
      self.assertEqual(got.dtype, jnp.float64)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)

  def test_rejects_a_wrong_head_count(self):
    rng = np.random.default_rng(7)
    _, params = _flax_mhdpa_params(rng, 4, 2, 3, 4)
    x = np.zeros((1, 2, 4), np.float32)
    with pytest.raises(ValueError, match="heads"):
      multi_head_attention(params, x, x, 4)
