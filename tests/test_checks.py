"""hierlib.checks.check_update: correct updates pass (however written, under the default and
the semi-conjugate prior), every slip and every wrong update of the hands-on report fails (with
its hint where one is known), and broken or hostile updates get a message, never a traceback.

The false-alarm rate and power of the tests are measured by benchmarks/check_power.py (figures
in the module docstring); tests/test_check_power.py checks the p-values' calibration quickly."""

import time

import numpy as np
import pytest
from scipy import special as sps_special
from scipy import stats as sps

from hierlib import checks, priors


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


# --------------------------------------------------------------------------- Hoff's prior
PRIOR = priors.SemiConjugate(mu0=10.0, g20=4.0, eta0=4.0, t20=9.0, nu0=10.0, s20=36.0)
WEAK = priors.SemiConjugate(mu0=12, g20=100, eta0=1, t20=9, nu0=1, s20=36)  # nu0 s20 == s20
HOFF_ELS = priors.SemiConjugate(mu0=50, g20=25, eta0=1, t20=100, nu0=1, s20=100)


def semi_mu(rng, theta, tau2, prior):
    precision = len(theta) / tau2 + 1 / prior.g20
    mean = (np.sum(theta) / tau2 + prior.mu0 / prior.g20) / precision
    return rng.normal(mean, 1 / np.sqrt(precision))


def semi_mu_weights(rng, theta, tau2, prior):  # a weighted average of theta-bar and mu0
    v_data, v_prior = tau2 / len(theta), prior.g20
    w = v_prior / (v_data + v_prior)
    return w * np.mean(theta) + (1 - w) * prior.mu0 + np.sqrt(w * v_data) * rng.standard_normal()


def semi_sigma2(rng, theta, n, ybar, ss, prior):
    s = np.sum(ss + n * (ybar - theta) ** 2)
    return 1 / rng.gamma((prior.nu0 + np.sum(n)) / 2, 2 / (prior.nu0 * prior.s20 + s))


def semi_sigma2_invgamma(rng, theta, n, ybar, ss, prior):
    rate = (prior.nu0 * prior.s20 + np.sum(ss) + np.sum(n * (ybar - theta) ** 2)) / 2
    return sps.invgamma.rvs((prior.nu0 + n.sum()) / 2, scale=rate, random_state=rng)


def semi_tau2(rng, theta, mu, prior):
    q = np.sum((theta - mu) ** 2)
    return 1 / rng.gamma((prior.eta0 + len(theta)) / 2, 2 / (prior.eta0 * prior.t20 + q))


def semi_tau2_chisquare(rng, theta, mu, prior):
    return (prior.eta0 * prior.t20 + np.sum((theta - mu) ** 2)) / rng.chisquare(
        prior.eta0 + len(theta)
    )


SEMI_CORRECT = [
    ("mu", semi_mu),
    ("mu", semi_mu_weights),
    ("sigma2", semi_sigma2),
    ("sigma2", semi_sigma2_invgamma),
    ("tau2", semi_tau2),
    ("tau2", semi_tau2_chisquare),
    ("theta", theta_loop),  # the prior does not enter theta's conditional
]


@pytest.fixture
def few_calls(monkeypatch):
    """For the tests of what a check does or says rather than of its power: 2,000 calls."""
    monkeypatch.setattr(checks, "N_CALLS", 2000)
    monkeypatch.setattr(checks, "N_STRESS", 1000)


@pytest.mark.parametrize("name, fn", CORRECT, ids=[f.__name__ for _, f in CORRECT])
def test_every_correct_variant_passes(name, fn):
    r = checks.check_update(name, fn, seed=0)
    assert r.passed, r.message
    assert r.status == "passed" and "passed" in r.message and r.p_value >= checks.ALPHA
    assert "0.00)" not in r.message and "p = 0" not in r.message


