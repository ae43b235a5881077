"""The exact marginal p(tau2 | y) against the Gibbs sampler and itself, and the exact pooling
posteriors against their closed-form moments."""

import numpy as np
import pytest

from hierlib import exact, gibbs, priors
from hierlib.data import group_stats, subsample_groups

PRIORS = {
    "flat tau2": None,
    "uniform tau": priors.Default(tau2="uniform-tau"),
    "half-Cauchy": priors.HalfCauchy(scale=5.0),
    "semi-conjugate": priors.SemiConjugate(mu0=12, g20=100, eta0=1, t20=9, nu0=1, s20=36),
}


@pytest.fixture(scope="module")
def eight(hsb):
    """8 HSB schools: few groups, so the priors on tau differ."""
    return subsample_groups(hsb["mathach"], hsb["school"], 8, np.random.default_rng(630))


def moments(tab):
    mean = np.trapezoid(tab["tau2"] * tab["density"], tab["tau2"])
    tau_mean = np.trapezoid(tab["tau"] * tab["density"], tab["tau2"])
    return mean, tau_mean


@pytest.mark.parametrize("name", PRIORS)
def test_quadrature_error_is_small(eight, name):
    coarse = exact.marginal_tau2(*eight, prior=PRIORS[name], n_grid=301)
    fine = exact.marginal_tau2(*eight, prior=PRIORS[name], n_grid=2401)
    assert np.trapezoid(fine["density"], fine["tau2"]) == pytest.approx(1.0)
    assert list(fine.columns) == ["tau2", "density", "tau", "density_tau"]
    np.testing.assert_allclose(moments(coarse), moments(fine), rtol=2e-3)
    np.testing.assert_allclose(fine["density_tau"], 2 * fine["tau"] * fine["density"])


@pytest.mark.parametrize("name", PRIORS)
def test_gibbs_tau_draws_follow_the_exact_marginal(eight, name):
    tab = exact.marginal_tau2(*eight, prior=PRIORS[name])
    post = gibbs.hierarchical_normal(
        *eight, prior=PRIORS[name], parameterization="interweaved", n_draws=20_000, seed=8
    )
    tau2 = post.draws["tau2"]
    tau = np.sqrt(tau2)
    for x, exact_mean in ((tau2, moments(tab)[0]), (tau, moments(tab)[1])):
        batches = x.reshape(4, 40, -1).mean(axis=2).ravel()  # batch means: MC error
        se = batches.std(ddof=1) / np.sqrt(batches.size)
        assert abs(x.mean() - exact_mean) < 4 * se, (x.mean(), exact_mean, se)
    # and the whole distribution: the exact cdf at the Gibbs quartiles
    cdf = np.concatenate([[0], np.cumsum(np.diff(tab["tau2"]) * 0.5 * (
        tab["density"].to_numpy()[1:] + tab["density"].to_numpy()[:-1]))])  # fmt: skip
    for q in (0.25, 0.5, 0.75):
        assert np.interp(np.quantile(tau, q), tab["tau"], cdf) == pytest.approx(q, abs=0.02)


def test_priors_matter_with_eight_schools_and_not_with_160(hsb, eight):
    few = {k: moments(exact.marginal_tau2(*eight, prior=p))[1] for k, p in PRIORS.items()}
    assert few["flat tau2"] > few["uniform tau"] + 0.3
    many = {
        k: moments(exact.marginal_tau2(hsb["mathach"], hsb["school"], prior=p))[1]
        for k, p in PRIORS.items()
    }
    assert max(many.values()) - min(many.values()) < 0.05


def test_bad_input(eight):
    y, g = eight
    keep = np.isin(g, np.unique(g)[:3])
    with pytest.raises(ValueError, match="at least 4 groups"):
        exact.marginal_tau2(y[keep], g[keep])
    assert exact.marginal_tau2(y[keep], g[keep], prior=priors.Default(tau2="uniform-tau")).size
    with pytest.raises(ValueError, match="prior must be"):
        exact.marginal_tau2(y, g, prior=priors.UnequalVariances())
    with pytest.raises(ValueError, match="n_grid"):
        exact.marginal_tau2(y, g, n_grid=10)
    with pytest.raises(ValueError, match="NaN"):
        exact.marginal_tau2(np.where(np.arange(y.size) == 0, np.nan, y), g)


def test_pooling_posteriors_have_their_exact_moments(eight):
    y, g = eight
    s = group_stats(y, g)
    cp = exact.complete_pooling(y, g, n_draws=50_000, seed=3)
    ss_total = np.sum((y - y.mean()) ** 2)
    # sigma2 ~ SS / chi2_(n-1): mean SS/(n-3); mu ~ t around ybar with var E[sigma2]/n
    assert cp.draws["sigma2"].mean() == pytest.approx(ss_total / (y.size - 3), rel=0.01)
    assert cp.draws["mu"].mean() == pytest.approx(y.mean(), abs=0.03)
    assert cp.draws["mu"].var() == pytest.approx(ss_total / (y.size - 3) / y.size, rel=0.03)
    npool = exact.no_pooling(y, g, n_draws=50_000, seed=3)
    df = y.size - s.m
    assert npool.draws["sigma2"].mean() == pytest.approx(s.ss.sum() / (df - 2), rel=0.01)
    np.testing.assert_allclose(npool.theta_mean, s.ybar, atol=0.05)
    np.testing.assert_allclose(npool.theta_sd**2, s.ss.sum() / (df - 2) / s.n, rtol=0.03)
    again = exact.no_pooling(y, g, n_draws=10, seed=3)
    np.testing.assert_array_equal(
        again.draws["sigma2"], exact.no_pooling(y, g, 10, seed=3).draws["sigma2"]
    )
    with pytest.raises(ValueError, match="within-group spread"):
        exact.no_pooling([1.0, 2.0, 3.0], ["a", "b", "c"])
    with pytest.raises(ValueError, match="all values of y are equal"):
        exact.complete_pooling([1.0, 1.0], ["a", "b"])
