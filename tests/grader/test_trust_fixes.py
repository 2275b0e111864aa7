"""Issue 12's outside attack, fixed as classes: each test failed on the code the attacker tried."""
from __future__ import annotations

from pathlib import Path

from grader.batch import content_hash


def test_content_hash_fields_are_framed(tmp_path):
  """F4: a file holding "Q\\0q1.py\\0CODE" must not hash like the files a.txt="Q" and q1.py="CODE"."""
  code = b"def f():\n  return 1\n"
  one, two = tmp_path / "r1" / "carol", tmp_path / "r2" / "carol"
  one.mkdir(parents=True)
  two.mkdir(parents=True)
  (one / "a.txt").write_bytes(b"Q")
  (one / "q1.py").write_bytes(code)
  (two / "a.txt").write_bytes(b"Q\0q1.py\0" + code)
  assert content_hash(one) != content_hash(two)
  # A symlink's target is framed too: a link to "x" beside file "y" differs from a link to "x\0y..."
  (tmp_path / "r3" / "d").mkdir(parents=True)
  (tmp_path / "r4" / "d").mkdir(parents=True)
  (tmp_path / "r3" / "d" / "l").symlink_to("x")
  (tmp_path / "r3" / "d" / "m").write_bytes(b"y")
  (tmp_path / "r4" / "d" / "l").symlink_to("xmy")
  assert content_hash(tmp_path / "r3" / "d") != content_hash(tmp_path / "r4" / "d")
  # Same content, same hash (the cache still works).
  three = tmp_path / "r5" / "carol"
  three.mkdir(parents=True)
  (three / "a.txt").write_bytes(b"Q")
  (three / "q1.py").write_bytes(code)
  assert content_hash(three) == content_hash(one)
