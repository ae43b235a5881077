"""How long the mixed models of notebook 11 take: reml.fit_mixed against a default MixedLM fit.

Run from the repository root::

    make bench                                    # runs this after bench_user.py, or
    .venv/bin/python benchmarks/bench_mixed.py    # --quick: one repeat, REML only

For each model of ``tests/reference/nlme_covariates.json`` (R's nlme reference numbers) and
each method, in one run: wall and CPU seconds of ``reml.fit_mixed`` (best of a few repeats,
from the formula to the certified results), the same for statsmodels' default
``MixedLM.from_formula(...).fit()``, and how far each ends below the best log-likelihood
(nlme's or hierlib's, whichever is higher): the default fit's shortfall next to its time.

CPU seconds are those of this process (``time.process_time``), which other jobs on the machine
inflate less than the wall clock; the load average is printed before and after. Not a test:
nothing here asserts a time (the issue's target is under 3 s per fit).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_model

from hierlib import data, reml

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "tests" / "reference" / "nlme_covariates.json"


def timed(f, repeats: int) -> tuple[float, float, object]:
    """Best-of-``repeats`` wall and CPU seconds of ``f()``, and its last result."""
    wall, cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        w0, c0 = time.perf_counter(), time.process_time()
        out = f()
        wall = min(wall, time.perf_counter() - w0)
        cpu = min(cpu, time.process_time() - c0)
    return wall, cpu, out


def default_fit(formula: str, frame: pd.DataFrame, re_formula: str, method: str):
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its convergence warnings are the point, not noise
        model = smf.mixedlm(formula, frame, groups="school", re_formula=re_formula)
        return model.fit(reml=method == "REML")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, REML only")
    args = parser.parse_args()
    repeats, methods = (1, ("REML",)) if args.quick else (3, ("REML", "ML"))
    models = json.loads(REFERENCE.read_text(encoding="utf-8"))["models"]
    frame = data.load_hsb_covariates()
    print(f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    reml.fit_mixed("mathach ~ ses", frame, "school")  # imports (statsmodels, patsy) once
    rows = []
    for key, spec in models.items():
        for method in methods:
            args_ = (spec["formula"], frame, "school", spec["re_formula"], method)
            wall, cpu, fit = timed(lambda a=args_: reml.fit_mixed(*a), repeats)
            d_wall, d_cpu, naive = timed(
                lambda s=spec, m=method: default_fit(s["formula"], frame, s["re_formula"], m),
                repeats,
            )
            best = max(models[key][method]["logLik"], float(fit.llf))
            rows.append({
                "model": key, "method": method,
                "fit_mixed wall s": wall, "fit_mixed CPU s": cpu,
                "default wall s": d_wall, "default CPU s": d_cpu,
                "fit_mixed below best": best - float(fit.llf),
                "default below best": best - float(naive.llf),
            })  # fmt: skip
    table = pd.DataFrame(rows).set_index(["model", "method"])
    with pd.option_context("display.width", 160, "display.max_columns", 10):
        print(table.to_string(float_format=lambda v: f"{v:.3g}"))
    print(f"slowest fit_mixed: {table['fit_mixed wall s'].max():.2f} s wall, "
          f"{table['fit_mixed CPU s'].max():.2f} s CPU")  # fmt: skip
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
