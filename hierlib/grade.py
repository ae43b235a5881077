"""Grading submitted notebooks of exercise 05 (the Gibbs updates and the sampler).

For instructors::

    python -m hierlib.grade SUBMISSIONS/ --out build/grades     # or: make grade SUBMISSIONS=dir/
    python -m hierlib.grade --examples build/grade-examples      # four example submissions

Each ``*.ipynb`` in ``SUBMISSIONS/`` is executed in a fresh Jupyter kernel (nbclient) in a
child process, cell by cell, with a time limit per cell (:data:`CELL_TIMEOUT`) and for the whole
notebook (:data:`NOTEBOOK_TIMEOUT`); a cell that raises is recorded and the rest still run, a
cell that runs past its limit is stopped and no later cell runs. Then,
in the same kernel, the course's checks run on what the notebook defined: the four updates
(``updates`` or ``draw_theta`` ... ``draw_tau2``) with :func:`hierlib.checks.check_update` under
:data:`EXERCISE_PRIOR`, and ``my_gibbs`` with :func:`hierlib.checks.check_sampler`. A notebook
that cannot be read, whose kernel dies or that runs past the hard limit gets a row saying why.

Written to ``--out``: ``grades.csv`` (one row per student: the notebook's status, and per check
its status and message) and ``report.html`` (the same as a table).

Why not otter-grader: its batch grader (``otter grade``) runs every submission in a Docker
container, which the course's machines do not have; ``otter run`` grades one submission
without a container but with no time limit; and otter-grader 7.0.0 requires ``wrapt<2``, which
conflicts with the course's locked ``wrapt==2.5.2`` (needed by statsmodels' formulaic). nbclient
is already installed with nbconvert, runs offline and gives the time limits.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from hierlib.priors import SemiConjugate

EXERCISE_PRIOR = SemiConjugate(mu0=10, g20=4, eta0=4, t20=9, nu0=10, s20=36)
"""The prior of notebook 05's exercise 2 (``PRIOR`` there); the grader uses its own copy."""
CELL_TIMEOUT = 120
"""Seconds one cell of a submission may run."""
NOTEBOOK_TIMEOUT = 600
"""Seconds a whole submission's cells may run."""
GRADING_TIMEOUT = 420
"""Seconds the checks may take in the submission's kernel (their own budgets add up to 360)."""
CHECKS = ("theta", "sigma2", "mu", "tau2", "sampler")
MARKER = "@@hierlib-grade@@"
GRADING_CELL = f"""\
import importlib as _il, json as _json
import hierlib._guard, hierlib.checks, hierlib.grade
for _m in (hierlib._guard, hierlib.checks, hierlib.grade):
    _il.reload(_m)
print({MARKER!r} + _json.dumps(hierlib.grade.grade_namespace(globals())))
"""


