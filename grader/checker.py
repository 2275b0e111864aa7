"""The self-check: a question's VISIBLE cases run on the student's own code, in this process, on any OS.

Standard library and numpy only, and no POSIX-only API (no signal, select, resource, os.geteuid, no
sandbox): the pack ships this file as `check.py` beside one JSON of the assignment's public records,
and each notebook embeds it. It protects nothing because it needs to protect nothing: the visible
cases and their expected values are already in the student's hands. Real grading keeps the sandbox.

  python check.py [DIR] [--lang zh] [--only NAME]    # DIR: a folder of exercises/*.py or *.ipynb, or one file
  check(name, namespace_or_module, data, lang)       # one question, from Python or a notebook cell

`data` is a question's public record as one dict: question.toml's fields plus visible.json's "cases"
(ENC-encoded, docs/questions.md). The comparison rules mirror the grader's, keyed by the record's kind.
Decision: a `scalar` (and a dtw cost) may come back as a 1-element array, as docs/questions.md says.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import sys
import threading
import traceback
import types
from pathlib import Path

import numpy as np

DATA_FILE = "check_data.json"  # beside check.py in the pack: {"assignment": ..., "questions": [record, ...]}
TIMEOUT_S = 60.0  # per visible case; a self-check call that never returns is reported, not killed
CHECK_ROLES = ("check", "setup")  # notebook cells with metadata.mmzoo.role in these are not the student's code

EN = {
  "banner": (
    "SELF-CHECK of the visible cases only, run on your code in this Python process (no sandbox). "
    "It is not your grade: the hidden cases are graded after you submit."
  ),
  "header": "{name} ({title}): {passed}/{n} visible cases passed",
  "not_implemented": "not implemented (it still raises NotImplementedError)",
  "missing": "missing: no function named {name} was found{where}",
  "missing_where": " in {where}",
  "not_callable": "{name} is not a function (it is {what})",
  "import_error": "importing {path} failed: {error}",
  "unknown_question": "no question named {name}; known: {known}",
  "case": "visible case {k}: {reason}",
  "call": "call:       {call}",
  "expected": "expected:   {value}",
  "got": "got:        {value}",
  "first_diff": "first difference: {diff}",
  "diff_text": "{what} at index {index}: expected {want}, got {got} (difference {delta}; allowed {allowed})",
  "diff_scalar": "{what}: expected {want}, got {got} (difference {delta}; allowed {allowed})",
  "wrong_value": "{what} differs from the expected value beyond the tolerance",
  "skipped": "visible case {k}: not run, after the time limit of an earlier case",
  "erratum": "Your answer equals the value the article printed for this call, a known erratum of the article: {why}",
  "raised": "raised {exc}: {message}",
  "uncomparable": "the answer could not be compared with the expected value ({exc})",
  "raised_at": "raised {exc} at {path}, line {line}: {message}",
  "timeout": (
    "no answer within {seconds:g} s (the call goes on in the background; restart Python or the kernel if it never ends)"
  ),
  "wrong_shape": "{what} has shape {got}, expected {want}",
  "wrong_values": "{nbad} of {n} values of {what} differ from the expected ones beyond the tolerance",
  "not_finite": "{what} holds NaN or infinity where a finite number is expected",
  "ragged": "{what} is ragged (its rows have different lengths)",
  "wrong_type": "{what} is {kind}, not a number or an array of numbers",
  "not_pair": "expected a pair of two sequences (a tuple, a list or a 2×k array), got {kind}",
  "not_tuple": "expected a tuple of {n} arrays, got {kind}",
  "not_dtw": "expected a pair (cost, path), got {kind}",
  "path_shape": "the path must be a non-empty sequence of (i, j) pairs",
  "path_int": "the path's indices must be integers",
  "path_start": "the path must start at (0, 0), not {first}",
  "path_end": "the path must end at (n-1, m-1) = ({n1}, {m1}), not {last}",
  "path_step": "every step of the path must be (1, 0), (0, 1) or (1, 1); the step from {a} to {b} is not",
  "path_cost": "the path is a warping path, but its own cost {own} is not the optimum {want}",
  "what_answer": "the answer",
  "what_pair": "the {k} sequence of the pair",
  "what_item": "item {k} of the tuple",
  "what_cost": "the cost",
  "ord_1": "first",
  "ord_2": "second",
  "kind_seq": "a sequence of length {n}",
  "kind_none": "None",
  "kind_str": "a string",
  "kind_bool": "a bool",
  "kind_dict": "a dict",
  "kind_obj": "an object of type {type}",
  "summary": "total: {passed}/{n} visible cases passed, {done}/{q} questions complete",
  "no_data": "no {file} beside this checker ({path}); run it from the unpacked hand-out",
  "no_target": "{path} does not exist",
  "help_desc": "Self-check: run the visible cases of every question on your exercises, on any OS.",
  "help_dir": "a folder of your exercises (default: exercises/ beside check.py), or one .py or .ipynb file",
  "help_lang": "language of the feedback: en or zh (default: from the locale)",
  "help_only": "check only this question (repeatable)",
  "help_timeout": "seconds allowed per visible case (default {seconds:g})",
  "help_assignment": "the pack's assignment (accepted for the grader's command line; it is the only one here)",
  "other_assignment": "this pack is the assignment {pack}, not {name}: it self-checks that one (--only NAME picks one question)",
}

ZH = {
  "banner": "仅为可见用例的自测（SELF-CHECK）：在当前 Python 进程中直接运行你的代码（没有沙箱）。这不是你的成绩：隐藏用例在提交后评分。",
  "header": "{name}（{title}）：通过 {passed}/{n} 个可见用例",
  "not_implemented": "未实现（仍然抛出 NotImplementedError）",
  "missing": "缺失：没有找到名为 {name} 的函数{where}",
  "missing_where": "（在 {where} 中）",
  "not_callable": "{name} 不是函数（它是{what}）",
  "import_error": "导入 {path} 失败：{error}",
  "unknown_question": "没有名为 {name} 的题目；已有：{known}",
  "case": "可见用例 {k}：{reason}",
  "call": "调用：    {call}",
  "expected": "期望：    {value}",
  "got": "实际：    {value}",
  "first_diff": "第一处差异：{diff}",
  "diff_text": "{what}在下标 {index} 处：期望 {want}，实际 {got}（相差 {delta}；允许 {allowed}）",
  "diff_scalar": "{what}：期望 {want}，实际 {got}（相差 {delta}；允许 {allowed}）",
  "wrong_value": "{what}与期望值的差超出容差",
  "skipped": "可见用例 {k}：未运行，因为之前的用例已超时",
  "erratum": "你的答案等于原文对这次调用打印的值，这是原文的已知勘误：{why}",
  "raised": "抛出 {exc}：{message}",
  "uncomparable": "无法把答案与期望值比较（{exc}）",
  "raised_at": "在 {path} 第 {line} 行抛出 {exc}：{message}",
  "timeout": "{seconds:g} 秒内没有返回结果（调用仍在后台运行；若一直不结束，请重启 Python 或内核）",
  "wrong_shape": "{what}的形状是 {got}，期望 {want}",
  "wrong_values": "{what}的 {n} 个值中有 {nbad} 个与期望值的差超出容差",
  "not_finite": "{what}在应为有限数的位置出现 NaN 或无穷大",
  "ragged": "{what}参差不齐（各行长度不同）",
  "wrong_type": "{what}是{kind}，不是数字或数字数组",
  "not_pair": "期望由两个序列组成的二元组（元组、列表或 2×k 数组），实际是{kind}",
  "not_tuple": "期望由 {n} 个数组组成的元组，实际是{kind}",
  "not_dtw": "期望二元组 (cost, path)，实际是{kind}",
  "path_shape": "路径必须是由 (i, j) 对组成的非空序列",
  "path_int": "路径的下标必须是整数",
  "path_start": "路径必须从 (0, 0) 开始，而不是 {first}",
  "path_end": "路径必须在 (n-1, m-1) = ({n1}, {m1}) 结束，而不是 {last}",
  "path_step": "路径的每一步必须是 (1, 0)、(0, 1) 或 (1, 1)；从 {a} 到 {b} 的一步不是",
  "path_cost": "这是一条规整路径，但它自身的代价 {own} 不是最优值 {want}",
  "what_answer": "答案",
  "what_pair": "二元组的{k}序列",
  "what_item": "元组的第 {k} 项",
  "what_cost": "代价",
  "ord_1": "第一个",
  "ord_2": "第二个",
  "kind_seq": "长度为 {n} 的序列",
  "kind_none": " None",
  "kind_str": "字符串",
  "kind_bool": "布尔值",
  "kind_dict": "字典",
  "kind_obj": " {type} 类型的对象",
  "summary": "合计：通过 {passed}/{n} 个可见用例，完成 {done}/{q} 道题",
  "no_data": "本检查程序旁边没有 {file}（{path}）；请在解压后的资料包中运行",
  "no_target": "{path} 不存在",
  "help_desc": "自测：在任何操作系统上，用每道题的可见用例检查你的练习。",
  "help_dir": "你的练习所在的文件夹（默认：check.py 旁边的 exercises/），或单个 .py / .ipynb 文件",
  "help_lang": "反馈语言：en 或 zh（默认按系统区域设置）",
  "help_only": "只检查这道题（可重复）",
  "help_timeout": "每个可见用例允许的秒数（默认 {seconds:g}）",
  "help_assignment": "资料包的作业（为与评分程序的命令行一致而接受；这里只有这一个作业）",
  "other_assignment": "本资料包是作业 {pack}，不是 {name}：自测只检查这个作业（用 --only NAME 选择一道题）",
}

CATALOG = {"en": EN, "zh": ZH}


def t(lang: str, key: str, **params) -> str:
  """The message `key` in `lang` (English where the language is unknown), filled."""
  return CATALOG.get(lang, EN)[key].format(**params)


def default_lang(environ=None) -> str:
  """zh when the locale says Chinese (LC_ALL, LC_MESSAGES, LANG, LANGUAGE), else en."""
  env = os.environ if environ is None else environ
  for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
    if env.get(var):
      return "zh" if env[var].lower().startswith("zh") else "en"
  return "en"


# ---------------------------------------------------------------------------------------------
# ENC (docs/questions.md), decoded with the standard library and numpy.

_DTYPES = frozenset(
  ["bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16", "float32", "float64"]
)


def _dec_nested(x):
  if isinstance(x, list):
    return [_dec_nested(v) for v in x]
  return dec(x) if isinstance(x, dict) else x


def dec(x):
  """One ENC value as Python and numpy data."""
  if isinstance(x, list):
    return [dec(v) for v in x]
  if not isinstance(x, dict):
    return x
  if set(x) == {"float"}:
    return float(x["float"])
  if set(x) == {"tuple"}:
    return tuple(dec(v) for v in x["tuple"])
  if set(x) == {"dict"}:
    return {k: dec(v) for k, v in x["dict"].items()}
  if set(x) == {"ndarray", "dtype", "shape"} and x["dtype"] in _DTYPES:
    return np.array(_dec_nested(x["ndarray"]), dtype=x["dtype"]).reshape(x["shape"])
  raise ValueError(f"not an ENC value: a dict with keys {sorted(x)}")


# ---------------------------------------------------------------------------------------------
# Showing values: rounded to 6 significant digits, long sequences elided.

SHOW_ITEMS = 8  # a sequence longer than this shows its first 3 and last 2 items
SHOW_CHARS = 400  # a value's text is cut here


def _num(v) -> str:
  if isinstance(v, (bool, np.bool_)):
    return str(bool(v))
  if isinstance(v, (int, np.integer)):
    return str(int(v))
  v = float(v)
  if math.isnan(v) or math.isinf(v):
    return str(v)
  return format(v, ".6g")


def _seq(items: list, show, open_: str, close: str) -> str:
  if len(items) > SHOW_ITEMS:
    parts = [show(v) for v in items[:3]] + ["..."] + [show(v) for v in items[-2:]]
  else:
    parts = [show(v) for v in items]
  if open_ == "(" and len(items) == 1:
    parts[0] += ","
  return open_ + ", ".join(parts) + close


def _nested(a: np.ndarray) -> str:
  """An array's values, nested; only the items shown are read (a huge answer costs nothing)."""
  if a.ndim == 0:
    return _num(a.item())
  n = a.shape[0]
  if n > SHOW_ITEMS:
    return "[" + ", ".join([_nested(a[i]) for i in range(3)] + ["..."] + [_nested(a[i]) for i in (n - 2, n - 1)]) + "]"
  return "[" + ", ".join(_nested(a[i]) for i in range(n)) + "]"


