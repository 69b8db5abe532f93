# City Hall: `make run` starts everything, `make test` runs the whole suite.
# Needs only Python 3.12+, Node 20+ and make; everything else is installed into the checkout.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
STATIC_STAMP := static/vendor/.built
MO := locale/es/LC_MESSAGES/django.mo

# Find a Python 3.12+ interpreter: PATH first, then pyenv's versions.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PYTHON_CANDIDATES := $(PYTHON) python3.13 python3.12 python3 \
	$(wildcard $(PYENV_ROOT_DIR)/versions/3.13*/bin/python3) \
	$(wildcard $(PYENV_ROOT_DIR)/versions/3.12*/bin/python3) \
	$(wildcard /usr/local/bin/python3.1[2-9]) $(wildcard /usr/bin/python3.1[2-9])
BASE_PYTHON = $(shell for p in $(PYTHON_CANDIDATES); do \
	if "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' >/dev/null 2>&1; then \
	command -v "$$p"; break; fi; done)

.PHONY: help setup run test bench bench-scale lint manage clean

help:
	@echo "make run    install, start PostgreSQL/Redis (embedded unless DATABASE_URL/REDIS_URL), migrate, load demo data, serve"
	@echo "make test   same setup, then the whole test suite (browser tests included)"
	@echo "make bench  performance benchmarks"
	@echo "make bench-scale ARGS='--scale 1.0'  city-size dataset, gunicorn + locust, alert fan-out, nightly jobs"
	@echo "make lint   ruff check + format check"
	@echo "make manage ARGS='...'  run a manage.py command against the same services"

$(STAMP): pyproject.toml
	@py="$(BASE_PYTHON)"; \
	if [ -z "$$py" ]; then echo "error: City Hall needs Python 3.12 or newer; none found on PATH or in pyenv. Install one, or run: make run PYTHON=/path/to/python3.12" >&2; exit 1; fi; \
	echo "Using $$py ($$($$py --version))"; \
	[ -x $(PY) ] || "$$py" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,embedded]'
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "error: Node.js 20+ with npm is required" >&2; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(STATIC_STAMP): $(NODE_STAMP) scripts/build_static.sh
	bash scripts/build_static.sh
	@touch $@

$(MO): locale/es/LC_MESSAGES/django.po
	@bash scripts/ensure_system_packages.sh gettext
	msgfmt --check -o $@ $<

setup: $(STAMP) $(STATIC_STAMP) $(MO)

run: setup
	$(PY) scripts/devstack.py run

test: setup
	@bash scripts/ensure_system_packages.sh chromium
	$(PY) scripts/devstack.py test $(ARGS)

bench: setup
	$(PY) scripts/devstack.py manage bench $(ARGS)

bench-scale: setup
	$(PY) scripts/devstack.py bench-scale $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

manage: setup
	$(PY) scripts/devstack.py manage $(ARGS)

clean:
	rm -rf $(VENV) node_modules static/vendor .data staticfiles
