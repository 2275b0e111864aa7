"""Issue 12, section 5: one student's files must not break the class. Hostile roster names and files
(tests/hostile/rosters.py) graded in-process on a one-function case set, a single submission through the
CLI, and a hypothesis property over arbitrary roster names."""

import collections
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader import isolation
from grader.batch import RESERVED, name_hash, run_batch, scan, students
from grader.outputs import FORMULA_STARTS, escape_name, unneutralise

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "hostile"))
import rosters  # tests/hostile/rosters.py

MODE = isolation.detect("auto")


@pytest.fixture(scope="module")
def caseset():
  return rosters.small_caseset()


def read_book(out: Path):
  raw = (out / "gradebook.csv").read_bytes()
  with open(out / "gradebook.csv", newline="", encoding="utf-8-sig") as f:
    return raw, list(csv.reader(f))


def batch_with_deadline(roster, out, caseset, seconds=240, **kw):
  """run_batch in a thread: a reader blocked on a FIFO fails the test instead of hanging it."""
  box = {}

  def go():
    try:
      box["result"] = run_batch(roster, out, workers=2, seed=caseset.seed, mode=MODE, lang="en", caseset=caseset, **kw)
    except BaseException as e:  # noqa: BLE001 — handed to the test
      box["error"] = e

  t = threading.Thread(target=go, daemon=True)
  t.start()
  t.join(seconds)
  blocked = t.is_alive()
  rosters.release_fifos(roster)
  t.join(30)
  assert not blocked, "the batch blocked (a special file read as a zip?)"
  if "error" in box:
    raise box["error"]
  return box["result"]


def test_every_roster_entry_gets_its_own_stable_id(tmp_path):
  r = tmp_path / "roster"
  r.mkdir()
  crafted = f"alice-{name_hash('alice.py')}.py"  # the id alice.py takes beside Alice.py, as a plain name
  for n in rosters.NAMES + ["alice.zip", crafted]:
    (r / n).write_text(rosters.HONEST_TIME_ALIGN)
  rosters.fsname(r, rosters.CP1252).write_text(rosters.HONEST_TIME_ALIGN)
  first = students(r)
  assert len(first) == len(rosters.NAMES) + 3
  ids = [i for i, _ in first]
  assert len({i.casefold() for i in ids}) == len(ids), collections.Counter(i.casefold() for i in ids)
  assert students(r) == first  # stable across runs
  by_raw = {p.name: i for i, p in first}
  assert by_raw["__.py"] == "__" and by_raw["张三.py"] == "张三"  # plain names keep their stem
  for raw in (
    "alice.py",
    " alice.py",
    "Alice.py",
    "alice.zip",
    "gradebook.csv.py",
    "summary.json.py",
    "=cmd|' -C calc'!A0.py",
    "-2.py",
    "\tt.py",
    "CON.py",
    "nul.txt.py",
    os.fsdecode(rosters.CP1252),
  ):
    # The hash of its raw name (alice.py takes 16 digits: its 8-digit id clashed with `crafted`).
    assert by_raw[raw].rpartition("-")[2] == name_hash(raw, 16 if raw == "alice.py" else 8), (raw, by_raw[raw])
  for i in ids:
    assert i[0] not in ".-" and all(c.isalnum() or c in "_-." for c in i), i
    assert i.casefold() not in ("gradebook.csv", "summary.json", "results.json")


def test_a_hostile_roster_grades_every_honest_entry_in_full(tmp_path, caseset, capsys):
  r = tmp_path / "roster"
  r.mkdir()
  for n in rosters.NAMES:
    (r / n).write_text(rosters.HONEST_TIME_ALIGN)
  rosters.fsname(r, rosters.CP1252).write_text(rosters.HONEST_TIME_ALIGN)
  inner = r / "windows"  # a folder whose only file has a cp1252 name
  inner.mkdir()
  rosters.fsname(inner, b"tarea_\xe9.py").write_text(rosters.HONEST_TIME_ALIGN)
  pkg = r / "pkg"  # a package submitted as a folder: every function in its __init__.py
  pkg.mkdir()
  (pkg / "__init__.py").write_text(rosters.HONEST_TIME_ALIGN)
  pkg2 = r / "pkg2"  # a package whose __init__.py re-exports its module's function: one definition
  pkg2.mkdir()
  (pkg2 / "__init__.py").write_text("from .impl import time_align  # noqa: F401\n")
  (pkg2 / "impl.py").write_text(rosters.HONEST_TIME_ALIGN)
  both = r / "both"  # the finished .py beside an unfinished scratch notebook of the same module
  both.mkdir()
  (both / "hw.py").write_text(rosters.HONEST_TIME_ALIGN)
  nb = nbformat.v4.new_notebook()
  nb.cells = [nbformat.v4.new_code_cell("def time_align(A, B):\n  raise NotImplementedError\n")]
  (both / "hw.ipynb").write_text(nbformat.writes(nb), encoding="utf-8")
  (both / ".scratch.py").write_text("def time_align(A, B):\n  return None\n")  # hidden: skipped, said so
  (r / "surrogate.py").write_text(rosters.SURROGATE, encoding="utf-8", errors="surrogatepass")
  (r / ".hidden.py").write_text(rosters.HONEST_TIME_ALIGN)
  special = rosters.special_files(r)
  pipes = r / "pipes"  # an honest file beside FIFOs named like sources and a zip
  pipes.mkdir()
  (pipes / "hw.py").write_text(rosters.HONEST_TIME_ALIGN)
  os.mkfifo(pipes / "x.py")
  os.mkfifo(pipes / "y.zip")
  os.symlink("loop.py", r / "loop.py")  # a link to itself, and one to nothing
  os.symlink(tmp_path / "nowhere", r / "dangling.py")
  out = tmp_path / "out"
  result = batch_with_deadline(r, out, caseset)
  assert result["hidden"] == [".hidden.py"] and "left out 1 hidden roster entry" in capsys.readouterr().out

  raw, rows = read_book(out)
  assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM: Excel reads Chinese names right
  header, *rows = rows
  assert header == ["student", "entry", "score", "max_score", "variant", "time_align"]
  entries, _ = scan(r)
  assert len(rows) == len(entries) == len(os.listdir(r)) - 1  # one row per visible entry, none merged
  for row in rows:
    assert not row[0].startswith(FORMULA_STARTS) and not row[1].startswith(FORMULA_STARTS), row
    assert all(c.isprintable() for c in row[0] + row[1]), row  # no control, bidi or zero-width character
  by_entry = {unneutralise(row[1]): row for row in rows}
  assert len(by_entry) == len(rows)
  zero = {"surrogate.py", "loop.py", "dangling.py"} | set(special)
  for e in entries:
    row = by_entry[escape_name(e.raw)]
    assert row[0] == e.id
    assert int(row[2]) == (0 if e.raw in zero else 10), (e.raw, row)
    results = json.loads((out / e.id / "results.json").read_bytes().decode("utf-8"))  # strict UTF-8
    title = results["output"].splitlines()[0]
    assert title.endswith("/" + escape_name(e.raw)), (title, e.raw)  # the right student's file, as text
  assert escape_name(os.fsdecode(rosters.CP1252)) in by_entry and "Jos\\xe9.py" in by_entry
  ids = {e.raw: e.id for e in entries}

  def text(raw):
    return (out / ids[raw] / "results.json").read_text(encoding="utf-8")

  assert "x.py could not be read" in text("pipes")
  assert "more than one module" not in text("pkg2")
  assert "hw.ipynb was ignored" in text("both") and ".scratch.py is a hidden file" in text("both")
  assert "\\udc80" in text("surrogate.py")  # the message is shown, escaped
  for name, word in special.items():
    assert word in text(name) and "refused" in text(name), name
  assert not list(out.rglob(".tmp-*"))
  # Every file the batch writes beside the students' folders is a reserved id, so no entry can take it.
  assert {p.name for p in out.iterdir() if not p.is_dir()} <= RESERVED


