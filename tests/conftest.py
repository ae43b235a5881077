"""Shared fixtures: the shipped HSB data, the reference data in ../shared/data, and the offline
Chromium of the browser tests (tests marked ``browser`` skip, saying why, where it is absent)."""

import fcntl
import os
import pickle
import sys
from pathlib import Path

import pytest

from hierlib.data import load_hsb

REPO = Path(__file__).resolve().parents[1]
HOFF_CSV = REPO.parent / "shared" / "data" / "hoff-els2002-mathscore.csv"
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; make test does)"
sys.path.insert(0, str(REPO / "tools"))  # tools/ is scripts, not a package

# Tests of the course around the library (notebooks, editions, site, pins): they need the
# `course`/`dev` tools and the repository. Every other test file is a unit test of hierlib,
# run alone with `pytest --library-only` (the lower-bounds job of .ci/run).
COURSE_TEST_FILES = frozenset(
    {
        "test_decks.py",
        "test_editions.py",
        "test_ensure_chromium.py",
        "test_handouts.py",
        "test_notebook_sync.py",
        "test_notebook_text.py",
        "test_pins.py",
        "test_run_notebooks.py",
        "test_site.py",
        "test_summary_links.py",
        "test_tools_imports.py",
    }
)


def pytest_addoption(parser):
    parser.addoption(
        "--library-only",
        action="store_true",
        help="collect only hierlib's unit tests (not the notebooks, editions, site or pins)",
    )


def pytest_ignore_collect(collection_path, config):
    """With ``--library-only``, skip the course's test files (and any notebook) unimported."""
    if config.getoption("--library-only"):
        return collection_path.name in COURSE_TEST_FILES or collection_path.suffix == ".ipynb"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip every test marked ``browser`` where Debian's chromium is absent (CI installs it),
    and the larger property runs (``slow_property``) unless asked for with ``-m``."""
    if "slow_property" not in (config.getoption("markexpr") or ""):
        slow = pytest.mark.skip(reason="larger property run: pytest -m slow_property")
        for item in items:
            if "slow_property" in item.keywords:
                item.add_marker(slow)
    if not any("browser" in item.keywords for item in items):
        return
    import chromium

    if chromium.chromium_path() is None:
        skip = pytest.mark.skip(reason=NO_CHROMIUM)
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium with every non-file:// request aborted (tools/chromium.py)."""
    import chromium

    with chromium.offline_browser() as chromium_browser:
        yield chromium_browser


def built_once(tmp_path_factory, key: str, build):
    """``(folder, result)`` of ``build(folder)``, run once per test run under the name ``key``
    and shared by every test file and xdist worker that asks for the same ``key``.

    The first worker to ask builds into the run's shared temporary folder, under a file lock;
    the others wait for the lock and reuse the folder and the (pickled) result. Whoever uses
    it only reads it.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's folder
    out, done = root / f"shared-{key}", root / f"shared-{key}.pickle"
    with open(root / f"shared-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            done.write_bytes(pickle.dumps(build(out)))
    return out, pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory):
    """``(folder, entries)``: the instructor edition of the site (tools/build_site.py), built
    once per test run for test_site.py and test_decks.py (:func:`built_once`)."""
    import build_site
    import course_notebooks

    if not (REPO / "node_modules" / "reveal.js").exists():
        pytest.fail("node_modules/ is missing: run `make setup` (npm ci) first")

    def build(out):
        notebooks = course_notebooks.notebooks_in_order()
        return build_site.build(out, REPO / "node_modules", notebooks, build_site.INSTRUCTOR)

    return built_once(tmp_path_factory, "instructor-site", build)


@pytest.fixture(scope="session")
def small():
    """Simulated data ``(y, groups)``: 8 groups of 3..25 members."""
    import numpy as np

    rng = np.random.default_rng(11)
    sizes = np.array([3, 5, 8, 12, 4, 25, 9, 6])
    theta = rng.normal(5.0, 1.0, sizes.size)
    groups = np.repeat(np.arange(sizes.size), sizes)
    y = theta[groups] + rng.normal(0, 2.0, groups.size)
    return y, groups


@pytest.fixture(scope="session")
def hsb():
    """The HSB student table (7185 rows)."""
    return load_hsb()


@pytest.fixture(scope="session")
def hoff():
    """Hoff's ELS:2002 math scores (100 schools), from ../shared/data; skipped where absent."""
    import pandas as pd

    if not HOFF_CSV.exists():
        pytest.skip(f"reference data {HOFF_CSV} is absent (present in CI and dev checkouts)")
    return pd.read_csv(HOFF_CSV)
