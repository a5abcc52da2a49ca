# Tariff Timeline: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test check bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

## Set up, then ask the embedded SQLite default (loaded with the bundled timeline on first use).
demo: $(STAMP)
	$(BIN)/tariffs rate --origin JP --hts 8703.23.01 --entered 2025-05-01 --mfn 2.5
	$(BIN)/tariffs rate --origin JP --hts 9503.00.00 --entered 2025-04-10 --known 2025-04-08
	$(BIN)/tariffs rate --origin JP --hts 9503.00.00 --entered 2025-04-10 --known 2025-04-10

## Set up, then run unit, integration (SQLite and a throwaway PostgreSQL) and end-to-end tests.
test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" .ci/postgres.sh $(BIN)/pytest -q

## Static checks: ruff and mypy (strict).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Benchmarks of issue 4 (generate, import, raw insert, queries); e.g. `make bench SIZES=10000`.
SIZES ?= 10000,100000,1000000
bench: $(STAMP)
	$(BIN)/python -m benchmarks.run --sizes $(SIZES)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
