# Two commands on a fresh machine (Python 3.11 and make):
#   make book   – virtualenv, install, synthetic twin if no real export, run notebooks, render
#   make test   – the same set-up, then the test suite
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: book test test-fast browser-deps clean jupyter bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

book: $(STAMP)
	$(BIN)/tillit build

# Headless Chromium and its driver for the reader tests (Debian packages; installed when
# missing and we are root).
browser-deps:
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	    || echo "chromium/chromium-driver kunne ikke installeres"; \
	  else echo "chromium mangler: installer Debian-pakkene chromium og chromium-driver"; fi; }

test: $(STAMP) browser-deps
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
