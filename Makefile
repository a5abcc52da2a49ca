# Tariff Timeline: the two quick-start commands are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
LOCK   := requirements.lock
# `make demo` installs the package alone; tests and checks add the dev, postgres and plot
# extras. Both install the exact versions of requirements.lock.
BASE   := $(VENV)/.installed-base
DEV    := $(VENV)/.installed-dev

.PHONY: setup demo test check bench bench-pg bench-appends bench-floors bench-hts stress tamper fuzz lock vendor clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(BASE): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e .
	touch $(BASE)

$(DEV): pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet -c $(LOCK) -e ".[dev,postgres,plot,api,frames]"
	touch $(DEV) $(BASE)

setup: $(DEV)

## Set up, then ask the embedded SQLite default (loaded with the bundled timeline on first use).
demo: $(BASE)
	$(BIN)/tariffs rate --origin JP --hts 8703.23.01 --entered 2025-05-01 --mfn 2.5
	$(BIN)/tariffs rate --origin JP --hts 9503.00.00 --entered 2025-04-10 --known 2025-04-08
	$(BIN)/tariffs rate --origin JP --hts 9503.00.00 --entered 2025-04-10 --known 2025-04-10

## Set up, then run unit, integration (SQLite and a throwaway PostgreSQL) and end-to-end tests.
test: $(DEV)
	PATH="$(abspath $(BIN)):$$PATH" .ci/postgres.sh $(BIN)/pytest -q

## Static checks: ruff and mypy (strict).
check: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/mypy

## Benchmarks of issues 4 and 14 on SQLite (generate, import, raw insert, queries, rebuild);
## e.g. `make bench SIZES=10000 BENCH_ARGS="--profile realistic --fold-budget 0"`.
SIZES ?= 10000,100000,1000000
BENCH_ARGS ?=
bench: $(DEV)
	$(BIN)/python -m benchmarks.run --sizes $(SIZES) --backends sqlite $(BENCH_ARGS)

## The same benchmarks on SQLite and on a throwaway PostgreSQL (started as `make test` starts
## it), in the same run, a row per backend; e.g. `make bench-pg SIZES=10000,100000`.
bench-pg: $(DEV)
	PATH="$(abspath $(BIN)):$$PATH" .ci/postgres.sh \
	  $(BIN)/python -m benchmarks.run --sizes $(SIZES) --backends sqlite,postgres $(BENCH_ARGS)

## What an append costs a large store (issue 14): 1 and 1,000 events checked by subject (the
## read model) and against the whole log, in one run; e.g. `make bench-appends EVENTS=1000000`.
EVENTS ?= 100000
bench-appends: $(DEV)
	$(BIN)/python -m benchmarks.appends --events $(EVENTS) --profile realistic

## What an import cannot go below (issue 14): each stage every import must run (read, parse,
## validate, encode, chain), timed alone, beside the import and the raw insert, on SQLite and
## a throwaway PostgreSQL in one run; e.g. `make bench-floors EVENTS=1000000`.
bench-floors: $(DEV)
	PATH="$(abspath $(BIN)):$$PATH" .ci/postgres.sh \
	  $(BIN)/python -m benchmarks.floors --events $(EVENTS) --backends sqlite,postgres

## What the HTS nomenclature costs (issue 10): rate queries with and without it, first use.
bench-hts: $(DEV)
	$(BIN)/python -m benchmarks.nomenclature
	$(BIN)/python -m benchmarks.hts

## Concurrent writers of issue 13, repeated: each scenario (8 processes importing into one store,
## into a new store) $(ROUNDS) times on SQLite and a throwaway PostgreSQL; prints the tally of
## landed / already recorded / refused / failed-because-busy / failed writes. Then a rebuild
## among two importing processes and a questioning one, $(ROUNDS) times: prints the questions
## answered and those told to ask again.
ROUNDS ?= 20
stress: $(DEV)
	PATH="$(abspath $(BIN)):$$PATH" TARIFFS_STRESS_ROUNDS=$(ROUNDS) .ci/postgres.sh \
	  $(BIN)/pytest -q -s -p no:cacheprovider tests/integration/test_concurrent_writers.py \
	    tests/integration/test_rebuild_under_load.py

## A thousand random single-row edits of the stored log a backend (CI runs 200), on SQLite and
## a throwaway PostgreSQL: each must be found by verify and refused by a rate question.
TAMPERINGS ?= 1000
tamper: $(DEV)
	PATH="$(abspath $(BIN)):$$PATH" TARIFFS_TAMPERINGS=$(TAMPERINGS) .ci/postgres.sh \
	  $(BIN)/pytest -q -s -p no:cacheprovider tests/integration/test_tamper_evidence.py \
	    -k random_single_row_edits

## Fuzz the import with 10,000 seeded mutated files (CI runs 1,000); e.g. `make fuzz FUZZ_SEED=7`.
FUZZ_CASES ?= 10000
FUZZ_SEED  ?= 13
fuzz: $(DEV)
	TARIFFS_FUZZ_CASES=$(FUZZ_CASES) TARIFFS_FUZZ_SEED=$(FUZZ_SEED) \
	    $(BIN)/pytest -q -s -p no:cacheprovider tests/integration/test_fuzzed_imports.py

## Re-create the lock file from pyproject.toml's ranges (newest versions within them).
lock:
	rm -rf $(VENV)-lock
	$(PYTHON) -m venv $(VENV)-lock
	$(VENV)-lock/bin/pip install --quiet --upgrade pip
	$(VENV)-lock/bin/pip install --quiet -e ".[dev,postgres,plot,api,frames]"
	{ echo "# Exact versions for CI and \`make\` (pip constraints): pip install -c $(LOCK) -e '.[dev,postgres,plot,api,frames]'"; \
	  echo "# Re-create after changing pyproject.toml: make lock"; \
	  $(VENV)-lock/bin/pip freeze --all --exclude-editable | grep -v '^pip=='; } > $(LOCK)
	rm -rf $(VENV)-lock

## Re-create the web page's charting library (uPlot, pinned) from the npm registry.
vendor:
	scripts/vendor_chart.sh

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
