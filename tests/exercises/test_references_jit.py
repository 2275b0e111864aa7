"""The grader's references in one jax.jit per case: the same values as the zoo op by op; their executables kept
across processes (grader.refjit): the bits of a fresh compilation, nothing traced when warm, private, out of
the sandbox's reach, off when asked."""

import os
import subprocess
import sys
from pathlib import Path

import jax
import numpy as np
import pytest

from grader import cases as C
from grader import isolation, refjit
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
  return _run_args(code, (), **env)


ONE_REFERENCE = (
  "from grader import cases as C, refjit\nq = C.question('encode')\nC.reference(q, C.cases(q, 0)[2].args)\n"
  "import jax; print(jax.config.jax_compilation_cache_dir, refjit.folder())"
)


def test_compile_cache_is_the_graders_alone(tmp_path):
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert r.returncode == 0, r.stderr
  folder = tmp_path / "g" / "jax-aot"
  jax_cache, aot = r.stdout.split()[-2:]
  assert jax_cache == "None" and aot == str(folder)  # JAX's own cache stays off (grader.cases.use_compile_cache)
  st = folder.stat()
  assert st.st_uid == os.getuid() and (st.st_mode & 0o777) == 0o700  # no other uid (the sandbox's) may enter
  entries = list(folder.iterdir())
  assert entries  # the reference's executable was written there
  for e in entries:
    assert e.stat().st_uid == os.getuid() and (e.stat().st_mode & 0o777) == 0o600, e
  # Nothing the sandbox is shown (the venv, the worker's folder, scratch) holds it.
  worker, scratch = tmp_path / "worker", tmp_path / "scratch"
  for shown, _ in isolation._exposures(scratch, [worker]):
    assert not folder.resolve().is_relative_to(Path(shown).resolve()), shown


def test_compile_cache_refused_when_others_may_write_and_off_when_asked(tmp_path):
  shared = tmp_path / "g" / "jax-aot"
  shared.mkdir(parents=True)
  shared.chmod(0o777)
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert r.returncode == 0, r.stderr
  assert "reference executables not cached" in r.stderr and "writable by other users" in r.stderr
  assert r.stdout.split()[-2:] == ["None", "None"] and not any(shared.iterdir())
  r = _run(ONE_REFERENCE, GRADER_CACHE_DIR=str(tmp_path / "h"), GRADER_COMPILE_CACHE="off")
  assert r.returncode == 0 and r.stdout.split()[-2:] == ["None", "None"] and not (tmp_path / "h").exists()


def test_student_code_never_turns_the_cache_on(tmp_path):
  """Importing the zoo, the grader's case code and a record (as a submission may) leaves both caches off."""
  r = _run(
    "import jax, zoo.article, zoo.models, grader.cases, grader.refjit\n"
    "from grader import cases as C\nC.question('clip_loss').private._jitted()\n"
    "print(jax.config.jax_compilation_cache_dir, grader.refjit.folder())",
    GRADER_CACHE_DIR=str(tmp_path / "g"),
  )
  assert r.returncode == 0, r.stderr
  assert r.stdout.split()[-2:] == ["None", "None"] and not (tmp_path / "g").exists()


# ---------------------------------------------------------------------------------------------
# grader.refjit: the references' executables kept across processes.

# A handful of records with what the key must get right: lists made arrays (encode), a Python float
# (clip_loss: weak type), a static argument between dynamic ones (multi_head_attention), static keyword
# arguments and LAPACK (deep_cca_loss: Cholesky), a traced Python int and a Flax cache (kv_decode_step).
FEW = ("encode", "clip_loss", "multi_head_attention", "deep_cca_loss", "kv_decode_step")


def _bits(values) -> list:
  out = []
  for v in values:
    for a in v if isinstance(v, tuple) else (v,):
      out.append((a.shape, a.dtype.str, a.tobytes()))
  return out


def _references(seed="refjit-test") -> dict:
  return {n: _bits(C.expected(C.question(n), seed)) for n in FEW}


def test_a_stored_executable_gives_the_bits_of_a_fresh_compilation_and_of_plain_jit(aot):
  folder = aot
  before = dict(refjit.stats)
  missed = _references()
  n = len(list(folder.iterdir()))
  assert refjit.stats["stored"] - before["stored"] == n > 0
  refjit.forget()
  loaded = refjit.stats["loaded"]
  hit = _references()
  assert refjit.stats["loaded"] - loaded == n and len(list(folder.iterdir())) == n  # read back, nothing new
  refjit.disable()
  plain = _references()
  assert hit == missed == plain
  assert (folder.stat().st_mode & 0o777) == 0o700
  assert all((e.stat().st_mode & 0o777) == 0o600 for e in folder.iterdir())


