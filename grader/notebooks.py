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
SETUP_TITLE = {
  "en": "Setup: the self-check and the visible cases (run this cell first; no need to read it)",
  "zh": "准备：自测程序和可见用例（请先运行此单元格；无需阅读）",
}
INTRO = {
  "en": (
    "# {title}\n\nImplement each function in its code cell, then run the cell below it: `check(\"name\")` "
    "runs that question's VISIBLE cases on your code in this kernel and shows what differs. It is a "
    "self-check, not your grade: the hidden cases are graded after you submit. Run the first cell "
    "once before the others. You may submit this notebook as it is: only your own code cells are "
    "graded (the setup and check cells are left out)."
  ),
  "zh": (
    "# {title}\n\n在每个代码单元格中实现对应的函数，然后运行它下面的单元格：`check(\"name\")` 会在本内核中用"
    "该题的可见用例运行你的代码，并指出哪里不同。这只是自测，不是你的成绩：隐藏用例在提交后评分。"
    "请先运行第一个单元格。可以直接提交本笔记本：只有你自己的代码单元格会被评分（准备单元格和检查单元格不计）。"
  ),
}
SHAPES_NOTE = {
  "en": "Parameters: `{params}`; module in the pack: `exercises/{module}.py`.",
  "zh": "参数：`{params}`；资料包中的模块：`exercises/{module}.py`。",
}


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
  (out / checker.DATA_FILE).write_text(
    json.dumps(pack_data(records, assignment), ensure_ascii=False, indent=1), encoding="utf-8"
  )
  return [out / "check.py", out / checker.DATA_FILE]


PACK_README = {
  "en": """# The hand-out of `{assignment}`: {count} functions, {points} points

Write each function in `exercises/<module>.py` (or in the notebook `{assignment}_en.ipynb`), then
self-check it on the VISIBLE cases, on Windows, macOS or Linux, with Python 3.11+ and numpy only:

    python check.py                 # every question, on exercises/
    python check.py my_work.ipynb   # or on one notebook or .py file
    python check.py --only NAME     # one question; --lang zh for Chinese; --help for the rest
    python -m grader exercises/     # the same self-check, by the command older packs used

A failed visible case shows the call, the expected value, your value and the first difference, and
names the article's erratum where your answer repeats it. In a notebook, run `check("NAME")`.
This is a SELF-CHECK, run on your code without a sandbox: it is not your grade. The hidden cases
(8 of the 10 points of each function) are graded after you submit. Submit your exercises/ folder,
a .zip of it, or the notebook; the pack's own files (check.py, check_data.json, grader/, the
untouched notebooks) are recognised by their content and never graded, so submitting the whole
pack folder is safe. The pack holds no copy of the real grader or of its sandbox, which is for
the real grading only.
""",
  "zh": """# `{assignment}` 作业资料包：{count} 个函数，共 {points} 分

在 `exercises/<模块>.py`（或笔记本 `{assignment}_zh.ipynb`）中实现每个函数，然后用可见用例自测；
Windows、macOS、Linux 均可，只需 Python 3.11+ 和 numpy：

    python check.py                 # 检查 exercises/ 中的每道题
    python check.py my_work.ipynb   # 或检查单个笔记本或 .py 文件
    python check.py --only NAME     # 只检查一道题；--lang en 显示英文；--help 查看其余选项
    python -m grader exercises/     # 同一个自测（旧版资料包的命令）

未通过的可见用例会显示调用、期望值、你的结果和第一处差异；若你的答案重复了原文的错误，会指出这条勘误。
在笔记本中运行 `check("NAME")` 即可。这只是自测（SELF-CHECK），直接运行你的代码、没有沙箱，不是你的成绩：
隐藏用例（每个函数 10 分中的 8 分）在提交后评分。可以提交 exercises/ 文件夹、它的 .zip 或笔记本；
资料包自带的文件（check.py、check_data.json、grader/、未改动的笔记本）按内容识别，永远不会被当作你的作业评分，
因此提交整个资料包文件夹也没有问题。本资料包不含真正评分程序的沙箱：沙箱只用于正式评分。
""",
}


