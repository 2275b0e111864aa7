"""Every protection of the sandbox, in every isolation mode that runs here, measured from inside (the
limit the process really has, and what it can really do), and shown to be noticed when removed: each
probe runs once with the protection and once with it taken out of the sandbox's command line, and must
say "held" only the first time. All probes are bounded even with their protection gone."""

import json
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader import isolation as iso
from grader import sandbox

MODES = [pytest.param(m, id=m) for m in iso.MODES]
MIB = 1 << 20
# fsize (1 MiB) well under the scratch tmpfs (16 MiB): the file-size limit, not ENOSPC, must stop a write.
SMALL = iso.Limits(
  cpu_s=1,
  wall_s=60,
  call_wall_s=30,
  mem_bytes=3 << 30,
  nproc=40,
  fsize_bytes=MIB,
  nofile=64,
  output_bytes=1 << 16,
  scratch_bytes=16 * MIB,
  sandbox_mem_bytes=256 * MIB,
)

# name -> (the prlimit option that sets it, or None; a probe printing "held ..." or "escaped ...")
PROBES = {
  "open_files": (
    "--nofile=",
    f"""
    import errno, os, resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    fds, why = [], "none"
    for _ in range(4096):
      try:
        fds.append(os.open("/dev/null", os.O_RDONLY))
      except OSError as e:
        why = errno.errorcode[e.errno]
        break
    ok = soft == hard == {SMALL.nofile} and why == "EMFILE" and len(fds) < {SMALL.nofile}
    print("held" if ok else "escaped", soft, hard, len(fds), why)
  """,
  ),
  "file_size": (
    "--fsize=",
    f"""
    import errno, os, resource
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    why = "none"
    with open("big.bin", "wb", buffering=0) as f:
      try:
        for _ in range(32):  # 2 MiB, twice the limit, an eighth of the scratch tmpfs
          f.write(b"x" * 65536)
      except OSError as e:
        why = errno.errorcode[e.errno]
    size = os.path.getsize("big.bin")
    ok = soft == {SMALL.fsize_bytes} and why == "EFBIG" and size == {SMALL.fsize_bytes}
    print("held" if ok else "escaped", soft, size, why)
  """,
  ),
  "processes": (
    "--nproc=",
    f"""
    import os, resource
    soft = resource.getrlimit(resource.RLIMIT_NPROC)[0]
    r, w = os.pipe()
    n, why = 0, "none"
    for _ in range(300):  # bounded: a few hundred waiting children at most
      try:
        pid = os.fork()
      except OSError as e:
        why = type(e).__name__
        break
      if pid == 0:
        os.close(w); os.read(r, 1); os._exit(0)
      n += 1
    os.close(w)
    cap = {SMALL.nproc + SMALL.nproc // 4}
    ok = soft <= cap and why == "BlockingIOError" and n < cap
    print("held" if ok else "escaped", soft, n, why)
  """,
  ),
  "address_space": (
    "--as=",
    f"""
    import mmap, resource
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    try:
      m = mmap.mmap(-1, {SMALL.mem_bytes + (1 << 30)})  # reserved, never touched
      why = "mapped"
    except OSError as e:
      why = "refused"
    print("held" if soft <= {SMALL.mem_bytes} and why == "refused" else "escaped", soft, why)
  """,
  ),
  "cpu_time": (
    "--cpu=",
    """
    import resource, time
    soft = resource.getrlimit(resource.RLIMIT_CPU)[0]
    t = time.process_time()
    while time.process_time() - t < 1.5:  # 1.5 s of CPU: SIGXCPU after 1 s ends it first
      pass
    print("escaped", soft)
  """,
  ),
  "sandbox_memory": (
    None,
    """
    import os, time
    kids = []
    for _ in range(3):  # 3 x 120 MiB: each inside every per-process limit, together over 256 MiB
      pid = os.fork()
      if pid == 0:
        b = bytearray(120 << 20)
        for j in range(0, len(b), 4096):
          b[j] = 1
        time.sleep(2)
        os._exit(0)
      kids.append(pid)
    statuses = [os.waitpid(p, 0)[1] & 0x7F for p in kids]
    print("held" if 9 in statuses else "escaped", statuses)
  """,
  ),
}


