# hexbank: every target installs what it needs into .venv first, from the pinned lock file.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint migrate revision lock clean bench bench-quick bench-profile bench-publish bench-profile-publish

help:
	@echo "make run       serve the API on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL)"
	@echo "make test      run the whole test suite"
	@echo "make lint      ruff, mypy (strict on domain and application), import-linter, bandit"
	@echo "make migrate   apply migrations to DATABASE_URL (or the embedded database)"
	@echo "make revision m=\"...\"  autogenerate a migration"
	@echo "make bench     the side-by-side benchmark (writes .data/bench/runs/<time>-full/; make bench-publish copies it to bench/results/)"
	@echo "make bench-quick  the same in under a minute"
	@echo "make lock      re-pin requirements.lock from pyproject.toml"

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/hexbank serve

test: $(STAMP)
	@out=$$($(BIN)/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; echo "import-linter: every layer contract kept"
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@out=$$($(BIN)/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; echo "import-linter: every layer contract kept"
	$(BIN)/bandit -q -r domain application adapters entrypoints

migrate: $(STAMP)
	$(BIN)/hexbank migrate

revision: $(STAMP)
	@test -n "$(m)" || (echo 'usage: make revision m="what changed"' && exit 2)
	$(BIN)/hexbank revision "$(m)"

bench: $(STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(STAMP)
	$(BIN)/python -m bench.run --quick

lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[dev,bench]'
	.lock-venv/bin/python -m pip freeze --exclude hexbank > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench-profile: $(STAMP)
	$(BIN)/python -m bench.profile

bench-publish: $(STAMP)
	$(BIN)/python -m bench.run --publish

bench-profile-publish: $(STAMP)
	$(BIN)/python -m bench.profile --publish
