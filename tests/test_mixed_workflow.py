"""The workflow pieces of notebook 12 around a mixed-model posterior: design rows of new
students, their predictive draws, the Bayes-vs-REML table, the slope-heterogeneity
statistic of the predictive check, and the 2-D shrinkage figure with the ellipse of Sigma.

The posteriors here are hand-built (a ``draws`` mapping with the sampler's shapes and
names), so every expected value is exact or has a stated Monte Carlo tolerance.
"""

import types
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hierlib import covariates, data, posterior, predictive, reml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

FORMULA = "mathach ~ mses * cses + sector * cses"


@pytest.fixture(scope="module")
def hsb_cov():
    return data.load_hsb_covariates()


@pytest.fixture(scope="module")
def fit(hsb_cov):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return reml.fit_mixed(FORMULA, hsb_cov, "school", re_formula="~cses")


def fake_posterior(fe, b, cov_re, sigma2, fe_names, re_names, groups):
    """A posterior with the mixed sampler's draws: fe (c, d, p), b (c, d, m, q),
    cov_re (c, d, q, q), sigma2 (c, d)."""
    draws = {"fe": fe, "b": b, "cov_re": cov_re, "sigma2": sigma2}
    return types.SimpleNamespace(
        draws=draws, fe_names=tuple(fe_names), re_names=tuple(re_names), groups=np.asarray(groups)
    )


@pytest.fixture(scope="module")
def at_reml(fit):
    """Every draw at the REML estimates (2 chains x 3 draws): the posterior summaries must be
    the REML numbers exactly."""
    shape = (2, 3)
    groups = list(fit.random_effects)
    b = np.stack([np.asarray(fit.random_effects[g]) for g in groups])
    return fake_posterior(
        np.broadcast_to(fit.fe_params.to_numpy(), (*shape, 6)).copy(),
        np.broadcast_to(b, (*shape, *b.shape)).copy(),
        np.broadcast_to(fit.cov_re.to_numpy(), (*shape, 2, 2)).copy(),
        np.full(shape, float(fit.scale)),
        fit.fe_params.index,
        ["Intercept", "cses"],
        groups,
    )


# --------------------------------------------------------------------------- design rows
def test_design_matrices_are_the_fits_and_evaluate_new_rows(hsb_cov, fit):
    X, Z = reml.design_matrices(FORMULA, hsb_cov, re_formula="~cses")
    assert list(X.columns) == list(fit.fe_params.index)
    np.testing.assert_array_equal(X.to_numpy(), fit.model.exog)
    np.testing.assert_array_equal(Z.to_numpy(), fit.model.exog_re)
    new = pd.DataFrame({"mses": [0.5, -0.25], "sector": ["Catholic", "Public"],
                        "cses": [1.0, -2.0]}, index=["a", "b"])  # fmt: skip
    X1, Z1 = reml.design_matrices(FORMULA, hsb_cov, new, re_formula="~cses")
    assert list(X1.index) == ["a", "b"]
    expected = {"Intercept": [1, 1], "sector[T.Catholic]": [1, 0], "mses": [0.5, -0.25],
                "cses": [1, -2], "sector[T.Catholic]:cses": [1, 0],
                "mses:cses": [0.5, 0.5]}  # fmt: skip
    for name, values in expected.items():
        np.testing.assert_allclose(X1[name], values)
    np.testing.assert_allclose(Z1.to_numpy(), [[1, 1], [1, -2]])


def test_design_matrices_refuse_rows_the_model_cannot_read(hsb_cov):
    with pytest.raises(TypeError, match="new must be a pandas DataFrame"):
        reml.design_matrices(FORMULA, hsb_cov, {"mses": 0.0}, re_formula="~cses")
    with pytest.raises(ValueError, match="new cannot be evaluated"):
        reml.design_matrices(FORMULA, hsb_cov, pd.DataFrame({"mses": [0.0]}), re_formula="~cses")
    bad = pd.DataFrame({"mses": [0.0], "sector": ["Private"], "cses": [0.0]})
    with pytest.raises(ValueError, match="new cannot be evaluated"):
        reml.design_matrices(FORMULA, hsb_cov, bad, re_formula="~cses")
    with pytest.raises(ValueError, match="not a column of data"):
        reml.design_matrices("mathach ~ nope", hsb_cov)