def show(x) -> str:
  """A value as a student reads it: numbers to 6 significant digits, long sequences elided."""
  s = _show(x, 0)
  return s if len(s) <= SHOW_CHARS else s[: SHOW_CHARS - 3] + "..."


def _show(x, depth: int) -> str:
  if depth > 6:
    return "..."
  if type(x).__module__.startswith("jax") and hasattr(x, "shape"):
    x = np.asarray(x)
  if isinstance(x, np.ndarray):
    if x.dtype.kind not in "biuf":
      return f"array(dtype={x.dtype})"
    body = _nested(x)
    return f"array({body}, shape={tuple(x.shape)}, {x.dtype.name})"
  if isinstance(x, (list, tuple)):
    return _seq(list(x), lambda v: _show(v, depth + 1), *("[]" if isinstance(x, list) else "()"))
  if isinstance(x, dict):
    return "{" + ", ".join(f"{k!r}: {_show(v, depth + 1)}" for k, v in x.items()) + "}"
  if isinstance(x, (int, float, np.integer, np.floating, np.bool_)):
    return _num(x)
  try:
    return repr(x)
  except Exception:  # noqa: BLE001 — a student's object may fail to print
    return f"<{type(x).__name__}>"


def show_call(name: str, params, args) -> str:
  """`name(p1=..., p2=...)` with the case's arguments shown."""
  names = [p.split("=")[0] for p in params]
  parts = [f"{names[i]}={show(a)}" if i < len(names) else show(a) for i, a in enumerate(args)]
  return f"{name}({', '.join(parts)})"


