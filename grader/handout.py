"""`python -m grader handout OUT_DIR [--assignment NAME] [--questions DIR]`: the student pack.

OUT_DIR/exercises/        the stubs of the assignment's modules and their README
OUT_DIR/questions/        the PUBLIC files of the assignment's records (question.toml, visible.json) and an
                          assignments.toml listing that one assignment; never a record's private.py
OUT_DIR/check.py          the self-check (grader/checker.py): standard library and numpy, any OS, no sandbox
OUT_DIR/check_data.json   the assignment's public records in one file (the checker's data)
OUT_DIR/<a>_en.ipynb, <a>_zh.ipynb   the notebooks, built from the records, each with its own checker
OUT_DIR/grader/           two small files so that `python -m grader exercises/` still works: it runs check.py
OUT_DIR/README.md         how to self-check, in English and Chinese

Decision (issue 14): the pack no longer ships the grader's package (sandbox, isolation, worker). The
self-check runs the student's own code on cases already in their hands, so it protects nothing and needs
no sandbox; the sandbox's modules do not even import on Windows (signal.SIGXCPU, select on pipes,
os.geteuid). `python -m grader` in the pack is a two-file shim that runs check.py and says it is a
self-check; the real grader recognises every file of the pack by its content (`pack_digests`) and never
grades it, so a student who submits the whole pack folder is graded on their own modules only.

A question whose module has no stub in exercises/ (a teacher's own record) gets one generated from its
record: the signature, the task in English and Chinese as the docstring, and a body that raises
NotImplementedError.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
from pathlib import Path

from grader import notebooks
from grader.grade import HERE, assignment

PROJECT = HERE.parent
PUBLIC_FILES = ("question.toml", "visible.json")

# The pack's `grader` package: `python -m grader [DIR] [--lang zh] ...` is `python check.py ...`. Neither file
# is empty (an empty file's digest would match every empty __init__.py a student submits).
SHIM_INIT = '"""The hand-out\'s self-check: `python -m grader exercises/` runs ../check.py (see README.md)."""\n'
SHIM_MAIN = '''"""`python -m grader [DIR] [--lang zh] [--only NAME]` in the hand-out: the self-check, i.e. `python check.py`."""
import runpy
import sys
from pathlib import Path

CHECK = Path(__file__).resolve().parent.parent / "check.py"
sys.argv = [str(CHECK)] + sys.argv[1:]
runpy.run_path(str(CHECK), run_name="__main__")
'''

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
    encoding="utf-8",
  )


def build_handout(out: Path, *, assignment_name: str | None = None, questions_dirs=(), with_notebooks=True) -> list:
  """Writes the hand-out of one assignment into `out` (created); returns the notebooks written.

  Without nbformat (or with_notebooks=False) the notebooks are left out; everything else is written.
  """
  a = assignment(assignment_name, questions_dirs)
  out.mkdir(parents=True, exist_ok=True)
  _copy_exercises(out / "exercises", a.questions)
  _copy_records(out / "questions", a)
  records = [notebooks.public_record(q.folder) for q in a.questions]
  for r, q in zip(records, a.questions):
    r.setdefault("module", q.module)
  notebooks.write_self_check(out, records, a.name)
  g = out / "grader"
  g.mkdir()
  (g / "__init__.py").write_text(SHIM_INIT, encoding="utf-8")
  (g / "__main__.py").write_text(SHIM_MAIN, encoding="utf-8")
  (out / "README.md").write_text(notebooks.pack_readme(a.name, len(a.questions), a.max_points), encoding="utf-8")
  written = []
  if with_notebooks and notebooks.has_nbformat():
    title = {"en": a.title or a.name, "zh": a.title or a.name}
    written = notebooks.write_notebooks(out, records, a.name, title)
  return written


@functools.lru_cache(maxsize=8)
def _pack_digests(assignment_name, questions_dirs: tuple) -> frozenset:
  with tempfile.TemporaryDirectory(prefix="grader-pack-") as d:
    build_handout(Path(d) / "pack", assignment_name=assignment_name, questions_dirs=questions_dirs)
    return frozenset(notebooks.handout_manifest(Path(d) / "pack").values())


def pack_digests(assignment_name: str | None = None, questions_dirs=()) -> frozenset:
  """The sha256 digests of the hand-out's own files (check.py, the notebooks, the shim...), the pack of this
  assignment as built now from the records: files of a submission with one of them are the pack's, not the
  student's, and are not graded. Built once per process and assignment."""
  return _pack_digests(assignment_name, tuple(str(Path(q).resolve()) for q in questions_dirs))
