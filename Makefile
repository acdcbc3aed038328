# One target per task. Everything runs from the project's own virtualenv in .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# What `make run` needs (the index and its runtime dependencies), and what development adds
# (test, lint and type-check tools, the clients the tests drive): a user who only runs the
# index installs the first.
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
# Python trees checked by ruff (benchmarks/ joins once it exists).
PY_DIRS := src tests $(wildcard benchmarks)
# Where `make run` listens: make run PORT=8080 HOST=0.0.0.0
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev system-deps run test test-postgres lint format typecheck check clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wheelyard needs Python 3.11 or later; this is " + sys.version.split()[0] + " (make PYTHON=python3.12 ...)")'
	@echo "creating $(VENV) and installing wheelyard (a minute or so)..."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $(STAMP)
	@echo "installed: $(BIN)/wheelyard"

$(DEV_STAMP): $(STAMP) pyproject.toml
	@echo "installing the development tools (tests, lint, type checks; a minute or two)..."
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(DEV_STAMP)
	@echo "installed the development tools"

install: $(STAMP)

install-dev: $(DEV_STAMP)

# Debian packages the tests drive (headless Chromium); installs only what is missing.
system-deps:
	bash scripts/install-system-deps

run: install
	$(BIN)/wheelyard serve --host $(HOST) --port $(PORT)

# On every core; a test file's tests stay on one worker, so a module's live server starts once.
PYTEST_PARALLEL ?= -n auto --dist loadfile

test: install-dev system-deps
	$(BIN)/pytest $(PYTEST_PARALLEL)

# The same suite against a throwaway database on the local PostgreSQL server.
test-postgres: install-dev system-deps
	bash scripts/with-postgres $(BIN)/pytest $(PYTEST_PARALLEL)

lint: install-dev
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	# The layer contracts in pyproject.toml ([tool.importlinter]; docs/architecture.md).
	$(BIN)/lint-imports

format: install-dev
	$(BIN)/ruff format $(PY_DIRS)
	$(BIN)/ruff check --fix $(PY_DIRS)

typecheck: install-dev
	$(BIN)/mypy

check: lint typecheck test

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

# wheelyard against pypiserver, devpi-server and nginx (benchmarks/README.md), then the
# pull-through caches (bench-upstream). Installs wrk and nginx from Debian when missing; the
# peers go into benchmarks/.venvs on first use.
# BENCH_ARGS=--quick for a short run that checks the machinery, not the bars.
.PHONY: bench
bench: install-dev
	@command -v wrk >/dev/null && command -v nginx >/dev/null || { \
		apt-get update -qq && export DEBIAN_FRONTEND=noninteractive && \
		{ apt-get install -y -qq wrk nginx-light || apt-get install -y -qq wrk nginx; }; }
	$(BIN)/python -m benchmarks.run $(BENCH_ARGS)
	$(BIN)/python -m benchmarks.upstream $(BENCH_ARGS)

# wheelyard, devpi-server (mirror index) and proxpi in front of one local upstream wheelyard
# (benchmarks/README.md, "In front of an upstream"); the same BENCH_ARGS.
.PHONY: bench-upstream
bench-upstream: install-dev
	@command -v wrk >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m benchmarks.upstream $(BENCH_ARGS)

# Five minutes of mixed installs, uploads and page views at concurrency 32 against one
# `wheelyard serve`, on loopback: zero errors and RSS growth under 10% (benchmarks/README.md).
# SOAK_ARGS='--duration 60 --concurrency 16', or --database-url for PostgreSQL.
.PHONY: soak
soak: install-dev
	$(BIN)/python -m benchmarks.soak $(SOAK_ARGS)

# wheelyard's pages at PyPI's size against the scale bars (benchmarks/README.md,
# "PyPI scale"), on a database benchmarks/generate_scale.py filled; nothing is written to it.
# SCALE_ARGS="--database-url sqlite:////work/scale-data/wheelyard-1m.db" for another one.
SCALE_ARGS ?= --database-url postgresql+psycopg://postgres@127.0.0.1/wheelyard_scale
.PHONY: bench-scale
bench-scale: install-dev
	@command -v wrk >/dev/null || { \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	$(BIN)/python -m benchmarks.scale $(SCALE_ARGS)
