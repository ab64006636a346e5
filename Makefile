# Plain targets over plain commands. Needs only Python 3.11+ and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?= -n 2

.PHONY: run test test-sqlite test-postgresql lint fmt bench soak clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

## run: set up everything (venv, schema, bundled modules, first admin) and serve on 127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/lms setup
	$(BIN)/lms serve

## test: lint, then the whole suite on SQLite and on PostgreSQL
test: lint test-sqlite test-postgresql

test-sqlite: $(VENV)/.installed
	LMS_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgresql: $(VENV)/.installed
	LMS_TEST_DATABASE=postgresql $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(VENV)/.installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## bench: every hot path against a baseline app, budgets PASS/FAIL, the lesson on a slow phone,
##        import memory (docs/performance.md), then the soak (docs/reliability.md);
##        on SQLite and then on the local PostgreSQL (another: LMS_DATABASE_URL=postgresql+psycopg://...)
BENCH_ARGS ?=
bench: $(VENV)/.installed
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## soak: autosavers, kill -9 of the server, a backup restored: no acknowledged save lost (docs/reliability.md)
##       on PostgreSQL: LMS_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/lms_soak make soak
SOAK_ARGS ?=
soak: $(VENV)/.installed
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

## messages: extract every user-facing string into the translation template
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k lazy_gettext -k _l -o lms/translations/messages.pot lms
