"""Every full conditional against the log joint density, and the exact slice-sampling steps.

For each conditional, with the other parameters fixed, ``log_joint(value) - conditional.logpdf
(value)`` must be the same constant over a grid of values. ``log_joint`` is computed from the
raw data with scipy densities, independently of the sufficient statistics the conditionals use,
so a wrong factor of 1/2, a sign, or a wrong shape/rate shows up as a non-constant difference.
"""

import math

import numpy as np
import pytest
from log_joint_checks import (
    assert_constant,
    assert_interweaving_target,
    point_away_from_the_mode,
    six_groups,
)
from numba import njit
from scipy import integrate, stats

from hierlib import conditionals as cond
from hierlib import priors
from hierlib.data import group_stats
from hierlib.samplers import _kernels

PRIORS_1 = {
    "default": priors.Default(),
    "semiconjugate": priors.SemiConjugate(mu0=1.0, g20=4.0, eta0=3.0, t20=2.0, nu0=5.0, s20=3.0),
}
PRIORS_2 = {
    "lecture": priors.UnequalVariances(),
    "proper": priors.UnequalVariances(
        mu0=0.5, g20=9.0, eta0=2.0, t20=1.5, a=3.0, b=2.0, nu0_shape=3.0, nu0_rate=0.4
    ),
}


@pytest.fixture(scope="module")
def data():
    return six_groups()


@pytest.fixture(scope="module")
def point(data):
    return point_away_from_the_mode(data)


def test_log_joint_differences_detect_a_wrong_conditional(data, point):
    """The check has power: a conditional with the slides' missing 1/2 on the rate fails."""
    s = group_stats(*data)
    prior = PRIORS_1["semiconjugate"]
    good = cond.sigma_precision(s, point["theta"], *prior.hyper()[4:])
    wrong = cond.Gamma(good.shape, 2 * good.rate - prior.hyper()[5])
    grid = np.linspace(0.5, 6.0, 25)
    joint = [
        cond.log_joint(*data, point["theta"], point["mu"], v, point["tau2"], prior) for v in grid
    ]
    assert_constant(np.array(joint) - good.logpdf_of_inverse(grid))
    assert np.ptp(np.array(joint) - wrong.logpdf_of_inverse(grid)) > 1.0


def assert_model1_conditionals(lj, x, name, d_x, d_mu, g_tau, g_sigma):
    """Model 1 in either parameterisation: ``lj(**{name: value})`` (the log joint with one
    argument changed) minus each conditional's log density is constant -- every ``x_j`` (the
    normals ``d_x``), ``mu`` (``d_mu``), ``tau2`` and ``sigma2`` (inverse gammas: the
    precisions ``g_tau``, ``g_sigma``)."""
    for j in range(x.size):
        grid = x[j] + np.linspace(-3, 3, 13)
        joint = [lj(**{name: np.where(np.arange(x.size) == j, v, x)}) for v in grid]
        assert_constant(np.array(joint) - cond.Normal(d_x.mean[j], d_x.var[j]).logpdf(grid))
    grid = np.linspace(-2, 5, 15)
    assert_constant(np.array([lj(mu=v) for v in grid]) - d_mu.logpdf(grid))
    # tau2 and sigma2 (as the variances: inverse gamma)
    grid = np.linspace(0.05, 10, 20)
    assert_constant(np.array([lj(tau2=v) for v in grid]) - g_tau.logpdf_of_inverse(grid))
    assert_constant(np.array([lj(sigma2=v) for v in grid]) - g_sigma.logpdf_of_inverse(grid))


@pytest.mark.parametrize("prior_name", PRIORS_1)
def test_centered_conditionals_match_log_joint(data, point, prior_name):
    prior = PRIORS_1[prior_name]
    s = group_stats(*data)
    mu0, p0, a_tau, b_tau, a_sig, b_sig = prior.hyper()
    th, mu, sigma2, tau2 = point["theta"], point["mu"], point["sigma2"], point["tau2"]

    def lj(theta=th, mu=mu, sigma2=sigma2, tau2=tau2):
        return cond.log_joint(*data, theta, mu, sigma2, tau2, prior, "centered")

    assert_model1_conditionals(
        lj,
        th,
        "theta",
        cond.theta_centered(s, mu, sigma2, tau2),
        cond.mu_centered(th, tau2, mu0, p0),
        cond.tau_precision(th - mu, a_tau, b_tau),
        cond.sigma_precision(s, th, a_sig, b_sig),
    )


