"""Notebooks built from the question records: one per assignment and language, each with its own checker.

Per question: a markdown cell (title, task, shapes), a code cell with the stub, and a check cell
`check("name")` tagged metadata.mmzoo = {"role": "check", "question": name}. The first cell (role
"setup") embeds grader/checker.py's source and the visible data, so a lone .ipynb works in Colab with
numpy alone and no network. `submission_source` turns a finished notebook back into the student's code.

Also the pack's data: `public_record(folder)` (question.toml + visible.json as one dict, the `data` of
checker.check) and `write_self_check(out, records, assignment)` (check.py + check_data.json).
"""
from __future__ import annotations

import json
import shutil
import tomllib
from pathlib import Path

from grader import checker

CHECKER_SOURCE = Path(checker.__file__)
SETUP_TITLE = {"en": "Setup: the self-check and the visible cases (run this cell first; no need to read it)",
               "zh": "准备：自测程序和可见用例（请先运行此单元格；无需阅读）"}
INTRO = {
    "en": ("# {title}\n\nImplement each function in its code cell, then run the cell below it: `check(\"name\")` "
           "runs that question's VISIBLE cases on your code in this kernel and shows what differs. It is a "
           "self-check, not your grade: the hidden cases are graded after you submit. Run the first cell "
           "once before the others. You may submit this notebook as it is: only your own code cells are "
           "graded (the setup and check cells are left out)."),
    "zh": ("# {title}\n\n在每个代码单元格中实现对应的函数，然后运行它下面的单元格：`check(\"name\")` 会在本内核中用"
           "该题的可见用例运行你的代码，并指出哪里不同。这只是自测，不是你的成绩：隐藏用例在提交后评分。"
           "请先运行第一个单元格。可以直接提交本笔记本：只有你自己的代码单元格会被评分（准备单元格和检查单元格不计）。"),
}
SHAPES_NOTE = {"en": "Parameters: `{params}`; module in the pack: `exercises/{module}.py`.",
               "zh": "参数：`{params}`；资料包中的模块：`exercises/{module}.py`。"}


# ---------------------------------------------------------------------------------------------
# Public records as plain data.

def public_record(folder) -> dict:
  """question.toml's fields plus visible.json's "cases" (still ENC-encoded), as one JSON-able dict."""
  folder = Path(folder)
  with open(folder / "question.toml", "rb") as f:
    record = tomllib.load(f)
  record["cases"] = json.loads((folder / "visible.json").read_text(encoding="utf-8"))["cases"]
  return record


def pack_data(records: list, assignment: str) -> dict:
  """check_data.json: the assignment's public records, in order."""
  return {"assignment": assignment, "questions": list(records)}


def write_self_check(out, records: list, assignment: str) -> list:
  """Writes the pack's check.py (this project's checker) and check_data.json into `out`; returns their paths."""
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  shutil.copyfile(CHECKER_SOURCE, out / "check.py")
  (out / checker.DATA_FILE).write_text(json.dumps(pack_data(records, assignment), ensure_ascii=False, indent=1),
                                       encoding="utf-8")
  return [out / "check.py", out / checker.DATA_FILE]


# ---------------------------------------------------------------------------------------------
# Building a notebook.

def _nbformat():
  import nbformat  # builder side only (the grader's environment has it); the checker needs none
  return nbformat


def stub_code(record: dict) -> str:
  """The stub cell: the def with the record's params, raising NotImplementedError."""
  name = record["name"]
  return (f"def {name}({', '.join(record['params'])}):\n"
          f"  raise NotImplementedError(\"{name}: write your answer here / 在此实现\")\n")


def setup_code(records: list, lang: str) -> str:
  """The setup cell: the checker's source and the visible data as string literals, and `check(name)`."""
  data = {r["name"]: r for r in records}
  return "\n".join([
      f"#@title {SETUP_TITLE[lang]}",
      "import sys as _sys, types as _types, json as _json",
      "_mmzoo = _types.ModuleType('mmzoo_check')",
      "_sys.modules['mmzoo_check'] = _mmzoo",
      f"exec(compile({CHECKER_SOURCE.read_text(encoding='utf-8')!r}, '<mmzoo-check>', 'exec'), _mmzoo.__dict__)",
      f"_MMZOO_DATA = _json.loads({json.dumps(data, ensure_ascii=False)!r})",
      "",
      f"def check(name, lang={lang!r}):",
      "  \"\"\"Self-check: run question `name`'s visible cases on the function of that name in this notebook.\"\"\"",
      "  _mmzoo.check(name, globals(), _MMZOO_DATA, lang, banner=False)",
      "",
      f"print(_mmzoo.t({lang!r}, 'banner'))",
      "",
  ])


def _tag(cell, role: str, name: str | None = None):
  cell.metadata["mmzoo"] = {"role": role, **({"question": name} if name else {})}
  return cell


def build_notebook(records: list, lang: str, title: str | None = None):
  """One notebook (nbformat v4) for the records of an assignment, in `lang` ("en" or "zh")."""
  nbf = _nbformat().v4
  cells = [nbf.new_markdown_cell(INTRO[lang].format(title=title or "Exercises"))]
  setup = _tag(nbf.new_code_cell(setup_code(records, lang)), "setup")
  setup.metadata["jupyter"] = {"source_hidden": True}   # JupyterLab folds it; Colab shows the #@title form
  setup.metadata["cellView"] = "form"
  cells.append(setup)
  for r in records:
    task = (r["task"]["zh" if lang == "zh" else "en"]).strip()
    head = r.get("title_zh" if lang == "zh" else "title_en") or r["name"]
    note = SHAPES_NOTE[lang].format(params=", ".join(r["params"]), module=r.get("module", ""))
    cells.append(_tag(nbf.new_markdown_cell(f"## `{r['name']}`: {head}\n\n{note}\n\n```text\n{task}\n```"),
                      "task", r["name"]))
    cells.append(nbf.new_code_cell(stub_code(r)))
    cells.append(_tag(nbf.new_code_cell(f'check("{r["name"]}")'), "check", r["name"]))
  nb = nbf.new_notebook(cells=cells)
  nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
  nb.metadata["language_info"] = {"name": "python"}
  nb.metadata["mmzoo"] = {"lang": lang, "questions": [r["name"] for r in records]}
  return nb


def write_notebooks(out, records: list, assignment: str, title: str | None = None) -> list:
  """Writes <assignment>_en.ipynb and <assignment>_zh.ipynb into `out`; returns their paths."""
  nbformat = _nbformat()
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  paths = []
  for lang in ("en", "zh"):
    nb = build_notebook(records, lang, title or assignment)
    nbformat.validate(nb)
    path = out / f"{assignment}_{lang}.ipynb"
    nbformat.write(nb, str(path))
    paths.append(path)
  return paths


# ---------------------------------------------------------------------------------------------
# Reading a finished notebook back as a submission.

def submission_source(nb) -> str:
  """The student's code in a notebook (a dict, an nbformat node or its JSON text): code cells only,
  the builder's setup and check cells (by metadata tag, not text) and IPython magics left out."""
  if isinstance(nb, (str, bytes)):
    nb = json.loads(nb)
  return checker.notebook_code(nb)
