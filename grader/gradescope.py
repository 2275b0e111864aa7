"""`python -m grader gradescope OUT.zip`: a Gradescope autograder bundle.

The zip holds, at its root: setup.sh (run once when Gradescope builds the image), run_autograder
(run per submission), requirements.txt, the grader and zoo sources, the question records (questions/,
and each --questions folder as extra_questions/<k>/), the assignment, and the hidden cases' seed
and their references precomputed (so grading a submission does not import jax unless the
submission does). Gradescope unpacks it into /autograder/source; run_autograder takes its root from
AUTOGRADER_ROOT (default /autograder), so a test can run it against a fake tree.
The project itself is not installed into the venv: the sandboxed student code, which runs with the
venv's interpreter, must not find the zoo or the grader among its packages.

Secrets in the bundle (the seed, the references, the grader's and the zoo's sources, from which the
hidden cases follow) are root's alone: 0600 files in 0700 folders in the zip, and setup.sh and
run_autograder enforce it again (Gradescope's unpacking need not keep the zip's modes), so student code,
which runs under another uid in every isolation mode, reads none of it even in `plain` mode, where no
namespace hides the files. GRADER_SANDBOX=bwrap|unshare|plain forces an isolation mode (default auto).
The submission's time budget is set when the bundle is built and leaves a margin under Gradescope's
default 10-minute limit for starting up and writing the results.
"""

from __future__ import annotations

import math
import shlex
import stat
import tomllib
import zipfile
from pathlib import Path

from grader.grade import HERE, load_casesets, write_cache

PROJECT = HERE.parent
VENV = "/opt/mmzoo-venv"
# Gradescope's default limit for one submission is 10 minutes. The grader's budget (every call and import
# of a submission, grader/sandbox.py) gets 7 of them; starting the grader, loading the references and
# writing the results take seconds, so a submission that loops in every function still ends in time.
TIME_BUDGET_S = 420.0
GRADESCOPE_LIMIT_S = 600.0

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
# The sandbox runs student code under a non-root uid: it must be able to read the interpreter ...
chmod -R a+rX __VENV__
# ... and nothing of the bundle: the seed, the references and the grader's sources are root's alone.
chown -R root:root /autograder/source
chmod -R go-rwx /autograder/source
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
# The seed, the references and the sources are the grader's alone, whatever modes the unpacking left.
chmod -R go-rwx "$SRC" "$ROOT/results"
cd "$SRC" || exit 1
export GRADER_CACHE_DIR="$SRC/cache"
export GRADER_SEED="$(cat "$SRC/grader_seed")"
echo "autograder: grading with the strongest isolation that works in this container (bwrap, unshare, plain);"
echo "autograder: the line 'isolation: ...' below says which one it is."
# GRADER_SANDBOX forces an isolation mode (bwrap, unshare or plain); a mode that cannot run is refused.
case "${GRADER_SANDBOX:-auto}" in
  auto|bwrap|unshare|plain) ;;
  *) echo "autograder: GRADER_SANDBOX=$GRADER_SANDBOX is not one of auto, bwrap, unshare, plain" >&2
     printf '{"score": 0, "output": "The autograder is misconfigured (GRADER_SANDBOX is not auto, bwrap, unshare or plain); please tell the course staff.", "tests": []}\\n' > "$RESULTS"
     exit 0 ;;
esac
# The variant of the hidden cases comes from the smallest users[].id of the submission's metadata.
# --allow-plain: where auto falls back to plain mode, the bundle's secrets are still root's alone and the
# container holds no roster or solutions (docs/threat-model.md, "Plain mode").
"$PY" -m grader "$ROOT/submission" --results "$RESULTS" --sandbox "${GRADER_SANDBOX:-auto}" --allow-plain \\
  --lang "${GRADER_LANG:-__LANG__}" --hidden-visibility "${GRADER_HIDDEN_VISIBILITY:-__VISIBILITY__}" \\
  --time-budget __BUDGET__ --call-timeout __CALL_TIMEOUT__ --variants __VARIANTS__ \\
  --submission-metadata "$ROOT/submission_metadata.json" --assignment __ASSIGNMENT____QUESTIONS__
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
  """One file in the zip, root's alone (0700 or 0600), in folders root's alone (0700)."""
  parts = name.split("/")[:-1]
  for i in range(len(parts)):
    folder = "/".join(parts[: i + 1]) + "/"
    if folder not in zf.NameToInfo:
      d = zipfile.ZipInfo(folder, date_time=(2020, 1, 1, 0, 0, 0))
      d.external_attr = (0o700 | stat.S_IFDIR) << 16 | 0x10
      zf.writestr(d, b"")
  info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
  info.compress_type = zipfile.ZIP_DEFLATED
  info.external_attr = ((0o700 if executable else 0o600) | stat.S_IFREG) << 16
  zf.writestr(info, data)


def check_budget(time_budget: float, call_timeout: float) -> None:
  """ValueError unless the budget leaves a margin under Gradescope's limit and holds at least one call."""
  if not (0 < time_budget <= GRADESCOPE_LIMIT_S - 60 and math.isfinite(time_budget)):
    raise ValueError(
      f"the time budget must be over 0 and at most {GRADESCOPE_LIMIT_S - 60:g} s, a minute "
      f"under Gradescope's default limit of {GRADESCOPE_LIMIT_S:g} s (got {time_budget:g})"
    )
  if not 0 < call_timeout <= time_budget:
    raise ValueError(f"the call timeout must be over 0 and at most the time budget (got {call_timeout:g})")


def build_bundle(
  out_zip: Path,
  *,
  seed: str,
  lang: str = "en",
  hidden_visibility: str = "visible",
  time_budget: float = TIME_BUDGET_S,
  call_timeout: float | None = None,
  variants: int = 8,
  assignment_name: str | None = None,
  questions_dirs=(),
) -> None:
  """Writes the bundle of one assignment; the references of every variant of `seed` are computed (or taken from the cache) first."""
  import tempfile

  from grader.isolation import Limits

  call_timeout = call_timeout or Limits().call_wall_s
  check_budget(time_budget, call_timeout)
  casesets = load_casesets(seed, variants, assignment_name=assignment_name, questions_dirs=questions_dirs)
  caseset = casesets[0]
  extra = "".join(f' --questions "$SRC/extra_questions/{k}"' for k in range(len(questions_dirs)))
  out_zip.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.TemporaryDirectory() as tmp:
    caches = [write_cache(Path(tmp), cs) for cs in casesets]
    with zipfile.ZipFile(out_zip, "w") as zf:
      _add(zf, "setup.sh", SETUP_SH.replace("__VENV__", VENV).encode(), executable=True)
      run = RUN_AUTOGRADER.replace("__VENV__", VENV).replace("__LANG__", lang)
      run = run.replace("__ASSIGNMENT__", shlex.quote(caseset.assignment)).replace("__QUESTIONS__", extra)
      run = run.replace("__BUDGET__", f"{time_budget:g}").replace("__CALL_TIMEOUT__", f"{call_timeout:g}")
      run = run.replace("__VISIBILITY__", hidden_visibility).replace("__VARIANTS__", str(int(variants)))
      _add(zf, "run_autograder", run.encode(), executable=True)
      _add(zf, "requirements.txt", requirements().encode())
      _add(zf, "grader_seed", f"{seed}\n".encode())
      for cache in caches:
        _add(zf, f"cache/{cache.name}", cache.read_bytes())
      for name, p in _sources(questions_dirs):
        _add(zf, name, p.read_bytes())
