# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# The ESP32 (Xtensa LX6/LX7) target for compiled .mpy files.
MARCH  ?= xtensawin
# The simulator's report test screenshots the HTML report in a real headless Chromium.
CHROMIUM := /usr/bin/chromium
# The server's tests start a throwaway cluster from Debian's PostgreSQL (tests/pgcluster.py).
PG_INITDB = $(firstword $(wildcard /usr/lib/postgresql/*/bin/initdb))

.PHONY: all demo test lint typecheck build bench clean venv postgres

all: test

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/opentag demo

test: $(STAMP) $(CHROMIUM) postgres lint typecheck
	$(PY) -m pytest -n 2 tests

$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

postgres:
	@test -n "$(PG_INITDB)" || { \
	  DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(PY) -m taghost.typecheck

build: $(STAMP)
	$(BIN)/opentag build --out build/firmware --march $(MARCH)

bench: $(STAMP) postgres
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; echo; done

clean:
	rm -rf build out .pytest_cache .mypy_cache .ruff_cache .hypothesis
