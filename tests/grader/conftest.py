"""Fixtures shared by the grader's hostile-submission and hostile-input tests."""
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def work():
  """A folder under /tmp for one run, removed afterwards (mode 0755: the sandbox's uid must reach it)."""
  d = Path(tempfile.mkdtemp(prefix="hostile-"))
  d.chmod(0o755)
  yield d
  shutil.rmtree(d, ignore_errors=True)