# --------------------------------------------------------------------------- inside the kernel
def grade_namespace(ns: dict, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Run the checks on the updates and the sampler a notebook defined (its globals)."""
    from hierlib import checks

    updates = ns.get("updates") if isinstance(ns.get("updates"), dict) else {}
    out = {}
    for name in CHECKS[:4]:
        fn = updates.get(name) or ns.get(f"draw_{name}")
        r = checks.check_update(name, fn, prior=EXERCISE_PRIOR, seed=seed)
        out[name] = {"status": r.status, "passed": r.passed, "message": r.message}
    r = checks.check_sampler(ns.get("my_gibbs"), prior=EXERCISE_PRIOR, seed=seed)
    out["sampler"] = {"status": r.status, "passed": r.passed, "message": r.message}
    return out


# --------------------------------------------------------------------------- one notebook
def _error_text(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"[:300]
    return None


def grade_one(path: Path, cell_timeout: int = CELL_TIMEOUT,
              notebook_timeout: int = NOTEBOOK_TIMEOUT) -> dict[str, Any]:  # fmt: skip
    """Execute one submission and run the checks in its kernel; a row of the CSV as a dict."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    row: dict[str, Any] = {"student": path.stem, "notebook": "ran", "notebook_message": ""}
    start = time.monotonic()
    deadline = start + notebook_timeout
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - any unreadable file is a row, not a crash
        return row | {"notebook": "failed to run", "notebook_message": f"unreadable: {err}"[:300]}
    timeout_error = {"ename": "CellTimeoutError", "evalue": "the cell ran past its time limit",
                     "traceback": []}  # fmt: skip
    with tempfile.TemporaryDirectory() as cwd:
        client = NotebookClient(
            nb, timeout=cell_timeout, kernel_name="python3", allow_errors=True,
            interrupt_on_timeout=True, error_on_timeout=timeout_error,
            resources={"metadata": {"path": cwd}},
        )  # fmt: skip
        try:
            with client.setup_kernel():
                for i, cell in enumerate(nb.cells):
                    if cell.cell_type != "code":
                        continue
                    left = deadline - time.monotonic()
                    if left <= 1:
                        row["notebook"] = "timed out"
                        row["notebook_message"] = (
                            f"the notebook ran past {notebook_timeout} s (stopped before cell "
                            f"{i + 1})"
                        )
                        break
                    client.timeout = int(min(cell_timeout, left))
                    began = time.monotonic()
                    client.execute_cell(cell, i)
                    error = _error_text(cell)
                    ran_out = time.monotonic() - began >= client.timeout - 0.5
                    if error and (ran_out or error.startswith("CellTimeoutError")):
                        first = cell.source.strip().splitlines()[:1]
                        row["notebook"] = "timed out"
                        row["notebook_message"] = (
                            f"cell {i + 1} ran past its limit of {client.timeout} s and was "
                            f"stopped: {first[0][:80] if first else ''}"
                        )
                        break
                    if error and row["notebook"] == "ran":
                        row["notebook"] = "ran with errors"
                        row["notebook_message"] = f"cell {i + 1} raised {error}"
                grading = nbformat.v4.new_code_cell(GRADING_CELL)
                nb.cells.append(grading)
                client.timeout = GRADING_TIMEOUT
                client.execute_cell(grading, len(nb.cells) - 1)
        except DeadKernelError:
            return row | {"notebook": "failed to run", "seconds": _since(start),
                          "notebook_message": "the kernel died (did the notebook call exit() "
                          "or run out of memory?)"}  # fmt: skip
        except Exception as err:  # noqa: BLE001 - a row saying why, never a crash
            return row | {"notebook": "failed to run", "seconds": _since(start),
                          "notebook_message": f"{type(err).__name__}: {err}"[:300]}  # fmt: skip
    row["seconds"] = _since(start)
    text = "".join(o.get("text", "") for o in grading.get("outputs", []))
    lines = [ln for ln in text.splitlines() if ln.startswith(MARKER)]
    if not lines:
        said = [row["notebook_message"]] if row["notebook_message"] else []
        said.append(f"the checks did not run: {_error_text(grading) or 'no result'}")
        return row | {"notebook_message": "; ".join(said)}
    for name, result in json.loads(lines[-1][len(MARKER) :]).items():
        row[name] = result["status"]
        row[f"{name}_message"] = result["message"]
    return row


def _since(start: float) -> float:
    return round(time.monotonic() - start, 1)


def _grade_in_child(path: Path, cell_timeout: int, notebook_timeout: int) -> dict[str, Any]:
    """:func:`grade_one` in a child process (its own session: the kernel goes with it), killed
    if it outlives the notebook's limit and the checks' (:data:`GRADING_TIMEOUT`) by a minute."""
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "row.json"
        cmd = [sys.executable, "-m", "hierlib.grade", "--one", str(path), "--row", str(result),
               "--cell-timeout", str(cell_timeout), "--timeout", str(notebook_timeout)]  # fmt: skip
        start = time.monotonic()
        proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)  # fmt: skip
        try:
            _, err = proc.communicate(timeout=notebook_timeout + GRADING_TIMEOUT + 60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"student": path.stem, "notebook": "timed out", "seconds": _since(start),
                    "notebook_message": f"killed after {_since(start):.0f} s"}  # fmt: skip
        if result.is_file():
            return json.loads(result.read_text())
        last = (err or "no result").strip().splitlines()[-1][:300]
        return {"student": path.stem, "notebook": "failed to run", "seconds": _since(start),
                "notebook_message": last}  # fmt: skip


