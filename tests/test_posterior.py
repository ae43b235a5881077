"""hierlib.posterior: derived draws (sigma, tau, ICC) and the comparison tables."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hierlib import posterior


def fake_post(mu, sigma2, tau2):
    return SimpleNamespace(
        draws={"mu": np.asarray(mu), "sigma2": np.asarray(sigma2), "tau2": np.asarray(tau2)}
    )


def test_icc_of_the_lecture_reml_estimates():
    # Lecture: rho = 8.61 / (8.61 + 39.14) = 0.18
    rho = posterior.icc_draws([39.14, 1.0, 0.0], [8.61, 3.0, 2.0])
    np.testing.assert_allclose(rho, [8.61 / 47.75, 0.75, 1.0])
    assert round(float(rho[0]), 2) == 0.18


@pytest.mark.parametrize(
    ("sigma2", "tau2", "message"),
    [
        ([1.0, -1.0], [1.0, 1.0], "negative"),
        ([1.0, np.nan], [1.0, 1.0], "NaN"),
        ([1.0, 2.0], [1.0], "shape"),
        ([0.0], [0.0], "both 0"),
        ([], [], "no draws"),
    ],
)
def test_icc_bad_input(sigma2, tau2, message):
    with pytest.raises(ValueError, match=message):
        posterior.icc_draws(sigma2, tau2)


def test_derived_draws_are_square_roots_and_icc():
    post = fake_post([[1.0, 2.0]], [[4.0, 9.0]], [[1.0, 16.0]])
    d = posterior.derived_draws(post)
    np.testing.assert_allclose(d["sigma"], [[2.0, 3.0]])
    np.testing.assert_allclose(d["tau"], [[1.0, 4.0]])
    np.testing.assert_allclose(d["icc"], [[0.2, 16 / 25]])
    assert d["mu"].shape == (1, 2)


def test_derived_draws_names_missing_draws():
    with pytest.raises(ValueError, match="tau2"):
        posterior.derived_draws(SimpleNamespace(draws={"mu": [1.0], "sigma2": [1.0]}))


def test_interval_table_exact_quantiles():
    # 4001 equally spaced points on [0, 1]: the 2.5% and 97.5% quantiles are 0.025 and 0.975
    x = np.linspace(0.0, 1.0, 4001).reshape(1, -1)
    table = posterior.interval_table({"x": x, "y": 2 * x + 1})
    assert list(table.columns) == ["mean", "sd", "lower", "upper"]
    np.testing.assert_allclose(table.loc["x", ["mean", "lower", "upper"]], [0.5, 0.025, 0.975])
    np.testing.assert_allclose(table.loc["y", ["mean", "lower", "upper"]], [2.0, 1.05, 2.95])
    np.testing.assert_allclose(table.loc["x", "sd"], np.std(x, ddof=1))


def test_interval_table_recovers_a_normal_interval():
    rng = np.random.default_rng(630)
    x = rng.normal(12.64, 0.25, size=(4, 50_000))
    row = posterior.interval_table({"mu": x}, prob=0.9).loc["mu"]
    # sample quantiles of 200k draws: standard error about 0.001
    assert row["lower"] == pytest.approx(12.64 - 1.6449 * 0.25, abs=0.005)
    assert row["upper"] == pytest.approx(12.64 + 1.6449 * 0.25, abs=0.005)


@pytest.mark.parametrize("prob", [0.0, 1.0, 1.5])
def test_interval_table_bad_prob(prob):
    with pytest.raises(ValueError, match="prob"):
        posterior.interval_table({"x": [1.0, 2.0]}, prob=prob)


def test_interval_table_unknown_name():
    with pytest.raises(ValueError, match="no draws named 'tau'"):
        posterior.interval_table({"x": [1.0, 2.0]}, names=["tau"])


def test_spread_reading_of_the_lecture():
    # Lecture (Hoff's ELS data): 4 x 9.21 = 37 points, 4 x 4.97 = 20 points
    table = posterior.spread_reading(9.21, 4.97)
    assert round(table.loc["scores within a school", "4 x sd"]) == 37
    assert round(table.loc["school means", "4 x sd"]) == 20
    assert table.loc["scores within a school", "exact width"] == pytest.approx(
        2 * 1.959964 * 9.21, rel=1e-6
    )
    with pytest.raises(ValueError, match="school means"):
        posterior.spread_reading(6.0, -1.0)


def test_bayes_vs_reml_table():
    rng = np.random.default_rng(1)
    post = fake_post(
        rng.normal(12.64, 0.25, (4, 2000)),
        rng.normal(39.2, 0.5, (4, 2000)),
        rng.normal(8.8, 0.8, (4, 2000)),
    )
    reml = SimpleNamespace(mu=12.63697, sigma2=6.256862**2, tau2=2.934966**2)
    table = posterior.bayes_vs_reml(post, reml)
    assert list(table.columns) == [
        "posterior mean",
        "lower",
        "upper",
        "REML",
        "posterior mean - REML",
    ]
    assert table.index[0] == posterior.LABELS["mu"]
    np.testing.assert_allclose(table["REML"], [12.63697, 6.256862, 2.934966, 0.1804], atol=1e-4)
    assert table["posterior mean"].iloc[0] == pytest.approx(12.64, abs=0.01)
    np.testing.assert_allclose(
        table["posterior mean - REML"], table["posterior mean"] - table["REML"]
    )
    # a mapping with standard deviations works too
    again = posterior.bayes_vs_reml(post, {"mu": 12.63697, "sigma": 6.256862, "tau": 2.934966})
    np.testing.assert_allclose(again["REML"], table["REML"])
    with pytest.raises(ValueError, match="'tau'"):
        posterior.bayes_vs_reml(post, {"mu": 1.0, "sigma2": 1.0})


def test_prior_sensitivity_side_by_side():
    a = fake_post([[1.0, 3.0]], [[4.0, 4.0]], [[1.0, 1.0]])
    b = fake_post([[5.0, 7.0]], [[4.0, 4.0]], [[1.0, 1.0]])
    table = posterior.prior_sensitivity({"A": a, "B": b}, names=["mu", "icc"])
    assert isinstance(table.columns, pd.MultiIndex)
    assert table.loc[posterior.LABELS["mu"], ("A", "mean")] == 2.0
    assert table.loc[posterior.LABELS["mu"], ("B", "mean")] == 6.0
    assert table.loc[posterior.LABELS["icc"], ("B", "upper")] == pytest.approx(0.2)
    with pytest.raises(ValueError, match="empty"):
        posterior.prior_sensitivity({})


def test_bayes_vs_reml_reads_the_reml_fit_of_hsb(hsb):
    from hierlib.reml import fit_random_intercept

    fit = fit_random_intercept(hsb["mathach"], hsb["school"])
    post = fake_post([[12.6, 12.7]], [[39.1, 39.2]], [[8.6, 8.7]])
    reml = posterior.bayes_vs_reml(post, fit)["REML"]
    # the lecture's lme() output: mu 12.63697, tau 2.934966, sigma 6.256862, ICC 0.18
    np.testing.assert_allclose(reml.iloc[:3], [12.63697, 6.256862, 2.934966], rtol=1e-3)
    assert reml.iloc[3] == pytest.approx(8.61 / (8.61 + 39.14), abs=1e-3)


def test_plot_marginals_labels_and_reference():
    import matplotlib

    matplotlib.use("Agg")
    x = np.linspace(0.0, 1.0, 401).reshape(1, -1)
    draws = {"mu": 10 + x, "tau": 2 + x, "icc": x / 4}
    axes = posterior.plot_marginals(draws, ["mu", "tau", "icc"], reference={"mu": 10.25})
    assert axes.shape == (2, 2)
    assert axes[0, 0].get_xlabel() == "μ (score points)"
    labels = [t.get_text() for t in axes[0, 0].get_legend().get_texts()]
    assert "REML 10.25" in labels and "posterior mean 10.50" in labels
    assert "posterior mean 0.125" in [t.get_text() for t in axes[1, 0].get_legend().get_texts()]
    assert not axes[1, 1].get_visible()


def test_plot_by_prior_one_outline_per_prior():
    import matplotlib

    matplotlib.use("Agg")
    a = fake_post([[1.0, 3.0]], [[4.0, 4.0]], [[1.0, 9.0]])
    b = fake_post([[5.0, 7.0]], [[4.0, 4.0]], [[4.0, 4.0]])
    ax = posterior.plot_by_prior({"A": a, "B": b}, "tau")
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["A: mean 2.00", "B: mean 2.00"]
    assert ax.get_xlabel() == "τ (score points)"


def test_conditional_gap_flags_a_wrong_conditional():
    from scipy import stats

    # joint of x ~ N(1, 4) times a constant in x: the right conditional leaves a constant gap
    def log_joint(x):
        return stats.norm.logpdf(x, 1.0, 2.0) + 7.5

    grid = np.linspace(-3, 5, 9)
    right = posterior.conditional_gap(log_joint, lambda x: stats.norm.logpdf(x, 1.0, 2.0), grid)
    wrong = posterior.conditional_gap(log_joint, lambda x: stats.norm.logpdf(x, 1.0, 1.0), grid)
    assert right < 1e-12
    # gap = -(x-1)^2/8 + (x-1)^2/2 + const: range over the grid 3/8 * 16 = 6
    assert wrong == pytest.approx(6.0)
    with pytest.raises(ValueError, match="two points"):
        posterior.conditional_gap(log_joint, log_joint, [1.0])
    with pytest.raises(ValueError, match="support"):
        posterior.conditional_gap(log_joint, lambda x: stats.gamma.logpdf(x, 2.0), grid)
