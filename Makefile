# Task runner for the course. Two entry points (README.md):
#   make all   -- set up .venv and node_modules from the pins, execute every notebook in
#                 lecture order, render build/site (pages + reveal.js slides, offline)
#   make test  -- the same set-up, then ruff and every test (pytest + nbval + browser)
# Both install Debian's chromium first where it is missing (tools/ensure_chromium.sh).
# `make help` lists every target.
PYTHON ?= python3
NPM    ?= npm
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
SITE   := build/site
INSTRUCTOR := build/instructor

# pytest: 2 workers; --dist loadfile keeps a notebook's cells (nbval) and a test file's
# shared fixtures (the built site) on one worker. nbval compares only the cells tagged
# nbval-check-output (--nbval-lax), after masking object addresses.
PYTEST_ARGS ?= -n 2 --dist loadfile
NBVAL_ARGS  := --nbval-lax --nbval-current-env --nbval-cell-timeout=600 \
               --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: all help setup chromium lab notebooks site instructor student handouts decks test test-lower \
        lint clean lock bench bench-peers grade grade-examples cpu-profile

# The same last bits on every x86-64 machine (README, "Same numbers on any machine"): numpy and
# OpenBLAS choose their SIMD code at run time, and their AVX-512 code rounds differently from
# their AVX2 code (on an AVX-512 machine, notebook 12 printed 3.3e-11 for 1.8e-11 and a figure
# of 11 moved by a pixel, so nbval and the clean-tree check of make all failed). Every recipe
# (notebooks, nbval, JupyterLab) runs on the AVX2 + FMA code (x86-64-v3, every x86 CPU since
# 2015) where the CPU has it. The names are numpy 2.4's dispatch targets (numpy 2.0-2.3 named
# them AVX512F AVX512_SKX ...: test-lower ignores them, with a hidden ImportWarning);
# tests/course/test_cpu_profile.py checks that numpy knows them and OpenBLAS obeys.
# A value already in the environment wins.
ifneq ($(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && grep -qw fma /proc/cpuinfo && echo y),)
export NPY_DISABLE_CPU_FEATURES ?= X86_V4 AVX512_ICL AVX512_SPR
export OPENBLAS_CORETYPE ?= Haswell
endif

# What the recipes see (tests/course/test_cpu_profile.py reads it)
cpu-profile:
	@echo "NPY_DISABLE_CPU_FEATURES=$$NPY_DISABLE_CPU_FEATURES"
	@echo "OPENBLAS_CORETYPE=$$OPENBLAS_CORETYPE"

# Editions (README "For instructors"): build/student.zip and build/handouts/ first, then the
# published site build/site/ (copies both in: self-contained) and build/instructor/. The
# prerequisites run left to right (make without -j: the site copies the editions in).
all: setup chromium notebooks student handouts site instructor

help:
	@echo "make all         set up, execute every notebook, build the site and the editions"
	@echo "make test        set up, then ruff, pytest, nbval over the notebooks, browser tests"
	@echo "make lab         open the notebooks in JupyterLab (.venv/bin/jupyter lab notebooks/)"
	@echo "make setup       create .venv (pinned by requirements.lock) and node_modules"
	@echo "make chromium    install Debian's chromium where missing (apt-get; root or sudo)"
	@echo "make notebooks   execute the notebooks (NB=notebooks/05_gibbs.py for one)"
	@echo "make site        render build/site/, the published site (no solutions, no notes)"
	@echo "make instructor  render build/instructor/ (solutions in the pages, notes in the decks)"
	@echo "make student     build/student/ and build/student.zip (solutions emptied, no notes)"
	@echo "make handouts    build/handouts/*.pdf (needs chromium)"
	@echo "make decks       render the instructor decks, list slides taller than 1280x720"
	@echo "make test-lower  hierlib's unit tests, installed from a wheel at the oldest supported versions"
	@echo "make grade       grade submitted notebooks of 05: make grade SUBMISSIONS=dir/"
	@echo "make grade-examples  four example submissions in build/grade-examples/"
	@echo "make lint        ruff check and ruff format --check"
	@echo "make bench       speed of the Gibbs samplers, PSIS-LOO, REML and the mixed models"
	@echo "make lock        regenerate requirements.lock (newest versions within pyproject's ranges)"
	@echo "make clean       remove build/"
	@echo "make cpu-profile the CPU code paths numpy and OpenBLAS are held to (same numbers anywhere)"

setup: $(STAMP) $(NODE_STAMP)

# Debian's chromium, for the handouts and the browser tests: installed with apt-get where
# missing (as root, or with sudo; otherwise a message naming the package, and a failure).
chromium:
	@sh tools/ensure_chromium.sh

# JupyterLab on the notebooks, from the course's venv
lab: setup
	$(BIN)/jupyter lab notebooks/

