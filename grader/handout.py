"""`python -m grader handout OUT_DIR [--assignment NAME] [--questions DIR]`: the student pack.

OUT_DIR/exercises/        the stubs of the assignment's modules and their README
OUT_DIR/questions/        the PUBLIC files of the assignment's records (question.toml, visible.json) and an
                          assignments.toml listing that one assignment; never a record's private.py
OUT_DIR/grader/           a self-check grader: the sandbox, the comparison rules, the feedback, the record
                          loader, and handout.json (the marker that makes it grade visible cases only);
                          no zoo, no solutions, no hidden cases or their generators
OUT_DIR/README.md         how to self-check

A question whose module has no stub in exercises/ (a teacher's own record) gets one generated from its
record: the signature, the task in English and Chinese as the docstring, and a body that raises
NotImplementedError.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from grader.grade import HANDOUT_MARK, HERE, assignment, grader_version

PROJECT = HERE.parent
# The grader's files the self-check needs (cases.py and questions.py read the public records only).
SELF_CHECK_FILES = ("__init__.py", "__main__.py", "grade.py", "report.py", "submission.py", "sandbox.py",
                    "worker.py", "wire.py", "i18n.py", "isolation.py", "compare.py", "outputs.py", "seed.py",
                    "cases.py", "questions.py")
PUBLIC_FILES = ("question.toml", "visible.json")

README = """# Multimodal fusion exercises: the hand-out ({assignment})

`exercises/` holds one module per question, every function still raising `NotImplementedError`.
Implement them, then check your work against the VISIBLE cases:

    python -m grader exercises/

(run it from this folder; it needs Python 3.11+ and numpy, and nbformat for notebooks).
It prints a table with one row per function. This is a SELF-CHECK of the visible cases only
(2 of the 10 points of every function): the hidden cases, drawn at random for the real grading,
are not in this pack. `python -m grader --help` lists the options (`--lang zh` for Chinese feedback).
`questions/<name>/question.toml` holds each function's task, its comparison rule and tolerances;
`questions/<name>/visible.json` its visible cases with their expected values.

This pack is the assignment `{assignment}`: {count} functions, {points} points in the real grading.
You may submit a .py file, a folder, a .zip of the folder, or a Jupyter notebook.
"""

EXERCISES_README = """# Exercises

Implement every function below in the module named; keep the names and the parameters. Each
function's docstring (and `questions/<name>/question.toml`) says exactly what it must return.

| module | function |
|---|---|
{rows}
"""

STUB = '''

def {signature}:
  """{task}"""
  raise NotImplementedError("{name}: write your answer here / 在此实现")
'''


def stub_source(questions) -> str:
  """A stub module generated from records: one function per question, its task as the docstring."""
  parts = ['"""Generated from the question records by `python -m grader handout`."""\n']
  for q in questions:
    task = (q.task_en.strip() + "\n\n" + q.task_zh.strip()).replace('"""', "'''").replace("\\", "\\\\")
    task = "\n".join(("  " + line) if line else "" for line in task.splitlines()).lstrip() + "\n  "
    parts.append(STUB.format(signature=q.signature, task=task, name=q.name))
  return "".join(parts)


def _copy_exercises(dest: Path, questions) -> None:
  dest.mkdir(parents=True)
  by_module: dict = {}
  for q in questions:
    by_module.setdefault(q.module, []).append(q)
  for module, qs in by_module.items():
    src = PROJECT / "exercises" / f"{module}.py"
    if src.is_file():
      shutil.copyfile(src, dest / src.name)
    else:
      (dest / f"{module}.py").write_text(stub_source(qs), encoding="utf-8")
  readme = PROJECT / "exercises" / "README.md"
  if readme.is_file() and all((PROJECT / "exercises" / f"{m}.py").is_file() for m in by_module):
    # The project's README, its tables (generated from the records) cut down to this assignment's functions.
    from grader import record_docs
    text = readme.read_text(encoding="utf-8")
    for lang in ("en", "zh"):
      text = record_docs.replace(text, f"table {lang}", record_docs.table_block(questions, lang))
    (dest / "README.md").write_text(text, encoding="utf-8")
  else:
    rows = "\n".join(f"| `{q.module}.py` | `{q.signature}` |" for q in questions)
    (dest / "README.md").write_text(EXERCISES_README.format(rows=rows), encoding="utf-8")


def _copy_records(dest: Path, a) -> None:
  dest.mkdir(parents=True)
  for q in a.questions:
    (dest / q.name).mkdir()
    for fname in PUBLIC_FILES:
      shutil.copyfile(q.folder / fname, dest / q.name / fname)
  names = ", ".join(json.dumps(q.name) for q in a.questions)
  (dest / "assignments.toml").write_text(
      f"[{a.name}]\ntitle = {json.dumps(a.title, ensure_ascii=False)}\nquestions = [{names}]\npoints = {a.points}\n",
      encoding="utf-8")


def build_handout(out: Path, *, assignment_name: str | None = None, questions_dirs=()) -> None:
  """Writes the hand-out of one assignment into `out` (created)."""
  a = assignment(assignment_name, questions_dirs)
  out.mkdir(parents=True, exist_ok=True)
  _copy_exercises(out / "exercises", a.questions)
  _copy_records(out / "questions", a)
  g = out / "grader"
  g.mkdir()
  for name in SELF_CHECK_FILES:
    shutil.copyfile(HERE / name, g / name)
  mark = {"assignment": a.name, "version": grader_version()}
  (g / HANDOUT_MARK.name).write_text(json.dumps(mark) + "\n", encoding="utf-8")
  (out / "README.md").write_text(README.format(assignment=a.name, count=len(a.questions), points=a.max_points),
                                 encoding="utf-8")
