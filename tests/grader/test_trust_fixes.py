"""Issue 12's outside attack, fixed as classes: each test failed on the code the attacker tried."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from grader.batch import content_hash

ROOT = Path(__file__).resolve().parents[2]


def test_content_hash_fields_are_framed(tmp_path):
  """F4: a file holding "Q\\0q1.py\\0CODE" must not hash like the files a.txt="Q" and q1.py="CODE"."""
  code = b"def f():\n  return 1\n"
  one, two = tmp_path / "r1" / "carol", tmp_path / "r2" / "carol"
  one.mkdir(parents=True)
  two.mkdir(parents=True)
  (one / "a.txt").write_bytes(b"Q")
  (one / "q1.py").write_bytes(code)
  (two / "a.txt").write_bytes(b"Q\0q1.py\0" + code)
  assert content_hash(one) != content_hash(two)
  # A symlink's target is framed too: a link to "x" beside file "y" differs from a link to "x\0y..."
  (tmp_path / "r3" / "d").mkdir(parents=True)
  (tmp_path / "r4" / "d").mkdir(parents=True)
  (tmp_path / "r3" / "d" / "l").symlink_to("x")
  (tmp_path / "r3" / "d" / "m").write_bytes(b"y")
  (tmp_path / "r4" / "d" / "l").symlink_to("xmy")
  assert content_hash(tmp_path / "r3" / "d") != content_hash(tmp_path / "r4" / "d")
  # Same content, same hash (the cache still works).
  three = tmp_path / "r5" / "carol"
  three.mkdir(parents=True)
  (three / "a.txt").write_bytes(b"Q")
  (three / "q1.py").write_bytes(code)
  assert content_hash(three) == content_hash(one)


def _notebook(code: str) -> bytes:
  import nbformat

  nb = nbformat.v4.new_notebook()
  nb.cells = [nbformat.v4.new_code_cell(code)]
  return nbformat.writes(nb).encode()


def test_upper_case_suffixes_reach_the_worker(tmp_path):
  """F5: hw.PY, HW.IPYNB, ALICE.PY (a file, in a folder, in a zip) become .py modules the worker imports."""
  import zipfile

  from grader.submission import read_submission

  code = "def f(x):\n  return x\n"
  (tmp_path / "hw.PY").write_text(code)
  (tmp_path / "HW.IPYNB").write_bytes(_notebook(code))
  folder = tmp_path / "folder"
  folder.mkdir()
  (folder / "ALICE.PY").write_text(code)
  (folder / "Part2.IpyNb").write_bytes(_notebook(code))
  with zipfile.ZipFile(tmp_path / "sub.zip", "w") as z:
    z.writestr("q/Q1.Py", code)
  want = {"hw.PY": ["hw.py"], "HW.IPYNB": ["HW.py"], "folder": ["ALICE.py", "Part2.py"], "sub.zip": ["q/Q1.py"]}
  for name, files in want.items():
    dest = tmp_path / ("scratch-" + name)
    reading = read_submission(tmp_path / name, dest)
    assert sorted(reading.files) == files, (name, reading.problems)
    on_disk = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file())
    assert on_disk == files and all((dest / f).read_text().count("def f") == 1 for f in files)


def test_same_module_in_two_cases_is_one_module(tmp_path):
  """hw.py beside hw.PY: one module is graded (the other said to be a duplicate), never both."""
  from grader.submission import read_submission

  folder = tmp_path / "s"
  folder.mkdir()
  (folder / "hw.py").write_text("def f(x):\n  return 1\n")
  (folder / "hw.PY").write_text("def f(x):\n  return 2\n")
  reading = read_submission(folder, tmp_path / "dest")
  assert reading.files == ["hw.py"]
  assert [p.code for p in reading.problems] == ["duplicate"]


@pytest.mark.parametrize(
  "secret, why",
  [
    ("aaaaaaaaaaaaaaaa", "made of fewer than 10 different characters"),
    ("abababababababababab", "made of fewer than 10 different characters"),
    ("abcdefghijkabcdefghijk", "a short pattern repeated"),
    ("abcdefghijklmnopqr", "a run of consecutive characters"),
    ("password12345678", "one word and a number"),
    ("Password-2026!!!!", "one word and a number"),
    ("1234567890123456.", "only digits"),
    ("  12345678-90123456  ", "only digits"),
    ("winter-2026-s3cr3t", None),
    ("correct horse battery staple", None),
    ("冬季课程的秘密口令很长很长很长很长", None),
  ],
)
def test_weak_seeds_below_the_entropy_floor(secret, why):
  """F7: seeds of 16+ characters that a guesser tries first are named weak; passphrases still pass."""
  from grader.seed import weak_reason

  assert weak_reason(secret) == why


def test_new_seeds_are_always_strong(monkeypatch):
  """new-seed redraws the rare 32 hex digits that the floor would call weak (~1 in 10,000)."""
  from grader import seed

  draws = iter(["0123456789abcdef" * 2, "12345678901234567890123456789012", "9f1c0e7a55b3d2846ae0c1b7f39d2e58"])
  monkeypatch.setattr(seed.secrets, "token_hex", lambda n: next(draws))
  assert seed.new_seed() == "9f1c0e7a55b3d2846ae0c1b7f39d2e58"
  monkeypatch.undo()
  import secrets

  assert all(seed.weak_reason(seed.new_seed()) is None for _ in range(2000))
  assert sum(seed.weak_reason(secrets.token_hex(16)) is not None for _ in range(2000)) < 20


# ---------------------------------------------------------------------------------------------
# F2: the seed never on a command line; F1: plain mode grades hidden cases only when the teacher says so.


def test_seed_on_the_command_line_is_refused_and_a_seed_file_works(tmp_path, capsys, monkeypatch):
  from grader import __main__ as cli

  sub = tmp_path / "hw.py"
  sub.write_text("def encode(v):\n  return v\n")
  secret = "correct horse battery staple 42"
  (tmp_path / "roster").mkdir()
  for argv in (
    [str(sub), "--seed", secret],
    ["gradescope", str(tmp_path / "b.zip"), "--seed", secret],
    ["--batch", str(tmp_path / "roster"), "--out", str(tmp_path / "out"), "--seed", secret],
  ):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--seed-file" in err and "GRADER_SEED" in err and secret not in err and len(err.splitlines()) == 1
  assert not (tmp_path / "b.zip").exists() and not (tmp_path / "out").exists()
  f = tmp_path / "seed.txt"
  f.write_text(f"  {secret}\n")
  f.chmod(0o600)
  monkeypatch.setenv("GRADER_SEED", "another one entirely")
  args = cli._main_parser().parse_args([str(sub), "--seed-file", str(f)])
  assert cli._seed(args) == secret  # the file wins over $GRADER_SEED, stripped like it
  assert cli._seed(cli._main_parser().parse_args([str(sub)])) == "another one entirely"
  assert cli._seed(cli._gradescope_parser().parse_args(["b.zip", "--seed-file", str(f)])) == secret
  for content, why in ((b"", "empty"), (b"\xff\xfe", "UTF-8"), (b"x" * 5000, "longer than")):
    f.write_bytes(content)
    with pytest.raises(cli.SeedError, match=why):
      cli._seed(args)
  with pytest.raises(cli.SeedError, match="cannot read"):
    cli._seed(cli._main_parser().parse_args([str(sub), "--seed-file", str(tmp_path / "nope")]))
  assert "--seed-file" in cli._main_parser().format_help()


def test_plain_mode_grades_hidden_cases_only_with_allow_plain(tmp_path, monkeypatch, capsys):
  from grader import __main__ as cli
  from grader import grade
  from grader import isolation as iso

  sub = tmp_path / "hw.py"
  sub.write_text("def encode(v):\n  return v\n")
  monkeypatch.setattr(iso, "_is_root", lambda: True)  # the uid question is test_protections'; this is plain's own
  monkeypatch.setattr(cli, "_mode", lambda requested: ("plain", None))  # asked for, or auto's fallback alike
  graded = []

  class Stop(Exception):
    pass

  def fake_grade(*a, **k):
    graded.append(a)
    raise Stop

  monkeypatch.setattr(grade, "load_caseset", lambda *a, **k: None)
  monkeypatch.setattr(grade, "grade_submission", fake_grade)
  for sandbox in ("plain", "auto"):
    assert cli.main([str(sub), "--sandbox", sandbox, "--results", str(tmp_path / "r.json")]) == 2 and not graded
    err = capsys.readouterr().err
    assert "--allow-plain" in err and "solutions" in err and "other students' submissions" in err
    assert "--allow-plain" in (tmp_path / "r.json").read_text()  # the student is told why, not graded
  roster = tmp_path / "roster"
  roster.mkdir()
  (roster / "alice.py").write_text("x = 1\n")
  assert cli.main(["--batch", str(roster), "--out", str(tmp_path / "out"), "--sandbox", "plain"]) == 2
  assert "--allow-plain" in capsys.readouterr().err
  assert cli.main([str(sub), "--sandbox", "plain", "--allow-plain"]) == 1 and graded  # reached grading


def test_the_bundle_passes_allow_plain():
  """run_autograder may grade in plain mode: its secrets are root's alone and it holds no roster."""
  from grader.gradescope import RUN_AUTOGRADER

  assert "--allow-plain" in RUN_AUTOGRADER.split('-m grader "$ROOT/submission"', 1)[1].split("status=$?")[0]


