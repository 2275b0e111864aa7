"""`python -m grader --batch`: a roster with good, partial and broken entries, the gradebook, and re-runs
that re-grade only what changed."""

import csv
import json
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest
from cli_run import run_grader

from grader import cases as C
from grader import isolation

ROOT = Path(__file__).resolve().parents[2]
ANSWERS = ROOT / "tests" / "answers_f64"
NAMES = C.NAMES  # the default assignment's 17, in contract order (test_ex_cases checks them against the contract)


def batch(roster, out, cwd):
  return run_grader(
    "--batch",
    str(roster),
    "--out",
    str(out),
    "--workers",
    "2",
    "--sandbox",
    isolation.detect("auto"),
    "--allow-plain",
    cwd=cwd,
  )


def gradebook(out):
  with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:  # written with a BOM
    return list(csv.reader(f))


@pytest.fixture(scope="module")
def roster(tmp_path_factory):
  d = tmp_path_factory.mktemp("batch")
  d.chmod(0o755)
  r = d / "roster"
  r.mkdir()
  shutil.copy(ANSWERS / "q1_time_align.py", r / "alice.py")
  shutil.copytree(ANSWERS, r / "bob", ignore=shutil.ignore_patterns("__pycache__"))
  (r / "carol.zip").write_bytes(b"PK\x03\x04 this zip is damaged")
  nb = nbformat.v4.new_notebook()
  nb.cells = [nbformat.v4.new_code_cell("%load_ext autoreload")] + [
    nbformat.v4.new_code_cell((ANSWERS / f).read_text()) for f in ("q3_feature_fusion.py", "q4_attention_fusion.py")
  ]
  (r / "dave.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
  with zipfile.ZipFile(r / "erin.zip", "w") as zf:
    zf.writestr("../escape.py", "x = 1")
  (r / "frank.py").write_text("import os\n\ndef time_align(A, B):\n  return A, B\n\nos._exit(9)\n")
  (r / ".DS_Store").write_bytes(b"\0\1")
  out = d / "out"
  first = batch(r, out, d)
  book1 = gradebook(out)
  mtimes = {p: p.stat().st_mtime_ns for p in out.glob("*/results.json")}
  second = batch(r, out, d)
  unchanged = all(p.stat().st_mtime_ns == t for p, t in mtimes.items())
  (r / "alice.py").write_text((ANSWERS / "q1_time_align.py").read_text() + "\n# edited\n")
  third = batch(r, out, d)
  return {"out": out, "first": first, "book1": book1, "second": second, "unchanged": unchanged, "third": third}


def test_every_entry_is_graded_even_when_some_are_broken(roster):
  first = roster["first"]
  assert first.returncode == 0, first.stderr[-3000:]
  rows = {row[0]: row for row in roster["book1"][1:]}
  assert sorted(rows) == ["alice", "bob", "carol", "dave", "erin", "frank"]
  score = {s: int(r[2]) for s, r in rows.items()}
  assert score == {"alice": 10, "bob": 170, "carol": 0, "dave": 20, "erin": 0, "frank": 0}
  assert all(r[3] == "170" for r in rows.values())
  assert "6/6" in first.stderr  # the progress bar


def test_the_gradebook_has_one_column_per_function(roster):
  header, *rows = roster["book1"]
  assert header == ["student", "entry", "score", "max_score", "variant"] + NAMES
  for row in rows:
    assert sum(int(x) for x in row[5:]) == int(row[2]) and row[4] in ("0", "1")  # K=2 (conftest)
  dave = next(r for r in rows if r[0] == "dave")
  assert dave[1] == "dave.ipynb"
  assert dict(zip(NAMES, map(int, dave[5:])))["attention_fusion"] == 10


def test_each_student_gets_a_results_json_with_the_reason(roster):
  out = roster["out"]
  for student, reason in (("carol", "damaged"), ("erin", "points outside the folder"), ("frank", "exit code 9")):
    r = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
    assert r["score"] == 0 and len(r["tests"]) == 170
    assert reason in r["output"] + "".join(t["output"] for t in r["tests"]), student
  assert json.loads((out / "bob" / "results.json").read_text())["score"] == 170
  frank = json.loads((out / "frank" / "results.json").read_text())
  assert "import failed: frank.py" in frank["tests"][0]["output"]  # what it defined, it never delivered


def test_a_rerun_regrades_only_what_changed(roster):
  assert roster["second"].returncode == 0 and "0 graded, 6 unchanged" in roster["second"].stdout
  assert roster["unchanged"]
  assert roster["third"].returncode == 0 and "1 graded, 5 unchanged" in roster["third"].stdout
  assert gradebook(roster["out"]) == roster["book1"]
