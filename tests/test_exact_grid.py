"""The exact marginal's grid comes from the posterior: its ends carry no mass, tiny prior
scales and data with almost no between-group spread give the right answer (against a
brute-force quadrature written here, on the full multivariate normal likelihood of y), a
prior scale beyond floating point is refused; tau_summary's prob and infinite means; the
exact pooling fits and the textbook sampler at the edges of floating point; sigma2_j_sd of
the unequal-variances sampler at extreme scales."""

import warnings

import numpy as np
import pytest

from hierlib import exact, gibbs, priors, textbook
from hierlib.data import group_stats, subsample_groups


def small_data(between: float, seed: int = 5):
    """6 groups of 4 scores (sd 1 within), group means spread by ``between``."""
    rng = np.random.default_rng(seed)
    groups = np.repeat(np.arange(6), 4)
    y = 10.0 + between * rng.standard_normal(6)[groups] + rng.standard_normal(groups.size)
    return y, groups


def half_cauchy(scale):
    """log p(tau) of half-Cauchy(0, scale), up to a constant."""
    return lambda tau: -np.log(scale * (1 + (tau / scale) ** 2))


def brute_force_tau(y, groups, log_prior_tau, mu0, g20, tau_range, s2_prior=None, n_tau=2001):
    """E[tau | y] and the 2.5%/97.5% quantiles of tau by brute force: y ~ MVN(mu0 1,
    sigma2 I + tau2 Z Z' + g20 1 1') (mu ~ N(mu0, g20) and theta integrated out by the
    covariance), p(sigma2) ∝ 1/sigma2 or inverse gamma ``s2_prior = (shape, scale)``, the
    prior ``log_prior_tau`` on tau; sigma2 and log tau (over ``tau_range``) on dense grids
    (trapezoid in log tau, log sigma2)."""
    n_sigma = 61
    z = (groups[:, None] == np.unique(groups)[None, :]).astype(float)
    ones = np.ones((y.size, y.size))
    s2 = np.var(y - np.array([y[groups == g].mean() for g in groups]), ddof=6)
    log_s2 = np.log(s2) + np.linspace(-4.0, 4.0, n_sigma)
    log_tau = np.linspace(np.log(tau_range[0]), np.log(tau_range[1]), n_tau)
    r = y - mu0
    log_post = np.empty(n_tau)
    eye = np.eye(y.size)
    for i, lt in enumerate(log_tau):
        cov = (
            np.exp(log_s2)[:, None, None] * eye
            + np.exp(2 * lt) * (z @ z.T)[None]
            + g20 * ones[None]
        )
        _, logdet = np.linalg.slogdet(cov)
        quad = np.einsum("i,kij,j->k", r, np.linalg.inv(cov), r)
        log_lik = -0.5 * (logdet + quad)  # prior 1/sigma2 is flat in log sigma2
        if s2_prior is not None:  # inverse gamma, times the Jacobian sigma2
            log_lik = log_lik - s2_prior[0] * log_s2 - s2_prior[1] / np.exp(log_s2)
        top = log_lik.max()
        log_post[i] = top + np.log(np.trapezoid(np.exp(log_lik - top), log_s2))
    tau = np.exp(log_tau)
    log_prior = log_prior_tau(tau)
    w = np.exp(log_post + log_prior + log_tau - (log_post + log_prior + log_tau).max())
    norm = np.trapezoid(w, log_tau)
    cdf = np.concatenate([[0], np.cumsum(np.diff(log_tau) * 0.5 * (w[1:] + w[:-1]))]) / norm
    return np.trapezoid(w * tau, log_tau) / norm, np.interp([0.025, 0.975], cdf, tau)


def per_log_tau(table):
    """The density of log tau at the grid points: tau * p(tau) = 2 tau^2 p(tau^2)."""
    return (table["tau"] * table["density_tau"]).to_numpy()


@pytest.mark.parametrize(
    ("between", "scale"),
    [(1.0, 1e-6), (1e-6, 1.0), (1e-6, 1e-8), (3.0, 1e-3)],
    ids=["tiny scale", "no between spread", "both", "moderate"],
)
def test_half_cauchy_marginal_matches_brute_force(between, scale):
    y, groups = small_data(between)
    prior = priors.HalfCauchy(scale=scale, mu0=10.0, g20=4.0)
    table = exact.marginal_tau2(y, groups, prior)
    got = exact.tau_summary(table)
    tau_range = scale * np.exp(-35.0), 100.0 * y.std()
    mean, (lower, upper) = brute_force_tau(y, groups, half_cauchy(scale), 10.0, 4.0, tau_range)
    assert got["mean"] == pytest.approx(mean, rel=2e-3)
    assert got["lower"] == pytest.approx(lower, rel=2e-2)
    assert got["upper"] == pytest.approx(upper, rel=2e-2)


