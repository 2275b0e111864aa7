"""The 17 graded functions, their visible and seeded hidden cases, and float64 references (../shared/spec/exercises.md).

Import-light on purpose: the student hand-out ships this module without the zoo and reads
precomputed visible cases, so jax and zoo are imported only inside `reference()`.
Case arguments are plain data: Python lists of ints/floats for Part I; numpy float32 arrays
(bool for masks), Python ints/floats, and dicts/lists of arrays for Part II.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

N_VISIBLE = 2
N_HIDDEN = 8


@dataclass(frozen=True)
class FunctionSpec:
  name: str
  part: int
  module: str                   # exercise module, e.g. "q1_time_align"
  kind: str                     # "array" | "pair" | "scalar" | "dtw"
  article_printed: Any | None   # what the article printed for its own call (Part I), else None
  erratum_en: str | None        # why the printed value is wrong (None when it is right); the grader's
                                # feedback wraps it in "... a known erratum of the article: {why}"
  erratum_zh: str | None
  signature: str = ""           # e.g. "time_align(A, B)"
  params: tuple = field(default=())  # the parameter names, in order


@dataclass(frozen=True)
class Case:
  function: str
  index: int        # 0, 1 visible; 2..9 hidden
  visible: bool
  args: tuple       # positional arguments, plain data


def _spec(name, part, module, kind, params, printed=None, en=None, zh=None):
  return FunctionSpec(name, part, module, kind, printed, en, zh,
                      f"{name}({', '.join(params)})", tuple(params))


_ATT_EN = ("the article prints [7.8, 8.9, 9.0], but its own code computes "
           "0.5·text + 0.3·image + 0.2·audio = [0.5·1 + 0.3·4 + 0.2·7, 0.5·2 + 0.3·5 + 0.2·8, "
           "0.5·3 + 0.3·6 + 0.2·9] = [3.1, 4.1, 5.1]; the printed numbers are not what the code computes.")
_ATT_ZH = ("原文打印 [7.8, 8.9, 9.0]，但它自己的代码计算的是 0.5·text + 0.3·image + "
           "0.2·audio = [0.5·1 + 0.3·4 + 0.2·7, 0.5·2 + 0.3·5 + 0.2·8, 0.5·3 + 0.3·6 + 0.2·9] = "
           "[3.1, 4.1, 5.1]；打印值并不是代码算出的结果。")
_DEC_EN = ("the article prints [0.5, 1.0, 1.5, 2.0, 2.5] for "
           "decode(encode([1, 2, 3, 4, 5])), that is decode([2, 4, 6, 8, 10]); but decode halves what "
           "encode doubled, so the result is the original [1.0, 2.0, 3.0, 4.0, 5.0]. The printed value "
           "halves once too often.")
_DEC_ZH = ("原文对 decode(encode([1, 2, 3, 4, 5]))，即 decode([2, 4, 6, 8, 10])，打印 "
           "[0.5, 1.0, 1.5, 2.0, 2.5]；但 decode 把 encode 乘上的 2 除回去，结果是原向量 "
           "[1.0, 2.0, 3.0, 4.0, 5.0]。打印值多除了一次 2。")
_SAF_EN = ("the article prints [9.0, 10.5, 12.0], but its code raises TypeError "
           "(it calls len() on a single number), and its 'self-attention' only weights elements by "
           "their position. Real self-attention over the three modality vectors, softmax(X·Xᵀ/√d)·X "
           "averaged over the rows, gives [6.99996933, 7.99996933, 8.99996933].")
_SAF_ZH = ("原文打印 [9.0, 10.5, 12.0]，但它的代码会抛出 TypeError（对单个数字调用 "
           "len()），而且它的“自注意力”只按位置加权。对三个模态向量做真正的自注意力 softmax(X·Xᵀ/√d)·X "
           "再对行取平均，结果是 [6.99996933, 7.99996933, 8.99996933]。")

FUNCTIONS: list[FunctionSpec] = [
    _spec("time_align", 1, "q1_time_align", "pair", ["A", "B"],
          ([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])),
    _spec("feature_align", 1, "q2_feature_align", "pair", ["A", "B"], ([1, 2, 3], [4, 5, 6])),
    _spec("feature_fusion", 1, "q3_feature_fusion", "array",
          ["vector_text", "vector_image", "vector_audio"], [12, 15, 18]),
    _spec("attention_fusion", 1, "q4_attention_fusion", "array",
          ["vector_text", "vector_image", "vector_audio"], [7.8, 8.9, 9.0], _ATT_EN, _ATT_ZH),
    # The article prints only decode(encode(...)); encode's own result is never printed.
    _spec("encode", 1, "q5_encoder_decoder", "array", ["vector"]),
    _spec("decode", 1, "q5_encoder_decoder", "array", ["encoded_vector"],
          [0.5, 1.0, 1.5, 2.0, 2.5], _DEC_EN, _DEC_ZH),
    # The article's self_attention takes one vector and is never printed on its own.
    _spec("self_attention", 1, "q6_self_attention_fusion", "array", ["vectors"]),
    _spec("self_attention_fusion", 1, "q6_self_attention_fusion", "array",
          ["vector_text", "vector_image", "vector_audio"], [9.0, 10.5, 12.0], _SAF_EN, _SAF_ZH),
    _spec("scaled_dot_product_attention", 2, "p2_attention", "array", ["q", "k", "v", "mask=None"]),
    _spec("multi_head_attention", 2, "p2_attention", "array",
          ["params", "x_q", "x_kv", "num_heads", "mask=None"]),
    _spec("tensor_fusion", 2, "p2_fusion", "array", ["z_text", "z_image", "z_audio"]),
    _spec("low_rank_fusion", 2, "p2_fusion", "array", ["params", "z_text", "z_image", "z_audio"]),
    _spec("gated_fusion", 2, "p2_fusion", "array", ["params", "x_a", "x_b"]),
    _spec("film", 2, "p2_fusion", "array", ["params", "x", "cond"]),
    _spec("clip_loss", 2, "p2_alignment", "scalar", ["image_emb", "text_emb", "temperature"]),
    _spec("interp_align", 2, "p2_alignment", "array", ["t_src", "x_src", "t_dst"]),
    _spec("dtw", 2, "p2_alignment", "dtw", ["x", "y"]),
]
SPECS: dict[str, FunctionSpec] = {s.name: s for s in FUNCTIONS}
NAMES: list[str] = [s.name for s in FUNCTIONS]
MODULES: list[str] = list(dict.fromkeys(s.module for s in FUNCTIONS))


def spec(name: str) -> FunctionSpec:
  """The FunctionSpec of a graded function (KeyError if unknown)."""
  return SPECS[name]


# ---------------------------------------------------------------------------------------------
# Visible cases: fixed, the same for every seed. For Part I the article's own call comes first;
# the second case is the small example shown in the exercise stub's docstring.

def _article_vectors():
  """The article's text, image and audio vectors, fresh lists each time (callers may mutate them)."""
  return [1, 2, 3], [4, 5, 6], [7, 8, 9]


