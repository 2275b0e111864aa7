"""Starts untrusted student code in an isolated process: bubblewrap, else unshare, else a plain subprocess."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
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
  # RLIMIT_NPROC: tasks (processes and threads) of the sandbox's host uid. JAX starts ~16 threads on 2 cores
  # and its pools grow with the core count, so the default grows with it too.
  nproc: int = max(128, 8 * (os.cpu_count() or 1) + 32)
  fsize_bytes: int = 64 << 20  # RLIMIT_FSIZE; also the size of bwrap's private /tmp
  nofile: int = 256  # RLIMIT_NOFILE
  output_bytes: int = 1 << 20  # what the caller reads of stderr (see read_capped)
  # bwrap and unshare: what student code may write in its scratch folder (a private tmpfs, see below)
  scratch_bytes: int = 64 << 20
  # All of one sandbox's processes together (resident memory, tmpfs pages included), through a memory
  # cgroup of its own; where no memory controller can be used, see memory_plan for the fallback.
  sandbox_mem_bytes: int = 2 << 30


class IsolationUnavailable(RuntimeError):
  """The requested isolation mode cannot run on this machine."""


class GraderStopping(BaseException):
  """The grader was told to stop (SIGTERM, SIGHUP): no new sandbox starts, nothing half-graded is kept.

  A BaseException, so that the handlers that turn a submission's failure into a 0 let it through.
  """


def _warn(msg: str) -> None:
  """Says something loud on the grader's stderr."""
  from grader.i18n import notice_lang, t  # English text in, the language of --lang out (i18n.REASONS_ZH)

  print(t(notice_lang(), "isolation_warning", message=msg), file=sys.stderr, flush=True)


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


def shares_grader_uid(mode: str) -> bool:
  """Whether student code in this mode runs under the grader's own host uid with nothing hiding the grader.

  Only plain mode as a non-root grader: as root, every mode drops to a uid of its own; bwrap and unshare
  hide the grader's processes and files behind namespaces.
  """
  return mode == "plain" and not _is_root()


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


def _user_tasks(uid: int, zombies: bool = False) -> int:
  """How many tasks (threads included; zombies only if asked) a host uid has; RLIMIT_NPROC counts them all."""
  n = 0
  for d in Path("/proc").iterdir():
    if d.name.isdigit():
      try:
        if d.stat().st_uid == uid and (zombies or (d / "stat").read_text().rpartition(")")[2].split()[0] != "Z"):
          n += len(os.listdir(d / "task"))
      except (OSError, IndexError):
        pass
  return n


def _prlimit(limits: Limits, nproc: int) -> list[str]:
  """A prlimit(1) prefix that sets every rlimit on itself and then execs the rest (no preexec_fn)."""

  def both(v: int) -> str:
    return f"{v}:{v}"

  # CPU: SIGXCPU at the soft limit (a clear reason), SIGKILL a second later if that signal is caught.
  return [
    _tool("prlimit"),
    f"--cpu={limits.cpu_s}:{limits.cpu_s + 1}",
    f"--as={both(process_mem_bytes(limits))}",
    f"--fsize={both(limits.fsize_bytes)}",
    f"--nofile={both(limits.nofile)}",
    f"--nproc={both(nproc)}",
    "--core=0:0",
    "--",
  ]


def _setpriv(uid: int) -> list[str]:
  """A setpriv(1) prefix that drops to a non-root host uid with no groups, capabilities or new privileges."""
  # --pdeathsig: the sandbox's first process dies with the grader thread that started it (setpriv sets it
  # after the uid change, which would clear it). Its own children do not inherit it: stop_all and
  # kill() sweep the uid for those.
  return [
    _tool("setpriv"),
    f"--reuid={uid}",
    f"--regid={uid}",
    "--clear-groups",
    "--inh-caps=-all",
    "--bounding-set=-all",
    "--no-new-privs",
    "--pdeathsig",
    "KILL",
    "--",
  ]


def _die_with_parent() -> list[str]:
  """A setpriv(1) prefix that only sets the parent-death signal (SIGKILL when the grader thread dies)."""
  return [_tool("setpriv"), "--pdeathsig", "KILL", "--"]


def _oom_first() -> list[str]:
  """A choom(1) prefix that makes the sandbox the kernel's first OOM victim (its children inherit it)."""
  # RLIMIT_AS bounds each process, not the sandbox: nproc processes may each take mem_bytes. Without a
  # memory cgroup, this keeps a memory bomb from costing anything but itself. Skipped where choom is missing.
  try:
    return [_tool("choom"), "-n", "1000", "--"]
  except IsolationUnavailable:
    return []


