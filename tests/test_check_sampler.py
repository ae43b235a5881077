"""hierlib.checks.check_sampler: a correct sampler passes, the mistakes of the hands-on report
fail with their diagnosis in words, hostile samplers get a message; the exact marginals it tests
against agree with hierlib.exact and with a long run of the compiled sampler.

The false-alarm rate and power are measured by benchmarks/check_power.py (figures in the
docstring); tests/test_check_power.py checks the calibration of its p-values quickly."""

import time

import numpy as np
import pytest

from hierlib import checks, exact, gibbs, priors, textbook

PRIOR = priors.SemiConjugate(mu0=10.0, g20=4.0, eta0=4.0, t20=9.0, nu0=10.0, s20=36.0)


def make_sampler(
    prior=None,
    tau_shape=0.0,
    tau_scale=1.0,
    update_mu=True,
    columns=(0, 1, 2),
    sd=False,
    random_start=False,
    theta_uses_start=False,
):
    """The textbook sampler as a student writes it, with one of the report's mistakes."""
    mu0, p0, a_tau, b_tau, a_s, b_s = (prior or priors.Default()).hyper()[:6]

    def my_gibbs(stats, n_sweeps, rng):
        n, ybar, ss, m = stats.n, stats.ybar, stats.ss, stats.m
        mu, sigma2, tau2 = ybar.mean(), ss.sum() / (n.sum() - m), ybar.var()
        if random_start:
            mu = mu + rng.normal(0.0, 20.0)
        start = mu
        out = np.empty((n_sweeps, 3))
        for s in range(n_sweeps):
            prec = n / sigma2 + 1 / tau2
            centre = (n * ybar / sigma2 + (start if theta_uses_start else mu) / tau2) / prec
            theta = rng.normal(centre, 1 / np.sqrt(prec))
            big_s = np.sum(ss + n * (ybar - theta) ** 2)
            sigma2 = 1 / rng.gamma(a_s + n.sum() / 2, 1 / (b_s + big_s / 2))
            if update_mu:
                pm = m / tau2 + p0
                mu = rng.normal((theta.sum() / tau2 + p0 * mu0) / pm, 1 / np.sqrt(pm))
            q = np.sum((theta - mu) ** 2)
            tau2 = tau_scale / rng.gamma(a_tau + m / 2 + tau_shape, 1 / (b_tau + q / 2))
            row = (mu, np.sqrt(sigma2) if sd else sigma2, tau2)
            out[s] = [row[c] for c in columns]
        return out

    return my_gibbs


@pytest.mark.parametrize(
    "fn, prior",
    [
        (make_sampler(), None),
        (make_sampler(PRIOR), PRIOR),
        (textbook.gibbs_sampler, None),  # a dict of draws will do too
    ],
    ids=["default", "semi-conjugate", "textbook"],
)
def test_a_correct_sampler_passes(fn, prior):
    r = checks.check_sampler(fn, prior=prior, seed=0)
    assert r.passed, r.message
    assert r.status == "passed" and "15 tests" in r.message and "0.00)" not in r.message


def test_the_prior_must_match():
    r = checks.check_sampler(make_sampler(), prior=PRIOR, seed=0)  # default sampler, Hoff's prior
    assert not r.passed


@pytest.mark.parametrize(
    "fn, words",
    [
        (make_sampler(tau_shape=1.0), "τ is too low"),  # shape m/2: the reference prior
        (make_sampler(tau_scale=1.1), "τ is too high"),
        (make_sampler(update_mu=False), "mu never moves"),
        (make_sampler(sd=True), "column 2 holds sigma, the sd"),
        (make_sampler(columns=(1, 0, 2)), "your columns hold (sigma2, mu, tau2)"),
        (make_sampler(random_start=True, theta_uses_start=True), "do not forget their start"),
    ],
    ids=["tau2-shape", "tau2-scale", "mu-never-moves", "sigma-not-sigma2", "columns", "start"],
)
def test_the_mistakes_fail_with_their_diagnosis(fn, words):
    r = checks.check_sampler(fn, seed=0)
    assert not r.passed and r.status == "wrong"
    assert words in r.message, r.message


