"""Starts untrusted student code in an isolated process: bubblewrap, else unshare, else a plain subprocess."""
from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODES = ("bwrap", "unshare", "plain")  # strongest first
PROJECT_ROOT = Path(__file__).resolve().parents[1]

# Each sandbox runs under a host uid of its own, so RLIMIT_NPROC (counted per host uid, ignored for root)
# holds, and one student's fork bomb cannot starve another's. The uid is derived from the grader's pid
# as well as the slot, so two graders running at once on one machine (two batches, two test runs) never
# share a uid, and kill()'s sweep of a uid cannot hit someone else's sandbox. Slots are 0..255.
UID_BASE = 2_000_000_000
SLOTS = 256
NOBODY = 65534  # the uid and gid student code sees inside bwrap's user namespace


@dataclasses.dataclass(frozen=True)
class Limits:
  """Resource limits for one sandboxed process; defaults leave room for an honest JAX submission."""
  cpu_s: int = 600  # RLIMIT_CPU, whole process; XLA's compile threads count, so this is a backstop
  wall_s: float = 900.0  # the caller's wall-clock budget for one submission (enforced by the caller)
  call_wall_s: float = 30.0  # the caller's wall-clock budget for one call (a first jit compile ~1 s)
  mem_bytes: int = 4 << 30  # RLIMIT_AS; JAX reserves ~1.5 GiB of address space just to import
  nproc: int = 128  # RLIMIT_NPROC: tasks (processes and threads) of the sandbox's host uid
  fsize_bytes: int = 64 << 20  # RLIMIT_FSIZE; also the size of bwrap's private /tmp
  nofile: int = 256  # RLIMIT_NOFILE
  output_bytes: int = 1 << 20  # what the caller reads of stderr (see read_capped)


class IsolationUnavailable(RuntimeError):
  """The requested isolation mode cannot run on this machine."""


def _warn(msg: str) -> None:
  """Says something loud on the grader's stderr."""
  print(f"grader.isolation: WARNING: {msg}", file=sys.stderr, flush=True)


def _tool(name: str) -> str:
  """Absolute path of a system tool (the child starts with an empty PATH), or IsolationUnavailable."""
  for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
    p = Path(d) / name
    if os.access(p, os.X_OK):
      return str(p)
  found = shutil.which(name)
  if not found:
    raise IsolationUnavailable(f"{name} is not installed")
  return found


def _is_root() -> bool:
  """Whether the grader runs as root (and so can give each sandbox a uid of its own)."""
  return os.geteuid() == 0


def sandbox_uid(uid_slot: int) -> int:
  """The host uid a sandbox in this slot runs as (only when the grader is root)."""
  if not 0 <= uid_slot < SLOTS:
    raise ValueError(f"uid_slot must be in [0, {SLOTS}), got {uid_slot}")
  return UID_BASE + (os.getpid() % 4_194_304) * SLOTS + uid_slot


def child_env(scratch: Path, tmpdir: str) -> dict[str, str]:
  """The whole environment student code gets: what Python needs, and single-threaded numeric libraries."""
  return {
    "PATH": "/usr/bin:/bin",
    "HOME": str(scratch),
    "TMPDIR": tmpdir,
    "LANG": "C.UTF-8",
    "LC_ALL": "C.UTF-8",
    "PYTHONNOUSERSITE": "1",
    "PYTHONDONTWRITEBYTECODE": "1",
    "JAX_PLATFORMS": "cpu",  # the grader runs student code on the CPU even on an accelerator machine
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
  }


def _user_tasks(uid: int) -> int:
  """How many tasks (threads included) a host uid runs now; RLIMIT_NPROC counts these."""
  n = 0
  for d in Path("/proc").iterdir():
    if d.name.isdigit():
      try:
        if d.stat().st_uid == uid:
          n += len(os.listdir(d / "task"))
      except OSError:
        pass
  return n


def _prlimit(limits: Limits, nproc: int) -> list[str]:
  """A prlimit(1) prefix that sets every rlimit on itself and then execs the rest (no preexec_fn)."""
  def both(v: int) -> str:
    return f"{v}:{v}"
  return [_tool("prlimit"), f"--cpu={both(limits.cpu_s)}", f"--as={both(limits.mem_bytes)}",
          f"--fsize={both(limits.fsize_bytes)}", f"--nofile={both(limits.nofile)}",
          f"--nproc={both(nproc)}", "--core=0:0", "--"]