def _give_scratch(scratch: Path, uid: int) -> None:
  """Hands the scratch folder (recursively) to the sandbox's uid so student code can write there."""
  for root, dirs, files in os.walk(scratch):
    for name in dirs + files:
      os.lchown(os.path.join(root, name), uid, uid)
  os.chown(scratch, uid, uid)


def _plain_argv(argv: list[str], scratch: Path, limits: Limits, uid: int | None) -> tuple[list[str], dict]:
  """plain: rlimits, a new session, an empty environment and, as root, a uid of its own; nothing hidden."""
  if uid is not None:
    # No namespace to stage through here: a venv the sandbox's uid cannot read (a clone under a 0700
    # /root) is refused rather than run as root, where RLIMIT_NPROC would not hold.
    blocked = [p for p, _ in _exposures(scratch, []) if not _reachable(p, uid)]
    if blocked:
      raise IsolationUnavailable(f"plain: the sandbox uid cannot read {blocked}; make them world-readable")
  return _wrap_uid(argv, limits, uid), child_env(scratch, str(scratch))


def _under(path: str, top: str) -> bool:
  """Whether path is top or lies below it."""
  return path == top or path.startswith(top.rstrip("/") + "/")


def _exposures(scratch: Path, ro_paths: list[Path]) -> list[tuple[str, bool]]:
  """The host paths shown inside the sandbox at the same place: (path, writable)."""
  ro = [sys.prefix, *(() if _under(sys.base_prefix, "/usr") else (sys.base_prefix,))]
  ro += [str(Path(p).resolve()) for p in ro_paths]
  return [(p, False) for p in dict.fromkeys(ro)] + [(str(scratch), True)]


def _scratch_tree(scratch: str) -> tuple[list[str], list[str]]:
  """The folders and regular files already in scratch (what the grader wrote), as absolute paths."""
  dirs, files = [], []
  for root, dnames, fnames in os.walk(scratch):
    dirs += [os.path.join(root, d) for d in dnames if not os.path.islink(os.path.join(root, d))]
    files += [
      os.path.join(root, f)
      for f in fnames
      if os.path.isfile(os.path.join(root, f)) and not os.path.islink(os.path.join(root, f))
    ]
  return sorted(dirs), sorted(files)


def _reachable(path: str, uid: int) -> bool:
  """Whether a host uid (in no group) can walk to path and read it, by the permission bits."""
  p = Path(path)
  for a in [*reversed(p.parents), p]:
    st = os.stat(a)
    if st.st_uid != uid and not st.st_mode & 0o001:
      return False
  st = os.stat(p)
  return st.st_uid == uid or bool(st.st_mode & 0o004)


def _stage_dir(exposed: list[str]) -> str:
  """An existing, normally empty directory to mount a private tmpfs on (in a mount namespace of our own)."""
  for d in ("/srv", "/media", "/mnt", "/opt"):
    if os.path.isdir(d) and not any(_under(p, d) for p in exposed):
      return d
  raise IsolationUnavailable("no directory to stage paths on (/srv, /media, /mnt, /opt)")


def _wrap_uid(cmd: list[str], limits: Limits, uid: int | None) -> list[str]:
  """Prefixes cmd with the drop to the sandbox's host uid (when root) and the rlimits."""
  if uid is None:
    # Not root: RLIMIT_NPROC counts this user's own processes too, so allow those plus the sandbox's.
    return _die_with_parent() + _prlimit(limits, _user_tasks(os.getuid()) + limits.nproc) + cmd
  return _setpriv(uid) + _prlimit(limits, _slot_nproc(uid, limits)) + cmd


TOP_LEVEL = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")  # merged-/usr symlinks (or real dirs)
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")  # all of /etc Python needs


