"""Reads the Gradescope bundle's secrets from inside the sandbox: the seed, the references, the grader's
and the zoo's sources (from which the hidden cases follow), and the seed in any process's environment.

The test fills in the @@...@@ placeholders. What was read is reported in the exception's message, which a
visible case shows; the submission's own file is read too, to show that the report gets through.
"""

import glob
import os

HOSTILE = ["encode"]
SOURCE = "@@SOURCE@@"
SECRET = "@@SECRET@@"


def _status(path):
  try:
    with open(path, "rb") as f:
      f.read(16)
    return "read"
  except FileNotFoundError:
    return "absent"
  except OSError:
    return "denied"


def encode(vector):
  targets = {
    "own_file": "reads_bundle.py",
    "seed": f"{SOURCE}/grader_seed",
    "run_autograder": f"{SOURCE}/run_autograder",
    "cases": f"{SOURCE}/grader/cases.py",
    "zoo": f"{SOURCE}/zoo/reference.py",
  }
  report = {k: _status(p) for k, p in targets.items()}
  report["references"] = ",".join(_status(p) for p in glob.glob(f"{SOURCE}/cache/*")) or "absent"
  try:
    report["source_listing"] = str(len(os.listdir(SOURCE)))
  except OSError:
    report["source_listing"] = "denied"
  hits = 0
  for path in glob.glob("/proc/*/environ") + glob.glob("/proc/*/cmdline"):
    try:
      with open(path, "rb") as f:
        hits += SECRET.encode() in f.read()
    except OSError:
      pass
  report["seed_in_proc"] = str(hits)
  raise RuntimeError("PROBE " + " ".join(f"{k}={v}" for k, v in report.items()) + " END")