def pack_readme(assignment: str, count: int, points: int) -> str:
  """The pack's README.md in both languages (the pack cannot know its reader's), English first."""
  return "\n".join(PACK_README[lang].format(assignment=assignment, count=count, points=points) for lang in ("en", "zh"))


STUDENT_FOLDERS = ("exercises",)  # the stubs are the student's to edit: never in the manifest


def handout_manifest(out) -> dict:
  """The manifest of a built pack: every file but the stubs (check.py, its data, the notebooks, README...).
  An untouched pack notebook must be in it: read as a module it would define every stub again."""
  out = Path(out)
  return checker.pack_manifest(
    {
      p.relative_to(out).as_posix(): p
      for p in sorted(out.rglob("*"))
      if p.is_file() and "__pycache__" not in p.parts and p.relative_to(out).parts[0] not in STUDENT_FOLDERS
    }
  )


# ---------------------------------------------------------------------------------------------
# Building a notebook.


def has_nbformat() -> bool:
  """Whether nbformat can be imported (the notebooks' builder and the grader's notebook reader need it)."""
  import importlib.util

  return importlib.util.find_spec("nbformat") is not None


def _nbformat():
  import nbformat  # builder side only (the grader's environment has it); the checker needs none

  return nbformat


def stub_code(record: dict) -> str:
  """The stub cell: the def with the record's params, raising NotImplementedError."""
  name = record["name"]
  return (
    f"def {name}({', '.join(record['params'])}):\n"
    f"  raise NotImplementedError(\"{name}: write your answer here / 在此实现\")\n"
  )


def setup_code(records: list, lang: str) -> str:
  """The setup cell: the checker's source and the visible data as string literals, and `check(name)`."""
  data = {r["name"]: r for r in records}
  return "\n".join(
    [
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
    ]
  )


def _tag(cell, role: str, name: str | None = None):
  cell.metadata["mmzoo"] = {"role": role, **({"question": name} if name else {})}
  return cell


def build_notebook(records: list, lang: str, title: str | None = None):
  """One notebook (nbformat v4) for the records of an assignment, in `lang` ("en" or "zh")."""
  nbf = _nbformat().v4
  cells = [nbf.new_markdown_cell(INTRO[lang].format(title=title or "Exercises"))]
  setup = _tag(nbf.new_code_cell(setup_code(records, lang)), "setup")
  setup.metadata["jupyter"] = {"source_hidden": True}  # JupyterLab folds it; Colab shows the #@title form
  setup.metadata["cellView"] = "form"
  cells.append(setup)
  for r in records:
    task = (r["task"]["zh" if lang == "zh" else "en"]).strip()
    head = r.get("title_zh" if lang == "zh" else "title_en") or r["name"]
    note = SHAPES_NOTE[lang].format(params=", ".join(r["params"]), module=r.get("module", ""))
    cells.append(
      _tag(nbf.new_markdown_cell(f"## `{r['name']}`: {head}\n\n{note}\n\n```text\n{task}\n```"), "task", r["name"])
    )
    cells.append(nbf.new_code_cell(stub_code(r)))
    cells.append(_tag(nbf.new_code_cell(f'check("{r["name"]}")'), "check", r["name"]))
  for i, cell in enumerate(cells):
    # Fixed ids (nbformat draws random ones): the same records build the same bytes, so the grader's
    # manifest of the pack (handout_manifest) recognises an untouched notebook by its content.
    cell["id"] = f"mmzoo-{i:03d}"
  nb = nbf.new_notebook(cells=cells)
  nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
  nb.metadata["language_info"] = {"name": "python"}
  nb.metadata["mmzoo"] = {"lang": lang, "questions": [r["name"] for r in records]}
  return nb


def write_notebooks(out, records: list, assignment: str, title: str | dict | None = None) -> list:
  """Writes <assignment>_en.ipynb and <assignment>_zh.ipynb into `out`; returns their paths.
  `title`: one for both, or {"en": ..., "zh": ...} (default: the assignment's name)."""
  nbformat = _nbformat()
  out = Path(out)
  out.mkdir(parents=True, exist_ok=True)
  paths = []
  for lang in ("en", "zh"):
    nb = build_notebook(records, lang, (title.get(lang) if isinstance(title, dict) else title) or assignment)
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
