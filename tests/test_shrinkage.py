"""hierlib.shrinkage: the precision-weighted formula, moment estimates, held-out splits."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from hierlib import shrinkage as sh
from hierlib.data import group_stats


def test_conditional_mean_by_hand():
    # B = sigma2 / (sigma2 + n tau2): 16/32 = 0.5 and 16/80 = 0.2
    ybar, n = [10.0, 20.0], [4, 16]
    np.testing.assert_allclose(sh.shrinkage_factor(n, 16.0, 4.0), [0.5, 0.2])
    np.testing.assert_allclose(sh.conditional_mean(ybar, n, 12.0, 4.0, 16.0), [11.0, 18.4])
    # precision form (n ybar / s2 + mu / t2) / (n / s2 + 1 / t2) for the second school
    assert sh.conditional_mean(ybar, n, 12.0, 4.0, 16.0)[1] == pytest.approx((20 + 3) / 1.25)
    np.testing.assert_allclose(sh.conditional_var(n, 4.0, 16.0), [2.0, 1 / (1 + 0.25)])


def test_conditional_mean_per_group_variances():
    # sigma_j^2 = 4 and 64: B = 4/20 = 0.2 and 64/128 = 0.5
    got = sh.conditional_mean([10.0, 20.0], [4, 16], 12.0, 4.0, [4.0, 64.0])
    np.testing.assert_allclose(got, [0.2 * 12 + 0.8 * 10, 0.5 * 12 + 0.5 * 20])


def test_limits_tau2_zero_and_large():
    ybar, n = np.array([8.0, 15.0]), np.array([5, 50])
    np.testing.assert_allclose(sh.conditional_mean(ybar, n, 12.0, 0.0, 30.0), [12.0, 12.0])
    np.testing.assert_allclose(sh.conditional_mean(ybar, n, 12.0, 1e12, 30.0), ybar, rtol=1e-9)
    # more students, less shrinkage
    b = sh.shrinkage_factor([2, 10, 50], 39.0, 8.6)
    assert np.all(np.diff(b) < 0)


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"sigma2": 0.0}, "sigma2"),
        ({"sigma2": -1.0}, "sigma2"),
        ({"tau2": -0.1}, "tau2"),
        ({"tau2": float("nan")}, "tau2"),
        ({"n": [0, 3]}, "n must"),
        ({"n": [2.5, 3]}, "n must"),
        ({"ybar": [1.0, float("nan")]}, "ybar"),
        ({"ybar": [1.0, 2.0, 3.0]}, "lengths differ"),
        ({"sigma2": [1.0, 2.0, 3.0]}, "lengths differ"),
        ({"mu": float("inf")}, "mu"),
    ],
)
def test_bad_input(kwargs, msg):
    args = {"ybar": [1.0, 2.0], "n": [3, 4], "mu": 0.0, "tau2": 1.0, "sigma2": 1.0, **kwargs}
    with pytest.raises(ValueError, match=msg):
        sh.conditional_mean(**args)


def test_moment_estimates_by_hand():
    # groups [1, 3] and [5, 7]: MSW = (2 + 2) / 2 = 2, MSB = 2 (4 + 4) / 1 = 16, n0 = 2
    stats = group_stats([1.0, 3.0, 5.0, 7.0], ["a", "a", "b", "b"])
    est = sh.moment_estimates(stats)
    assert est.sigma2 == pytest.approx(2.0)
    assert est.tau2 == pytest.approx(7.0)
    assert est.mu == pytest.approx(4.0)
    # tau2 truncated at 0 when the group means agree more than chance allows
    flat = sh.moment_estimates(group_stats([1.0, 3.0, 1.5, 2.5], [0, 0, 1, 1]))
    assert flat.tau2 == 0.0


def test_moment_estimates_on_hsb_close_to_reml(hsb):
    est = sh.moment_estimates(group_stats(hsb["mathach"], hsb["school"]))
    assert est.sigma2 == pytest.approx(39.1416, abs=1e-3)  # the ANOVA table's MSW
    assert est.tau2 == pytest.approx(8.2224, abs=1e-3)  # REML gives 8.61
    assert est.mu == pytest.approx(12.6376, abs=1e-3)  # REML gives 12.637


def test_moment_estimates_bad_input():
    with pytest.raises(ValueError, match="at least 2 groups"):
        sh.moment_estimates(group_stats([1.0, 2.0], [0, 0]))
    with pytest.raises(ValueError, match="2 or more members"):
        sh.moment_estimates(group_stats([1.0, 2.0], [0, 1]))


def test_split_keeps_every_group_on_both_sides(hsb):
    groups = hsb["school"].to_numpy()
    train = sh.split_groups(groups, np.random.default_rng(1))
    fit, test = group_stats(hsb["mathach"][train], groups[train]), None
    test = group_stats(hsb["mathach"][~train], groups[~train])
    assert fit.m == test.m == 160
    full = group_stats(hsb["mathach"], groups)
    np.testing.assert_array_equal(fit.n, full.n // 2)
    np.testing.assert_array_equal(test.n, full.n - full.n // 2)
    again = sh.split_groups(groups, np.random.default_rng(1))
    np.testing.assert_array_equal(train, again)
    other = sh.split_groups(groups, np.random.default_rng(2))
    assert (train != other).any()


def test_split_bad_input():
    with pytest.raises(ValueError, match="two members"):
        sh.split_groups([0, 0, 1], np.random.default_rng(0))
    with pytest.raises(ValueError, match="Generator"):
        sh.split_groups([0, 0, 1, 1], 1)


def test_heldout_mse_by_hand():
    y = np.array([1.0, 3.0, 2.0, 6.0, 5.0, 7.0, 9.0, 3.0])
    g = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    train = np.array([True, True, False, False] * 2)
    got = sh.heldout_mse(y, g, train)
    # fit means 2 and 6 (grand 4); held-out means 4 and 6
    assert got["no_pooling"] == pytest.approx((4 + 0) / 2)
    assert got["complete_pooling"] == pytest.approx((0 + 4) / 2)
    eb = sh.empirical_bayes_means(group_stats(y[train], g[train]))
    assert got["partial_eb"] == pytest.approx(np.mean((eb - [4.0, 6.0]) ** 2))
    # held-out pooled variance: SS 8 + 18 over 2 df = 13; floor = mean(13/2, 13/2)
    assert got["noise_floor"] == pytest.approx(6.5)


def test_heldout_bad_input():
    y, g = np.arange(8.0), np.repeat([0, 1], 4)
    with pytest.raises(ValueError, match="both"):
        sh.heldout_mse(y, g, np.array([True] * 4 + [False, True, True, True]))
    with pytest.raises(ValueError, match="unknown estimator"):
        sh.heldout_mse(y, g, np.tile([True, False], 4), estimators=("median",))
    with pytest.raises(ValueError, match="boolean"):
        sh.heldout_mse(y, g, np.tile([1, 0], 4))
    with pytest.raises(ValueError, match="n_splits"):
        sh.heldout_comparison(y, g, n_splits=0)


def test_heldout_comparison_on_hsb_partial_pooling_wins(hsb):
    df = sh.heldout_comparison(hsb["mathach"], hsb["school"], n_splits=40, seed=630)
    again = sh.heldout_comparison(hsb["mathach"], hsb["school"], n_splits=40, seed=630)
    assert df.equals(again)
    mean = df.mean()
    assert mean["partial_eb"] < mean["no_pooling"] < mean["complete_pooling"]
    # the noise floor is the held-out variance sigma^2 / n_test: about 39.1 / 22.5
    assert mean["noise_floor"] == pytest.approx(1.88, abs=0.05)
    assert (df["partial_eb"] < df["no_pooling"]).mean() > 0.75


def test_heldout_gibbs_agrees_with_eb(hsb):
    pytest.importorskip("hierlib.gibbs")
    y, g = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
    train = sh.split_groups(g, np.random.default_rng(5))
    got = sh.heldout_mse(y, g, train, estimators=("partial_eb", "partial_gibbs"), seed=5)
    assert got["partial_gibbs"] == pytest.approx(got["partial_eb"], abs=0.1)


def test_plot_shrinkage_draws_points_and_45_line():
    fig, ax = plt.subplots()
    out = sh.plot_shrinkage([1.0, 5.0, 9.0], [2.0, 5.0, 8.0], [10, 20, 30], ax=ax, pooled=5.0)
    assert out is ax
    assert ax.collections[0].get_offsets().shape == (3, 2)
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_xdata(), line.get_ydata())
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    with pytest.raises(ValueError, match="lengths differ"):
        sh.plot_shrinkage([1.0, 2.0], [1.0], [3, 4])
    with pytest.raises(ValueError, match="NaN"):
        sh.plot_shrinkage([1.0, np.nan], [1.0, 2.0], [3, 4])
    ax2 = sh.plot_shrinkage_vs_n([10, 20, 30], [1.0, 5.0, 9.0], [2.0, 5.0, 8.0])
    assert ax2.get_xlabel().startswith("students")
    plt.close("all")


def test_plot_shrinkage_factor_matches_formula():
    n = np.array([14, 30, 67])
    ybar, mu = np.array([4.0, 20.0, 8.0]), 12.0
    post = sh.conditional_mean(ybar, n, mu, 8.6, 39.1)
    ax = sh.plot_shrinkage_factor(n, 39.1, 8.6, observed=(ybar, post, mu))
    # the realised factors of the points lie on the curve B(n) = 39.1 / (39.1 + 8.6 n)
    np.testing.assert_allclose(
        ax.collections[0].get_offsets()[:, 1], 39.1 / (39.1 + 8.6 * n), rtol=1e-12
    )
    plt.close("all")


def test_formula_at_reml_estimates_gives_the_lectures_random_effects(hsb):
    # BLUP_j = E[theta_j | mu, tau2, sigma2, Y] - mu at the REML estimates (lecture's lme output)
    stats = group_stats(hsb["mathach"], hsb["school"])
    mu, tau, sigma = 12.63697, 2.934966, 6.256862
    blup = sh.conditional_mean(stats.ybar, stats.n, mu, tau**2, sigma**2) - mu
    lecture = {"8367": -6.10301, "8854": -7.35291, "4458": -6.23522, "5762": -7.40282,
               "6990": -6.13418}  # fmt: skip
    for school, value in lecture.items():
        j = int(np.flatnonzero(stats.labels == school)[0])
        assert blup[j] == pytest.approx(value, abs=1e-3)


# ------------------------------------------------------------- mu integrated out, at a given tau
def test_pooled_mean_and_means_given_tau_by_hand():
    # w_j = 1/(tau2 + sigma2/n_j) = 1/8 and 1/5: mu = (10/8 + 20/5)/(1/8 + 1/5) = 5.25/0.325
    ybar, n = [10.0, 20.0], [4, 16]
    mu = 5.25 / 0.325
    assert sh.pooled_mean(ybar, n, 4.0, 16.0) == pytest.approx(mu, rel=1e-14)
    got_mu, theta = sh.means_given_tau(ybar, n, 4.0, 16.0)
    assert got_mu == pytest.approx(mu, rel=1e-14)
    np.testing.assert_allclose(theta, [0.5 * mu + 5.0, 0.2 * mu + 16.0], rtol=1e-14)


def _exact_posterior_means(ybar, n, tau2, sigma2, prior_var=1e10):
    """E[(mu, theta) | tau2, sigma2, Y] by Gaussian conditioning on the joint precision:
    mu ~ N(0, prior_var) (nearly flat), theta_j | mu ~ N(mu, tau2),
    ybar_j | theta_j ~ N(theta_j, s2_j / n_j)."""
    ybar, n = np.asarray(ybar, float), np.asarray(n, float)
    s2 = np.broadcast_to(np.asarray(sigma2, float), ybar.shape)
    m = ybar.size
    prec = np.zeros((m + 1, m + 1))
    prec[0, 0] = 1 / prior_var + m / tau2
    prec[0, 1:] = prec[1:, 0] = -1 / tau2
    prec[1:, 1:] = np.diag(1 / tau2 + n / s2)
    rhs = np.concatenate([[0.0], n * ybar / s2])
    mean = np.linalg.solve(prec, rhs)
    return mean[0], mean[1:]


@pytest.mark.parametrize("tau2", [0.01, 1.0, 8.6, 400.0])
def test_means_given_tau_are_the_posterior_means_with_mu_integrated_out(tau2):
    rng = np.random.default_rng(4)
    ybar, n = rng.normal(12.0, 3.0, 9), rng.integers(2, 60, 9)
    for sigma2 in (39.0, rng.uniform(20.0, 60.0, 9)):  # model 1's one sigma2, model 2's sigma_j^2
        mu, theta = sh.means_given_tau(ybar, n, tau2, sigma2)
        mu_exact, theta_exact = _exact_posterior_means(ybar, n, tau2, sigma2)
        assert mu == pytest.approx(mu_exact, abs=1e-6)
        np.testing.assert_allclose(theta, theta_exact, atol=1e-6)


def test_pooled_mean_is_reml_gls_mean_for_one_sigma2(hsb):
    from hierlib import reml

    stats = group_stats(hsb["mathach"], hsb["school"])
    for tau2 in (0.0, 8.614, 1e6):
        got = sh.pooled_mean(stats.ybar, stats.n, tau2, 39.148)
        assert got == pytest.approx(reml.gls_mean(stats, tau2, 39.148)[0], rel=1e-13)
    # tau2 = 0 is complete pooling: the mean of all 7185 students, every school there
    mu, theta = sh.means_given_tau(stats.ybar, stats.n, 0.0, 39.148)
    assert mu == pytest.approx(hsb["mathach"].mean(), rel=1e-13)
    np.testing.assert_allclose(theta, mu, rtol=1e-14)
    # a huge tau2 is no pooling: the unweighted mean of the school means, every school at its own
    mu, theta = sh.means_given_tau(stats.ybar, stats.n, 1e12, 39.148)
    assert mu == pytest.approx(stats.ybar.mean(), rel=1e-9)
    np.testing.assert_allclose(theta, stats.ybar, rtol=1e-9)


@pytest.mark.parametrize(
    "kwargs, msg",
    [
        ({"tau2": -1.0}, "tau2"),
        ({"tau2": float("inf")}, "tau2"),
        ({"sigma2": [1.0, -2.0]}, "sigma2 must be positive"),
        ({"sigma2": [1.0, 2.0, 3.0]}, "lengths differ"),
        ({"ybar": [1.0, float("nan")]}, "ybar"),
        ({"n": [0, 2]}, "n must"),
        ({"tau2": 0.0, "sigma2": 5e-324}, "GLS mean of the group means is not finite"),
    ],
)
def test_means_given_tau_bad_input(kwargs, msg):
    args = {"ybar": [1.0, 2.0], "n": [3, 4], "tau2": 1.0, "sigma2": 1.0, **kwargs}
    with pytest.raises(ValueError, match=msg):
        sh.means_given_tau(**args)


def test_means_given_tau_near_the_float_limits():
    mu, theta = sh.means_given_tau([1e308, 1e308], [1, 1], 1.0, [1e-300, 1e-300])
    assert mu == 1e308 and np.all(theta == 1e308)
    mu, theta = sh.means_given_tau([1e-300, 3e-300], [2, 2], 1e300, 1e-300)
    assert mu == pytest.approx(2e-300) and np.all(np.isfinite(theta))
