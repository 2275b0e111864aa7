"""JAX's persistent compilation cache in a private folder: used by the CLI and by the grader's own process.

Nothing turns it on at import: only `enable(path)`, called by `python -m zoo` and by grader.cases before
its references, so a process that did not ask (student code in the grader's sandbox, a library user)
never reads or writes the folder. The cache holds compiled native code that later runs load and run, so
the folder must be out of other users' reach: created 0700, and refused (with a note) when another user
owns it or may write to it, or owns or may write to a folder holding it (unless that one is sticky, as /tmp is).
"""

from __future__ import annotations

import os
import stat
import sys


def user_dir(app: str = "mmzoo") -> str:
  """<$XDG_CACHE_HOME or ~/.cache>/<app>/jax."""
  base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
  return os.path.join(base, app, "jax")


def unsafe_reason(path: str) -> str | None:
  """Why `path` must not hold the cache (another user owns it, or may write to it or replace it), or None.

  Every folder above it counts too, as ssh's StrictModes has it: one that another user owns, or may write
  to without the sticky bit, lets that user rename what lies below away and put a folder of theirs in its
  place after this check. Root's folders are trusted (root can do anything anyway). Both the path as
  written and where its links lead are walked.
  """
  st = os.stat(path)
  if st.st_uid != os.getuid():
    return f"{path} belongs to another user"
  if st.st_mode & 0o022:
    return f"{path} is writable by other users"
  above = {os.path.realpath(path), os.path.abspath(path)}
  folders = set()
  for p in above:
    while True:
      parent = os.path.dirname(p)
      if parent == p:
        break
      folders.add(parent)
      p = parent
  for folder in sorted(folders, key=len, reverse=True):
    pst = os.stat(folder)
    if pst.st_uid not in (0, os.getuid()):
      return f"the folder holding {path} ({folder}) belongs to another user (who could replace it)"
    if pst.st_mode & 0o022 and not pst.st_mode & stat.S_ISVTX:
      return f"the folder holding {path} ({folder}) is writable by other users (who could replace it)"
  return None


def prepare(path: str) -> str | None:
  """Create `path` private (0700) if missing; why it must not hold the cache, or None (no JAX needed)."""
  # Decision: a folder that cannot be made or read (read-only place, a file in the way, no such mount) is a
  # reason like any other: the caller runs uncached with a note, never stops on a traceback.
  try:
    os.makedirs(path, mode=0o700, exist_ok=True)
    if not os.path.isdir(path):
      return f"{path} is not a folder"
    return unsafe_reason(path)
  except OSError as e:
    return f"{path} cannot be used ({e.strerror or e})"


def enable(path: str, hint: str = "") -> bool:
  """Turn on JAX's persistent compilation cache in `path`, for every compilation however short; True if on.

  `hint`, added to the note printed when the folder is refused, says how to choose another one.
  """
  reason = prepare(path)
  if reason:
    print(f"note: compilation cache off: {reason}{'; ' + hint if hint else ''}", file=sys.stderr)
    return False
  import jax

  jax.config.update("jax_compilation_cache_dir", path)
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
  jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
  return True
