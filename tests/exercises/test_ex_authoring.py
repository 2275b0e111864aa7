"""docs/authoring.md, done for real: its files, written into a tmp folder, make a teacher's record that is
graded, handed out and bundled for Gradescope with no other change to the project."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
from cli_run import run_grader as grader

ROOT = Path(__file__).resolve().parents[2]


def _files_of(page: Path) -> dict[str, str]:
  """The page's fenced code blocks whose first line is `# <path>`: {path: text}."""
  out = {}
  for block in re.findall(r"```(?:toml|python)\n(.*?)```", page.read_text(encoding="utf-8"), re.DOTALL):
    first, _, _rest = block.partition("\n")
    if first.startswith("# ") and "/" in first:
      out[first[2:].strip()] = block
  return out


FILES = _files_of(ROOT / "docs" / "authoring.md")


# Runs a hand-out's own grader with nothing of the project in reach (no editable install, no project path).
BOOTSTRAP = textwrap.dedent("""
  import runpy, sys
  sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
  sys.path[:] = ["."] + [p for p in sys.path if not p.startswith({root!r}) or p.startswith(sys.prefix)]
  import grader
  assert grader.__file__.startswith({out!r}), grader.__file__
  sys.argv = ["python -m grader"] + sys.argv[1:]
  runpy.run_module("grader", run_name="__main__", alter_sys=True)
""")


def _env(**extra):
  e = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "PYTHONPATH", "LC_ALL", "LANGUAGE")}
  return dict(e, LANG="C.UTF-8", **extra)


def _total(stdout: str) -> str:
  """'2/4' from the grader's last line ('total ... 2/4') or the self-check's ('total: 2/4 visible cases passed, ...')."""
  last = stdout.rstrip().splitlines()[-1]
  m = re.match(r"total: (\d+/\d+) visible", last)
  return m.group(1) if m else last.split()[-1]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
  """A teacher's folder with one record (visible.json written by the record builder) and one assignment."""
  d = tmp_path_factory.mktemp("authoring")
  d.chmod(0o755)
  assert set(FILES) == {
    "my_questions/softsign/question.toml",
    "my_questions/softsign/private.py",
    "my_questions/assignments.toml",
    "submission/w5_activations.py",
  }
  for rel, text in FILES.items():
    (d / rel).parent.mkdir(parents=True, exist_ok=True)
    (d / rel).write_text(text, encoding="utf-8")
  qs = d / "my_questions"
  proc = subprocess.run(
    [sys.executable, "-m", "grader.questions", "build", "--questions", str(qs)],
    cwd=d,
    check=False,
    capture_output=True,
    text=True,
    timeout=600,
    env=_env(PYTHONPATH=str(ROOT)),
  )
  assert proc.returncode == 0 and "softsign" in proc.stdout, proc.stderr[-2000:]
  sub = d / "submission"
  (sub / "q5_encoder_decoder.py").write_text("def encode(vector):\n  return [2 * v for v in vector]\n")
  return d, qs, sub


def test_the_new_record_is_graded(teacher):
  d, qs, sub = teacher
  proc = grader(
    sub,
    "--questions",
    qs,
    "--assignment",
    "week5",
    "--sandbox",
    "plain",
    "--allow-plain",
    "--results",
    d / "r.json",
    cwd=d,
  )
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert _total(proc.stdout) == "20/20"
  results = json.loads((d / "r.json").read_text())
  assert results["extra_data"]["assignment"] == "week5" and results["score"] == 20
  assert len([t for t in results["tests"] if t["name"].startswith("softsign")]) == 10
  # Without --questions the assignment does not exist: a usage error naming the known ones.
  proc = grader(sub, "--assignment", "week5", "--sandbox", "plain", "--allow-plain", cwd=d)
  assert proc.returncode == 2 and "no assignment named 'week5'" in proc.stderr


def test_the_new_record_is_handed_out(teacher):
  d, qs, _sub = teacher
  out = d / "pack"
  proc = grader("handout", out, "--questions", qs, "--assignment", "week5", cwd=d)
  assert proc.returncode == 0, proc.stderr[-2000:]
  records = sorted(p.relative_to(out / "questions").as_posix() for p in (out / "questions").rglob("*") if p.is_file())
  assert records == [
    "assignments.toml",
    "encode/question.toml",
    "encode/visible.json",
    "softsign/question.toml",
    "softsign/visible.json",
  ]
  stub = (out / "exercises" / "w5_activations.py").read_text(encoding="utf-8")  # generated from the record
  assert "def softsign(x):" in stub and "x / (1 + |x|)" in stub and "逐元素计算" in stub
  (out / "mine").mkdir()
  (out / "mine" / "w5_activations.py").write_text(FILES["submission/w5_activations.py"])
  for submission, total in (("exercises/", "0/4"), ("mine", "2/4")):
    code = BOOTSTRAP.format(root=str(ROOT), out=str(out))
    proc = subprocess.run(
      [sys.executable, "-I", "-c", code, submission],
      cwd=out,
      env=_env(),
      check=False,
      capture_output=True,
      text=True,
      timeout=600,
    )
    assert proc.returncode == 1, proc.stderr[-2000:]  # the self-check exits 1 until every visible case passes
    assert "SELF-CHECK" in proc.stdout and _total(proc.stdout) == total, proc.stdout[-2000:]


def test_the_new_record_is_bundled(teacher):
  d, qs, sub = teacher
  proc = grader("gradescope", d / "b.zip", "--questions", qs, "--assignment", "week5", "--allow-weak-seed", cwd=d)
  assert proc.returncode == 0, proc.stderr[-2000:]
  root = d / "autograder"
  with zipfile.ZipFile(d / "b.zip") as zf:
    assert {
      "extra_questions/0/softsign/private.py",
      "extra_questions/0/assignments.toml",
      "questions/encode/private.py",
    } <= set(zf.namelist())
    zf.extractall(root / "source")
  for name in ("run_autograder", "setup.sh"):
    os.chmod(root / "source" / name, stat.S_IRWXU)
  (root / "submission").mkdir()
  for p in sub.iterdir():
    (root / "submission" / p.name).write_bytes(p.read_bytes())
  cache = sorted((root / "source" / "cache").iterdir())
  proc = subprocess.run(
    [str(root / "source" / "run_autograder")],
    cwd=root,
    check=False,
    capture_output=True,
    text=True,
    timeout=600,
    env=_env(AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable),
  )
  assert sorted((root / "source" / "cache").iterdir()) == cache  # the references came from the bundle
  results = json.loads((root / "results" / "results.json").read_text())
  assert results["score"] == 20 and results["extra_data"]["assignment"] == "week5", proc.stdout[-2000:]
