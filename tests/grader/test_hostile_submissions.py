"""Hostile submissions (tests/hostile/) through the real grader CLI: the grader finishes, every attacked
function scores 0 with a reason, every honest function keeps its 10 points, and nothing outside the
scratch folder changes. Each submission is a folder: honest.py (tests/hostile/_honest.py without the
attacked functions) plus the attack modules, whose `HOSTILE` list names the functions they redefine.
"""

import ast
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader import cases as C
from grader import isolation as iso

HOSTILE_DIR = Path(__file__).resolve().parents[1] / "hostile"
PROJECT = iso.PROJECT_ROOT
ALL = C.NAMES  # the default assignment's 17, in contract order (test_ex_cases checks them against the contract)
SECRET = "86753094217"  # passed as GRADER_SEED (an integer); no sandbox may see it
CALL_TIMEOUT = "4"


def strong_mode():
  """The isolation the CLI picks; the escape tests need namespaces (plain mode documents its gaps)."""
  mode = iso.detect()
  if mode == "plain":
    pytest.skip("only a plain subprocess works here: no namespaces to test escapes against")
  return mode


def hostile_names(fixture: str) -> list[str]:
  """The HOSTILE list of a fixture, read with ast (a fixture is never imported here)."""
  tree = ast.parse((HOSTILE_DIR / fixture).read_text(encoding="utf-8"))
  for node in tree.body:
    if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "HOSTILE" for t in node.targets):
      return ast.literal_eval(node.value)
  raise AssertionError(f"{fixture} has no HOSTILE list")


def honest_source(without) -> str:
  """_honest.py minus the top-level functions an attack redefines."""
  tree = ast.parse((HOSTILE_DIR / "_honest.py").read_text(encoding="utf-8"))
  tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name in without)]
  return ast.unparse(tree) + "\n"


def build(dest: Path, fixtures, fill=None) -> list[str]:
  """A folder submission of honest.py plus the fixtures (placeholders filled); returns the attacked names."""
  attacked = [n for f in fixtures for n in hostile_names(f)]
  assert len(attacked) == len(set(attacked)), "two attacks in one submission target the same function"
  dest.mkdir(parents=True)
  (dest / "honest.py").write_text(honest_source(set(attacked)), encoding="utf-8")
  for f in fixtures:
    text = (HOSTILE_DIR / f).read_text(encoding="utf-8")
    for key, value in (fill or {}).items():
      text = text.replace(f"@@{key}@@", value)
    (dest / f).write_text(text, encoding="utf-8")
  return attacked


class Graded:
  """One CLI run: exit status, stdout, stderr, results.json, and per-function scores and feedback."""

  def __init__(self, rc, out, err, results: Path, took: float, pid: int):
    self.rc, self.out, self.err, self.took, self.pid = rc, out, err, took, pid
    self.survivors = sandbox_tasks(pid)
    self.results = json.loads(results.read_text(encoding="utf-8"))
    self.score, self.text = {}, {}
    for t in self.results["tests"]:
      name = t["name"].split(":")[0].split()[0]
      self.score[name] = self.score.get(name, 0) + t["score"]
      self.text[name] = self.text.get(name, "") + "\n" + t.get("output", "")

  def check(self, attacked, honest=None):
    """The grader finished; attacked functions got 0, the honest ones all their points."""
    assert self.rc == 0, self.err[-3000:]
    assert self.results["score"] == sum(t["score"] for t in self.results["tests"])
    assert set(self.score) == set(ALL)
    for name in attacked:
      assert self.score[name] == 0, (name, self.text[name][:2000])
    for name in honest if honest is not None else set(ALL) - set(attacked):
      assert self.score[name] == 10, (name, self.text[name][:2000])
    from test_trust_feedback import in_vocabulary  # a hidden case says one word of the vocabulary, whatever the attack

    assert [
      t["output"] for t in self.results["tests"] if "hidden case" in t["name"] and not in_vocabulary(t["output"])
    ] == []
    assert self.survivors == 0  # no process of this run's sandboxes outlived the grader
    assert sandbox_litter(self.pid) == []  # and none of their files lies in the shared temp folders


def run_cli(submission: Path, work: Path, *extra, timeout=600) -> Graded:
  """python -m grader SUBMISSION --results ... in a folder of its own; bounded by a timeout."""
  results = work / "results.json"
  env = dict(os.environ, GRADER_SEED=SECRET, LANG="C.UTF-8")
  cmd = [
    sys.executable,
    "-m",
    "grader",
    str(submission),
    "--results",
    str(results),
    "--lang",
    "en",
    "--call-timeout",
    CALL_TIMEOUT,
    "--time-budget",
    "400",
    *extra,
  ]
  t = time.monotonic()
  proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
  try:
    out, err = proc.communicate(timeout=timeout)
  finally:
    proc.kill()
    proc.wait()
  took = time.monotonic() - t
  time.sleep(0.2)
  return Graded(proc.returncode, out, err, results, took, proc.pid)