# ---------------------------------------------------------------------- new students
def test_new_student_is_the_line_plus_the_residual_spread(hsb_cov, fit, at_reml):
    school = at_reml.groups[7]
    row = hsb_cov[hsb_cov["school"] == school].iloc[[0]]
    X, Z = reml.design_matrices(FORMULA, hsb_cov, row, re_formula="~cses")
    eta, y_new = predictive.predict_new_student_mixed(
        at_reml, school, X, Z, np.random.default_rng(0)
    )
    assert eta.shape == y_new.shape == (6, 1)
    b_j = np.asarray(fit.random_effects[school])
    line = float((X.to_numpy() @ fit.fe_params.to_numpy() + Z.to_numpy() @ b_j)[0])
    np.testing.assert_allclose(eta, line)  # the REML fitted value of that student
    np.testing.assert_allclose(line, fit.fittedvalues[row.index[0]], rtol=1e-10)
    z = (y_new - eta) / np.sqrt(fit.scale)
    assert np.all(np.abs(z) < 5)


def test_new_student_spread_is_sigma_on_many_draws():
    """10 000 draws with sigma2 = 4: the sd of y - eta is 2 within 4 of its standard errors
    (2/sqrt(2 * 10 000) = 0.014); a false alarm about 6e-5, and a sigma2 used as sd (4)
    or a missing sqrt is far outside."""
    rng = np.random.default_rng(1)
    post = fake_posterior(rng.normal(size=(2, 5000, 2)), rng.normal(size=(2, 5000, 3, 1)),
                          np.ones((2, 5000, 1, 1)), np.full((2, 5000), 4.0),
                          ["Intercept", "x"], ["Intercept"], ["a", "b", "c"])  # fmt: skip
    eta, y_new = predictive.predict_new_student_mixed(
        post, "b", np.array([1.0, 2.0]), np.array([1.0]), np.random.default_rng(2)
    )
    expected = post.draws["fe"].reshape(-1, 2) @ [1.0, 2.0] + post.draws["b"][:, :, 1, 0].ravel()
    np.testing.assert_allclose(eta[:, 0], expected)
    assert abs(np.std(y_new - eta) - 2.0) < 4 * 2.0 / np.sqrt(2 * 10_000)
    table = predictive.mixed_prediction_table(
        post, "b", np.array([[1.0, 2.0], [1.0, 0.0]]), np.ones((2, 1)), np.random.default_rng(3)
    )
    assert list(table.index) == ["0: school's line", "0: new student", "1: school's line",
                                 "1: new student"]  # fmt: skip
    assert (table["width"] > 0).all()
    assert table.loc["0: new student", "width"] > table.loc["0: school's line", "width"]


def test_new_student_refusals(at_reml):
    rng = np.random.default_rng(0)
    x, z = np.ones(6), np.ones(2)
    with pytest.raises(ValueError, match="no kept b draws"):
        predictive.predict_new_student_mixed(at_reml, "no such school", x, z, rng)
    with pytest.raises(ValueError, match="one row of 6 values"):
        predictive.predict_new_student_mixed(at_reml, at_reml.groups[0], np.ones(5), z, rng)
    with pytest.raises(ValueError, match="must have the columns"):
        bad = pd.DataFrame(np.ones((1, 2)), columns=["Intercept", "ses"])
        predictive.predict_new_student_mixed(at_reml, at_reml.groups[0], x, bad, rng)
    with pytest.raises(ValueError, match="finite"):
        predictive.predict_new_student_mixed(at_reml, at_reml.groups[0], x * np.nan, z, rng)
    with pytest.raises(TypeError, match="rng"):
        predictive.predict_new_student_mixed(at_reml, at_reml.groups[0], x, z, 0)
    no_b = types.SimpleNamespace(**vars(at_reml))
    no_b.draws = {k: v for k, v in at_reml.draws.items() if k != "b"}
    with pytest.raises(ValueError, match="no draws of b"):
        predictive.predict_new_student_mixed(no_b, at_reml.groups[0], x, z, rng)


# ------------------------------------------------------------------------- Bayes vs REML
def test_mixed_vs_reml_at_the_reml_point_is_reml(fit, at_reml):
    table = posterior.mixed_vs_reml(at_reml, fit)
    assert list(table.index[:6]) == list(fit.fe_params.index)
    assert list(table.index[6:]) == ["sd(Intercept)", "sd(cses)", "corr(Intercept, cses)", "sigma"]
    np.testing.assert_allclose(table["posterior mean"], table["REML"], rtol=1e-12)
    np.testing.assert_allclose(table["posterior sd"], 0, atol=1e-12)
    # R's nlme: StdDev 1.542582 (Intercept), 0.318169 (cses), Corr 0.391, Residual 6.059798
    np.testing.assert_allclose(table.loc[["sd(Intercept)", "sd(cses)", "sigma"], "REML"],
                               [1.542582, 0.318169, 6.059798], rtol=5e-3)  # fmt: skip
    assert table.loc["corr(Intercept, cses)", "REML"] == pytest.approx(0.391, abs=0.005)
    se = np.sqrt(np.diag(reml.fixed_effects_cov(fit)))
    np.testing.assert_allclose(table["REML SE"].iloc[:6], se)
    assert table["REML SE"].iloc[6:].isna().all()


