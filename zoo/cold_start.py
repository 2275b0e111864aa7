"""A traced function split at its random bits, so that a cold `zoo infer` compiles less (issue 15).

`SplitAtBits(fn, *args)` traces `fn` once and cuts its computation in two:
  bits(*args)        every `random_bits` of the computation (the key derivations and threefry: integers
                     only), as a list of arrays; the threefry of all 32-bit draws from scalar keys is ONE
                     threefry2x32 over their concatenation (keys repeated, counters concatenated), and
                     independent fold-ins/splits of one kind are one vmapped call;
  rest(bits, *args)  everything else (the floats: uniform -> erf_inv -> scale, and the forward pass), with
                     each draw sliced out of that vector.
`rest(bits(*args), *args)` equals `fn(*args)` bit for bit (tests/zoo/test_cold_start.py).

Why: XLA compiles each random parameter's threefry loop as kernels of its own (91 while loops and 830
fused computations for the default parallel model's initialisation); LLVM's time grows with their sizes,
so the one-jit initialisation took ~11 s of CPU to compile. Cut this way, `bits` has 5 while loops and
compiles in about 1 s, beside `rest` on another thread (`zoo infer`). Both keep the default optimisation
level: `bits` is integer only and would be exact at level 0 too (0.8 s instead of 1.1 s to compile, but
20-35 ms instead of 3.5-5 ms to run, unvectorised), while the floats are not (at level 0 about 5 % of the
initialised weights differ in the last bit).

The fused threefry reproduces `jax.random.bits` for threefry2x32 keys with `jax_threefry_partitionable`
(JAX's default): bits = b1 ^ b2 with (b1, b2) = threefry2x32(key, (0, i)) for the flat index i < 2**32.
Other key implementations, bit widths or key shapes go through `random_bits` itself (still in `bits`).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import Literal
from jax.extend.random import threefry2x32_p

_CALLS = ("jit", "pjit", "closed_call")


def _sub(eqn):
  """The sub-jaxpr of a call eqn (jit, closed_call), else None."""
  j = eqn.params.get("jaxpr") if eqn.primitive.name in _CALLS else None
  return j if isinstance(j, jax.extend.core.ClosedJaxpr) else None


def _has_bits(closed, memo) -> bool:
  """Whether a jaxpr draws random bits, in itself or a call it makes."""
  k = id(closed.jaxpr)
  if k not in memo:
    memo[k] = any(
      e.primitive.name == "random_bits" or (_sub(e) is not None and _has_bits(_sub(e), memo)) for e in closed.jaxpr.eqns
    )
  return memo[k]


def _flatten(closed):
  """(eqns, inputs, outputs): eqns as (eqn, ins, outs) with atoms ("v", id) or ("c", value); the calls that
  draw random bits are inlined (so their draws can be cut out), every other eqn is kept whole."""
  flat, memo, count = [], {}, [0]

  def fresh():
    count[0] += 1
    return ("v", count[0])

  def go(cj, in_atoms):
    env = dict(zip(cj.jaxpr.constvars, [("c", c) for c in cj.consts]))
    env.update(zip(cj.jaxpr.invars, in_atoms))

    def atom(v):
      return ("c", v.val) if isinstance(v, Literal) else env[v]

    for e in cj.jaxpr.eqns:
      ins = [atom(v) for v in e.invars]
      s = _sub(e)
      if s is not None and _has_bits(s, memo):
        env.update(zip(e.outvars, go(s, ins)))
        continue
      outs = [fresh() for _ in e.outvars]
      env.update(zip(e.outvars, outs))
      flat.append((e, ins, outs))
    return [atom(v) for v in cj.jaxpr.outvars]

  inputs = [fresh() for _ in closed.jaxpr.invars]
  return flat, inputs, go(closed, inputs)


def _slice(flat, targets, leaves=frozenset()):
  """The eqns needed for `targets`, in order, not looking behind values in `leaves`."""
  need = {a for a in targets if a[0] == "v"}
  keep = []
  for item in reversed(flat):
    if any(o in need for o in item[2]):
      keep.append(item)
      need.update(a for a in item[1] if a[0] == "v" and a not in leaves)
  return keep[::-1]


def _bind(item, read):
  e, ins, _ = item
  r = e.primitive.bind(*[read(a) for a in ins], **e.primitive.get_bind_params(e.params))
  return r if e.primitive.multiple_results else [r]


def _fusable(item) -> bool:
  """A 32-bit draw from one threefry2x32 key, which `_fused_bits` computes with the others."""
  e = item[0]
  aval = e.invars[0].aval
  return (
    e.primitive.name == "random_bits"
    and e.params["bit_width"] == 32
    and aval.shape == ()
    and getattr(getattr(aval.dtype, "_impl", None), "name", None) == "threefry2x32"
    and jax.config.jax_threefry_partitionable
    and math.prod(e.params["shape"]) < 2**32
  )


def _fused_bits(keys, seg_N, counts_N):
  """`jax.random.bits(k, s)` for each key k and shape s, concatenated flat, with one threefry2x32.

  Element i of draw j is threefry2x32(key_j, (0, i)) (the partitionable counters of i < 2**32): `seg_N`
  holds j and `counts_N` i for every element. Both are inputs, made on the host (`SplitAtBits.tables`):
  as constants XLA would fold them, slowly.
  """
  keys_Kx2 = jnp.stack([jax.random.key_data(k) for k in keys])
  b1, b2 = threefry2x32_p.bind(keys_Kx2[seg_N, 0], keys_Kx2[seg_N, 1], jnp.zeros_like(counts_N), counts_N)
  return b1 ^ b2


class SplitAtBits:
  """`fn` traced once on `args`, split into `bits(*args)` (integers) and `rest(bits, *args)` (the rest)."""

  def __init__(self, fn, *args):
    closed, self.out_shape = jax.make_jaxpr(fn, return_shape=True)(*args)
    self.flat, self.inputs, self.outputs = _flatten(closed)
    draws = [item for item in self.flat if item[0].primitive.name == "random_bits"]
    self.draws = [d[2][0] for d in draws]
    self.draw_shapes = [jax.ShapeDtypeStruct(d[0].outvars[0].aval.shape, d[0].outvars[0].aval.dtype) for d in draws]
    self.fused = {d[2][0] for d in draws if _fusable(d)}
    self.key_eqns = [item for item in _slice(self.flat, self.draws) if item[2][0] not in self.fused]
    self.fused_draws = [(d[1][0], d[0].params["shape"]) for d in draws if d[2][0] in self.fused]
    self.rest_eqns = [i for i in _slice(self.flat, self.outputs, set(self.draws)) if i[2][0] not in self.draws]

  def tables(self):
    """`bits`'s first argument: for every element of the fused draws, its draw (int32) and its index."""
    sizes = [math.prod(s) for _, s in self.fused_draws]
    seg = np.repeat(np.arange(len(sizes), dtype=np.int32), sizes)
    counts = np.concatenate([np.arange(n, dtype=np.uint32) for n in sizes] or [np.zeros(0, np.uint32)])
    return seg, counts

  def bits(self, tables, *args):
    """The random draws of `fn(*args)` (keys and threefry: integers only): (the fused draws concatenated
    flat, [each other draw]); `split_bits` cuts them into `rest`'s list, on the host."""
    env = dict(zip(self.inputs, jax.tree.leaves(args)))

    def read(a):
      return a[1] if a[0] == "c" else env[a]

    _run_grouped(self.key_eqns, env, read)
    flat = jnp.zeros((0,), np.uint32)
    if self.fused_draws:
      flat = _fused_bits([read(k) for k, _ in self.fused_draws], *tables)
    return flat, [env[d] for d in self.draws if d not in self.fused]

  def split_bits(self, bits) -> list:
    """`bits`'s output as one array per draw, in `draws` order (numpy slices of the fused vector)."""
    flat, others = bits
    flat, others = np.asarray(flat), iter(others)
    shapes = iter(s for _, s in self.fused_draws)
    out, offset = [], 0
    for d in self.draws:
      if d in self.fused:
        shape = next(shapes)
        out.append(flat[offset : offset + math.prod(shape)].reshape(shape))
        offset += math.prod(shape)
      else:
        out.append(next(others))
    return out

  def rest(self, bits, *args):
    """`fn(*args)`, its random draws taken from `bits` (what `self.bits(*args)` returned)."""
    env = dict(zip(self.inputs, jax.tree.leaves(args)))
    env.update(zip(self.draws, bits))

    def read(a):
      return a[1] if a[0] == "c" else env[a]

    for item in self.rest_eqns:
      env.update(zip(item[2], _bind(item, read)))
    return jax.tree.unflatten(jax.tree.structure(self.out_shape), [read(a) for a in self.outputs])