# ---------------------------------------------------------------------------------------------
# Comparison by kind. A failure is (key, params, first_diff) with message keys of the catalog; the
# `what` of a message is itself a (key, params) pair, rendered in the failure's language.


class Fail(Exception):
  """A wrong answer: the message key and its parameters, and the first difference where there is one."""

  def __init__(self, key: str, first_diff=None, **params):
    super().__init__(key)
    self.key, self.params, self.first_diff = key, params, first_diff

  def text(self, lang: str) -> str:
    return render(lang, (self.key, self.params))


def render(lang: str, v):
  """A (key, params) message, its params rendered the same way first; any other value as itself."""
  if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], str) and isinstance(v[1], dict):
    return t(lang, v[0], **{k: render(lang, p) for k, p in v[1].items()})
  return v


def _kind_of(x):
  if x is None:
    return ("kind_none", {})
  if isinstance(x, str):
    return ("kind_str", {})
  if isinstance(x, (bool, np.bool_)):
    return ("kind_bool", {})
  if isinstance(x, dict):
    return ("kind_dict", {})
  if isinstance(x, (list, tuple)):
    return ("kind_seq", {"n": len(x)})
  return ("kind_obj", {"type": type(x).__name__})


def _bool_inside(x, depth=0) -> bool:
  if isinstance(x, (bool, np.bool_)):
    return True
  if isinstance(x, (list, tuple)) and depth < 32:
    return any(_bool_inside(v, depth + 1) for v in x)
  return False


