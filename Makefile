# Developer entry points. `make test` is all CI runs (see .ci/run): ruff, mypy (bot/), then pytest.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

ROTATION_CONFIG ?= examples/routing.yaml
DATABASE_URL    ?= sqlite+aiosqlite:///rotation.db

.DEFAULT_GOAL := test
.PHONY: venv serve test lint bench clean

# (Re)install whenever pyproject.toml changes; the stamp lives inside the venv.
venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --disable-pip-version-check -q -e '.[dev]'
	touch $@

# ROTATION_CONFIG/DATABASE_URL are passed only to this recipe, never exported
# globally, so they cannot leak into the test run.
serve: venv
	@test -n "$$ROTATION_INTAKE_TOKEN" || echo "note: ROTATION_INTAKE_TOKEN is not set, so POST /leads is switched off (503); to turn it on: make serve ROTATION_INTAKE_TOKEN=some-secret" >&2
	ROTATION_CONFIG='$(ROTATION_CONFIG)' DATABASE_URL='$(DATABASE_URL)' $(BIN)/rotation serve

# The PostgreSQL tests start their own throwaway server (tests/postgres.py);
# ROTATION_REQUIRE_POSTGRES=1 turns "no PostgreSQL binaries" from skip into failure.
test: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	ROTATION_REQUIRE_POSTGRES='$(ROTATION_REQUIRE_POSTGRES)' $(BIN)/pytest -q $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .

bench: venv
	$(BIN)/python bench/core.py

clean:
	rm -rf $(VENV) build .pytest_cache .ruff_cache .hypothesis *.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
