# Two commands on a fresh machine:
#   make run   install, migrate, seed demo data, serve at http://127.0.0.1:5000
#   make test  install what the tests need and run them all
#   (make test-fast: the API and unit tests alone, the inner loop while changing code)
# With TEST_DATABASE_URL (a PostgreSQL server URL) `make test` runs the API,
# migration and PostgreSQL suites again on a fresh database made on that server.
#   make translations  extract the server's words into server/translations/messages.pot,
#               update every language's messages.po from it and compile the .mo files
#               (commit all three: deploys run no build step)
#   make bench  run every benchmark on SQLite and PostgreSQL (BENCH_DATABASE_URL, a
#               server URL; each script makes and drops its own database there) and
#               write bench/RESULTS.md and bench/plots/*.png (about 10-20 minutes)

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app server
TEST_DATABASE_URL ?=
BENCH_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-fast install install-test lint bench translations

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	$(BIN)/gunicorn -c config/gunicorn.conf.py --bind 127.0.0.1:5000 "server:create_app()"

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	scripts/check-js-format
	$(BIN)/bandit -q -r server config -x server/migrations -ll
	BIN=$(BIN) scripts/audit-deps

test: install-test lint
	scripts/ensure-chromium
	scripts/ensure-webkit
	TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$(TEST_DATABASE_URL)" ]; then \
	  echo "== again on PostgreSQL =="; \
	  TEST_DATABASE_URL="$(TEST_DATABASE_URL)" $(BIN)/pytest tests/api tests/migrations tests/postgres; \
	else \
	  echo "PostgreSQL pass not run: set TEST_DATABASE_URL=postgresql://user@host:5432/postgres"; \
	fi

# The inner loop: API and unit tests on SQLite, no browsers, no PostgreSQL suite, over
# every core (pytest-xdist; each worker has its own database, instance folder and app).
# worksteal: a worker that runs out takes tests queued behind a long one on the other.
# Bytecode is written even where PYTHONDONTWRITEBYTECODE is set: each worker would
# otherwise compile and assert-rewrite every test module and plugin again, every run.
test-fast: install-test
	PYTHONDONTWRITEBYTECODE= TEST_DATABASE_URL= $(BIN)/pytest -q -n auto --dist worksteal \
	  -m "not e2e and not postgres" tests/api tests/unit

bench: install-test
	scripts/ensure-chromium
	BENCH_DATABASE_URL="$(BENCH_DATABASE_URL)" $(BIN)/python bench/run_all.py

# Translators: run this after changing the server's words, fill in every empty msgstr (and
# clear each "fuzzy" flag after checking it) in server/translations/*/LC_MESSAGES/messages.po,
# then run it again to compile. tests/unit/test_catalogues.py fails while a word is missing.
# A new language: pybabel init -i server/translations/messages.pot -d server/translations
# -l <code>, and add the code to SUPPORTED in server/i18n.py.
BABEL_KEYWORDS := -k _l
translations: install
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --no-location --sort-output \
	  --project=Between -o server/translations/messages.pot .
	$(BIN)/pybabel update -i server/translations/messages.pot -d server/translations \
	  --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -d server/translations --statistics
