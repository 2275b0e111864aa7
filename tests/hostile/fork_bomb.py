"""A bounded fork bomb: up to 300 children that stay alive, then the function gives up."""

import os
import time

HOSTILE = ["gated_fusion"]


def gated_fusion(params, x_a, x_b):
  born = 0
  for _ in range(300):
    try:
      pid = os.fork()
    except OSError as e:
      raise RuntimeError(f"fork failed after {born} children: {type(e).__name__}") from None
    if pid == 0:
      time.sleep(20)  # children outlive the call; the sandbox must take them down
      os._exit(0)
    born += 1
  raise RuntimeError(f"forked all {born} children")
