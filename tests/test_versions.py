import tomllib
from pathlib import Path

import numba
import numpy
import scipy
from packaging.requirements import Requirement

from hierlib.versions import versions


def test_versions_report_the_imported_modules_within_the_supported_ranges():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    supported = {r.name: r.specifier for r in map(Requirement, project["project"]["dependencies"])}
    got = versions()
    assert got["python"].startswith("3.11.")
    for module in (numpy, scipy, numba):
        assert got[module.__name__] == module.__version__
    for name in ("numpy", "scipy", "pandas", "arviz", "numba"):
        assert supported[name].contains(got[name]), f"{name} {got[name]} not in {supported[name]}"
    assert versions(("surely-not-a-package",))["surely-not-a-package"] == "not installed"
