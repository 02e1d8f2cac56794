# make run   — set up everything on a fresh machine and serve on http://127.0.0.1:5000
# make test  — set up, lint, then run the whole suite (unit, integration, browser) on both
#              stacks at once: SQLite + Whoosh, and PostgreSQL + Redis (see README, Tests)
# make test-sqlite / make test-postgres — the suite on one stack (PYTEST_ARGS=... to narrow it)
# make bench — run the benchmarks (not part of make test); results go to docs/benchmarks.md
# make translations — gather the interface strings, update the Welsh catalogue, compile it
# make assets — rebuild the committed CSS/JS from npm packages (see assets/README.md)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

STACKS := sqlite postgres
PYTEST_ARGS ?=
# pip's and the database tools' own output goes here; the steps and their outcome are shown.
SETUP_LOG := $(VENV)/setup.log

.PHONY: run test lint bench assets translations clean $(STACKS:%=test-%)

$(BIN)/python:
	@echo "==> Creating the Python environment in $(VENV)"
	@$(PYTHON) -m venv $(VENV)
	@$(BIN)/pip install --upgrade pip > $(SETUP_LOG) 2>&1 \
		|| { tail -n 20 $(SETUP_LOG); echo "Failed: the whole output is in $(SETUP_LOG)"; exit 1; }

$(VENV)/.installed: setup.cfg pyproject.toml | $(BIN)/python
	@echo "==> Installing Inquiry Docs and the packages it needs (details: $(SETUP_LOG))"
	@$(BIN)/pip install -e . >> $(SETUP_LOG) 2>&1 \
		|| { tail -n 20 $(SETUP_LOG); echo "Failed: the whole output is in $(SETUP_LOG)"; exit 1; }
	@touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(BIN)/python
	@echo "==> Installing Inquiry Docs with its test tools (details: $(SETUP_LOG))"
	@$(BIN)/pip install -e '.[test]' >> $(SETUP_LOG) 2>&1 \
		|| { tail -n 20 $(SETUP_LOG); echo "Failed: the whole output is in $(SETUP_LOG)"; exit 1; }
	@touch $(VENV)/.installed $@

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> Installing the browser-test tools (axe-core) from npm"
	@npm ci --no-audit --no-fund --loglevel=error

run: $(VENV)/.installed
	@echo "==> Preparing the database, the search index, the 20 IICSA recommendations and the first administrator"
	@$(BIN)/inquiry-docs init 2>> $(SETUP_LOG) \
		|| { tail -n 20 $(SETUP_LOG); echo "Failed: the whole output is in $(SETUP_LOG)"; exit 1; }
	@echo "==> Starting the server (Ctrl-C to stop)"
	@$(BIN)/inquiry-docs serve --host $(HOST) --port $(PORT)

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

# The catalogues live in inquiry_docs/translations (messages.pot, cy/LC_MESSAGES/messages.po
# and the compiled .mo, all committed); tests/test_translations.py fails on a string missing
# from them. See docs/translating.md.
LOCALES := inquiry_docs/translations
translations: $(VENV)/.installed-test
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 \
		--no-location --sort-output --omit-header -o $(LOCALES)/messages.pot .
	$(BIN)/pybabel -q update -i $(LOCALES)/messages.pot -d $(LOCALES) -l cy --init-missing \
		--no-fuzzy-matching --ignore-obsolete --ignore-pot-creation-date
	$(BIN)/pybabel -q compile -d $(LOCALES) -l cy --statistics

assets: node_modules/.package-lock.json
	bash assets/build.sh

clean:
	rm -rf $(VENV) node_modules .pytest_cache .ruff_cache *.egg-info
