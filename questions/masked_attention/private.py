"""masked_attention, teacher side: fixed visible cases, seeded hidden cases, the zoo's float64 reference.

numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np

from grader import refjit


def _f32(a):
  return np.asarray(a, np.float32)


def _case(rng, b, lq, lk, d, dv, lengths):
  """q, k, v drawn N(0, 1); the padded keys and values get large garbage, so ignoring the mask fails."""
  q, k, v = (_f32(rng.standard_normal(s)) for s in ((b, lq, d), (b, lk, d), (b, lk, dv)))
  pad_BxK = np.arange(lk)[None, :] >= np.asarray(lengths)[:, None]
  k[pad_BxK] = _f32(5 * rng.standard_normal((int(pad_BxK.sum()), d)))
  v[pad_BxK] = _f32(50 + 10 * rng.standard_normal((int(pad_BxK.sum()), dv)))
  return q, k, v, np.asarray(lengths, np.int32)


def visible():
  """A hand-sized case with a fully padded sample, then a seeded one with dv != d."""
  q = _f32([[[1, 0], [0, 1]], [[1, 1], [0, 0]]])
  k = _f32([[[1, 0], [0, 1], [9, 9]], [[7, 7], [7, 7], [7, 7]]])
  v = _f32([[[1, 2], [3, 4], [99, 99]], [[5, 5], [5, 5], [5, 5]]])
  first = (q, k, v, np.array([2, 0], np.int32))
  return [first, _case(np.random.default_rng(2024), 3, 2, 4, 3, 5, [4, 1, 2])]


def hidden(rng):
  """Edge shapes: batch 1, one query, one key, every key real, a fully padded sample, dv != d."""
  n = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(8):
    b = 1 if j in (0, 5) else n(2, 4)
    lq = 1 if j in (1, 6) else n(1, 5)
    lk = 1 if j in (2, 5) else n(2, 6)
    d = n(1, 6)
    dv = d if j % 2 else d + n(1, 3)
    lengths = rng.integers(1 if j == 0 else 0, lk + 1, b)
    if j in (3, 6, 7):
      lengths[rng.integers(0, b)] = 0  # a sample whose every key is padding
    if j in (2, 4):
      lengths[rng.integers(0, b)] = lk  # a sample with no padding
    if j == 5:
      lengths[:] = 0  # batch 1, one key, and it is padding
    out.append(_case(rng, b, lq, lk, d, dv, lengths))
  return out


def reference(q, k, v, key_lengths):
  """The zoo's masked attention, with the zoo's token-fusion rule for a sample with no real key (zeros)."""
  return _attend()(q, k, v, key_lengths)


@functools.cache
def _attend():
  """The zoo's scaled_dot_product_attention under a length mask, jitted: one compile per case."""
  import jax.numpy as jnp

  from zoo.attention import scaled_dot_product_attention

  @refjit.jit
  def attend(q, k, v, key_lengths):
    lengths_B = jnp.asarray(key_lengths)
    mask_Bx1xK = (jnp.arange(k.shape[1])[None, :] < lengths_B[:, None])[:, None, :]
    out_BxQxV = scaled_dot_product_attention(q, k, v, mask_Bx1xK)
    # zoo.layers.AttentionBlock: "a query whose sample has no real key ... receives a zero message".
    return jnp.where((lengths_B > 0)[:, None, None], out_BxQxV, 0.0)

  return attend
