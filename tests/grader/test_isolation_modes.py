"""grader/isolation.py in every mode that runs here: limits, hiding, no network, killing; all bounded."""

import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from grader import isolation as iso

# Every hostile snippet below ends by itself (bounded loops, a few dozen forks), so a broken limit
# makes a test fail rather than take the machine down.
MODES = [pytest.param(m, id=m) for m in iso.MODES]
SMALL = iso.Limits(
  cpu_s=20, wall_s=30, call_wall_s=30, mem_bytes=3 << 30, nproc=40, fsize_bytes=1 << 20, nofile=64, output_bytes=1 << 16
)
PY = sys.executable


def need(mode):
  """Skips the test when the mode does not run on this machine, saying why."""
  why = iso._check(mode)
  if why:
    pytest.skip(why)


def run(mode, code, scratch, limits=SMALL, slot=1, timeout=60, **kw):
  """Runs a Python snippet in the sandbox; returns (returncode, stdout, stderr) as text."""
  proc = iso.spawn(mode, [PY, "-c", textwrap.dedent(code)], scratch=scratch, limits=limits, uid_slot=slot, **kw)
  try:
    out, err = proc.communicate(timeout=timeout)
  finally:
    iso.kill(proc)
  return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def fresh_dir(prefix):
  """A folder under /tmp, as the grader makes its scratch (pytest's own tmp_path sits under a 0700 folder)."""
  return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture
def scratch():
  """A scratch folder of its own (the sandbox's uid takes it over)."""
  d = fresh_dir("iso-scratch-")
  yield d
  shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def outside():
  """A host folder outside scratch, under /tmp, removed afterwards."""
  d = fresh_dir("iso-outside-")
  d.chmod(0o755)
  yield d
  shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("mode", MODES)
def test_honest_jax_stays_well_inside_the_default_limits(mode, scratch):
  need(mode)
  limits = iso.Limits()
  code = """
    import os, resource, time
    t = time.time()
    import jax, jax.numpy as jnp
    f = jax.jit(lambda a, b: jax.nn.softmax(a @ b.T, axis=-1) @ b)
    x = jnp.ones((64, 32))
    for i in range(5):
      f(x * i, x).block_until_ready()
    g = jax.jit(jax.grad(lambda w: jnp.sum(jnp.tanh(x @ w))))
    g(jnp.ones((32, 8))).block_until_ready()
    u = resource.getrusage(resource.RUSAGE_SELF)
    peak = int(open("/proc/self/status").read().split("VmPeak:")[1].split()[0]) * 1024
    print(u.ru_utime + u.ru_stime, peak, len(os.listdir("/proc/self/task")),
          len(os.listdir("/proc/self/fd")), time.time() - t)
  """
  rc, out, err = run(mode, code, scratch, limits=limits)
  assert rc == 0, err
  cpu, peak, tasks, fds, wall = (float(v) for v in out.split())
  print(
    f"{mode}: cpu {cpu:.2f}s, address space {peak / 2**30:.2f} GiB, tasks {tasks:.0f}, fds {fds:.0f}, wall {wall:.2f}s"
  )
  # At least a factor of two to spare on every limit (the wall figure is the caller's per-call budget).
  assert cpu < limits.cpu_s / 2 and peak < limits.mem_bytes / 2
  assert tasks < limits.nproc / 2 and fds < limits.nofile / 2 and wall < limits.call_wall_s / 2


