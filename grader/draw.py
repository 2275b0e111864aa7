"""Drawing helpers for the questions' case generators (questions/*/private.py): generic, no question names.

The hidden cases' generators draw from the `numpy.random.Generator` the grader hands them; these
helpers only shape what they draw (plain numbers, float32 arrays, masks), so every record draws in the
same style and a record's generator stays a few lines long.
"""

from __future__ import annotations

import zlib

import numpy as np

STYLES = ("int", "float", "mix")


def f32(x) -> np.ndarray:
  """`x` as a float32 numpy array."""
  return np.asarray(x, dtype=np.float32)


def fixed_rng(name: str) -> np.random.Generator:
  """A generator fixed by a question's name alone (for visible cases that are drawn, not written out)."""
  return np.random.default_rng([7, zlib.crc32(name.encode())])


def randint(rng, lo: int, hi: int) -> int:
  """An integer in [lo, hi], both ends included, as a Python int."""
  return int(rng.integers(lo, hi + 1))


def round1(rng, *shape) -> np.ndarray:
  """Standard normal values rounded to one decimal, float32: readable visible cases."""
  return f32(np.round(rng.standard_normal(shape), 1))


def normal(rng, *shape) -> np.ndarray:
  """Standard normal values, float32."""
  return f32(rng.standard_normal(shape))


def nums(rng, n: int, lim: float, style: str) -> list:
  """n numbers in [-lim, lim] as Python ints ("int"), 2-decimal floats ("float") or a mix ("mix")."""
  out = []
  for _ in range(n):
    s = style if style != "mix" else ("int" if rng.random() < 0.4 else "float")
    if s == "int":
      out.append(int(rng.integers(-lim, lim + 1)))
    else:
      out.append(round(float(rng.uniform(-lim, lim)), 2))
  return out


def vectors(rng, count: int, lim: float, lengths) -> list[tuple]:
  """One case per length: `count` lists of that length, the number style cycling through STYLES."""
  return [tuple(nums(rng, n, lim, STYLES[j % 3]) for _ in range(count)) for j, n in enumerate(lengths)]


def list_pairs(rng) -> list[tuple]:
  """8 cases of two lists with edge lengths: either or both empty, one element, either longer, equal."""
  n1, n2 = randint(rng, 2, 8), randint(rng, 2, 8)
  lens = [
    (0, randint(rng, 1, 6)),
    (randint(rng, 1, 6), 0),
    (0, 0),
    (1, randint(rng, 2, 7)),
    (max(n1, n2) + 1, min(n1, n2)),
    (min(n1, n2), max(n1, n2) + 1),
    (n1, n1),
    (randint(rng, 1, 9), randint(rng, 1, 9)),
  ]
  return [(nums(rng, a, 100, STYLES[j % 3]), nums(rng, b, 100, STYLES[(j + 1) % 3])) for j, (a, b) in enumerate(lens)]


def nums_matrix(rng, n: int, d: int, j: int) -> list[list]:
  """n lists of d numbers in [-5, 5], in style STYLES[j % 3]."""
  return [nums(rng, d, 5, STYLES[j % 3]) for _ in range(n)]


def mask(rng, shape) -> np.ndarray:
  """A random boolean mask (True = may attend) with at least one True in every row of its last axis."""
  m = rng.random(shape) < 0.6
  rows = m.reshape(-1, shape[-1])
  rows[np.arange(rows.shape[0]), rng.integers(0, shape[-1], rows.shape[0])] = True
  return rows.reshape(shape)


# Attention blocks (pre-LayerNorm, Flax layouts): case conditions the Part III block records share.


def block_params(rng, d: int, d_ctx: int, h: int, mlp: int) -> dict:
  """zoo.layers.AttentionBlock's parameter tree (Flax layouts): queries of width d read a context of width
  d_ctx through h heads; weights ~ N(0, 1/fan_in), LayerNorm scales near 1, small biases."""
  w = lambda fan_in, *s: f32(rng.standard_normal(s) / np.sqrt(fan_in))
  small = lambda *s: f32(0.1 * rng.standard_normal(s))
  ln = lambda n: {"scale": f32(1 + 0.1 * rng.standard_normal(n)), "bias": small(n)}
  dh = d // h
  return {
    "ln_q": ln(d),
    "ln_ctx": ln(d_ctx),
    "attn": {
      "query": {"kernel": w(d, d, h, dh), "bias": small(h, dh)},
      "key": {"kernel": w(d_ctx, d_ctx, h, dh), "bias": small(h, dh)},
      "value": {"kernel": w(d_ctx, d_ctx, h, dh), "bias": small(h, dh)},
      "out": {"kernel": w(d, h, dh, d), "bias": small(d)},
    },
    "ln_mlp": ln(d),
    "mlp": {"fc1": {"kernel": w(d, d, mlp), "bias": small(mlp)}, "fc2": {"kernel": w(mlp, mlp, d), "bias": small(d)}},
  }


def block_well_conditioned(p, x, ctx, ctx_mask=None):
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


def block_width(draw, h):
  """h heads of width 1..3, but never 2 features in all: over two nearly equal features a float32
  LayerNorm with a one-pass variance (Flax's) can miss the tolerance; one feature is exact, three are safe."""
  d = h * draw(1, 3)
  return d + h if d == 2 else d