# The venvs are filled by uv (pinned here; it is a tool, not a dependency of the course): the
# same pins as pip would install, in a fraction of pip's time (about 30 s against 3 min here).
# --compile-bytecode: uv, unlike pip, leaves the .pyc files to the first import, and where
# PYTHONDONTWRITEBYTECODE is set (as on the course machine) every import recompiles: importing
# matplotlib, pandas, statsmodels, numba and ArviZ took 16 s instead of 4 s.
UV := "uv==0.13.9"

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==26.3" $(UV)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -c requirements.lock -e ".[course,dev]"
	$(BIN)/python -c "import hierlib.gibbs, hierlib._psis as p, hierlib._arviz as a; hierlib.gibbs.warm_up(); p.warm_up(); a.load()"  # compile the numba kernels (ArviZ's too) once
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

# the published site (students: no solutions, no speaker notes; links the student edition and
# handouts where built) and the instructor edition (solutions in the pages, notes in the decks)
site: setup
	$(BIN)/python tools/build_site.py --out $(SITE)

instructor: setup
	$(BIN)/python tools/build_site.py --edition instructor --out $(INSTRUCTOR)

# Editions, from the committed notebooks: build/student/ (+ student.zip) by
# tools/student_edition.py, build/handouts/*.pdf by tools/handouts.py; `make decks` renders the
# instructor decks and reports any slide taller than 1280x720 (tools/decks.py).
student: setup
	$(BIN)/python tools/student_edition.py

handouts: setup chromium
	$(BIN)/python tools/handouts.py

decks: instructor chromium
	$(BIN)/python tools/decks.py --site $(INSTRUCTOR)

# Grading (README "Grading exercise 05"): each submitted notebook runs in a fresh kernel with a
# time limit, then the checks run on its updates and sampler; grades.csv and report.html in GRADES.
SUBMISSIONS ?=
GRADES ?= build/grades
grade: setup
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=dir/ (a folder of .ipynb)"; exit 2; }
	$(BIN)/python -m hierlib.grade "$(SUBMISSIONS)" --out "$(GRADES)"

grade-examples: setup
	$(BIN)/python -m hierlib.grade --examples build/grade-examples

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Runs every check even when an earlier one fails, then exits non-zero if any failed (pytest's
# own exit code: 1 failures, 2 interrupted, 5 nothing collected, ...).
test: setup chromium
	@status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(NBVAL_ARGS) tests notebooks || status=$$?; \
	if [ $$status -ne 0 ]; then echo "make test: FAILED (exit $$status)"; fi; \
	exit $$status

# Speed of the Gibbs samplers vs a textbook numpy loop, then what a user waits on (parallel
# chains, REML, import cells), then the mixed models of notebook 11; prints figures, never a
# timed test
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_gibbs.py
	$(BIN)/python benchmarks/bench_user.py
	$(BIN)/python benchmarks/bench_loo.py
	$(BIN)/python benchmarks/bench_mixed.py

# Optional, never part of the tests: hierlib vs NUTS (PyMC + nutpie, from PyPI) vs the textbook
# loop, ESS per second in one run, in a venv of its own (build/peers-venv: the course's pins
# plus PyMC and nutpie, which the course does not depend on)
PEERS := build/peers-venv
PEERS_PINS := "pymc==5.28.5" "nutpie==0.16.8"
$(PEERS)/.installed: pyproject.toml requirements.lock
	rm -rf $(PEERS) && $(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install --quiet --upgrade "pip==26.3" $(UV)
	$(PEERS)/bin/uv pip install --quiet --compile-bytecode --python $(PEERS)/bin/python -c requirements.lock -e . $(PEERS_PINS)
	touch $@

bench-peers: $(PEERS)/.installed
	$(PEERS)/bin/python benchmarks/bench_peers.py

# The lower-bounds job: hierlib built as a wheel, installed outside the repository into
# build/lower-venv with the oldest supported versions (requirements-lower.txt), and its unit
# tests run from there (`--library-only`: not tests/course/ or the notebooks), so that the data
# are loaded from the installed package. setuptools' own build tree (build/lib, build/bdist.*)
# goes too: it keeps the files of the last build, so a module since deleted from hierlib/
# would ship in the wheel.
LOWER := build/lower-venv
test-lower:
	rm -rf $(LOWER) build/dist build/lib build/bdist.* && $(PYTHON) -m venv $(LOWER)
	$(LOWER)/bin/python -m pip install --quiet "pip==26.3" $(UV)
	$(LOWER)/bin/python -m pip wheel --quiet --no-deps -w build/dist .
	$(LOWER)/bin/uv pip install --quiet --compile-bytecode --python $(LOWER)/bin/python -c requirements-lower.txt \
	    "$$(ls build/dist/hierlib-*.whl)[test]"
	cd $(LOWER) && bin/python -c "import hierlib, hierlib.data as d; \
	    assert 'site-packages' in hierlib.__file__ and d.DATA_DIR.parent.name == 'hierlib'; \
	    print('hierlib', hierlib.__file__, '- HSB data', d.DATA_DIR, d.load_hsb().shape)"
	cd $(LOWER) && bin/pytest -p no:cacheprovider -c $(CURDIR)/pyproject.toml \
	    --rootdir $(CURDIR) --library-only -n 2 -q --disable-warnings -m "not sbc" $(CURDIR)/tests

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