@pytest.mark.parametrize("mode", MODES)
def test_a_loopback_listener_of_the_host_is_not_reached(mode, scratch):
  need(mode)
  with socket.socket() as srv:
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.setblocking(False)
    port = srv.getsockname()[1]
    code = f"""
      import socket
      s = socket.socket(); s.settimeout(2)
      try:
        s.connect(("127.0.0.1", {port})); s.sendall(b"leak"); print("connected")
      except OSError as e:
        print("refused", e.errno)
    """
    rc, out, err = run(mode, code, scratch)
    try:
      srv.accept()[0].close()
      reached = True
    except BlockingIOError:
      reached = False
  # plain mode has no network namespace: the threat model says so, and this keeps it honest.
  assert reached == (mode == "plain"), (out, err)
  assert rc == 0 and out.startswith("connected" if mode == "plain" else "refused"), (out, err)


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_the_project_checkout_is_invisible(mode, scratch):
  need(mode)
  root = iso.PROJECT_ROOT
  code = f"""
    import importlib, os
    seen = sorted(os.listdir({str(root)!r})) if os.path.isdir({str(root)!r}) else []
    print(seen)
    for name in ("zoo", "grader", "solutions", "exercises", "tests"):
      try:
        importlib.import_module(name); print("imported", name)
      except ImportError:
        pass
    for sub in ("zoo", "grader", "solutions", "tests", "pyproject.toml", ".git"):
      print(sub, os.path.exists(os.path.join({str(root)!r}, sub)))
  """
  rc, out, err = run(mode, code, scratch)
  assert rc == 0, err
  lines = out.splitlines()
  venv_inside = iso._under(sys.prefix, str(root))
  assert lines[0] == (str([Path(sys.prefix).relative_to(root).parts[0]]) if venv_inside else "[]")
  assert "imported" not in out
  assert all(line.endswith("False") for line in lines[1:]), out


@pytest.mark.parametrize("mode", MODES)
def test_the_environment_is_empty_and_nothing_leaks_through_proc(mode, scratch, monkeypatch):
  need(mode)
  monkeypatch.setenv("MMZOO_SECRET_TOKEN", "s3cr3t-value")
  code = """
    import os
    print(sorted(os.environ))
    leaked = []
    for pid in os.listdir("/proc"):
      if pid.isdigit():
        try:
          if b"s3cr3t" in open(f"/proc/{pid}/environ", "rb").read():
            leaked.append(pid)
        except OSError:
          pass
    print("leaked", leaked)
  """
  rc, out, err = run(mode, code, scratch)
  assert rc == 0, err
  names, leaked = out.splitlines()
  allowed = set(iso.child_env(scratch, "/tmp")) | {"PWD", "LC_CTYPE"}
  assert set(eval(names)) <= allowed
  assert leaked == "leaked []"


