"""The wheel holds the whole library: every package folder of hierlib (``hierlib/samplers/``
too) is listed in pyproject.toml's ``[tool.setuptools] packages``, which names them one by one
(a subpackage left out would be missing from the installed hierlib, ``make test-lower``)."""

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_hierlib_package_is_in_the_wheel():
    listed = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    folders = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "hierlib").rglob("__init__.py")
    }
    assert "hierlib.samplers" in folders
    assert folders <= listed, sorted(folders - listed)