def _setpriv(uid: int) -> list[str]:
  """A setpriv(1) prefix that drops to a non-root host uid with no groups, capabilities or new privileges."""
  return [_tool("setpriv"), f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
          "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]


def _give_scratch(scratch: Path, uid: int) -> None:
  """Hands the scratch folder (recursively) to the sandbox's uid so student code can write there."""
  for root, dirs, files in os.walk(scratch):
    for name in dirs + files:
      os.lchown(os.path.join(root, name), uid, uid)
  os.chown(scratch, uid, uid)


def _plain_argv(argv: list[str], scratch: Path, limits: Limits, uid: int | None) -> tuple[list[str], dict]:
  """plain: rlimits, a new session, an empty environment and, as root, a uid of its own; nothing hidden."""
  if uid is None:
    # Not root: RLIMIT_NPROC counts this user's own processes too, so allow those plus the sandbox's.
    nproc = _user_tasks(os.getuid()) + limits.nproc
    prefix = _prlimit(limits, nproc)
  else:
    prefix = _setpriv(uid) + _prlimit(limits, limits.nproc)
  return prefix + argv, child_env(scratch, str(scratch))


def spawn(mode: str, argv: list[str], *, scratch: Path, limits: Limits,
          uid_slot: int = 0) -> subprocess.Popen:
  """Starts argv in the given isolation mode; stdin, stdout and stderr are unbuffered binary pipes."""
  scratch = Path(scratch).resolve()
  uid = sandbox_uid(uid_slot) if _is_root() else None
  if uid is not None:
    _give_scratch(scratch, uid)
  if mode == "plain":
    full, env = _plain_argv(argv, scratch, limits, uid)
  else:
    raise IsolationUnavailable(f"unknown isolation mode {mode!r}")
  proc = subprocess.Popen(full, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, cwd=str(scratch), start_new_session=True, bufsize=0, close_fds=True)
  proc.isolation_mode = mode
  proc.sandbox_uid = uid
  return proc


def _sweep_uid(uid: int) -> None:
  """Kills every process of a sandbox's host uid: kill(-1) sent as that uid reaches all of them."""
  kill_bin = _tool("kill")
  for _ in range(20):  # a fork loop may create processes while a sweep runs; repeat until none is left
    subprocess.run(_setpriv(uid) + [kill_bin, "-KILL", "-1"], env={}, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if _user_tasks(uid) == 0:
      return
    time.sleep(0.01)
  _warn(f"processes of sandbox uid {uid} survived 20 sweeps")


def kill(proc: subprocess.Popen) -> None:
  """Kills the whole sandbox (its session, its namespace, every process of its uid) and reaps it."""
  try:
    os.killpg(proc.pid, signal.SIGKILL)
  except (ProcessLookupError, PermissionError):
    pass
  uid = getattr(proc, "sandbox_uid", None)
  if uid is not None:
    _sweep_uid(uid)
  proc.wait()
  for pipe in (proc.stdin, proc.stdout, proc.stderr):
    if pipe is not None:
      try:
        pipe.close()
      except OSError:
        pass


def read_capped(pipe, cap: int) -> bytes:
  """Reads a pipe to its end but keeps at most cap bytes (an uncapped read buffers a flood whole)."""
  kept = bytearray()
  while chunk := pipe.read(65536):
    if len(kept) < cap:
      kept += chunk[: cap - len(kept)]
  return bytes(kept)


def _probe(mode: str) -> None:
  """Runs a trivial Python in the mode; raises IsolationUnavailable with the reason when it fails."""
  with tempfile.TemporaryDirectory(prefix="isoprobe-") as d:
    argv = [sys.executable, "-c", "import sys; sys.stdout.write('ok')"]
    proc = spawn(mode, argv, scratch=Path(d), limits=Limits(), uid_slot=SLOTS - 1)
    try:
      out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
      kill(proc)
      raise IsolationUnavailable(f"{mode}: a trivial probe did not finish in 60 s") from None
    finally:
      kill(proc)
    if proc.returncode != 0 or out != b"ok":
      why = err.decode("utf-8", "replace").strip()[-400:]
      raise IsolationUnavailable(f"{mode}: probe exited {proc.returncode}: {why}")


@functools.cache
def _check(mode: str) -> str | None:
  """None when the mode works here, else why not (probed once per grader process)."""
  try:
    _probe(mode)
  except (IsolationUnavailable, OSError) as e:
    return str(e)
  return None


def detect(requested: str = "auto") -> str:
  """The strongest mode that works here; an explicit request that cannot run raises IsolationUnavailable."""
  if requested != "auto":
    if requested not in MODES:
      raise IsolationUnavailable(f"unknown isolation mode {requested!r}; choose from {MODES}")
    why = _check(requested)
    if why:
      raise IsolationUnavailable(why)
    return requested
  for mode in MODES:
    why = _check(mode)
    if why is None:
      return mode
    _warn(f"isolation mode {mode!r} is unavailable, falling back to a weaker one: {why}")
  raise IsolationUnavailable("no isolation mode works here, not even a plain subprocess")