@pytest.mark.parametrize("mode", MODES)
def test_writes_outside_scratch_do_not_reach_the_host(mode, scratch, outside):
  need(mode)
  shared = outside / "shared"  # world-writable, like /tmp: only namespaces keep a uid out of it
  shared.mkdir(mode=0o777)
  shared.chmod(0o777)
  closed = outside / "closed"  # root's, mode 0755: no uid but root may write
  closed.mkdir()
  victim = closed / "victim.txt"
  victim.write_text("original")
  host_tmp = Path("/tmp", f"iso-new-{os.getpid()}-{mode}.txt")  # the host's /tmp, world-writable
  host_tmp.unlink(missing_ok=True)
  code = f"""
    import os
    for target in ({str(victim)!r}, {str(closed / "new.txt")!r}, {str(shared / "new.txt")!r},
                   {sys.prefix + "/new.txt"!r}, "/usr/new.txt", "/new.txt", {str(host_tmp)!r}, "new.txt"):
      try:
        with open(target, "w") as f:
          f.write("owned")
        print("wrote", target)
      except OSError as e:
        print("denied", target, e.errno)
  """
  rc, out, err = run(mode, code, scratch)
  assert rc == 0, err
  assert victim.read_text() == "original" and not (closed / "new.txt").exists()
  assert not Path(sys.prefix, "new.txt").exists() and not Path("/usr/new.txt").exists()
  assert "wrote new.txt" in out  # scratch is writable from inside
  if mode == "plain":  # documented: plain mode cannot keep a uid out of world-writable host folders ...
    assert (scratch / "new.txt").read_text() == "owned"
    assert f"wrote {host_tmp}" in out and f"wrote {shared / 'new.txt'}" in out
    if iso._is_root():  # ... but, with a uid of its own, kill() sweeps what it left there (issue 12, F3)
      assert not (shared / "new.txt").exists() and not host_tmp.exists()
    host_tmp.unlink(missing_ok=True)
    return
  assert not (scratch / "new.txt").exists()  # ... but what is written there stays in the sandbox
  assert not (shared / "new.txt").exists()
  assert f"wrote {host_tmp}" in out and not host_tmp.exists()  # a private /tmp


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_scratch_writes_are_capped_and_the_grader_files_read_only(mode, scratch):
  need(mode)
  (scratch / "sub").mkdir()
  (scratch / "sub" / "mine.py").write_text("x = 1\n")
  code = """
    import os
    try:
      open("sub/mine.py", "a").write("y = 2")
      print("modified")
    except OSError as e:
      print("read-only", e.errno)
    print(open("sub/mine.py").read().strip())
    written = 0
    try:
      for i in range(40):  # 40 x 4 MiB, over the 8 MiB cap below
        with open(f"sub/fill{i}", "wb") as f:
          f.write(b"x" * (4 << 20))
        written += 4
    except OSError as e:
      print("full", e.errno, written)
  """
  limits = iso.Limits(cpu_s=20, mem_bytes=3 << 30, nproc=40, fsize_bytes=16 << 20, nofile=64, scratch_bytes=8 << 20)
  rc, out, err = run(mode, code, scratch, limits=limits)
  assert rc == 0, err
  lines = out.splitlines()
  if mode == "bwrap":  # the grader's files are bound read-only
    assert lines[0].startswith("read-only") and lines[1] == "x = 1"
  else:  # unshare copies them: the sandbox may change its private copy, never the host's
    assert lines[:3] == ["modified", "x = 1", "y = 2"]
  assert lines[-1].startswith("full 28 ") and int(lines[-1].split()[2]) <= 8  # ENOSPC at the cap
  assert sorted(os.listdir(scratch / "sub")) == ["mine.py"]
  assert (scratch / "sub" / "mine.py").read_text() == "x = 1\n"


@pytest.mark.parametrize("mode", MODES)
def test_a_bounded_fork_loop_is_stopped_by_the_process_limit(mode, scratch):
  need(mode)
  # 300 forks at most; each child waits on a pipe so that they pile up, and exits when it closes.
  code = """
    import os
    r, w = os.pipe()
    n, why = 0, "none"
    for _ in range(300):
      try:
        pid = os.fork()
      except OSError as e:
        why = type(e).__name__
        break
      if pid == 0:
        os.close(w); os.read(r, 1); os._exit(0)
      n += 1
    print(n, why, flush=True)
    os.close(w)
  """
  # Twice in one slot: the second sandbox starts among the first one's zombies (kill() does not wait for
  # them); its limit allows for at most nproc // 4 of them, so it is still bounded, and still forks.
  for _ in range(2):
    rc, out, err = run(mode, code, scratch)
    n, why = out.split()
    assert why == "BlockingIOError" and 0 < int(n) < SMALL.nproc + SMALL.nproc // 4, (out, err)


def test_a_slot_allows_for_a_few_leftover_zombies_and_waits_for_many(monkeypatch):
  counts = []
  monkeypatch.setattr(iso, "_user_tasks", lambda uid, zombies=False: counts.pop(0) if len(counts) > 1 else counts[0])
  counts[:] = [0]
  assert iso._slot_nproc(12345, SMALL) == SMALL.nproc
  counts[:] = [3]  # a worker's leftovers: allowed for at once
  assert iso._slot_nproc(12345, SMALL) == SMALL.nproc + 3
  counts[:] = [39, 30, 4]  # a fork bomb's: waited for until few are left
  assert iso._slot_nproc(12345, SMALL) == SMALL.nproc + 4 and len(counts) == 1
  counts[:] = [39]  # never reaped: after the wait, the allowance stops at nproc // 4
  t = time.monotonic()
  assert iso._slot_nproc(12345, SMALL, wait_s=0.2) == SMALL.nproc + SMALL.nproc // 4
  assert time.monotonic() - t >= 0.2


