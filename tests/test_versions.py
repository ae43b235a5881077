import tomllib
from pathlib import Path

from hierlib.versions import versions


def test_versions_match_pins():
    pins = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    pinned = dict(d.split("==") for d in pins["project"]["dependencies"])
    got = versions()
    assert got["python"].startswith("3.11.")
    for name in ("numpy", "scipy", "arviz", "numba"):
        assert got[name] == pinned[name]
    assert versions(("surely-not-a-package",))["surely-not-a-package"] == "not installed"
