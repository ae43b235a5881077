"""Speed of the course's Gibbs samplers, printed side by side in one run.

Run from the repository root::

    make bench                                   # or
    .venv/bin/python benchmarks/bench_gibbs.py   # --quick for a smoke run

Prints, on the HSB data (m = 160 schools, 7185 students), for each model and
parameterisation:

1. microseconds per sweep per chain of the compiled sampler (``hierlib.gibbs``), next to the
   textbook numpy loop (``textbook.py``, one ``rng.normal``/``rng.gamma`` call with array
   arguments per full conditional) timed in the same process, and their ratio;
2. bulk ESS per second (ArviZ) of mu, tau, sigma for both, and their ratio;
3. how a sweep scales with the number of groups (m = 160, 10,000, 100,000) and that it does
   not grow with the number of students (10x more students per school, same cost);
4. a cost reference: drawing 160 standard normals (from Python, and inside numba).

Times are CPU seconds of the benchmarking thread (``time.thread_time``), best of a few
repeats, so that other processes sharing the cores do not inflate them; compilation is
excluded. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import timeit
from collections.abc import Callable

import numpy as np
import pandas as pd
import textbook
from machine import cpu_model
from numba import njit

from hierlib import diagnostics, gibbs
from hierlib.data import group_stats, load_hsb
from hierlib.marginal import simulate_two_level

SEED = 630


# --------------------------------------------------------------------------- compiled
MODELS: dict[str, tuple[Callable, dict]] = {
    "centered": (gibbs.hierarchical_normal, {"parameterization": "centered"}),
    "offset": (gibbs.hierarchical_normal, {"parameterization": "offset"}),
    "interweaved": (gibbs.hierarchical_normal, {"parameterization": "interweaved"}),
    "unequal variances": (gibbs.unequal_variances, {}),
}
# textbook baseline of each: the same model and updates (interweaving has no textbook
# version; its baseline is the lecture's centered loop)
BASELINE = {
    "centered": "centered",
    "offset": "offset",
    "interweaved": "centered",
    "unequal variances": "unequal variances",
}
ESS_VARS = {
    "centered": ["mu", "tau", "sigma"],
    "offset": ["mu", "tau", "sigma"],
    "interweaved": ["mu", "tau", "sigma"],
    "unequal variances": ["mu", "tau", "sigma0"],
}


def cpu_seconds(f: Callable[[], object]) -> tuple[float, object]:
    """CPU seconds of this thread spent in ``f()`` (robust when other processes share the
    cores, unlike wall time), and its result."""
    t0 = time.thread_time()
    out = f()
    return time.thread_time() - t0, out


def us_per_sweep(
    fn: Callable, y: np.ndarray, g: np.ndarray, n_sweeps: int, repeats: int, **kw
) -> float:
    """Best-of-``repeats`` CPU microseconds per sweep of one chain (no theta draws stored):
    a run of ``n_sweeps`` minus a run of 10 (the fixed set-up cost), over ``n_sweeps - 10``."""

    def run(k: int, seed: int):
        return fn(y, g, n_draws=k, n_warmup=0, n_chains=1, seed=seed, keep_theta=[], **kw)

    run(10, SEED)  # compile or load the kernels from numba's cache
    best = np.inf
    for r in range(repeats):
        long, _ = cpu_seconds(lambda r=r: run(n_sweeps, SEED + r))
        short, _ = cpu_seconds(lambda r=r: run(10, SEED + r))
        best = min(best, (long - short) / (n_sweeps - 10))
    return best * 1e6


WARMUP, CHAINS = 1000, 4


def compiled_ess_per_s(fn: Callable, y, g, names, n_draws: int, us_sweep: float, **kw) -> pd.Series:
    """Bulk ESS (ArviZ) of ``names`` from 4 chains of ``n_draws`` after 1000 warm-up, per
    second of sampling at ``us_sweep`` µs per sweep (the best-of-repeats cost of table 1, so
    that one run's timing noise does not enter)."""
    post = fn(
        y, g, n_draws=n_draws, n_warmup=WARMUP, n_chains=CHAINS, seed=SEED, keep_theta=[], **kw
    )
    seconds = CHAINS * (WARMUP + n_draws) * us_sweep * 1e-6
    return diagnostics.ess_per_second(post, names, elapsed=seconds)


# --------------------------------------------------------------------------- textbook
def textbook_run(name: str, stats, n_iter: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if name == "unequal variances":
        return textbook.unequal_gibbs(stats, n_iter, rng)
    return textbook.normal_gibbs(stats, n_iter, rng, offset=name == "offset")


def textbook_us_per_sweep(name: str, stats, n_sweeps: int, repeats: int) -> float:
    textbook_run(name, stats, 50, SEED)  # warm up (first calls, caches)
    best = min(
        cpu_seconds(lambda: textbook_run(name, stats, n_sweeps, SEED))[0] for _ in range(repeats)
    )
    return best / n_sweeps * 1e6


def textbook_ess_per_s(name: str, stats, names, n_draws: int, us_sweep: float) -> pd.Series:
    """Bulk ESS per second of the textbook loop, as :func:`compiled_ess_per_s`."""
    d = np.stack(
        [textbook_run(name, stats, WARMUP + n_draws, SEED + c)[WARMUP:] for c in range(CHAINS)]
    )  # (chains, draws, k)
    if name == "unequal variances":  # columns mu, tau2, sigma02, nu0
        post = {"mu": d[..., 0], "tau": np.sqrt(d[..., 1]), "sigma0": np.sqrt(d[..., 2])}
    else:  # columns mu, sigma2, tau2
        post = {"mu": d[..., 0], "tau": np.sqrt(d[..., 2]), "sigma": np.sqrt(d[..., 1])}
    seconds = CHAINS * (WARMUP + n_draws) * us_sweep * 1e-6
    return diagnostics.ess_per_second(post, names, elapsed=seconds)


# --------------------------------------------------------------------------- reference
@njit(cache=True)
def _normals_in_numba(rng, k, size):
    s = 0.0
    for _ in range(k):
        for _ in range(size):
            s += rng.standard_normal()
    return s


def reference_costs(repeats: int) -> pd.DataFrame:
    """Microseconds to draw 160 variates, from Python (one numpy call) and inside numba."""
    rng = np.random.default_rng(SEED)
    mean, sd, shape = np.zeros(160), np.ones(160), np.full(160, 2.0)
    k = 20_000
    _normals_in_numba(rng, 1, 160)  # compile

    def per_call(f: Callable[[], object], number: int) -> float:
        times = timeit.repeat(f, number=number, repeat=repeats, timer=time.thread_time)
        return min(times) / number * 1e6

    rows = {
        "rng.standard_normal(160)  (numpy call)": per_call(lambda: rng.standard_normal(160), k),
        "rng.normal(mean[160], sd[160])": per_call(lambda: rng.normal(mean, sd), k),
        "rng.gamma(shape[160], scale[160])": per_call(lambda: rng.gamma(shape, sd), k),
        "160 x rng.standard_normal() inside numba": per_call(
            lambda: _normals_in_numba(rng, 1000, 160), 20
        )
        / 1000,
    }
    return pd.DataFrame({"µs": rows})


# --------------------------------------------------------------------------- scaling
def simulated(m: int, n_per_group: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-level data shaped like HSB (mu 12.6, tau2 8.6, sigma2 39.1)."""
    rng = np.random.default_rng(seed)
    return simulate_two_level(rng, np.full(m, n_per_group), 12.6, 8.6, 39.1)


def scaling(quick: bool, repeats: int) -> pd.DataFrame:
    """µs per sweep (centered, compiled and textbook) against m and students per group."""
    cases = [(160, 45), (160, 450), (10_000, 10), (100_000, 10)]
    rows = []
    for m, n_j in cases:
        y, g = simulated(m, n_j, SEED)
        stats = group_stats(y, g)
        sweeps = max(200, (40_000 if not quick else 4_000) * 160 // m)
        compiled = us_per_sweep(gibbs.hierarchical_normal, y, g, sweeps, repeats)
        tb_sweeps = max(20, sweeps // 20)
        tb = textbook_us_per_sweep("centered", stats, tb_sweeps, repeats)
        rows.append(
            {
                "groups m": m,
                "students/group": n_j,
                "students n": m * n_j,
                "compiled µs/sweep": compiled,
                "compiled ns/group": compiled * 1e3 / m,
                "textbook µs/sweep": tb,
                "speed-up": tb / compiled,
            }
        )
    return pd.DataFrame(rows).set_index(["groups m", "students/group"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sweeps (smoke run)")
    args = parser.parse_args()
    quick = args.quick
    repeats = 2 if quick else 5
    n_sweeps = 5_000 if quick else 50_000
    n_draws = 2_000 if quick else 5_000

    pd.set_option("display.width", 160)
    pd.set_option("display.float_format", lambda v: f"{v:,.2f}")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}")

    hsb = load_hsb()
    y, g = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
    stats = group_stats(y, g)
    print(f"data: HSB, m = {stats.m} schools, n = {stats.n_total} students; lecture's priors")

    rows, ess_rows = [], []
    tb_cost: dict[str, float] = {}
    tb_ess: dict[str, pd.Series] = {}
    for name, (fn, kw) in MODELS.items():
        base = BASELINE[name]
        names = ESS_VARS[name]
        if base not in tb_cost:
            tb_cost[base] = textbook_us_per_sweep(base, stats, max(500, n_sweeps // 25), repeats)
            tb_ess[base] = textbook_ess_per_s(base, stats, names, n_draws, tb_cost[base])
        cost = us_per_sweep(fn, y, g, n_sweeps, repeats, **kw)
        ess = compiled_ess_per_s(fn, y, g, names, n_draws, cost, **kw)
        rows.append(
            {
                "sampler": name,
                "µs/sweep/chain": cost,
                "textbook baseline": base,
                "textbook µs/sweep": tb_cost[base],
                "speed-up": tb_cost[base] / cost,
            }
        )
        for var in names:
            ess_rows.append(
                {
                    "sampler": name,
                    "quantity": var,
                    "ESS/s": ess[var],
                    "textbook ESS/s": tb_ess[base][var],
                    "ratio": ess[var] / tb_ess[base][var],
                }
            )
    print("\n1. Cost of one Gibbs sweep on HSB (one chain, no theta draws stored)")
    print(pd.DataFrame(rows).set_index("sampler").to_string())
    print(
        f"\n2. Bulk ESS (ArviZ; 4 chains x {n_draws} draws after 1000 warm-up) per second of "
        "sampling at the cost per sweep of table 1"
    )
    ess_table = pd.DataFrame(ess_rows).set_index(["sampler", "quantity"])
    print(ess_table.to_string(float_format=lambda v: f"{v:,.0f}"))
    print("\n3. Scaling of a centered sweep with groups m and students per group")
    print(scaling(quick, repeats).to_string())
    print("\n4. Cost reference: 160 variates")
    print(reference_costs(repeats).to_string())


if __name__ == "__main__":
    main()