@pytest.mark.parametrize("name, fn", SEMI_CORRECT, ids=[f.__name__ for _, f in SEMI_CORRECT])
def test_every_correct_semi_conjugate_update_passes(name, fn):
    r = checks.check_update(name, fn, prior=PRIOR, seed=0)
    assert r.passed, r.message
    if name != "theta":
        assert "20,000 draws at your prior and 5,000 at a stronger one" in r.message


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_correct_updates_pass_at_other_seeds_too(seed):
    chosen = CORRECT[::4]  # one of each update
    assert sorted(name for name, _ in chosen) == ["mu", "sigma2", "tau2", "theta"]
    for name, fn in chosen:
        assert checks.check_update(name, fn, seed=seed).passed


@pytest.mark.parametrize(
    "seed",
    [np.random.default_rng(5), None, np.random.SeedSequence(7), np.random.PCG64(3), 2**40],
    ids=["Generator", "None", "SeedSequence", "BitGenerator", "big int"],
)
def test_any_seed_default_rng_accepts_works(seed, few_calls):
    r = checks.check_update("tau2", tau2_gamma_scale, seed=seed)
    assert r.passed, r.message


def test_a_generator_seed_is_used_as_given(few_calls):
    rng = np.random.default_rng(0)
    before = rng.bit_generator.state["state"]["state"]
    assert checks.check_update("mu", mu_plain, seed=rng).passed
    assert rng.bit_generator.state["state"]["state"] != before  # advanced, as documented


@pytest.mark.parametrize("seed, error", [(-1, ValueError), ("abc", TypeError), (1.5, TypeError)])
def test_a_bad_seed_is_named(seed, error):
    with pytest.raises(error, match="seed must be what numpy.random.default_rng accepts"):
        checks.check_update("mu", mu_plain, seed=seed)


def test_a_prior_of_another_kind_is_refused():
    with pytest.raises(TypeError, match="prior must be"):
        checks.check_update("mu", mu_plain, prior=priors.HalfCauchy(scale=5.0))


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


def mu_variance_m_minus_1(rng, theta, tau2):  # the hands-on report: it used to pass
    return rng.normal(np.mean(theta), np.sqrt(tau2 / (len(theta) - 1)))


def theta_sorted_by_n(rng, mu, sigma2, tau2, n, ybar):  # a loop over sorted schools, never unsorted
    out = []
    for j in np.argsort(n):
        prec = n[j] / sigma2 + 1 / tau2
        out.append(rng.normal((n[j] * ybar[j] / sigma2 + mu / tau2) / prec, prec**-0.5))
    return np.array(out)


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
    ("sigma2", sigma2_shape_n, "shape_n", "N/2"),
    ("sigma2", sigma2_rate_as_scale, "rate_as_scale", "scale"),
    ("sigma2", sigma2_precision_returned, "returned_precision", "precision"),
    ("sigma2", sigma2_ss_only, "ss_only", "n_j (ybar_j - theta_j)^2"),
    ("tau2", tau2_rate_missing_half, "rate_missing_half", "1/2 in the Gamma rate"),
    ("tau2", tau2_shape_reference, "shape_reference", "(m-2)/2"),
    ("mu", mu_variance_m_minus_1, "variance_m_minus_1", "tau2/m"),
    ("theta", theta_sorted_by_n, "sorted_by_n", "sort"),
    ("tau2", tau2_rate_as_scale, "rate_as_scale", "scale"),
]


@pytest.mark.parametrize("name, fn, slip, words", SLIPS, ids=[s[1].__name__ for s in SLIPS])
def test_every_slip_fails_with_its_hint(name, fn, slip, words):
    r = checks.check_update(name, fn, seed=0)
    assert not r.passed and r.status == "wrong"
    assert r.p_value < 1e-12  # far below the threshold: not a near miss
    assert r.slip == slip, r.message
    assert words in r.message, r.message


def semi_sigma2_s20_alone(rng, theta, n, ybar, ss, prior):
    s = np.sum(ss + n * (ybar - theta) ** 2)
    return 1 / rng.gamma((prior.nu0 + np.sum(n)) / 2, 2 / (prior.s20 + s))


def semi_sigma2_rate_as_scale(rng, theta, n, ybar, ss, prior):
    s = np.sum(ss + n * (ybar - theta) ** 2)
    return 1 / rng.gamma((prior.nu0 + np.sum(n)) / 2, (prior.nu0 * prior.s20 + s) / 2)


def semi_sigma2_prior_ignored(rng, theta, n, ybar, ss, prior):
    return sigma2_gamma_scale(rng, theta, n, ybar, ss)


