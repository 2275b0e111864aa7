"""mult_block, teacher side: fixed visible cases, seeded hidden cases, the zoo's float64 reference.

numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np

from grader import refjit
from grader.draw import block_params, block_well_conditioned, block_width, f32


def _case(rng, b, lt, ls, d, h, mlp):
  x_tgt, x_src = f32(rng.standard_normal((b, lt, d))), f32(rng.standard_normal((b, ls, d)))
  return block_params(rng, d, d, h, mlp), x_tgt, x_src, h


def visible():
  """Two fixed, seeded cases: one head, then two heads with a longer source than target."""
  return [_case(np.random.default_rng(31), 1, 2, 3, 4, 1, 6), _case(np.random.default_rng(32), 2, 3, 5, 4, 2, 8)]


def hidden(rng):
  """Edge shapes: batch 1, one target token, one source token, one head, head width 1, width 1."""
  n = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else n(2, 3)
    lt = 1 if j in (1, 4) else n(2, 5)
    ls = 1 if j in (2, 4) else n(2, 6)
    h = 1 if j in (0, 3) else (3 if j == 5 else n(2, 3))
    # j = 3: one head of width 1, so the LayerNorms see one feature; j = 5: three heads of width 1.
    d = 1 if j == 3 else (h if j == 5 else block_width(n, h))
    mlp = n(1, 8)
    for _ in range(100):  # bounded redraw of the values until every LayerNorm row is well spread
      case = _case(rng, b, lt, ls, d, h, mlp)
      if block_well_conditioned(*case[:3]):
        break
    else:
      raise RuntimeError("mult_block.hidden: no well-conditioned case in 100 draws")
    out.append(case)
  return out


def reference(params, x_tgt, x_src, num_heads):
  """The zoo's pre-LN cross-attention block, as MulT's cross-modal layers use it (every token real)."""
  return _block()(params, x_tgt, x_src, num_heads, params["mlp"]["fc1"]["kernel"].shape[1])


@functools.cache
def _block():
  """The zoo's AttentionBlock applied to all-real tokens, jitted: one compile per case, not one per operation."""
  import jax.numpy as jnp

  from zoo.layers import AttentionBlock

  @functools.partial(refjit.jit, static_argnums=(3, 4))
  def block(params, x_tgt, x_src, num_heads, mlp_dim):
    ones = lambda x: jnp.ones(x.shape[:2], bool)
    return AttentionBlock(num_heads=num_heads, mlp_dim=mlp_dim).apply(
      {"params": params}, x_tgt, ones(x_tgt), x_src, ones(x_src)
    )

  return block