@pytest.mark.parametrize("mode", MODES)
def test_the_address_space_limit_stops_a_30_gb_allocation(mode, scratch):
  need(mode)
  code = """
    try:
      b = bytearray(30 << 30); print("allocated", len(b))
    except MemoryError:
      print("MemoryError")
  """
  rc, out, err = run(mode, code, scratch)
  assert rc == 0 and out.strip() == "MemoryError", (out, err)


@pytest.mark.parametrize("mode", MODES)
def test_the_sandbox_is_the_first_oom_victim(mode, scratch):
  need(mode)
  if not shutil.which("choom"):
    pytest.skip("choom (util-linux) is not installed")
  code = """
    import subprocess, sys
    read = "print(open('/proc/self/oom_score_adj').read().strip())"
    exec(read)
    subprocess.run([sys.executable, "-c", read])  # a child inherits it
  """
  rc, out, err = run(mode, code, scratch)
  assert rc == 0 and out.split() == ["1000", "1000"], (out, err)


@pytest.mark.parametrize("mode", MODES)
def test_the_cpu_limit_stops_a_busy_loop(mode, scratch):
  need(mode)
  code = """
    import time
    t = time.monotonic()
    while time.monotonic() - t < 30:
      pass
    print("survived")
  """
  t = time.monotonic()
  rc, out, err = run(mode, code, scratch, limits=iso.Limits(cpu_s=1))
  took = time.monotonic() - t
  assert "survived" not in out and took < 15
  # SIGXCPU, reported as a signal or (through bwrap or unshare) as 128 + the signal's number.
  assert iso.exit_signal(rc) == signal.SIGXCPU, (rc, err)
  assert "CPU time limit" in iso.describe_exit(rc)


@pytest.mark.parametrize("mode", MODES)
def test_a_setsid_grandchild_dies_with_kill(mode, scratch):
  need(mode)
  grandchild_dies(mode, scratch)


def test_the_uid_sweep_works_without_procps_kill(scratch, monkeypatch):
  real = os.access
  monkeypatch.setattr(iso.os, "access", lambda p, m: False if str(p).endswith("/kill") else real(p, m))
  assert iso._kill_all_argv()[0] != "/usr/bin/kill"
  grandchild_dies("plain", scratch)


def grandchild_dies(mode, scratch):
  """A setsid grandchild started in the sandbox is gone after kill()."""
  # The grandchild leaves the session and beats on the inherited stderr pipe. After kill(), the pipe
  # reaching its end proves that no process holds it any more.
  (scratch / "beater.py").write_text(
    "import sys, time\nfor _ in range(600):\n  sys.stderr.write('.'); sys.stderr.flush(); time.sleep(0.05)\n"
  )
  code = """
    import subprocess, sys, time
    subprocess.Popen([sys.executable, "beater.py"], start_new_session=True)
    print("started", flush=True)
    time.sleep(30)
  """
  proc = iso.spawn(mode, [PY, "-c", textwrap.dedent(code)], scratch=scratch, limits=SMALL, uid_slot=2)
  fd = proc.stderr.fileno()
  try:
    assert proc.stdout.readline().strip() == b"started"
    beats = b""
    deadline = time.monotonic() + 20
    while beats.count(b".") < 3 and time.monotonic() < deadline:
      if select.select([fd], [], [], 0.5)[0]:
        beats += os.read(fd, 4096)
    assert beats.count(b".") >= 3, beats
  finally:
    iso.kill(proc)
  deadline = time.monotonic() + 5
  while time.monotonic() < deadline:
    if select.select([fd], [], [], 0.5)[0] and os.read(fd, 65536) == b"":
      break
  else:
    pytest.fail("something still holds the sandbox's stderr after kill()")
  if proc.sandbox_uid is not None:
    assert iso._user_tasks(proc.sandbox_uid) == 0


