"""The grader's references in one jax.jit per case: the same values as the zoo op by op; the grader's own
persistent compilation cache: private, out of the sandbox's reach, off when asked."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from grader import cases as C
from grader import isolation
from zoo import article
from zoo.align.time import dtw

ROOT = Path(__file__).resolve().parents[2]
PART1 = (
  "time_align",
  "feature_align",
  "feature_fusion",
  "attention_fusion",
  "encode",
  "decode",
  "self_attention",
  "self_attention_fusion",
)


def _same(got, want):
  for g, w in zip(*[x if isinstance(x, tuple) else (x,) for x in (got, want)]):
    assert g.shape == w.shape and g.dtype == w.dtype
    np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize("name", PART1 + ("dtw",))
def test_jitted_references_equal_the_zoo_op_by_op(name):
  """Every case of a seed: the jitted reference against the zoo's function run eagerly (the old reference)."""
  q = C.question(name)
  eager = dtw if name == "dtw" else getattr(article, name)
  for c in C.cases(q, "references-jit-test"):
    got = C.reference(q, c.args)
    with jax.enable_x64(True):
      want = C.normalise(q.kind, eager(*C.upcast(tuple(c.args))))
    _same(got, want)


def _run(code: str, **env) -> subprocess.CompletedProcess:
  full = {k: v for k, v in os.environ.items() if k not in ("GRADER_CACHE_DIR", "GRADER_COMPILE_CACHE")}
  return subprocess.run(
    [sys.executable, "-c", code],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
    env={**full, "PYTHONPATH": str(ROOT), **env},
  )


ONE_REFERENCE = (
  "from grader import cases as C\nq = C.question('encode')\nC.reference(q, C.cases(q, 0)[2].args)\n"
  "import jax; print(jax.config.jax_compilation_cache_dir)"
)


def test_compile_cache_is_the_graders_alone(tmp_path):
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert r.returncode == 0, r.stderr
  folder = tmp_path / "g" / "jax"
  assert r.stdout.split()[-1] == str(folder)
  st = folder.stat()
  assert st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o700  # no other uid (the sandbox's) may enter
  assert any(folder.iterdir())  # the reference's compilation was written there
  # Nothing the sandbox is shown (the venv, the worker's folder, scratch) holds it.
  worker, scratch = tmp_path / "worker", tmp_path / "scratch"
  for shown, _ in isolation._exposures(scratch, [worker]):
    assert not folder.resolve().is_relative_to(Path(shown).resolve()), shown


def test_compile_cache_refused_when_others_may_write_and_off_when_asked(tmp_path):
  shared = tmp_path / "g" / "jax"
  shared.mkdir(parents=True)
  shared.chmod(0o777)
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert r.returncode == 0, r.stderr
  assert "compilation cache off" in r.stderr and "writable by other users" in r.stderr
  assert r.stdout.split()[-1] == "None" and not any(shared.iterdir())
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "h"), GRADER_COMPILE_CACHE="off")
  assert r.returncode == 0 and r.stdout.split()[-1] == "None" and not (tmp_path / "h" / "jax").exists()


def test_student_code_never_turns_the_cache_on(tmp_path):
  """Importing the zoo and the grader's case code (as a submission may) leaves JAX's cache off."""
  r = _run(
    "import jax, zoo.article, zoo.models, grader.cases\nprint(jax.config.jax_compilation_cache_dir)",
    GRADER_CACHE_DIR=str(tmp_path / "g"),
  )
  assert r.returncode == 0 and r.stdout.split()[-1] == "None" and not (tmp_path / "g").exists()
