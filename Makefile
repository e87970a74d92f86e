# vnetkit: `make demo` and `make test` work from a clean clone on Debian/Ubuntu as root.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
STAMP := $(VENV)/.installed

.PHONY: install system vm-install demo test test-vm test-unit test-integration test-diff check format bench clean

install: system $(STAMP)

system:
	@scripts/install-system.sh

$(STAMP): pyproject.toml constraints.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $@

demo: install
	@$(PY) -m vnetkit.demo

# The whole suite, then the VM tier; either failing fails the build.
# pytest's exit 5 (no tests collected) is a failure here.
test: install
	@$(PY) -m pytest tests; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests ran" >&2; rc=1; fi; \
	$(MAKE) --no-print-directory test-vm; vm=$$?; \
	if [ $$rc -ne 0 ]; then echo "make test: the normal suite FAILED (pytest exit $$rc)" >&2; exit $$rc; fi; \
	exit $$vm

# QEMU, a stock Debian kernel, busybox and virtme-ng (vng) for the VM tier (as root).
vm-install: install
	@VENV=$(VENV) scripts/install-vm.sh

# The VM tier: every test marked kernel_vm under tests/, on a stock Debian kernel
# under QEMU, where the features this machine's kernel lacks exist (~1-2 min).
test-vm: vm-install
	@VENV=$(VENV) scripts/run-vm-tests.sh

test-unit: install
	@$(PY) -m pytest tests/unit

test-integration: install
	@$(PY) -m pytest tests/integration

# The differential proof, long run: the trace engine against the kernel, 1,000 probes per backend
# and family (VNETKIT_DIFF_PROBES, VNETKIT_DIFF_SEED to change); `make test` runs 60 of each.
test-diff: install
	@VNETKIT_DIFF_PROBES=$${VNETKIT_DIFF_PROBES:-1000} $(PY) -m pytest -s tests/diff

check: install
	@$(VENV)/bin/ruff format --check src tests benchmarks scripts
	@$(VENV)/bin/ruff check src tests benchmarks scripts docs
	@$(VENV)/bin/mypy

format: install
	@$(VENV)/bin/ruff format src tests benchmarks scripts
	@$(VENV)/bin/ruff check --fix src tests benchmarks scripts

bench: install
	@$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .mypy_cache .ruff_cache .pytest_cache .hypothesis
