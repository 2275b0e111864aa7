"""Hostile input to the grader itself: broken and hostile .py files, zips and notebooks graded through the
real CLI (one --batch run over a roster of them), then the zip and notebook readers fuzzed in-process."""

import csv
import json
import os
import subprocess
import sys
import tempfile
import warnings
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import submission

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "hostile"))
import inputs  # noqa: E402  (tests/hostile/inputs.py: the builders)


def test_a_roster_of_hostile_inputs_is_graded_entry_by_entry(work):
  """Every entry is graded (0 with the reason, or in full when it is merely unusual), the batch ends with
  status 0, and nothing is written where a ../ or absolute zip entry points."""
  tag = f"hostile-in-{os.getpid()}"
  expect = inputs.build_roster(work / "roster", tag)
  out = work / "out"
  cmd = [
    sys.executable,
    "-m",
    "grader",
    "--batch",
    str(work / "roster"),
    "--out",
    str(out),
    "--lang",
    "en",
    "--call-timeout",
    "10",
    "--workers",
    "2",
  ]
  proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:  # written with a BOM
    book = {row["student"]: row for row in csv.DictReader(f)}
  assert set(book) == set(expect)
  for student, (how, words) in expect.items():
    results = json.loads((out / student / "results.json").read_text(encoding="utf-8"))
    text = (results["output"] + "".join(t.get("output", "") for t in results["tests"])).lower()
    want = 170 if how == "full" else 0
    assert results["score"] == want == int(float(book[student]["score"])), (student, text[:1500])
    for w in words:
      assert w in text, (student, w, text[:1500])
  for p in (Path("/tmp", f"{tag}-abs.py"), work / f"{tag}-dotdot.py", Path("/tmp", f"{tag}-dotdot.py")):
    assert not p.exists(), p


# ---------------------------------------------------------------------------------------------
# Fuzzing the readers in-process (no student code runs while reading).

NAMES = st.one_of(
  st.sampled_from(
    [
      "a.py",
      "pkg/__init__.py",
      "pkg/m.py",
      "../x.py",
      "../../x.py",
      "/abs.py",
      "C:/w.py",
      "a\\..\\..\\b.py",
      "./a.py",
      "a//b.py",
      ".hidden.py",
      "__MACOSX/._a.py",
      "n.ipynb",
      "dir/",
      "x" * 300 + ".py",
      "a\x00b.py",
      "é/ü.py",
      "a/./../../b.py",
    ]
  ),
  st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40).map(lambda s: s + ".py"),
)
CONTENT = st.one_of(
  st.binary(max_size=300),
  st.text(max_size=300).map(lambda s: s.encode("utf-8")),
  st.sampled_from([b"def time_align(A, B):\n  return A, B\n", b"\xef\xbb\xbfx = 1\r\n", b'{"cells": []}', b"\x00\x01"]),
)
SMALL = submission.ReadLimits(
  file_bytes=4096, notebook_bytes=8192, total_bytes=32768, zip_members=40, files=20, walk_entries=200
)


def _inside(dest: Path) -> None:
  """Everything written lies under dest, as a regular file or folder, and within the limits."""
  count = 0
  for root, dirs, files in os.walk(dest):
    for name in dirs + files:
      p = Path(root, name)
      assert not p.is_symlink() and p.resolve().is_relative_to(dest.resolve())
      count += name in files
  assert count <= SMALL.files


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
  members=st.lists(st.tuples(NAMES, CONTENT, st.sampled_from([0, 0, 0o120777, 0o040755])), max_size=12),
  method=st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]),
)
def test_fuzzed_zips_never_escape_or_crash_the_reader(members, method, work):
  case = Path(tempfile.mkdtemp(dir=work))
  archive = case / "sub.zip"
  with zipfile.ZipFile(archive, "w", method) as zf, warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # duplicate member names are part of the attack
    for name, data, mode in members:
      info = zipfile.ZipInfo(name.replace("\x00", "_"))
      info.external_attr = mode << 16
      zf.writestr(info, data)
  dest = case / "scratch" / "sub"
  reading = submission.read_submission(archive, dest, SMALL)
  _inside(case / "scratch")
  assert sorted(os.listdir(case)) == ["scratch", "sub.zip"]
  assert all(isinstance(p, submission.Problem) for p in reading.problems)
  assert len(reading.files) == len(set(reading.files))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_random_bytes_as_a_zip_are_refused_cleanly(data, work):
  case = Path(tempfile.mkdtemp(dir=work))
  (case / "sub.zip").write_bytes(b"PK\x03\x04" + data)
  reading = submission.read_submission(case / "sub.zip", case / "out", SMALL)
  _inside(case / "out")
  assert reading.problems


JSONISH = st.recursive(
  st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30)),
  lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(st.text(max_size=10), kids, max_size=4)),
  max_leaves=30,
)
CELL = st.fixed_dictionaries(
  {
    "cell_type": st.sampled_from(["code", "markdown", "raw", 7]),
    "source": st.one_of(st.text(max_size=200), st.lists(st.text(max_size=40)), JSONISH),
    "metadata": st.one_of(st.just({}), JSONISH),
  }
)
NOTEBOOK = st.one_of(
  JSONISH,
  st.fixed_dictionaries(
    {
      "nbformat": st.sampled_from([4, 3, 5, "4", None]),
      "nbformat_minor": st.integers(-1, 10),
      "metadata": st.one_of(st.just({}), JSONISH),
      "cells": st.one_of(st.lists(CELL, max_size=5), JSONISH),
    }
  ),
)


@settings(max_examples=150, deadline=None)
@given(nb=NOTEBOOK)
def test_fuzzed_notebooks_give_python_or_a_problem_never_an_error(nb):
  reading = submission.Reading()
  text = submission.notebook_to_python("nb.ipynb", json.dumps(nb).encode("utf-8"), reading)
  assert (text is None) == bool(reading.problems)
  if text is not None:
    assert isinstance(text, str)


@settings(max_examples=80, deadline=None)
@given(src=st.text(max_size=400))
def test_fuzzed_cells_become_text_without_raising(src):
  out = submission.cell_to_python(src)
  assert isinstance(out, str) and out.count("\n") == src.count("\n")