def _bwrap_args(argv: list[str], scratch: Path, limits: Limits, exposed, source: dict) -> list[str]:
  """bwrap's own command line: every namespace, no capabilities, /usr, the venv and scratch, nothing else."""
  args = [
    _tool("bwrap"),
    "--unshare-all",
    "--unshare-user",
    "--disable-userns",
    "--uid",
    str(NOBODY),
    "--gid",
    str(NOBODY),
    "--hostname",
    "sandbox",
    "--die-with-parent",
    "--new-session",
    "--cap-drop",
    "ALL",
    "--clearenv",
  ]
  for k, v in child_env(scratch, "/tmp").items():
    args += ["--setenv", k, v]
  args += ["--ro-bind", "/usr", "/usr"]
  for name in TOP_LEVEL:
    host = f"/{name}"
    if os.path.islink(host):
      args += ["--symlink", os.readlink(host), host]
    elif os.path.isdir(host):
      args += ["--ro-bind", host, host]
  args += ["--dir", "/etc"]
  for f in ETC_FILES:
    args += ["--ro-bind-try", f, f]
  # /tmp is private and size-capped: tmpfs pages are host memory that RLIMIT_AS does not count.
  args += ["--size", str(limits.fsize_bytes), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"]
  for p, writable in exposed:
    if not writable:
      args += ["--ro-bind", source[p], p]
      continue
    # Scratch: a private tmpfs of limited size at the same path, holding read-only binds of the files
    # the grader put there. Student code may write (new files, folders) but never to the host: writes
    # are capped host memory that vanishes with the sandbox, not an unbounded fill of the host's disk.
    dirs, files = _scratch_tree(p)
    args += ["--size", str(limits.scratch_bytes), "--tmpfs", p]
    args += [a for d in dirs for a in ("--dir", d)]
    args += [a for f in files for a in ("--ro-bind", source[p] + f[len(p) :], f)]
  # The root and /dev are tmpfs owned by the sandbox's uid: read-only, else an unbounded memory sink.
  return args + ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", str(scratch), "--"] + argv


def _bwrap_argv(argv: list[str], scratch: Path, limits: Limits, uid: int | None, ro_paths: list[Path]) -> list[str]:
  """bwrap, started as the sandbox's non-root host uid (an unprivileged user namespace) so RLIMIT_NPROC holds."""
  exposed = _exposures(scratch, ro_paths)
  # That uid must reach the venv and scratch. A clone under a 0700 /root is out of its reach, so such
  # paths are first bind-mounted onto a private staging tmpfs in a mount namespace of our own
  # (`unshare --mount`, propagation private: the host sees nothing) and bwrap binds them from there.
  staged = [] if uid is None else [p for p, _ in exposed if not _reachable(p, uid)]
  stage = _stage_dir([p for p, _ in exposed]) if staged else ""
  source = {p: (f"{stage}/{i}" if p in staged else p) for i, (p, _) in enumerate(exposed)}
  cmd = _wrap_uid(_bwrap_args(argv, scratch, limits, exposed, source), limits, uid)
  if not staged:
    return cmd
  script = ["umask 022", f"mount -t tmpfs -o size=64k,mode=0755 mmzoo-stage {stage}"]
  for i, (p, _) in enumerate(exposed):
    if p in staged:
      script += [f"mkdir {stage}/{i}", f"mount --bind {shlex.quote(p)} {stage}/{i}"]
  script.append("exec " + shlex.join(cmd))
  return [_tool("unshare"), "--mount", "--propagation", "private", "--", "/bin/sh", "-ec", "\n".join(script)]


DEV_NODES = ("null", "zero", "full", "random", "urandom")  # the device nodes unshare mode shows


def _ro_bind(src: str, dest: str) -> list[str]:
  """Shell lines that bind-mount src on dest read-only (dest must exist)."""
  q = shlex.quote
  return [f"mount --rbind {q(src)} {q(dest)}", f"mount -o remount,bind,ro {q(dest)}"]


def _chroot_script(limits: Limits, exposed, r: str, uid: int) -> list[str]:
  """Shell lines (run as root in a private mount namespace) that build a bwrap-like root at r."""
  q = shlex.quote
  s = [
    "umask 022",
    f"mount -t tmpfs -o size=1m,mode=0755 mmzoo-root {r}",
    f"mkdir {r}/usr",
    *_ro_bind("/usr", f"{r}/usr"),
  ]
  for name in TOP_LEVEL:
    host = f"/{name}"
    if os.path.islink(host):
      s.append(f"ln -s {q(os.readlink(host))} {r}{host}")
    elif os.path.isdir(host):
      s += [f"mkdir {r}{host}", *_ro_bind(host, f"{r}{host}")]
  s.append(f"mkdir {r}/etc")
  for f in ETC_FILES:
    if os.path.isfile(f):
      s += [f"touch {r}{f}", *_ro_bind(f, f"{r}{f}")]
  s += [
    f"mkdir {r}/tmp",
    f"mount -t tmpfs -o size={limits.fsize_bytes},mode=1777 mmzoo-tmp {r}/tmp",
    f"mkdir {r}/proc",
    f"mount -t proc proc {r}/proc",
    f"mkdir {r}/dev",
    f"mount -t tmpfs -o size=64k,mode=0755 mmzoo-dev {r}/dev",
  ]
  for n in DEV_NODES:
    s += [f"touch {r}/dev/{n}", f"mount --bind /dev/{n} {r}/dev/{n}"]
  for p, writable in exposed:
    s.append(f"mkdir -p {q(r + p)}")
    if not writable:
      s += _ro_bind(p, r + p)
      continue
    # Scratch as in bwrap mode, a private size-capped tmpfs, but holding a copy of the grader's files
    # (a bind per file would make this script longer than one argument may be: 128 KiB).
    s += [
      f"mount -t tmpfs -o size={limits.scratch_bytes},mode=0755 mmzoo-scratch {q(r + p)}",
      f"cp -R {q(p)}/. {q(r + p)}/",
      f"chown -R {uid}:{uid} {q(r + p)}",
    ]
  return s + [f"mount -o remount,ro {r}/dev", f"mount -o remount,ro {r}"]


def _unshare_argv(argv: list[str], scratch: Path, limits: Limits, uid: int | None, ro_paths: list[Path]) -> list[str]:
  """unshare (root only): new mount/net/pid/ipc/uts namespaces, a chroot built like bwrap's, a non-root uid."""
  if uid is None:
    raise IsolationUnavailable("unshare: needs root (namespaces without a user namespace)")
  exposed = _exposures(scratch, ro_paths)
  r = _stage_dir([p for p, _ in exposed])
  s = _chroot_script(limits, exposed, r, uid)
  env = [f"{k}={v}" for k, v in child_env(scratch, "/tmp").items()]
  # Inside the chroot the tools are found at their /usr paths. chroot also bars the student from making
  # user namespaces: the kernel refuses them to a chrooted process.
  nproc = _slot_nproc(uid, limits)
  inner = [
    "/usr/bin/setpriv",
    *_setpriv(uid)[1:],
    "/usr/bin/prlimit",
    *_prlimit(limits, nproc)[1:],
    "/usr/bin/env",
    "-i",
    f"--chdir={scratch}",
    *env,
    *argv,
  ]
  # Not exec: this shell stays the namespace's init and exits 128+N when the student dies of signal N,
  # as bwrap does (unshare itself fails to re-raise a signal such as SIGXCPU and would say only 1).
  s.append(shlex.join(["/usr/sbin/chroot", r, *inner]) + "; exit $?")
  # unshare itself dies with the grader (pdeathsig), and --kill-child takes the namespace's init with it.
  return [
    *_die_with_parent(),
    _tool("unshare"),
    "--mount",
    "--net",
    "--pid",
    "--ipc",
    "--uts",
    "--fork",
    "--kill-child",
    "--propagation",
    "private",
    "--",
    "/bin/sh",
    "-ec",
    "\n".join(s),
  ]


# ---------------------------------------------------------------------------------------------
# Memory per sandbox. RLIMIT_AS bounds one process, and a sandbox may hold up to nproc of them, so the
# sandbox as a whole is bounded by a memory cgroup of its own: every process of the sandbox is in it,
# the kernel's OOM killer acts inside it only (another sandbox or the grader is never its victim), and
# the grader kills the whole sandbox once the cgroup has seen an OOM kill (Session reports "memory
# limit"). Where no memory controller is writable (a non-root grader, a container without one), the
# fallback is the per-process limit of memory_plan, and the sandbox stays the OOM killer's first pick.
AS_FLOOR = 5 << 29  # 2.5 GiB: JAX reserves ~1.5 GiB of address space just to import (sandbox-findings)
_CGROUP_SEQ = itertools.count()


def _memory_mounts() -> list[tuple[int, str]]:
  """(cgroup version, mount point) of every cgroup hierarchy that may hold the memory controller."""
  found = []
  try:
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
  except OSError:
    return []
  for line in lines:
    left, _, right = line.partition(" - ")
    fields, tail = left.split(), right.split()
    if len(fields) < 5 or len(tail) < 3:
      continue
    if tail[0] == "cgroup" and "memory" in tail[2].split(","):
      found.append((1, fields[4]))
    elif tail[0] == "cgroup2":
      found.append((2, fields[4]))
  return sorted(found)  # v1's memory hierarchy first: where both exist, v2 rarely has the controller


def _own_cgroup(version: int) -> str:
  """This process's cgroup path in the v1 memory hierarchy or in the v2 one."""
  for line in Path("/proc/self/cgroup").read_text().splitlines():
    num, controllers, path = line.split(":", 2)
    if (version == 1 and "memory" in controllers.split(",")) or (version == 2 and num == "0" and not controllers):
      return path
  raise OSError(f"not in a cgroup v{version} memory hierarchy")


@dataclasses.dataclass
class MemoryCgroup:
  """One sandbox's memory cgroup: its folder, its hierarchy's version, and the limit it was given."""

  path: Path
  version: int
  limit: int

  @classmethod
  def create(cls, version: int, parent: Path, limit: int) -> MemoryCgroup:
    """A new cgroup under parent with the limit set (swap included where the kernel counts it)."""
    path = parent / f"mmzoo-{os.getpid()}-{next(_CGROUP_SEQ)}"
    path.mkdir()
    cg = cls(path, version, limit)
    try:
      if version == 1:
        (path / "memory.limit_in_bytes").write_text(str(limit))
        if (path / "memory.memsw.limit_in_bytes").exists():  # memory + swap, so swap is no way around it
          (path / "memory.memsw.limit_in_bytes").write_text(str(limit))
      else:
        (path / "memory.max").write_text(str(limit))
        for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):
          if (path / name).exists():
            (path / name).write_text(value)
    except OSError:
      cg.remove()
      raise
    return cg

  def join_argv(self) -> list[str]:
    """A prefix that moves itself into this cgroup, then execs the rest (its children inherit it)."""
    return [_tool("sh"), "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs")]

  def oom_kills(self) -> int:
    """How many processes the OOM killer has killed in this cgroup so far."""
    name = "memory.oom_control" if self.version == 1 else "memory.events"
    try:
      for line in (self.path / name).read_text().splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
          return int(value)
    except (OSError, ValueError):
      pass
    return 0

  def peak(self) -> int:
    """The most memory the cgroup has used (0 where the kernel does not say)."""
    name = "memory.max_usage_in_bytes" if self.version == 1 else "memory.peak"
    try:
      return int((self.path / name).read_text())
    except (OSError, ValueError):
      return 0

  def remove(self) -> None:
    """Removes the cgroup once its processes are gone (dead processes leave it within moments)."""
    for _ in range(50):
      try:
        self.path.rmdir()
        return
      except FileNotFoundError:
        return
      except OSError:
        time.sleep(0.02)
    _warn(f"could not remove the memory cgroup {self.path}")