@pytest.mark.parametrize("prior_name", PRIORS_1)
def test_offset_conditionals_match_log_joint(data, point, prior_name):
    prior = PRIORS_1[prior_name]
    s = group_stats(*data)
    mu0, p0, a_tau, b_tau, a_sig, b_sig = prior.hyper()
    mu, sigma2, tau2 = point["mu"], point["sigma2"], point["tau2"]
    delta = point["theta"] - mu

    def lj(delta=delta, mu=mu, sigma2=sigma2, tau2=tau2):
        return cond.log_joint(*data, delta, mu, sigma2, tau2, prior, "offset")

    assert_model1_conditionals(
        lj,
        delta,
        "delta",
        cond.delta_offset(s, mu, sigma2, tau2),
        cond.mu_offset(s, delta, sigma2, mu0, p0),
        cond.tau_precision(delta, a_tau, b_tau),
        cond.sigma_precision(s, mu + delta, a_sig, b_sig),
    )


@pytest.mark.parametrize("prior_name", PRIORS_1)
def test_interweaving_tau_step_matches_log_joint(data, point, prior_name):
    """The ancillary step's target for u = log tau (see assert_interweaving_target)."""
    prior = PRIORS_1[prior_name]
    _, _, a_tau, b_tau, _, _ = prior.hyper()
    assert_interweaving_target(data, point, point["tau2"], prior, _kernels.LOG_TAU, (a_tau, b_tau))


@pytest.mark.parametrize("prior_name", PRIORS_2)
def test_unequal_conditionals_match_log_joint(data, point, prior_name):
    prior = PRIORS_2[prior_name]
    s = group_stats(*data)
    mu0, p0, a_tau, b_tau, a_s0, b_s0, k, r = prior.hyper()
    th, mu, tau2 = point["theta"], point["mu"], point["tau2"]
    s2 = np.linspace(0.7, 2.5, s.m)
    sigma02, nu0 = 1.4, 6.0

    def lj(theta=th, sigma2_j=s2, mu=mu, tau2=tau2, sigma02=sigma02, nu0=nu0):
        return cond.log_joint_unequal(*data, theta, sigma2_j, mu, tau2, sigma02, nu0, prior)

    d = cond.theta_unequal(s, mu, s2, tau2)
    g = cond.sigma_j_precision(s, th, nu0, sigma02)
    grid = np.linspace(0.1, 8, 17)
    for j in range(s.m):
        only_j = np.arange(s.m) == j
        tgrid = th[j] + np.linspace(-3, 3, 13)
        joint = [lj(theta=np.where(only_j, v, th)) for v in tgrid]
        assert_constant(np.array(joint) - cond.Normal(d.mean[j], d.var[j]).logpdf(tgrid))
        joint = [lj(sigma2_j=np.where(only_j, v, s2)) for v in grid]
        gj = cond.Gamma(g.shape[j], g.rate[j])
        assert_constant(np.array(joint) - gj.logpdf_of_inverse(grid))
    mgrid = np.linspace(-2, 5, 15)
    d = cond.mu_centered(th, tau2, mu0, p0)
    assert_constant(np.array([lj(mu=v) for v in mgrid]) - d.logpdf(mgrid))
    g = cond.tau_precision(th - mu, a_tau, b_tau)
    assert_constant(np.array([lj(tau2=v) for v in grid]) - g.logpdf_of_inverse(grid))
    # sigma02 | rest is a Gamma law of sigma02 itself
    g = cond.sigma02_conditional(s2, nu0, a_s0, b_s0)
    assert_constant(np.array([lj(sigma02=v) for v in grid]) - g.logpdf(grid))
    # nu0: unnormalised conditional, and the slice sampler's target on u = log nu0
    ngrid = np.linspace(0.3, 40, 30)
    joint = np.array([lj(nu0=v) for v in ngrid])
    assert_constant(joint - cond.nu0_logpdf(ngrid, s2, sigma02, k, r))
    phi = 1 / s2
    c = np.array([s.m, sigma02, np.log(phi).sum(), phi.sum(), k, r])
    target = [_kernels._log_target(_kernels.LOG_NU0, math.log(v), c) for v in ngrid]
    assert_constant(joint + np.log(ngrid) - np.array(target))


