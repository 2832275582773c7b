# Two commands do all the set-up: `make play` and `make test`. Each creates .venv when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: play test lint bench clean venv

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "setting up $(VENV) (first run only)..."
	@$(BIN)/python -m pip install --quiet --upgrade pip
	@$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $(STAMP)

venv: $(STAMP)

play: $(STAMP)
	@$(BIN)/wargame play $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/wargame bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache
