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

VNU := .cache/vnu/node_modules/vnu-jar/build/dist/vnu.jar

# The W3C Nu HTML validator checks the after-action review when npm and Java are on the machine (optional).
$(VNU):
	@(command -v npm >/dev/null && command -v java >/dev/null && \
	  npm install --silent --no-audit --no-fund --prefix .cache/vnu vnu-jar >/dev/null 2>&1) || true

test: $(STAMP) $(VNU)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/wargame bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache
