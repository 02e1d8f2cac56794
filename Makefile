# make run   — set up everything on a fresh machine and serve on http://127.0.0.1:5000
# make test  — set up and run the whole suite (lint, unit, integration, browser)
# make bench — run the benchmarks (not part of make test); results go to docs/benchmarks.md
# make assets — rebuild the committed CSS/JS from npm packages (see assets/README.md)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint bench assets clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $(VENV)/.installed $@

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

run: $(VENV)/.installed
	$(BIN)/inquiry-docs init
	$(BIN)/inquiry-docs serve --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check inquiry_docs tests $(wildcard bench)

test: $(VENV)/.installed-test node_modules/.package-lock.json lint
	$(BIN)/pytest -q -p no:cacheprovider

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py

assets: node_modules/.package-lock.json
	bash assets/build.sh

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache *.egg-info
