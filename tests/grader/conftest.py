"""Fixtures shared by the grader's hostile-submission and hostile-input tests."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Tests grade with K=2 hidden variants (the CLI's default is 8): fewer references to compute, one
# shared cache. Subprocesses inherit it; a test that needs another K passes --variants.
os.environ.setdefault("GRADER_VARIANTS", "2")


@pytest.fixture
def work():
  """A folder under /tmp for one run, removed afterwards (mode 0755: the sandbox's uid must reach it)."""
  d = Path(tempfile.mkdtemp(prefix="hostile-"))
  d.chmod(0o755)
  yield d
  shutil.rmtree(d, ignore_errors=True)
