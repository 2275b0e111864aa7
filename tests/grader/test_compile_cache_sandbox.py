"""Student code in the sandbox cannot write, list or read the grader's compilation cache (native code the grader loads)."""

import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from grader import isolation as iso
from grader import refjit
from zoo import compile_cache

MIB = 1 << 20
SMALL = iso.Limits(
  cpu_s=5,
  wall_s=60,
  call_wall_s=30,
  mem_bytes=3 << 30,
  nproc=40,
  fsize_bytes=MIB,
  nofile=64,
  output_bytes=1 << 16,
  scratch_bytes=16 * MIB,
  sandbox_mem_bytes=256 * MIB,
)


@pytest.mark.parametrize("mode", iso.MODES)
def test_the_sandbox_cannot_write_the_graders_compile_cache(mode):
  """Nor list it, nor read an entry: the references' executables (grader.refjit), made as the grader makes them."""
  why = iso._check(mode)
  if why:
    pytest.skip(why)
  if mode == "plain" and not iso._is_root():
    pytest.skip("as non-root, plain mode runs as the grader itself (refused without --allow-same-uid)")
  base = Path(tempfile.mkdtemp(prefix="cc-sandbox-"))
  scratch = Path(tempfile.mkdtemp(prefix="cc-scratch-"))
  try:
    base.chmod(0o755)  # the sandbox's uid may walk to the folder: only the folder's own mode stops it
    scratch.chmod(0o755)
    folder = base / "jax-aot"
    assert (
      compile_cache.prepare(str(folder)) is None
    )  # as grader.refjit.enable (grader.cases.use_compile_cache) makes it
    assert refjit._write(folder / "entry", b"executable")  # as grader.refjit writes an entry (0600)
    code = textwrap.dedent(f"""
      import os
      for what, act in (
        ("write", lambda: open({str(folder / "planted")!r}, "w").write("x")),
        ("list", lambda: os.listdir({str(folder)!r})),
        ("read", lambda: open({str(folder / "entry")!r}, "rb").read()),
      ):
        try:
          act(); print(what, "done")
        except OSError as e:
          print(what, "refused", type(e).__name__)
    """)
    proc = iso.spawn(mode, [sys.executable, "-c", code], scratch=scratch, limits=SMALL, uid_slot=7)
    try:
      out, _ = proc.communicate(timeout=60)
    finally:
      iso.kill(proc)
    lines = out.decode().splitlines()
    assert [ln.split()[:2] for ln in lines] == [["write", "refused"], ["list", "refused"], ["read", "refused"]], out
    assert not (folder / "planted").exists()
  finally:
    shutil.rmtree(base, ignore_errors=True)
    shutil.rmtree(scratch, ignore_errors=True)
