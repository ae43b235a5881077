"""hierlib.checks: correct updates pass (however written), every slip fails with its hint,
and broken updates get a message instead of a traceback."""

import numpy as np
import pytest
from scipy import stats as sps

from hierlib import checks


# --------------------------------------------------------------------------- correct variants
def theta_precision_first(rng, mu, sigma2, tau2, n, ybar):
    prec = n / sigma2 + 1 / tau2
    return rng.normal((n * ybar / sigma2 + mu / tau2) / prec, 1 / np.sqrt(prec))


def theta_variance_first(rng, mu, sigma2, tau2, n, ybar):
    v = 1 / (n / sigma2 + 1 / tau2)
    return v * (n * ybar / sigma2 + mu / tau2) + np.sqrt(v) * rng.standard_normal(len(n))


def theta_scipy(rng, mu, sigma2, tau2, n, ybar):
    b = sigma2 / (sigma2 + n * tau2)  # shrinkage factor
    return sps.norm.rvs(b * mu + (1 - b) * ybar, np.sqrt(b * tau2), random_state=rng)


def theta_loop(rng, mu, sigma2, tau2, n, ybar):
    out = np.empty(len(n))
    for j in range(len(n)):
        prec = n[j] / sigma2 + 1 / tau2
        out[j] = rng.normal((n[j] * ybar[j] / sigma2 + mu / tau2) / prec, (1 / prec) ** 0.5)
    return out


def mu_plain(rng, theta, tau2):
    return rng.normal(np.mean(theta), np.sqrt(tau2 / len(theta)))


def mu_precision_first(rng, theta, tau2):
    prec = len(theta) / tau2
    return theta.sum() / tau2 / prec + rng.standard_normal() / np.sqrt(prec)


def sigma2_gamma_scale(rng, theta, n, ybar, ss):
    s = np.sum(ss + n * (ybar - theta) ** 2)
    return 1 / rng.gamma(np.sum(n) / 2, 2 / s)


def sigma2_invgamma(rng, theta, n, ybar, ss):
    s = np.sum(ss + n * (ybar - theta) ** 2)
    return sps.invgamma.rvs(np.sum(n) / 2, scale=s / 2, random_state=rng)


def sigma2_chisquare(rng, theta, n, ybar, ss):
    return np.sum(ss + n * (ybar - theta) ** 2) / rng.chisquare(np.sum(n))


def sigma2_standard_gamma(rng, theta, n, ybar, ss):
    rate = np.sum(ss + n * (ybar - theta) ** 2) / 2
    return [rate / rng.standard_gamma(n.sum() / 2)]  # a list of one number is fine


def tau2_gamma_scale(rng, theta, mu):
    return 1 / rng.gamma((len(theta) - 2) / 2, scale=2 / np.sum((theta - mu) ** 2))


def tau2_invgamma(rng, theta, mu):
    q = np.sum((theta - mu) ** 2)
    return sps.invgamma(a=(len(theta) - 2) / 2, scale=q / 2).rvs(random_state=rng)


def tau2_chisquare(rng, theta, mu):
    return float(np.sum((theta - mu) ** 2) / rng.chisquare(len(theta) - 2))


CORRECT = [
    ("theta", theta_precision_first),
    ("theta", theta_variance_first),
    ("theta", theta_scipy),
    ("theta", theta_loop),
    ("mu", mu_plain),
    ("mu", mu_precision_first),
    ("sigma2", sigma2_gamma_scale),
    ("sigma2", sigma2_invgamma),
    ("sigma2", sigma2_chisquare),
    ("sigma2", sigma2_standard_gamma),
    ("tau2", tau2_gamma_scale),
    ("tau2", tau2_invgamma),
    ("tau2", tau2_chisquare),
]


@pytest.mark.parametrize("name, fn", CORRECT, ids=[f.__name__ for _, f in CORRECT])
def test_every_correct_variant_passes(name, fn):
    r = checks.check_update(name, fn, seed=0)
    assert r.passed, r.message
    assert r.status == "passed" and "passed" in r.message and r.p_value >= checks.ALPHA


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correct_updates_pass_at_other_seeds_too(seed):
    for name, fn in CORRECT[::3]:
        assert checks.check_update(name, fn, seed=seed).passed


# --------------------------------------------------------------------------- the slips
def theta_precision_tau2(rng, mu, sigma2, tau2, n, ybar):  # the slides' kind of typo
    prec = n / sigma2 + tau2
    return rng.normal((n * ybar / sigma2 + mu / tau2) / prec, 1 / np.sqrt(prec))


def theta_mean_ignores_mu(rng, mu, sigma2, tau2, n, ybar):
    prec = n / sigma2 + 1 / tau2
    return rng.normal((n * ybar / sigma2) / prec, 1 / np.sqrt(prec))


