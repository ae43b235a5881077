# Task runner for the course. Two entry points (README.md):
#   make all   -- set up .venv and node_modules from the pins, execute every notebook in
#                 lecture order, render build/site (pages + reveal.js slides, offline)
#   make test  -- the same set-up, then ruff and every test (pytest + nbval + browser)
# Also: make notebooks (execute only), make site (render only, from the committed notebooks),
#       make student / handouts / decks (the editions, see README "For instructors").
PYTHON ?= python3
NPM    ?= npm
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SITE   := build/site

# pytest: 2 workers; --dist loadfile keeps a notebook's cells (nbval) and a test file's
# shared fixtures (the built site) on one worker. nbval compares only the cells marked
# "# NBVAL_CHECK_OUTPUT" (--nbval-lax), after masking object addresses.
PYTEST_ARGS ?= -n 2 --dist loadfile
NBVAL_ARGS  := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
               --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: all setup notebooks site student handouts decks test lint clean lock bench bench-peers

all: setup
	$(BIN)/python tools/run_notebooks.py
	$(BIN)/python tools/build_site.py --out $(SITE)
	$(BIN)/python tools/editions.py student
	$(BIN)/python tools/editions.py handouts

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3"
	$(BIN)/python -m pip install --quiet -c requirements.lock -e ".[course,dev]"
	$(BIN)/python -c "import hierlib.gibbs; hierlib.gibbs.warm_up()"  # compile the numba sweeps once
	touch $(STAMP)

# reveal.js, MathJax 2, require.js and jQuery, exactly as package-lock.json pins them
$(NODE_STAMP): package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --ignore-scripts
	touch $(NODE_STAMP)

# make notebooks NB=notebooks/05_gibbs.py executes just that one (default: all, lecture order,
# JOBS at a time: the notebooks are independent)
JOBS ?= 2
notebooks: setup
	$(BIN)/python tools/run_notebooks.py --jobs $(JOBS) $(NB)

site: setup
	$(BIN)/python tools/build_site.py --out $(SITE)

# Editions (tools/editions.py), from the committed notebooks: build/student/ (+ student.zip),
# build/handouts/*.pdf; `make decks` renders the site and reports any slide taller than 1280x720.
student: setup
	$(BIN)/python tools/editions.py student

handouts: setup
	$(BIN)/python tools/editions.py handouts

decks: site
	$(BIN)/python tools/editions.py decks --site $(SITE)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Runs every check even when an earlier one fails, then exits non-zero if any failed (pytest's
# own exit code: 1 failures, 2 interrupted, 5 nothing collected, ...).
test: setup
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(NBVAL_ARGS) tests notebooks || status=$$?; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (exit $$status)"; fi; \
	exit $$status

# Speed of the Gibbs samplers vs a textbook numpy loop, then what a user waits on (parallel
# chains, REML, import cells); prints figures, never a timed test
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gibbs.py
	$(BIN)/python benchmarks/bench_user.py

# Optional, never part of the tests: hierlib vs NUTS (PyMC + nutpie, from PyPI) vs the textbook
# loop, ESS per second in one run, in a venv of its own (build/peers-venv: the course's pins
# plus PyMC and nutpie, which the course does not depend on)
PEERS := build/peers-venv
PEERS_PINS := "pymc==5.28.5" "nutpie==0.16.8"
$(PEERS)/.installed: pyproject.toml requirements.lock
	rm -rf $(PEERS) && $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade "pip==26.3"
	$(PEERS)/bin/python -m pip install --quiet -c requirements.lock -e . $(PEERS_PINS)
	touch $@

bench-peers: $(PEERS)/.installed
	$(PEERS)/bin/python benchmarks/bench_peers.py

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