def need(mode):
  why = iso._check(mode)
  if why:
    pytest.skip(why)


@pytest.fixture
def scratch():
  d = Path(tempfile.mkdtemp(prefix="prot-scratch-"))
  d.chmod(0o755)
  yield d
  shutil.rmtree(d, ignore_errors=True)


def probe(mode, name, scratch):
  """Runs a probe in the sandbox; "held" or "escaped" (a probe killed by SIGXCPU held its CPU limit)."""
  code = textwrap.dedent(PROBES[name][1])
  proc = iso.spawn(mode, [sys.executable, "-c", code], scratch=scratch, limits=SMALL, uid_slot=6)
  try:
    out, err = proc.communicate(timeout=60)
  finally:
    iso.kill(proc)
  if name == "cpu_time" and iso.exit_signal(proc.returncode) == iso.signal.SIGXCPU:
    return "held", ""
  assert out.strip(), (proc.returncode, err.decode(errors="replace")[-2000:])
  return out.decode().split()[0], out.decode()


def remove(monkeypatch, name):
  """Takes one protection out of every sandbox command line built from now on."""
  flag = PROBES[name][0]
  if flag is None:
    monkeypatch.setattr(iso, "memory_cgroup", lambda limits: None)
    return
  real = iso._prlimit
  monkeypatch.setattr(iso, "_prlimit", lambda limits, nproc: [a for a in real(limits, nproc) if not a.startswith(flag)])


@pytest.mark.parametrize("name", list(PROBES))
@pytest.mark.parametrize("mode", MODES)
def test_each_protection_holds_and_its_removal_is_noticed(mode, name, scratch, monkeypatch):
  need(mode)
  if name == "sandbox_memory" and isinstance(iso._memory_parent(), str):
    pytest.skip(f"no memory controller here ({iso._memory_parent()}); address_space is the fallback")
  verdict, out = probe(mode, name, scratch)
  assert verdict == "held", out
  remove(monkeypatch, name)
  (scratch / "big.bin").unlink(missing_ok=True)
  verdict, out = probe(mode, name, scratch)
  assert verdict == "escaped", f"the probe did not notice {name} removed: {out}"


def session_limits(**kw):
  return iso.Limits(**{**SMALL.__dict__, "cpu_s": 30, **kw})


@pytest.mark.parametrize("mode", MODES)
def test_a_call_past_its_wall_clock_limit_is_stopped(mode, scratch):
  need(mode)
  src = scratch / "sub"
  src.mkdir()
  (src / "hw.py").write_text("import time\ndef slow():\n  time.sleep(30)\n\ndef fast():\n  return 1\n")
  t = time.monotonic()
  _, (slow, fast), _ = sandbox.run_submission(
    src, [("slow", ()), ("fast", ())], ["slow", "fast"], mode=mode, limits=session_limits(call_wall_s=1.5), uid_slot=6
  )
  assert slow.status == "timeout" and fast.status == "ok" and fast.value == 1
  assert time.monotonic() - t < 15


def strongest():
  return next(m for m in iso.MODES if iso._check(m) is None)


def test_a_forged_import_announcement_does_not_restart_the_sandbox_again_and_again(scratch, monkeypatch):
  src = scratch / "sub"
  src.mkdir()
  hostile = Path(__file__).resolve().parents[1] / "hostile" / "forged_import_exit.py"
  shutil.copyfile(hostile, src / "a_forged.py")
  (src / "b_honest.py").write_text("def honest():\n  return 7\n")
  starts = []
  real = sandbox.spawn
  monkeypatch.setattr(sandbox, "spawn", lambda *a, **k: starts.append(1) or real(*a, **k))
  report, (out,), _ = sandbox.run_submission(
    src, [("honest", ())], ["honest", "dtw"], mode=strongest(), limits=session_limits(wall_s=20), uid_slot=6
  )
  # The module that really stopped the worker is blamed (once), the honest one still graded.
  assert len(starts) == 2, len(starts)
  assert "a_forged.py" in report.modules and out.status == "ok" and out.value == 7