def theta_sd_as_variance(rng, mu, sigma2, tau2, n, ybar):
    prec = n / sigma2 + 1 / tau2
    return rng.normal((n * ybar / sigma2 + mu / tau2) / prec, 1 / prec)


def mu_variance_tau2(rng, theta, tau2):
    return rng.normal(theta.mean(), np.sqrt(tau2))


def mu_sd_as_variance(rng, theta, tau2):
    return rng.normal(theta.mean(), tau2 / len(theta))


def sigma2_rate_missing_half(rng, theta, n, ybar, ss):
    return 1 / rng.gamma(n.sum() / 2, 1 / np.sum(ss + n * (ybar - theta) ** 2))


def sigma2_shape_n(rng, theta, n, ybar, ss):
    return 1 / rng.gamma(n.sum(), 2 / np.sum(ss + n * (ybar - theta) ** 2))


def sigma2_rate_as_scale(rng, theta, n, ybar, ss):
    return 1 / rng.gamma(n.sum() / 2, np.sum(ss + n * (ybar - theta) ** 2) / 2)


def sigma2_precision_returned(rng, theta, n, ybar, ss):
    return rng.gamma(n.sum() / 2, 2 / np.sum(ss + n * (ybar - theta) ** 2))


def sigma2_ss_only(rng, theta, n, ybar, ss):
    return 1 / rng.gamma(n.sum() / 2, 2 / ss.sum())


def tau2_rate_missing_half(rng, theta, mu):
    return 1 / rng.gamma((len(theta) - 2) / 2, 1 / np.sum((theta - mu) ** 2))


def tau2_shape_reference(rng, theta, mu):
    return 1 / rng.gamma(len(theta) / 2, 2 / np.sum((theta - mu) ** 2))


def tau2_rate_as_scale(rng, theta, mu):
    return 1 / rng.gamma((len(theta) - 2) / 2, np.sum((theta - mu) ** 2) / 2)


def theta_no_shrinkage(rng, mu, sigma2, tau2, n, ybar):
    return rng.normal(ybar, 1 / np.sqrt(n / sigma2 + 1 / tau2))


def mu_sum_not_mean(rng, theta, tau2):
    return rng.normal(theta.sum(), np.sqrt(tau2 / len(theta)))


def tau2_precision_returned(rng, theta, mu):
    return rng.gamma((len(theta) - 2) / 2, 2 / np.sum((theta - mu) ** 2))


SLIPS = [
    ("theta", theta_no_shrinkage, "no_shrinkage", "precision-weighted average"),
    ("mu", mu_sum_not_mean, "sum_not_mean", "average"),
    ("tau2", tau2_precision_returned, "returned_precision", "precision"),
    ("theta", theta_precision_tau2, "precision_tau2", "1/tau2"),
    ("theta", theta_mean_ignores_mu, "mean_ignores_mu", "mu/tau2"),
    ("theta", theta_sd_as_variance, "sd_as_variance", "standard deviation"),
    ("mu", mu_variance_tau2, "variance_tau2", "tau2/m"),
    ("mu", mu_sd_as_variance, "sd_as_variance", "standard deviation"),
    ("sigma2", sigma2_rate_missing_half, "rate_missing_half", "1/2 in the Gamma rate"),
    ("sigma2", sigma2_shape_n, "shape_n", "n/2"),
    ("sigma2", sigma2_rate_as_scale, "rate_as_scale", "scale"),
    ("sigma2", sigma2_precision_returned, "returned_precision", "precision"),
    ("sigma2", sigma2_ss_only, "ss_only", "n_j (ybar_j - theta_j)^2"),
    ("tau2", tau2_rate_missing_half, "rate_missing_half", "1/2 in the Gamma rate"),
    ("tau2", tau2_shape_reference, "shape_reference", "(m-2)/2"),
    ("tau2", tau2_rate_as_scale, "rate_as_scale", "scale"),
]


@pytest.mark.parametrize("name, fn, slip, words", SLIPS, ids=[s[1].__name__ for s in SLIPS])
def test_every_slip_fails_with_its_hint(name, fn, slip, words):
    r = checks.check_update(name, fn, seed=0)
    assert not r.passed and r.status == "wrong"
    assert r.p_value < 1e-12  # far below the threshold: not a near miss
    assert r.slip == slip, r.message
    assert words in r.message, r.message


def test_a_slip_that_doubles_tau2_says_twice_too_large():
    msg = checks.check_update("tau2", tau2_rate_missing_half).message
    assert "about 2.0 times too large" in msg and "1/2 in the Gamma rate" in msg


def _ks_distance(name, law, exact):
    """sup |F - G| between a slip's law and the exact one (for theta: of the pooled z)."""
    if name == "theta":
        (m1, s1), (m0, s0) = law, exact
        z = np.linspace(-12, 12, 20001)
        f = sps.norm.cdf(z)
        g = np.mean([sps.norm.cdf((z * s0[j] + m0[j] - m1[j]) / s1[j]) for j in range(len(m0))], 0)
        return float(np.max(np.abs(f - g)))
    x = exact.ppf(np.linspace(1e-6, 1 - 1e-6, 20001))
    x = np.concatenate([x, law.ppf(np.linspace(1e-6, 1 - 1e-6, 20001))])
    return float(np.max(np.abs(exact.cdf(x) - law.cdf(x))))


