"""Notebook sources hold no control characters: a LaTeX macro typed into a Python string
("\tau", "\frac", "\beta") silently becomes a tab, form feed or backspace and renders as
"au", "rac", "eta" on slides and handouts."""

import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.py"))
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]|\t")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_control_characters(path):
    bad = [
        f"line {i}: {line.strip()[:60]!r}"
        for i, line in enumerate(path.read_text().splitlines(), start=1)
        if CONTROL.search(line)
    ]
    assert not bad, f"{path.name} has control characters (a LaTeX escape lost?): {bad}"


def test_the_check_catches_a_lost_backslash():
    assert CONTROL.search("# $\tau^2$")
    assert not CONTROL.search(r"# $\tau^2$")
