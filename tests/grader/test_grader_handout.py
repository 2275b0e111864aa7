"""The student hand-out (its self-check runs without the zoo, the solutions or any hidden case) and the
Gradescope bundle (its run_autograder grades a fake /autograder tree)."""

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cli_run import run_grader as grader_cli

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "answers_f64"

# Runs the hand-out's grader with nothing of the project in reach: no editable-install finder, no project
# folder on sys.path; it fails loudly if the zoo, the solutions or the project's grader are importable.
BOOTSTRAP = """
import runpy, sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path[:] = [p for p in sys.path if not p.startswith({root!r}) or p.startswith(sys.prefix)]
sys.path.insert(0, ".")
for name in ("zoo", "solutions"):
  try:
    __import__(name)
    raise SystemExit(f"{{name}} is importable: the self-check must not need it")
  except ImportError:
    pass
import grader
assert grader.__file__.startswith({out!r}), grader.__file__
sys.argv = ["python -m grader"] + sys.argv[1:]
runpy.run_module("grader", run_name="__main__", alter_sys=True)
"""


def env():
  e = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "PYTHONPATH")}
  e["LANG"] = "C.UTF-8"
  return e


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
  d = tmp_path_factory.mktemp("handout")
  d.chmod(0o755)
  out = d / "pack"
  proc = grader_cli("handout", out, cwd=d)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return out


def self_check(out, submission):
  code = BOOTSTRAP.format(root=str(ROOT), out=str(out))
  return subprocess.run(
    [sys.executable, "-I", "-c", code, str(submission)], cwd=out, env=env(), capture_output=True, text=True, timeout=600
  )


def test_the_pack_holds_stubs_visible_cases_the_checker_and_notebooks_but_no_answers(handout):
  from grader import cases as C

  stubs = sorted(p.name for p in (handout / "exercises").glob("*.py"))
  assert stubs == sorted(f"{m}.py" for m in C.MODULES)
  assert (handout / "exercises" / "README.md").is_file() and (handout / "README.md").is_file()
  files = {p.relative_to(handout).as_posix() for p in handout.rglob("*") if p.is_file()}
  assert not any(f.startswith(("zoo/", "solutions/", "tests/")) for f in files)
  # The self-check and its data, the notebooks, and a two-file `grader` shim: none of the real grader.
  assert {"check.py", "check_data.json", "core_en.ipynb", "core_zh.ipynb"} <= files
  assert {f for f in files if f.startswith("grader/")} == {"grader/__init__.py", "grader/__main__.py"}
  assert (handout / "check.py").read_bytes() == (ROOT / "grader" / "checker.py").read_bytes()
  # The records' public files only: never a private.py (hidden generators, references).
  records = {f for f in files if f.startswith("questions/")}
  assert records == {"questions/assignments.toml"} | {
    f"questions/{n}/{f}" for n in C.NAMES for f in ("question.toml", "visible.json")
  }
  data = json.loads((handout / "check_data.json").read_text(encoding="utf-8"))
  assert data["assignment"] == "core" and [r["name"] for r in data["questions"]] == list(C.NAMES)
  for n in C.NAMES:
    assert (handout / "questions" / n / "visible.json").read_bytes() == (
      ROOT / "questions" / n / "visible.json"
    ).read_bytes()
    vis = json.loads((handout / "questions" / n / "visible.json").read_text())
    assert vis["name"] == n and len(vis["cases"]) == 2
  readme = (handout / "README.md").read_text(encoding="utf-8")
  assert "python check.py" in readme and "自测" in readme and "SELF-CHECK" in readme


def test_the_self_check_grades_the_visible_cases_only_and_says_so(handout, tmp_path):
  proc = self_check(handout, "exercises/")
  assert proc.returncode == 1, proc.stderr[-3000:]
  assert "SELF-CHECK of the visible cases only" in proc.stdout and "no sandbox" in proc.stdout
  assert proc.stdout.rstrip().splitlines()[-1] == "total: 0/34 visible cases passed, 0/17 questions complete"
  assert "not implemented" in proc.stdout
  mine = handout / "mine"
  shutil.copytree(ANSWERS, mine)
  proc = self_check(handout, "mine")
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert proc.stdout.rstrip().splitlines()[-1] == "total: 34/34 visible cases passed, 17/17 questions complete"


def test_the_pack_s_grader_has_no_instructor_commands(handout):
  proc = self_check(handout, "gradescope")  # read as a folder of exercises, which does not exist
  assert proc.returncode == 2 and "gradescope does not exist" in proc.stderr
  assert not (handout / "gradescope").exists()