def _run_grouped(items, env, read, skip=frozenset()):
  """Evaluate `items` into `env`; independent eqns of one kind at one depth (the per-parameter fold-ins)
  go through one vmapped call: their values are integer and elementwise, so identical."""
  depth, levels = {}, {}
  for item in items:
    if item[2][0] in skip:
      continue
    d = 1 + max((depth.get(a, 0) for a in item[1] if a[0] == "v"), default=0)
    depth.update((o, d) for o in item[2])
    levels.setdefault(d, []).append(item)
  for d in sorted(levels):
    groups: dict = {}
    for item in levels[d]:
      e = item[0]
      try:
        sig = (e.primitive, tuple(sorted(e.params.items())), tuple(v.aval for v in e.invars))
        hash(sig)
      except TypeError:
        sig = object()
      groups.setdefault(sig, []).append(item)
    for group in groups.values():
      if len(group) == 1 or group[0][0].primitive.name in _CALLS:
        for item in group:
          env.update(zip(item[2], _bind(item, read)))
        continue
      e0 = group[0][0]
      xs, axes = [], []
      for i in range(len(e0.invars)):
        col = [item[1][i] for item in group]
        same = all(c[0] == "v" and c == col[0] for c in col) or all(c[0] == "c" and c[1] is col[0][1] for c in col)
        xs.append(read(col[0]) if same else jnp.stack([read(c) for c in col]))
        axes.append(None if same else 0)
      params = e0.primitive.get_bind_params(e0.params)
      r = jax.vmap(lambda *a, e0=e0, params=params: e0.primitive.bind(*a, **params), in_axes=axes)(*xs)
      r = r if e0.primitive.multiple_results else [r]
      for j, item in enumerate(group):
        env.update((o, x[j]) for o, x in zip(item[2], r))