def _remove_stale(parent: Path) -> None:
  """Removes the empty cgroups that a grader killed before it could clean up left behind."""
  for d in parent.glob("mmzoo-*-*"):
    pid = d.name.split("-")[1]
    if pid.isdigit() and not os.path.exists(f"/proc/{pid}"):
      try:
        d.rmdir()
      except OSError:
        pass  # still holds processes (or was just removed): left alone


@functools.cache
def _memory_parent() -> tuple[int, Path] | str:
  """(version, the folder sandboxes' cgroups go in) where a memory controller works, else why not."""
  if not _is_root():
    return "the grader is not root, so it cannot create cgroups"
  why = "no cgroup hierarchy with the memory controller is mounted"
  for version, mount in _memory_mounts():
    try:
      parent = Path(mount + _own_cgroup(version).rstrip("/"))
      if version == 2:
        if "memory" not in (parent / "cgroup.controllers").read_text().split():
          why = "cgroup v2 is mounted without the memory controller"
          continue
        if "memory" not in (parent / "cgroup.subtree_control").read_text().split():
          (parent / "cgroup.subtree_control").write_text("+memory")
      MemoryCgroup.create(version, parent, 64 << 20).remove()  # a trial: creating and limiting works
      _remove_stale(parent)
      return version, parent
    except OSError as e:
      why = f"cgroup v{version} at {mount}: {e}"
  return why