def as_array(x, what) -> np.ndarray:
  """The student's value as a float64 array; Fail where it is not numbers."""
  if type(x).__module__.startswith("jax") and hasattr(x, "shape"):
    x = np.asarray(x)
  if isinstance(x, np.ndarray):
    if x.dtype.kind not in "iuf":
      raise Fail("wrong_type", what=what, kind=("kind_obj", {"type": f"array of {x.dtype}"}))
    return x.astype(np.float64)
  if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
    return np.asarray(x, dtype=np.float64)
  if not isinstance(x, (list, tuple)) or _bool_inside(x):
    raise Fail("wrong_type", what=what, kind=_kind_of(x))
  try:
    return np.asarray([np.asarray(v) if type(v).__module__.startswith("jax") else v for v in x], dtype=np.float64)
  except ValueError as e:
    if "inhomogeneous" in str(e) or "sequence" in str(e):
      raise Fail("ragged", what=what) from None
    raise Fail("wrong_type", what=what, kind=_kind_of(x)) from None
  except TypeError:
    raise Fail("wrong_type", what=what, kind=_kind_of(x)) from None


def _index(i: tuple) -> str:
  return "[" + ", ".join(str(int(k)) for k in i) + "]" if i else "()"


def compare_values(want, got, rtol: float, atol: float, what=("what_answer", {}), scalar=False) -> None:
  """Raises Fail unless every |got − want| ≤ atol + rtol·|want| with equal shapes and the same NaN/inf."""
  want = np.asarray(want, dtype=np.float64)
  got = as_array(got, what)
  if scalar and want.ndim == 0 and got.size == 1:
    got = got.reshape(())
  if got.shape != want.shape:
    raise Fail("wrong_shape", what=what, got=tuple(got.shape), want=tuple(want.shape))
  with np.errstate(all="ignore"):
    finite = np.isfinite(want)
    same_special = np.where(np.isnan(want), np.isnan(got), got == want)
    allowed = atol + rtol * np.abs(want)
    good = np.where(finite, np.isfinite(got) & (np.abs(got - want) <= allowed), same_special)
  if good.all():
    return
  i = tuple(int(k) for k in np.argwhere(~good)[0]) if want.ndim else ()
  w, g = float(want[i]), float(got[i])
  first = (
    "diff_text" if want.ndim else "diff_scalar",
    {
      "what": what,
      "index": _index(i),
      "want": format(w, ".8g"),
      "got": format(g, ".8g"),
      "delta": format(abs(g - w), ".3g") if math.isfinite(g - w) else str(g - w),
      "allowed": format(float(allowed[i]), ".3g"),
    },
  )
  if np.any(finite & ~np.isfinite(got)):
    raise Fail("not_finite", first, what=what)
  if not want.ndim:
    raise Fail("wrong_value", first, what=what)
  raise Fail("wrong_values", first, what=what, nbad=int((~good).sum()), n=int(good.size))


def _pair_parts(got):
  if isinstance(got, (tuple, list)) and len(got) == 2:
    return got
  if type(got).__module__.startswith("jax") and hasattr(got, "shape"):
    got = np.asarray(got)
  if isinstance(got, np.ndarray) and got.ndim >= 1 and got.shape[0] == 2:
    return got[0], got[1]
  raise Fail("not_pair", kind=_kind_of(got))


def _path_cost(x, y, path) -> float:
  d = x[path[:, 0]] - y[path[:, 1]]
  return float(np.sqrt((d * d).sum(axis=1)).sum())


