# make run   — set up everything on a fresh machine and serve on http://127.0.0.1:5000
# make test  — set up, lint, then run the whole suite (unit, integration, browser) on both
#              stacks at once: SQLite + Whoosh, and PostgreSQL + Redis (see README, Tests)
# make test-sqlite / make test-postgres — the suite on one stack (PYTEST_ARGS=... to narrow it)
# make bench — run the benchmarks (not part of make test); results go to docs/benchmarks.md
# make assets — rebuild the committed CSS/JS from npm packages (see assets/README.md)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

STACKS := sqlite postgres
PYTEST_ARGS ?=

.PHONY: run test lint bench assets clean $(STACKS:%=test-%)

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

# Two pytest processes side by side (each starts its own servers on free ports and has its
# own temporary folders); each report is printed whole when its run ends, and make fails
# if either run fails.
test: $(VENV)/.installed-test node_modules/.package-lock.json lint
	@echo "Running the suite on both stacks ($(STACKS)) at once; each report follows when done."
	@$(MAKE) --no-print-directory -j2 --output-sync=target $(STACKS:%=test-%)

$(STACKS:%=test-%): test-%: $(VENV)/.installed-test node_modules/.package-lock.json
	INQUIRY_DOCS_TEST_STACK=$* $(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ingest.py

assets: node_modules/.package-lock.json
	bash assets/build.sh

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache *.egg-info
