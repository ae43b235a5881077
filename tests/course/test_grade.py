"""hierlib.grade (`make grade`): four submissions made from notebook 05 -- correct, wrong,
one that raises, one that loops forever -- each get a row saying what happened, in
grades.csv and report.html; the grader's prior is the notebook's."""

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from hierlib import grade

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("grading")
    written = grade.write_examples(tmp / "submissions", trim=True)
    assert sorted(p.name for p in written) == [
        "correct.ipynb", "loops.ipynb", "raises.ipynb", "wrong.ipynb",
    ]  # fmt: skip
    # a short limit per cell (the slowest other cell, the imports, takes a few seconds; 15 s
    # was once too short for one under the load of a full test run), so that the looping
    # submission is stopped soon; two submissions at a time
    cmd = [sys.executable, "-m", "hierlib.grade", str(tmp / "submissions"), "--out",
           str(tmp / "grades"), "--cell-timeout", "25", "--timeout", "400",
           "--jobs", "2"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1200, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    with open(tmp / "grades" / "grades.csv", encoding="utf-8") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert list(rows) == ["correct", "loops", "raises", "wrong"]  # in file-name order
    return rows, (tmp / "grades" / "report.html").read_text(), done.stdout


def test_one_row_per_student_with_every_check(graded):
    rows, report, printed = graded
    assert set(rows) == {"correct", "wrong", "raises", "loops"}
    assert list(next(iter(rows.values()))) == grade.COLUMNS
    assert "wrote" in printed and report.count("<tr>") == 5
    for name in rows:
        assert f"<td>{name}</td>" in report


def test_the_correct_submission_passes_everything(graded):
    row = graded[0]["correct"]
    assert row["notebook"] == "ran" and row["passed"] == "5", row
    assert all(row[c] == "passed" for c in grade.CHECKS)


def test_the_wrong_submission_fails_tau2_and_the_sampler(graded):
    row = graded[0]["wrong"]
    assert row["notebook"] == "ran"
    assert row["tau2"] == "wrong" and "10% too large" in row["tau2_message"]
    assert row["sampler"] == "wrong" and "τ is too high" in row["sampler_message"]
    assert [row[c] for c in ("theta", "sigma2", "mu")] == ["passed"] * 3


def test_the_raising_submission_says_which_cell_and_why(graded):
    row = graded[0]["raises"]
    assert row["notebook"] == "ran with errors"
    assert re.search(r"cell \d+ raised NameError: name 'undefined_helper'", row["notebook_message"])
    assert all(row[c] == "not written" for c in grade.CHECKS[:4])
    assert row["sampler"] == "error" and "NameError" in row["sampler_message"]


def test_the_looping_submission_is_stopped_and_still_graded(graded):
    row = graded[0]["loops"]
    assert row["notebook"] == "timed out" and "while True" in row["notebook_message"]
    assert float(row["seconds"]) < 120
    assert all(row[c] == "passed" for c in grade.CHECKS[:4])  # defined before the loop
    assert row["sampler"] == "not written"  # defined after it


def test_the_grader_uses_the_notebooks_prior():
    source = (REPO / "notebooks" / "05_gibbs.py").read_text()
    line = next(ln for ln in source.splitlines() if ln.startswith("PRIOR = "))
    assert eval(line.split("=", 1)[1], {"priors": __import__("hierlib.priors").priors}) == (
        grade.EXERCISE_PRIOR
    )


def test_an_empty_folder_and_an_unreadable_notebook(tmp_path):
    assert grade.main([str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    (tmp_path / "one.ipynb").write_text("{}")
    assert grade.main([str(tmp_path), "--out", str(tmp_path / "out"), "--jobs", "0"]) == 2
    (tmp_path / "one.ipynb").unlink()
    (tmp_path / "broken.ipynb").write_text("{ not json")
    row = grade.grade_one(tmp_path / "broken.ipynb")
    assert row["notebook"] == "failed to run" and "unreadable" in row["notebook_message"]
