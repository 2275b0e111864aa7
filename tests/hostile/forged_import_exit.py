"""At import, announces a module that does not exist on the worker's channel, then exits: a new scapegoat
for every restart, so that the grader (before the fix) never blamed the same module twice and kept
starting sandboxes (143 in 40 s) until the time budget ran out."""

import os
import random
import sys

HOSTILE = ["dtw"]


def _channel():
  f = sys._getframe()
  while f is not None:
    if "channel" in f.f_locals:
      return f.f_locals["channel"]
    f = f.f_back
  return None


ch = _channel()
if ch is not None:
  ch.send({"type": "importing", "path": f"ghost{random.randrange(10**9)}.py"})
os._exit(1)


def dtw(x, y):
  return 0.0
