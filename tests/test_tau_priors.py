"""The priors p(tau) ∝ 1 and tau ~ half-Cauchy(0, A): pseudo-counts, full conditionals against
the log joint density, the mixture representation, the interweaving step, every
parameterisation and engine against the exact marginal, and SBC under a proper stand-in."""

import math

import numpy as np
import pytest
from log_joint_checks import (
    assert_constant,
    assert_interweaving_target,
    point_away_from_the_mode,
    six_groups,
)
from scipy import integrate, stats

from hierlib import conditionals as cond
from hierlib import exact, gibbs, priors, sbc
from hierlib.data import subsample_groups
from hierlib.samplers import _kernels

HC = priors.HalfCauchy(scale=1.5)
HC_PROPER = priors.HalfCauchy(scale=1.0, mu0=0.0, g20=4.0, nu0=4.0, s20=1.0)


@pytest.fixture(scope="module")
def data():
    return six_groups()


@pytest.fixture(scope="module")
def point(data):
    return point_away_from_the_mode(data)


def test_uniform_tau_is_a_tau_minus_one_half():
    # p(tau) ∝ 1 -> p(tau2) ∝ tau2^(-1/2) -> p(lambda = 1/tau2) ∝ lambda^(1/2) lambda^(-2)
    prior = priors.Default(tau2="uniform-tau")
    assert prior.hyper() == (0.0, 0.0, -0.5, 0.0, 0.0, 0.0)
    t2 = np.array([0.3, 1.0, 4.0])
    lp = np.array([prior.logpdf(0.0, 1.0, t) for t in t2])
    # density of tau = sqrt(tau2) is p(tau2) * 2 tau: constant
    assert_constant(lp + np.log(2 * np.sqrt(t2)))
    with pytest.raises(ValueError, match="at least 3 groups"):
        prior.check_data(2, 10, 5.0)
    prior.check_data(3, 10, 5.0)
    with pytest.raises(ValueError, match="at least 4 groups"):
        priors.Default().check_data(3, 10, 5.0)
    with pytest.raises(ValueError, match="'flat' or 'uniform-tau'"):
        priors.Default(tau2="cauchy")


def test_uniform_tau_conditional_matches_log_joint(data, point):
    prior = priors.Default(tau2="uniform-tau")
    th, mu, s2 = point["theta"], point["mu"], point["sigma2"]
    _, _, a_tau, b_tau, _, _ = prior.hyper()
    grid = np.linspace(0.05, 10, 20)
    joint = [cond.log_joint(*data, th, mu, s2, v, prior) for v in grid]
    g = cond.tau_precision(th - mu, a_tau, b_tau)  # Gamma((m-1)/2, Q/2)
    assert g.shape == pytest.approx((th.size - 1) / 2)
    assert_constant(np.array(joint) - g.logpdf_of_inverse(grid))


def test_half_cauchy_is_the_inverse_gamma_mixture():
    """Integrating a out of IG(tau2; 1/2, 1/a) IG(a; 1/2, 1/A^2) gives the half-Cauchy
    density of tau2, by quadrature."""
    for t2 in (0.05, 0.7, 2.25, 9.0, 40.0):
        mixed = integrate.quad(
            lambda a, t2=t2: math.exp(HC.logpdf_augmented(0.0, 1.0, t2, a) + math.log(1.0)),
            0,
            np.inf,
            limit=200,
        )[0]
        # logpdf_augmented includes -log sigma2 = 0 at sigma2 = 1
        assert math.log(mixed) == pytest.approx(HC.logpdf_tau2(t2), abs=1e-6)
    # and the density of tau is 2 / (pi A (1 + tau^2/A^2)): the half-Cauchy
    tau = 0.8
    assert HC.logpdf_tau2(tau**2) + math.log(2 * tau) == pytest.approx(
        stats.halfcauchy.logpdf(tau, scale=1.5)
    )


