"""Running student code: one isolated worker process per submission, restarted when a call kills it.

The grader never imports student code. It starts grader/worker.py (with wire.py beside it, both in a
read-only folder of their own) inside the isolation chosen by grader/isolation.py, sends it one call
at a time, and reads back plain data only, under the limits of wire.WireLimits. A call that times
out, crashes the process, or breaks the protocol costs that call its point; the worker is restarted
and grading goes on with the next call.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from grader import wire
from grader.isolation import IsolationUnavailable, Limits, detect, exit_signal, kill, spawn  # noqa: F401

HERE = Path(__file__).resolve().parent
# Decisions where the contract is silent, made so that a hostile submission cannot keep the grader
# busy for long: a function whose calls stop the sandbox twice (time limit, crash, broken protocol)
# has its remaining cases scored 0 without running them, and a submission gets at most this many
# restarts in all.
KILLS_PER_FUNCTION = 2
MAX_RESTARTS = 20
IMPORT_TIMEOUT_S = 60.0  # per module import; `import jax` takes a few seconds on a busy machine


@dataclasses.dataclass
class Outcome:
  """What one call came to; `info` holds the details feedback needs (exception type, line, signal)."""

  status: str  # "ok" | "exception" | "timeout" | "crashed" | "bad_output" | "skipped"
  value: Any = None
  error: str = ""
  info: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class LoadReport:
  """Which graded functions the submission defines, and what went wrong importing it."""

  found: dict = dataclasses.field(default_factory=dict)  # name -> "ok" | "missing" | "import_error"
  errors: dict = dataclasses.field(default_factory=dict)  # name -> error info (module, exc_type, line ...)
  clashes: dict = dataclasses.field(default_factory=dict)  # name -> [winning module, other modules ...]
  modules: dict = dataclasses.field(default_factory=dict)  # module path -> error info, for every failed import


class SandboxError(RuntimeError):
  """The worker could not be started at all (a grader or machine problem, not the submission's)."""


class LoadFailed(SandboxError):
  """The submission's own modules kept stopping the worker while it imported them (the submission's doing)."""


class _Stop(Exception):
  """The worker stopped answering: why (status "timeout" | "crashed" | "bad_output") and details."""

  def __init__(self, status, error, info=None):
    super().__init__(error)
    self.status, self.error, self.info = status, error, info or {}


def install_worker() -> Path:
  """A fresh folder, owned by the grader and read-only to the sandbox, holding worker.py and wire.py.

  It lies outside the scratch folder (which the sandbox's uid owns and may fill with symlinks), is
  written once before any student code runs, and is shown to the sandbox read-only (isolation.spawn's
  ro_paths); the grader never writes where student code could have planted a link.
  """
  dest = Path(tempfile.mkdtemp(prefix="grader-worker-"))
  for name in ("worker.py", "wire.py"):
    shutil.copyfile(HERE / name, dest / name)
    os.chmod(dest / name, 0o444)
  os.chmod(dest, 0o555)
  return dest


def remove_worker(folder: Path) -> None:
  """Removes a folder made by install_worker."""
  try:
    os.chmod(folder, 0o755)
  except OSError:
    pass
  shutil.rmtree(folder, ignore_errors=True)


def _signal_name(num):
  try:
    return signal.Signals(num).name
  except ValueError:
    return f"signal {num}"


def describe_exit(returncode, mode="plain") -> tuple[str, dict]:
  """An English sentence and the details for how the worker process ended.

  A plain process killed by signal N ends with -N; through bwrap or unshare (whose namespace init
  reports it) with 128+N, which isolation.exit_signal reads. In plain mode 128+N is an exit code.
  """
  if returncode is None:
    return "the process stopped answering", {"kind": "gone"}
  sig = exit_signal(returncode) if mode != "plain" or returncode < 0 else None
  if sig is not None:
    name = _signal_name(sig)
    return f"the process was killed by {name}", {"kind": "signal", "signal": name}
  return f"the process exited with code {returncode}", {"kind": "exit", "code": returncode}


INFO_KEYS = ("exc_type", "message", "path", "line", "text", "not_implemented", "module", "skipped")


def clean_info(info: dict) -> dict:
  """Error details from the worker, reduced to known keys with short plain values (they may be forged)."""
  out = {}
  for k in INFO_KEYS:
    v = info.get(k)
    if isinstance(v, bool) or (isinstance(v, int) and abs(v) < 10**9):
      out[k] = v
    elif isinstance(v, str):
      out[k] = v[:2000]
  return out


class Worker:
  """One running worker process and its framed channel."""

  def __init__(self, mode, scratch, src_dir, worker_dir, limits, uid_slot, wire_limits):
    self.mode = mode
    self.wire_limits = wire_limits
    self.limits = limits
    argv = [sys.executable, "-I", "-B", str(worker_dir / "worker.py"), str(src_dir)]
    self.proc = spawn(mode, argv, scratch=Path(scratch), limits=limits, uid_slot=uid_slot, ro_paths=[worker_dir])
    self.cgroup = getattr(self.proc, "memory_cgroup", None)
    self.rfd = self.proc.stdout.fileno()
    self.wfd = self.proc.stdin.fileno()
    os.set_blocking(self.wfd, False)
    self.buf = bytearray()

  def close(self, graceful=False):
    """Ends the sandbox; `graceful` first asks the worker to exit (a forced kill costs the uid sweep time)."""
    if graceful and self.proc.poll() is None:
      try:
        self.send({"op": "exit"}, time.monotonic() + 0.5)
        self.proc.wait(timeout=1.0)
      except (_Stop, OSError, ValueError, subprocess.TimeoutExpired):
        pass
    kill(self.proc)

  def passed_memory(self) -> bool:
    """Whether the sandbox's memory cgroup has seen an OOM kill (read before close, which removes it)."""
    return self.cgroup is not None and self.cgroup.oom_kills() > 0

  def memory_stop(self) -> _Stop:
    """The outcome of a sandbox that passed its memory limit (the caller kills it as a whole)."""
    mib = self.cgroup.limit >> 20
    return _Stop(
      "crashed",
      f"memory limit: the sandbox's processes together passed {mib} MiB",
      {"kind": "memory", "limit_mib": mib},
    )

  def stderr_tail(self) -> str:
    """What the process wrote on stderr before the worker silenced it (read after close)."""
    try:
      data = self.proc.stderr.read(self.limits.output_bytes) if self.proc.stderr else b""
    except (OSError, ValueError):
      data = b""
    return (data or b"").decode("utf-8", "replace")[-2000:]

  def send(self, message, deadline):
    data = memoryview(wire.frame(message))
    while data:
      left = deadline - time.monotonic()
      if left <= 0:
        raise _Stop("timeout", "the worker did not read its input in time")
      _, w, _ = select.select([], [self.wfd], [], left)
      if not w:
        continue
      try:
        n = os.write(self.wfd, data)
      except (BrokenPipeError, OSError):
        raise self._gone() from None
      data = data[n:]

  def _gone(self):
    try:
      code = self.proc.wait(timeout=2)
    except Exception:  # noqa: BLE001 — still running with its channel closed
      code = None
    error, info = describe_exit(code, self.mode)
    return _Stop("crashed", error, info)

  def has_more(self) -> bool:
    """Whether anything beyond the frames read so far has arrived."""
    return bool(self.buf) or bool(select.select([self.rfd], [], [], 0)[0])

  def receive(self, deadline, budget):
    """The next frame's envelope; _Stop on a timeout, an exit, or a broken limit."""
    while True:
      message = self._parse(budget)
      if message is not None:
        return message
      left = deadline - time.monotonic()
      if left <= 0:
        raise _Stop("timeout", "time limit")
      r, _, _ = select.select([self.rfd], [], [], left)
      if not r:
        continue
      chunk = os.read(self.rfd, 1 << 16)
      if not chunk:
        raise self._gone()
      budget["bytes"] += len(chunk)
      if budget["bytes"] > self.wire_limits.call_bytes:
        raise _Stop(
          "bad_output", f"more than {self.wire_limits.call_bytes} bytes came back for one call", {"kind": "flood"}
        )
      self.buf += chunk

  def _parse(self, budget):
    if len(self.buf) < wire.HEADER.size:
      return None
    try:
      length = wire.parse_header(bytes(self.buf[: wire.HEADER.size]), self.wire_limits)
    except wire.WireError as e:
      raise _Stop("bad_output", str(e), {"kind": "wire"}) from None
    end = wire.HEADER.size + length
    if len(self.buf) < end:
      return None
    payload = bytes(self.buf[wire.HEADER.size : end])
    del self.buf[:end]
    budget["messages"] += 1
    if budget["messages"] > budget["max_messages"]:
      raise _Stop("bad_output", "a flood of messages on the result channel", {"kind": "flood"})
    try:
      return wire.parse_payload(payload, self.wire_limits)
    except wire.WireError as e:
      raise _Stop("bad_output", str(e), {"kind": "wire"}) from None


class Session:
  """Grades calls against one submission, restarting the worker whenever a call kills it."""

  def __init__(self, src_dir, names, *, mode, limits, uid_slot=0, wire_limits=None, import_timeout=IMPORT_TIMEOUT_S):
    self.src_dir = Path(src_dir).resolve()
    self.scratch = self.src_dir.parent
    self.names = list(names)
    self.mode, self.limits, self.uid_slot = mode, limits, uid_slot
    self.wire_limits = wire_limits or wire.WireLimits()
    self.import_timeout = import_timeout
    self.skip: dict[str, dict] = {}  # module -> why it was left out (it killed the worker on import)
    self.worker: Worker | None = None
    self.restarts = 0
    self.report: LoadReport | None = None
    self.started = time.monotonic()
    self.worker_dir = install_worker()

  def _budget_left(self):
    return self.limits.wall_s - (time.monotonic() - self.started)

  def _new_worker(self):
    try:
      return Worker(
        self.mode, self.scratch, self.src_dir, self.worker_dir, self.limits, self.uid_slot, self.wire_limits
      )
    except (OSError, IsolationUnavailable) as e:
      raise SandboxError(f"could not start the sandbox: {e}") from e

  def start(self) -> LoadReport:
    """Starts the worker and loads the submission; modules that kill it on import are left out."""
    while True:
      self.worker = self._new_worker()
      try:
        report = self._load()
      except _Stop as stop:
        self._blame(stop)
        continue
      if self.report is None:
        self.report = report
        self._add_skipped(report)
      return self.report

  def _modules(self) -> set:
    """The submission's modules as the worker names them (relative .py paths), to check its messages."""
    rels = set()
    for root, _, files in os.walk(self.src_dir):
      for f in files:
        if f.endswith(".py"):
          rels.add(Path(root, f).relative_to(self.src_dir).as_posix())
    return rels  # the root's __init__.py too: the worker imports it (a package submitted as a folder)

  def _load(self):
    w, current = self.worker, None
    known = self._modules()
    budget = {"bytes": 0, "messages": 0, "max_messages": 10_000}
    deadline = time.monotonic() + min(self.import_timeout, max(self._budget_left(), 1.0))
    try:
      hello = w.receive(deadline, budget)
      if hello.get("type") != "hello":
        raise _Stop("bad_output", "the worker did not start properly", {"kind": "wire"})
      w.send({"op": "load", "names": self.names, "skip": sorted(self.skip)}, deadline)
      while True:
        message = w.receive(deadline, budget)
        if message.get("type") == "importing":
          path = message.get("path")
          # The worker imports the real modules in sorted order, each once; anything else was forged by
          # the module being imported (`current` stays the one to blame), e.g. to dodge the blame.
          if not isinstance(path, str) or path not in known or (current is not None and path <= current):
            raise _Stop("bad_output", "a forged message on the channel while importing", {"kind": "wire"})
          current = path
          deadline = time.monotonic() + min(self.import_timeout, max(self._budget_left(), 1.0))
        elif message.get("type") == "loaded":
          return self._report(message)
    except _Stop as caught:
      stop = w.memory_stop() if w.passed_memory() else caught
      stop.module = current
      raise stop from None

  def _blame(self, stop):
    """A module stopped the worker while importing: leave it out and say why; else give up."""
    tail = ""
    self.worker.close()
    if stop.module is None:
      tail = self.worker.stderr_tail()
      raise SandboxError(f"the sandboxed worker did not start ({stop.error}) {tail}".strip())
    # Each module is blamed at most once, so this ends; the time budget bounds it too.
    if stop.module in self.skip:
      raise LoadFailed(f"the sandbox stopped again while importing {stop.module}")
    if self._budget_left() <= 0:
      raise LoadFailed(f"the time budget ran out while importing the submission ({stop.module})")
    # The restart cap holds while loading too (each real module is blamed once, but a cap costs nothing).
    if self.restarts >= MAX_RESTARTS:
      raise LoadFailed("the sandbox was restarted too many times while importing the submission")
    self.restarts += 1
    self.skip[stop.module] = {
      "exc_type": "",
      "status": stop.status,
      "message": stop.error,
      **stop.info,
      "stopped": True,
    }

  def _report(self, message) -> LoadReport:
    """The worker's load report, checked field by field: student code could have forged it."""
    found, errors = message.get("found"), message.get("errors")
    clashes, modules = message.get("clashes"), message.get("modules", {})
    ok = (
      isinstance(found, dict)
      and set(found) == set(self.names)
      and all(v in ("ok", "missing", "import_error") for v in found.values())
      and all(isinstance(x, dict) for x in (errors, clashes, modules))
      and all(isinstance(v, dict) for v in list(errors.values()) + list(modules.values()))
      and all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in clashes.values())
      and len(errors) + len(clashes) + len(modules) <= 4 * len(self.names) + 1000
    )
    if not ok:
      raise _Stop("bad_output", "the worker's load report was malformed", {"kind": "wire"})
    return LoadReport(
      found=dict(found),
      errors={n: clean_info(v) for n, v in errors.items() if n in found},
      clashes={n: [m[:500] for m in v[:50]] for n, v in clashes.items() if n in found},
      modules={str(m)[:500]: clean_info(v) for m, v in list(modules.items())[:1000]},
    )

  def _add_skipped(self, report):
    """Modules left out because they stopped the worker count as failed imports of what they define."""
    for module, why in self.skip.items():
      report.modules[module] = why
    for name, info in report.errors.items():
      if info.get("skipped") and info.get("module") in self.skip:
        report.errors[name] = {**self.skip[info["module"]], "module": info["module"]}

  def call(self, name, args) -> Outcome:
    """One call with the per-call wall-clock limit; a worker that dies or hangs is replaced."""
    if self.worker is None:
      if self.restarts >= MAX_RESTARTS:
        return Outcome("crashed", error="the sandbox was restarted too many times", info={"kind": "restarts"})
      self.restarts += 1
      try:
        self.start()
      except SandboxError as e:
        return Outcome("crashed", error=str(e), info={"kind": "restart_failed"})
    left = self._budget_left()
    if left <= 0:
      return Outcome(
        "skipped", error="the submission's time budget ran out", info={"kind": "budget", "seconds": self.limits.wall_s}
      )
    timeout = min(self.limits.call_wall_s, left)
    # An unpredictable id: a reply forged by student code for a later call can never match it.
    rid = secrets.randbits(62)
    budget = {"bytes": 0, "messages": 0, "max_messages": self.wire_limits.messages_per_call}
    deadline = time.monotonic() + timeout
    try:
      self.worker.send({"op": "call", "id": rid, "name": name, "args": wire.encode(args)}, deadline)
      while True:
        message = self.worker.receive(deadline, budget)
        if message.get("type") == "reply" and message.get("id") == rid:
          if self.worker.passed_memory():
            raise self.worker.memory_stop()  # a child was OOM-killed: the whole sandbox goes
          if self.worker.has_more():
            # More frames than the one reply: the channel is not clean, so the next call gets a fresh worker.
            self.close_worker()
          return self._outcome(message)
    except _Stop as caught:
      stop = self.worker.memory_stop() if self.worker.passed_memory() else caught
      self.close_worker()
      info = dict(stop.info)
      if stop.status == "timeout":
        info.setdefault("seconds", round(timeout, 1))
      return Outcome(stop.status, error=stop.error, info=info)

  def _outcome(self, m) -> Outcome:
    status = m.get("status")
    if status == "ok":
      try:
        return Outcome("ok", value=wire.decode(m.get("value"), self.wire_limits))
      except wire.WireError as e:
        return Outcome("bad_output", error=str(e), info={"kind": "wire"})
      except Exception as e:  # noqa: BLE001 — a decoder bug must cost this call only, never the grading
        return Outcome("bad_output", error=f"a malformed value ({type(e).__name__})", info={"kind": "wire"})
    if status == "exception":
      info = clean_info({k: m.get(k) for k in ("exc_type", "message", "path", "line", "text", "not_implemented")})
      return Outcome("exception", error=f"{info.get('exc_type', 'Exception')}: {info.get('message', '')}", info=info)
    if status == "bad_output":
      return Outcome("bad_output", error=str(m.get("message", ""))[:2000], info={"kind": "result"})
    if status == "missing":
      return Outcome("crashed", error="the function was gone after a restart", info={"kind": "gone_after_restart"})
    return Outcome("bad_output", error="a malformed reply", info={"kind": "wire"})

  def close_worker(self):
    if self.worker is not None:
      self.worker.close()
      self.worker = None

  def close(self):
    if self.worker is not None:
      self.worker.close(graceful=True)
      self.worker = None
    remove_worker(self.worker_dir)