def sandbox_tasks(grader_pid: int) -> int:
  """Live tasks of any uid the grader with this pid gave its sandboxes (isolation.sandbox_uid)."""
  first = iso.UID_BASE + (grader_pid % 4_194_304) * iso.SLOTS
  return sum(iso._user_tasks(u) for u in _live_uids() if first <= u < first + iso.SLOTS)


def _live_uids() -> set:
  uids = set()
  for p in Path("/proc").iterdir():
    if p.name.isdigit():
      try:
        uids.add(p.stat().st_uid)
      except OSError:
        pass
  return uids


def sandbox_litter(grader_pid: int) -> list[str]:
  """Files left in the host's shared temporary folders by the sandboxes of one grader run (there must be
  none: the grader removes its scratch folder, and nothing else is writable)."""
  first = iso.UID_BASE + (grader_pid % 4_194_304) * iso.SLOTS
  found = []
  for top in ("/tmp", "/var/tmp", "/dev/shm"):
    for root, dirs, files in os.walk(top):
      for name in dirs + files:
        p = os.path.join(root, name)
        try:
          if first <= os.lstat(p).st_uid < first + iso.SLOTS:
            found.append(p)
        except OSError:
          pass
  return found


class Listener:
  """A TCP listener on 127.0.0.1 (and ::1 on the same port when it can) and a Unix socket, counting
  every connection and datagram that reaches them."""

  def __init__(self, folder: Path):
    self.hits = []
    self.tcp = socket.create_server(("127.0.0.1", 0))
    self.port = self.tcp.getsockname()[1]
    self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    self.udp.bind(("127.0.0.1", self.port))
    self.unix_path = str(folder / "listener.sock")
    self.unix = socket.socket(socket.AF_UNIX)
    self.unix.bind(self.unix_path)
    self.unix.listen(4)
    os.chmod(self.unix_path, 0o777)
    self.socks = [self.tcp, self.udp, self.unix]
    try:
      self.tcp6 = socket.create_server(("::1", self.port), family=socket.AF_INET6)
      self.socks.append(self.tcp6)
    except OSError:
      pass
    self.stop = False
    self.thread = threading.Thread(target=self._serve, daemon=True)
    self.thread.start()

  def _serve(self):
    import select

    while not self.stop:
      ready, _, _ = select.select(self.socks, [], [], 0.1)
      for s in ready:
        if s.type == socket.SOCK_DGRAM:
          self.hits.append(("udp", s.recv(100)))
        else:
          conn, _ = s.accept()
          self.hits.append(("stream", conn.recv(100)))
          conn.close()

  def close(self):
    self.stop = True
    self.thread.join(2)
    for s in self.socks:
      s.close()


# ---------------------------------------------------------------------------------------------


def test_the_honest_base_scores_full_marks(work):
  """The yardstick: without an attack, _honest.py earns all 170 points."""
  sub = work / "sub"
  build(sub, [])
  g = run_cli(sub, work)
  g.check([])
  assert g.results["score"] == 170


def test_hacked_comparisons_and_wrong_values_earn_nothing(work):
  """__eq__ / __array__ tricks, a wild __array_interface__, NaN, wrong shapes and types, a patched numpy."""
  sub = work / "sub"
  attacked = build(sub, ["hack_eq_array.py", "bad_values.py", "monkeypatch_numpy.py"])
  g = run_cli(sub, work)
  g.check(attacked)
  assert "could not be read back" in g.text["decode"]  # __array__ raised
  assert "could not be read back" in g.text["self_attention"]  # an array of strings
  assert "nan" in g.text["scaled_dot_product_attention"].lower()
  assert "shape" in g.text["multi_head_attention"].lower()


def test_mutating_inputs_changes_nothing_for_other_calls(work):
  """Functions that wreck their inputs after answering still pass every case: each call gets a fresh copy."""
  sub = work / "sub"
  build(sub, ["mutate_inputs.py"])
  g = run_cli(sub, work)
  g.check([], honest=ALL)