def test_an_edited_source_misses(aot, monkeypatch):
  folder = aot
  _references()
  n = len(list(folder.iterdir()))
  refjit.forget()
  monkeypatch.setattr(refjit, "_sources_digest", lambda files: "edited")
  compiled = refjit.stats["compiled"]
  _references()
  assert refjit.stats["compiled"] - compiled == n and len(list(folder.iterdir())) == 2 * n


def test_a_corrupt_or_truncated_entry_is_compiled_again(aot):
  folder = aot
  want = _references()
  entries = sorted(folder.iterdir())
  for i, e in enumerate(entries):
    e.write_bytes(b"not a pickle" if i % 2 else e.read_bytes()[: e.stat().st_size // 2])
  refjit.forget()
  compiled = refjit.stats["compiled"]
  assert _references() == want
  assert refjit.stats["compiled"] - compiled == len(entries)
  refjit.forget()
  loaded = refjit.stats["loaded"]
  assert _references() == want and refjit.stats["loaded"] - loaded == len(entries)  # rewritten whole


COUNT_TRACES = """
import sys, jax, jax.monitoring
from grader import cases as C, refjit
events = []
jax.monitoring.register_event_duration_secs_listener(lambda event, secs, **kw: events.append(event))
for n in sys.argv[1:]:
  C.expected(C.question(n), "refjit-test")
traced = sum(e == "/jax/core/compile/jaxpr_trace_duration" for e in events)
compiled = sum(e == "/jax/core/compile/backend_compile_duration" for e in events)
print(traced, compiled, refjit.stats["loaded"], refjit.stats["stored"])
"""


def test_a_warm_process_neither_traces_nor_compiles(tmp_path):
  """The point of it: the second process reads every executable back (LAPACK's included) and traces nothing."""
  cold = _run_args(COUNT_TRACES, FEW, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert cold.returncode == 0, cold.stderr
  traced, compiled, loaded, stored = map(int, cold.stdout.split()[-4:])
  assert traced > 0 and compiled > 0 and loaded == 0 and stored > 0
  warm = _run_args(COUNT_TRACES, FEW, GRADER_CACHE_DIR=str(tmp_path / "g"))
  assert warm.returncode == 0, warm.stderr
  assert list(map(int, warm.stdout.split()[-4:])) == [0, 0, stored, 0]


WITH_JAX_CACHE = """
import sys
from grader import cases as C, refjit
from zoo import compile_cache
assert compile_cache.enable(sys.argv[1]) and C.use_compile_cache()  # JAX's cache too, as some other code might
print(C.expected(C.question("multi_head_attention"), "refjit-test")[-1].sum(), refjit.stats["stored"])
"""


def test_an_executable_read_back_from_jax_s_own_cache_is_never_stored(tmp_path):
  """Re-serialized, such an executable loses kernels ("Function ... not found"): only fresh ones are kept."""
  jax_cache = str(tmp_path / "jax")
  first = _run_args(WITH_JAX_CACHE, [jax_cache], GRADER_CACHE_DIR=str(tmp_path / "a"))
  # JAX's cache answers every compilation of the second process.
  second = _run_args(WITH_JAX_CACHE, [jax_cache], GRADER_CACHE_DIR=str(tmp_path / "b"))
  assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
  assert int(first.stdout.split()[-1]) > 0 and int(second.stdout.split()[-1]) == 0
  assert first.stdout.split()[-2] == second.stdout.split()[-2]
  assert any((tmp_path / "a" / "jax-aot").iterdir()) and not any((tmp_path / "b" / "jax-aot").iterdir())


def _run_args(code: str, args, **env) -> subprocess.CompletedProcess:
  full = {k: v for k, v in os.environ.items() if k not in ("GRADER_CACHE_DIR", "GRADER_COMPILE_CACHE")}
  return subprocess.run(
    [sys.executable, "-c", code, *args],
    cwd=ROOT,
    capture_output=True,
    text=True,
    timeout=300,
    env={**full, "PYTHONPATH": str(ROOT), **env},
  )