def run_submission(
  src_dir,
  calls,
  names,
  *,
  mode="auto",
  limits=None,
  uid_slot=0,
  import_timeout=IMPORT_TIMEOUT_S,
  progress=None,
  closers=None,
):
  """Loads the submission in `src_dir` (whose parent is its scratch folder) and runs `calls`.

  `calls` is a list of (function name, args tuple). Returns (LoadReport, [Outcome per call], mode used).
  A function that is not "ok" in the load report is not called (its Outcome is "skipped").
  With a `closers` list, ending the sandbox is left to the caller: its close action is appended there.
  """
  limits = limits or Limits()
  mode = detect(mode) if mode == "auto" else mode
  session = Session(src_dir, names, mode=mode, limits=limits, uid_slot=uid_slot, import_timeout=import_timeout)
  try:
    report = session.start()
    outcomes, stops = [], {}
    for name, args in calls:
      outcomes.append(_one(session, report, stops, name, args))
      if progress:
        progress()
    return report, outcomes, mode
  finally:
    if closers is None:
      session.close()
    else:
      closers.append(session.close)


def _one(session, report, stops, name, args) -> Outcome:
  if report.found.get(name) != "ok":
    return Outcome("skipped", error=report.found.get(name, "missing"), info={"kind": "not_loaded"})
  prior = stops.get(name, [])
  if len(prior) >= KILLS_PER_FUNCTION:
    last = prior[-1]
    return Outcome(
      "skipped",
      error=f"not run: earlier calls of {name} stopped the sandbox ({last.status})",
      info={"kind": "repeat", "prior": last.status},
    )
  out = session.call(name, args)
  if out.status in ("timeout", "crashed") or (out.status == "bad_output" and out.info.get("kind") != "result"):
    stops.setdefault(name, []).append(out)
  return out
