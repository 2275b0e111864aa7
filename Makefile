# `make demo`: set everything up and run the main job. `make test`: set up and run the tests.
.PHONY: setup demo test
setup:
	@bash scripts/setup.sh

demo: setup
	.venv/bin/python -m grader solutions/

test: setup
	.venv/bin/python -m pytest -q -n 2 --dist loadfile
