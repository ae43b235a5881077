"""Package versions, printed in the last cell of every notebook so a reader can reproduce it."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

COURSE_PACKAGES = (
    "hierlib",
    "numpy",
    "scipy",
    "pandas",
    "statsmodels",
    "matplotlib",
    "seaborn",
    "arviz",
    "numba",
)


def versions(packages: tuple[str, ...] = COURSE_PACKAGES) -> dict[str, str]:
    """Return ``{package: version}`` for ``packages`` plus the Python version.

    A package that is not installed is reported as ``"not installed"``.
    """
    out = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def show_versions(packages: tuple[str, ...] = COURSE_PACKAGES) -> None:
    """Print one ``name  version`` line per package (see :func:`versions`)."""
    for name, ver in versions(packages).items():
        print(f"{name:<12} {ver}")