# --------------------------------------------------------------------------- the folder
COLUMNS = ["student", "notebook", "notebook_message", "seconds", "passed",
           *CHECKS, *(f"{c}_message" for c in CHECKS)]  # fmt: skip


def grade_folder(folder: Path, out: Path, cell_timeout: int = CELL_TIMEOUT,
                 notebook_timeout: int = NOTEBOOK_TIMEOUT, jobs: int = 1,
                 ) -> list[dict[str, Any]]:  # fmt: skip
    """Grade every ``*.ipynb`` of ``folder``, ``jobs`` of them at once (each in its own child
    process and kernel); write ``grades.csv`` and ``report.html`` to ``out``; return the rows
    (in the order of the file names)."""
    from concurrent.futures import ThreadPoolExecutor

    paths = sorted(Path(folder).glob("*.ipynb"))
    if not paths:
        raise ValueError(f"no notebooks (*.ipynb) in {folder}")
    if not (isinstance(jobs, int) and jobs >= 1):
        raise ValueError(f"jobs must be a whole number >= 1; got {jobs!r}")
    rows = []
    with ThreadPoolExecutor(max_workers=jobs) as pool:  # threads only wait for the children
        graded = pool.map(lambda p: _grade_in_child(p, cell_timeout, notebook_timeout), paths)
        for path, row in zip(paths, graded, strict=True):
            row["passed"] = sum(row.get(c) == "passed" for c in CHECKS)
            for c in CHECKS:
                row.setdefault(c, "not run")
                row.setdefault(f"{c}_message", "")
            rows.append(row)
            print(f"{path.name}: {row['notebook']}, {row['passed']} of {len(CHECKS)} checks "
                  "passed", flush=True)  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "grades.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    (out / "report.html").write_text(report_html(rows), encoding="utf-8")
    return rows


