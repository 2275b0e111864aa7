"""Looks for the project's code, solutions, hidden cases, cached references and the grader's secret seed.

The test fills in the @@...@@ placeholders. Every find is reported in the exception's message, which a
visible case shows, so the test can read what the sandbox let through.
"""

import glob
import importlib
import os
import sys

HOSTILE = ["time_align", "feature_align"]
PROJECT = "@@PROJECT_ROOT@@"
CACHE = "@@CACHE_DIR@@"
SECRET = "@@SECRET@@"


def _readable(pattern):
  hits = []
  for path in glob.glob(pattern, recursive=True)[:50]:
    try:
      with open(path, "rb") as f:
        f.read(64)
      hits.append(path)
    except OSError:
      pass
  return hits


def time_align(A, B):
  found = []
  for pattern in (
    f"{PROJECT}/solutions/**/*.py",
    f"{PROJECT}/zoo/**/*.py",
    f"{PROJECT}/grader/*.py",
    f"{PROJECT}/tests/**/*.py",
    f"{PROJECT}/exercises/*.py",
    f"{CACHE}/*",
    os.path.expanduser("~/.cache/mmzoo-grader/*"),
    "/root/**/*.json",
  ):
    found += _readable(pattern)
  if SECRET in repr(dict(os.environ)):
    found.append("os.environ")
  for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
    try:
      if SECRET.encode() in open(path, "rb").read():
        found.append(path)
    except OSError:
      pass
  raise RuntimeError(f"found: {sorted(set(found))}")


def feature_align(A, B):
  imported = []
  sys.path.append(PROJECT)
  for name in ("zoo", "zoo.reference", "solutions", "grader", "grader.cases", "exercises", "tests"):
    try:
      importlib.import_module(name)
      imported.append(name)
    except BaseException:  # ImportError, or whatever the blocker raises
      pass
  raise RuntimeError(f"imported: {imported}")
