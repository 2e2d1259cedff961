# hexbank: every target installs what it needs into .venv first, from pinned lock files:
# serving needs only requirements.lock; tests, lint and the benchmark add requirements-dev.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# The venv's own pip if it has one, else this Python's pip installing into it (see below).
PIP = $(if $(wildcard $(BIN)/pip),$(BIN)/python -m pip,$(PYTHON) -m pip --python $(BIN)/python) \
	--disable-pip-version-check install --quiet

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint spec client client-check migrate revision lock clean bench bench-quick bench-profile bench-publish bench-profile-publish

help:
	@echo "make run       serve the API on http://127.0.0.1:8000 (embedded PostgreSQL unless DATABASE_URL)"
	@echo "make test      run the whole test suite"
	@echo "make test-fast unit, contract and HTTP tests on the in-memory adapters: no database, no broker"
	@echo "make lint      ruff, mypy (strict on domain and application), import-linter, bandit"
	@echo "make client    regenerate the typed Python SDK in clients/python (openapi-python-client)"
	@echo "make spec      write the OpenAPI document to .data/openapi.json and lint it (Redocly, Spectral + OWASP; needs npm)"
	@echo "make migrate   apply migrations to DATABASE_URL (or the embedded database)"
	@echo "make revision m=\"...\"  autogenerate a migration"
	@echo "make bench     the side-by-side benchmark (writes .data/bench/runs/<time>-full/; make bench-publish copies it to bench/results/)"
	@echo "make bench-quick  the same in about nine minutes"
	@echo "make lock      re-pin requirements.lock (serving) and requirements-dev.lock (tests, lint, bench) from pyproject.toml"

# When this Python's pip can install into another environment (pip 22.3+), the venv gets no
# pip and setuptools of its own: 4 s and 20 MB less for `make run`.
$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	if $(PYTHON) -c 'from pip import __version__ as v; import sys; sys.exit(tuple(map(int, v.split(".")[:2])) < (22, 3))' 2>/dev/null; \
	then $(PYTHON) -m venv --without-pip $(VENV); else $(PYTHON) -m venv $(VENV); fi

# What serving needs, and hexbank itself (editable: the checkout is what runs), in one pip
# run. --no-compile: bytecode is written for the modules a process imports, when it imports
# them, not for every module of every package (a quarter of the runtime .venv's size).
$(RUN_STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(PIP) --no-compile -r requirements.lock -e .
	touch $@

# The test, lint and benchmark tools on top.
$(DEV_STAMP): $(RUN_STAMP) requirements-dev.lock
	$(PIP) -r requirements-dev.lock
	touch $@

install: $(DEV_STAMP)

run: $(RUN_STAMP)
	$(BIN)/hexbank serve

test: $(DEV_STAMP)
	@out=$$($(BIN)/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; echo "import-linter: every layer contract kept"
	$(BIN)/pytest $(PYTEST_ARGS)

# No PostgreSQL and no NATS: tests that need one are marked (by themselves, through their
# fixtures) and left out, and --no-postgres fails any that still asks for PostgreSQL. Two
# processes; bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: compiling every
# module again on each run cost about 10 s of CPU.
test-fast: $(DEV_STAMP)
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest tests/unit tests/contract tests/http \
		-m "not postgres and not nats" --no-postgres -p no:schemathesis -n 2 $(PYTEST_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@out=$$($(BIN)/lint-imports --no-cache 2>&1) || { echo "$$out"; exit 1; }; echo "import-linter: every layer contract kept"
	$(BIN)/bandit -q -r domain application adapters entrypoints

# The OpenAPI document as the app serves it, built without a server or a database, linted by
# Redocly (recommended, warnings fail) and Spectral (spectral:oas and the OWASP ruleset,
# .spectral.yaml says what is switched off and why). The linters are pinned in package.json
# and package-lock.json; `npm ci` installs them into node_modules when the lock changes.
SPEC := .data/openapi.json

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

spec: $(RUN_STAMP) node_modules/.package-lock.json
	@mkdir -p $(dir $(SPEC))
	$(BIN)/python -m entrypoints.http.openapi $(SPEC)
	npx --no-install redocly lint $(SPEC) --format=stylish
	npx --no-install spectral lint $(SPEC) --ruleset .spectral.yaml --fail-severity=hint

# The typed SDK (clients/python, the package hexbank-client), generated from the document by
# openapi-python-client. The generator lives in a venv of its own, pinned by
# clients/generator-requirements.lock: it needs a typer older than the one hexbank's CLI runs.
CLIENT_VENV := .data/client-venv

$(CLIENT_VENV)/.installed: clients/generator-requirements.lock
	rm -rf $(CLIENT_VENV) && $(PYTHON) -m venv $(CLIENT_VENV)
	$(CLIENT_VENV)/bin/python -m pip --disable-pip-version-check install --quiet \
		-r clients/generator-requirements.lock
	touch $@

client: $(RUN_STAMP) $(CLIENT_VENV)/.installed
	@mkdir -p $(dir $(SPEC))
	$(BIN)/python -m entrypoints.http.openapi $(SPEC)
	PATH="$(CURDIR)/$(CLIENT_VENV)/bin:$$PATH" $(CLIENT_VENV)/bin/openapi-python-client generate \
		--path $(SPEC) --config clients/config.yaml --output-path clients/python --overwrite \
		--meta uv
	rm -rf clients/python/.ruff_cache

# CI: the committed SDK is what the current document generates.
client-check: client
	@git diff --exit-code --stat HEAD -- clients/python && \
		test -z "$$(git ls-files --others --exclude-standard -- clients/python)" || \
		{ echo "clients/python differs from a fresh generation: run make client, commit it"; exit 1; }

migrate: $(RUN_STAMP)
	$(BIN)/hexbank migrate

revision: $(RUN_STAMP)
	@test -n "$(m)" || (echo 'usage: make revision m="what changed"' && exit 2)
	$(BIN)/hexbank revision "$(m)"

bench: $(DEV_STAMP)
	$(BIN)/python -m bench.run

bench-quick: $(DEV_STAMP)
	$(BIN)/python -m bench.run --quick

# The runtime lock pins [project] dependencies only; the development lock pins what the dev
# and bench extras add, resolved within the runtime pins, and includes the runtime lock.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip --disable-pip-version-check install --quiet --upgrade pip
	.lock-venv/bin/python -m pip --disable-pip-version-check install --quiet .
	.lock-venv/bin/python -m pip freeze --exclude hexbank > requirements.lock
	.lock-venv/bin/python -m pip --disable-pip-version-check install --quiet -c requirements.lock '.[dev,bench]'
	{ echo "-r requirements.lock"; .lock-venv/bin/python -m pip freeze --exclude hexbank \
		| grep -vxFf requirements.lock; } > requirements-dev.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

bench-profile: $(DEV_STAMP)
	$(BIN)/python -m bench.profile

bench-publish: $(DEV_STAMP)
	$(BIN)/python -m bench.run --publish

bench-profile-publish: $(DEV_STAMP)
	$(BIN)/python -m bench.profile --publish
