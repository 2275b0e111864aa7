"""mbt_bottleneck, private: the cases and the float64 reference, by the zoo's MBT layer block
(zoo.layers.AttentionBlock) and BottleneckFusion's exchange."""

import functools

import numpy as np

from grader import refjit


def _modality(rng, d, h, zero_out=False):
  """One modality's LayerNorm and attention weights, in Flax's layout."""
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  dh = d // h
  dense = lambda: {"kernel": (normal(d, h, dh) / np.sqrt(d)).astype(np.float32), "bias": 0.1 * normal(h, dh)}
  out = {"kernel": (normal(h, dh, d) / np.sqrt(d)).astype(np.float32), "bias": 0.1 * normal(d)}
  if zero_out:
    out = {"kernel": np.zeros((h, dh, d), np.float32), "bias": np.zeros(d, np.float32)}
  return {
    "ln": {"scale": (1.0 + 0.2 * normal(d)).astype(np.float32), "bias": 0.1 * normal(d)},
    "attn": {"query": dense(), "key": dense(), "value": dense(), "out": out},
  }


def _case(rng, b, la, lb, n, d, h, zero_out_b=False):
  normal = lambda *shape: rng.standard_normal(shape).astype(np.float32)
  params = {"a": _modality(rng, d, h), "b": _modality(rng, d, h, zero_out_b)}
  return (params, normal(b, la, d), normal(b, lb, d), normal(b, n, d), h)


def visible():
  """Fixed draws: modality b's output projection zero (the task's example), then a general 2-head case."""
  rng = np.random.default_rng(20210630)  # fixed: the visible cases are the same for everyone
  return [_case(rng, 1, 2, 3, 1, 4, 2, zero_out_b=True), _case(rng, 2, 3, 2, 2, 4, 2)]


def hidden(rng):
  """8 cases: one token everywhere, one bottleneck token, d_h = 1 (h = D), one head, unequal lengths.

  Shapes are fixed per case index (chosen edges); the values come from `rng`. So a whole class's
  references compile once per shape, and every variant exercises the same edges.
  """
  # (B, L_a, L_b, N, D, h)
  shapes = [
    (1, 1, 1, 1, 4, 1),
    (2, 3, 2, 2, 4, 2),
    (1, 4, 1, 3, 6, 3),
    (3, 2, 5, 1, 8, 2),
    (2, 1, 3, 4, 4, 4),
    (1, 5, 5, 2, 8, 1),
    (2, 2, 2, 2, 6, 2),
    (4, 3, 1, 2, 4, 1),
  ]
  return [_case(rng, *s) for s in shapes]


def _block_params(p, d):
  """The zoo's AttentionBlock parameters for one modality: its LayerNorm and attention, and a feed-forward
  sublayer whose output layer is zero, so the block's MLP adds exactly 0 (this question has none)."""
  z = lambda *shape: np.zeros(shape, np.float64)
  return {
    "ln_q": p["ln"],
    "attn": p["attn"],
    "ln_mlp": {"scale": np.ones(d), "bias": z(d)},
    "mlp": {"fc1": {"kernel": z(d, 1), "bias": z(1)}, "fc2": {"kernel": z(1, d), "bias": z(d)}},
  }


@functools.cache
def _jitted():
  """One exchange step, BottleneckFusion's loop body for two modalities, under one jax.jit (h static)."""
  import jax.numpy as jnp

  from zoo.layers import AttentionBlock

  def step(block_params, x_a, x_b, bn, num_heads):
    block = AttentionBlock(num_heads=num_heads, mlp_dim=1)
    outs, updated = [], []
    for key, x in (("a", x_a), ("b", x_b)):
      u = jnp.concatenate([x, bn], axis=1)
      y = block.apply({"params": block_params[key]}, u, jnp.ones(u.shape[:2], bool))
      outs.append(y[:, : x.shape[1]])
      updated.append(y[:, x.shape[1] :])
    return outs[0], outs[1], jnp.mean(jnp.stack(updated), axis=0)

  return refjit.jit(step, static_argnums=4)


def reference(params, x_a, x_b, bottleneck, num_heads):
  """(x_a′, x_b′, new bottleneck) by the zoo's pre-LN block with its feed-forward switched off."""
  d = x_a.shape[-1]
  block_params = {m: _block_params(params[m], d) for m in ("a", "b")}
  return _jitted()(block_params, x_a, x_b, bottleneck, num_heads)