def test_a_single_submission_with_surrogates_exits_normally(tmp_path):
  sub = rosters.fsname(tmp_path, rosters.CP1252)  # a cp1252 file name too
  sub.write_text(rosters.SURROGATE, encoding="utf-8", errors="surrogatepass")
  res = tmp_path / "results.json"
  env = {k: v for k, v in os.environ.items() if k != "GRADER_SEED"}
  env.update(LANG="C.UTF-8", PYTHONPATH=str(ROOT))
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "grader",
      str(sub),
      "--results",
      str(res),
      "--lang",
      "en",
      "--sandbox",
      MODE,
      "--allow-plain",
    ],
    cwd=tmp_path,
    env=env,
    capture_output=True,
    timeout=300,
    check=False,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  data = json.loads(res.read_bytes().decode("utf-8"))
  assert any("\\udc80" in t["output"] for t in data["tests"])
  out = proc.stdout.decode("utf-8")  # strict: the table printed is UTF-8
  assert "Jos\\xe9.py" in out and "time_align" in out, out[:2000]
  assert "Jos\\xe9.py" in data["output"]


# ---------------------------------------------------------------------------------------------
# The property: any roster names (text or raw bytes; files, folders, junk of any bytes): the batch ends
# normally with one gradebook row per visible entry, and full marks for every honest one.

_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=24)
_BYTES = st.binary(min_size=1, max_size=24).filter(lambda b: b"/" not in b and b"\x00" not in b)
_NAME = st.one_of(_TEXT, _BYTES.map(os.fsdecode)).filter(lambda n: n not in (".", "..") and len(os.fsencode(n)) <= 200)
_JUNK = st.tuples(st.sampled_from([".py", ".zip", ".ipynb", ""]), st.binary(max_size=200))
# (name, what): an honest .py file, a folder holding one, or junk bytes under some suffix
_ENTRY = st.tuples(_NAME, st.one_of(st.just("py"), st.just("folder"), _JUNK))


@settings(
  max_examples=20,
  deadline=None,
  derandomize=True,
  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(_ENTRY, min_size=1, max_size=3, unique_by=lambda e: os.fsencode(e[0])))
def test_any_roster_names_give_a_complete_gradebook_with_full_marks(caseset, entries):
  work = Path(tempfile.mkdtemp(prefix="roster-prop-"))
  try:
    work.chmod(0o755)
    r = work / "roster"
    r.mkdir()
    visible, honest = [], set()
    for name, what in entries:
      raw = name if what == "folder" else name + (".py" if what == "py" else what[0])
      if os.path.lexists(r / raw):  # "x" as a file and "x.py" as a folder: one of them only
        continue
      if what == "folder":
        (r / raw).mkdir()
        (r / raw / "hw.py").write_text(rosters.HONEST_TIME_ALIGN)
      elif what == "py":
        (r / raw).write_text(rosters.HONEST_TIME_ALIGN)
      else:
        (r / raw).write_bytes(what[1])
      if not raw.startswith("."):
        visible.append(raw)
        if what in ("py", "folder"):
          honest.add(escape_name(raw))
    out = work / "out"
    batch_with_deadline(r, out, caseset)
    _, (_header, *rows) = read_book(out)
    assert sorted(unneutralise(row[1]) for row in rows) == sorted(escape_name(v) for v in visible)
    assert len({row[0].casefold() for row in rows}) == len(rows)
    assert all(row[2] == "10" for row in rows if unneutralise(row[1]) in honest), rows
  finally:
    shutil.rmtree(work, ignore_errors=True)
