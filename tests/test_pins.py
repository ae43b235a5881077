"""pyproject.toml (pip) and environment.yml (conda) must pin the same packages and versions."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs.extend(extra)
    pins = {}
    for spec in specs:
        name, sep, version = spec.partition("==")
        assert sep, f"pyproject.toml: {spec!r} is not an exact == pin"
        pins[_canonical(name)] = version.strip()
    return pins


def environment_pins() -> dict[str, str]:
    pins = {}
    for line in (REPO / "environment.yml").read_text().splitlines():
        m = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.\-]+)\s*=\s*([^=\s]+)\s*", line)
        if m and m.group(1) != "python":
            pins[_canonical(m.group(1))] = m.group(2)
    return pins


def test_same_packages_and_versions():
    pip, conda = pyproject_pins(), environment_pins()
    assert pip, "no pins found in pyproject.toml"
    only_pip = sorted(set(pip) - set(conda))
    only_conda = sorted(set(conda) - set(pip))
    assert not only_pip and not only_conda, f"pip only: {only_pip}; conda only: {only_conda}"
    differ = {k: (pip[k], conda[k]) for k in pip if pip[k] != conda[k]}
    assert not differ, f"versions differ (pip, conda): {differ}"


def test_lock_agrees_with_pins():
    lock = {}
    for line in (REPO / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[_canonical(name)] = version.strip()
    for name, version in pyproject_pins().items():
        assert lock.get(name) == version, f"requirements.lock has {name}=={lock.get(name)}"


def test_environment_python_matches():
    assert re.search(r"-\s*python=3\.11\s*$", (REPO / "environment.yml").read_text(), re.M)
