"""grader.refjit under the outside review's attacks: entries never shared by two computations, never read unless
this user's own private file, and a cache folder that cannot be used is a note, not a crash."""

import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grader import refjit
from zoo import compile_cache

ROOT = Path(__file__).resolve().parents[2]
X_3 = np.ones(3, np.float32)

# Two module-level lambdas: one module, one qualified name ('<lambda>'), one file. They once shared a key, and
# the second answered with the first's executable, in the very process that stored it.
_plus = refjit.jit(lambda x: x + 1.0)
_times = refjit.jit(lambda x: x * 10.0)


def _scaled_by(w_3):
  """A closure over data: the key must hold w_3's value (a record must not do this; it must not give wrong values either)."""
  return refjit.jit(lambda x: x * w_3)


def test_two_lambdas_of_one_module_and_two_closures_never_share_an_entry(aot):
  for _ in range(2):  # stored, then read back by a process that forgot them
    np.testing.assert_array_equal(_plus(X_3), X_3 + 1)
    np.testing.assert_array_equal(_times(X_3), X_3 * 10)
    for w in (2.0, 5.0):
      np.testing.assert_array_equal(_scaled_by(np.full(3, w, np.float32))(X_3), X_3 * w)
    refjit.forget()
  assert len(list(aot.iterdir())) == 4
  assert refjit.stats["uncached"] == 0


def test_a_closure_over_what_has_no_value_key_is_plain_jit(aot):
  class Opaque:
    scale = 3.0

  o = Opaque()
  uncached = refjit.stats["uncached"]
  np.testing.assert_array_equal(refjit.jit(lambda x: x * o.scale)(X_3), X_3 * 3)
  assert refjit.stats["uncached"] == uncached + 1 and not any(aot.iterdir())


class _Plant:
  """Unpickling this runs code: it creates the marker file named."""

  def __init__(self, marker):
    self.marker = str(marker)

  def __reduce__(self):
    return (Path.touch, (Path(self.marker),))


def test_an_entry_not_this_users_private_file_is_never_unpickled(aot, tmp_path):
  """A folder swapped after its check (by whoever owns a folder above it) must not hand in its entries."""
  np.testing.assert_array_equal(_plus(X_3), X_3 + 1)
  (entry,) = aot.iterdir()
  good = entry.read_bytes()
  marker = tmp_path / "ran"
  planted = [("group-writable", 0o666, None)]
  if os.getuid() == 0:
    planted.append(("another user's", 0o600, 65534))
  for what, mode, owner in planted:
    entry.write_bytes(pickle.dumps(_Plant(marker)))
    entry.chmod(mode)
    if owner is not None:
      os.chown(entry, owner, owner)
    refjit.forget()
    np.testing.assert_array_equal(_plus(X_3), X_3 + 1)  # compiled again, and stored over it
    assert not marker.exists(), what
    st = entry.stat()
    assert st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o600
  # A link to this user's own good entry is not followed either, and a FIFO is never waited on.
  elsewhere = tmp_path / "elsewhere"
  elsewhere.write_bytes(good)
  elsewhere.chmod(0o600)
  compiled = refjit.stats["compiled"]
  entry.unlink()
  entry.symlink_to(elsewhere)
  refjit.forget()
  np.testing.assert_array_equal(_plus(X_3), X_3 + 1)
  assert refjit.stats["compiled"] == compiled + 1 and not entry.is_symlink()
  entry.unlink()
  os.mkfifo(entry, 0o600)
  refjit.forget()
  old = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("a FIFO in the folder was waited on"))
  signal.alarm(30)
  try:
    np.testing.assert_array_equal(_plus(X_3), X_3 + 1)
  finally:
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)
  assert entry.is_file()


def test_a_folder_that_cannot_be_made_is_a_note_not_a_crash(tmp_path):
  in_the_way = tmp_path / "a-file"
  in_the_way.write_text("")
  for path in (in_the_way / "jax-aot", in_the_way / "below" / "jax-aot", in_the_way):
    assert "cannot be used" in compile_cache.prepare(str(path)) or "not a folder" in compile_cache.prepare(str(path))
  code = "from grader import cases as C\nq = C.question('encode')\nprint(C.reference(q, C.cases(q, 0)[2].args).shape)"
  env = {k: v for k, v in os.environ.items() if k not in ("GRADER_CACHE_DIR", "GRADER_COMPILE_CACHE")}
  r = subprocess.run(
    [sys.executable, "-c", code],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
    env={**env, "PYTHONPATH": str(ROOT), "GRADER_CACHE_DIR": str(in_the_way)},
  )
  assert r.returncode == 0, r.stderr
  assert "reference executables not cached" in r.stderr and "cannot be used" in r.stderr


def test_a_folder_above_that_others_own_or_may_write_is_refused(tmp_path):
  top = tmp_path / "top"
  folder = top / "mid" / "jax-aot"
  folder.mkdir(parents=True)
  top.chmod(0o755)
  folder.chmod(0o700)
  assert compile_cache.unsafe_reason(str(folder)) is None
  top.chmod(0o777)  # two levels up: they could rename mid away and put theirs in its place
  assert "writable by other users" in compile_cache.unsafe_reason(str(folder))
  top.chmod(0o1777)
  assert compile_cache.unsafe_reason(str(folder)) is None
  link = tmp_path / "link"
  link.symlink_to(folder)
  assert compile_cache.unsafe_reason(str(link)) is None
  if os.getuid() == 0:  # mode 0755 but another user's: they may do as they like below it
    os.chown(top, 65534, 65534)
    top.chmod(0o755)
    assert "belongs to another user" in compile_cache.unsafe_reason(str(folder))
    assert "belongs to another user" in compile_cache.unsafe_reason(str(link))  # where the link leads counts
