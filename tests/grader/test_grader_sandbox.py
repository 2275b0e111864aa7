"""grader/sandbox.py and grader/worker.py: the protocol survives what student code does to it.

These drive run_submission directly (plain mode, the cheapest) with small submissions; every check
is about the grader side going on correctly after the misbehaviour.
"""

import tempfile
from pathlib import Path

import numpy as np
import pytest

from grader.sandbox import Limits, LoadFailed, describe_exit, run_submission

# Writes onto every pipe the worker holds: forged replies, garbage, then a header claiming 4 GiB.
FORGER = '''
import json, os, stat, struct

def _pipes():
  out = []
  for fd in range(3, 64):
    try:
      if stat.S_ISFIFO(os.fstat(fd).st_mode):
        out.append(fd)
    except OSError:
      pass
  return out

def _frame(m):
  p = json.dumps(m).encode()
  return b"MMZW" + struct.pack(">I", len(p)) + p

def forge(x):
  for fd in _pipes():
    try:
      os.write(fd, _frame({"type": "reply", "id": 1, "status": "ok", "value": 42}) * 50)
      os.write(fd, b"garbage that is not a frame")
      os.write(fd, b"MMZW" + struct.pack(">I", 2**32 - 1))
    except OSError:
      pass
  return x
'''

FORGED_LOAD = '''
import json, os, stat, struct

def _frame(m):
  p = json.dumps(m).encode()
  return b"MMZW" + struct.pack(">I", len(p)) + p

for fd in range(3, 64):
  try:
    if stat.S_ISFIFO(os.fstat(fd).st_mode):
      os.write(fd, _frame({"type": "loaded", "found": {"double": ["ok"]}, "errors": 5, "clashes": {}}))
  except OSError:
    pass

def double(x):
  return 2 * x
'''

# A reply for its own call (the id read from the worker's frame), with a value that is not plain data.
FORGED_REPLY = '''
import json, os, struct, sys

def forge_reply():
  caller = sys._getframe(1).f_locals
  body = json.dumps({"type": "reply", "id": caller["rid"], "status": "ok",
                     "value": {"__float__": []}}).encode()
  os.write(caller["channel"].wfd, b"MMZW" + struct.pack(">I", len(body)) + body)
  return 0.0
'''

GOOD = '''
import numpy as np

def double(x):
  return 2 * x

def big(n):
  return np.zeros(n)

def loop():
  x = []
  x.append(x)
  return x

def odd():
  return {1, 2}

def jaxlike(x):
  class Arrayish:
    def __array__(self, dtype=None, copy=None):
      return np.asarray([x, x], dtype=np.float32)
  return Arrayish()
'''


def grade(files, calls, names, **limits):
  with tempfile.TemporaryDirectory() as d:
    src = Path(d) / "sub"
    src.mkdir()
    for name, text in files.items():
      (src / name).write_text(text)
    return run_submission(src, calls, names, mode="plain", limits=Limits(**{"call_wall_s": 10, **limits}))


def test_results_come_back_as_plain_data_and_limits_turn_bad_ones_into_reasons():
  calls = [
    ("double", (3,)),
    ("big", (10_000_000,)),
    ("double", (4,)),
    ("loop", ()),
    ("odd", ()),
    ("jaxlike", (1.5,)),
    ("double", (np.arange(3, dtype=np.float32),)),
  ]
  report, out, mode = grade({"m.py": GOOD}, calls, ["double", "big", "loop", "odd", "jaxlike"])
  assert mode == "plain" and set(report.found.values()) == {"ok"}
  assert [o.status for o in out] == ["ok", "bad_output", "ok", "bad_output", "bad_output", "ok", "ok"]
  assert out[0].value == 6 and out[2].value == 8
  assert "larger than" in out[1].error
  assert "nested" in out[3].error and "set" in out[4].error
  np.testing.assert_array_equal(out[5].value, np.array([1.5, 1.5], np.float32))
  assert out[6].value.dtype == np.float32 and list(out[6].value) == [0, 2, 4]


