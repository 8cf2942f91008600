# `make run`  — start codeexec with its embedded defaults (SQLite, demo problems, images built if missing)
# `make test` — provision Docker/MariaDB where possible, then lint, type-check and run every test:
#               the host suite and, at the same time, the cgroup v2 stage in a QEMU guest (scripts/test.sh)
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint provision frontend wheelhouse clean

$(BIN)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

run: $(BIN)/.installed frontend
	$(BIN)/codeexec serve

# The /docs page's files (frontend/, npm), built into the package when missing or stale.
frontend:
	bash scripts/frontend.sh

provision:
	bash scripts/provision.sh

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(BIN)/.installed provision
	VENV=$(VENV) bash scripts/test.sh

# Wheels for an offline `docker build` of the service image (see the Dockerfile); the
# codeexec wheel carries the /docs page's files, so they are built first.
wheelhouse: $(BIN)/.installed frontend
	rm -f dist/wheelhouse/*.whl
	$(BIN)/pip wheel --quiet --wheel-dir dist/wheelhouse .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache codeexec.sqlite3*
