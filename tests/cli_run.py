"""`python -m grader` run from the tests as a user runs it: one clean environment for every test folder."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def grader_env(**extra) -> dict:
  """This process's environment without the seed and locale overrides; LANG=C.UTF-8, the project importable."""
  env = {k: v for k, v in os.environ.items() if k not in ("GRADER_SEED", "LC_ALL", "LANGUAGE")}
  return dict(env, LANG="C.UTF-8", PYTHONPATH=str(ROOT), **extra)


def run_grader(*args, cwd, timeout=600) -> subprocess.CompletedProcess:
  """`python -m grader ARGS` in `cwd`, output captured as text."""
  return subprocess.run(
    [sys.executable, "-m", "grader", *map(str, args)],
    cwd=cwd,
    env=grader_env(),
    capture_output=True,
    text=True,
    timeout=timeout,
  )
