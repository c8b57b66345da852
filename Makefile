# Vuoro: `make run` serves a demo service desk at http://127.0.0.1:8000, `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
VUORO := $(BIN)/vuoro
STAMP := $(VENV)/.installed

.PHONY: setup run test test-fast lint typecheck bench-data clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Vuoro needs Python 3.11 or newer"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: on Debian run 'sudo apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

setup: $(STAMP)
	$(VUORO) compiletranslations -v0 >/dev/null

run: setup
	$(VUORO) migrate --no-input -v0
	$(VUORO) collectstatic --no-input -v0
	$(VUORO) demo
	$(VUORO) serve

test: setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m "not browser" -x $(PYTEST_ARGS)

bench-data: setup
	$(VUORO) migrate --no-input -v0
	$(VUORO) demo
	$(VUORO) seed --tickets 100000

lint: setup typecheck
	$(BIN)/ruff check src tests bench

typecheck: setup
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
