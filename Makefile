# Frontline KB: `make run` to set up and serve, `make test` to set up and test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app kb
# The address and port to serve on: HOST=0.0.0.0 make run listens on every address of
# this machine (an intranet install), PORT=8080 make run on another port.
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The address people use, for links made outside a request (KB_BASE_URL overrides it):
# the machine's name when listening on every address.
EVERY_ADDRESS := $(filter 0.0.0.0 [::],$(HOST))
URL_HOST := $(if $(EVERY_ADDRESS),$(shell hostname -f 2>/dev/null || hostname),$(HOST))
WORKERS ?= 2

.PHONY: run setup test bench load lint clean help

help:
	@echo "make run    set up .venv (what serving needs), database, content, index, demo accounts;"
	@echo "            serve on http://$(HOST):$(PORT) (HOST=0.0.0.0 PORT=8080 make run to change)"
	@echo "make test   add the test tools to .venv and run ruff, the import contracts and the whole test suite"
	@echo "make bench  search benchmark (prints a table; not a test)"
	@echo "make load   60 s loopback load on 2 gunicorn workers (prints numbers; not a test)"

# Two stamps, each rebuilt when its pinned dependencies change: .installed is what serving
# needs (requirements.lock), .installed-test adds the test tools (requirements-test.lock).
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock \
		-c requirements-test.lock -e '.[test]'
	touch $@

setup: $(VENV)/.installed
	$(FLASK) db upgrade
	$(FLASK) import-content
	$(FLASK) reindex --if-needed
	$(FLASK) seed-demo

run: setup
	@echo ""
	@echo "  Frontline KB is starting on http://$(URL_HOST):$(PORT)$(if $(EVERY_ADDRESS), (listening on every address of this machine))"
	@echo "  Sign in as agent, newstarter, manager or admin; the password is: demo"
	@echo ""
	KB_BASE_URL="$${KB_BASE_URL:-http://$(URL_HOST):$(PORT)}" $(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

# The whole suite runs on SQLite, then again on PostgreSQL ($$KB_TEST_DATABASE_URL; skipped
# with the reason when it is not set, a failure in CI) without what does not depend on the
# database: the browser tests (the view tests check their pages on PostgreSQL) and the
# tests marked database_independent (the search engine, its index, tools). Each run is
# spread over TEST_WORKERS processes (pytest-xdist; `auto` is one per CPU, 0 runs in this process):
# every worker has its own temporary folders, its own template databases (named after its
# process id on PostgreSQL), its own browser and live server, and tests take free ports.
TEST_WORKERS ?= auto
test: $(VENV)/.installed-test
	$(BIN)/ruff check kb tests bench config.py wsgi.py gunicorn.conf.py
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --db=postgresql -m "not browser"

bench: $(VENV)/.installed
	$(BIN)/python bench/search.py

load: $(VENV)/.installed
	$(BIN)/python bench/load.py

lint: $(VENV)/.installed-test
	$(BIN)/python -m ruff check kb tests bench config.py wsgi.py gunicorn.conf.py
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) instance .pytest_cache
