# One task runner. Every target creates or reuses .venv and installs the project into it,
# so on a fresh machine `make demo` and `make test` do all the set-up.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench venv clean docs-cli

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev,virtual]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/coach capture info fixtures/chest-walk-jog-walk-hexoskin-008.jsonl
	$(BIN)/coach capture decode fixtures/chest-walk-jog-walk-hexoskin-008.jsonl | head -n 20

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

docs-cli: $(STAMP)
	$(BIN)/python tools/gen_cli_docs.py > docs/cli.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
