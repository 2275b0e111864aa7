"""Memory per sandbox (issue 12, section 4): all of a sandbox's processes together are bounded, the
sandbox is killed as a whole with the outcome "memory limit", and nobody else is the victim. Bounded:
a 256 MiB limit and three children of 120 MiB each (each child alone is well inside every limit)."""

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader import isolation as iso
from grader import sandbox

MODES = [pytest.param(m, id=m) for m in iso.MODES]
LIMIT = 256 << 20
SMALL = iso.Limits(
  cpu_s=30,
  wall_s=60,
  call_wall_s=30,
  mem_bytes=3 << 30,
  nproc=40,
  fsize_bytes=1 << 20,
  nofile=64,
  output_bytes=1 << 16,
  sandbox_mem_bytes=LIMIT,
)
# tests/hostile/memory_children.py: three children touch 120 MiB each and wait, 360 MiB in all.
HOG = (Path(__file__).resolve().parents[1] / "hostile" / "memory_children.py").read_text()


def need(mode):
  why = iso._check(mode)
  if why:
    pytest.skip(why)


def need_cgroup():
  if isinstance(iso._memory_parent(), str):
    pytest.skip(f"no memory controller here: {iso._memory_parent()}")


@pytest.fixture
def scratch():
  d = Path(tempfile.mkdtemp(prefix="mem-scratch-"))
  d.chmod(0o755)
  yield d
  shutil.rmtree(d, ignore_errors=True)


def spawn_py(mode, code, scratch, slot, limits=SMALL):
  return iso.spawn(mode, [sys.executable, "-c", textwrap.dedent(code)], scratch=scratch, limits=limits, uid_slot=slot)


@pytest.mark.parametrize("mode", MODES)
def test_children_together_cannot_pass_the_sandbox_limit(mode, scratch):
  need(mode)
  need_cgroup()
  proc = spawn_py(mode, HOG + "\nprint(encode([1.0]))", scratch, 1)
  try:
    out, err = proc.communicate(timeout=60)
    cgroup = proc.memory_cgroup
    kills, peak = cgroup.oom_kills(), cgroup.peak()
  finally:
    iso.kill(proc)
  assert proc.returncode == 0, err
  statuses = eval(out)
  # Without the cgroup all three finish (RLIMIT_AS is per process); with it at least one is OOM-killed.
  assert kills >= 1 and 9 in [s & 0x7F for s in statuses], (out, kills)
  assert peak <= LIMIT
  assert not cgroup.path.exists()  # kill() removed it


@pytest.mark.parametrize("mode", MODES)
def test_the_outcome_is_memory_limit_for_that_sandbox_alone(mode, scratch):
  need(mode)
  need_cgroup()
  src = scratch / "sub"
  src.mkdir()
  (src / "hw.py").write_text(HOG)
  (src / "other.py").write_text("def honest():\n  return 42\n")
  # A bystander sandbox (another student) holding 100 MiB meanwhile: it must survive untouched.
  other = Path(tempfile.mkdtemp(prefix="mem-other-"))
  other.chmod(0o755)
  bystander = spawn_py(
    mode,
    """
    import sys
    b = bytearray(100 << 20)
    for j in range(0, len(b), 4096):
      b[j] = 1
    print("holding", flush=True)
    sys.stdin.read(1)
    print("alive", flush=True)
  """,
    other,
    7,
  )
  try:
    assert bystander.stdout.readline().strip() == b"holding"
    _, outcomes, _ = sandbox.run_submission(
      src, [("encode", ([1.0],)), ("honest", ())], ["encode", "honest"], mode=mode, limits=SMALL, uid_slot=2
    )
    bystander.stdin.write(b"x")
    assert bystander.stdout.readline().strip() == b"alive"
  finally:
    iso.kill(bystander)
    shutil.rmtree(other, ignore_errors=True)
  hog, honest = outcomes
  assert hog.status == "crashed" and hog.info["kind"] == "memory", hog
  assert "memory limit" in hog.error and hog.info["limit_mib"] == LIMIT >> 20
  assert honest.status == "ok" and honest.value == 42  # a fresh sandbox for the next call


@pytest.mark.parametrize("mode", MODES)
def test_the_sandbox_is_the_oom_killers_pick_before_the_grader(mode, scratch):
  need(mode)
  if not shutil.which("choom"):
    pytest.skip("choom (util-linux) is not installed")
  proc = spawn_py(mode, "print(open('/proc/self/oom_score_adj').read())", scratch, 3)
  try:
    out, _ = proc.communicate(timeout=60)
  finally:
    iso.kill(proc)
  grader = int(Path("/proc/self/oom_score_adj").read_text())
  assert int(out) == 1000 > grader


