#!/usr/bin/env bash
# Prepare benchmarks/gpu_bench.py for the device machine (one H200; python3 3.12 with jax and torch for
# CUDA; nothing to download there): the pure-Python wheels of flax, optax and chex at exactly the versions
# of this checkout's venv go into .whl/ (ignored by git, carried by the device tool), and the one command
# to run there is printed. The device's own flax/optax/chex may be other versions; the carried ones are
# put first on PYTHONPATH so that the zoo runs with the versions its tests pass with. jax stays the device's.
#
#   benchmarks/pack_gpu.sh [PYTHON] [DEST]     # defaults: .venv/bin/python, .whl
#
# Then call the device tool's run with carry [".whl"] and the printed command (about 3-4 minutes there).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
DEST=${2:-.whl}
pins=$("$PY" -c 'import importlib.metadata as m; print(" ".join(f"{p}=={m.version(p)}" for p in ("flax", "optax", "chex")))')
mkdir -p "$DEST"
rm -f "$DEST"/flax-*.whl "$DEST"/optax-*.whl "$DEST"/chex-*.whl  # one version of each, or the install stops
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 -d "$DEST" $pins 2>&1 | grep -v '^WARNING: Location' || true
for p in flax optax chex; do
  ls "$DEST"/$p-*.whl >/dev/null 2>&1 || { echo "pack_gpu.sh: no $p wheel in $DEST" >&2; exit 1; }
done
exclude=$(git rev-parse --git-path info/exclude 2>/dev/null || true)
if [ "$DEST" = .whl ] && [ -n "$exclude" ] && ! grep -qx '/.whl/' "$exclude" 2>/dev/null; then
  mkdir -p "$(dirname "$exclude")" && echo '/.whl/' >> "$exclude"  # the wheels travel by carry, never in a commit
fi
echo "packed: $pins -> $DEST"
echo "device command:"
echo "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $DEST/*.whl && export PYTHONPATH=/tmp/site:\$PWD PYTHONUNBUFFERED=1 && python3 benchmarks/gpu_bench.py --out \$OUT/gpu.json 2>&1 | tee \$OUT/gpu.log"
