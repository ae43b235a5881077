# Task runner for the course. Two entry points (README.md):
#   make all   -- set up .venv from the pins, execute every notebook, render build/site
#   make test  -- set up .venv from the pins, run ruff and every test (pytest + nbval)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: all setup test lint clean lock

all: setup
	@echo "build pipeline: see the site target (under construction)"

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[course,dev]"
	touch $(STAMP)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup lint
	$(BIN)/python -m pytest

clean:
	rm -rf build

# Re-pin the whole tree after changing a pin in pyproject.toml (and environment.yml).
lock:
	rm -rf build/lockenv && $(PYTHON) -m venv build/lockenv
	build/lockenv/bin/python -m pip install --quiet "pip==26.3"
	build/lockenv/bin/python -m pip install --quiet -e ".[course,dev]"
	{ echo "# Full dependency tree pinned (pip freeze of a fresh venv built from pyproject.toml)."; \
	  echo "# Used as a pip constraints file by the Makefile. Regenerate: make lock"; \
	  build/lockenv/bin/python -m pip freeze --exclude-editable; } > requirements.lock