def test_without_a_controller_the_per_process_limit_says_what_applies(monkeypatch):
  monkeypatch.setattr(iso, "_memory_parent", lambda: "no memory controller (test)")
  limits = iso.Limits(nproc=8, mem_bytes=64 << 30)
  per = iso.process_mem_bytes(limits)
  machine = iso._machine_memory()
  assert per < limits.mem_bytes and per >= iso.AS_FLOOR
  if machine // limits.nproc >= iso.AS_FLOOR:  # the cut is enough: nproc of them fit the machine
    assert per * limits.nproc <= machine
  plan = iso.memory_plan(limits)
  assert "per-process limit" in plan and f"{per >> 20} MiB" in plan
  assert f"--as={per}:{per}" in iso._prlimit(limits, 8)
  assert iso.memory_cgroup(limits) is None


def test_with_a_controller_the_plan_names_the_sandbox_limit():
  need_cgroup()
  assert "for each sandbox as a whole" in iso.memory_plan(SMALL) and "256 MiB" in iso.memory_plan(SMALL)
  assert iso.process_mem_bytes(SMALL) == SMALL.mem_bytes


def test_honest_jax_stays_well_inside_the_default_sandbox_limit(scratch):
  """The default per-sandbox limit leaves an honest JAX submission at least a factor of two."""
  need_cgroup()
  mode = iso.detect()
  limits = iso.Limits()
  proc = spawn_py(
    mode,
    """
    import jax, jax.numpy as jnp
    x = jnp.ones((256, 128))
    f = jax.jit(lambda a: jax.nn.softmax(a @ a.T, axis=-1) @ a)
    print(float(f(x).sum()), float(jax.grad(lambda w: jnp.sum(jnp.tanh(x @ w)))(jnp.ones((128, 8))).sum()))
  """,
    scratch,
    4,
    limits=limits,
  )
  try:
    _, err = proc.communicate(timeout=120)
    peak = proc.memory_cgroup.peak()
  finally:
    iso.kill(proc)
  assert proc.returncode == 0, err[-2000:]
  print(f"{mode}: honest JAX peak {peak >> 20} MiB of {limits.sandbox_mem_bytes >> 20} MiB")
  assert 0 < peak < limits.sandbox_mem_bytes / 2


def test_the_cli_reports_memory_limit_and_keeps_the_other_functions_points(scratch):
  """Through `python -m grader --sandbox-memory 256`: encode scores 0 saying why, the rest full marks."""
  need_cgroup()
  hostile = Path(__file__).resolve().parents[1] / "hostile"
  tree = ast.parse((hostile / "_honest.py").read_text())
  tree.body = [n for n in tree.body if not (isinstance(n, ast.FunctionDef) and n.name == "encode")]
  sub = scratch / "student"
  sub.mkdir()
  (sub / "honest.py").write_text(ast.unparse(tree) + "\n")
  (sub / "memory_children.py").write_text(HOG)
  project = Path(__file__).resolve().parents[2]
  env = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "PYTHONPATH")}
  env.update(LANG="C.UTF-8", PYTHONPATH=str(project))
  proc = subprocess.run(
    [
      sys.executable,
      "-m",
      "grader",
      str(sub),
      "--sandbox-memory",
      "256",
      "--call-timeout",
      "20",
      "--results",
      str(scratch / "r.json"),
    ],
    cwd=project,
    env=env,
    capture_output=True,
    text=True,
    timeout=600,
    check=False,
  )
  assert proc.returncode == 0, proc.stderr[-3000:]
  tests = json.loads((scratch / "r.json").read_text())["tests"]
  score = {}
  for t in tests:
    name = t["name"].split(":")[0].split()[0]
    score[name] = score.get(name, 0) + t["score"]
  assert score.pop("encode") == 0 and set(score.values()) == {10}, score
  shown = "".join(t.get("output", "") for t in tests if t["name"].startswith("encode"))
  assert "memory limit" in shown


def test_the_cgroup_v2_files_are_written_and_read_as_the_kernel_names_them(tmp_path):
  """cgroup v2 does not run here; its protocol is checked on a fake folder (the kernel's file names)."""
  cg = iso.MemoryCgroup.create(2, tmp_path, LIMIT)
  assert cg.path.parent == tmp_path and cg.path.name.startswith(f"mmzoo-{os.getpid()}-")
  assert (cg.path / "memory.max").read_text() == str(LIMIT)
  assert cg.oom_kills() == 0  # no memory.events yet
  (cg.path / "memory.events").write_text("low 0\nhigh 0\nmax 7\noom 2\noom_kill 2\noom_group_kill 1\n")
  (cg.path / "memory.peak").write_text(str(LIMIT - 4096))
  assert cg.oom_kills() == 2 and cg.peak() == LIMIT - 4096
  assert cg.join_argv()[-1] == str(cg.path / "cgroup.procs")
  for f in cg.path.iterdir():
    f.unlink()
  cg.remove()
  assert not cg.path.exists()


def test_the_teacher_is_told_when_no_controller_bounds_the_sandbox(monkeypatch, capsys):
  import grader.__main__ as cli

  monkeypatch.setattr(iso, "_memory_parent", lambda: "no memory controller (test)")
  cli._say_memory_plan(iso.Limits())
  assert "per-process limit" in capsys.readouterr().err
  monkeypatch.setattr(iso, "_memory_parent", lambda: (1, Path("/nonexistent")))
  cli._say_memory_plan(iso.Limits())
  assert capsys.readouterr().err == ""
