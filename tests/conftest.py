"""Shared fixtures: the shipped HSB data and the reference data in ../shared/data."""

from pathlib import Path

import pytest

from hierlib.data import load_hsb

REPO = Path(__file__).resolve().parents[1]
HOFF_CSV = REPO.parent / "shared" / "data" / "hoff-els2002-mathscore.csv"


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
