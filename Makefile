# roomctl: two commands on a fresh Debian / Raspberry Pi OS machine.
#   make demo   run the whole system on its embedded defaults
#   make test   ruff, mypy (strict), pytest and scripts/systemd-check (the units under a real systemd; root only)
# Each installs the Debian packages it needs, and only those (scripts/ensure-system-packages.sh demo|test).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest system-packages demo-packages venv clean bench examples-check systemd-check

demo: $(STAMP) demo-packages
	$(BIN)/roomctl demo $(DEMO_ARGS)

test: $(STAMP) system-packages lint typecheck pytest systemd-check

lint: $(STAMP)
	$(BIN)/ruff check roomctl tests bench
	$(BIN)/ruff format --check roomctl tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) system-packages
	$(BIN)/pytest $(PYTEST_ARGS)

system-packages:
	@scripts/ensure-system-packages.sh test

demo-packages:
	@scripts/ensure-system-packages.sh demo

# The documented install in a Debian 12 container under a real systemd (rootfs cached in /var/cache; root only:
# otherwise one line says it was skipped).
systemd-check: $(STAMP) system-packages
	$(BIN)/python scripts/systemd-check

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "roomctl needs Python 3.11 or newer")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtualenv. On Debian / Raspberry Pi OS: sudo apt install python3-venv"; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

bench: $(STAMP) system-packages
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Not part of `make test` (minutes, downloads; run before a release): Node-RED from npm and Home Assistant from PyPI,
# each run for real against the demo's feed (docs/mqtt.md, "What was run").
examples-check: $(STAMP) system-packages
	$(BIN)/python scripts/examples_check.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