def test_tiny_scale_moves_tau_down_to_the_scale():
    """Before: a grid starting near 1e-5 sd reported E[tau] near 1 whatever the scale."""
    y, groups = small_data(0.0)
    got = exact.tau_summary(exact.marginal_tau2(y, groups, priors.HalfCauchy(scale=1e-9)))
    # the half-Cauchy's own 2.5% quantile is tan(pi / 80) A = 0.039 A
    assert 1e-11 < got["lower"] < 1e-10 and 1e-9 < got["upper"] < 1e-7
    assert got["mean"] < 1e-3


@pytest.mark.parametrize(
    "prior",
    [None, priors.Default(tau2="uniform-tau"), priors.HalfCauchy(scale=1e-9),
     priors.SemiConjugate(mu0=10, g20=4, eta0=2, t20=1e-20, nu0=1, s20=1)],
    ids=["flat", "uniform tau", "tiny half-Cauchy", "tiny t20"],
)  # fmt: skip
@pytest.mark.parametrize("between", [1e-8, 1.0])
def test_grid_ends_carry_negligible_mass(prior, between):
    y, groups = small_data(between)
    table = exact.marginal_tau2(y, groups, prior)
    dens = per_log_tau(table)
    assert max(dens[0], dens[-1]) < 2 * exact.TAU_TAIL * dens.max()
    assert dens.argmax() not in (0, dens.size - 1)
    log_tau = np.log(table["tau"].to_numpy())
    total = np.trapezoid(dens, log_tau)
    # the trapezoid normalisation in tau^2, seen by the trapezoid in log tau: O(h^2) apart
    assert total == pytest.approx(1.0, rel=3e-3)
    end_cells = 0.5 * (dens[0] + dens[1]) * (log_tau[1] - log_tau[0]) + 0.5 * (
        dens[-1] + dens[-2]
    ) * (log_tau[-1] - log_tau[-2])
    assert end_cells < 1e-9 * total
    # the mean's integrand tau * p(log tau) has fallen at the upper end too
    mean_part = dens * table["tau"].to_numpy()
    assert mean_part[-1] < 2 * exact.TAU_TAIL * mean_part.max()


def test_hsb_numbers_unchanged(hsb):
    """The lecture's exact posterior of tau on HSB (notebook 05: E[tau | y] = 2.97)."""
    got = exact.tau_summary(exact.marginal_tau2(hsb["mathach"], hsb["school"], n_grid=401))
    assert got["mean"] == pytest.approx(2.97105117655, abs=1e-8)
    assert got["lower"] == pytest.approx(2.626, abs=1e-3)
    assert got["upper"] == pytest.approx(3.363, abs=1e-3)


def test_half_cauchy_scale_beyond_floating_point(hsb):
    y, g = hsb["mathach"], hsb["school"]
    tiny = priors.HalfCauchy(scale=1e-300)  # A^2 underflows: the samplers cannot use it
    with pytest.raises(ValueError, match="1e-150 <= scale <= 1e150"):
        gibbs.hierarchical_normal(y, g, prior=tiny, n_draws=10, n_warmup=0)
    with pytest.raises(ValueError, match="1e-150 <= scale <= 1e150"):
        priors.HalfCauchy(scale=1e200).scale2  # noqa: B018 -- before: OverflowError
    # the exact marginal never squares A; a scale this far below the data's is refused
    with pytest.raises(ValueError, match="prior puts tau on a scale that far"):
        exact.marginal_tau2(y, g, tiny)
    # far above the data, the half-Cauchy is flat in tau: p(tau) ∝ 1
    huge = exact.tau_summary(exact.marginal_tau2(y, g, priors.HalfCauchy(scale=1e200)))
    flat_tau = exact.tau_summary(exact.marginal_tau2(y, g, priors.Default(tau2="uniform-tau")))
    assert huge["mean"] == pytest.approx(flat_tau["mean"], rel=1e-6)


def test_hsb_tiny_scale_answer(hsb):
    """On HSB the likelihood at tau = 3 is e^493 times that at 0, so a half-Cauchy scale of
    1e-100 (A^2 still a double) leaves the posterior near 3, and 1e-3 likewise."""
    y, g = hsb["mathach"], hsb["school"]
    for scale in (1e-100, 1e-3):
        got = exact.tau_summary(exact.marginal_tau2(y, g, priors.HalfCauchy(scale=scale)))
        assert 2.5 < got["lower"] < got["mean"] < got["upper"] < 3.5


def test_tau_summary_checks_prob():
    table = exact.marginal_tau2(*small_data(1.0))
    for bad in (1.5, -0.5, 2, 0.0, 1.0, np.nan, True):
        with pytest.raises(ValueError, match="prob"):
            exact.tau_summary(table, bad)


def test_tau_summary_reports_an_infinite_mean():
    y, groups = small_data(1.0)
    keep = groups < 4  # 4 groups, flat prior on tau2: E[tau | y] = inf
    table = exact.marginal_tau2(y[keep], groups[keep])
    with pytest.warns(gibbs.InfiniteMeanWarning, match=r"E\[tau \| y\] are infinite"):
        got = exact.tau_summary(table)
    assert got["mean"] == np.inf and 0 < got["lower"] < got["upper"] < np.inf
    keep3 = groups < 3  # 3 groups, p(tau) ∝ 1: infinite too
    table3 = exact.marginal_tau2(y[keep3], groups[keep3], priors.Default(tau2="uniform-tau"))
    with pytest.warns(gibbs.InfiniteMeanWarning):
        assert exact.tau_summary(table3)["mean"] == np.inf
    keep5 = groups < 5  # 5 groups, flat: E[tau] finite, E[tau2] infinite: no warning here
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(exact.tau_summary(exact.marginal_tau2(y[keep5], groups[keep5]))["mean"])