def test_mixed_draws_are_sds_and_correlations():
    cov = np.array([[4.0, 1.2], [1.2, 1.0]])
    post = fake_posterior(np.zeros((1, 2, 1)), np.zeros((1, 2, 1, 2)),
                          np.broadcast_to(cov, (1, 2, 2, 2)), np.full((1, 2), 9.0),
                          ["Intercept"], ["Intercept", "x"], ["a"])  # fmt: skip
    d = posterior.mixed_draws(post)
    assert list(d) == ["Intercept", "sd(Intercept)", "sd(x)", "corr(Intercept, x)", "sigma"]
    np.testing.assert_allclose(d["sd(Intercept)"], 2.0)
    np.testing.assert_allclose(d["corr(Intercept, x)"], 0.6)
    np.testing.assert_allclose(d["sigma"], 3.0)


def test_mixed_vs_reml_refusals(fit, at_reml):
    with pytest.raises(TypeError, match="MixedLMResults"):
        posterior.mixed_vs_reml(at_reml, {"fe": 1})
    other = types.SimpleNamespace(**vars(at_reml))
    other.fe_names = tuple(reversed(at_reml.fe_names))
    with pytest.raises(ValueError, match="not post's"):
        posterior.mixed_vs_reml(other, fit)
    other.fe_names = ("a",)
    with pytest.raises(ValueError, match="fixed effects"):
        posterior.mixed_draws(other)
    with pytest.raises(TypeError):
        posterior.mixed_draws({"fe": np.zeros(3)})


# ------------------------------------------------------------- slope heterogeneity (PPC)
def test_slope_heterogeneity_is_rb_statistic_from_the_ols_lines(hsb_cov):
    """T = sum_j (b_j - b_bar)^2 / (s^2 / Sxx_j), recomputed from covariates.ols_by_group."""
    y, x, g = hsb_cov["mathach"], hsb_cov["cses"], hsb_cov["school"]
    labels, idx = np.unique(g, return_inverse=True)
    stat = predictive.slope_heterogeneity(x)
    got = stat(y.to_numpy(), idx, labels.size)
    ols = covariates.ols_by_group(y, x, g)
    sxx = (ols["sigma"] / ols["se_slope"]) ** 2
    s2 = ((ols["sigma"] ** 2) * (ols["n"] - 2)).sum() / (len(y) - 2 * labels.size)
    b_bar = (sxx * ols["slope"]).sum() / sxx.sum()
    assert got == pytest.approx(float((sxx * (ols["slope"] - b_bar) ** 2).sum() / s2), rel=1e-10)
    assert got == pytest.approx(213.34, abs=0.01)  # the notebook's observed value
    # one value per data set; unchanged by a shift or a rescaling of y
    rows = np.stack([y, 3 * y - 100, y + 1e6])
    np.testing.assert_allclose(stat(rows, idx, labels.size), got, rtol=1e-8)


def test_slope_heterogeneity_is_chi2_m_minus_1_when_slopes_are_equal():
    """400 data sets of 40 groups of 25 with one common slope: T ~ chi2(39) approximately
    (s^2 estimated; exact up to O(1/N)). The mean of 400 draws has sd sqrt(2*39/400) = 0.44;
    a bound of 4 sd (false alarm about 6e-5) still fails a statistic off by 2 (as with
    m instead of m - 1 groups' worth of freedom... or an unweighted spread, far off)."""
    rng = np.random.default_rng(5)
    m, n_j = 40, 25
    idx = np.repeat(np.arange(m), n_j)
    x = rng.normal(size=idx.size)
    y = 1.0 + rng.normal(size=m)[idx] + 0.5 * x + rng.normal(size=(400, idx.size))
    t = predictive.slope_heterogeneity(x)(y, idx, m)
    assert t.shape == (400,)
    assert abs(t.mean() - (m - 1)) < 4 * np.sqrt(2 * (m - 1) / 400)
    # and its tail matches chi2(39): the share above the 95% quantile is 0.05 +- 4 * 0.011
    assert abs(np.mean(t > sps.chi2.ppf(0.95, m - 1)) - 0.05) < 4 * np.sqrt(0.05 * 0.95 / 400)
    # slopes that differ (sd 0.5, against a slope SE of about 0.2) make it much larger
    y_het = y + (0.5 * rng.normal(size=m))[idx] * x
    assert predictive.slope_heterogeneity(x)(y_het, idx, m).mean() > 2 * (m - 1)


