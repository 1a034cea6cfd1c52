# Two commands for a fresh machine: `make demo` and `make test`. Everything else is a step they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TASKS_VENV := .venv-tasks
PY := $(VENV)/bin/python
STACK := scripts/stack

.PHONY: setup venv tasks-venv npm browser lint test unit integration demo bench stack-up stack-down clean rules-test

setup: venv tasks-venv npm

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

# The Cloud Tasks stand-in (scripts/stack) needs protobuf<5: its own virtualenv, never the project's.
tasks-venv: $(TASKS_VENV)/.installed
$(TASKS_VENV)/.installed: requirements-tasks.txt
	@test -x $(TASKS_VENV)/bin/python || $(PYTHON) -m venv $(TASKS_VENV)
	$(TASKS_VENV)/bin/pip install --quiet -r requirements-tasks.txt
	@touch $@

npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Headless Chromium from Debian for the share page's browser tests (tests/integration/trips/test_trip_page_browser.py,
# driven by Playwright with executable_path, so no browser is downloaded). Skipped when it is already installed.
CHROMIUM := /usr/bin/chromium
browser: $(CHROMIUM)
$(CHROMIUM):
	$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $$( [ "$$(id -u)" = 0 ] || echo sudo -E ) apt-get install -y -qq --no-install-recommends chromium chromium-driver

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

unit: venv
	$(PY) -m pytest tests/unit -q

# Starts the local stack unless it is already up, runs the whole suite, and stops only what it started.
test: setup browser lint
	@if $(STACK) status >/dev/null 2>&1; then started=0; else started=1; $(STACK) up || { $(STACK) down; exit 1; }; fi; \
	$(PY) -m pytest -q; status=$$?; \
	if [ $$started = 1 ]; then $(STACK) down >/dev/null; fi; \
	exit $$status

demo: setup
	$(STACK) up
	$(PY) -m scripts.demo
	@echo "The stack is still running: \`source .stack/env\` to use it, \`scripts/stack down\` to stop it."

bench: setup
	@if $(STACK) status >/dev/null 2>&1; then started=0; else started=1; $(STACK) up || exit 1; fi; \
	status=0; for bench in bench/*_bench.py; do $(PY) -m bench.$$(basename $$bench .py) || status=1; done; \
	$(PY) -m bench.plan_bench --quality || status=1; \
	$(PY) -m bench.report || status=1; \
	if [ $$started = 1 ]; then $(STACK) down >/dev/null; fi; \
	exit $$status

# firestore.rules under the official Firestore emulator (tests/rules). Not part of `make test`: the emulator needs
# Java 21+ (JAVA_HOME, else PATH) and downloads its jar on first use, which this machine cannot. Cloud Build runs it.
RULES_TESTS := tests/rules
rules-test: $(RULES_TESTS)/node_modules/.installed
	@cd $(RULES_TESTS) && PATH="$${JAVA_HOME:+$$JAVA_HOME/bin:}$$PATH" npm test --silent || { \
	  echo "rules-test: FAILED. If no test ran above, the Firestore emulator did not start: it needs Java 21 or newer" >&2; \
	  echo "rules-test: (JAVA_HOME, else java on PATH) and, on first use, network access to download its jar." >&2; \
	  exit 1; }

$(RULES_TESTS)/node_modules/.installed: $(RULES_TESTS)/package.json $(RULES_TESTS)/package-lock.json
	cd $(RULES_TESTS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

stack-up: setup
	$(STACK) up

stack-down:
	$(STACK) down

clean: stack-down
	rm -rf $(VENV) $(TASKS_VENV) node_modules $(RULES_TESTS)/node_modules .stack .pytest_cache .mypy_cache .ruff_cache