def test_half_cauchy_conditionals_match_the_augmented_log_joint(data, point):
    th, mu, s2 = point["theta"], point["mu"], point["sigma2"]
    a = 0.6

    def lj(tau2=0.8, aux=a):
        # log p(y | theta, s2) + log p(theta | mu, tau2) + log p(mu, s2, tau2, a)
        y, g = data
        _, idx = np.unique(g, return_inverse=True)
        return float(
            stats.norm.logpdf(y, th[idx], math.sqrt(s2)).sum()
            + stats.norm.logpdf(th, mu, math.sqrt(tau2)).sum()
            + HC.logpdf_augmented(mu, s2, tau2, aux)
        )

    mu0, p0, a_tau, _, _, _, scale2 = HC.hyper()
    assert (a_tau, scale2) == (0.5, 2.25)
    grid = np.linspace(0.05, 10, 20)
    g = cond.tau_precision(th - mu, a_tau, 1.0 / a)  # b_tau = 1/a
    assert_constant(np.array([lj(tau2=v) for v in grid]) - g.logpdf_of_inverse(grid))
    agrid = np.linspace(0.05, 8, 20)
    g = cond.cauchy_aux_precision(0.8, scale2)  # law of 1/a
    assert_constant(np.array([lj(aux=v) for v in agrid]) - g.logpdf_of_inverse(agrid))
    # the conditionals of theta, mu and sigma2 do not involve the prior on tau: as before
    assert_constant(
        np.array([lj() - HC.logpdf_augmented(mu, s2, 0.8, a) for _ in range(2)]), tol=1e-12
    )


def test_interweaving_target_uses_the_half_cauchy_density(data, point):
    assert_interweaving_target(data, point, 0.8, HC, _kernels.LOG_TAU_HALF_CAUCHY, (HC.scale2, 0.0))


def test_half_cauchy_checks_and_draws():
    with pytest.raises(ValueError, match="scale"):
        priors.HalfCauchy(scale=0)
    with pytest.raises(ValueError, match="give both mu0 and g20"):
        priors.HalfCauchy(scale=1, mu0=0)
    with pytest.raises(ValueError, match="improper"):
        HC.sample(np.random.default_rng(1))
    with pytest.raises(ValueError, match="within-group spread"):
        HC.check_data(5, 5, 0.0)
    HC.check_data(2, 10, 1.0)  # the tau part needs no minimum number of groups
    tau = np.sqrt([HC_PROPER.sample(np.random.default_rng(i))["tau2"] for i in range(4000)])
    assert stats.kstest(tau, stats.halfcauchy(scale=1.0).cdf).pvalue > 0.001


@pytest.fixture(scope="module")
def eight(hsb):
    return subsample_groups(hsb["mathach"], hsb["school"], 8, np.random.default_rng(630))


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("parameterization", ["centered", "offset", "interweaved"])
@pytest.mark.parametrize("name", ["uniform-tau", "half-Cauchy"])
def test_every_parameterisation_and_engine_follows_the_exact_marginal(
    eight, engine, parameterization, name
):
    prior = priors.Default(tau2="uniform-tau") if name == "uniform-tau" else HC
    tab = exact.marginal_tau2(*eight, prior=prior)
    exact_tau = np.trapezoid(tab["tau"] * tab["density"], tab["tau2"])
    n = 20_000 if engine == "numba" else 4000
    post = gibbs.hierarchical_normal(
        *eight, prior=prior, parameterization=parameterization, n_draws=n, seed=3, engine=engine
    )
    tau = np.sqrt(post.draws["tau2"])
    batches = tau.reshape(4, 20, -1).mean(axis=2).ravel()
    se = batches.std(ddof=1) / np.sqrt(batches.size)
    assert abs(tau.mean() - exact_tau) < 4.5 * se, (tau.mean(), exact_tau, se)


@pytest.mark.sbc
@pytest.mark.parametrize("parameterization", ["centered", "interweaved", "offset"])
def test_half_cauchy_sampler_is_calibrated(parameterization):
    """SBC under the proper stand-in: tau ~ half-Cauchy(0, 1) with mu ~ N(0, 4) and
    1/sigma2 ~ Gamma(2, 2); the tau update is the one the improper HalfCauchy uses."""
    result = sbc.gibbs_sbc(
        "hierarchical_normal",
        prior=HC_PROPER,
        parameterization=parameterization,
        n_reps=1000,
        n_bins=20,
        thin_by={"offset": 200, "centered": 20}.get(parameterization, 10),
        seed=630,
        check_ess=True,
    )
    table = result.test()
    assert (table["p_value"] > 0.01).all(), table
    assert (table["ess_over_L"] > 0.8).all(), table