@pytest.mark.parametrize("name", ["theta", "mu", "sigma2", "tau2"])
def test_every_slip_is_far_from_the_exact_law_at_the_chosen_values(name):
    """The docstring's power claim: KS distance >= 0.18 against a critical value of 0.050."""
    critical = np.sqrt(np.log(2 / checks.ALPHA) / (2 * checks.N_CALLS))
    assert 0.045 < critical < 0.051
    exact = checks._exact(name)
    for key, (law, _) in checks.SLIPS[name].items():
        assert _ks_distance(name, law, exact) >= 0.18, key


# --------------------------------------------------------------------------- broken updates
def test_not_written_yet():
    def draw_mu(rng, theta, tau2):
        raise NotImplementedError

    for fn in (None, draw_mu):
        r = checks.check_update("mu", fn)
        assert not r.passed and r.status == "not written" and "not written yet" in r.message


def test_wrong_signature_is_named():
    r = checks.check_update("tau2", lambda rng, theta: 1.0)
    assert not r.passed and r.status == "error"
    assert "draw_tau2(rng, theta, mu)" in r.message and "(rng, theta)" in r.message


def test_an_exception_inside_the_update_is_reported_with_its_line():
    def draw_sigma2(rng, theta, n, ybar, ss):
        s = np.sum(ss + n * (ybar - theta) ** 2)  # noqa: F841
        return 1 / rng.gamma(n.sum() / 2, 2 / S)  # noqa: F821  (a typo: S, not s)

    r = checks.check_update("sigma2", draw_sigma2)
    assert r.status == "error" and "NameError" in r.message and "draw_sigma2" in r.message
    assert "2 / S" in r.message and "Traceback" not in r.message


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda rng, mu, sigma2, tau2, n, ybar: rng.normal(mu, 1.0), "shape (5,)"),
        (lambda rng, mu, sigma2, tau2, n, ybar: rng.normal(ybar, 1.0)[:, None], "shape (5, 1)"),
        (lambda rng, mu, sigma2, tau2, n, ybar: ybar * np.nan, "not a finite number"),
        (lambda rng, mu, sigma2, tau2, n, ybar: None, "forget `return`"),
        (lambda rng, mu, sigma2, tau2, n, ybar: "ybar", "not numbers"),
        (lambda rng, mu, sigma2, tau2, n, ybar: np.random.default_rng().normal(ybar), "`rng`"),
    ],
)
def test_bad_returns_get_a_clear_message(fn, words):
    r = checks.check_update("theta", fn)
    assert not r.passed and r.status == "error" and words in r.message, r.message


def test_scalar_updates_must_return_one_number():
    r = checks.check_update("mu", lambda rng, theta, tau2: rng.normal(theta, 1.0))
    assert r.status == "error" and "one number" in r.message


def test_not_a_function_and_an_unknown_name():
    assert "must be a function" in checks.check_update("mu", 3.0).message
    with pytest.raises(ValueError, match="one of"):
        checks.check_update("sigma", mu_plain)


def test_same_seed_same_verdict_and_check_all_prints(capsys):
    a = checks.check_update("theta", theta_precision_first, seed=5)
    b = checks.check_update("theta", theta_precision_first, seed=5)
    assert a.p_value == b.p_value
    out = checks.check_all({"mu": mu_plain, "tau2": None})
    assert out["mu"].passed and not out["tau2"].passed
    printed = capsys.readouterr().out
    assert "✓ draw_mu passed" in printed and "✗ draw_tau2 is not written yet" in printed


@pytest.mark.parametrize(
    "value",
    [None, np.nan, np.inf, -1.0, 0.0, "abc", [], [1.0, 2.0], True, {"a": 1}, object(), 1e308],
)
def test_any_return_value_gives_a_verdict_never_a_traceback(value):
    for name, fn in (
        ("mu", lambda rng, theta, tau2: value),
        ("theta", lambda rng, mu, sigma2, tau2, n, ybar: value),
    ):
        r = checks.check_update(name, fn)
        assert isinstance(r, checks.CheckResult) and not r.passed
        assert r.message.startswith(f"draw_{name}") and "Traceback" not in r.message


def test_a_mean_instead_of_a_draw_and_a_negative_variance_are_named():
    r = checks.check_update("mu", lambda rng, theta, tau2: np.mean(theta))
    assert r.status == "wrong" and "same value at every call" in r.message
    r = checks.check_update("tau2", lambda rng, theta, mu: rng.normal(np.var(theta), 5.0))
    assert r.status == "wrong" and "must be positive" in r.message
