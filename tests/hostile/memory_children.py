"""Spreads memory over a few children so that each stays inside every per-process limit while together
they pass the sandbox's (RLIMIT_AS bounds one process; only a memory cgroup bounds them all). Bounded:
three children of 120 MiB each, which the test sets against a 256 MiB sandbox."""

import os
import time

HOSTILE = ["encode"]


def encode(vector):
  kids = []
  for _ in range(3):
    pid = os.fork()
    if pid == 0:
      b = bytearray(120 << 20)
      for j in range(0, len(b), 4096):
        b[j] = 1
      time.sleep(3)
      os._exit(0)
    kids.append(pid)
  return [os.waitpid(p, 0)[1] for p in kids]
