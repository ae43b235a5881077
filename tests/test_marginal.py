"""hierlib.marginal: ICC, block compound-symmetry covariance, marginal likelihood, simulator."""

import numpy as np
import pytest
from scipy import stats

from hierlib.data import group_stats
from hierlib.marginal import (
    icc,
    marginal_cov,
    marginal_loglik,
    simulate_two_level,
    within_group_correlation,
)


def dense_reference(sizes, tau2, sigma2):
    """The marginal covariance written out entry by entry from the lecture's definition."""
    labels = np.repeat(np.arange(len(sizes)), sizes)
    s2 = np.broadcast_to(np.asarray(sigma2, float), (len(sizes),))
    n = labels.size
    out = np.empty((n, n))
    for a in range(n):
        for b in range(n):
            if labels[a] != labels[b]:
                out[a, b] = 0.0
            elif a == b:
                out[a, b] = tau2 + s2[labels[a]]
            else:
                out[a, b] = tau2
    return out


def test_icc_lecture_value():
    # the lecture: 8.61 / (8.61 + 39.14) = 0.18
    assert icc(8.61, 39.14) == pytest.approx(0.1803, abs=1e-4)
    assert icc(0.0, 5.0) == 0.0
    assert icc(5.0, 0.0) == 1.0


@pytest.mark.parametrize("sigma2", [2.0, [1.0, 2.0, 3.0, 4.0]])
def test_blocks_equal_dense_construction(sigma2):
    sizes = [3, 1, 4, 2]
    cov = marginal_cov(sizes, tau2=1.5, sigma2=sigma2)
    ref = dense_reference(sizes, 1.5, sigma2)
    assert cov.shape == (10, 10)
    np.testing.assert_array_equal(cov.to_dense(), ref)
    np.testing.assert_array_equal(cov.diagonal(), np.diag(ref))
    np.testing.assert_array_equal(cov.block(2), ref[4:8, 4:8])
    x = np.random.default_rng(0).normal(size=10)
    np.testing.assert_allclose(cov.matvec(x), ref @ x, rtol=1e-12)
    np.testing.assert_allclose(cov.solve(x), np.linalg.solve(ref, x), rtol=1e-10)
    assert cov.logdet() == pytest.approx(np.linalg.slogdet(ref)[1], rel=1e-12)


def test_large_n_stays_structured():
    sizes = np.full(20_000, 50)  # n = 1,000,000: a dense matrix would need 8 TB
    cov = marginal_cov(sizes, tau2=8.6, sigma2=39.1)
    assert cov.n == 1_000_000
    ones = np.ones(cov.n)
    # each row of a block sums to sigma2 + n_j tau2
    np.testing.assert_allclose(cov.matvec(ones), 39.1 + 50 * 8.6)
    np.testing.assert_allclose(cov.solve(cov.matvec(ones)), ones, rtol=1e-12)
    with pytest.raises(ValueError, match="too large"):
        cov.to_dense()


def test_marginal_loglik_equals_multivariate_normal():
    rng = np.random.default_rng(1)
    sizes = [3, 5, 2, 6]
    y, g = simulate_two_level(rng, sizes, mu=2.0, tau2=1.3, sigma2=0.7)
    ref = stats.multivariate_normal(mean=np.full(y.size, 1.7), cov=dense_reference(sizes, 2.1, 0.9))
    got = marginal_loglik(group_stats(y, g), mu=1.7, tau2=2.1, sigma2=0.9)
    assert got == pytest.approx(ref.logpdf(y), rel=1e-12)


def test_simulate_shapes_labels_and_reproducibility():
    y, g = simulate_two_level(np.random.default_rng(5), [2, 3, 4], 1.0, 1.0, 1.0)
    assert y.shape == (9,) and y.dtype == np.float64
    np.testing.assert_array_equal(g, [0, 0, 1, 1, 1, 2, 2, 2, 2])
    y2, _ = simulate_two_level(np.random.default_rng(5), [2, 3, 4], 1.0, 1.0, 1.0)
    np.testing.assert_array_equal(y, y2)


def test_simulated_within_group_correlation_matches_icc():
    # tau2, sigma2 at the lecture's REML estimates: ICC = 0.180
    rng = np.random.default_rng(630)
    y, g = simulate_two_level(rng, np.full(5000, 20), mu=12.6, tau2=8.61, sigma2=39.15)
    r = within_group_correlation(y, g)
    # sampling sd of r here is about 0.004
    assert r == pytest.approx(icc(8.61, 39.15), abs=0.015)
    st = group_stats(y, g)
    assert y.var() == pytest.approx(8.61 + 39.15, rel=0.03)
    assert st.ss.sum() / (st.n_total - st.m) == pytest.approx(39.15, rel=0.01)