def _compare_dtw(args, want, got, rtol, atol) -> None:
  if not (isinstance(got, (tuple, list)) and len(got) == 2):
    raise Fail("not_dtw", kind=_kind_of(got))
  want_cost = np.asarray(want[0], dtype=np.float64).reshape(())
  compare_values(want_cost, got[0], rtol, atol, ("what_cost", {}), scalar=True)
  x = np.asarray(args[0], dtype=np.float64)
  y = np.asarray(args[1], dtype=np.float64)
  try:
    path = as_array(got[1], ("what_answer", {}))
  except Fail:
    raise Fail("path_shape") from None
  if path.ndim != 2 or path.shape[1] != 2 or path.shape[0] == 0:
    raise Fail("path_shape")
  if not (np.isfinite(path).all() and (path == np.round(path)).all()):
    raise Fail("path_int")
  p = path.astype(np.int64)
  n, m = x.shape[0], y.shape[0]
  if tuple(p[0]) != (0, 0):
    raise Fail("path_start", first=tuple(int(v) for v in p[0]))
  if tuple(p[-1]) != (n - 1, m - 1):
    raise Fail("path_end", n1=n - 1, m1=m - 1, last=tuple(int(v) for v in p[-1]))
  steps = np.diff(p, axis=0)
  ok = (steps == (1, 0)).all(1) | (steps == (0, 1)).all(1) | (steps == (1, 1)).all(1)
  if not ok.all():
    k = int(np.argmin(ok))
    raise Fail("path_step", a=tuple(int(v) for v in p[k]), b=tuple(int(v) for v in p[k + 1]))
  own = _path_cost(x, y, p)
  if abs(own - float(want_cost)) > atol + rtol * abs(float(want_cost)):
    raise Fail("path_cost", own=format(own, ".8g"), want=format(float(want_cost), ".8g"))


def _max_abs(x, depth=0) -> float:
  if isinstance(x, np.ndarray):
    return float(np.max(np.abs(x))) if x.size and x.dtype.kind in "iuf" else 0.0
  if isinstance(x, (list, tuple)) and depth < 32:
    return max((_max_abs(v, depth + 1) for v in x), default=0.0)
  if isinstance(x, dict) and depth < 32:
    return max((_max_abs(v, depth + 1) for v in x.values()), default=0.0)
  if isinstance(x, (int, float)) and not isinstance(x, bool):
    return abs(float(x))
  return 0.0


def tolerance(record: dict, args) -> tuple[float, float]:
  """(rtol, atol) of a case: the record's, atol times max(1, largest |input value|) where it says so."""
  c = record["compare"]
  atol = float(c["atol"])
  if c.get("atol_scales_with_input", False):
    atol *= max(1.0, _max_abs(args))
  return float(c["rtol"]), atol


def compare(record: dict, args, want, got) -> None:
  """Raises Fail unless `got` is right for the case, by the record's comparison kind."""
  rtol, atol = tolerance(record, args)
  kind = record["compare"]["kind"]
  if kind == "pair":
    parts = _pair_parts(got)
    for k in range(2):
      compare_values(want[k], parts[k], rtol, atol, ("what_pair", {"k": (f"ord_{k + 1}", {})}))
  elif kind == "tuple":
    if not (isinstance(got, (tuple, list)) and len(got) == len(want)):
      raise Fail("not_tuple", n=len(want), kind=_kind_of(got))
    for k in range(len(want)):
      compare_values(want[k], got[k], rtol, atol, ("what_item", {"k": k}))
  elif kind == "dtw":
    _compare_dtw(args, want, got, rtol, atol)
  elif kind in ("array", "scalar"):
    compare_values(want, got, rtol, atol, scalar=kind == "scalar")
  else:
    raise ValueError(f"unknown comparison kind {kind!r}")


def is_erratum(record: dict, case_index: int, args, got) -> bool:
  """The answer to the article's own call (the first visible case) equals its printed, wrong, value."""
  err = record.get("erratum") or {}
  if case_index != 0 or err.get("printed") is None or not err.get("en"):
    return False
  rtol, atol = tolerance(record, args)
  try:
    got = _pair_parts(got) if record["compare"]["kind"] == "pair" else got
    compare_values(
      np.asarray(err["printed"], dtype=np.float64), list(got) if isinstance(got, tuple) else got, rtol, atol
    )
    return True
  except Exception:  # noqa: BLE001 — anything that is not the printed value is not the erratum
    return False


# ---------------------------------------------------------------------------------------------
# Running a case with a timeout (a daemon thread: no signal, so any thread and any OS).


def run_with_timeout(fn, args, seconds: float):
  """("ok", value) | ("raised", exc) | ("timeout", None)."""
  box = {}

  def target():
    try:
      box["out"] = ("ok", fn(*args))
    except BaseException as e:  # noqa: BLE001 — the student's exception is the feedback
      box["out"] = ("raised", e)

  th = threading.Thread(target=target, name="mmzoo-self-check", daemon=True)
  th.start()
  th.join(seconds)
  return box.get("out", ("timeout", None))