def test_submitting_the_whole_pack_grades_only_the_student_s_modules(handout, tmp_path):
  """The pack folder with the answers in exercises/: full marks; check.py, the notebooks and the grader shim
  are the pack's (known by content) and not graded; a student's own grader.py of other content is."""
  sub = tmp_path / "pack"
  shutil.copytree(handout, sub, ignore=shutil.ignore_patterns("mine"))
  for p in ANSWERS.glob("*.py"):
    shutil.copy(p, sub / "exercises" / p.name)
  shutil.copy(handout / "check.py", sub / "exercises" / "helpers_copy.py")  # moved and renamed: still the pack's
  (sub / "grader.py").write_text("def encode(vector):\n  return [2.0 * v for v in vector]\n", encoding="utf-8")
  sub.chmod(0o755)
  results = tmp_path / "results.json"
  proc = grader_cli(sub, "--sandbox", "plain", "--allow-plain", "--results", results, cwd=tmp_path)
  assert proc.returncode == 0, proc.stderr[-3000:]
  data = json.loads(results.read_text(encoding="utf-8"))
  assert data["score"] == 170, data["output"]
  for name in (
    "check.py",
    "core_en.ipynb",
    "core_zh.ipynb",
    "grader/__main__.py",
    "grader/__init__.py",
    "exercises/helpers_copy.py",
  ):
    assert f"{name} is one of the hand-out's own files" in proc.stdout, proc.stdout
  assert "grader.py is one of" not in proc.stdout
  # The student's own grader.py was read: its encode clashes with exercises/q5's (same answer, so 10/10).
  assert "grader.py" in next(ln for ln in proc.stdout.splitlines() if ln.startswith("encode "))


def test_handout_refuses_a_folder_that_is_not_empty(tmp_path):
  (tmp_path / "x").mkdir()
  (tmp_path / "x" / "keep.txt").write_text("mine")
  assert grader_cli("handout", tmp_path / "x", cwd=tmp_path).returncode == 2
  assert (tmp_path / "x" / "keep.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
  d = tmp_path_factory.mktemp("gradescope")
  d.chmod(0o755)
  (d / "seed").write_text("0")
  proc = grader_cli("gradescope", d / "autograder.zip", "--seed-file", d / "seed", "--allow-weak-seed", cwd=d)
  assert proc.returncode == 0, proc.stderr[-3000:]
  return d / "autograder.zip"


def fake_autograder(bundle, root: Path, submission_files):
  """A /autograder tree as Gradescope makes it: source/ (the bundle), submission/, results/."""
  with zipfile.ZipFile(bundle) as zf:
    zf.extractall(root / "source")
    for info in zf.infolist():
      mode = info.external_attr >> 16
      if mode & stat.S_IXUSR:
        os.chmod(root / "source" / info.filename, 0o755)
  (root / "submission").mkdir()
  for p in submission_files:
    shutil.copy(p, root / "submission")
  e = dict(env(), AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable)
  cache_before = sorted((root / "source" / "cache").iterdir())
  proc = subprocess.run(
    [str(root / "source" / "run_autograder")], cwd=root, env=e, capture_output=True, text=True, timeout=600
  )
  assert sorted((root / "source" / "cache").iterdir()) == cache_before  # references came from the bundle
  return proc, json.loads((root / "results" / "results.json").read_text())


def test_the_bundle_holds_what_gradescope_runs(bundle):
  with zipfile.ZipFile(bundle) as zf:
    names = set(zf.namelist())
    modes = {i.filename: i.external_attr >> 16 for i in zf.infolist()}
    assert {
      "setup.sh",
      "run_autograder",
      "requirements.txt",
      "grader_seed",
      "grader/cases.py",
      "zoo/reference.py",
    } <= names
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert any(n.startswith("cache/references-") for n in names)
    assert not any(n.startswith(("solutions/", "tests/", "exercises/")) for n in names)
    assert "jax" in zf.read("requirements.txt").decode()
    assert "bubblewrap" in zf.read("setup.sh").decode()


def test_run_autograder_grades_a_fake_autograder_tree(bundle, tmp_path):
  root = tmp_path / "autograder"
  root.mkdir()
  root.chmod(0o755)
  proc, results = fake_autograder(bundle, root, sorted(ANSWERS.glob("*.py")))
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert results["score"] == 170 and len(results["tests"]) == 170
  assert "isolation: " in proc.stdout and "isolation: " in results["output"]


def test_run_autograder_writes_results_for_an_empty_submission(bundle, tmp_path):
  root = tmp_path / "autograder"
  root.mkdir()
  root.chmod(0o755)
  proc, results = fake_autograder(bundle, root, [])
  assert proc.returncode == 0
  assert results["score"] == 0 and "no Python file" in results["output"]