def report_html(rows: list[dict[str, Any]]) -> str:
    """A short HTML table: one row per student, one cell per check (what is off written in it,
    the whole message on hover)."""
    colour = {"passed": "#d9f2d9", "wrong": "#f9d6d5", "error": "#f9e3c6",
              "not written": "#eeeeee", "not run": "#eeeeee"}  # fmt: skip
    head = "".join(f"<th>{c}</th>" for c in ("student", "notebook", "passed", *CHECKS))
    body = []
    for r in rows:
        cells = [f"<td>{html.escape(str(r['student']))}</td>",
                 f"<td title=\"{html.escape(str(r.get('notebook_message', '')))}\">"
                 f"{html.escape(str(r['notebook']))}<br><small>"
                 f"{html.escape(str(r.get('notebook_message', '')))}</small></td>",
                 f"<td>{r['passed']} / {len(CHECKS)}</td>"]  # fmt: skip
        for c in CHECKS:
            status, message = str(r.get(c, "not run")), str(r.get(f"{c}_message", ""))
            shown = "" if status == "passed" else message[:200]  # the rest on hover
            cells.append(
                f'<td style="background:{colour.get(status, "#ffffff")}" '
                f'title="{html.escape(message)}">{html.escape(status)}<br><small>'
                f"{html.escape(shown)}</small></td>"
            )
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Grades: notebook 05</title>
<style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #bbb;padding:4px 8px;vertical-align:top;max-width:22em}}
small{{color:#444}}</style></head><body>
<h1>Grades: notebook 05, the Gibbs updates and the sampler</h1>
<p>{len(rows)} submissions; checks under {html.escape(repr(EXERCISE_PRIOR))}.</p>
<table><tr>{head}</tr>
{chr(10).join(body)}
</table></body></html>
"""


# --------------------------------------------------------------------------- examples
def write_examples(folder: Path, source: Path | None = None, trim: bool = False) -> list[Path]:
    """Four submissions made from notebook 05 (with its solutions): ``correct``, ``wrong``
    (tau2 drawn 10% too large, so the sampler is wrong too), ``raises`` (the cell of the updates
    fails before defining them) and ``loops`` (a cell that never ends). ``trim`` keeps only the
    set-up cells and the exercises up to the sampler's check cell: what the grader grades, and
    faster to run."""
    import nbformat

    source = source or Path(__file__).resolve().parents[1] / "notebooks" / "05_gibbs.ipynb"
    if not source.is_file():
        raise ValueError(f"notebook 05 not found at {source}: pass source=")
    nb = nbformat.read(source, as_version=4)
    if trim:
        first = next(i for i, c in enumerate(nb.cells) if "## Exercises" in c.source)
        last = next(i for i, c in enumerate(nb.cells) if "checks.check_sampler(" in c.source)
        keep = [c for c in nb.cells[:first] if c.cell_type == "code" and any(
            key in c.source for key in ("import ", "SEED = ", "hsb_arrays()"))]  # fmt: skip
        nb.cells = keep + nb.cells[first : last + 1]
    updates = next(i for i, c in enumerate(nb.cells) if "def draw_tau2(" in c.source)
    checked = next(i for i, c in enumerate(nb.cells) if "checks.check_all(" in c.source)
    right = "return 1 / rng.gamma((prior.eta0 + len(theta)) / 2, 1 / rate)"
    if right not in nb.cells[updates].source:
        raise ValueError("notebook 05's draw_tau2 solution has changed: update write_examples")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    variants = {}
    wrong = nbformat.from_dict(nb)
    wrong.cells[updates].source = wrong.cells[updates].source.replace(right, right.replace(
        "return 1 /", "return 1.1 /"))  # fmt: skip
    variants["wrong"] = wrong
    raises = nbformat.from_dict(nb)
    raises.cells[updates].source = "undefined_helper()\n" + raises.cells[updates].source
    variants["raises"] = raises
    loops = nbformat.from_dict(nb)
    loops.cells.insert(checked + 1, nbformat.v4.new_code_cell("while True:\n    pass"))
    variants["loops"] = loops
    variants["correct"] = nb
    written = []
    for name, book in variants.items():
        for cell in book.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        target = folder / f"{name}.ipynb"
        nbformat.write(nbformat.from_dict(book), target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hierlib.grade", description=__doc__.split(
        "\n")[0])  # fmt: skip
    parser.add_argument("submissions", nargs="?", help="folder of submitted notebooks")
    parser.add_argument("--out", default="build/grades", help="where grades.csv and report.html go")
    parser.add_argument("--cell-timeout", type=int, default=CELL_TIMEOUT)
    parser.add_argument("--timeout", type=int, default=NOTEBOOK_TIMEOUT, help="per notebook")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once")
    parser.add_argument("--examples", metavar="DIR", help="write four example submissions")
    parser.add_argument("--trim", action="store_true", help="examples: set-up and exercises only")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--row", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:  # the child process of _grade_in_child
        row = grade_one(Path(args.one), args.cell_timeout, args.timeout)
        Path(args.row).write_text(json.dumps(row))
        return 0
    if args.examples:
        for path in write_examples(Path(args.examples), trim=args.trim):
            print(path)
        return 0
    if not args.submissions:
        parser.error("give a folder of submissions (or --examples DIR)")
    try:
        grade_folder(Path(args.submissions), Path(args.out), args.cell_timeout, args.timeout,
                     args.jobs)  # fmt: skip
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {Path(args.out) / 'grades.csv'} and {Path(args.out) / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
