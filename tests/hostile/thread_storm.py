"""A bounded thread storm: up to 2000 sleeping threads."""

import threading
import time

HOSTILE = ["film"]


def film(params, x, cond):
  started = 0
  for _ in range(2000):
    try:
      threading.Thread(target=time.sleep, args=(20,), daemon=True).start()
    except RuntimeError as e:
      raise RuntimeError(f"thread start failed after {started}: {e}") from None
    started += 1
  raise RuntimeError(f"started all {started} threads")
