"""PSIS-LOO of notebook 10's four fits: ArviZ's az.loo against hierlib's predictive.loo.

Run from the repository root::

    make bench                                  # runs this after bench_user.py, or
    .venv/bin/python benchmarks/bench_loo.py    # --quick for a smoke run

For each of notebook 10's fits of HSB (complete and no pooling, model 1, model 2; 4 chains x
1000 draws, as the notebook uses them), in one run, best of a few repeats:

- ``az.loo``: ``post.to_arviz(log_likelihood=True, draws=1000)`` then ``az.loo`` (what the
  notebook did before: PSIS as a Python loop over the 7185 students), with ArviZ's numba
  kernels on, as ArviZ comes (hierlib switches them off: :mod:`hierlib._arviz`);
- ``loo(idata)``: the same InferenceData through ``predictive.loo`` (PSIS with numpy over
  blocks of students);
- ``loo(post)``: ``predictive.loo(post, draws=1000)``, the log-likelihood computed a block of
  students at a time from the draws (what notebook 10 now does).

CPU seconds of the process (``os.times``: user + system, all threads; these calls run on one
thread, so on an idle machine wall = CPU), printed with the load average, and the largest
difference of the pointwise elpd_i and k-hat from az.loo's. Not a test: nothing here asserts
a time (``tests/test_psis.py`` holds the equality).
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from machine import cpu_model

from hierlib import exact, gibbs, predictive
from hierlib._arviz import az
from hierlib.data import hsb_arrays

SEED = 630


def cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def best_cpu(f: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best-of-``repeats`` CPU seconds of ``f()``, and its last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = cpu_seconds()
        out = f()
        best = min(best, cpu_seconds() - t0)
    return best, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one repeat, 250 draws per chain")
    args = parser.parse_args()
    repeats, draws = (1, 250) if args.quick else (3, 1000)
    y, groups = hsb_arrays()
    fits = {
        "complete pooling": exact.complete_pooling(y, groups, n_draws=draws, seed=SEED),
        "no pooling": exact.no_pooling(y, groups, n_draws=draws, seed=SEED),
        "model 1": gibbs.hierarchical_normal(y, groups, seed=SEED),
        "model 2": gibbs.unequal_variances(y, groups, seed=SEED),
    }
    predictive.loo(fits["model 1"], draws=10)  # the first call imports ArviZ and xarray
    rows = []
    for name, post in fits.items():

        def arviz(post=post, name=name):
            idata = post.to_arviz(log_likelihood=True, draws=draws)
            az.Numba.enable_numba()  # ArviZ as it comes (hierlib switches its numba off)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the Pareto-k note
                    return az.loo(idata, pointwise=True, reff=1.0 if "pooling" in name else None)
            finally:
                az.Numba.disable_numba()

        t_arviz, ref = best_cpu(arviz, repeats)
        t_idata, _ = best_cpu(
            lambda post=post: predictive.loo(post.to_arviz(log_likelihood=True, draws=draws)),
            repeats,
        )
        t_post, ours = best_cpu(lambda post=post: predictive.loo(post, draws=draws), repeats)
        rows.append(
            {
                "fit": name,
                "az.loo CPU s": t_arviz,
                "loo(idata) CPU s": t_idata,
                "loo(post) CPU s": t_post,
                "az.loo / loo(post)": t_arviz / t_post,
                "max |d elpd_i|": float(np.abs(ours["loo_i"] - ref["loo_i"]).max()),
                "max |d k|": float(np.abs(ours["pareto_k"] - ref["pareto_k"]).max()),
            }
        )
    table = pd.DataFrame(rows).set_index("fit")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}, ArviZ {az.__version__}; load average {load}")  # fmt: skip
    print(f"HSB, 7185 students, 4 chains x {draws} draws; best of {repeats}\n")
    with pd.option_context("display.float_format", "{:.3g}".format, "display.width", 120):
        print(table.to_string())
    total = table[["az.loo CPU s", "loo(idata) CPU s", "loo(post) CPU s"]].sum()
    print("\nall four fits: " + ", ".join(f"{k} {v:.2f}" for k, v in total.items()))


if __name__ == "__main__":
    main()
