"""Plain mode: leaves a file, a folder and a link to a victim in each shared host folder, and a System V
shared memory segment anyone may read (bounded: bytes and one 4 KiB segment)."""

import ctypes
import os

TAG = "@@TAG@@"  # names the test looks for afterwards
VICTIM = "@@VICTIM@@"  # a root-owned file: a link to it is removed, never what it points at
SHARED = "@@SHARED@@"  # a world-writable folder under a root-owned 0755 one (not a top-level shared dir)
KEY = int("@@KEY@@")  # the System V IPC key of the segment


def time_align(A, B):
  for d in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", SHARED):
    try:
      with open(os.path.join(d, f"{TAG}-file"), "w") as f:
        f.write("the hidden inputs: " + repr(A)[:200])  # what issue 12's F3 carried to a later run
      os.mkdir(os.path.join(d, f"{TAG}-dir"))
      with open(os.path.join(d, f"{TAG}-dir", "inner"), "w") as f:
        f.write("x")
      os.symlink(VICTIM, os.path.join(d, f"{TAG}-link"))
    except OSError:
      pass
  try:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget(ctypes.c_int(KEY), ctypes.c_size_t(4096), ctypes.c_int(0o1000 | 0o666))  # IPC_CREAT, 0666
  except (OSError, AttributeError):
    pass
  return A