def _f32(x):
  return np.asarray(x, dtype=np.float32)


def _fixed_rng(name):
  return np.random.default_rng([7, zlib.crc32(name.encode())])


def _round1(rng, *shape):
  """Standard normal values rounded to one decimal, float32: readable visible cases."""
  return _f32(np.round(rng.standard_normal(shape), 1))


def _visible_mha():
  rng = _fixed_rng("multi_head_attention")
  out = []
  for b, lq, lk, d_in, h, dh, d_out, masked in ((1, 2, 2, 3, 2, 2, 3, False), (2, 2, 3, 2, 1, 3, 2, True)):
    params = _mha_params(lambda *s: _round1(rng, *s), d_in, h, dh, d_out)
    x_q, x_kv = _round1(rng, b, lq, d_in), _round1(rng, b, lk, d_in)
    if masked:
      mask = np.array([[[True, True, False], [False, True, True]],
                       [[True, False, False], [True, True, True]]])
      out.append((params, x_q, x_kv, h, mask))
    else:
      out.append((params, x_q, x_kv, h))
  return out


def _visible_lrf():
  rng = _fixed_rng("low_rank_fusion")
  out = []
  for b, dims, r, o in ((1, (2, 1, 2), 2, 2), (2, (1, 3, 2), 3, 1)):
    params = _lrf_params(lambda *s: _round1(rng, *s), dims, r, o)
    out.append((params, *(_round1(rng, b, d) for d in dims)))
  return out


def _visible_gated():
  rng = _fixed_rng("gated_fusion")
  out = []
  for b, da, db, o in ((1, 2, 3, 2), (2, 1, 2, 3)):
    params = {"W_a": _round1(rng, da, o), "W_b": _round1(rng, db, o), "W_z": _round1(rng, da + db, o)}
    out.append((params, _round1(rng, b, da), _round1(rng, b, db)))
  return out


