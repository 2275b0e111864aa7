"""Fixtures shared by the reference tests."""

import jax
import pytest
from jax._src import compilation_cache  # private: JAX keeps its cache decision until reset_cache()

from grader import cases as C
from grader import refjit


@pytest.fixture
def aot(tmp_path, monkeypatch):
  """refjit on, in a fresh 0700 folder, for this test only (the session's setting comes back after it).

  JAX's own persistent cache is off meanwhile: an in-process `zoo infer` or `zoo train` test on the same
  xdist worker leaves it on, and refjit never stores an executable JAX's cache answered (grader/refjit.py),
  so what the test stores would depend on which tests ran before it on that worker.
  """
  folder = tmp_path / "jax-aot"
  monkeypatch.setattr(C, "use_compile_cache", lambda: True)  # the session's first reference must not switch folders
  monkeypatch.setitem(refjit._state, "folder", refjit.folder())
  jax_dir = jax.config.jax_compilation_cache_dir
  jax.config.update("jax_compilation_cache_dir", None)
  compilation_cache.reset_cache()
  assert refjit.enable(str(folder))
  refjit.forget()
  yield folder
  refjit.forget()
  jax.config.update("jax_compilation_cache_dir", jax_dir)
  compilation_cache.reset_cache()
