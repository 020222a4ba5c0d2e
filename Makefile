# The two commands: `make run` (demo on the embedded default) and `make test` (the whole suite).
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 5000

.PHONY: run test bench lint serve install translations clean-instance

# pip's output goes to .venv/install.log (shown when it fails), so `make run` prints what matters
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing the Python packages into $(VENV) (the first time takes about a minute)"
	@{ $(BIN)/python -m pip install --quiet --upgrade pip \
	  && $(BIN)/python -m pip install --quiet -e '.[dev]'; } >$(VENV)/install.log 2>&1 \
	  || { tail -n 40 $(VENV)/install.log; echo "pip failed; the whole log: $(VENV)/install.log"; exit 1; }
	@touch $(STAMP)

install: $(STAMP)
	@$(BIN)/python scripts/i18n.py compile
	@$(BIN)/python scripts/static.py build >$(VENV)/static.log 2>&1 \
	  || { cat $(VENV)/static.log; echo "building the static files failed"; exit 1; }

## make run: virtualenv, install, migrate, seed the demo, serve on http://127.0.0.1:$(PORT)
run: install
	@PORT=$(PORT) bash scripts/run.sh

## make test: everything the tests need (Chromium and ffmpeg included), lint, then the whole suite
test: install
	bash scripts/system-deps.sh
	$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy elearn media courses quizzes live parents
	$(BIN)/lint-imports
	$(BIN)/python scripts/i18n.py check

bench: install
	bash scripts/system-deps.sh
	$(BIN)/python -m bench

## make serve: the production process model on this machine: nginx on http://127.0.0.1:$(SERVE_PORT) in front
## of two Socket.IO processes and a 2-worker API process, a Celery worker and beat, on PostgreSQL and Redis
SERVE_PORT ?= 8080
serve: install
	bash scripts/system-deps.sh --serve
	PORT=$(SERVE_PORT) $(BIN)/python -m deploy.serve

translations: install
	$(BIN)/python scripts/i18n.py update
	$(BIN)/python scripts/i18n.py check || true
