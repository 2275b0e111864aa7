"""The parts of the docs built from the question records: docs/errata.md's table of the article's
printed values, docs/exercises.md's table of functions and tolerances, and exercises/README.md's tables.
`python -m grader.questions build` rewrites them; tests/exercises/test_ex_records.py checks they are current.

Each generated part sits between `<!-- BEGIN records: KEY -->` and `<!-- END records: KEY -->`; the
text around it is written by hand.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from grader import questions as Q

PROJECT = Q.PROJECT_QUESTIONS.parent
ERRATA = PROJECT / "docs" / "errata.md"
EXERCISES_README = PROJECT / "exercises" / "README.md"
CONTRACT = PROJECT / "docs" / "exercises.md"
PART_EN = {1: "Part I", 2: "Part II", 3: "Part III"}
PART_ZH = {1: "第一部分", 2: "第二部分", 3: "第三部分"}


def show(v) -> str:
  """A value as the docs write it: lists with numbers rounded to 8 decimals, a tuple as its parts."""
  if isinstance(v, tuple):
    return " ".join(show(x) for x in v)
  if isinstance(v, np.ndarray):
    v = v.tolist()
  if isinstance(v, list):
    return "[" + ", ".join(_inner(x) for x in v) + "]"
  return _inner(v)


def _inner(x) -> str:
  if isinstance(x, list):
    return "[" + ", ".join(_inner(y) for y in x) + "]"
  if isinstance(x, (bool, int)):
    return str(x)
  return repr(round(float(x), 8))


def _call(q, args) -> str:
  return f"{q.name}({', '.join(show(a) for a in args)})"


def errata_block(questions) -> str:
  """The table of every record with an article's printed value: the call, the print, the correct value."""
  rows = ["| function | the article's call | the article prints | correct output | verdict |", "|---|---|---|---|---|"]
  why = []
  for q in questions:
    if q.printed is None:
      continue
    args, expected = q.visible_cases()[0]
    printed = tuple(q.printed) if q.kind == "pair" else q.printed
    verdict = "**wrong**" if q.erratum_en else "right"
    rows.append(f"| `{q.name}` | `{_call(q, args)}` | `{show(printed)}` | `{show(expected)}` | {verdict} |")
    if q.erratum_en:
      why.append(f"- `{q.name}`: {q.erratum_en}\n  <br>{q.erratum_zh}")
  intro = "The grader's feedback on a wrong one (English, then Chinese):"
  return "\n".join(rows) + f"\n\n{intro}\n\n" + "\n".join(why) + "\n"


def table_block(questions, lang: str) -> str:
  """One row per function: its module, its name and parameters, its part and title."""
  if lang == "en":
    rows = ["| file | function | part | what |", "|---|---|---|---|"]
    rows += [f"| `{q.module}.py` | `{q.signature}` | {PART_EN.get(q.part, q.part)} | {q.title_en} |" for q in questions]
  else:
    rows = ["| 文件 | 函数 | 部分 | 内容 |", "|---|---|---|---|"]
    rows += [f"| `{q.module}.py` | `{q.signature}` | {PART_ZH.get(q.part, q.part)} | {q.title_zh} |" for q in questions]
  return "\n".join(rows) + "\n"


def contract_block(questions) -> str:
  """One row per function of every part: its signature, module, comparison kind and tolerances."""
  rows = ["| function | part | module | kind | rtol | atol |", "|---|---|---|---|---|---|"]
  for q in questions:
    atol = f"{q.atol:g}·s" if q.atol_scales_with_input else f"{q.atol:g}"
    rows.append(f"| `{q.signature}` | {PART_EN.get(q.part, q.part)} | `{q.module}` | {q.kind} | {q.rtol:g} | {atol} |")
  return "\n".join(rows) + "\n"


def _stubbed(questions):
  return [q for q in questions if (PROJECT / "exercises" / f"{q.module}.py").is_file()]


def blocks(catalog) -> dict:
  """{(file, key): generated text} for every generated part of the docs."""
  every = catalog.assignment("all").questions
  return {
    (ERRATA, "errata"): errata_block(every),
    (CONTRACT, "contract"): contract_block(every),
    (EXERCISES_README, "table en"): table_block(_stubbed(every), "en"),
    (EXERCISES_README, "table zh"): table_block(_stubbed(every), "zh"),
  }


def _pattern(key: str):
  k = re.escape(key)
  return re.compile(rf"(<!-- BEGIN records: {k} -->\n)(.*?)(<!-- END records: {k} -->)", re.DOTALL)


def current(path: Path, key: str) -> str:
  """The text now between a generated part's markers (RecordError when the markers are missing)."""
  m = _pattern(key).search(path.read_text(encoding="utf-8"))
  if not m:
    raise Q.RecordError(f"{path}: no <!-- BEGIN records: {key} --> ... <!-- END records: {key} --> markers")
  return m.group(2)


def replace(page: str, key: str, text: str) -> str:
  """`page` with the generated part `key` (markers kept) replaced by `text`."""
  return _pattern(key).sub(lambda m: m.group(1) + text + m.group(3), page, count=1)


def write(path: Path, key: str, text: str) -> bool:
  """Replaces a generated part; True when it changed."""
  if current(path, key) == text:
    return False
  path.write_text(replace(path.read_text(encoding="utf-8"), key, text), encoding="utf-8")
  return True
