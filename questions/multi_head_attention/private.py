"""multi_head_attention: the visible calls, the hidden-case generator and the zoo's float64 reference (teacher side only)."""

import functools

import numpy as np

from grader import draw, refjit


def _params(draw_fn, d_in, h, dh, d_out):
  """Weights in flax.linen.MultiHeadDotProductAttention's layout."""
  return {
    "query": {"kernel": draw_fn(d_in, h, dh), "bias": draw_fn(h, dh)},
    "key": {"kernel": draw_fn(d_in, h, dh), "bias": draw_fn(h, dh)},
    "value": {"kernel": draw_fn(d_in, h, dh), "bias": draw_fn(h, dh)},
    "out": {"kernel": draw_fn(h, dh, d_out), "bias": draw_fn(d_out)},
  }


def visible():
  """Two heads without a mask; then one head, a batch of two, with a mask; values to one decimal."""
  rng = draw.fixed_rng("multi_head_attention")
  out = []
  for b, lq, lk, d_in, h, dh, d_out, masked in ((1, 2, 2, 3, 2, 2, 3, False), (2, 2, 3, 2, 1, 3, 2, True)):
    params = _params(lambda *s: draw.round1(rng, *s), d_in, h, dh, d_out)
    x_q, x_kv = draw.round1(rng, b, lq, d_in), draw.round1(rng, b, lk, d_in)
    if masked:
      mask = np.array([[[True, True, False], [False, True, True]], [[True, False, False], [True, True, True]]])
      out.append((params, x_q, x_kv, h, mask))
    else:
      out.append((params, x_q, x_kv, h))
  return out


def hidden(rng):
  """1 to 3 heads, batches of 1 to 3, every size from 1; a mask (every row keeps a key) in every other case."""
  k = lambda lo, hi: draw.randint(rng, lo, hi)
  out = []
  for j in range(8):
    b = 1 if j in (0, 3) else k(2, 3)
    lq, lk, d_in, h, dh, d_out = k(1, 5), k(1, 5), k(1, 6), 1 + j % 3, k(1, 4), k(1, 5)
    params = _params(lambda *s: draw.normal(rng, *s), d_in, h, dh, d_out)
    args = (params, draw.normal(rng, b, lq, d_in), draw.normal(rng, b, lk, d_in), h)
    out.append(args + ((draw.mask(rng, (b, lq, lk)),) if j % 2 else ()))
  return out


@functools.cache
def _jitted():
  from zoo.attention import multi_head_attention

  return refjit.jit(multi_head_attention, static_argnums=(3,))


def reference(params, x_q, x_kv, num_heads, mask=None):
  """The zoo's multi_head_attention, in one jax.jit (num_heads static)."""
  return _jitted()(params, x_q, x_kv, num_heads, mask)
