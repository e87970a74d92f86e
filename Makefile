# vnetkit: `make demo` and `make test` work from a clean clone on Debian/Ubuntu as root.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: install system demo test test-unit test-integration check format bench clean

install: system $(STAMP)

system:
	@scripts/install-system.sh

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

demo: install
	@$(PY) -m vnetkit.demo

# The whole suite. pytest's exit 5 (no tests collected) is a failure here.
test: install
	@$(PY) -m pytest tests; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi; exit $$rc

test-unit: install
	@$(PY) -m pytest tests/unit

test-integration: install
	@$(PY) -m pytest tests/integration

check: install
	@$(VENV)/bin/ruff format --check src tests benchmarks scripts
	@$(VENV)/bin/ruff check src tests benchmarks scripts
	@$(VENV)/bin/mypy

format: install
	@$(VENV)/bin/ruff format src tests benchmarks scripts
	@$(VENV)/bin/ruff check --fix src tests benchmarks scripts

bench: install
	@$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
