# Two commands for a fresh machine: `make demo` and `make test`. Everything else is a step they call.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK := scripts/stack

.PHONY: setup venv npm lint test unit integration demo bench stack-up stack-down clean

setup: venv npm

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

npm: node_modules/.installed
node_modules/.installed: package.json package-lock.json $(wildcard patches/*.patch)
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

unit: venv
	$(PY) -m pytest tests/unit -q

# Starts the local stack unless it is already up, runs the whole suite, and stops only what it started.
test: setup lint
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
	$(PY) -m bench.report || status=1; \
	if [ $$started = 1 ]; then $(STACK) down >/dev/null; fi; \
	exit $$status

stack-up: setup
	$(STACK) up

stack-down:
	$(STACK) down

clean: stack-down
	rm -rf $(VENV) node_modules .stack .pytest_cache .mypy_cache .ruff_cache
