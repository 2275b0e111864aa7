"""zoo.compile_cache refuses a folder that another user could write to or replace (it holds native code)."""

import os

from zoo import compile_cache


def test_unsafe_reason(tmp_path):
  parent = tmp_path / "p"
  folder = parent / "jax"
  folder.mkdir(parents=True)
  parent.chmod(0o755)
  folder.chmod(0o700)
  assert compile_cache.unsafe_reason(str(folder)) is None
  folder.chmod(0o770)
  assert "writable by other users" in compile_cache.unsafe_reason(str(folder))
  folder.chmod(0o700)
  parent.chmod(0o777)  # others could rename the folder away and put theirs in its place
  assert "folder holding" in compile_cache.unsafe_reason(str(folder))
  parent.chmod(0o1777)  # sticky, as /tmp: they cannot
  assert compile_cache.unsafe_reason(str(folder)) is None


def test_enable_creates_a_private_folder_and_refuses_a_shared_one(tmp_path, capsys):
  shared = tmp_path / "shared"
  shared.mkdir()
  shared.chmod(0o777)
  assert not compile_cache.enable(str(shared), "set X")
  assert "compilation cache off" in capsys.readouterr().err
  # (enable on a fresh folder is checked in a fresh process by test_models_cli and test_references_jit.)
  assert compile_cache.user_dir("app").endswith(os.path.join("app", "jax"))