# ---------------------------------------------------------------------------------------------
# F3/F3b: what a plain sandbox leaves in the host's shared folders is gone after it.

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
SHARED_TOPS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")


def _root_only():
  from grader import isolation as iso

  if not iso._is_root():
    pytest.skip("as non-root, plain mode runs student code as the grader: no uid of its own to sweep")


def test_a_plain_sandbox_leaves_nothing_in_shared_folders(tmp_path):
  import tempfile

  from grader import isolation as iso
  from grader.sandbox import Limits, run_submission

  _root_only()
  tag = f"mmz-left-{os.getpid()}"
  outside = Path(tempfile.mkdtemp(prefix="fixes-outside-"))
  try:
    outside.chmod(0o755)
    victim = outside / "victim.txt"
    victim.write_text("original")
    shared = outside / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    # Leftovers of a grader that died unclean (a sandbox uid whose grader pid is gone) go too; a file
    # of another uid stays.
    dead = iso.UID_BASE + 4_194_303 * iso.SLOTS
    assert not os.path.exists("/proc/4194303")
    stale, other = Path("/tmp", f"{tag}-stale"), Path("/tmp", f"{tag}-other")
    for p, uid in ((stale, dead), (other, 12345)):
      p.write_text("left")
      os.chown(p, uid, uid)
    text = (HOSTILE / "leaves_files.py").read_text()
    text = text.replace("@@TAG@@", tag).replace("@@VICTIM@@", str(victim)).replace("@@SHARED@@", str(shared))
    key = 0x6D6D0000 + os.getpid() % 0xFFFF
    text = text.replace("@@KEY@@", str(key))
    scratch = Path(tempfile.mkdtemp(prefix="fixes-scratch-"))
    try:
      (scratch / "sub").mkdir()
      (scratch / "sub" / "hw.py").write_text(text)
      report, outs, mode = run_submission(
        scratch / "sub",
        [("time_align", ([1.5, 2.5], [3]))],
        ["time_align"],
        mode="plain",
        limits=Limits(call_wall_s=20),
      )
    finally:
      shutil.rmtree(scratch, ignore_errors=True)
    assert mode == "plain" and outs[0].status == "ok", outs
    left = [p for d in (*SHARED_TOPS, str(shared)) if os.path.isdir(d) for p in Path(d).glob(f"{tag}-*")]
    assert left == [other], left
    assert victim.read_text() == "original" and shared.is_dir()
    shm_keys = [int(line.split()[0]) for line in Path("/proc/sysvipc/shm").read_text().splitlines()[1:]]
    assert key not in shm_keys, "a System V segment of the sandbox outlived it"
  finally:
    other.unlink(missing_ok=True)
    stale.unlink(missing_ok=True)
    shutil.rmtree(outside, ignore_errors=True)


