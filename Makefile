# `make test` works from a fresh clone: it creates .venv and installs the
# package with its test extras whenever pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-test
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: test check bench run clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(DEV_STAMP)
	$(BIN)/ruff check lrs tests benchmarks wsgi.py
	$(BIN)/ruff format --check lrs tests benchmarks wsgi.py
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The server on 127.0.0.1:8000 with the embedded default storage (SQLite, lrs-data/lrs.db).
run: $(STAMP)
	$(BIN)/lrs serve

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_state_client.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
