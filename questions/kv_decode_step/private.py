"""kv_decode_step, teacher side: fixed visible cases, seeded hidden cases, the float64 reference.

The reference is the zoo decoder's cached self-attention: flax.linen.MultiHeadDotProductAttention with
decode=True and the zoo's heads_major_attention, exactly as zoo/encdec.py's DecoderBlock builds it.
numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np

from grader import refjit


def _f32(a):
  return np.asarray(a, np.float32)


def _case(rng, b, t_max, d, h, dh, d_out, pos):
  """Past keys/values ~ N(0, 1) before pos; large garbage at pos and after, which must be overwritten or ignored."""
  w = lambda fan_in, *s: _f32(rng.standard_normal(s) / np.sqrt(fan_in))
  params = {
    name: {"kernel": w(d, d, h, dh), "bias": _f32(0.1 * rng.standard_normal((h, dh)))}
    for name in ("query", "key", "value")
  }
  params["out"] = {"kernel": w(h * dh, h, dh, d_out), "bias": _f32(0.1 * rng.standard_normal(d_out))}
  x_t = _f32(rng.standard_normal((b, 1, d)))
  cache_k, cache_v = (_f32(rng.standard_normal((b, t_max, h, dh))) for _ in range(2))
  cache_k[:, pos:] = _f32(rng.uniform(-20, 20, cache_k[:, pos:].shape))
  cache_v[:, pos:] = _f32(rng.uniform(50, 90, cache_v[:, pos:].shape))
  return params, x_t, cache_k, cache_v, pos


def visible():
  """Two fixed, seeded cases: the middle of a sequence with one head, then the first step with two heads."""
  return [_case(np.random.default_rng(51), 1, 4, 3, 1, 2, 3, 2), _case(np.random.default_rng(52), 2, 3, 4, 2, 2, 2, 0)]


def hidden(rng):
  """Edge positions (0, the last slot), a cache of one slot, batch 1, one head, head width 1, d_out != d."""
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 3)
    t_max = 1 if j == 4 else k(2, 7)
    pos = {0: 0, 1: t_max - 1, 4: 0, 6: t_max - 1}.get(j, k(0, t_max - 1))
    h = 1 if j in (0, 5) else k(2, 3)
    dh = 1 if j == 3 else k(1, 3)
    d = k(1, 5)
    d_out = d if j % 2 else k(1, 5)
    out.append(_case(rng, b, t_max, d, h, dh, d_out, pos))
  return out


def reference(params, x_t, cache_k, cache_v, pos):
  """Flax's cached attention step (cache layout [B, T_max, H, d_head], index = pos): (out, new keys, new values)."""
  return _step()(params, x_t, cache_k, cache_v, pos)


@functools.cache
def _step():
  """The zoo decoder's cached self-attention step, jitted (pos traced, like Flax's cache index): one compile per case."""
  import flax.linen as nn
  import jax.numpy as jnp

  from zoo.attention import heads_major_attention

  @refjit.jit
  def step(params, x_t, cache_k, cache_v, pos):
    _, h, dh = params["query"]["kernel"].shape
    attn = nn.MultiHeadDotProductAttention(
      num_heads=h,
      qkv_features=h * dh,
      out_features=params["out"]["kernel"].shape[-1],
      decode=True,
      attention_fn=heads_major_attention,
    )
    cache = {"cached_key": cache_k, "cached_value": cache_v, "cache_index": jnp.asarray(pos, jnp.int32)}
    out_Bx1xO, new = attn.apply({"params": params, "cache": cache}, x_t, mutable=["cache"])
    return out_Bx1xO, new["cache"]["cached_key"], new["cache"]["cached_value"]

  return step