def test_the_sweep_is_bounded_and_follows_no_link(tmp_path, monkeypatch):
  """A link to a folder is removed as a link; a folder too many entries deep stops the walk, loudly."""
  from grader import isolation as iso

  _root_only()
  top = tmp_path / "shared"
  top.mkdir()
  top.chmod(0o777)
  target = tmp_path / "target"
  target.mkdir()
  (target / "keep").write_text("k")
  uid = iso.UID_BASE + os.getpid() * iso.SLOTS + 7
  link = top / "link"
  link.symlink_to(target)
  os.lchown(link, uid, uid)
  for i in range(30):
    (top / f"f{i}").write_text("x")
    os.chown(top / f"f{i}", uid, uid)
  monkeypatch.setattr(iso, "SHARED_DIRS", (str(top),))
  monkeypatch.setattr(iso, "SWEEP_ENTRIES", 10)
  assert iso.sweep_files({uid}) == 10  # bounded
  monkeypatch.setattr(iso, "SWEEP_ENTRIES", 1000)
  iso.sweep_files({uid})
  assert list(top.iterdir()) == [] and (target / "keep").read_text() == "k"


# ---------------------------------------------------------------------------------------------
# F8: SIGTERM or SIGHUP to the grader ends its sandboxes and removes its folders.


def _sandbox_pids(grader_pid: int) -> list[int]:
  from grader import isolation as iso

  lo = iso.UID_BASE + (grader_pid % 4_194_304) * iso.SLOTS
  pids = []
  for d in Path("/proc").iterdir():
    if d.name.isdigit():
      try:
        if lo <= d.stat().st_uid < lo + iso.SLOTS and (d / "stat").read_text().rpartition(")")[2].split()[0] != "Z":
          pids.append(int(d.name))
      except (OSError, IndexError):
        pass
  return pids


def _owned_in_tmp(grader_pid: int) -> list[str]:
  from grader import isolation as iso

  lo = iso.UID_BASE + (grader_pid % 4_194_304) * iso.SLOTS
  return [p for p in os.listdir("/tmp") if lo <= os.lstat(os.path.join("/tmp", p)).st_uid < lo + iso.SLOTS]


