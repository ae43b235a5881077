"""hierlib.unequal: prior group variances, the t marginal, variance and mean shrinkage."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from hierlib import unequal
from hierlib.data import GroupStats, group_stats
from hierlib.marginal import simulate_two_level


def test_group_variances_have_precision_mean_one_over_sigma02():
    rng = np.random.default_rng(630)
    s2 = unequal.draw_group_variances(rng, nu0=10.0, sigma02=40.0, m=200_000)
    lam = 40.0 / s2  # Gamma(5, rate 5): mean 1, variance 2/nu0 = 0.2
    assert lam.mean() == pytest.approx(1.0, abs=0.005)
    assert lam.var() == pytest.approx(0.2, abs=0.005)
    # E[sigma_j^2] = nu0 sigma02 / (nu0 - 2) = 50
    assert s2.mean() == pytest.approx(50.0, rel=0.01)


def test_scale_mixture_is_student_t():
    rng = np.random.default_rng(1)
    nu0, sigma02, size = 4.0, 36.0, 200_000
    s2 = unequal.draw_group_variances(rng, nu0, sigma02, size)
    dev, _ = simulate_two_level(rng, np.ones(size, dtype=int), 0.0, 0.0, s2)
    probs = np.array([0.01, 0.1, 0.5, 0.9, 0.99])
    expected = stats.t.ppf(probs, nu0, scale=6.0)
    np.testing.assert_allclose(np.quantile(dev, probs), expected, atol=0.12)
    # and clearly not the normal with the same scale: its 1% quantile is -13.96, t_4's -22.4
    assert np.quantile(dev, 0.01) < stats.norm.ppf(0.01, scale=6.0) - 6


def test_draw_group_variances_bad_input():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="nu0"):
        unequal.draw_group_variances(rng, 0.0, 1.0, 3)
    with pytest.raises(ValueError, match="Generator"):
        unequal.draw_group_variances(np.random.RandomState(0), 1.0, 1.0, 3)


def test_variance_shrinkage_weight():
    np.testing.assert_allclose(
        unequal.variance_shrinkage_weight([14, 67], 31.0), [29 / 43, 29 / 96]
    )
    with pytest.raises(ValueError, match="at least 1"):
        unequal.variance_shrinkage_weight([0, 3], 4.0)
    with pytest.raises(ValueError, match="exceed 2"):
        unequal.variance_shrinkage_weight([5], 2.0)


def test_the_weight_splits_the_conditional_mean_of_sigma2_j():
    """E[sigma_j^2 | .] (inverse gamma mean of the full conditional) = w prior mean + (1-w) S/n."""
    from hierlib import conditionals

    st = group_stats(
        np.array([1.0, 3.0, 2.0, 6.0, 10.0, 0.0, 5.0]), np.array([0, 0, 1, 1, 1, 2, 2])
    )
    theta, nu0, s02 = np.array([1.5, 5.0, 3.0]), 7.0, 9.0
    g = conditionals.sigma_j_precision(st, theta, nu0, s02)
    exact = g.rate / (g.shape - 1)  # mean of the inverse gamma
    w = unequal.variance_shrinkage_weight(st.n, nu0)
    s_j = st.ss + st.n * (st.ybar - theta) ** 2
    np.testing.assert_allclose(exact, w * nu0 * s02 / (nu0 - 2) + (1 - w) * s_j / st.n)


def test_variance_table_from_a_posterior():
    y = np.array([1.0, 3.0, 2.0, 6.0, 10.0, 0.0, 5.0])
    groups = np.array([0, 0, 1, 1, 1, 2, 2])
    st = group_stats(y, groups)
    post = SimpleNamespace(
        stats=st,
        sigma2_j_mean=np.array([2.5, 12.0, 11.0]),
        sigma2_j_sd=np.array([1.0, 2.0, 3.0]),
        draws={"nu0": np.array([[3.0, 5.0]]), "sigma02": np.array([[9.0, 9.0]])},
    )
    table = unequal.variance_table(post)
    np.testing.assert_allclose(table["s2"], [2.0, 16.0, 12.5])
    np.testing.assert_allclose(table["pulled"], [-0.5, 4.0, 1.5])
    np.testing.assert_allclose(table["weight"], [2 / 4, 2 / 5, 2 / 4])
    with pytest.raises(ValueError, match="unequal-variances"):
        unequal.variance_table(SimpleNamespace(draws={"mu": 1}))


def _stats(ybar, s2, n=11):
    """A hand-built GroupStats with the given means and sample variances (n per group)."""
    k = len(ybar)
    return GroupStats(np.arange(k), np.full(k, n), np.array(ybar), (n - 1) * np.array(s2))


def test_mean_shrinkage_share():
    st = _stats(ybar=[10.0, 14.0, 12.0, 4.0], s2=[1.0, 1.0, 1.0, 1.0])
    share = unequal.mean_shrinkage(st, [11.0, 13.5, 12.0, 8.0], mu=12.0)
    np.testing.assert_allclose(share[[0, 1, 3]], [0.5, 0.25, 0.5])
    assert np.isnan(share[2])  # a school at mu has no direction to be pulled in
    with pytest.raises(ValueError, match="groups"):
        unequal.mean_shrinkage(st, [1.0, 2.0], mu=0.0)


def test_figures_have_labelled_axes():
    import matplotlib

    matplotlib.use("Agg")
    rng = np.random.default_rng(2)
    axes = unequal.plot_t_marginal(rng, [4, 30], sigma02=36.0, n_draws=2000)
    assert len(axes) == 2 and axes[0].get_yscale() == "log"
    assert "points" in axes[1].get_xlabel() and axes[0].get_title() == "ν₀ = 4"
    st = _stats(ybar=[10.0, 14.0, 4.0], s2=[30.0, 40.0, 50.0])
    equal = SimpleNamespace(theta_mean=np.array([11.0, 13.5, 8.0]), draws={"mu": np.array([12.0])})
    uneq = SimpleNamespace(theta_mean=np.array([11.5, 13.0, 9.0]), draws={"mu": np.array([12.0])})
    ax = unequal.plot_mean_shrinkage_compare(st, equal, uneq)
    assert "equal variances" in ax.get_xlabel() and "own variance" in ax.get_ylabel()
    np.testing.assert_allclose(
        ax.collections[0].get_offsets(), [[0.5, 0.75], [0.25, 0.5], [0.5, 0.625]]
    )