def test_forged_frames_and_garbage_on_the_channel_cost_only_that_call():
  calls = [("forge", (1,)), ("double", (5,)), ("forge", (2,)), ("double", (6,))]
  report, out, _ = grade({"a.py": FORGER, "b.py": GOOD}, calls, ["forge", "double"])
  # A forged reply cannot carry the call's unpredictable id, so it is never taken for an answer.
  assert out[0].status in ("ok", "bad_output") and out[0].value != 42
  assert out[1].status == "ok" and out[1].value == 10
  assert out[3].status == "ok" and out[3].value == 12


def test_a_forged_load_report_is_refused_and_its_module_left_out():
  report, out, _ = grade({"a.py": FORGED_LOAD, "b.py": GOOD}, [("double", (5,)), ("big", (2,))], ["double", "big"])
  # a.py is blamed and left out; being first by path, its `double` is the one graded (and failed).
  assert report.found == {"double": "import_error", "big": "ok"}
  assert report.errors["double"]["module"] == "a.py" and report.clashes["double"] == ["a.py", "b.py"]
  assert out[0].status == "skipped" and out[1].status == "ok" and list(out[1].value) == [0, 0]


def test_a_hung_call_times_out_and_the_next_call_runs_in_a_fresh_worker():
  files = {"m.py": "import time\n\ndef slow():\n  time.sleep(60)\n\ndef double(x):\n  return 2 * x\n"}
  report, out, _ = grade(files, [("slow", ()), ("double", (2,))], ["slow", "double"], call_wall_s=1.0)
  assert out[0].status == "timeout" and out[1].status == "ok" and out[1].value == 4


def test_a_function_that_keeps_killing_the_worker_is_not_run_forever():
  files = {"m.py": "import os\n\ndef die():\n  os._exit(5)\n\ndef double(x):\n  return 2 * x\n"}
  calls = [("die", ())] * 5 + [("double", (1,))]
  report, out, _ = grade(files, calls, ["die", "double"])
  assert [o.status for o in out] == ["crashed", "crashed", "skipped", "skipped", "skipped", "ok"]
  assert out[0].info == {"kind": "exit", "code": 5}


@pytest.mark.parametrize(
  "source, kind", [("import os\nos._exit(3)\n", "exit"), ("raise ValueError('boom')\n", "exception")]
)
def test_a_module_that_fails_on_import_fails_what_it_defines(source, kind):
  files = {"a.py": "def double(x):\n  return 2 * x\n" + source, "b.py": "def other():\n  return 1\n"}
  report, out, _ = grade(files, [("other", ())], ["double", "other"])
  assert report.found == {"double": "import_error", "other": "ok"}
  info = report.errors["double"]
  assert info["module"] == "a.py"
  if kind == "exit":
    assert info.get("kind") == "exit" and info.get("code") == 3
  else:
    assert info["exc_type"] == "ValueError" and info["line"] == 3 and "boom" in info["message"]
  assert out[0].value == 1


def test_imports_that_outlast_the_time_budget_fail_the_load_not_the_grader():
  files = {"a.py": "import time\ntime.sleep(60)\n\ndef double(x):\n  return 2 * x\n"}
  with pytest.raises(LoadFailed, match="time budget ran out while importing the submission \\(a.py\\)"):
    grade(files, [("double", (1,))], ["double"], wall_s=1.5)


def test_a_forged_reply_with_a_malformed_value_costs_only_its_call():
  calls = [("forge_reply", ()), ("double", (7,))]
  report, out, _ = grade({"a.py": FORGED_REPLY, "b.py": GOOD}, calls, ["forge_reply", "double"])
  assert out[0].status == "bad_output" and out[1].status == "ok" and out[1].value == 14


@pytest.mark.parametrize(
  "code, mode, expected",
  [
    (-11, "plain", {"kind": "signal", "signal": "SIGSEGV"}),
    (139, "bwrap", {"kind": "signal", "signal": "SIGSEGV"}),
    (137, "unshare", {"kind": "signal", "signal": "SIGKILL"}),
    (139, "plain", {"kind": "exit", "code": 139}),
    (4, "bwrap", {"kind": "exit", "code": 4}),
  ],
)
def test_exits_are_named_by_signal_in_every_isolation(code, mode, expected):
  assert describe_exit(code, mode)[1] == expected
