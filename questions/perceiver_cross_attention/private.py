"""perceiver_cross_attention, teacher side: fixed visible cases, seeded hidden cases, the zoo's float64 reference.

numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np


def _f32(a):
  return np.asarray(a, np.float32)


def _params(rng, d, c, h, mlp):
  """The cross-attention block's parameter tree (Flax layouts); keys and values read width c."""
  w = lambda fan_in, *s: _f32(rng.standard_normal(s) / np.sqrt(fan_in))
  small = lambda *s: _f32(0.1 * rng.standard_normal(s))
  ln = lambda n: {"scale": _f32(1 + 0.1 * rng.standard_normal(n)), "bias": small(n)}
  dh = d // h
  return {
    "ln_q": ln(d),
    "ln_ctx": ln(c),
    "attn": {
      "query": {"kernel": w(d, d, h, dh), "bias": small(h, dh)},
      "key": {"kernel": w(c, c, h, dh), "bias": small(h, dh)},
      "value": {"kernel": w(c, c, h, dh), "bias": small(h, dh)},
      "out": {"kernel": w(d, h, dh, d), "bias": small(d)},
    },
    "ln_mlp": ln(d),
    "mlp": {"fc1": {"kernel": w(d, d, mlp), "bias": small(mlp)}, "fc2": {"kernel": w(mlp, mlp, d), "bias": small(d)}},
  }


def _case(rng, b, n, m, d, c, h, mlp):
  latents = _f32(rng.standard_normal((n, d)))
  x = _f32(2 * rng.standard_normal((b, m, c)) + rng.standard_normal(c))  # inputs on their own scale
  return _params(rng, d, c, h, mlp), latents, x, h


def visible():
  """Two fixed, seeded cases: the paper's single head, then two heads and a batch of two."""
  return [_case(np.random.default_rng(41), 1, 2, 5, 4, 3, 1, 4), _case(np.random.default_rng(42), 2, 3, 4, 4, 6, 2, 8)]


def _well_conditioned(p, x, ctx, ctx_mask=None):
  """True when every row a LayerNorm of the block normalises (x, ctx and z = x + message) has its
  features spread by std >= 0.15, or has one feature (then the norm is exact). A nearly constant row
  makes a float32 one-pass variance (Flax's LayerNorm) miss the tolerance; redraw such cases."""
  ln = lambda t, q: (t - t.mean(-1, keepdims=True)) / np.sqrt(t.var(-1, keepdims=True) + 1e-6) * q["scale"] + q["bias"]
  f = lambda t: np.asarray(t, np.float64)
  a = {name: {key: f(val) for key, val in sub.items()} for name, sub in p["attn"].items()}
  y, c = ln(f(x), p["ln_q"]), ln(f(ctx), p["ln_ctx"])
  proj = lambda name, t: np.einsum("bld,dhk->bhlk", t, a[name]["kernel"]) + a[name]["bias"][:, None]
  s = np.einsum("bhqk,bhsk->bhqs", proj("query", y), proj("key", c)) / np.sqrt(a["query"]["kernel"].shape[-1])
  real = np.ones(s.shape[::3], bool) if ctx_mask is None else np.asarray(ctx_mask, bool)
  s = np.where(real[:, None, None, :], s, -np.inf)
  w = np.exp(s - s.max(-1, keepdims=True, initial=-1e300))
  den = w.sum(-1, keepdims=True)
  w = np.divide(w, den, out=np.zeros_like(w), where=den > 0)
  msg = np.einsum("bhqk,hko->bqo", np.einsum("bhqs,bhsk->bhqk", w, proj("value", c)), a["out"]["kernel"])
  z = f(x) + np.where(real.any(-1)[:, None, None], msg + a["out"]["bias"], 0)
  return all(t.shape[-1] == 1 or t.std(-1).min() >= 0.15 for t in (f(x), f(ctx), z))


def _width(draw, h):
  """h heads of width 1..3, but never 2 features in all: over two nearly equal features a float32
  LayerNorm with a one-pass variance (Flax's) can miss the tolerance; one feature is exact, three are safe."""
  d = h * draw(1, 3)
  return d + h if d == 2 else d


def hidden(rng):
  """Edge shapes: batch 1, one latent, one input token, one input channel, one head, head width 1."""
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(8):
    b = 1 if j in (0, 5) else k(2, 3)
    n = 1 if j in (1, 5) else k(2, 5)
    m = 1 if j in (2, 5) else k(2, 7)
    c = 1 if j == 3 else k(3, 6)
    h = 1 if j in (0, 2, 4) else (3 if j == 6 else k(2, 3))
    d = h if j == 6 else _width(k, h)  # j = 6: heads of width 1
    mlp = k(1, 8)
    for _ in range(100):  # bounded redraw of the values until every LayerNorm row is well spread
      case = _case(rng, b, n, m, d, c, h, mlp)
      if _well_conditioned(case[0], np.broadcast_to(case[1], (b, n, d)), case[2]):
        break
    else:
      raise RuntimeError("perceiver_cross_attention.hidden: no well-conditioned case in 100 draws")
    out.append(case)
  return out


def reference(params, latents, x, num_heads):
  """The zoo's Perceiver cross-attention (PerceiverFusion's "cross" block) with the latents shared by the batch."""
  return _block()(params, latents, x, num_heads, params["mlp"]["fc1"]["kernel"].shape[1])


@functools.cache
def _block():
  """The zoo's AttentionBlock from broadcast latents, jitted: one compile per case, not one per operation."""
  import jax
  import jax.numpy as jnp

  from zoo.layers import AttentionBlock

  @functools.partial(jax.jit, static_argnums=(3, 4))
  def block(params, latents, x, num_heads, mlp_dim):
    z_BxNxD = jnp.broadcast_to(latents, (x.shape[0],) + latents.shape)
    ones = lambda t: jnp.ones(t.shape[:2], bool)
    return AttentionBlock(num_heads=num_heads, mlp_dim=mlp_dim).apply(
      {"params": params}, z_BxNxD, ones(z_BxNxD), x, ones(x)
    )

  return block