def _copy_args(args):
  """Fresh copies, so a function that changes its inputs in place does not change the shown call."""
  return tuple(_copy(a) for a in args)


def _copy(x):
  if isinstance(x, np.ndarray):
    return x.copy()
  if isinstance(x, list):
    return [_copy(v) for v in x]
  if isinstance(x, tuple):
    return tuple(_copy(v) for v in x)
  if isinstance(x, dict):
    return {k: _copy(v) for k, v in x.items()}
  return x


def _this_file() -> str:
  return _this_file.__code__.co_filename


_THIS = _this_file()  # this checker's frames are left out of a traceback (its name differs in the pack)


def _raised_text(lang: str, e: BaseException) -> str:
  message = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
  frames = traceback.extract_tb(e.__traceback__)
  own = [f for f in frames if f.filename != _THIS]
  if own:
    f = own[-1]
    return t(lang, "raised_at", exc=type(e).__name__, path=Path(f.filename).name, line=f.lineno, message=message)
  return t(lang, "raised", exc=type(e).__name__, message=message)


class Result:
  """One question's self-check: passed/total and the lines printed."""

  def __init__(self, name: str, n: int):
    self.name, self.n, self.passed, self.state, self.lines = name, n, 0, "checked", []

  @property
  def complete(self) -> bool:
    return self.state == "checked" and self.passed == self.n

  def __repr__(self):
    return f"Result({self.name!r}, {self.passed}/{self.n}, {self.state})"


def _lookup(name, where):
  if isinstance(where, dict):
    return where.get(name)
  return getattr(where, name, None)


def check_record(record: dict, fn, lang: str = "en", timeout: float = TIMEOUT_S, where: str = "") -> Result:
  """Runs one question's visible cases on `fn` (None: missing) and collects the feedback lines."""
  name = record["name"]
  cases = [(tuple(dec(a) for a in c["args"]), dec(c["expected"])) for c in record["cases"]]
  res = Result(name, len(cases))
  title = record.get("title_zh" if lang == "zh" else "title_en") or name
  body = []
  if fn is None:
    res.state = "missing"
    body.append(t(lang, "missing", name=name, where=t(lang, "missing_where", where=where) if where else ""))
  elif not callable(fn):
    res.state = "missing"
    body.append(t(lang, "not_callable", name=name, what=t(lang, *_kind_of(fn))))
  timed_out = False
  for k, (args, want) in enumerate(cases if res.state == "checked" else []):
    if timed_out:  # a call that never ends goes on in its thread: do not start another beside it
      body.append(t(lang, "skipped", k=k + 1))
      continue
    status, got = run_with_timeout(fn, _copy_args(args), timeout)
    timed_out = status == "timeout"
    if status == "raised" and isinstance(got, NotImplementedError):
      res.state = "not_implemented"
      body = [t(lang, "not_implemented")]
      break
    lines = []
    if status == "timeout":
      reason = t(lang, "timeout", seconds=timeout)
    elif status == "raised":
      reason = _raised_text(lang, got)
    else:
      try:
        compare(record, args, want, got)
        res.passed += 1
        continue
      except Fail as f:
        reason = f.text(lang)
        if f.first_diff:
          lines.append(t(lang, "first_diff", diff=render(lang, f.first_diff)))
        if is_erratum(record, k, args, got):
          err = record["erratum"]
          lines.append(t(lang, "erratum", why=err.get("zh" if lang == "zh" else "en") or err["en"]))
      except Exception as e:  # noqa: BLE001 — an answer this checker cannot read is feedback, not a crash
        reason = t(lang, "uncomparable", exc=type(e).__name__)
    shown = [
      t(lang, "call", call=show_call(name, record.get("params", ()), args)),
      t(lang, "expected", value=show(want)),
    ]
    if status == "ok":
      shown.append(t(lang, "got", value=show(got)))
    body.append(t(lang, "case", k=k + 1, reason=reason))
    body += ["  " + ln for ln in shown + lines]
  if res.state == "checked" and res.complete:
    body = []  # the header says it all
  res.lines = [t(lang, "header", name=name, title=title, passed=res.passed, n=res.n)] + ["  " + ln for ln in body]
  return res


def emit(text: str, stream=None) -> None:
  """Prints `text` so that any console encoding survives it (a GBK console gets '?' for what it lacks)."""
  stream = stream or sys.stdout
  enc = getattr(stream, "encoding", None) or "utf-8"
  try:
    text.encode(enc)
  except (UnicodeEncodeError, LookupError):
    text = (
      text.encode(enc, errors="replace").decode(enc, errors="replace")
      if _known(enc)
      else text.encode("ascii", errors="replace").decode("ascii")
    )
  stream.write(text + "\n")
  stream.flush()


def _known(enc: str) -> bool:
  try:
    "".encode(enc)
    return True
  except LookupError:
    return False


