"""Issue 12, section 6: stale, misleading or runaway runs. The batch cache keyed on every option that
changes a result, --force and --regrade, a syntax error named on the rows it hides, and output paths
checked before any grading (no temporary file left)."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import isolation
from grader.batch import grading_key, run_batch
from grader.grade import grade_submission
from grader.outputs import write_json
from grader.report import results_json, table
from grader.sandbox import Limits

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "hostile"))
import rosters  # tests/hostile/rosters.py

MODE = isolation.detect("auto")


@pytest.fixture(scope="module")
def caseset():
  return rosters.small_caseset()


def cli(*args, cwd):
  env = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
  env.update(LANG="C.UTF-8", PYTHONPATH=str(ROOT))
  return subprocess.run(
    [sys.executable, "-m", "grader", *map(str, args)],
    cwd=cwd,
    env=env,
    capture_output=True,
    text=True,
    timeout=300,
    check=False,
  )


def test_a_rerun_regrades_when_any_option_changes(tmp_path, caseset):
  r = tmp_path / "roster"
  r.mkdir()
  (r / "alice.py").write_text(rosters.HONEST_TIME_ALIGN)
  (r / "bob.py").write_text(rosters.HONEST_TIME_ALIGN)
  out = tmp_path / "out"

  def run(**kw):
    args = {"workers": 2, "seed": caseset.seed, "mode": MODE, "lang": "en", "caseset": caseset}
    args.update(kw)
    return run_batch(r, out, **args)["graded"]

  assert run() == 2
  assert run() == 0  # nothing changed: reused
  assert run(lang="zh") == 2
  assert run(lang="zh") == 0
  assert run(lang="zh", hidden_visibility="after_due_date") == 2
  assert run(lang="zh", hidden_visibility="after_due_date", limits=Limits(call_wall_s=7)) == 2
  assert run(lang="zh", hidden_visibility="after_due_date", limits=Limits(call_wall_s=7), import_timeout=9) == 2
  same = {"lang": "zh", "hidden_visibility": "after_due_date", "limits": Limits(call_wall_s=7), "import_timeout": 9}
  assert run(**same) == 0
  assert run(**same, force=True) == 2
  assert run(**same, regrade=["alice"]) == 1  # by student id
  assert run(**same, regrade=["bob.py"]) == 1  # by the entry's file name
  with pytest.raises(ValueError, match="nobody"):
    run(**same, regrade=["nobody"])
  (r / "bob.py").write_text(rosters.HONEST_TIME_ALIGN + "# edited\n")
  assert run(**same) == 1


def test_the_key_holds_the_seed_the_mode_and_the_case_set(tmp_path, caseset):
  entry = tmp_path / "alice.py"
  entry.write_text(rosters.HONEST_TIME_ALIGN)
  options = {"lang": "en", "mode": "bwrap"}
  base = grading_key(entry, caseset, "v1", options)
  assert grading_key(entry, caseset, "v1", dict(options)) == base
  # A case set names its seed by the fingerprint only (grader.seed): another seed, another fingerprint.
  assert grading_key(entry, dataclasses.replace(caseset, fingerprint=caseset.fingerprint + "x"), "v1", options) != base
  assert grading_key(entry, dataclasses.replace(caseset, key=caseset.key + "K2"), "v1", options) != base
  assert grading_key(entry, caseset, "v2", options) != base
  assert grading_key(entry, caseset, "v1", dict(options, mode="plain")) != base
  assert grading_key(entry, caseset, "v1", dict(options, variant=1)) != base


def test_a_syntax_error_names_the_module_on_every_row_it_hides(tmp_path, caseset):
  two = rosters.small_caseset(("time_align", "feature_align"))
  sub = tmp_path / "sub"
  sub.mkdir()
  (sub / "a_good.py").write_text(rosters.HONEST_TIME_ALIGN)
  (sub / "b_broken.py").write_text("import numpy as np\n\ndef feature_align(A, B)\n  return A, B\n")
  report = grade_submission(sub, two, mode=MODE)
  scores = {f.name: f.score for f in report.functions}
  assert scores == {"time_align": 10, "feature_align": 0}
  text = table(report, "en")
  want = "not found; module b_broken.py failed to import: SyntaxError (line 3)"
  assert want in text, text
  assert "missing: no top-level function" not in text
  tests = results_json(report, "en")["tests"]
  # The visible cases say why; a hidden case says one word of the vocabulary (test_trust_feedback).
  rows = [t for t in tests if t["name"].startswith("feature_align")]
  assert all(want in t["output"] if "visible" in t["name"] else t["output"] == "not run" for t in rows)


def test_results_pointing_at_a_folder_is_refused_before_grading(tmp_path):
  sub = tmp_path / "hw.py"
  sub.write_text(rosters.HONEST_TIME_ALIGN)
  folder = tmp_path / "res"
  folder.mkdir()
  proc = cli(sub, "--results", folder, "--lang", "en", cwd=tmp_path)
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert "is a folder" in proc.stderr and "time_align" not in proc.stdout  # nothing was graded
  assert not list(tmp_path.rglob(".tmp-*"))
  blocker = tmp_path / "file.txt"
  blocker.write_text("x")
  proc = cli(sub, "--results", blocker / "results.json", "--lang", "en", cwd=tmp_path)
  assert proc.returncode == 2 and "--results" in proc.stderr, proc.stderr[-2000:]
  proc = cli(sub, "--results", sub, "--lang", "en", cwd=tmp_path)  # would overwrite the submission
  assert proc.returncode == 2 and sub.read_text() == rosters.HONEST_TIME_ALIGN, proc.stderr[-2000:]


def test_batch_outputs_and_names_are_checked_before_grading(tmp_path):
  r = tmp_path / "roster"
  r.mkdir()
  (r / "alice.py").write_text(rosters.HONEST_TIME_ALIGN)
  not_a_folder = tmp_path / "out.txt"
  not_a_folder.write_text("x")
  proc = cli("--batch", r, "--out", not_a_folder, cwd=tmp_path)
  assert proc.returncode == 2 and "--out" in proc.stderr, proc.stderr[-2000:]
  proc = cli("--batch", r, "--out", tmp_path / "out", "--regrade", "nobody", cwd=tmp_path)
  assert proc.returncode == 2 and "nobody" in proc.stderr, proc.stderr[-2000:]
  assert not (tmp_path / "out" / "gradebook.csv").exists()
  proc = cli("--batch", r, "--out", r / "out", cwd=tmp_path)  # would be a student on the next run
  assert proc.returncode == 2 and "--out" in proc.stderr and not (r / "out").exists(), proc.stderr[-2000:]
  proc = cli(r / "alice.py", "--force", cwd=tmp_path)
  assert proc.returncode == 2 and "--batch" in proc.stderr


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
  target = tmp_path / "results.json"
  target.mkdir()
  with pytest.raises(OSError):
    write_json(target, {"score": 1})
  assert [p.name for p in tmp_path.iterdir()] == ["results.json"]