@pytest.mark.parametrize(
  "mode, sig",
  [("plain", signal.SIGTERM), ("plain", signal.SIGHUP), ("unshare", signal.SIGTERM), ("bwrap", signal.SIGHUP)],
)
def test_a_signalled_grader_leaves_no_sandbox_behind(tmp_path, mode, sig):
  from grader import isolation as iso

  _root_only()
  if iso._check(mode):
    pytest.skip(f"{mode} cannot run here")
  work = Path(tempfile.mkdtemp(prefix="fixes-sig-"))
  try:
    work.chmod(0o755)
    shutil.copy(HOSTILE / "outlives_grader.py", work / "hw.py")
    env = dict(os.environ, LANG="C.UTF-8", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
      [sys.executable, "-m", "grader", str(work / "hw.py"), "--sandbox", mode, "--allow-plain", "--call-timeout", "40"],
      cwd=work,
      env=env,
      stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE,
    )
    try:
      deadline = time.monotonic() + 240  # the references may have to be computed first
      while len(_sandbox_pids(proc.pid)) < 2 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
      assert len(_sandbox_pids(proc.pid)) >= 2, "the sandbox never started"
      time.sleep(1.0)  # the import is over: the slow call runs
      proc.send_signal(sig)
      rc = proc.wait(timeout=30)
    finally:
      if proc.poll() is None:
        proc.kill()
        proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    assert rc == 128 + sig, err[-2000:]
    time.sleep(1.0)
    assert _sandbox_pids(proc.pid) == [], "sandbox processes outlived the grader"
    assert _owned_in_tmp(proc.pid) == [], "the scratch folder outlived the grader"
  finally:
    shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# F6: a clean id is kept when a variant of the name is added beside it.


def test_a_clean_id_survives_a_colliding_variant(tmp_path):
  from grader.batch import name_hash, scan

  def ids(*names):
    roster = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    roster.mkdir()
    for n in names:
      (roster / n).write_text("x = 1\n")
    return {e.path.name: e.id for e in scan(roster)[0]}

  assert ids("alice.py") == {"alice.py": "alice"}
  assert ids("alice.py", "ALICE.PY") == {"alice.py": "alice", "ALICE.PY": f"ALICE-{name_hash('ALICE.PY', 8)}"}
  assert ids("a_b.py", "a b.py") == {"a_b.py": "a_b", "a b.py": f"a_b-{name_hash('a b.py', 8)}"}
  # Two entries with an equal claim both take a hash (no order of arrival decides); so do two upper-case ones.
  both = ids("alice.py", "alice.ipynb")
  assert both == {n: f"alice-{name_hash(n, 8)}" for n in ("alice.py", "alice.ipynb")}
  assert all("-" in i for i in ids("Alice.py", "ALICE.py").values())
  # A reserved name keeps its hash even when it is the clean one of its group.
  assert ids("gradebook.csv.py", "GRADEBOOK.CSV.py")["gradebook.csv.py"] != "gradebook.csv"


def test_a_signalled_batch_keeps_no_half_graded_result():
  """SIGTERM during a batch: every sandbox ends, and no entry whose sandbox was killed gets a (wrong) grade."""
  from grader import isolation as iso

  _root_only()
  mode = iso.detect("auto")
  work = Path(tempfile.mkdtemp(prefix="fixes-sigbatch-"))
  try:
    work.chmod(0o755)
    roster = work / "roster"
    roster.mkdir()
    for name in ("ann.py", "bob.py"):
      shutil.copy(HOSTILE / "outlives_grader.py", roster / name)
    env = dict(os.environ, LANG="C.UTF-8", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
      [
        sys.executable,
        "-m",
        "grader",
        "--batch",
        str(roster),
        "--out",
        str(work / "out"),
        "--workers",
        "2",
        "--sandbox",
        mode,
        "--allow-plain",
        "--call-timeout",
        "40",
      ],
      cwd=work,
      env=env,
      stdout=subprocess.DEVNULL,
      stderr=subprocess.PIPE,
    )
    try:
      deadline = time.monotonic() + 240
      while len(_sandbox_pids(proc.pid)) < 4 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
      assert len(_sandbox_pids(proc.pid)) >= 4, "the sandboxes never started"
      time.sleep(1.0)
      proc.send_signal(signal.SIGTERM)
      rc = proc.wait(timeout=60)
    finally:
      if proc.poll() is None:
        proc.kill()
        proc.wait()
    err = proc.stderr.read().decode(errors="replace")
    assert rc == 128 + signal.SIGTERM, err[-2000:]
    time.sleep(1.0)
    assert _sandbox_pids(proc.pid) == [] and _owned_in_tmp(proc.pid) == []
    assert not list((work / "out").glob("*/results.json")) and not (work / "out" / "gradebook.csv").exists()
  finally:
    shutil.rmtree(work, ignore_errors=True)