def semi_tau2_t20_alone(rng, theta, mu, prior):
    q = np.sum((theta - mu) ** 2)
    return 1 / rng.gamma((prior.eta0 + len(theta)) / 2, 2 / (prior.t20 + q))


def semi_tau2_flat_shape(rng, theta, mu, prior):  # the default prior's conditional
    return tau2_gamma_scale(rng, theta, mu)


def semi_tau2_missing_half(rng, theta, mu, prior):
    q = np.sum((theta - mu) ** 2)
    return 1 / rng.gamma((prior.eta0 + len(theta)) / 2, 1 / (prior.eta0 * prior.t20 + q))


def semi_mu_equal_weights(rng, theta, tau2, prior):
    precision = len(theta) / tau2 + 1 / prior.g20
    return rng.normal((np.mean(theta) + prior.mu0) / 2, 1 / np.sqrt(precision))


def semi_mu_prior_ignored(rng, theta, tau2, prior):
    return mu_plain(rng, theta, tau2)


def semi_mu_g20_as_precision(rng, theta, tau2, prior):
    precision = len(theta) / tau2 + prior.g20
    return rng.normal((np.sum(theta) / tau2 + prior.mu0 * prior.g20) / precision, precision**-0.5)


def semi_mu_variances_added(rng, theta, tau2, prior):
    precision = len(theta) / tau2 + 1 / prior.g20
    mean = (np.sum(theta) / tau2 + prior.mu0 / prior.g20) / precision
    return rng.normal(mean, np.sqrt(tau2 / len(theta) + prior.g20))


GLOBAL_PRIOR = PRIOR


def semi_tau2_uses_a_global(rng, theta, mu, prior):  # ignores the argument
    return semi_tau2(rng, theta, mu, GLOBAL_PRIOR)


SEMI_SLIPS = [
    ("sigma2", semi_sigma2_s20_alone, "guess_not_times_count", "nu0 * s20"),
    ("sigma2", semi_sigma2_rate_as_scale, "rate_as_scale", "scale"),
    ("sigma2", semi_sigma2_prior_ignored, "prior_ignored", "ignore the prior"),
    ("tau2", semi_tau2_t20_alone, "guess_not_times_count", "eta0 * t20"),
    ("tau2", semi_tau2_flat_shape, "prior_ignored", "ignore the prior"),
    ("tau2", semi_tau2_missing_half, "rate_missing_half", "1/2 in the Gamma rate"),
    ("mu", semi_mu_equal_weights, "equal_weights", "precisions"),
    ("mu", semi_mu_prior_ignored, "prior_ignored", "ignore the prior"),
    ("mu", semi_mu_g20_as_precision, "g20_as_precision", "1/g20"),
    ("mu", semi_mu_variances_added, "variances_added", "precisions add"),
    ("tau2", semi_tau2_uses_a_global, "ignores_prior_argument", "`prior` argument"),
]


@pytest.mark.parametrize(
    "name, fn, slip, words", SEMI_SLIPS, ids=[s[1].__name__ for s in SEMI_SLIPS]
)
def test_every_semi_conjugate_slip_fails_with_its_hint(name, fn, slip, words):
    r = checks.check_update(name, fn, prior=PRIOR, seed=0)
    assert not r.passed and r.status == "wrong", r.message
    assert r.slip == slip, r.message
    assert words in r.message, r.message


def test_a_prior_whose_count_is_one_still_catches_the_count_slip():
    """nu0 = 1 makes nu0 * s20 == s20 at the student's prior; the stress prior tells them
    apart."""
    r = checks.check_update("sigma2", semi_sigma2_s20_alone, prior=WEAK, seed=0)
    assert not r.passed and "stronger prior" in r.message and r.slip == "guess_not_times_count"
    assert checks.check_update("sigma2", semi_sigma2, prior=WEAK, seed=0).passed


def test_a_slip_that_doubles_tau2_says_twice_too_large():
    msg = checks.check_update("tau2", tau2_rate_missing_half).message
    assert "about 2.0 times too large" in msg and "1/2 in the Gamma rate" in msg


