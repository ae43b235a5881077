"""Shared fixtures: the shipped HSB data, the reference data in ../shared/data, and the offline
Chromium of the browser tests (tests marked ``browser`` skip, saying why, where it is absent)."""

import sys
from pathlib import Path

import pytest

from hierlib.data import load_hsb

REPO = Path(__file__).resolve().parents[1]
HOFF_CSV = REPO.parent / "shared" / "data" / "hoff-els2002-mathscore.csv"
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; .ci/run does)"
sys.path.insert(0, str(REPO / "tools"))  # tools/ is scripts, not a package


def pytest_collection_modifyitems(config, items):
    """Skip every test marked ``browser`` where Debian's chromium is absent (CI installs it),
    and the larger property runs (``slow_property``) unless asked for with ``-m``."""
    if "slow_property" not in (config.getoption("markexpr") or ""):
        slow = pytest.mark.skip(reason="larger property run: pytest -m slow_property")
        for item in items:
            if "slow_property" in item.keywords:
                item.add_marker(slow)
    import editions

    if editions.chromium_path() is None:
        skip = pytest.mark.skip(reason=NO_CHROMIUM)
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium with every non-file:// request aborted (tools/editions.py)."""
    import editions

    with editions.offline_browser() as chromium:
        yield chromium


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
