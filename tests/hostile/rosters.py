"""Hostile *rosters* (issue 12, section 5): entry names and files meant to break a class's `--batch`, or to
take another student's row; and a small case set so that a batch of them grades in a few seconds."""

import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

HONEST_TIME_ALIGN = "def time_align(A, B):\n  n = min(len(A), len(B))\n  return list(A[:n]), list(B[:n])\n"
HONEST_FEATURE_ALIGN = HONEST_TIME_ALIGN.replace("time_align", "feature_align")
# Raises with a lone surrogate in its message on every call: the visible cases show that message.
SURROGATE = "def time_align(A, B):\n  raise ValueError('bad \\udc80 byte ' + chr(0xD800))\n"

# Roster names that once merged two students, or broke the gradebook (a plain name keeps its id).
NAMES = [
  "alice.py",
  " alice.py",
  "Alice.py",
  "\\.py",
  "_.py",
  "__.py",
  "a\x07b.py",
  "gradebook.csv.py",
  "summary.json.py",
  "=cmd|' -C calc'!A0.py",
  "+1.py",
  "-2.py",
  "@x.py",
  "\tt.py",
  "\rr.py",
  "张三.py",
  "alice-" + "0" * 8 + ".py",
  "x" * 200 + ".py",
  "CON.py",
  "nul.txt.py",
  "\u202egpj.py",
  "zw\u200dj.py",
]
CP1252 = b"Jos\xe9.py"  # a name from a Windows zip: not UTF-8


def small_caseset(names=("time_align",)):
  """The real case set cut to a few functions (their real cases and cached references)."""
  from grader.grade import CaseSet, load_caseset

  try:
    from grader.seed import DEFAULT as seed
  except ImportError:
    seed = 0
  full = load_caseset(seed)
  specs = [s for s in full.specs if s.name in names]
  return CaseSet(
    specs,
    {n: full.cases[n] for n in names},
    {n: full.expected[n] for n in names},
    full.seed,
    key=f"{full.key}-{'+'.join(names)}",
    deps=full.deps,
  )


def fsname(roster: Path, raw) -> Path:
  """roster/raw for a str or bytes name (bytes kept as they are: os.fsdecode's surrogates)."""
  return roster / (os.fsdecode(raw) if isinstance(raw, bytes) else raw)


def special_files(roster: Path) -> dict:
  """A FIFO and a socket named *.zip, and a link to a device named *.zip: name -> the kind's word."""
  made = {}
  os.mkfifo(roster / "pipe.zip")
  made["pipe.zip"] = "named pipe"
  # A socket's path is limited to ~107 bytes: bound in a short folder, then moved (same file system).
  short = Path(tempfile.mkdtemp(prefix="s", dir="/tmp" if os.path.isdir("/tmp") else None))
  try:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
      s.bind(str(short / "s"))
    os.rename(short / "s", roster / "sock.zip")
    made["sock.zip"] = "socket"
  except OSError:
    pass  # another file system than /tmp: the FIFO and the device still cover special files
  finally:
    shutil.rmtree(short, ignore_errors=True)
  os.symlink("/dev/zero", roster / "zero.zip")
  made["zero.zip"] = "a device"
  return made


def release_fifos(roster: Path) -> None:
  """Opens every FIFO under roster for writing once, so that a reader blocked on one (a grader bug)
  returns and the test ends instead of hanging."""
  for p in roster.rglob("*"):
    try:
      if stat.S_ISFIFO(os.lstat(p).st_mode):
        fd = os.open(p, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
    except OSError:
      pass