def test_slope_heterogeneity_in_a_check_and_its_refusals():
    idx = np.repeat(np.arange(3), 4)
    x = np.tile([-1.5, -0.5, 0.5, 1.5], 3)
    y = np.arange(12.0) % 5
    stat = predictive.slope_heterogeneity(x)
    check = predictive._check(stat, y, np.stack([y, y[::-1]]), idx, 3)
    assert check["observed"] == pytest.approx(float(stat(y, idx, 3)))
    with pytest.raises(ValueError, match="x has 12 values for 11"):
        stat(y[:11], idx[:11], 3)
    flat = x.copy()
    flat[:4] = 1.0
    with pytest.raises(ValueError, match="spread in x"):
        predictive.slope_heterogeneity(flat)(y, idx, 3)
    with pytest.raises(ValueError, match="at least 3 members"):
        predictive.slope_heterogeneity(x[:8])(y[:8], np.repeat(np.arange(4), 2), 4)
    with pytest.raises(ValueError, match="finite"):
        predictive.slope_heterogeneity([1.0, np.nan])


# ---------------------------------------------------------------- 2-D shrinkage figure
def test_covariance_ellipse_axes_and_angle():
    q = sps.chi2.ppf(0.95, 2)
    w, h, angle = covariates.covariance_ellipse(np.diag([4.0, 1.0]), 0.95)
    assert (w, h, angle) == pytest.approx((2 * np.sqrt(4 * q), 2 * np.sqrt(q), 0.0))
    w, h, angle = covariates.covariance_ellipse(np.diag([1.0, 9.0]), 0.5)
    assert (w, h) == pytest.approx((6 * np.sqrt(-2 * np.log(0.5)), 2 * np.sqrt(-2 * np.log(0.5))))
    assert abs(angle) == pytest.approx(90.0)
    # eigenvalues 3 and 1 along (1, 1) and (1, -1): the long axis at 45 degrees
    w, h, angle = covariates.covariance_ellipse([[2.0, 1.0], [1.0, 2.0]], 0.95)
    assert (w, h, angle) == pytest.approx((2 * np.sqrt(3 * q), 2 * np.sqrt(q), 45.0))
    _, _, angle = covariates.covariance_ellipse([[2.0, -1.0], [-1.0, 2.0]], 0.95)
    assert angle == pytest.approx(-45.0)


@pytest.mark.parametrize(
    ("cov", "level", "match"),
    [
        (np.eye(3), 0.95, "2 x 2"),
        ([[1.0, 2.0], [2.0, 1.0]], 0.95, "positive definite"),
        ([[1.0, 0.5], [0.0, 1.0]], 0.95, "symmetric"),
        ([[np.nan, 0.0], [0.0, 1.0]], 0.95, "finite"),
        (np.eye(2), 1.0, "level"),
    ],
)
def test_covariance_ellipse_refusals(cov, level, match):
    with pytest.raises(ValueError, match=match):
        covariates.covariance_ellipse(cov, level)


def test_plot_shrinkage_2d_draws_arrows_points_and_ellipses():
    rng = np.random.default_rng(0)
    own = pd.DataFrame(rng.normal(size=(20, 2)), columns=["intercept", "slope"])
    shrunk = own * 0.3
    ax = covariates.plot_shrinkage_2d(own, shrunk, np.diag([2.0, 0.5]), n=np.arange(20) + 5)
    ellipses = [p for p in ax.patches if isinstance(p, matplotlib.patches.Ellipse)]
    assert len(ellipses) == 2
    assert ellipses[-1].width == pytest.approx(covariates.covariance_ellipse(np.diag([2, 0.5]))[0])
    quiver = [c for c in ax.collections if isinstance(c, matplotlib.quiver.Quiver)]
    assert len(quiver) == 1 and quiver[0].N == 20
    np.testing.assert_allclose(quiver[0].U, shrunk["intercept"] - own["intercept"])
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    plt.close("all")


def test_plot_shrinkage_2d_refusals():
    own = np.zeros((5, 2))
    with pytest.raises(ValueError, match="same groups"):
        covariates.plot_shrinkage_2d(own, np.zeros((4, 2)), np.eye(2))
    with pytest.raises(ValueError, match="columns 'intercept' and 'slope'"):
        covariates.plot_shrinkage_2d(pd.DataFrame({"a": [1.0]}), own, np.eye(2))
    with pytest.raises(ValueError, match="one group size"):
        covariates.plot_shrinkage_2d(own, own, np.eye(2), n=[1, 2])
    with pytest.raises(ValueError, match="positive definite"):
        covariates.plot_shrinkage_2d(own, own, np.zeros((2, 2)))
    plt.close("all")