def _visible(name: str) -> list[tuple]:
  if name == "time_align":
    return [([1, 2, 3, 4, 5], [2, 4, 6, 8, 10]), ([0.5, -1, 2], [3, 4, 5, 6])]
  if name == "feature_align":
    return [([1, 2, 3], [4, 5, 6]), ([7, -2.5, 0, 1], [3, 9])]
  if name == "feature_fusion":
    return [_article_vectors(), ([1.5, -2], [0.25, 4], [-3, 10])]
  if name == "attention_fusion":
    return [_article_vectors(), ([10, -20], [5, 0], [-5, 1])]
  if name == "encode":
    return [([1, 2, 3, 4, 5],), ([-1.5, 0, 3],)]
  if name == "decode":
    return [([2, 4, 6, 8, 10],), ([-3, 1, 7],)]
  if name == "self_attention":
    return [(list(_article_vectors()),), ([[1, 0], [0, 1]],)]
  if name == "self_attention_fusion":
    return [_article_vectors(), ([1, 0], [0, 1], [1, 1])]
  if name == "scaled_dot_product_attention":
    return [(_f32([[1, 0], [0, 1]]), _f32([[1, 0], [0, 1], [1, 1]]), _f32(np.eye(3))),
            (_f32([[[1, 2], [0, -1]]]), _f32([[[1, 0], [0, 1], [-1, 1]]]), _f32([[[1], [2], [3]]]),
             np.array([[[True, False, True], [False, True, True]]]))]
  if name == "multi_head_attention":
    return _visible_mha()
  if name == "tensor_fusion":
    return [(_f32([[2]]), _f32([[3]]), _f32([[0.5]])),
            (_f32([[1, -1], [0, 2]]), _f32([[2], [-0.5]]), _f32([[3], [1]]))]
  if name == "low_rank_fusion":
    return _visible_lrf()
  if name == "gated_fusion":
    return _visible_gated()
  if name == "film":
    p = {"gamma": {"kernel": _f32([[2, 3]]), "bias": _f32([0, 1])},
         "beta": {"kernel": _f32([[1, 1]]), "bias": _f32([0.5, 0])}}
    p2 = {"gamma": {"kernel": _f32([[1, 0, 2], [0, 1, -1]]), "bias": _f32([1, 1, 0])},
          "beta": {"kernel": _f32([[0.5, 0, 0], [0, 0, 1]]), "bias": _f32([0, -1, 0])}}
    return [(p, _f32([[1, 2]]), _f32([[1]])),
            (p2, _f32([[1, 2, 3], [-1, 0, 1]]), _f32([[1, 0], [2, -1]]))]
  if name == "clip_loss":
    return [(_f32([[1, 0], [0, 1]]), _f32([[1, 0], [0, 1]]), 1.0),
            (_f32([[1, 2, 0], [0, 1, 1], [2, 0, 1]]), _f32([[1, 1, 0], [0, 2, 1], [1, 0, 0]]),
             0.07)]
  if name == "interp_align":
    return [(_f32([0, 1, 3]), _f32([[0, 1], [2, 3], [4, -1]]), _f32([-1, 0.5, 2, 4])),
            (_f32([0, 0.5, 2]), _f32([[10], [20], [-10]]), _f32([0.25, 1.25, 2, 3]))]
  if name == "dtw":
    return [(_f32([[0], [1], [2]]), _f32([[0], [0], [1], [2]])),
            (_f32([[0, 0], [1, 1], [2, 0]]), _f32([[0, 1], [2, 1]]))]
  raise KeyError(name)


# ---------------------------------------------------------------------------------------------
# Hidden cases: 8 per function from a generator keyed by (seed, variant, name) (grader/seed.py). Each generator
# walks a fixed list of "plans" (edge cases the contract names) and draws the values at random.

def _rng(name: str, seed) -> np.random.Generator:
  # `seed`: a grader.seed.Draw (a stretched key and a variant), or a plain seed (stretched; variant 0).
  from grader import seed as seeds
  d = seeds.as_draw(seed)
  return seeds.case_rng(d.key, name, d.variant)


