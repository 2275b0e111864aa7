"""docs/authoring.md, done for real: a teacher's record in a tmp --questions folder is graded, handed out and
bundled for Gradescope with no other change to the project."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

QUESTION_TOML = '''\
name = "softsign"
module = "w5_activations"
part = 3
params = ["x"]
title_en = "Softsign"
title_zh = "Softsign 激活函数"

[task]
en = """
Softsign, element by element: x / (1 + |x|).

Shapes: x [...] float32 -> the same shape.
"""
zh = """
逐元素计算 softsign：x / (1 + |x|)。

形状：x [...] float32 -> 形状不变。
"""

[compare]
kind = "array"
rtol = 1e-6
atol = 1e-6
atol_scales_with_input = false
'''

PRIVATE_PY = '''\
import numpy as np

from grader import draw


def visible():
  return [(draw.f32([0, 1, -3]),), (draw.f32([[0.5], [-0.25]]),)]


def hidden(rng):
  shapes = [(0,), (1,), (2, 3), (1, 1, 4)] + [(draw.randint(rng, 1, 6),) for _ in range(4)]
  return [(draw.normal(rng, *s) * 10,) for s in shapes]


def reference(x):
  return x / (1 + np.abs(x))
'''

ANSWER = "import numpy as np\n\ndef softsign(x):\n  return np.asarray(x) / (1 + np.abs(x))\n"

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


def grader(*args, cwd):
  return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], cwd=cwd, capture_output=True,
                        text=True, timeout=600, env=_env(PYTHONPATH=str(ROOT)))


def _total(stdout: str) -> str:
  return stdout.rstrip().splitlines()[-1].split()[-1]


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
  """A teacher's folder with one record (visible.json written by the record builder) and one assignment."""
  d = tmp_path_factory.mktemp("authoring")
  d.chmod(0o755)
  qs = d / "my_questions"
  (qs / "softsign").mkdir(parents=True)
  (qs / "softsign" / "question.toml").write_text(QUESTION_TOML, encoding="utf-8")
  (qs / "softsign" / "private.py").write_text(PRIVATE_PY, encoding="utf-8")
  (qs / "assignments.toml").write_text('[week5]\ntitle = "Week 5"\nquestions = ["encode", "softsign"]\npoints = 10\n')
  proc = subprocess.run([sys.executable, "-m", "grader.questions", "build", "--questions", str(qs)], cwd=d,
                        capture_output=True, text=True, timeout=600, env=_env(PYTHONPATH=str(ROOT)))
  assert proc.returncode == 0 and "softsign" in proc.stdout, proc.stderr[-2000:]
  sub = d / "sub"
  sub.mkdir()
  (sub / "w5_activations.py").write_text(ANSWER)
  (sub / "q5_encoder_decoder.py").write_text("def encode(vector):\n  return [2 * v for v in vector]\n")
  return d, qs, sub


def test_the_new_record_is_graded(teacher):
  d, qs, sub = teacher
  proc = grader(sub, "--questions", qs, "--assignment", "week5", "--sandbox", "plain", "--results", d / "r.json",
                cwd=d)
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert _total(proc.stdout) == "20/20"
  results = json.loads((d / "r.json").read_text())
  assert results["extra_data"]["assignment"] == "week5" and results["score"] == 20
  assert len([t for t in results["tests"] if t["name"].startswith("softsign")]) == 10
  # Without --questions the assignment does not exist: a usage error naming the known ones.
  proc = grader(sub, "--assignment", "week5", "--sandbox", "plain", cwd=d)
  assert proc.returncode == 2 and "no assignment named 'week5'" in proc.stderr


def test_the_new_record_is_handed_out(teacher):
  d, qs, sub = teacher
  out = d / "pack"
  proc = grader("handout", out, "--questions", qs, "--assignment", "week5", cwd=d)
  assert proc.returncode == 0, proc.stderr[-2000:]
  records = sorted(p.relative_to(out / "questions").as_posix() for p in (out / "questions").rglob("*") if p.is_file())
  assert records == ["assignments.toml", "encode/question.toml", "encode/visible.json",
                     "softsign/question.toml", "softsign/visible.json"]
  stub = (out / "exercises" / "w5_activations.py").read_text(encoding="utf-8")   # generated from the record
  assert "def softsign(x):" in stub and "x / (1 + |x|)" in stub and "逐元素计算" in stub
  (out / "mine").mkdir()
  (out / "mine" / "w5_activations.py").write_text(ANSWER)
  for submission, total in (("exercises/", "0/4"), ("mine", "2/4")):
    code = BOOTSTRAP.format(root=str(ROOT), out=str(out))
    proc = subprocess.run([sys.executable, "-I", "-c", code, submission, "--sandbox", "plain"], cwd=out,
                          env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SELF-CHECK" in proc.stdout and _total(proc.stdout) == total, proc.stdout[-2000:]


def test_the_new_record_is_bundled(teacher):
  d, qs, sub = teacher
  proc = grader("gradescope", d / "b.zip", "--questions", qs, "--assignment", "week5", "--seed", "3", cwd=d)
  assert proc.returncode == 0, proc.stderr[-2000:]
  root = d / "autograder"
  with zipfile.ZipFile(d / "b.zip") as zf:
    assert {"extra_questions/0/softsign/private.py", "extra_questions/0/assignments.toml",
            "questions/encode/private.py"} <= set(zf.namelist())
    zf.extractall(root / "source")
  for name in ("run_autograder", "setup.sh"):
    os.chmod(root / "source" / name, stat.S_IRWXU)
  (root / "submission").mkdir()
  for p in sub.iterdir():
    (root / "submission" / p.name).write_bytes(p.read_bytes())
  cache = sorted((root / "source" / "cache").iterdir())
  proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, capture_output=True, text=True,
                        timeout=600, env=_env(AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable))
  assert sorted((root / "source" / "cache").iterdir()) == cache   # the references came from the bundle
  results = json.loads((root / "results" / "results.json").read_text())
  assert results["score"] == 20 and results["extra_data"]["assignment"] == "week5", proc.stdout[-2000:]