# --------------------------------------------------------------------------- the hands-on report
def theta_one_draw_for_all(rng, mu, sigma2, tau2, n, ybar):  # each theta_j right, jointly wrong
    prec = n / sigma2 + 1 / tau2
    return (n * ybar / sigma2 + mu / tau2) / prec + rng.standard_normal() / np.sqrt(prec)


def theta_two_schools_share(rng, mu, sigma2, tau2, n, ybar):  # an off-by-one reuse
    prec = n / sigma2 + 1 / tau2
    z = rng.standard_normal(len(n))
    z[1] = z[0]
    return (n * ybar / sigma2 + mu / tau2) / prec + z / np.sqrt(prec)


def tau2_scaled(c):
    def draw_tau2(rng, theta, mu):
        return c * tau2_gamma_scale(rng, theta, mu)

    return draw_tau2


def sigma2_overwrites_ybar(rng, theta, n, ybar, ss):
    ybar -= theta  # in place: the caller's array
    return 1 / rng.gamma(np.sum(n) / 2, 2 / np.sum(ss + n * ybar**2))


@pytest.mark.parametrize(
    "name, fn, words",
    [
        ("theta", theta_one_draw_for_all, "move together"),
        ("theta", theta_two_schools_share, "move together"),
        ("theta", theta_sorted_by_n, "order of the school sizes"),
        ("mu", mu_variance_m_minus_1, "spread is 4% too large"),
        ("tau2", tau2_scaled(1.05), "5% too large"),
        ("tau2", tau2_scaled(1.10), "10% too large"),
        ("tau2", tau2_scaled(1 / 1.05), "5% too small"),
        ("sigma2", sigma2_overwrites_ybar, "input arrays in place"),
    ],
    ids=["one-normal", "two-share", "sorted", "m-1", "x1.05", "x1.10", "/1.05", "overwrite"],
)
@pytest.mark.parametrize("seed", [0, 630])
def test_the_wrong_updates_of_the_hands_on_report_fail(name, fn, words, seed):
    r = checks.check_update(name, fn, seed=seed)
    assert not r.passed and words in r.message, r.message
    assert "shape of their distribution" not in r.message  # a scale error is not blamed on it


def test_one_draw_for_all_schools_is_named():
    r = checks.check_update("theta", theta_one_draw_for_all, seed=630)
    assert r.slip == "one_draw_for_all" and "one number shared by all" in r.message


def _effect(law, exact):
    """(largest location shift in sds, largest relative change of the sd) between a slip's law
    and the exact one, on the scale the tests use (log for variances; any school)."""
    if law.kind != exact.kind:
        return np.inf, np.inf
    if law.kind == "normal":
        return (
            float(np.max(np.abs(law.a - exact.a) / exact.b)),
            float(np.max(np.abs(np.log(law.b / exact.b)))),
        )
    sd = [np.sqrt(sps_special.polygamma(1, d.a)) for d in (law, exact)]
    return abs(law.log_mean - exact.log_mean) / sd[1], abs(np.log(sd[0] / sd[1]))


@pytest.mark.parametrize(
    "prior", [None, PRIOR, checks.STRESS_PRIOR], ids=["default", "semi", "stress"]
)
@pytest.mark.parametrize("name", ["theta", "mu", "sigma2", "tau2"])
def test_every_slip_is_a_large_error_at_the_chosen_values(name, prior):
    """Each slip shifts some school's location by 0.05 sd or more, or changes a spread by 4% or
    more: errors the tests catch with probability above 0.99 (module docstring)."""
    exact = checks._exact(name, prior)
    for key, (law, _) in checks.slips(name, prior).items():
        shift, spread = _effect(law, exact)
        assert shift >= 0.05 or spread >= 0.04, (key, shift, spread)


