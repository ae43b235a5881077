"""What a user waits on: parallel chains, a REML fit, and the notebooks' import cells.

Run from the repository root::

    make bench                                  # runs this after bench_gibbs.py, or
    .venv/bin/python benchmarks/bench_user.py   # --quick for a smoke run

Prints, side by side in one run:

1. **Chains in parallel**: wall time of 4 chains run one after the other (``cores=1``) and on
   2 threads (``cores=2``; the numba sweeps release the GIL), best of a few repeats, and
   their ratio; for both samplers on HSB and for a centered sampler on 10,000 simulated groups.
   Also the CPU seconds of all threads per run (mean): the same for both means the threads
   cost nothing extra, so that with a free second core the wall time halves. The draws of
   both runs are compared (they are bit-identical).
2. **REML**: ``reml.fit_random_intercept`` (``MixedLM`` started at the closed-form profile
   optimum) against a default ``MixedLM.fit(reml=True)`` on HSB, best of a few repeats, and
   the largest relative difference of the estimates.
3. **Import cells**: each notebook's import cell run in a fresh interpreter (files in the OS
   cache, numba's compiled sweeps on disk), best of 3, minus the bare interpreter start: wall
   and CPU seconds (an import is one thread, so on an idle machine wall = CPU; under load the
   CPU figure is the one to compare).

Wall-clock times (what a user feels), so other jobs on the machine inflate them: the load
average is printed with the figures. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import ast
import os
import platform
import resource
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from machine import cpu_model

from hierlib import gibbs, reml
from hierlib.data import group_stats, load_hsb
from hierlib.marginal import simulate_two_level

SEED = 630
REPO = Path(__file__).resolve().parents[1]


def best_wall(f: Callable[[], object], repeats: int) -> tuple[float, object]:
    """Best-of-``repeats`` wall-clock seconds of ``f()``, and its last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t0)
    return best, out


# ------------------------------------------------------------------------ 1. parallel chains
def parallel_chains(quick: bool, repeats: int) -> pd.DataFrame:
    hsb = load_hsb()
    y, g = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
    rng = np.random.default_rng(SEED)
    y10k, g10k = simulate_two_level(rng, np.full(10_000, 10), 12.6, 8.6, 39.1)
    draws = 2_000 if quick else 5_000
    cases = [
        ("centered, HSB (m = 160)", gibbs.hierarchical_normal, y, g, draws, {}),
        ("interweaved, HSB", gibbs.hierarchical_normal, y, g, draws,
         {"parameterization": "interweaved"}),
        ("unequal variances, HSB", gibbs.unequal_variances, y, g, draws, {}),
        ("centered, m = 10,000", gibbs.hierarchical_normal, y10k, g10k, draws // 10,
         {"keep_theta": []}),
    ]  # fmt: skip
    rows = []
    for label, fn, yy, gg, n_draws, kw in cases:
        stats = group_stats(yy, gg)

        def run(cores: int, fn=fn, stats=stats, n_draws=n_draws, kw=kw):
            return fn(stats=stats, n_chains=4, n_draws=n_draws, n_warmup=1000, seed=SEED,
                      cores=cores, progress=False, **kw)  # fmt: skip

        run(1)  # compile or load from numba's cache
        cpu0 = time.process_time()
        seq, a = best_wall(lambda run=run: run(1), repeats)
        cpu1 = time.process_time()
        par, b = best_wall(lambda run=run: run(2), repeats)
        cpu2 = time.process_time()
        same = all(np.array_equal(a.draws[k], b.draws[k]) for k in a.draws)
        rows.append(
            {
                "4 chains": label,
                "sweeps/chain": 1000 + n_draws,
                "cores=1 s": seq,
                "cores=2 s": par,
                "ratio": par / seq,
                # CPU of all threads, per run: equal CPU means threading costs nothing extra,
                # and with a free second core cores=2 would take about half of it
                "cores=1 CPU s": (cpu1 - cpu0) / repeats,
                "cores=2 CPU s": (cpu2 - cpu1) / repeats,
                "same draws": same,
            }
        )
    return pd.DataFrame(rows).set_index("4 chains")