def check(
  name: str, where, data: dict, lang: str | None = None, timeout: float = TIMEOUT_S, stream=None, banner: bool = True
) -> Result:
  """Self-checks question `name` on the function of that name in `where` (a namespace dict or a module)."""
  lang = lang if lang in CATALOG else default_lang()
  records = {data["name"]: data} if "cases" in data else data  # one record, or {name: record}
  record = records.get(name)
  if record is None:
    emit(t(lang, "unknown_question", name=name, known=", ".join(sorted(records))), stream)
    res = Result(name, 0)
    res.state = "unknown"
    return res
  if banner:
    emit(t(lang, "banner"), stream)
  res = check_record(record, _lookup(name, where), lang, timeout)
  emit("\n".join(res.lines), stream)
  return res


# ---------------------------------------------------------------------------------------------
# Reading the student's files: .py modules, and notebooks' code cells (standard library only).


def _is_ipython_line(s: str) -> bool:
  """A line magic (%...), a shell line (!...), a help line (x? / ?x) or `y = !cmd` / `y = %magic`."""
  import re

  return (
    s.startswith(("%", "!"))
    or bool(re.match(r"^(\?\??[\w.]*|[\w.]+\?\??)$", s))
    or bool(re.match(r"^[\w.,\s()\[\]]+=\s*[!%]", s))
  )


def cell_to_python(src: str) -> str:
  """One code cell as plain Python: IPython magics and shell lines left out, line count kept."""
  import ast

  lines = src.split("\n")
  if lines and lines[0].lstrip().startswith("%%"):
    return "\n".join("# [left out: cell magic] " + ln for ln in lines)
  try:
    ast.parse(src)
    return src
  except (SyntaxError, ValueError):
    pass
  out = []
  for ln in lines:
    s = ln.lstrip()
    if s and _is_ipython_line(s):
      indent = ln[: len(ln) - len(s)]
      out.append(f"{indent}pass  # [left out] {s}" if indent else f"# [left out] {s}")
    else:
      out.append(ln)
  return "\n".join(out)


def cell_role(cell: dict) -> str | None:
  """The builder's tag of a notebook cell ("check", "setup"), None for the student's own cells."""
  meta = cell.get("metadata") or {}
  tag = meta.get("mmzoo") if isinstance(meta, dict) else None
  return tag.get("role") if isinstance(tag, dict) else None


def _source(cell: dict) -> str:
  src = cell.get("source", "")
  return "".join(src) if isinstance(src, list) else str(src)


def notebook_code(nb: dict) -> str:
  """A notebook's own code: its code cells in order, without the builder's check and setup cells and magics."""
  parts = []
  for i, cell in enumerate(nb.get("cells", []), 1):
    if cell.get("cell_type") != "code" or cell_role(cell) in CHECK_ROLES:
      continue
    parts.append(f"# cell {i}\n{cell_to_python(_source(cell))}")
  return "\n\n".join(parts) + "\n"


def load_file(path: Path):
  """A student's .py or .ipynb as a module object (imported with its folder on sys.path)."""
  path = Path(path).resolve()
  folder = str(path.parent)
  if folder not in sys.path:
    sys.path.insert(0, folder)
  modname = "_mmzoo_student_" + hashlib.sha256(str(path).encode()).hexdigest()[:10] + "_" + path.stem
  if path.suffix == ".ipynb":
    nb = json.loads(path.read_text(encoding="utf-8-sig"))
    mod = types.ModuleType(modname)
    mod.__file__ = str(path)
    sys.modules[modname] = mod
    exec(compile(notebook_code(nb), str(path), "exec"), mod.__dict__)  # noqa: S102 — the student's own code
    return mod
  spec = importlib.util.spec_from_file_location(modname, path)
  mod = importlib.util.module_from_spec(spec)
  sys.modules[modname] = mod
  spec.loader.exec_module(mod)
  return mod


def _source_for(folder: Path, module: str) -> Path | None:
  """exercises/<module>.py, else exercises/<module>.ipynb (a .py beats a notebook)."""
  for ext in (".py", ".ipynb"):
    p = folder / (module + ext)
    if p.is_file():
      return p
  return None


def _error_text(e: BaseException) -> str:
  frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename != _THIS]
  where = f" ({Path(frames[-1].filename).name}, line {frames[-1].lineno})" if frames else ""
  if isinstance(e, SyntaxError) and e.lineno:
    where = f" ({Path(e.filename or '?').name}, line {e.lineno})"
  msg = str(e).splitlines()[0][:200] if str(e) else ""
  return f"{type(e).__name__}{where}: {msg}" if msg else f"{type(e).__name__}{where}"