def _quadrature_moments(logf, lo, hi):
    """Mean and variance of x under exp(logf(x)) on (lo, hi), by adaptive quadrature."""
    xs = np.linspace(lo, hi, 2001)
    shift = max(logf(x) for x in xs)
    z = integrate.quad(lambda x: math.exp(logf(x) - shift), lo, hi, limit=200)[0]
    m1 = integrate.quad(lambda x: x * math.exp(logf(x) - shift), lo, hi, limit=200)[0] / z
    m2 = integrate.quad(lambda x: x * x * math.exp(logf(x) - shift), lo, hi, limit=200)[0] / z
    return m1, m2 - m1 * m1


def _slice_chain(kind, c, u0, n):
    rng = np.random.default_rng(7)
    u = np.empty(n)
    for i in range(n):
        u0 = _kernels.slice_sample(rng, kind, u0, c, 1.0)
        u[i] = u0
    return np.exp(u)


def _check_chain_moments(x, mean, var):
    """Sample mean within 5 batch-means standard errors; variance within 5%."""
    batches = x.reshape(50, -1).mean(axis=1)
    se = batches.std(ddof=1) / np.sqrt(batches.size)
    assert abs(x.mean() - mean) < 5 * se + 1e-12, (x.mean(), mean, se)
    assert abs(x.var() / var - 1) < 0.05, (x.var(), var)


def test_slice_step_for_nu0_draws_from_its_conditional():
    """Repeated exact slice updates of nu0 reproduce the conditional's mean and variance
    (computed by quadrature from conditionals.nu0_logpdf)."""
    rng = np.random.default_rng(3)
    s2 = 1.0 / rng.gamma(3.0, 1 / 3.0, size=40)  # sigma_j^2 around 1 with nu0 near 6
    sigma02 = 1.0
    phi = 1 / s2
    c = np.array([s2.size, sigma02, np.log(phi).sum(), phi.sum(), 2.0, 0.5])
    mean, var = _quadrature_moments(
        lambda v: float(cond.nu0_logpdf(v, s2, sigma02, 2.0, 0.5)), 1e-6, 200.0
    )
    _check_chain_moments(_slice_chain(_kernels.LOG_NU0, c, math.log(4.0), 20_000), mean, var)


@pytest.mark.parametrize("a_tau,b_tau", [(-1.0, 0.0), (1.5, 2.0)])
def test_slice_step_for_tau_draws_from_its_conditional(a_tau, b_tau):
    c = np.array([30.0, 12.0, a_tau, b_tau])

    def logf(t):  # density of tau: the target on log tau minus its Jacobian
        return _kernels._log_target(_kernels.LOG_TAU, math.log(t), c) - math.log(t)

    mean, var = _quadrature_moments(logf, 1e-6, 10.0)
    _check_chain_moments(_slice_chain(_kernels.LOG_TAU, c, 0.0, 20_000), mean, var)


@njit
def _gamma_draws(rng, shape, size):
    out = np.empty(size)
    for i in range(size):
        out[i] = _kernels.standard_gamma(rng, shape)
    return out


@pytest.mark.parametrize("shape", [0.3, 1.0, 2.5, 3592.5])
def test_compiled_gamma_draws_follow_the_gamma_law(shape):
    """The kernels' Marsaglia-Tsang sampler (with the u^(1/a) boost below shape 1) against
    scipy's Gamma cdf (Kolmogorov-Smirnov, fixed seed) and its exact mean."""
    x = _gamma_draws(np.random.default_rng(12), shape, 20_000)
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > 0.001
    assert abs(x.mean() - shape) < 4 * np.sqrt(shape / x.size)
