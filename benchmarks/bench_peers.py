"""hierlib's Gibbs sampler against NUTS (PyMC model, nutpie sampler) and the textbook loop.

Run with ``make bench-peers``: it builds its own venv (``build/peers-venv``: the course's
pins plus PyMC and nutpie from PyPI, neither of which the course depends on) and runs::

    build/peers-venv/bin/python benchmarks/bench_peers.py   # --quick for a smoke run

One run prints, side by side, bulk ESS per second (ArviZ) of mu, tau and sigma on HSB
(m = 160 schools, 7185 students) under the lecture's default prior
p(mu, sigma^2, tau^2) ∝ 1/sigma^2, for:

1. ``hierlib.gibbs.hierarchical_normal`` (centered and interweaved; 4 chains, on 2 cores);
2. NUTS (nutpie, 4 chains on 2 cores) on the model as users write it: one likelihood term
   per student, ``y_ij ~ N(theta_j, sigma)``;
3. NUTS on the same model with the sufficient-statistic likelihood: ``ybar_j ~ N(theta_j,
   sigma/sqrt(n_j))`` plus the within-school term ``-(n - m) log sigma - SS/(2 sigma^2)``;
4. the textbook numpy loop (``textbook.py``; 4 chains one after the other, one core).

Seconds are wall clock of the sampling call, warm-up/tuning included and compilation excluded
(nutpie compiles the model with numba first; hierlib's sweeps are compiled and cached by
``make setup``). Each sampler runs once: ESS per second is a rate, and the differences are
one to three orders of magnitude. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import arviz as az
import numpy as np
import pandas as pd
import textbook
from machine import cpu_model

from hierlib import gibbs
from hierlib.data import group_stats, hsb_arrays

SEED = 630
NAMES = ["mu", "tau", "sigma"]


def ess(posterior: dict[str, np.ndarray]) -> dict[str, float]:
    """Bulk ESS of each (chains, draws) array."""
    idata = az.from_dict(posterior=posterior)
    table = az.ess(idata, var_names=NAMES, method="bulk")
    return {k: float(table[k]) for k in NAMES}


def row(label: str, seconds: float, n_draws: int, posterior, means) -> dict:
    e = ess(posterior)
    return {
        "sampler": label,
        "draws": n_draws,
        "seconds": seconds,
        **{f"ESS/s {k}": e[k] / seconds for k in NAMES},
        **{f"mean {k}": float(np.mean(posterior[k])) for k in means},
    }


# ------------------------------------------------------------------------------------ hierlib
def hierlib_rows(y, g, draws: int) -> list[dict]:
    rows = []
    for param in ("centered", "interweaved"):
        gibbs.hierarchical_normal(y, g, parameterization=param, n_draws=10, n_warmup=0)  # cache
        post = gibbs.hierarchical_normal(
            y, g, parameterization=param, n_draws=draws, n_warmup=1000, n_chains=4,
            seed=SEED, keep_theta=[], cores=2, progress=False,
        )  # fmt: skip
        d = post.draws
        p = {"mu": d["mu"], "tau": np.sqrt(d["tau2"]), "sigma": np.sqrt(d["sigma2"])}
        rows.append(row(f"hierlib Gibbs, {param} (2 cores)", post.elapsed, draws, p, NAMES))
    return rows


# ------------------------------------------------------------------------------- textbook
def textbook_row(stats, draws: int) -> dict:
    t0 = time.perf_counter()
    runs = [
        textbook.normal_gibbs(stats, 1000 + draws, np.random.default_rng(SEED + c))[1000:]
        for c in range(4)
    ]
    seconds = time.perf_counter() - t0
    d = np.stack(runs)  # (chains, draws, [mu, sigma2, tau2])
    p = {"mu": d[..., 0], "tau": np.sqrt(d[..., 2]), "sigma": np.sqrt(d[..., 1])}
    return row("textbook numpy loop (1 core)", seconds, draws, p, NAMES)


# ------------------------------------------------------------------------------------ NUTS
def pymc_model(y, g, sufficient: bool):
    """The lecture's model and default prior in PyMC: flat mu; p(tau^2) ∝ 1, i.e.
    p(log tau) ∝ tau^2; p(sigma^2) ∝ 1/sigma^2, i.e. p(log sigma) ∝ 1."""
    import pymc as pm

    stats = group_stats(y, g)
    idx = np.searchsorted(stats.labels, g)
    with pm.Model() as model:
        mu = pm.Flat("mu")
        log_tau = pm.Flat("log_tau")
        log_sigma = pm.Flat("log_sigma")
        tau = pm.Deterministic("tau", pm.math.exp(log_tau))
        sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma))
        pm.Potential("prior_tau", 2.0 * log_tau)  # Jacobian of tau^2 -> log tau
        theta = pm.Normal("theta", mu, tau, shape=stats.m)
        if sufficient:
            n = stats.n.astype(float)
            pm.Normal("ybar", theta, sigma / np.sqrt(n), observed=stats.ybar)
            within = -(stats.n_total - stats.m) * log_sigma - stats.ss.sum() / (2 * sigma**2)
            pm.Potential("within", within)
        else:
            pm.Normal("y", theta[idx], sigma, observed=y)
    return model


def nuts_row(y, g, sufficient: bool, draws: int) -> dict:
    import nutpie

    compiled = nutpie.compile_pymc_model(pymc_model(y, g, sufficient))
    nutpie.sample(compiled, draws=20, tune=20, chains=1, seed=1, progress_bar=False)  # warm
    t0 = time.perf_counter()
    idata = nutpie.sample(
        compiled, draws=draws, tune=1000, chains=4, cores=2, seed=SEED, progress_bar=False
    )
    seconds = time.perf_counter() - t0
    post = {k: idata.posterior[k].values for k in NAMES}
    label = "sufficient-statistic" if sufficient else "full-data (one term per student)"
    return row(f"NUTS (nutpie), {label} likelihood (2 cores)", seconds, draws, post, NAMES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer draws (smoke run)")
    args = parser.parse_args()
    gibbs_draws = 2000 if args.quick else 5000
    nuts_draws = 500 if args.quick else 1000
    import nutpie
    import pymc

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}; "
        f"numpy {np.__version__}, PyMC {pymc.__version__}, nutpie {nutpie.__version__}; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    y, g = hsb_arrays()
    stats = group_stats(y, g)
    print(f"data: HSB, m = {stats.m} schools, n = {stats.n_total} students; the default prior")
    print("4 chains each; Gibbs 1000 warm-up sweeps, NUTS 1000 tuning steps; wall seconds\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # ArviZ's once-a-day refactor notice
        rows = hierlib_rows(y, g, gibbs_draws)
        rows.append(nuts_row(y, g, sufficient=False, draws=nuts_draws))
        rows.append(nuts_row(y, g, sufficient=True, draws=nuts_draws))
        rows.append(textbook_row(stats, gibbs_draws))
    table = pd.DataFrame(rows).set_index("sampler")
    pd.set_option("display.width", 200)
    print(table.to_string(float_format=lambda v: f"{v:,.3f}" if abs(v) < 100 else f"{v:,.0f}"))
    best = table.loc[table.index[0]]
    print("\nhierlib (centered) ESS/s over each, per quantity:")
    for label in table.index[1:]:
        r = {k: best[f"ESS/s {k}"] / table.loc[label, f"ESS/s {k}"] for k in NAMES}
        ratios = ", ".join(f"{k} {v:,.1f}x" if v < 10 else f"{k} {v:,.0f}x" for k, v in r.items())
        print(f"  {label}: {ratios}")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
