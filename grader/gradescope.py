"""`python -m grader gradescope OUT.zip`: a Gradescope autograder bundle.

The zip holds, at its root: setup.sh (run once when Gradescope builds the image), run_autograder
(run per submission), requirements.txt, the grader and zoo sources, the question records (questions/,
and each --questions folder as extra_questions/<k>/), the assignment, and the hidden cases' seed
and their references precomputed (so grading a submission does not import jax unless the
submission does). Gradescope unpacks it into /autograder/source; run_autograder takes its root from
AUTOGRADER_ROOT (default /autograder), so a test can run it against a fake tree.
The project itself is not installed into the venv: the sandboxed student code, which runs with the
venv's interpreter, must not find the zoo or the grader among its packages.
"""
from __future__ import annotations

import stat
import tomllib
import zipfile
from pathlib import Path

import shlex

from grader.grade import HERE, load_caseset, write_cache

PROJECT = HERE.parent
VENV = "/opt/mmzoo-venv"

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# bubblewrap for the strongest isolation (many Gradescope containers forbid it; the grader then falls
# back to a weaker one and says so); util-linux for prlimit and setpriv.
apt-get install -y -qq bubblewrap util-linux python3 python3-venv python3-pip >/dev/null || true
pick() {
  for py in python3.13 python3.12 python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys, venv; sys.exit(sys.version_info < (3, 11))'; then
      command -v "$py"; return 0
    fi
  done
  return 1
}
PY="$(pick || true)"
if [ -z "$PY" ]; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PY="$(pick)"
fi
"$PY" -m venv __VENV__
__VENV__/bin/python -m pip install -q --upgrade pip
__VENV__/bin/python -m pip install -q -r /autograder/source/requirements.txt
# The sandbox runs student code under a non-root uid: it must be able to read the interpreter.
chmod -R a+rX __VENV__
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: grade /autograder/submission and write
# /autograder/results/results.json. AUTOGRADER_ROOT replaces /autograder (for tests); GRADER_PYTHON
# replaces the venv's interpreter.
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SRC="$ROOT/source"
PY="${GRADER_PYTHON:-__VENV__/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
cd "$SRC" || exit 1
export GRADER_CACHE_DIR="$SRC/cache"
export GRADER_SEED="$(cat "$SRC/grader_seed")"
echo "autograder: grading with the strongest isolation that works in this container (bwrap, unshare, plain);"
echo "autograder: the line 'isolation: ...' below says which one it is."
"$PY" -m grader "$ROOT/submission" --results "$RESULTS" --sandbox auto --lang "${GRADER_LANG:-__LANG__}" \\
  --hidden-visibility "${GRADER_HIDDEN_VISIBILITY:-__VISIBILITY__}" --assignment __ASSIGNMENT____QUESTIONS__
status=$?
if [ ! -s "$RESULTS" ]; then
  printf '{"score": 0, "output": "The autograder failed (exit status %s); please tell the course staff.", "tests": []}\\n' \\
    "$status" > "$RESULTS"
fi
exit 0
"""


def requirements() -> str:
  """The project's runtime dependencies, one per line, from pyproject.toml."""
  with open(PROJECT / "pyproject.toml", "rb") as f:
    deps = tomllib.load(f)["project"]["dependencies"]
  return "\n".join(deps) + "\n"


RECORD_SUFFIXES = (".py", ".toml", ".json")


def _tree(folder: Path, prefix: str, suffixes):
  for p in sorted(folder.rglob("*")):
    if p.is_file() and p.suffix in suffixes and "__pycache__" not in p.parts:
      yield f"{prefix}/{p.relative_to(folder).as_posix()}", p


def _sources(questions_dirs=()):
  """(path in the bundle, file) for the grader's and the zoo's sources and the question records."""
  for pkg in ("grader", "zoo"):
    yield from _tree(PROJECT / pkg, pkg, (".py",))
  yield from _tree(PROJECT / "questions", "questions", RECORD_SUFFIXES)
  for k, d in enumerate(questions_dirs):
    yield from _tree(Path(d).resolve(), f"extra_questions/{k}", RECORD_SUFFIXES)


def _add(zf, name, data: bytes, executable=False):
  info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
  info.compress_type = zipfile.ZIP_DEFLATED
  info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
  zf.writestr(info, data)


def build_bundle(out_zip: Path, *, seed: int, lang: str = "en", hidden_visibility: str = "visible",
                 assignment_name: str | None = None, questions_dirs=()) -> None:
  """Writes the bundle of one assignment; the references for `seed` are computed (or taken from the cache) first."""
  import tempfile
  caseset = load_caseset(seed, assignment_name=assignment_name, questions_dirs=questions_dirs)
  extra = "".join(f' --questions "$SRC/extra_questions/{k}"' for k in range(len(questions_dirs)))
  out_zip.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory() as tmp:
    cache = write_cache(Path(tmp), caseset)
    with zipfile.ZipFile(out_zip, "w") as zf:
      _add(zf, "setup.sh", SETUP_SH.replace("__VENV__", VENV).encode(), executable=True)
      run = RUN_AUTOGRADER.replace("__VENV__", VENV).replace("__LANG__", lang)
      run = run.replace("__ASSIGNMENT__", shlex.quote(caseset.assignment)).replace("__QUESTIONS__", extra)
      _add(zf, "run_autograder", run.replace("__VISIBILITY__", hidden_visibility).encode(), executable=True)
      _add(zf, "requirements.txt", requirements().encode())
      _add(zf, "grader_seed", f"{seed}\n".encode())
      _add(zf, f"cache/{cache.name}", cache.read_bytes())
      for name, p in _sources(questions_dirs):
        _add(zf, name, p.read_bytes())
