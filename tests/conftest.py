"""Shared fixtures of every test: the shipped HSB data, small simulated data and the reference
data in ../shared/data.

The tests of hierlib are the files in ``tests/``; the tests of the course around it (notebooks,
editions, site, decks, pins: they need the ``course``/``dev`` tools and the repository) are in
``tests/course/``, with their own fixtures (``tests/course/conftest.py``: the offline Chromium,
the site and the student edition built once per run). ``pytest --library-only`` collects
hierlib's tests alone (the lower-bounds job of .ci/run, from an installed wheel).
"""

from pathlib import Path

import pytest

from hierlib.data import load_hsb

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
COURSE_TESTS = TESTS / "course"
HOFF_CSV = REPO.parent / "shared" / "data" / "hoff-els2002-mathscore.csv"


def pytest_addoption(parser):
    parser.addoption(
        "--library-only",
        action="store_true",
        help="collect only hierlib's unit tests (not tests/course/: notebooks, editions, site)",
    )


def pytest_ignore_collect(collection_path, config):
    """With ``--library-only``, skip ``tests/course/`` (its conftest unimported) and every
    notebook."""
    if config.getoption("--library-only"):
        path = Path(collection_path)
        return path == COURSE_TESTS or COURSE_TESTS in path.parents or path.suffix == ".ipynb"
    return None


def pytest_collection_modifyitems(config, items):
    """Skip the larger property runs (``slow_property``) unless asked for with ``-m``."""
    if "slow_property" not in (config.getoption("markexpr") or ""):
        slow = pytest.mark.skip(reason="larger property run: pytest -m slow_property")
        for item in items:
            if "slow_property" in item.keywords:
                item.add_marker(slow)


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
