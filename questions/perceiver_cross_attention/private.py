"""perceiver_cross_attention, teacher side: fixed visible cases, seeded hidden cases, the zoo's float64 reference.

numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np

from grader import refjit
from grader.draw import block_params, block_well_conditioned, block_width, f32


def _case(rng, b, n, m, d, c, h, mlp):
  latents = f32(rng.standard_normal((n, d)))
  x = f32(2 * rng.standard_normal((b, m, c)) + rng.standard_normal(c))  # inputs on their own scale
  return block_params(rng, d, c, h, mlp), latents, x, h


def visible():
  """Two fixed, seeded cases: the paper's single head, then two heads and a batch of two."""
  return [_case(np.random.default_rng(41), 1, 2, 5, 4, 3, 1, 4), _case(np.random.default_rng(42), 2, 3, 4, 4, 6, 2, 8)]


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
    d = h if j == 6 else block_width(k, h)  # j = 6: heads of width 1
    mlp = k(1, 8)
    for _ in range(100):  # bounded redraw of the values until every LayerNorm row is well spread
      case = _case(rng, b, n, m, d, c, h, mlp)
      if block_well_conditioned(case[0], np.broadcast_to(case[1], (b, n, d)), case[2]):
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
  import jax.numpy as jnp

  from zoo.layers import AttentionBlock

  @functools.partial(refjit.jit, static_argnums=(3, 4))
  def block(params, latents, x, num_heads, mlp_dim):
    z_BxNxD = jnp.broadcast_to(latents, (x.shape[0],) + latents.shape)
    ones = lambda t: jnp.ones(t.shape[:2], bool)
    return AttentionBlock(num_heads=num_heads, mlp_dim=mlp_dim).apply(
      {"params": params}, z_BxNxD, ones(z_BxNxD), x, ones(x)
    )

  return block