def test_the_restart_cap_holds_while_loading(scratch, monkeypatch):
  monkeypatch.setattr(sandbox, "MAX_RESTARTS", 3)
  src = scratch / "sub"
  src.mkdir()
  for i in range(6):  # six modules that each stop the worker on import: more than the cap
    (src / f"m{i}.py").write_text("import os\nos._exit(1)\n")
  starts = []
  real = sandbox.spawn
  monkeypatch.setattr(sandbox, "spawn", lambda *a, **k: starts.append(1) or real(*a, **k))
  with pytest.raises(sandbox.LoadFailed, match="restarted too many times"):
    sandbox.run_submission(src, [], ["f"], mode=strongest(), limits=session_limits(wall_s=30), uid_slot=6)
  assert len(starts) == 4


def test_plain_mode_as_a_non_root_grader_refuses_hidden_cases(scratch):
  """Student code would run under the grader's uid and read its environment (the seed): refused, exit 2."""
  if not iso._is_root():
    pytest.skip("needs root to start the grader as another user")
  sub = scratch / "hw.py"
  sub.write_text("def encode(v):\n  return v\n")
  home = scratch / "home"
  home.mkdir()
  home.chmod(0o777)
  project = Path(__file__).resolve().parents[2]
  env = {
    "PATH": "/usr/bin:/bin",
    "HOME": str(home),
    "LANG": "C.UTF-8",
    "GRADER_SEED": "86753094217",
    "PYTHONPATH": str(project),
  }
  as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-m", "grader"]
  proc = subprocess.run(
    [*as_nobody, str(sub), "--sandbox", "plain", "--allow-plain", "--results", str(home / "r.json")],
    cwd=project,
    env=env,
    capture_output=True,
    text=True,
    timeout=120,
    check=False,
  )
  assert proc.returncode == 2, proc.stderr[-2000:]
  assert "--allow-same-uid" in proc.stderr and "GRADER_SEED" in proc.stderr
  results = json.loads((home / "r.json").read_text())
  assert results["score"] == 0 and "--allow-same-uid" in results["output"]  # the student is told, not graded


def test_the_flag_that_names_the_risk_lets_grading_go_on(scratch, monkeypatch):
  import grader.__main__ as cli
  from grader import grade

  sub = scratch / "hw.py"
  sub.write_text("def encode(v):\n  return v\n")
  monkeypatch.setattr(iso, "_is_root", lambda: False)
  monkeypatch.setattr(cli, "_mode", lambda requested: ("plain", None))
  graded = []

  class Stop(Exception):
    pass

  def fake_grade(*a, **k):
    graded.append(a)
    raise Stop

  monkeypatch.setattr(grade, "load_caseset", lambda *a, **k: None)
  monkeypatch.setattr(grade, "grade_submission", fake_grade)
  assert cli.main([str(sub), "--sandbox", "plain", "--allow-plain"]) == 2 and not graded
  assert (
    cli.main([str(sub), "--sandbox", "plain", "--allow-plain", "--allow-same-uid"]) == 1 and graded
  )  # reached grading
  assert iso.shares_grader_uid("plain") and not iso.shares_grader_uid("bwrap")


@pytest.mark.parametrize("mode", MODES)
def test_a_reference_cache_in_a_world_readable_folder_stays_unreadable(mode, scratch):
  """GRADER_CACHE_DIR may be anywhere: its files are the grader's alone (0600), even where plain mode sees them."""
  need(mode)
  from grader import grade

  folder = Path(tempfile.mkdtemp(prefix="prot-cache-"))
  try:
    folder.chmod(0o755)
    path = folder / "references-test.json"
    grade._write_cache(path, "k", {"f": [1.0]}, {})
    assert path.exists() and path.stat().st_mode & 0o077 == 0
    code = f"""
      try:
        open({str(path)!r}).read(); print("read")
      except OSError as e:
        print("refused", type(e).__name__)
    """
    proc = iso.spawn(mode, [sys.executable, "-c", textwrap.dedent(code)], scratch=scratch, limits=SMALL, uid_slot=6)
    try:
      out, _ = proc.communicate(timeout=60)
    finally:
      iso.kill(proc)
    if not iso._is_root():
      pytest.skip("as non-root, plain mode runs as the grader itself (refused without --allow-same-uid)")
    assert out.decode().split()[0] == "refused", out
  finally:
    shutil.rmtree(folder, ignore_errors=True)
