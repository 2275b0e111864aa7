"""co_attention, teacher side: fixed visible cases, seeded hidden cases, the zoo's float64 reference.

numpy only at import: jax, flax and the zoo load on the first reference() call, so hidden() stays light.
"""

import functools

import numpy as np

from grader import refjit
from grader.draw import block_params, block_well_conditioned, block_width, f32


def _case(rng, b, la, lb, da, db, h, len_a, len_b):
  """Padded tokens hold large garbage, so a padded token used as a key or value spoils the answer."""
  params = {
    "a": block_params(rng, da, db, h, int(rng.integers(1, 7))),
    "b": block_params(rng, db, da, h, int(rng.integers(1, 7))),
  }
  x_a, x_b = f32(rng.standard_normal((b, la, da))), f32(rng.standard_normal((b, lb, db)))
  mask_a = np.arange(la)[None, :] < np.asarray(len_a)[:, None]
  mask_b = np.arange(lb)[None, :] < np.asarray(len_b)[:, None]
  x_a[~mask_a] = f32(rng.uniform(20, 40, (int((~mask_a).sum()), da)))
  x_b[~mask_b] = f32(rng.uniform(20, 40, (int((~mask_b).sum()), db)))
  return params, x_a, x_b, mask_a, mask_b, h


def visible():
  """Two fixed, seeded cases: one head and no padding, then two heads, two widths and padding."""
  return [
    _case(np.random.default_rng(61), 1, 2, 3, 3, 4, 1, [2], [3]),
    _case(np.random.default_rng(62), 2, 3, 4, 4, 6, 2, [3, 1], [2, 4]),
  ]


def hidden(rng):
  """Edge shapes: batch 1, streams of one token, a sample whose other stream is all padding, one head."""
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(8):
    b = 1 if j in (0, 4) else k(2, 3)
    la = 1 if j in (1, 4) else k(2, 5)
    lb = 1 if j in (2, 4) else k(2, 5)
    h = 1 if j in (0, 3) else (3 if j == 5 else k(2, 3))
    da, db = block_width(k, h), (h if j == 5 else block_width(k, h))  # j = 5: stream b's heads have width 1
    len_a, len_b = rng.integers(1, la + 1, b), rng.integers(1, lb + 1, b)
    if j in (3, 6):
      len_b[rng.integers(0, b)] = 0  # stream a of one sample finds no real token in stream b
    if j in (6, 7):
      len_a[rng.integers(0, b)] = 0  # and the other way round
    for _ in range(100):  # bounded redraw of the values until every LayerNorm row is well spread
      case = _case(rng, b, la, lb, da, db, h, len_a, len_b)
      if block_well_conditioned(case[0]["a"], case[1], case[2], case[4]) and block_well_conditioned(
        case[0]["b"], case[2], case[1], case[3]
      ):
        break
    else:
      raise RuntimeError("co_attention.hidden: no well-conditioned case in 100 draws")
    out.append(case)
  return out


def reference(params, x_a, x_b, mask_a, mask_b, num_heads):
  """ViLBERT's co-attention exchange with the zoo's block: both directions read the streams as given.

  Decision: the zoo's CoAttention also hands each stream's own mask to its block as the query mask; that
  changes only the padded query rows (Flax then averages over every key, padding included), which the
  zoo never reads. Here those rows are graded too, so every query attends to the real keys only.
  """
  mlp = lambda s: params[s]["mlp"]["fc1"]["kernel"].shape[1]
  return _exchange()(
    params, x_a, x_b, np.asarray(mask_a, bool), np.asarray(mask_b, bool), num_heads, mlp("a"), mlp("b")
  )


@functools.cache
def _exchange():
  """Both directions with the zoo's AttentionBlock, jitted: one compile per case, not one per operation."""
  import jax.numpy as jnp

  from zoo.layers import AttentionBlock

  @functools.partial(refjit.jit, static_argnums=(5, 6, 7))
  def exchange(params, x_a, x_b, mask_a, mask_b, num_heads, mlp_a, mlp_b):
    # Every position of a stream is a query (padded ones too); the masks only remove padded keys and values.
    all_a, all_b = jnp.ones(mask_a.shape, bool), jnp.ones(mask_b.shape, bool)
    new_a = AttentionBlock(num_heads=num_heads, mlp_dim=mlp_a).apply({"params": params["a"]}, x_a, all_a, x_b, mask_b)
    new_b = AttentionBlock(num_heads=num_heads, mlp_dim=mlp_b).apply({"params": params["b"]}, x_b, all_b, x_a, mask_a)
    return new_a, new_b

  return exchange
