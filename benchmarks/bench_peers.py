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

A second table does the same for the R&B model (``mathach ~ mses * cses + sector * cses``,
random ``~cses`` by school; ``rb_model.py``) under hierlib's default prior (flat beta,
p(sigma^2) ∝ 1/sigma^2, p(Sigma) ∝ 1 on the 2x2 covariance): bulk ESS per second of every
fixed effect and of Sigma's diagonal, for ``gibbs.mixed_model`` (collapsed, the default;
interweaved; blocked),
nutpie on the model as users write it and with sufficient statistics, and PyMC's own NUTS;
compilation seconds are printed in a column of their own. The PyMC model (:func:`rb_pymc_model`)
is the same posterior: see its docstring for the Jacobian of the Cholesky parameterisation.
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
import rb_model
import textbook
from machine import cpu_model

from hierlib import gibbs
from hierlib.data import MixedStats, group_stats, hsb_arrays, load_hsb_covariates, mixed_stats

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


# ------------------------------------------------------------------------ the R&B model
def _cholesky(log_diag, off, q: int):
    """The lower-triangular L with diagonal exp(log_diag) and ``off`` below it (row-major)."""
    import pytensor.tensor as pt

    rows, cols = np.tril_indices(q, -1)
    chol = pt.zeros((q, q))
    chol = pt.set_subtensor(chol[np.arange(q), np.arange(q)], pt.exp(log_diag))
    return pt.set_subtensor(chol[rows, cols], off)