@pytest.mark.parametrize("mode", MODES)
def test_two_uid_slots_do_not_share_the_process_limit(mode, scratch, outside):
  need(mode)
  if not iso._is_root():
    pytest.skip("only root gives each slot a uid of its own")
  hog = """
    import os, sys
    r, w = os.pipe()
    n = 0
    for _ in range(300):
      try:
        pid = os.fork()
      except OSError:
        break
      if pid == 0:
        os.close(w); os.read(r, 1); os._exit(0)
      n += 1
    print(n, flush=True)
    sys.stdin.read(1)
  """
  other = outside / "other"
  other.mkdir()
  a = iso.spawn(mode, [PY, "-c", textwrap.dedent(hog)], scratch=scratch, limits=SMALL, uid_slot=3)
  try:
    assert 0 < int(a.stdout.readline()) < SMALL.nproc  # slot 3 is now at its limit, and stays there
    rc, out, err = run(
      mode,
      """
      import os
      kids = []
      for _ in range(20):
        pid = os.fork()
        if pid == 0:
          os._exit(0)
        kids.append(pid)
      for pid in kids:
        os.waitpid(pid, 0)
      print(len(kids))
    """,
      other,
      slot=4,
    )
    assert rc == 0 and out.strip() == "20", (out, err)
  finally:
    iso.kill(a)
  assert iso.sandbox_uid(3) != iso.sandbox_uid(4)


@pytest.mark.parametrize("mode", ["bwrap", "unshare"])
def test_paths_under_a_0700_folder_are_staged_for_the_sandbox_uid(mode, tmp_path):
  need(mode)
  locked = tmp_path / "locked"  # like a clone under /root: the sandbox's uid cannot walk into it
  (locked / "venvish").mkdir(parents=True)
  (locked / "venvish" / "data.txt").write_text("readable")
  (locked / "scratch").mkdir()
  locked.chmod(0o700)
  (locked / "scratch" / "given.txt").write_text("given")
  code = f"""
    print(open({str(locked / "venvish" / "data.txt")!r}).read())
    print(open("given.txt").read())
    open("out.txt", "w").write("written")
    print(open("out.txt").read())
  """
  rc, out, err = run(mode, code, locked / "scratch", ro_paths=[locked / "venvish"])
  assert rc == 0 and out.split() == ["readable", "given", "written"], (out, err)


def test_a_venv_out_of_the_sandbox_uid_reach_is_staged_for_bwrap(scratch, monkeypatch):
  """CI's clone may sit under a 0700 /root: bwrap then gets the venv through a private staging mount."""
  need("bwrap")
  if not iso._is_root():
    pytest.skip("staging needs root")
  real = iso._reachable
  monkeypatch.setattr(iso, "_reachable", lambda p, uid: p != sys.prefix and real(p, uid))
  rc, out, err = run("bwrap", "import sys, numpy; print(sys.prefix, numpy.ones(2).sum())", scratch)
  assert rc == 0 and out.split() == [sys.prefix, "2.0"], (out, err)
  argv = iso._bwrap_argv([PY], scratch, SMALL, iso.sandbox_uid(1), [])
  assert argv[0].endswith("unshare") and "mount --bind" in argv[-1]  # it really went through the stage


def test_detect_prefers_the_strongest_mode_and_refuses_what_cannot_run():
  working = [m for m in iso.MODES if iso._check(m) is None]
  assert working and iso.detect() == working[0]
  for m in working:
    assert iso.detect(m) == m
  with pytest.raises(iso.IsolationUnavailable):
    iso.detect("chroot")
  for m in set(iso.MODES) - set(working):
    with pytest.raises(iso.IsolationUnavailable):
      iso.detect(m)


def test_read_capped_keeps_only_the_cap_of_a_flood(scratch):
  proc = iso.spawn(
    "plain",
    [PY, "-c", "import sys\nfor _ in range(200): sys.stdout.write('x' * 65536)"],
    scratch=scratch,
    limits=SMALL,
    uid_slot=5,
  )
  try:
    got = iso.read_capped(proc.stdout, 1000)
  finally:
    iso.kill(proc)
  assert got == b"x" * 1000