def test_a_sampler_is_checked_for_its_shape_and_values():
    bad = {
        "shape": lambda stats, n_sweeps, rng: np.ones((n_sweeps, 2)),
        "negative": lambda stats, n_sweeps, rng: np.column_stack(
            [rng.normal(size=n_sweeps), -np.ones(n_sweeps), np.ones(n_sweeps)]
        ),
        "nan": lambda stats, n_sweeps, rng: np.full((n_sweeps, 3), np.nan),
        "signature": lambda stats, rng: None,
        "global rng": lambda stats, n_sweeps, rng: np.abs(np.random.normal(size=(n_sweeps, 3))),  # noqa: NPY002
    }
    words = {
        "shape": "shape (n_sweeps, 3)",
        "negative": "column 2",
        "nan": "NaN",
        "signature": "fn(stats, n_sweeps, rng)",
        "global rng": "global generator",
    }
    for key, fn in bad.items():
        r = checks.check_sampler(fn, seed=0)
        assert not r.passed and r.status == "error" and words[key] in r.message, (key, r.message)


def test_not_written_and_hostile_samplers(monkeypatch):
    assert checks.check_sampler(None).status == "not written"

    def raises(stats, n_sweeps, rng):
        raise NotImplementedError

    assert checks.check_sampler(raises).status == "not written"

    def exits(stats, n_sweeps, rng):
        raise SystemExit

    assert "sys.exit()" in checks.check_sampler(exits).message

    def mutates(stats, n_sweeps, rng):
        stats.ybar[0] = 0.0
        return make_sampler()(stats, n_sweeps, rng)

    assert "input arrays in place" in checks.check_sampler(mutates).message

    monkeypatch.setattr(checks, "SAMPLER_TIME_BUDGET", 1.5)

    def forever(stats, n_sweeps, rng):
        while True:
            pass

    t0 = time.monotonic()
    r = checks.check_sampler(forever)
    assert time.monotonic() - t0 < 10 and "time budget" in r.message, r.message

    def slow(stats, n_sweeps, rng):
        time.sleep(0.001 * n_sweeps)
        return make_sampler()(stats, n_sweeps, rng)

    r = checks.check_sampler(slow)
    assert "too slow" in r.message and "ms per sweep" in r.message, r.message


def _raw_data(stats):
    """Raw scores with exactly the group means and sums of squares of ``stats``."""
    y, groups = [], []
    for j, (n, ybar, ss) in enumerate(zip(stats.n, stats.ybar, stats.ss, strict=True)):
        z = np.linspace(-1.0, 1.0, n) + 0.3 * np.sin(np.arange(n))
        z = (z - z.mean()) / np.sqrt(np.sum((z - z.mean()) ** 2))
        y.append(ybar + np.sqrt(ss) * z)
        groups.append(np.full(n, j))
    return np.concatenate(y), np.concatenate(groups)


@pytest.mark.parametrize("prior", [priors.Default(), PRIOR], ids=["default", "semi"])
def test_the_grid_marginal_of_tau2_agrees_with_hierlib_exact(prior):
    y, groups = _raw_data(checks.SAMPLER_STATS)
    table = exact.marginal_tau2(y, groups, prior, n_grid=2001)
    target = checks._marginals(prior)
    d = table["density"].to_numpy()
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(table["tau2"]) * 0.5 * (d[1:] + d[:-1]))])
    for q in (0.1, 0.5, 0.9):
        t = float(np.exp(target.thresholds[("tau2", q)]))
        assert abs(np.interp(t, table["tau2"], cdf) - target.below[("tau2", q)]) < 2e-4, q
    e_log = np.trapezoid(np.log(table["tau2"]) * table["density"], table["tau2"])
    assert abs(e_log - target.mean("tau2")) < 2e-4


def test_the_grid_marginals_agree_with_a_long_compiled_run():
    post = gibbs.hierarchical_normal(
        stats=checks.SAMPLER_STATS, n_draws=50_000, n_warmup=1000, n_chains=4, seed=11,
        keep_theta=[],
    )  # fmt: skip
    target = checks._marginals(priors.Default())
    values = {"mu": post.draws["mu"], "sigma2": np.log(post.draws["sigma2"]),
              "tau2": np.log(post.draws["tau2"])}  # fmt: skip
    for param, x in values.items():
        se = x.std() / np.sqrt(x.size / 20)  # a generous allowance for autocorrelation
        assert abs(x.mean() - target.mean(param)) < 5 * se, param
        for q in (0.1, 0.5, 0.9):
            frac = np.mean(x <= target.thresholds[(param, q)])
            assert abs(frac - q) < 5 * np.sqrt(q * (1 - q) / (x.size / 20)), (param, q)
