"""How long the mixed models take: REML (notebook 11) and the Gibbs sampler (notebook 12).

Run from the repository root::

    make bench                                    # runs this after bench_user.py, or
    .venv/bin/python benchmarks/bench_mixed.py    # --quick: one repeat, REML only, fewer sweeps

For each model of ``tests/reference/nlme_covariates.json`` (R's nlme reference numbers) and
each method, in one run: wall and CPU seconds of ``reml.fit_mixed`` (best of a few repeats,
from the formula to the certified results), the same for statsmodels' default
``MixedLM.from_formula(...).fit()``, and how far each ends below the best log-likelihood
(nlme's or hierlib's, whichever is higher): the default fit's shortfall next to its time.

CPU seconds are those of this process (``time.process_time``), which other jobs on the machine
inflate less than the wall clock; the load average is printed before and after. Not a test:
nothing here asserts a time (the issue's target is under 3 s per fit).

The second part times ``gibbs.mixed_model`` on the R&B model (``rb_model.py``: ``mathach ~
mses * cses + sector * cses``, random ``~cses`` by school, the default prior), on HSB and on
a data set with 10x the students (the same 160 schools, each school's students ten times
over, outcomes simulated at the REML fit), for the three parameterisations ("collapsed", the
default: "interweaved" plus the Metropolis-Hastings update of Sigma with the b_j integrated
out; "interweaved"; "blocked"):

1. microseconds per sweep per chain: CPU seconds of this thread (``time.thread_time``) of a
   one-chain run of ``n`` sweeps minus one of 10 (the set-up: formula, cross-products),
   over ``n - 10``, best of a few repeats, no b_j kept;
2. bulk ESS (ArviZ) of every fixed effect and of Sigma's diagonal from 4 chains x 5000 draws
   after 1000 warm-up sweeps: per kept sweep, and per second of sampling at the cost of 1
   (4 x 6000 sweeps), as ``bench_gibbs.py`` reports them.

The issue's targets (not asserted): at most 100 µs per sweep per chain, the same cost with
10x the students; ESS/s against nutpie's in ``bench_peers.py``.
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
import rb_model
from machine import cpu_model

from hierlib import data, gibbs, reml

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


# ---------------------------------------------------------------------- gibbs.mixed_model
SEED = 630
PARAMETERIZATIONS = ("collapsed", "interweaved", "blocked")


def _run(frame: pd.DataFrame, parameterization: str, n_draws: int, **kw):
    return gibbs.mixed_model(
        rb_model.FORMULA, frame, groups=rb_model.GROUPS, re_formula=rb_model.RE_FORMULA,
        parameterization=parameterization, n_draws=n_draws, keep_b=[], progress=False, **kw,
    )  # fmt: skip


def us_per_sweep(frame: pd.DataFrame, parameterization: str, n_sweeps: int, repeats: int):
    """Best-of-``repeats`` CPU µs per sweep of one chain: (run of ``n_sweeps`` - run of 10)
    / (``n_sweeps`` - 10), so the set-up (formula, cross-products) cancels."""

    def cpu(k: int, seed: int) -> float:
        t0 = time.thread_time()
        _run(frame, parameterization, k, n_warmup=0, n_chains=1, seed=seed, cores=1)
        return time.thread_time() - t0

    cpu(10, SEED)  # compile or load the sweep from numba's cache
    best = min((cpu(n_sweeps, SEED + r) - cpu(10, SEED + r)) / (n_sweeps - 10)
               for r in range(repeats))  # fmt: skip
    return best * 1e6


def gibbs_table(quick: bool) -> pd.DataFrame:
    """µs per sweep, bulk ESS per sweep and per second: R&B model, HSB and 10x the students."""
    repeats, n_sweeps = (2, 2_000) if quick else (5, 20_000)
    warmup, n_draws, chains = 1000, 2000 if quick else 5000, 4
    hsb = data.load_hsb_covariates()
    frames = {"HSB": hsb, "10x students": rb_model.simulated_more_students(hsb, 10, SEED)}
    rows = []
    for label, frame in frames.items():
        for param in PARAMETERIZATIONS:
            cost = us_per_sweep(frame, param, n_sweeps, repeats)
            post = _run(frame, param, n_draws, n_warmup=warmup, n_chains=chains, seed=SEED)
            ess = rb_model.bulk_ess(rb_model.hierlib_quantities(post))
            seconds = chains * (warmup + n_draws) * cost * 1e-6
            for name, e in ess.items():
                rows.append({
                    "data": f"{label} (n = {len(frame)})", "sampler": param, "quantity": name,
                    "µs/sweep": cost, "ESS/sweep": e / (chains * n_draws), "ESS/s": e / seconds,
                    "acceptance": post.acceptance,
                    "collapsed acceptance": post.collapsed_acceptance,
                })  # fmt: skip
    return pd.DataFrame(rows).set_index(["data", "sampler", "quantity"])


def print_gibbs(table: pd.DataFrame) -> None:
    print("\ngibbs.mixed_model, R&B model, default prior: CPU µs per sweep per chain")
    first = table.groupby(level=["data", "sampler"], sort=False).first()
    print(first["µs/sweep"].unstack("sampler").to_string(float_format=lambda v: f"{v:.2f}"))
    print("acceptance rate of the interweaving step: " + ", ".join(
        f"{k[0]} {k[1]} {v:.3f}" for k, v in first["acceptance"].items() if k[1] != "blocked"
    ))  # fmt: skip
    print("acceptance rates of the collapsed step (independence, random walk): " + ", ".join(
        f"{k[0]} {v[0]:.3f}, {v[1]:.3f}" for k, v in first["collapsed acceptance"].items()
        if k[1] == "collapsed"
    ))  # fmt: skip
    print("\nbulk ESS per kept sweep and per second (4 chains x 6000 sweeps at that cost)")
    wide = table[["ESS/sweep", "ESS/s"]].unstack("sampler")
    wide = wide.reindex(table.index.droplevel("sampler").unique())
    print(wide.to_string(float_format=lambda v: f"{v:.3f}" if abs(v) < 10 else f"{v:,.0f}"))
    worst = table["ESS/s"].groupby(level=["data", "sampler"], sort=False).idxmin()
    for key, idx in worst.items():
        print(f"  slowest to mix, {key[0]}, {key[1]}: {idx[2]} "
              f"({table.loc[idx, 'ESS/s']:,.0f} ESS/s)")  # fmt: skip


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
    print(f"load average after the REML fits: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print_gibbs(gibbs_table(args.quick))
    print(f"load average after: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
