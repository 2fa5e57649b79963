# Tongban: the two commands a newcomer needs are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
BENCH  ?=

.PHONY: demo test test-sqlite test-postgres lint typecheck check bench loadtest messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## make demo: install, migrate SQLite under var/, load 示范市 and serve on 127.0.0.1:8000
demo: $(STAMP)
	mkdir -p var
	$(BIN)/tongban demo
	$(BIN)/tongban serve

## make test: the whole suite on SQLite; when TONGBAN_TEST_POSTGRES_URL is set, the same suite on
## PostgreSQL beside it (two processes; SQLite's output is printed after PostgreSQL's)
test: $(STAMP)
	$(BIN)/python -m tests.check_postgres
	@mkdir -p var
	@if [ -n "$$TONGBAN_TEST_POSTGRES_URL" ]; then \
		echo "== the suite on SQLite and on PostgreSQL, side by side"; \
		( DATABASE_URL= $(BIN)/pytest -q > var/test-sqlite.log 2>&1; echo $$? > var/test-sqlite.rc ) & \
		DATABASE_URL="$$TONGBAN_TEST_POSTGRES_URL" $(BIN)/pytest -q; postgres=$$?; \
		wait; echo "== the suite on SQLite"; cat var/test-sqlite.log; sqlite=$$(cat var/test-sqlite.rc); \
		echo "== exit status: PostgreSQL $$postgres, SQLite $$sqlite"; \
		[ "$$postgres" = 0 ] && [ "$$sqlite" = 0 ]; \
	else \
		echo "== TONGBAN_TEST_POSTGRES_URL not set: the suite on SQLite only"; \
		DATABASE_URL= $(BIN)/pytest -q; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check tongban tests bench
	$(BIN)/ruff format --check tongban tests bench
	$(BIN)/lint-imports
	DATABASE_URL= $(BIN)/tongban manage makemigrations --check --dry-run

typecheck: $(STAMP)
	$(BIN)/mypy tongban

check: test lint typecheck

## make bench [BENCH=name]: run benchmarks, write bench/results/<name>.json
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH)

## make loadtest: a city's busiest hour (Locust, headless) against gunicorn + PostgreSQL for
## LOADTEST_MINUTES (default 10); prints throughput, p50/p95/p99 per kind, errors, memory;
## writes bench/results/loadtest.json (installs locust via '.[load]' when missing)
loadtest: $(STAMP)
	$(BIN)/python -m bench.loadtest

## make messages: extract msgids into tongban/locale/en, then compile; lists untranslated strings
messages: $(STAMP)
	$(BIN)/python -m tongban.platform.ui.i18n update
	$(BIN)/python -m tongban.platform.ui.i18n compile

clean:
	rm -rf $(VENV) var/tongban.sqlite3* var/media