def rb_pymc_model(d: rb_model.Design, stats: MixedStats | None = None):
    """The R&B model under hierlib's default prior in PyMC, non-centred.

    Unconstrained parameters: beta (flat), log sigma (flat: p(sigma^2) ∝ 1/sigma^2 is
    p(log sigma) ∝ 1), and Sigma = L L' through its Cholesky factor L, with a_k = log L_kk
    and the entries below the diagonal, all flat. p(Sigma) ∝ 1 on (Sigma_11, Sigma_21,
    Sigma_22) becomes, on these, the Jacobian |d vech(Sigma) / d vech(L)| * prod_k L_kk
    = 2^q prod_k L_kk^(q - k + 1) * prod_k L_kk  (k = 1..q; the map L -> L L' is lower
    triangular in vech order with diagonal 2 L_kk, repeated q - k + 1 times), i.e. the
    potential sum_k (q - k + 2) a_k: 3 a_1 + 2 a_2 for q = 2. Random effects b_j = L eta_j,
    eta_j ~ N(0, I): the non-centred form. (The centred ``MvNormal("b", 0, chol=L)`` took 15x
    longer per draw under nutpie and mixed worse: bulk ESS of Sigma_22 of 4 in 400 draws.)

    ``stats=None``: one likelihood term per student, ``y ~ N(x'beta + z'b_j, sigma)``;
    otherwise the same likelihood from the per-school cross-products,
    -n log sigma - (y'y - 2 theta_j'W_j'y + theta_j'W_j'W_j theta_j) / (2 sigma^2) summed
    over schools, theta_j = (beta, b_j), W_j = [X_j Z_j].
    """
    import pymc as pm
    import pytensor.tensor as pt

    m, q = int(d.school.max()) + 1, d.z.shape[1]
    coords = {"fe": d.fe_names, "re": d.re_names, "re_": d.re_names, "school": np.arange(m)}
    with pm.Model(coords=coords) as model:
        beta = pm.Flat("beta", dims="fe")
        log_sigma = pm.Flat("log_sigma")
        log_diag = pm.Flat("log_L_diag", dims="re")
        off = pm.Flat("L_below", shape=q * (q - 1) // 2)
        chol = _cholesky(log_diag, off, q)
        pm.Potential("jacobian", pt.sum((q + 1 - np.arange(q)) * log_diag))
        pm.Deterministic("cov_re", chol @ chol.T, dims=("re", "re_"))
        eta = pm.Normal("eta", 0.0, 1.0, dims=("school", "re"))
        b = eta @ chol.T
        if stats is None:
            mean = pt.dot(d.x, beta) + pt.sum(d.z * b[d.school], axis=1)
            pm.Normal("y", mean, pt.exp(log_sigma), observed=d.y)
        else:
            xtb = pt.tensordot(beta, stats.xtz, axes=[[0], [1]])  # (m, q): beta'X_j'Z_j
            quad = (
                stats.yty.sum()
                - 2 * pt.dot(beta, stats.xty.sum(axis=0))
                - 2 * pt.sum(b * stats.zty)
                + pt.dot(beta, pt.dot(stats.xtx.sum(axis=0), beta))
                + 2 * pt.sum(xtb * b)
                + pt.sum(b[:, :, None] * stats.ztz * b[:, None, :])
            )
            n = float(stats.n.sum())
            pm.Potential("y", -n * log_sigma - quad / (2 * pt.exp(2 * log_sigma)))
    return model


def rb_row(label: str, seconds: float, cpu: float, compile_s: float, draws: int, q: dict) -> dict:
    """One row of the R&B table: wall and CPU seconds of sampling, then bulk ESS per wall
    second, bulk ESS per CPU second (all threads of this process: robust to other jobs on
    the machine; NaN where the sampler runs in other processes), mean and sd of each."""
    e = rb_model.bulk_ess(q)
    return {
        "sampler": label,
        "draws": draws,
        "compile s": compile_s,
        "seconds": seconds,
        "CPU s": cpu,
        **{f"ESS/s {k}": e[k] / seconds for k in q},
        **{f"ESS/CPU s {k}": e[k] / cpu for k in q},
        **{f"mean {k}": float(np.mean(v)) for k, v in q.items()},
        **{f"sd {k}": float(np.std(v)) for k, v in q.items()},
    }


def rb_hierlib_rows(frame: pd.DataFrame, draws: int) -> list[dict]:
    rows = []
    for param in ("collapsed", "interweaved", "blocked"):
        run = dict(groups=rb_model.GROUPS, re_formula=rb_model.RE_FORMULA, keep_b=[])
        t0 = time.perf_counter()  # the first call loads the sweep from numba's cache
        gibbs.mixed_model(rb_model.FORMULA, frame, parameterization=param, n_draws=10,
                          n_warmup=0, n_chains=1, progress=False, **run)  # fmt: skip
        first = time.perf_counter() - t0
        c0 = time.process_time()
        post = gibbs.mixed_model(
            rb_model.FORMULA, frame, parameterization=param, n_draws=draws, n_warmup=1000,
            n_chains=4, seed=SEED, cores=2, progress=False, **run,
        )  # fmt: skip
        cpu = time.process_time() - c0
        q = rb_model.hierlib_quantities(post)
        rows.append(rb_row(f"hierlib Gibbs, {param} (2 cores)", post.elapsed, cpu, first, draws, q))
    return rows


def _nutpie_quantities(idata, d: rb_model.Design) -> dict[str, np.ndarray]:
    p = idata.posterior
    return rb_model.quantities(p["beta"].values, p["cov_re"].values, d.fe_names, d.re_names)


def rb_nuts_row(d: rb_model.Design, stats: MixedStats | None, draws: int) -> dict:
    import nutpie

    t0 = time.perf_counter()
    compiled = nutpie.compile_pymc_model(rb_pymc_model(d, stats))
    nutpie.sample(compiled, draws=20, tune=20, chains=1, seed=1, progress_bar=False)  # warm
    compile_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    idata = nutpie.sample(
        compiled, draws=draws, tune=1000, chains=4, cores=2, seed=SEED, progress_bar=False
    )
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    label = "sufficient-statistic" if stats is not None else "full-data"
    q = _nutpie_quantities(idata, d)
    return rb_row(f"NUTS (nutpie), {label}, non-centred (2 cores)", seconds, cpu, compile_s,
                  draws, q)  # fmt: skip


def rb_pymc_row(d: rb_model.Design, stats: MixedStats | None, draws: int) -> dict:
    """PyMC's own NUTS; ``compile s`` is pm.sample's wall time outside its sampling loop
    (compilation, initialisation, starting the processes, packing the trace)."""
    import pymc as pm

    t0 = time.perf_counter()
    with rb_pymc_model(d, stats):
        idata = pm.sample(
            draws=draws, tune=1000, chains=4, cores=2, random_seed=SEED, progressbar=False,
            compute_convergence_checks=False,
        )  # fmt: skip
    total = time.perf_counter() - t0
    seconds = float(idata.posterior.attrs["sampling_time"])
    label = "sufficient-statistic" if stats is not None else "full-data"
    q = _nutpie_quantities(idata, d)
    return rb_row(f"NUTS (PyMC), {label}, non-centred (2 cores)", seconds, np.nan,
                  total - seconds, draws, q)  # fmt: skip


def rb_table(gibbs_draws: int, nuts_draws: int, with_pymc: bool) -> pd.DataFrame:
    frame = load_hsb_covariates()
    d = rb_model.design(frame)
    stats = mixed_stats(rb_model.FORMULA, frame, rb_model.GROUPS, rb_model.RE_FORMULA)
    rows = rb_hierlib_rows(frame, gibbs_draws)
    rows.append(rb_nuts_row(d, None, nuts_draws))
    rows.append(rb_nuts_row(d, stats, nuts_draws))
    if with_pymc:
        rows.append(rb_pymc_row(d, stats, nuts_draws))
    return pd.DataFrame(rows).set_index("sampler")


def print_rb(table: pd.DataFrame, load: float) -> None:
    names = [c[len("ESS/s ") :] for c in table.columns if c.startswith("ESS/s ")]
    short = {"sector[T.Catholic]": "sector", "sector[T.Catholic]:cses": "sector:cses"}
    cols = ["draws", "compile s", "seconds", "CPU s"] + [f"ESS/s {k}" for k in names]
    shown = table[cols].rename(columns=lambda c: c.replace("ESS/s ", "").replace(
        "sector[T.Catholic]", "sector"))  # fmt: skip
    print(f"\nR&B model (load average {load:.1f} at its start): bulk ESS per second")
    print(shown.to_string(float_format=lambda v: f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"))
    per_cpu = table[[f"ESS/CPU s {k}" for k in names]].rename(
        columns=lambda c: c.replace("ESS/CPU s ", "").replace("sector[T.Catholic]", "sector")
    )
    print("\nbulk ESS per CPU second (all threads of the process; PyMC runs in others)")
    print(per_cpu.to_string(float_format=lambda v: f"{v:,.2f}" if abs(v) < 100 else f"{v:,.0f}"))
    print("\nposterior mean (sd) of each, per sampler:")
    for label in table.index:
        cells = [f"{short.get(k, k)} {table.loc[label, f'mean {k}']:.3f} "
                 f"({table.loc[label, f'sd {k}']:.3f})" for k in names]  # fmt: skip
        print(f"  {label}: " + ", ".join(cells))
    nuts = [i for i in table.index if i.startswith("NUTS (nutpie)")]
    for unit in ("ESS/s", "ESS/CPU s"):
        best_nuts = table.loc[nuts, [f"{unit} {k}" for k in names]].max()
        print(f"\nhierlib {unit} over the best nutpie row's, per quantity (target: >= 10x each):")
        for label in [i for i in table.index if i.startswith("hierlib")]:
            r = {k: table.loc[label, f"{unit} {k}"] / best_nuts[f"{unit} {k}"] for k in names}
            print(f"  {label}: " + ", ".join(f"{short.get(k, k)} {v:,.1f}x" for k, v in r.items())
                  + f"; smallest {min(r.values()):,.1f}x")  # fmt: skip


def rb_agreement(gibbs_draws: int, nuts_draws: int) -> None:
    """The PyMC model is hierlib's posterior: posterior means of a long blocked Gibbs run and
    of a long nutpie run (sufficient statistics), each with its Monte Carlo standard error
    (ArviZ ``mcse``), and their difference in units of the combined MCSE."""
    import arviz as az
    import nutpie

    frame = load_hsb_covariates()
    d = rb_model.design(frame)
    stats = mixed_stats(rb_model.FORMULA, frame, rb_model.GROUPS, rb_model.RE_FORMULA)
    post = gibbs.mixed_model(
        rb_model.FORMULA, frame, groups=rb_model.GROUPS, re_formula=rb_model.RE_FORMULA,
        parameterization="blocked", n_draws=gibbs_draws, n_warmup=1000, n_chains=4,
        seed=SEED + 1, keep_b=[], progress=False,
    )  # fmt: skip
    compiled = nutpie.compile_pymc_model(rb_pymc_model(d, stats))
    idata = nutpie.sample(compiled, draws=nuts_draws, tune=1000, chains=4, seed=SEED + 1,
                          progress_bar=False)  # fmt: skip
    runs = {"Gibbs": rb_model.hierlib_quantities(post), "nutpie": _nutpie_quantities(idata, d)}
    summary = {}
    for label, q in runs.items():
        i = az.from_dict(posterior=q)
        summary[label] = (az.mcse(i, method="mean"), az.ess(i, method="bulk"))
    print(f"\nagreement: {gibbs_draws} Gibbs (blocked) and {nuts_draws} nutpie draws x 4 chains")
    for k in runs["Gibbs"]:
        cells, means = [], []
        for label, q in runs.items():
            mean, mcse, e = (
                float(np.mean(q[k])),
                float(summary[label][0][k]),
                float(summary[label][1][k]),
            )
            means.append((mean, mcse))
            cells.append(f"{label} {mean:.4f} ± {mcse:.4f} (sd {np.std(q[k]):.4f}, ESS {e:,.0f})")
        z = (means[0][0] - means[1][0]) / np.hypot(means[0][1], means[1][1])
        print(f"  {k}: " + "; ".join(cells) + f"; z = {z:+.2f}")


def model1(gibbs_draws: int, nuts_draws: int) -> None:
    """The first table: model 1 (mu, tau, sigma) on HSB."""
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer draws (smoke run)")
    parser.add_argument("--only", choices=["model1", "rb"], help="one of the two tables")
    parser.add_argument("--no-pymc", action="store_true", help="R&B: skip PyMC's own NUTS")
    parser.add_argument(
        "--agreement", action="store_true", help="only: long runs, PyMC model = hierlib's?"
    )
    args = parser.parse_args()
    if args.agreement:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            rb_agreement(100_000 if not args.quick else 10_000, 5000 if not args.quick else 1000)
        return
    gibbs_draws = 2000 if args.quick else 5000
    nuts_draws = 500 if args.quick else 1000
    import nutpie
    import pymc

    print(
        f"machine: {cpu_model()}, {os.cpu_count()} cores; python {platform.python_version()}; "
        f"numpy {np.__version__}, PyMC {pymc.__version__}, nutpie {nutpie.__version__}; "
        f"load average {os.getloadavg()[0]:.1f} at start"
    )
    if args.only != "rb":
        model1(gibbs_draws, nuts_draws)
    if args.only != "model1":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            load = os.getloadavg()[0]
            print_rb(rb_table(gibbs_draws, nuts_draws, not args.no_pymc), load)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
