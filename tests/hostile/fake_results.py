"""Prints and writes a fake Gradescope results.json with full marks, and answers wrongly."""

import json
import os
import sys

HOSTILE = ["encode"]
RESULTS = "@@RESULTS@@"  # where the test asked the grader to write results.json
FAKE = json.dumps(
  {
    "score": 170,
    "output": "FAKE-RESULTS-MARKER",
    "tests": [{"name": "encode: all", "score": 170, "max_score": 170, "status": "passed"}],
  }
)


def encode(vector):
  print(FAKE)
  sys.stdout.flush()
  os.write(1, FAKE.encode())
  os.write(2, FAKE.encode())
  for path in ("results.json", "../results.json", "/autograder/results/results.json", RESULTS):
    try:
      os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
      with open(path, "w") as f:
        f.write(FAKE)
    except OSError:
      pass
  return [0] * (len(vector) + 1)  # always the wrong length