def test_processes_that_exit_crash_hang_fork_and_hoard_are_contained(work):
  """sys.exit and os._exit at import and in calls, SIGSEGV, a busy loop, a sleep, memory bombs, a
  bounded fork bomb, a thread storm, kills aimed at the grader, deep recursion."""
  sub = work / "sub"
  fixtures = [
    "exit_at_import.py",
    "hard_exit_at_import.py",
    "exits_in_calls.py",
    "infinite_loop.py",
    "memory_bomb.py",
    "fork_bomb.py",
    "thread_storm.py",
    "kill_parent.py",
    "deep_recursion.py",
  ]
  attacked = build(sub, fixtures)
  g = run_cli(sub, work)
  g.check(attacked)
  t = {k: v.lower() for k, v in g.text.items()}
  assert "import failed" in t["encode"] and "systemexit" in t["encode"]
  assert "import failed" in t["self_attention"] and "hard_exit_at_import" in t["self_attention"]
  assert "systemexit" in t["time_align"]
  assert "exit code 7" in t["feature_align"] or "exited" in t["feature_align"], t["feature_align"]
  assert "sigsegv" in t["feature_fusion"] and "sigsegv" in t["interp_align"]  # the latter a C stack overflow
  assert "sigkill" in t["multi_head_attention"]
  assert "time limit" in t["attention_fusion"] and "time limit" in t["self_attention_fusion"]
  assert "memoryerror" in t["tensor_fusion"] and "memoryerror" in t["low_rank_fusion"]
  assert "fork failed" in t["gated_fusion"] or "blockingioerror" in t["gated_fusion"]
  assert "recursionerror" in t["clip_loss"]


def test_escapes_reach_no_secret_no_network_and_no_file_outside(work):
  """Reading the project, the solutions, the cached references and the seed; importing the project's
  packages; the network; writing outside scratch; a fake results.json; output spam; forged replies."""
  strong_mode()
  shared = work / "shared"  # world-writable, like /tmp
  shared.mkdir()
  shared.chmod(0o777)
  closed = work / "closed"
  closed.mkdir()
  victims = [closed / "victim.txt", shared / "victim.txt"]
  for v in victims:
    v.write_text("original")
    v.chmod(0o666)
  listener = Listener(work)
  results = work / "results.json"
  tag = f"hostile-{os.getpid()}"
  fill = {
    "PROJECT_ROOT": str(PROJECT),
    "CACHE_DIR": os.environ.get("GRADER_CACHE_DIR", "/root/.cache"),
    "SECRET": SECRET,
    "PORT": str(listener.port),
    "UNIX_SOCKET": listener.unix_path,
    "VICTIMS": json.dumps([str(v) for v in victims]),
    "TAG": tag,
    "RESULTS": str(results),
  }
  sub = work / "sub"
  attacked = build(
    sub,
    [
      "reads_secrets.py",
      "network.py",
      "write_outside.py",
      "fake_results.py",
      "output_spam.py",
      "channel_forgery.py",
      "forged_reply.py",
    ],
    fill,
  )
  honest_despite = ["decode"]  # output spam answers correctly: the flood costs it nothing
  try:
    g = run_cli(sub, work)
  finally:
    listener.close()
  g.check([a for a in attacked if a not in honest_despite], honest=set(ALL) - set(attacked) | set(honest_despite))
  assert listener.hits == []
  assert "found: []" in g.text["time_align"], g.text["time_align"]
  assert "imported: []" in g.text["feature_align"], g.text["feature_align"]
  assert "connected" not in g.text["feature_fusion"]
  assert all(v.read_text() == "original" for v in victims)
  for p in (
    closed / tag,
    shared / tag,
    PROJECT / "grader" / f"{tag}.py",
    PROJECT / tag,
    Path("/tmp", tag),
    Path("/var/tmp", tag),
    Path("/dev/shm", tag),
  ):
    assert not p.exists(), p
  assert "FAKE-RESULTS-MARKER" not in results.read_text()
  assert g.results["score"] == sum(t["score"] for t in g.results["tests"]) < 170
  assert not (work / "sub" / "results.json").exists()
  assert "FAKE-RESULTS-MARKER" not in g.out and len(g.out) + len(g.err) < 1 << 20
  assert "internal" not in g.results["output"].lower()  # a forged reply that breaks the decoder costs its call


def test_a_symlinked_worker_file_is_not_written_through(work):
  """The attack swaps scratch/_grader/worker.py for a symlink to a file outside, then dies; a restart
  must not write through it, and the functions graded after it must not suffer."""
  strong_mode()
  victim = work / "victim.txt"
  victim.write_text("original")
  sub = work / "sub"
  attacked = build(sub, ["worker_symlink.py"], {"VICTIM": str(victim)})
  g = run_cli(sub, work)
  assert victim.read_text() == "original"
  g.check(attacked)