@pytest.mark.parametrize("prior", [PRIOR, WEAK, HOFF_ELS], ids=["semi", "weak", "hoff"])
@pytest.mark.parametrize("name", ["mu", "sigma2", "tau2"])
def test_what_only_the_stress_prior_reveals_is_large_there(name, prior):
    """The stress prior gets N_STRESS = 5,000 calls, which catch a 0.1-sd shift with
    probability 0.998 (module docstring). Every slip that is small at the student's prior
    (where 20,000 calls test it) is off by more than 0.8 sd at the stress prior, and reading
    the notebook's prior instead of the ``prior`` argument by more than 0.35 sd."""
    assert (checks.N_CALLS, checks.N_STRESS) == (20_000, 5_000)
    exact, stress = checks._exact(name, prior), checks._exact(name, checks.STRESS_PRIOR)
    at_prior = checks.slips(name, prior)
    for key, (law, _) in checks.slips(name, checks.STRESS_PRIOR).items():
        shift, spread = _effect(at_prior[key][0], exact) if key in at_prior else (0.0, 0.0)
        if shift < 0.05 and spread < 0.04:  # not caught at the student's prior
            assert max(_effect(law, stress)) > 0.8, key
    assert max(_effect(exact, stress)) > 0.35  # the law at `prior` where the stress one belongs


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
    r = checks.check_update("tau2", tau2_gamma_scale, prior=PRIOR)
    assert "draw_tau2(rng, theta, mu, prior)" in r.message


def test_an_exception_inside_the_update_is_reported_with_its_line():
    def draw_sigma2(rng, theta, n, ybar, ss):
        s = np.sum(ss + n * (ybar - theta) ** 2)  # noqa: F841
        return 1 / rng.gamma(n.sum() / 2, 2 / S)  # noqa: F821  (a typo: S, not s)

    r = checks.check_update("sigma2", draw_sigma2)
    assert r.status == "error" and "NameError" in r.message and "draw_sigma2" in r.message
    assert "2 / S" in r.message and "Traceback" not in r.message


class FloatRaises:
    def __float__(self):
        raise RuntimeError("no float for you")


class FloatExits:
    def __float__(self):
        raise SystemExit(3)


@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda rng, mu, sigma2, tau2, n, ybar: rng.normal(mu, 1.0), "shape (12,)"),
        (lambda rng, mu, sigma2, tau2, n, ybar: rng.normal(ybar, 1.0)[:, None], "shape (12, 1)"),
        (lambda rng, mu, sigma2, tau2, n, ybar: ybar * np.nan, "not a finite number"),
        (lambda rng, mu, sigma2, tau2, n, ybar: None, "forget `return`"),
        (lambda rng, mu, sigma2, tau2, n, ybar: "ybar", "text"),
        (lambda rng, mu, sigma2, tau2, n, ybar: np.random.default_rng().normal(ybar), "`rng`"),
        (lambda rng, mu, sigma2, tau2, n, ybar: rng.normal(ybar) + 0j, "complex"),
        (lambda rng, mu, sigma2, tau2, n, ybar: [FloatRaises()] * 12, "cannot be read"),
    ],
)
def test_bad_returns_get_a_clear_message(fn, words):
    r = checks.check_update("theta", fn)
    assert not r.passed and r.status == "error" and words in r.message, r.message


@pytest.mark.parametrize(
    "value, words",
    [
        ("1.5", "text"),
        (b"1.5", "text"),
        (1.5 + 0j, "complex"),
        (np.complex128(2.0), "complex"),
        (FloatRaises(), "RuntimeError"),
        (FloatExits(), "SystemExit"),
        (True, "True/False"),
        ((x for x in [1.0]), "generator"),
    ],
    ids=["str", "bytes", "complex", "np-complex", "float-raises", "float-exits", "bool", "gen"],
)
def test_a_return_that_is_not_a_real_number_fails(value, words):
    r = checks.check_update("mu", lambda rng, theta, tau2: value)
    assert not r.passed and r.status == "error" and words in r.message, r.message


def test_scalar_updates_must_return_one_number():
    r = checks.check_update("mu", lambda rng, theta, tau2: rng.normal(theta, 1.0))
    assert r.status == "error" and "one number" in r.message


def test_not_a_function_and_an_unknown_name():
    assert "must be a function" in checks.check_update("mu", 3.0).message
    with pytest.raises(ValueError, match="one of"):
        checks.check_update("sigma", mu_plain)


