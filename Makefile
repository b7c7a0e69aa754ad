# Cameo Exchange — the two commands a new machine needs: `make run` and `make test`.
#
# Both install from the lock files (requirements/*.txt: exact versions with hashes),
# then the project itself without touching its dependencies again.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
# pytest's parallel workers (pytest-xdist): one per core by default
WORKERS ?= auto

.PHONY: run test test-fast lint lock bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install whenever a lock file or pyproject.toml changes.
$(VENV)/.installed-run: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: requirements/test.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/cameo db upgrade
	$(BIN)/cameo seed
	$(BIN)/python -m app.devstack --port $(PORT)

# Style and types first (seconds), then every suite.
lint: $(VENV)/.installed-test
	$(BIN)/ruff check app ledger tests bench migrations stripe_emulator verifier
	$(BIN)/ruff format --check app ledger tests bench migrations stripe_emulator verifier
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -n $(WORKERS)
	cd verifier && ../$(BIN)/python -m pytest -q

# The quick loop: unit tests and the SQLite suites (no PostgreSQL, browser or slow tests).
test-fast: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n $(WORKERS) -m "not postgres and not browser and not slow"

# Rewrite the lock files from pyproject.toml (after changing a dependency).
lock: $(VENV)/.installed-test
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --generate-hashes \
		--allow-unsafe -o requirements/run.txt pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links --generate-hashes \
		--allow-unsafe --extra test -o requirements/test.txt pyproject.toml

bench: $(VENV)/.installed-test
	$(BIN)/python bench/ledger_bench.py

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .hypothesis .mypy_cache .ruff_cache