def memory_cgroup(limits: Limits) -> MemoryCgroup | None:
  """A fresh memory cgroup for one sandbox, or None where no controller can be used (the fallback applies)."""
  parent = _memory_parent()
  if isinstance(parent, str):
    return None
  return MemoryCgroup.create(parent[0], parent[1], limits.sandbox_mem_bytes)


def _machine_memory() -> int:
  """The machine's physical memory in bytes."""
  return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def process_mem_bytes(limits: Limits) -> int:
  """RLIMIT_AS for each sandboxed process: limits.mem_bytes with a memory cgroup, else the fallback.

  Without a cgroup, up to nproc processes may each hold this much, so it is cut to what lets nproc of
  them fit the machine, but never under AS_FLOOR (JAX could not even import): memory_plan says whether
  the cut was enough.
  """
  if not isinstance(_memory_parent(), str):
    return limits.mem_bytes
  return min(limits.mem_bytes, max(AS_FLOOR, _machine_memory() // limits.nproc))


def has_memory_cgroup() -> bool:
  """Whether sandboxes get a memory cgroup here (else memory_plan's per-process fallback applies)."""
  return not isinstance(_memory_parent(), str)


def memory_plan(limits: Limits) -> str:
  """Which memory limit applies to a sandbox, in one sentence for the teacher."""
  mib = 1 << 20
  parent = _memory_parent()
  if not isinstance(parent, str):
    return (
      f"memory: {limits.sandbox_mem_bytes // mib} MiB for each sandbox as a whole "
      f"(cgroup v{parent[0]} memory controller)"
    )
  per = process_mem_bytes(limits)
  total, need = _machine_memory(), per * limits.nproc
  fits = "fits" if need <= total else "does NOT fit"
  return (
    f"memory: no memory controller ({parent}); a per-process limit of {per // mib} MiB x up to "
    f"{limits.nproc} processes = {need // mib} MiB, which {fits} this machine's {total // mib} MiB; "
    f"the OOM killer picks a sandbox before the grader"
  )


# ---------------------------------------------------------------------------------------------
# What a plain sandbox leaves in the host's shared folders. Plain mode has no private /tmp: a sandbox's
# uid may write in every world-writable folder, and what it leaves there would reach the next sandbox
# (issue 12, F3: hidden inputs written to /tmp came back in a later run's visible case) or fill host
# memory (/dev/shm). Before and after each plain sandbox (as root, so with a uid of its own), everything
# owned by its uid there is removed, with what a dead grader's sandboxes left (a uid of this range whose
# grader pid is gone). Only folders that others may enter (o+x) are walked: the uid, in no group, reaches
# nothing else (a folder it owns is removed whole). The sandbox's own scratch folder is kept (a restart
# of the worker reuses it; the grader removes it at the end).
SHARED_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/var/lock", "/dev/mqueue", "/run/shm")
SWEEP_ENTRIES = 100_000  # a bound on the walk (a folder of a million files must not stall grading)
SWEEP_DEPTH = 32


def _grader_alive(uid: int) -> bool:
  """Whether the grader that owns a sandbox uid of this range still runs (see sandbox_uid)."""
  return os.path.exists(f"/proc/{(uid - UID_BASE) // SLOTS}")


def _doomed(uid: int, own: set[int]) -> bool:
  """Whether files of this uid are to go: one of own, or a sandbox uid whose grader is gone."""
  return uid in own or (UID_BASE <= uid < UID_BASE + 4_194_304 * SLOTS and not _grader_alive(uid))


def _remove(path: str, is_dir: bool) -> None:
  try:
    if is_dir:
      shutil.rmtree(path)  # never follows a symlink (it unlinks the link); fd-based on Linux
    else:
      os.unlink(path)
  except FileNotFoundError:
    pass
  except OSError as e:
    _warn(f"could not remove {path} left by a sandbox: {e}")


def sweep_files(uids: set[int], keep: tuple[str, ...] = ()) -> int:
  """Removes what the given sandbox uids (and dead graders' sandboxes) own in SHARED_DIRS; how many entries.

  Bounded: at most SWEEP_ENTRIES entries looked at, SWEEP_DEPTH folders deep; symlinks never followed
  (a folder is entered only when it is a real folder that others may enter); `keep` is left alone.
  """
  keep = {os.path.realpath(k) for k in keep}
  seen, removed = 0, 0
  roots = {os.path.realpath(d) for d in SHARED_DIRS if os.path.isdir(d)}
  stack = [(r, 0) for r in sorted(roots)]
  while stack:
    folder, depth = stack.pop()
    try:
      entries = list(os.scandir(folder))
    except OSError:
      continue
    for e in entries:
      seen += 1
      if seen > SWEEP_ENTRIES:
        _warn(f"the sweep of shared folders stopped after {SWEEP_ENTRIES} entries")
        return removed
      try:
        st = e.stat(follow_symlinks=False)
      except OSError:
        continue
      is_dir = stat.S_ISDIR(st.st_mode)
      if e.path in keep:
        continue
      if _doomed(st.st_uid, uids):
        _remove(e.path, is_dir)
        removed += 1
      elif is_dir and st.st_mode & 0o001 and depth < SWEEP_DEPTH:
        stack.append((e.path, depth + 1))
  return removed


IPC_KINDS = (("shm", "-m"), ("msg", "-q"), ("sem", "-s"))  # /proc/sysvipc/<kind>, ipcrm's option


def sweep_ipc(uids: set[int]) -> int:
  """Removes the System V shared memory, queues and semaphores the given (or dead graders') uids own.

  They outlive their creator like a file in /dev/shm, and one made 0666 is a channel to the next run.
  """
  removed = 0
  for kind, opt in IPC_KINDS:
    try:
      lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
    except OSError:
      continue
    if not lines:
      continue
    head = lines[0].split()
    for line in lines[1:]:
      row = dict(zip(head, line.split()))
      try:
        owners = {int(row["uid"]), int(row["cuid"])}
        ident = int(row[head[1]])  # shmid, msqid or semid
      except (KeyError, ValueError):
        continue
      if any(_doomed(u, uids) for u in owners):
        subprocess.run(
          [_tool("ipcrm"), opt, str(ident)],
          stdin=subprocess.DEVNULL,
          stdout=subprocess.DEVNULL,
          stderr=subprocess.DEVNULL,
          env={},
        )
        removed += 1
  return removed


def _sweep_dead_graders() -> None:
  """Kills what the sandboxes of a grader that died unclean (SIGKILL) left running (bounded /proc walk)."""
  uids = set()
  for d in Path("/proc").iterdir():
    if d.name.isdigit():
      try:
        uid = d.stat().st_uid
      except OSError:
        continue
      if UID_BASE <= uid < UID_BASE + 4_194_304 * SLOTS and not _grader_alive(uid):
        uids.add(uid)
  for uid in sorted(uids):
    _sweep_uid(uid)


# ---------------------------------------------------------------------------------------------
# Stopping: every live sandbox is known, so a SIGTERM or SIGHUP to the grader can end them all.
_LIVE: set = set()
_LIVE_LOCK = threading.RLock()  # re-entrant: a signal handler may run while the main thread holds it
_STOPPING = threading.Event()


def stopping() -> bool:
  """Whether stop_all has run: no sandbox starts any more."""
  return _STOPPING.is_set()


def stop_all() -> None:
  """Kills every live sandbox (and their uids' processes and files) and refuses new ones.

  Safe in a signal handler: it never waits for a process (the interrupted code may hold the Popen's
  wait lock); the usual clean-up paths reap them, remove their cgroups and folders as they unwind.
  """
  _STOPPING.set()
  with _LIVE_LOCK:
    live = list(_LIVE)
  for proc in live:
    try:
      os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
      pass
    uid = getattr(proc, "sandbox_uid", None)
    if uid is not None:
      _sweep_uid(uid)
      if getattr(proc, "isolation_mode", None) == "plain":
        sweep_files({uid}, keep=(proc.scratch,))
        sweep_ipc({uid})


def spawn(
  mode: str, argv: list[str], *, scratch: Path, limits: Limits, uid_slot: int = 0, ro_paths: list[Path] = ()
) -> subprocess.Popen:
  """Starts argv isolated; stdin, stdout, stderr are unbuffered binary pipes; ro_paths: extra read-only paths."""
  if _STOPPING.is_set():
    raise GraderStopping("the grader is stopping")
  scratch = Path(scratch).resolve()
  uid = sandbox_uid(uid_slot) if _is_root() else None
  if uid is not None:
    _give_scratch(scratch, uid)
  if uid is not None and mode == "plain":
    _sweep_dead_graders()
    sweep_files({uid}, keep=(str(scratch),))  # what an earlier sandbox of this slot (or a dead grader's) left
    sweep_ipc({uid})
  env: dict[str, str] = {}  # bwrap and unshare start with no environment: /proc/1/environ must not leak ours
  if mode == "plain":
    full, env = _plain_argv(argv, scratch, limits, uid)
  elif mode == "bwrap":
    full = _bwrap_argv(argv, scratch, limits, uid, list(ro_paths))
  elif mode == "unshare":
    full = _unshare_argv(argv, scratch, limits, uid, list(ro_paths))
  else:
    raise IsolationUnavailable(f"unknown isolation mode {mode!r}")
  cgroup = memory_cgroup(limits)
  join = cgroup.join_argv() if cgroup else []
  try:
    proc = subprocess.Popen(
      join + _oom_first() + full,
      stdin=subprocess.PIPE,
      stdout=subprocess.PIPE,
      stderr=subprocess.PIPE,
      env=env,
      cwd=str(scratch),
      start_new_session=True,
      bufsize=0,
      close_fds=True,
    )
  except BaseException:
    if cgroup:
      cgroup.remove()
    raise
  proc.isolation_mode = mode
  proc.sandbox_uid = uid
  proc.scratch = str(scratch)
  proc.memory_cgroup = cgroup
  with _LIVE_LOCK:
    _LIVE.add(proc)
  if _STOPPING.is_set():  # stop_all ran while this one started: it may not have seen it
    kill(proc)
    raise GraderStopping("the grader is stopping")
  return proc


def _kill_all_argv() -> list[str]:
  """A command that sends SIGKILL to every process its uid may signal: kill(-1), never itself."""
  for p in ("/usr/bin/kill", "/bin/kill"):  # procps; not in every minimal image
    if os.access(p, os.X_OK):
      return [p, "-KILL", "-1"]
  return [os.path.realpath(sys.executable), "-I", "-S", "-c", "import os; os.kill(-1, 9)"]


def _sweep_uid(uid: int) -> None:
  """Kills every process of a sandbox's host uid (their zombies are left to whoever reaps them)."""
  # kill(-1) sent as that uid reaches all of them. Not waiting for the zombies here saved a single
  # grading run about 1 s here (pid 1 of this container reaps about once a second); the next sandbox
  # of the slot allows for them instead (_slot_nproc).
  for _ in range(20):  # a fork loop may create processes while a sweep runs; repeat until none is left
    subprocess.run(
      _setpriv(uid) + _kill_all_argv(),
      env={},
      stdin=subprocess.DEVNULL,
      stdout=subprocess.DEVNULL,
      stderr=subprocess.DEVNULL,
    )
    if _user_tasks(uid) == 0:
      break
    time.sleep(0.01)
  else:
    _warn(f"processes of sandbox uid {uid} survived 20 sweeps")


def _slot_nproc(uid: int, limits: Limits, wait_s: float = 2.0) -> int:
  """RLIMIT_NPROC for a new sandbox of `uid`: limits.nproc plus the slot's zombies not reaped yet.

  RLIMIT_NPROC counts a uid's zombies until they are reaped, so a previous sandbox's leftovers would eat
  into this one's allowance. Few (the usual case: a worker and its threads) are allowed for on top, at
  no wait; many (after a fork bomb) are first waited for, up to wait_s, so the allowance stays at most
  limits.nproc + limits.nproc // 4 whatever the reaper does.
  """
  cap = limits.nproc // 4
  deadline = time.monotonic() + wait_s
  zombies = _user_tasks(uid, zombies=True)
  while zombies > cap and time.monotonic() < deadline:
    time.sleep(0.01)
    zombies = _user_tasks(uid, zombies=True)
  return limits.nproc + min(zombies, cap)


def kill(proc: subprocess.Popen) -> None:
  """Kills the whole sandbox (its session, its namespaces, every process of its uid) and reaps it."""
  try:
    os.killpg(proc.pid, signal.SIGKILL)
  except (ProcessLookupError, PermissionError):
    pass
  proc.wait()  # SIGKILL cannot be caught; bwrap's and unshare's pid namespaces die with their first process
  uid = getattr(proc, "sandbox_uid", None)
  if uid is not None:
    _sweep_uid(uid)  # plain mode: a setsid grandchild has left the session, but not the uid
    if getattr(proc, "isolation_mode", None) == "plain":
      sweep_files({uid}, keep=(proc.scratch,))  # and what it left in /tmp, /var/tmp, /dev/shm (bwrap, unshare: private)
      sweep_ipc({uid})  # and in System V IPC (bwrap and unshare: an IPC namespace of its own)
  with _LIVE_LOCK:
    _LIVE.discard(proc)
  cgroup = getattr(proc, "memory_cgroup", None)
  if cgroup is not None:
    proc.memory_cgroup = None
    cgroup.remove()
  # stdin and stdout are closed; stderr stays open so the caller can still read what the dead process
  # left there (a pipe buffer at most: with every writer gone, a read reaches the end).
  for pipe in (proc.stdin, proc.stdout):
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


SIGNAL_REASONS = {
  signal.SIGXCPU: "it used up its CPU time limit",
  signal.SIGXFSZ: "it wrote a file larger than the size limit",
  signal.SIGKILL: "it was killed (time or memory limit, or the grader stopped it)",
  signal.SIGSEGV: "it crashed (segmentation fault; often a stack overflow from deep recursion)",
  signal.SIGABRT: "it aborted",
  signal.SIGBUS: "it crashed (bus error)",
  signal.SIGFPE: "it crashed (arithmetic error)",
}


def exit_signal(returncode: int | None) -> int | None:
  """The signal that ended a sandbox: -N from a plain process, 128+N through bwrap or unshare."""
  if returncode is None:
    return None
  if returncode < 0:
    return -returncode
  if 128 < returncode < 128 + 65:
    return returncode - 128
  return None


def describe_exit(returncode: int | None) -> str:
  """Why a sandboxed process ended, in words a student understands."""
  sig = exit_signal(returncode)
  if sig is None:
    return f"the process exited with status {returncode}"
  try:
    name = signal.Signals(sig).name
  except ValueError:
    name = f"signal {sig}"
  return f"{SIGNAL_REASONS.get(sig, 'it was stopped by a signal')} ({name})"


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
      if mode == "plain":
        _warn("running student code in a plain subprocess: rlimits only, it can read the project's files")
      return mode
    _warn(f"isolation mode {mode!r} is unavailable, falling back to a weaker one: {why}")
  raise IsolationUnavailable("no isolation mode works here, not even a plain subprocess")