def _nums(rng, n, lim, style):
  """n numbers in [-lim, lim] as Python ints ("int"), 2-decimal floats ("float") or a mix ("mix")."""
  out = []
  for _ in range(n):
    s = style if style != "mix" else ("int" if rng.random() < 0.4 else "float")
    if s == "int":
      out.append(int(rng.integers(-lim, lim + 1)))
    else:
      out.append(round(float(rng.uniform(-lim, lim)), 2))
  return out


_STYLES = ("int", "float", "mix")


def _hidden_pair(rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  n1, n2 = k(2, 8), k(2, 8)
  lens = [(0, k(1, 6)), (k(1, 6), 0), (0, 0), (1, k(2, 7)), (max(n1, n2) + 1, min(n1, n2)),
          (min(n1, n2), max(n1, n2) + 1), (n1, n1), (k(1, 9), k(1, 9))]
  return [(_nums(rng, a, 100, _STYLES[j % 3]), _nums(rng, b, 100, _STYLES[(j + 1) % 3]))
          for j, (a, b) in enumerate(lens)]


def _hidden_vectors(rng, count, lim, lengths):
  return [tuple(_nums(rng, n, lim, _STYLES[j % 3]) for _ in range(count)) for j, n in enumerate(lengths)]


def _hidden_part1(name, rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  if name in ("time_align", "feature_align"):
    return _hidden_pair(rng)
  if name in ("feature_fusion", "attention_fusion"):
    return _hidden_vectors(rng, 3, 100, [0, 1] + [k(2, 8) for _ in range(6)])
  if name in ("encode", "decode"):
    return _hidden_vectors(rng, 1, 100, [0, 1] + [k(2, 9) for _ in range(6)])
  if name == "self_attention":
    # n tokens of width d; d <= 6 keeps |logits| <= 25·6/√6 ≈ 61 so a float32 softmax is accurate.
    nd = [(1, 1), (1, k(2, 6)), (k(2, 5), 1), (3, 3)] + [(k(2, 5), k(2, 6)) for _ in range(4)]
    return [(_nums_matrix(rng, n, d, j),) for j, (n, d) in enumerate(nd)]
  if name == "self_attention_fusion":
    return _hidden_vectors(rng, 3, 5, [1, 2, 3] + [k(1, 6) for _ in range(5)])
  raise KeyError(name)


def _nums_matrix(rng, n, d, j):
  return [_nums(rng, d, 5, _STYLES[j % 3]) for _ in range(n)]


def _normal(rng, *shape):
  return _f32(rng.standard_normal(shape))


def _mask(rng, shape):
  """A random boolean mask (True = may attend) with at least one True in every row of its last axis."""
  m = rng.random(shape) < 0.6
  rows = m.reshape(-1, shape[-1])
  rows[np.arange(rows.shape[0]), rng.integers(0, shape[-1], rows.shape[0])] = True
  return rows.reshape(shape)


def _mha_params(draw, d_in, h, dh, d_out):
  return {"query": {"kernel": draw(d_in, h, dh), "bias": draw(h, dh)},
          "key": {"kernel": draw(d_in, h, dh), "bias": draw(h, dh)},
          "value": {"kernel": draw(d_in, h, dh), "bias": draw(h, dh)},
          "out": {"kernel": draw(h, dh, d_out), "bias": draw(d_out)}}


def _lrf_params(draw, dims, r, o):
  return {"factors": [draw(r, d + 1, o) for d in dims], "fusion_weights": draw(1, r),
          "fusion_bias": draw(1, o)}


def _hidden_sdpa(rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  # (batch axes, mask shape: None | "full" | "2d" (broadcast over batch) | "keys" ([..., 1, Lk]))
  plans = [((), None), ((1,), "full"), ((k(2, 3),), None), ((k(1, 3), k(2, 3)), "full"),
           ((k(2, 3), k(1, 2)), "2d"), ((k(1, 3),), "keys"), ((), "2d"), ((1, 1), None)]
  out = []
  for j, (batch, mode) in enumerate(plans):
    lq, lk, d = k(1, 6), k(1, 6), k(1, 8)
    dv = d + k(1, 4) if j % 2 == 0 else k(1, 8)   # dv != d in half the cases at least
    if j == 6:
      lq = 1
    q, kk, v = _normal(rng, *batch, lq, d), _normal(rng, *batch, lk, d), _normal(rng, *batch, lk, dv)
    if mode is None:
      out.append((q, kk, v))
      continue
    shape = {"full": (*batch, lq, lk), "2d": (lq, lk), "keys": (*batch, 1, lk)}[mode]
    out.append((q, kk, v, _mask(rng, shape)))
  return out


def _hidden_mha(rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  for j in range(N_HIDDEN):
    b = 1 if j in (0, 3) else k(2, 3)
    lq, lk, d_in, h, dh, d_out = k(1, 5), k(1, 5), k(1, 6), 1 + j % 3, k(1, 4), k(1, 5)
    params = _mha_params(lambda *s: _normal(rng, *s), d_in, h, dh, d_out)
    args = (params, _normal(rng, b, lq, d_in), _normal(rng, b, lk, d_in), h)
    out.append(args + ((_mask(rng, (b, lq, lk)),) if j % 2 else ()))
  return out


def _hidden_part2(name, rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  batch = lambda j: 1 if j in (0, 4) else k(2, 4)
  if name == "scaled_dot_product_attention":
    return _hidden_sdpa(rng)
  if name == "multi_head_attention":
    return _hidden_mha(rng)
  if name == "tensor_fusion":
    out = []
    for j in range(N_HIDDEN):
      b = batch(j)
      out.append(tuple(_normal(rng, b, k(1, 4)) for _ in range(3)))
    return out
  if name == "low_rank_fusion":
    out = []
    for j in range(N_HIDDEN):
      b, dims, r, o = batch(j), (k(1, 4), k(1, 4), k(1, 4)), k(1, 4), k(1, 4)
      params = _lrf_params(lambda *s: _normal(rng, *s), dims, r, o)
      out.append((params, *(_normal(rng, b, d) for d in dims)))
    return out
  if name == "gated_fusion":
    out = []
    for j in range(N_HIDDEN):
      b, da, db, o = batch(j), k(1, 5), k(1, 5), k(1, 5)
      params = {"W_a": _normal(rng, da, o), "W_b": _normal(rng, db, o), "W_z": _normal(rng, da + db, o)}
      out.append((params, _normal(rng, b, da), _normal(rng, b, db)))
    return out
  if name == "film":
    out = []
    for j in range(N_HIDDEN):
      b, c, d = batch(j), k(1, 5), k(1, 5)
      params = {"gamma": {"kernel": _normal(rng, c, d), "bias": _normal(rng, d)},
                "beta": {"kernel": _normal(rng, c, d), "bias": _normal(rng, d)}}
      out.append((params, _normal(rng, b, d), _normal(rng, b, c)))
    return out
  if name == "clip_loss":
    # Temperatures log-uniform over CLIP's range [0.01, 1], both ends included, to 3 significant digits.
    temps = [0.01, 1.0] + [float(f"{np.exp(rng.uniform(np.log(0.01), 0.0)):.3g}") for _ in range(N_HIDDEN - 2)]
    out = []
    for j, t in enumerate(temps):
      b, d = batch(j), k(1, 8)
      out.append((_normal(rng, b, d), _normal(rng, b, d), t))
    return out
  if name == "interp_align":
    return _hidden_interp(rng)
  if name == "dtw":
    nm = [(1, k(2, 6)), (k(2, 6), 1), (2, 5), (6, 3)] + [(k(1, 7), k(1, 7)) for _ in range(4)]
    out = []
    for j, (n, m) in enumerate(nm):
      if j >= 4 and n == m:
        m = m % 7 + 1   # n != m in every hidden case
      d = k(1, 3)
      out.append((_normal(rng, n, d), _normal(rng, m, d)))
    # No filtering of near-ties is needed: a path chosen differently because float32 flipped a
    # near-tie costs the optimum plus less than float32's error, well inside rtol = atol = 1e-4.
    return out
  raise KeyError(name)


def _hidden_interp(rng):
  k = lambda lo, hi: int(rng.integers(lo, hi + 1))
  out = []
  # Decisions: n >= 2 source samples (one sample makes the resampling a constant, not an
  # interpolation); destination times are sorted (a destination clock), but may lie outside the
  # source range; times stay within about ±15 with gaps >= 0.25 so float32 interpolation weights
  # are accurate to ~1e-6.
  for j in range(N_HIDDEN):
    n, d, m = k(2, 7), 1 + j % 4, k(1, 7)
    t_src = np.round(rng.uniform(-2, 2) + np.cumsum(rng.uniform(0.25, 1.5, n)), 3)
    lo, hi = t_src[0], t_src[-1]
    if j == 0:
      t_dst = np.sort(np.concatenate([rng.uniform(lo - 3, lo - 0.1, 2), rng.uniform(hi + 0.1, hi + 3, 2)]))
    elif j == 1:
      m = 1
      t_dst = rng.uniform(lo, hi, 1)
    elif j == 2:
      t_dst = t_src.copy()   # exactly on the source instants
    else:
      t_dst = np.sort(rng.uniform(lo - 1.5, hi + 1.5, m))
    out.append((_f32(t_src), _normal(rng, n, d), _f32(np.round(t_dst, 3))))
  return out


def _hidden(name: str, seed: int) -> list[tuple]:
  rng = _rng(name, seed)
  gen = _hidden_part1 if SPECS[name].part == 1 else _hidden_part2
  args = gen(name, rng)
  assert len(args) == N_HIDDEN, (name, len(args))
  return args


def cases(name: str, seed: int) -> list[Case]:
  """2 visible cases (index 0, 1; fixed) then 8 hidden ones (index 2..9; drawn from `seed`)."""
  if name not in SPECS:
    raise KeyError(f"unknown graded function {name!r}")
  vis = [Case(name, i, True, tuple(a)) for i, a in enumerate(_visible(name))]
  hid = [Case(name, N_VISIBLE + i, False, tuple(a)) for i, a in enumerate(_hidden(name, seed))]
  return vis + hid


def all_cases(seed: int) -> dict[str, list[Case]]:
  """Every graded function's cases for one seed, in contract order."""
  return {n: cases(n, seed) for n in NAMES}


def max_abs_input(args: Any) -> float:
  """The largest absolute numeric value anywhere in `args` (0.0 when there is none)."""
  m = 0.0
  stack = [args]
  while stack:
    x = stack.pop()
    if isinstance(x, (list, tuple)):
      stack.extend(x)
    elif isinstance(x, dict):
      stack.extend(x.values())
    elif isinstance(x, np.ndarray):
      if x.size and x.dtype.kind in "iuf":
        m = max(m, float(np.max(np.abs(x))))
    elif isinstance(x, (int, float)) and not isinstance(x, bool):
      m = max(m, abs(float(x)))
  return m


# ---------------------------------------------------------------------------------------------
# References: the zoo, in float64.

def _to_jax64(x):
  import jax.numpy as jnp
  if isinstance(x, np.ndarray):
    return jnp.asarray(x.astype(np.float64) if x.dtype.kind == "f" else x)
  if isinstance(x, dict):
    return {k: _to_jax64(v) for k, v in x.items()}
  if isinstance(x, list) and x and isinstance(x[0], np.ndarray):
    return [_to_jax64(v) for v in x]
  return x


_JITTED: dict[str, Any] = {}


def _part2_fn(name: str):
  """The zoo function, wrapped in one `jax.jit` (one compile per shape instead of one per op)."""
  if name not in _JITTED:
    import jax
    from zoo.reference import GRADED
    fn = GRADED[name]
    if name == "dtw":   # the zoo's dtw jits its own inner loop and slices the path outside
      _JITTED[name] = fn
    else:
      _JITTED[name] = jax.jit(fn, static_argnums=(3,) if name == "multi_head_attention" else ())
  return _JITTED[name]


def reference(name: str, args: tuple) -> Any:
  """The expected value for `name(*args)`, computed by the zoo in float64; numpy float64.

  "array"/"scalar": an ndarray (0-d for a scalar); "pair": a tuple of two 1-d arrays;
  "dtw": (cost as a 0-d float64 array, path as an [L, 2] int64 array).
  """
  import jax
  from zoo.reference import GRADED
  s = SPECS[name]
  with jax.enable_x64(True):
    if s.part == 1:
      out = GRADED[name](*args)
    else:
      out = _part2_fn(name)(*(_to_jax64(a) for a in args))
    if s.kind == "pair":
      return tuple(np.asarray(o, dtype=np.float64) for o in out)
    if s.kind == "dtw":
      cost, path = out
      return np.asarray(cost, dtype=np.float64), np.asarray(path, dtype=np.int64).reshape(-1, 2)
    return np.asarray(out, dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _expected_cached(name: str, seed: int) -> tuple:
  return tuple(reference(name, c.args) for c in cases(name, seed))


def expected(name: str, seed: int) -> list:
  """reference() for every case of `name` at `seed`, in case order (cached per process)."""
  return list(_expected_cached(name, seed))
