"""Fixtures of the course's tests: the build scripts of tools/ on ``sys.path``, Debian's
offline Chromium (tests marked ``browser`` skip, saying why, where it is absent), and what
``make all`` builds, built once per test run and shared by every test file and xdist worker:
the instructor site (test_site.py, test_decks.py) and the student edition (test_site.py,
test_editions.py)."""

import fcntl
import os
import pickle
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NO_CHROMIUM = "Debian's chromium is not installed (apt-get install chromium; make test does)"
sys.path.insert(0, str(REPO / "tools"))  # tools/ is scripts, not a package

import build_site  # noqa: E402
import chromium  # noqa: E402
import course_notebooks  # noqa: E402
import student_edition  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Skip every test marked ``browser`` where Debian's chromium is absent (CI installs it)."""
    if any("browser" in item.keywords for item in items) and chromium.chromium_path() is None:
        skip = pytest.mark.skip(reason=NO_CHROMIUM)
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian chromium with every non-file:// request aborted (tools/chromium.py)."""
    with chromium.offline_browser() as offline:
        yield offline


def built_once(tmp_path_factory, key: str, build):
    """``(folder, result)`` of ``build(folder)``, run once per test run under the name ``key``
    and shared by every test file and xdist worker that asks for the same ``key``.

    The first worker to ask builds into the run's shared temporary folder, under a file lock;
    the others wait for the lock and reuse the folder and the (pickled) result. Whoever uses
    it only reads it.
    """
    base = tmp_path_factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # this run's folder
    out, done = root / f"shared-{key}", root / f"shared-{key}.pickle"
    with open(root / f"shared-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            done.write_bytes(pickle.dumps(build(out)))
    return out, pickle.loads(done.read_bytes())


@pytest.fixture(scope="session")
def instructor_site(tmp_path_factory):
    """``(folder, entries)``: the instructor edition of the site (tools/build_site.py), built
    once per test run for test_site.py and test_decks.py (:func:`built_once`)."""
    if not (REPO / "node_modules" / "reveal.js").exists():
        pytest.fail("node_modules/ is missing: run `make setup` (npm ci) first")

    def build(out):
        notebooks = course_notebooks.notebooks_in_order()
        return build_site.build(out, REPO / "node_modules", notebooks, build_site.INSTRUCTOR)

    return built_once(tmp_path_factory, "instructor-site", build)


@pytest.fixture(scope="session")
def student_build(tmp_path_factory):
    """``(folder, {stem: student notebook})``: the student edition as ``make student`` builds
    it, ``folder/student/`` (notebooks, hierlib, data, pins, README) and
    ``folder/student.zip``, built once per test run for test_site.py and test_editions.py
    (:func:`built_once`). Read it, never change it."""

    def build(out):
        paths = student_edition.write_student_edition(
            course_notebooks.notebook_paths(), out / "student"
        )
        student_edition.zip_dir(out / "student", out / "student.zip")
        return {p.stem: p for p in paths}

    return built_once(tmp_path_factory, "student-edition", build)