def test_same_seed_same_verdict_and_check_all_prints(capsys, few_calls):
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
def test_any_return_value_gives_a_verdict_never_a_traceback(value, few_calls):
    for name, fn in (
        ("mu", lambda rng, theta, tau2: value),
        ("theta", lambda rng, mu, sigma2, tau2, n, ybar: value),
    ):
        r = checks.check_update(name, fn)
        assert isinstance(r, checks.CheckResult) and not r.passed
        assert r.message.startswith(f"draw_{name}") and "Traceback" not in r.message


def test_a_mean_instead_of_a_draw_and_a_negative_variance_are_named(few_calls):
    r = checks.check_update("mu", lambda rng, theta, tau2: np.mean(theta))
    assert r.status == "wrong" and "same value at every call" in r.message
    r = checks.check_update("tau2", lambda rng, theta, mu: rng.normal(np.var(theta), 5.0))
    assert r.status == "wrong" and "must be positive" in r.message


# --------------------------------------------------------------------------- hostile updates
def test_an_update_that_never_returns_is_stopped(monkeypatch):
    monkeypatch.setattr(checks, "TIME_BUDGET", 1.5)

    def draw_mu(rng, theta, tau2):
        while True:
            pass

    t0 = time.monotonic()
    r = checks.check_update("mu", draw_mu)
    assert time.monotonic() - t0 < 10
    assert r.status == "error" and "time budget" in r.message, r.message


def test_an_update_that_swallows_the_stop_is_still_stopped(monkeypatch):
    monkeypatch.setattr(checks, "TIME_BUDGET", 1.0)

    def draw_mu(rng, theta, tau2):
        try:
            time.sleep(0.8)
        except BaseException:  # noqa: BLE001 - hostile on purpose
            pass
        return rng.normal()

    r = checks.check_update("mu", draw_mu)
    assert r.status == "error" and ("time budget" in r.message or "too slow" in r.message)


def test_a_very_slow_update_is_stopped_early_with_its_speed():
    def draw_tau2(rng, theta, mu):
        time.sleep(0.01)
        return tau2_gamma_scale(rng, theta, mu)

    t0 = time.monotonic()
    r = checks.check_update("tau2", draw_tau2)
    assert time.monotonic() - t0 < 5
    assert r.status == "error" and "too slow" in r.message and "ms per call" in r.message


def test_prints_are_hidden_and_counted(capsys, few_calls):
    def draw_mu(rng, theta, tau2):
        print("drawing mu", theta[0])
        return mu_plain(rng, theta, tau2)

    r = checks.check_update("mu", draw_mu)
    assert r.passed, r.message
    assert f"It printed {checks.N_CALLS + 2:,} lines" in r.message, r.message
    assert "'drawing mu 13.0'" in r.message
    assert capsys.readouterr().out == ""


def test_a_generator_function_is_named():
    def draw_mu(rng, theta, tau2):
        yield rng.normal(np.mean(theta), np.sqrt(tau2 / len(theta)))

    r = checks.check_update("mu", draw_mu)
    assert r.status == "error" and "generator" in r.message and "return" in r.message


@pytest.mark.parametrize(
    "exc, words", [(SystemExit, "sys.exit()"), (KeyboardInterrupt, "interrupted")]
)
def test_system_exit_and_keyboard_interrupt_are_reported(exc, words):
    def draw_mu(rng, theta, tau2):
        raise exc

    r = checks.check_update("mu", draw_mu)
    assert r.status == "error" and words in r.message and "Traceback" not in r.message


def test_reseeding_numpy_global_generator_is_named_and_undone(few_calls):
    np.random.seed(123)  # noqa: NPY002 - the caller's global state
    before = np.random.get_state()[1].copy()  # noqa: NPY002

    def draw_mu(rng, theta, tau2):
        np.random.seed(0)  # noqa: NPY002 - hostile on purpose
        return mu_plain(rng, theta, tau2)

    r = checks.check_update("mu", draw_mu)
    assert r.status == "error" and "global generator" in r.message
    assert np.array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_mutating_an_input_through_its_base_is_caught(few_calls):
    def draw_tau2(rng, theta, mu):
        base = theta.base
        base.flags.writeable = True
        base[0] += 1.0
        return tau2_gamma_scale(rng, theta, mu)

    r = checks.check_update("tau2", draw_tau2)
    assert not r.passed and "changed its input arrays" in r.message
