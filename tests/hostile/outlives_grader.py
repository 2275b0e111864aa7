"""A setsid child and a non-daemon thread started at import, then a slow call: the grader gets SIGTERM
or SIGHUP meanwhile, and nothing of the sandbox may outlive it (bounded: each sleeps 60 s at most)."""

import os
import threading
import time

if os.fork() == 0:
  os.setsid()
  time.sleep(60)
  os._exit(0)
threading.Thread(target=time.sleep, args=(60,)).start()


def time_align(A, B):
  time.sleep(30)
  return A
