# 长辛先锋 · Changxin Pioneer
#   make demo   set up everything, load Fengtai's divisions and demo data, serve on http://127.0.0.1:8000
#   make test   set up everything and run the whole test suite
# `make setup` is idempotent: it installs what is missing and changes nothing when all is in place.
# It also writes .env.local (git-ignored): DEBUG=1 and a generated SECRET_KEY for this checkout, read by
# changxin/settings.py, so every `changxin …` command works here without exporting anything.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=

.PHONY: bench setup demo test lint format check-migrations system-deps messages serve clean

setup: system-deps $(VENV)/.installed node_modules/.installed messages .env.local

# Written once, never regenerated (sessions and signed links outlive a `make clean`); delete it by
# hand to get a new key. Variables exported in the shell override it.
.env.local:
	@umask 077; key=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))') && { \
	  echo "# Local settings of this checkout, written by make setup; git-ignored. Never used in production."; \
	  echo "# Variables exported in the shell win over these."; \
	  echo "DEBUG=1"; \
	  echo "SECRET_KEY=$$key"; \
	} > $@.tmp && mv $@.tmp $@
	@echo "wrote $@ (DEBUG=1 and a generated SECRET_KEY for this checkout)"

system-deps:
	@missing=""; \
	  [ -x /usr/bin/chromium ] || missing="$$missing chromium"; \
	  fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei" || missing="$$missing fonts-wqy-microhei"; \
	  command -v msgfmt >/dev/null || missing="$$missing gettext"; \
	  command -v pg_dump >/dev/null || missing="$$missing postgresql-client"; \
	  command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	  if [ -n "$$missing" ]; then \
	    echo "Installing Debian packages:$$missing"; \
	    SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	  fi

$(VENV)/.installed: pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

messages: $(VENV)/.installed
	DEBUG=1 $(BIN)/changxin compilemessages -v 0 --ignore .venv --ignore node_modules

# The web server and a background-job worker together; Ctrl-C (or the server exiting) stops both.
demo: setup
	DEBUG=$${DEBUG:-1} $(BIN)/changxin migrate --noinput -v 0
	DEBUG=$${DEBUG:-1} $(BIN)/changxin demo
	@echo ""
	@echo "长辛先锋 · Changxin Pioneer is running at http://$(HOST):$(PORT)/  (Ctrl-C stops it)"
	@export DEBUG=$${DEBUG:-1}; \
	  $(BIN)/changxin worker -v 0 & worker=$$!; \
	  trap 'kill -TERM $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; \
	  trap 'exit 130' INT TERM; \
	  $(BIN)/changxin runserver --noreload $(HOST):$(PORT)

test: setup
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

check-migrations: $(VENV)/.installed
	DEBUG=1 $(BIN)/changxin makemigrations --check --dry-run

# Keeps .env.local (this checkout's key); remove it by hand for a new one.
clean:
	rm -rf $(VENV) node_modules var

# Every benchmark in bench/run.py (PostgreSQL ones against the server in README, in throwaway
# databases), each recording into bench/results.json; prints the figures against issue 12's targets.
bench: setup
	$(PY) bench/run.py $(BENCH_ARGS)