def check_folder(target: Path, records: list, lang: str, timeout: float = TIMEOUT_S, stream=None) -> list:
  """Self-checks every record on the student's files under `target` (a folder, or one .py/.ipynb)."""
  target = Path(target)
  if target.is_dir() and (target / "exercises").is_dir():
    target = target / "exercises"
  emit(t(lang, "banner"), stream)
  loaded: dict = {}
  results = []
  for record in records:
    path = target if target.is_file() else _source_for(target, record.get("module", ""))
    fn, where = None, str(path or target / (record.get("module", "?") + ".py"))
    if path is not None:
      if path not in loaded:
        try:
          loaded[path] = load_file(path)
        except BaseException as e:  # an import error (even SystemExit) is feedback, not a crash
          if isinstance(e, KeyboardInterrupt):
            raise
          loaded[path] = e
          emit(t(lang, "import_error", path=path.name, error=_error_text(e)), stream)
      mod = loaded[path]
      fn = None if isinstance(mod, BaseException) else _lookup(record["name"], mod)
      where = path.name
    res = check_record(record, fn, lang, timeout, where=where)
    emit("\n".join(res.lines), stream)
    results.append(res)
  n = sum(r.n for r in results)
  emit(
    "\n"
    + t(
      lang, "summary", passed=sum(r.passed for r in results), n=n, done=sum(r.complete for r in results), q=len(results)
    ),
    stream,
  )
  return results


# ---------------------------------------------------------------------------------------------
# The pack's files: a manifest of their hashes, so the real grader ignores them by content.


def file_digest(data: bytes) -> str:
  """sha256 of a file's bytes, CRLF read as LF (a checkout on Windows may have rewritten line ends)."""
  return hashlib.sha256(data.replace(b"\r\n", b"\n")).hexdigest()


def pack_manifest(files) -> dict:
  """{relative path: sha256} of the pack's own files: a folder (every file under it), or {rel: Path | bytes}."""
  if isinstance(files, (str, Path)):
    root = Path(files)
    files = {
      p.relative_to(root).as_posix(): p for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts
    }
  return {rel: file_digest(v if isinstance(v, bytes) else Path(v).read_bytes()) for rel, v in sorted(files.items())}


def is_pack_file(path_or_bytes, manifest: dict) -> bool:
  """True when a file's content is one of the pack's own files (wherever it was moved or renamed)."""
  data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
  return file_digest(data) in set(manifest.values())


# ---------------------------------------------------------------------------------------------
# The command line: `python check.py [DIR]`.


def _lang_from_argv(argv) -> str:
  for i, a in enumerate(argv):
    if a == "--lang" and i + 1 < len(argv):
      return argv[i + 1]
    if a.startswith("--lang="):
      return a.split("=", 1)[1]
  return default_lang()


def _stdout_replacing():
  """Never a UnicodeEncodeError on a console that lacks a character (GBK on a Chinese Windows)."""
  try:
    sys.stdout.reconfigure(errors="replace")
  except (AttributeError, ValueError):
    pass


def main(argv=None, data_file: Path | None = None) -> int:
  """`python check.py [DIR] [--lang en|zh] [--only NAME] [--timeout S]`; exit 0 when every visible case passes."""
  _stdout_replacing()
  argv = sys.argv[1:] if argv is None else list(argv)
  lang = _lang_from_argv(argv)
  lang = lang if lang in CATALOG else "en"
  here = Path(__file__).resolve().parent
  p = argparse.ArgumentParser(prog="python check.py", description=t(lang, "help_desc"))
  p.add_argument("dir", nargs="?", default=None, help=t(lang, "help_dir"))
  p.add_argument("--lang", choices=sorted(CATALOG), default=lang, help=t(lang, "help_lang"))
  p.add_argument("--only", action="append", default=[], metavar="NAME", help=t(lang, "help_only"))
  p.add_argument("--timeout", type=float, default=TIMEOUT_S, help=t(lang, "help_timeout", seconds=TIMEOUT_S))
  p.add_argument("--assignment", default=None, metavar="NAME", help=t(lang, "help_assignment"))
  args = p.parse_args(argv)
  data_file = Path(data_file) if data_file else here / DATA_FILE
  if not data_file.is_file():
    emit(t(lang, "no_data", file=DATA_FILE, path=data_file), sys.stderr)
    return 2
  data = json.loads(data_file.read_text(encoding="utf-8"))
  if args.assignment not in (None, data.get("assignment")):
    emit(t(lang, "other_assignment", pack=data.get("assignment"), name=args.assignment), sys.stderr)
    return 2
  records = [r for r in data["questions"] if not args.only or r["name"] in args.only]
  for name in args.only:
    if name not in {r["name"] for r in data["questions"]}:
      emit(t(lang, "unknown_question", name=name, known=", ".join(r["name"] for r in data["questions"])))
      return 2
  target = Path(args.dir) if args.dir else here / "exercises"
  if not target.exists():
    emit(t(lang, "no_target", path=target), sys.stderr)
    return 2
  results = check_folder(target, records, lang, args.timeout)
  return 0 if all(r.complete for r in results) else 1


if __name__ == "__main__":
  sys.exit(main())
