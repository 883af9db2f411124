# Two entry points for a fresh clone: `make demo` and `make test` (each sets itself up).
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint

setup:
	@bash scripts/setup.sh

demo: setup
	$(BIN)/smolsql ask "How many albums has each artist released?" --db sample --run

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/pytest -q