@pytest.mark.parametrize("fit", [exact.complete_pooling, exact.no_pooling])
@pytest.mark.parametrize("scale", [1e152, 1e-160])
def test_pooling_fits_refuse_floating_point_overflow(hsb, fit, scale):
    """Before: all-infinite draws at 1e152, "no spread" blamed at 1e-160."""
    y, g = subsample_groups(hsb["mathach"], hsb["school"], 8, np.random.default_rng(1))
    with pytest.raises(ValueError, match="rescale y") as err:
        fit(y * scale, g, n_draws=10)
    assert "spread" not in str(err.value) and "equal" not in str(err.value)
    post = fit(y * 1e100, g, n_draws=10)  # still inside: finite draws
    assert all(np.isfinite(v).all() for v in post.draws.values())


def test_pooling_fits_blame_spread_only_when_there_is_none():
    with pytest.raises(ValueError, match="all values of y are equal"):
        exact.complete_pooling(np.full(6, 2.0), np.repeat([1, 2], 3))
    with pytest.raises(ValueError, match="within-group spread"):
        exact.no_pooling(np.array([1.0, 1, 1, 2, 2, 2]), np.repeat([1, 2], 3))


def test_textbook_refuses_equal_group_means():
    y = np.tile([1.0, 2.0, 3.0], 5)
    stats = group_stats(y, np.repeat(np.arange(5), 3))
    with pytest.raises(ValueError, match="same mean"):
        textbook.run_chains(stats, n_draws=10, n_warmup=0, n_chains=1)


@pytest.mark.parametrize("scale", [1e77, 1e100, 1e-100])
def test_unequal_variances_sd_survives_extreme_scales(hsb, scale):
    y, g = subsample_groups(hsb["mathach"], hsb["school"], 8, np.random.default_rng(2))
    base = gibbs.unequal_variances(y, g, n_draws=200, n_warmup=50, n_chains=2, seed=4)
    far = gibbs.unequal_variances(y * scale, g, n_draws=200, n_warmup=50, n_chains=2, seed=4)
    assert np.isfinite(far.sigma2_j_sd).all() and (far.sigma2_j_sd > 0).all()
    np.testing.assert_allclose(far.sigma2_j_sd / scale**2, base.sigma2_j_sd, rtol=1e-6)
    np.testing.assert_allclose(far.sigma2_j_mean / scale**2, base.sigma2_j_mean, rtol=1e-6)


def test_marginal_blames_underflow_not_spread():
    """Squares of deviations near 1e-170 underflow to 0: the message says so."""
    y = 1e-170 * np.array([1, 2, 3, 1, 1.5, 2, 0, 1, 0, 2, 1, 3])
    with pytest.raises(ValueError, match="underflow to 0") as err:
        exact.marginal_tau2(y, np.repeat(np.arange(4), 3))
    assert "within-group spread" not in str(err.value)
    with pytest.raises(ValueError, match="within-group spread"):  # a real lack of spread
        exact.marginal_tau2(np.repeat([1.0, 2, 3, 4], 3), np.repeat(np.arange(4), 3))


@pytest.mark.parametrize(("eta0", "t20"), [(1e-3, 1e-100), (1.0, 1e-20), (1.0, 1e10)])
def test_semi_conjugate_marginal_matches_brute_force(eta0, t20):
    """Inverse-gamma priors on tau2 whose guess t20 is far from the data: the mass can spread
    over a hundred decades of tau (eta0 small), and the mean must still be on the grid."""
    y, groups = small_data(1.0)
    prior = priors.SemiConjugate(mu0=10.0, g20=4.0, eta0=eta0, t20=t20, nu0=2.0, s20=1.0)
    got = exact.tau_summary(exact.marginal_tau2(y, groups, prior))
    a, b = eta0 / 2, eta0 * t20 / 2  # 1/tau2 ~ Gamma(a, rate b): p(tau) ∝ tau^(-2a-1) e^(-b/tau2)

    def log_prior(tau):
        return -(2 * a + 1) * np.log(tau) - b / tau**2

    tau_range = (np.sqrt(b) * 1e-2, 1e3) if t20 < 1 else (1e2, 3e6)  # beyond: cov singular
    mean, (lower, upper) = brute_force_tau(
        y, groups, log_prior, 10.0, 4.0, tau_range, s2_prior=(1.0, 1.0), n_tau=4001
    )
    assert got["mean"] == pytest.approx(mean, rel=3e-3)
    assert got["lower"] == pytest.approx(lower, rel=3e-2)
    assert got["upper"] == pytest.approx(upper, rel=3e-2)
