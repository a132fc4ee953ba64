# Two commands on a fresh machine (Python 3.11 and make):
#   make book   – virtualenv from the lock file, synthetic twin if no real export, run notebooks, render
#   make test   – the same set-up (plus headless Chromium and axe-core), then the test suite
# The environment is pinned: requirements.lock holds every package with its exact version and
# SHA-256 hashes for Python 3.11 on Linux (`make lock` regenerates it, and environment.yml).
# `make book UNPINNED=1` installs from pyproject.toml's ranges instead (newest matching).
# Quarto renders the book when `quarto` is on PATH (e.g. PATH=/opt/quarto-build:$PATH make book);
# otherwise the nbconvert fallback does.
PYTHON   ?= $(shell command -v python3.11 || command -v python3)
VENV     := .venv
BIN      := $(VENV)/bin
STAMP    := $(VENV)/.installed
LOCK     := requirements.lock
UNPINNED ?=
UV       := uv==0.13.9

.PHONY: book test test-fast browser-deps node_modules lock clean jupyter bench

$(STAMP): pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
ifeq ($(UNPINNED),)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
else
	$(BIN)/python -m pip install --quiet -e '.[dev]'
endif
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/tillit build

# Regenerate the lock (uv's pip-compile, with hashes, for Python 3.11 on Linux) and environment.yml.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet '$(UV)'
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
	  --custom-compile-command "make lock" -o $(LOCK)
	$(BIN)/python .ci/environment.py

# Headless Chromium and its driver for the reader tests (Debian packages chromium and
# chromium-driver; waits for another apt run's lock; fails under CI=true if it cannot install).
browser-deps:
	@.ci/browser-deps.sh

# axe-core for the accessibility test, from npm, pinned by package-lock.json, project-local.
node_modules: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm mangler: installer Debian-pakken npm for tilgjengelighetstesten"; \
	  case "$${CI:-}" in 1|true|yes) exit 1;; esac; exit 0; }
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: $(STAMP) browser-deps node_modules
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow"

jupyter: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[jupyter,dev]'
	$(BIN)/jupyter lab notebooks/

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_ordinal.py

clean:
	rm -rf outputs/* data/processed/* .tillit