# ------------------------------------------------------------------------------------ 2. REML
def reml_speed(repeats: int) -> pd.DataFrame:
    import statsmodels.api as sm

    hsb = load_hsb()
    y, g = hsb["mathach"], hsb["school"]
    exog = pd.DataFrame({"Intercept": np.ones(len(y))})

    def default():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sm.MixedLM(y, exog, groups=g).fit(reml=True)

    started = lambda: reml.fit_random_intercept(y, g)  # noqa: E731
    default()
    started()  # first calls: imports and caches
    t_default, ref = best_wall(default, repeats)
    t_started, fit = best_wall(started, repeats)
    t_profile, _ = best_wall(lambda: reml.maximize_profile(group_stats(y, g)), repeats)
    full = sm.MixedLM(y, exog, groups=g).fit(reml=True, gtol=1e-10)

    def rel(a: float, b: float) -> float:
        return abs(a - b) / abs(b)

    ests = {
        "mu": (fit.mu_hat, float(np.asarray(ref.fe_params)[0]), np.asarray(full.fe_params)[0]),
        "tau2": (fit.tau2, float(np.asarray(ref.cov_re)[0, 0]), np.asarray(full.cov_re)[0, 0]),
        "sigma2": (fit.sigma2, float(ref.scale), float(full.scale)),
    }
    print(
        "   max relative difference of the estimates (mu, tau2, sigma2) from a default fit: "
        f"{max(rel(a, b) for a, b, _ in ests.values()):.1e}; from a default fit run to full "
        f"convergence (gtol=1e-10): {max(rel(a, c) for a, _, c in ests.values()):.1e}"
    )
    print(f"   log-likelihood: started {fit.loglik:.9f}, default {float(ref.llf):.9f}")
    return pd.DataFrame(
        {
            "ms": {
                "MixedLM.fit(reml=True), default start": t_default * 1e3,
                "fit_random_intercept (started at the profile optimum)": t_started * 1e3,
                "  of which maximize_profile": t_profile * 1e3,
            },
            "vs default": {
                "MixedLM.fit(reml=True), default start": 1.0,
                "fit_random_intercept (started at the profile optimum)": t_started / t_default,
                "  of which maximize_profile": t_profile / t_default,
            },
        }
    )


# ---------------------------------------------------------------------------- 3. import cells
def import_cell(py: Path) -> str:
    """The first code cell of a notebook source that imports hierlib."""
    cells = py.read_text().split("\n# %%")
    for cell in cells:
        body = cell.split("\n", 1)[1] if "\n" in cell else ""
        if not cell.startswith(" [markdown]") and "hierlib" in body and "import" in body:
            ast.parse(body)
            return body
    raise ValueError(f"{py.name}: no import cell")


def fresh_python(code: str, repeats: int) -> tuple[float, float]:
    """Best-of-``repeats`` wall and CPU (user + system) seconds of ``python -c code``."""
    env = dict(os.environ, MPLBACKEND="Agg")
    best_wall, best_cpu = np.inf, np.inf
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=REPO / "notebooks")
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
    return best_wall, best_cpu


def import_cells(repeats: int) -> pd.DataFrame:
    bare_wall, bare_cpu = fresh_python("pass", repeats)
    rows = {}
    for py in sorted((REPO / "notebooks").glob("[0-9][0-9]_*.py")):
        wall, cpu = fresh_python(import_cell(py), repeats)
        rows[py.stem] = {"wall s": wall - bare_wall, "CPU s": cpu - bare_cpu}
    print(f"   (bare interpreter start: {bare_wall:.2f} s wall, {bare_cpu:.2f} s CPU, subtracted)")
    return pd.DataFrame(rows).T


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    args = parser.parse_args()
    repeats = 2 if args.quick else 5
    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", lambda v: f"{v:,.3f}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores ({gibbs.available_cores()} usable); "
        f"python {platform.python_version()}; load average {os.getloadavg()[0]:.1f} at start"
    )
    print("\n1. Four chains: one after the other (cores=1) vs on two threads (cores=2), wall s")
    print(parallel_chains(args.quick, repeats).to_string())
    print("\n2. REML on HSB, wall ms (best of repeats)")
    print(reml_speed(repeats).to_string())
    print("\n3. Each notebook's import cell in a fresh interpreter, seconds (best of 3)")
    print(import_cells(3).to_string())
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
