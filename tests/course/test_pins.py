"""The version policy: pyproject.toml declares supported ranges, the lock pins the course.

- ``dependencies`` are ranges with a lower bound and no upper cap (a student installs hierlib
  into an environment that already has numpy and pandas); ``requirements-lower.txt`` holds
  exactly those lower bounds, which ``make test-lower`` (CI) installs and tests;
- ``requirements.lock`` pins every package of pyproject.toml (extras included) inside its range;
- ``environment.yml`` names every such package once, at its locked version: in the conda part
  (``name=version``) or in its ``pip:`` part (``name==version``).

What this cannot check offline: that conda-forge has each conda pin. That was checked by hand
on conda-forge's package pages (the dates and findings are in environment.yml's header); only
packages found there at the locked version stay in the conda part.
"""

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[2]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _project() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]


def _requirements(specs) -> dict[str, Requirement]:
    reqs = {_canonical(r.name): r for r in map(Requirement, specs)}
    reqs.pop("hierlib", None)  # dev = ["hierlib[test]", ...]: the project itself
    return reqs


def dependencies() -> dict[str, Requirement]:
    return _requirements(_project()["dependencies"])


def all_requirements() -> dict[str, Requirement]:
    specs = list(_project()["dependencies"])
    for extra in _project()["optional-dependencies"].values():
        specs.extend(extra)
    return _requirements(specs)


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, _, version = line.partition("==")
            pins[_canonical(name)] = version.strip()
    return pins


def test_dependencies_are_lower_bounds_without_caps():
    deps = dependencies()
    assert {"numpy", "pandas", "scipy", "numba", "arviz"} <= set(deps)
    for name, req in deps.items():
        ops = [s.operator for s in req.specifier]
        assert ops == [">="], f"{name}: {req.specifier} (want one lower bound, no cap)"
    assert str(deps["numpy"].specifier) == ">=2.0"
    assert str(deps["pandas"].specifier).startswith(">=2.2")


def test_lower_constraints_are_exactly_the_lower_bounds():
    lower = _pins(REPO / "requirements-lower.txt")
    bounds = {n: next(iter(r.specifier)).version for n, r in dependencies().items()}
    assert set(lower) == set(bounds)
    for name, version in lower.items():
        assert Requirement(f"{name}=={version}").specifier.contains(bounds[name]), name
        assert dependencies()[name].specifier.contains(version), (name, version)


def test_lock_pins_every_package_within_its_range():
    lock = _pins(REPO / "requirements.lock")
    for name, req in all_requirements().items():
        assert name in lock, f"requirements.lock does not pin {name}"
        assert req.specifier.contains(lock[name]), f"{name}=={lock[name]} not in {req.specifier}"


def environment_pins() -> tuple[dict[str, str], dict[str, str]]:
    """``(conda, pip)``: the ``name=version`` and ``name==version`` lines of environment.yml."""
    conda, pip = {}, {}
    for line in (REPO / "environment.yml").read_text().splitlines():
        if m := re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*==\s*(\S+)\s*", line):
            pip[_canonical(m.group(1))] = m.group(2)
        elif m := re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*=\s*(\S+)\s*", line):
            if m.group(1) != "python":
                conda[_canonical(m.group(1))] = m.group(2)
    return conda, pip


def test_environment_has_every_package_once_at_its_locked_version():
    conda, pip = environment_pins()
    assert conda and pip
    assert not set(conda) & set(pip), "a package is both a conda and a pip pin"
    lock = _pins(REPO / "requirements.lock")
    named = conda | pip
    assert set(named) == set(all_requirements()), set(named) ^ set(all_requirements())
    differ = {n: (v, lock[n]) for n, v in named.items() if v != lock[n]}
    assert not differ, f"environment.yml vs requirements.lock: {differ}"
    # conda-forge's name for playwright is playwright-python: only pip may say "playwright"
    assert "playwright" not in conda


def test_environment_python_matches():
    assert re.search(r"-\s*python=3\.11\s*$", (REPO / "environment.yml").read_text(), re.M)
