# The two set-up commands: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app wsgi
# Where `make run` serves: `make run PORT=8080 HOST=0.0.0.0` (0.0.0.0 lets phones on the same network in).
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: install install-dev run test lint migrate seed clean translations extract-translations bench

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed translations
install-dev: $(VENV)/.installed-dev translations

# Compile the catalogues (the .mo files are build output, not kept in git).
translations: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d marketplace/translations

# After changing user-visible strings: extract them and merge into every catalogue.
extract-translations: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o marketplace/translations/messages.pot .
	$(VENV)/bin/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo

# QUEUE_IN_PROCESS=1: a huey consumer thread inside the development server delivers messages
# (the `log` channel writes them to the terminal) and runs the periodic jobs; no second command.
# With gunicorn, run `flask --app wsgi worker` beside it instead (deploy/).
run: seed
	QUEUE_IN_PROCESS=1 $(FLASK) run --host $(HOST) --port $(PORT)

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set, spread over
# TEST_WORKERS processes (pytest-xdist; each has its own copy of the demo database). One test at a
# time to each worker, longest first (tests/conftest.py LONGEST_FIRST), so neither waits idle at the end.
# On PostgreSQL a third worker fills the time the others wait for the server to copy their databases
# (measured on 2 cores: 8:45 with two, 7:48 with three).
TEST_WORKERS ?= 2
PG_TEST_WORKERS ?= 3
XDIST := --dist load --maxschedchunk 1
test: install-dev
	$(PY) -m pytest -q -n $(TEST_WORKERS) $(XDIST)
	if [ -n "$$TEST_DATABASE_URL" ]; then $(PY) -m pytest -q -n $(PG_TEST_WORKERS) $(XDIST) --db=postgres; fi

# Style, then the architecture: the import contracts in pyproject.toml ([tool.importlinter]).
lint: install-dev
	$(VENV)/bin/ruff check marketplace tests migrations wsgi.py
	$(VENV)/bin/lint-imports

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The benchmark at the street's scale and at 1/100 (not part of `make test`): bench/results.md
# and bench/results.svg. SQLite by default; DATABASE_URL=postgresql://.../bench for PostgreSQL.
# BENCH_ARGS="--reuse" keeps the generated SQLite data sets between runs.
$(VENV)/.installed-bench: bench/requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet -r bench/requirements.txt
	touch $@

bench: $(VENV)/.installed-bench translations
	$(PY) -m bench.run $(BENCH_ARGS)
