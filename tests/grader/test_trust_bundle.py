"""The Gradescope bundle in every isolation mode it may reach (issue 12, section 3): student code reads none
of its secrets, GRADER_SANDBOX forces a mode, and the time budget fits Gradescope's 10-minute limit.

Each run unpacks the bundle into a fake /autograder tree under /tmp with the modes the old bundle had
(0644 files, 0755 folders, all reachable by any uid) and runs run_autograder (never setup.sh): whatever
keeps the secrets from the sandbox has to come from the bundle itself.
"""

import inspect
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

from grader import gradescope
from grader import isolation as iso

HOSTILE = Path(__file__).resolve().parents[1] / "hostile"
SECRET = "86753094217"  # the seed test_hostile_submissions uses too: its references are cached already
MODES = [pytest.param(m, id=m) for m in iso.MODES]


def build(dest: Path, **kw) -> Path:
  """A bundle for SECRET (as the seed's type in build_bundle's signature wants it; two variants if asked)."""
  params = inspect.signature(gradescope.build_bundle).parameters
  seed = int(SECRET) if params["seed"].annotation in (int, "int") else SECRET
  if "variants" in params:
    kw.setdefault("variants", 2)
  gradescope.build_bundle(dest, seed=seed, **kw)
  return dest


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
  return build(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def env():
  e = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "PYTHONPATH", "GRADER_SANDBOX")}
  return dict(e, LANG="C.UTF-8")


def unpack(bundle: Path, root: Path) -> None:
  """source/ as a careless unpacking leaves it: every file 0644 (scripts 0755), every folder 0755."""
  with zipfile.ZipFile(bundle) as zf:
    zf.extractall(root / "source")
    scripts = {i.filename for i in zf.infolist() if (i.external_attr >> 16) & stat.S_IXUSR and not i.is_dir()}
  for dirpath, _dirs, files in os.walk(root / "source"):
    os.chmod(dirpath, 0o755)
    for f in files:
      rel = os.path.relpath(os.path.join(dirpath, f), root / "source")
      os.chmod(os.path.join(dirpath, f), 0o755 if rel in scripts else 0o644)


def run_autograder(bundle, files: dict, mode=None, timeout=300):
  """Grades a submission ({name: text}) in a fake /autograder tree; (process, results.json, seconds)."""
  root = Path(tempfile.mkdtemp(prefix="autograder-"))
  try:
    root.chmod(0o755)
    unpack(bundle, root)
    (root / "submission").mkdir()
    for name, text in files.items():
      (root / "submission" / name).write_text(text.replace("@@SOURCE@@", str(root / "source")))
    e = dict(env(), AUTOGRADER_ROOT=str(root), GRADER_PYTHON=sys.executable)
    if mode:
      e["GRADER_SANDBOX"] = mode
    t = time.monotonic()
    proc = subprocess.run(
      [str(root / "source" / "run_autograder")],
      cwd=root,
      env=e,
      capture_output=True,
      text=True,
      timeout=timeout,
      check=False,
    )
    took = time.monotonic() - t
    return proc, json.loads((root / "results" / "results.json").read_text()), took
  finally:
    shutil.rmtree(root, ignore_errors=True)


def probe_report(results) -> dict:
  text = results["output"] + "".join(t.get("output", "") for t in results["tests"])
  found = re.search(r"PROBE (.*?) END", text)
  assert found, text[-3000:]
  return dict(kv.split("=", 1) for kv in found.group(1).split())


def test_every_file_of_the_bundle_is_root_s_alone(bundle):
  with zipfile.ZipFile(bundle) as zf:
    for info in zf.infolist():
      mode = (info.external_attr >> 16) & 0o777
      assert mode & 0o077 == 0, (info.filename, oct(mode))
    run = zf.read("run_autograder").decode()
    setup = zf.read("setup.sh").decode()
  assert 'chmod -R go-rwx "$SRC"' in run and "chmod -R go-rwx /autograder/source" in setup
  assert '--sandbox "${GRADER_SANDBOX:-auto}"' in run


@pytest.mark.parametrize("mode", MODES)
def test_a_submission_reads_none_of_the_bundle_s_secrets(bundle, mode):
  if iso._check(mode):
    pytest.skip(iso._check(mode))
  probe = (HOSTILE / "reads_bundle.py").read_text().replace("@@SECRET@@", SECRET)
  proc, results, _ = run_autograder(bundle, {"reads_bundle.py": probe}, mode=mode)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert f"isolation: {mode}" in proc.stdout  # the forced mode, not a fallback
  report = probe_report(results)
  assert report["own_file"] == "read"  # the channel works: the probe reads what it may
  for key in ("seed", "run_autograder", "cases", "zoo", "references", "source_listing"):
    assert report[key] in ("denied", "absent") or set(report[key].split(",")) <= {"denied"}, (key, report)
  assert report["seed_in_proc"] == "0", report


def test_an_isolation_mode_that_cannot_run_is_refused_not_replaced(bundle):
  proc, results, _ = run_autograder(bundle, {"hw.py": "def encode(v):\n  return v\n"}, mode="chroot")
  assert proc.returncode == 0  # run_autograder always leaves results for Gradescope
  assert results["score"] == 0 and "GRADER_SANDBOX" in results["output"] and "chroot" in proc.stderr


def test_the_default_budget_leaves_a_margin_under_gradescope_s_limit(bundle):
  with zipfile.ZipFile(bundle) as zf:
    run = zf.read("run_autograder").decode()
  budget = float(re.search(r"--time-budget (\S+)", run).group(1))
  call = float(re.search(r"--call-timeout (\S+)", run).group(1))
  assert budget == gradescope.TIME_BUDGET_S and budget + 60 <= gradescope.GRADESCOPE_LIMIT_S
  assert 0 < call <= budget
  with pytest.raises(ValueError):
    gradescope.check_budget(gradescope.GRADESCOPE_LIMIT_S, 30)


def test_a_submission_looping_everywhere_ends_within_the_budget_set_at_build(tmp_path):
  small = build(tmp_path / "small.zip", time_budget=6, call_timeout=2)
  names = ["time_align", "feature_align", "encode", "decode", "dtw", "clip_loss", "interp_align", "film"]
  loops = "".join(f"def {n}(*args):\n  while True:\n    pass\n\n" for n in names)
  # Without the budget: 8 functions x 2 stopped calls x 2 s = 32 s of calls alone.
  proc, results, took = run_autograder(small, {"loops.py": loops}, mode=iso.detect())
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert results["score"] == 0
  startup = 20  # the grader starting, the references loading, one sandbox starting: seconds on 2 cores
  assert took < 6 + startup, took
