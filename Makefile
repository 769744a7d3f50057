# flic-edge: `make run` starts both programs on embedded defaults; `make test` runs everything.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SRC    := $(wildcard bridge server edgecommon tests scripts bench)

.PHONY: run test venv deps lint typecheck pytest bench fmt clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

run: venv
	$(BIN)/python scripts/devrun.py

# System packages and Node modules the tests use (apt-get only when root and missing).
deps: venv
	bash scripts/test-deps.sh

lint: venv
	$(BIN)/ruff check $(SRC)
	$(BIN)/ruff format --check $(SRC)

typecheck: venv
	$(BIN)/mypy bridge server edgecommon

# One worker per core, up to four (most tests wait on real programs); `PYTEST_ARGS=` runs serially.
PYTEST_ARGS ?= -n auto --maxprocesses=4

# pytest's exit code 5 means "no tests ran": that is a failure here, never a pass.
pytest: venv deps
	$(BIN)/pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: lint typecheck pytest

fmt: venv
	$(BIN)/ruff format $(SRC)
	$(BIN)/ruff check --fix $(SRC)

bench: venv deps
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var tests/artifacts