def test_simulate_unequal_variances():
    rng = np.random.default_rng(2)
    s2 = np.array([1.0, 100.0])
    y, g = simulate_two_level(rng, [4000, 4000], mu=0.0, tau2=0.0, sigma2=s2)
    st = group_stats(y, g)
    np.testing.assert_allclose(st.s2, s2, rtol=0.06)
    np.testing.assert_allclose(st.ybar, 0.0, atol=0.5)


def test_within_group_correlation_brute_force():
    rng = np.random.default_rng(3)
    y, g = simulate_two_level(rng, [2, 5, 3, 4], mu=0.0, tau2=2.0, sigma2=1.0)
    xs, ys = [], []
    for j in np.unique(g):
        v = y[g == j]
        for a in range(v.size):
            for b in range(v.size):
                if a != b:
                    xs.append(v[a])
                    ys.append(v[b])
    assert within_group_correlation(y, g) == pytest.approx(np.corrcoef(xs, ys)[0, 1], rel=1e-10)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: icc(-1.0, 2.0), "tau2"),
        (lambda: icc(1.0, -2.0), "sigma2"),
        (lambda: icc(0.0, 0.0), "undefined"),
        (lambda: icc(np.nan, 1.0), "finite"),
        (lambda: marginal_cov([2, 3], -0.1, 1.0), "tau2"),
        (lambda: marginal_cov([2, 3], 1.0, [1.0, -1.0]), "sigma2"),
        (lambda: marginal_cov([2, 3], 1.0, [1.0, 1.0, 1.0]), "3 entries"),
        (lambda: marginal_cov([2, 0], 1.0, 1.0), "group_sizes"),
        (lambda: marginal_cov([2, 1.5], 1.0, 1.0), "whole numbers"),
        (lambda: marginal_cov([2, 3], 1.0, 1.0).matvec(np.ones(4)), "length"),
        (lambda: marginal_cov([2, 3], 1.0, 0.0).solve(np.ones(5)), "singular"),
        (lambda: simulate_two_level(np.random.default_rng(0), [2], np.inf, 1, 1), "mu"),
        (lambda: simulate_two_level(np.random.default_rng(0), [2], 0, np.nan, 1), "tau2"),
        (lambda: simulate_two_level(np.random.default_rng(0), [2], 0, 1, -1), "sigma2"),
        (lambda: simulate_two_level(np.random.default_rng(0), [2, 2], 0, 1, [1]), "1 entries"),
        (lambda: simulate_two_level(np.random.RandomState(0), [2], 0, 1, 1), "Generator"),
        (lambda: simulate_two_level(7, [2], 0, 1, 1), "Generator"),
        (lambda: within_group_correlation([1.0, 2.0, 3.0], [0, 0, 0]), "at least 2 groups"),
        (lambda: within_group_correlation([1.0, 2.0, 3.0], [0, 0, 1]), "at least 2 members"),
        (lambda: within_group_correlation([1.0, np.nan, 3.0, 4], [0, 0, 1, 1]), "NaN"),
        (lambda: within_group_correlation([1.0, 2.0], [0, 0, 1]), "lengths differ"),
        (lambda: marginal_loglik(group_stats([1.0, 2], [0, 1]), 0.0, 1.0, 0.0), "sigma2"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_plots_draw_what_they_say():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hierlib.marginal import plot_correlation_check, plot_covariance

    cov = marginal_cov([2, 3], 1.0, 2.0)
    ax = plot_covariance(cov)
    np.testing.assert_array_equal(ax.images[0].get_array(), cov.to_dense())
    ax2 = plot_correlation_check([0.1, 0.2, 0.15], 0.18, observed=0.16)
    assert [ln.get_xdata()[0] for ln in ax2.lines] == [0.18, 0.16]
    assert ax2.get_xlabel() and ax2.get_ylabel() and ax2.get_title()
    plt.close("all")


def test_icc_limits_panels():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hierlib.marginal import plot_icc_limits

    axes = plot_icc_limits(np.random.default_rng(0), iccs=[0.0, 0.5, 1.0], group_sizes=[5] * 6)
    assert [ax.get_title() for ax in axes] == ["ICC = 0.00", "ICC = 0.50", "ICC = 1.00"]
    # ICC = 1: sigma2 = 0, every member sits on its group mean
    obs = axes[2].collections[0].get_offsets()
    assert np.unique(np.round(obs[:, 1], 10)).size == 6
    with pytest.raises(ValueError, match="iccs"):
        plot_icc_limits(np.random.default_rng(0), iccs=[1.5])
    plt.close("all")
