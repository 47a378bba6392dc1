# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup run test lint typecheck contracts unit bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# The demo runs on a simulated clock that starts at a paid daytime hour (10:00 on a working
# day in zone 1001's time zone), so the README's first command pays for a session at any
# hour; `make run DEMO_CLOCK=now` runs it on the wall clock, DEMO_SPEED=60 a minute a second.
DEMO_CLOCK ?= 2026-12-01T10:00
DEMO_SPEED ?= 1

run: setup
	$(BIN)/smsgw demo --config config.toml --clock $(DEMO_CLOCK) --speed $(DEMO_SPEED)

lint: setup
	$(BIN)/ruff check .

typecheck: setup
	$(BIN)/mypy

contracts: setup
	$(BIN)/lint-imports

unit: setup
	$(BIN)/pytest

test: lint typecheck contracts unit

bench: setup
	$(BIN)/python bench/smpp_codec.py
	$(BIN)/python bench/parse.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .hypothesis
