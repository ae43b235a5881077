"""Execute every course notebook in lecture order, keeping each .py/.ipynb pair in sync.

For each ``notebooks/NN_topic.py`` (the reviewed source):

1. jupytext updates ``NN_topic.ipynb`` from the ``.py``, keeping the existing outputs;
2. the notebook is executed in place (kernel ``python3``, working directory ``notebooks/``),
   without per-cell timing metadata, so a rerun only changes what the code changes;
3. jupytext syncs the pair back (the ``.py`` is rewritten from the executed notebook).

Cells tagged ``timing`` (seconds, ESS per second: different on every run) are executed and
shown to whoever runs the notebook, but saved without their output, so that a rerun leaves the
committed notebook unchanged (CONTRIBUTING.md).

Usage: ``python tools/run_notebooks.py [--jobs N] [NN_topic.py ...]`` (default: every
notebook, two at a time). The notebooks are independent (none reads what another writes), so
``--jobs`` of them execute at once, each in its own process and kernel; the report is printed
in lecture order whatever the order they finish in, and every output is the same as from a
run one at a time (``--jobs 1``). Exit status 1 if a notebook raised; the failing notebooks
are listed at the end. Cells that wrote to stderr are reported too (nbval compares stderr,
and CONTRIBUTING forbids it).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert.preprocessors.coalescestreams import CoalesceStreamsPreprocessor
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TIMEOUT_S = 600
"""Per-cell timeout: far above the 20 s a whole notebook may take, low enough to stop a hang."""
BUDGET_S = 20.0
"""CONTRIBUTING: each notebook executes in under 20 s (a slower one is reported)."""
JOBS = 2
"""Notebooks executed at once by default (the course machine has two cores)."""

UNSAVED_OUTPUT_TAG = "timing"
"""Cells whose output varies from run to run: executed, saved without output."""


def drop_unsaved_outputs(nb: nbformat.NotebookNode) -> int:
    """Clear the outputs of the cells tagged ``timing`` in place; return how many."""
    cleared = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and UNSAVED_OUTPUT_TAG in cell.metadata.get("tags", []):
            cell.outputs = []  # the execution count stays: it is the same on every run
            cleared += 1
    return cleared


def lecture_order(folder: Path = NOTEBOOKS) -> list[Path]:
    """The notebook sources ``NN_topic.py`` of ``folder``, in lecture (file name) order."""
    return sorted(folder.glob("[0-9][0-9]_*.py"))


def update_ipynb(py: Path) -> Path:
    """Write ``py``'s cells into its paired ``.ipynb``, keeping the outputs already there."""
    ipynb = py.with_suffix(".ipynb")
    nb = jupytext.read(py)
    if ipynb.exists():
        old = nbformat.read(ipynb, as_version=4)
        nb = jupytext.combine.combine_inputs_with_outputs(nb, old, fmt="py:percent")
    jupytext.write(nb, ipynb)
    return ipynb


def execute(ipynb: Path) -> list[str]:
    """Execute ``ipynb`` in place; return the sources (first lines) of cells that wrote to stderr.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        If a cell raised (the notebook is still written, with the traceback in its output).
    """
    nb = nbformat.read(ipynb, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run: pure diff noise
    with tempfile.TemporaryDirectory() as sockets:
        # a local-socket kernel: no TCP ports, and no "running over TCP" warning on stderr
        # (configured, not passed as km=, so that the client also shuts the kernel down)
        ipc = Config({"KernelManager": {"transport": "ipc", "ip": str(Path(sockets) / "k")}})
        client = NotebookClient(
            nb,
            config=ipc,
            kernel_name="python3",
            timeout=TIMEOUT_S,
            record_timing=False,
            resources={"metadata": {"path": str(ipynb.parent)}},
        )
        try:
            client.execute()
        finally:
            # one stream output per print run, however the kernel happened to flush it
            CoalesceStreamsPreprocessor().preprocess(nb, {})
            drop_unsaved_outputs(nb)
            nbformat.write(nb, ipynb)
    return [
        cell.source.splitlines()[0] if cell.source else "(empty cell)"
        for cell in nb.cells
        if cell.cell_type == "code"
        and any(o.get("name") == "stderr" for o in cell.get("outputs", []))
    ]


def sync_back(ipynb: Path) -> None:
    """Rewrite the paired ``.py`` from the executed notebook (same cells, same metadata)."""
    nb = jupytext.read(ipynb)
    jupytext.write(nb, ipynb.with_suffix(".py"), fmt="py:percent")


def run_one(py: Path) -> tuple[bool, float, list[str]]:
    """Update, execute and sync one notebook: ``(succeeded, seconds, stderr cells)``."""
    start = time.perf_counter()
    ipynb = update_ipynb(py)
    try:
        noisy = execute(ipynb)
        ok = True
    except CellExecutionError as err:
        print(f"  FAILED: {str(err).strip().splitlines()[-1]}", file=sys.stderr)
        noisy, ok = [], False
    sync_back(ipynb)
    return ok, time.perf_counter() - start, noisy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="NN_topic.py files (default: all)")
    parser.add_argument(
        "--jobs", type=int, default=JOBS, help=f"notebooks executed at once (default {JOBS})"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1; got {args.jobs}")
    sources = [p.resolve() for p in args.notebooks] or lecture_order()
    failed = []
    start = time.perf_counter()
    print(f"executing {len(sources)} notebook(s), {args.jobs} at a time ...", flush=True)
    with ProcessPoolExecutor(max_workers=min(args.jobs, len(sources))) as pool:
        results = [pool.submit(run_one, py) for py in sources]  # started in lecture order
        for py, result in zip(sources, results, strict=True):  # reported in lecture order
            shown = py.relative_to(REPO) if py.is_relative_to(REPO) else py
            ok, seconds, noisy = result.result()
            print(f"{shown}: {'ok' if ok else 'FAILED'} in {seconds:.1f} s", flush=True)
            if seconds > BUDGET_S:
                print(f"  warning: over the {BUDGET_S:.0f} s budget of a notebook", flush=True)
            for first_line in noisy:
                print(f"  warning: a cell wrote to stderr: {first_line}", flush=True)
            if not ok:
                failed.append(py.name)
    total = time.perf_counter() - start
    print(f"{len(sources)} notebook(s) in {total:.1f} s ({args.jobs} at a time)", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
