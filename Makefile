# `make demo`: set everything up and run the main job. `make test`: set up and run the tests.
.PHONY: setup demo test bench
setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/python -m grader solutions/

test: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/python -m pytest -q -n 2 --dist loadfile

# Optional: the zoo against PyTorch twins (benchmarks/README.md). torch lives only in .venv-bench.
bench: setup
	[ -x .venv-bench/bin/python ] || (/usr/bin/python3 -m venv .venv-bench && .venv-bench/bin/pip install -q -e '.[bench,test]')
	.venv-bench/bin/python benchmarks/zoo_bench.py
