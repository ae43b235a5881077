"""hierlib.data.load_hsb_covariates and hierlib.covariates: OLS per school, the contextual
effect, variance explained, the random-slope likelihood-ratio test (against R's nlme and the
boundary theory) and the figures of notebook 11."""

import json
import types
import warnings
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hierlib import covariates as cv
from hierlib import data, reml

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "nlme_covariates.json").read_text(encoding="utf-8")
)
MODELS = REFERENCE["models"]


@pytest.fixture(scope="module")
def hsb_cov():
    return data.load_hsb_covariates()


@pytest.fixture(scope="module")
def fits(hsb_cov):
    keys = ["null", "centred", "means_as_outcomes", "random_coefficients",
            "random_coefficients_intercept_only", "slopes_as_outcomes",
            "slopes_as_outcomes_intercept_only"]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return {
            k: reml.fit_mixed(MODELS[k]["formula"], hsb_cov, "school", MODELS[k]["re_formula"])
            for k in keys
        }


@pytest.fixture(scope="module")
def ols(hsb_cov):
    return cv.ols_by_group(hsb_cov["mathach"], hsb_cov["cses"], hsb_cov["school"])


# ------------------------------------------------------------------------------ the data
def test_covariate_table(hsb_cov):
    assert list(hsb_cov.columns) == list(data.COVARIATE_COLUMNS)
    assert len(hsb_cov) == 7185 and hsb_cov["school"].nunique() == 160
    assert isinstance(hsb_cov["sector"].dtype, pd.CategoricalDtype)
    assert list(hsb_cov["sector"].cat.categories) == ["Public", "Catholic"]
    per_school = hsb_cov.groupby("school")["sector"].agg(["first", "nunique"])
    assert (per_school["nunique"] == 1).all()
    assert per_school["first"].value_counts().to_dict() == {"Public": 90, "Catholic": 70}
    plain = data.load_hsb()
    pd.testing.assert_frame_equal(hsb_cov[list(plain.columns)], plain)  # same rows, same order


def test_mses_is_the_school_mean_and_cses_sums_to_zero(hsb_cov):
    means = hsb_cov.groupby("school")["ses"].mean()
    np.testing.assert_allclose(hsb_cov["mses"], hsb_cov["school"].map(means), atol=1e-12)
    np.testing.assert_allclose(hsb_cov.groupby("school")["cses"].sum(), 0.0, atol=1e-11)
    np.testing.assert_allclose(hsb_cov["mses"] + hsb_cov["cses"], hsb_cov["ses"], atol=1e-12)
    # the same construction as the R script's (its record of the gap to the shipped MEANSES)
    gap = float((hsb_cov["mses"] - hsb_cov["meanses"]).abs().max())
    assert gap == pytest.approx(REFERENCE["data"]["max_abs_mses_minus_meanses"], abs=1e-12)
    assert 0 < gap < 0.01


# -------------------------------------------------------------------------- OLS per school
def test_ols_by_group_matches_a_regression_per_school(hsb_cov, ols):
    import statsmodels.api as sm

    assert list(ols.columns) == list(cv.OLS_COLUMNS) and len(ols) == 160
    assert ols.index.name == "school" and ols.index.is_monotonic_increasing
    for school in ["1224", "8367", "9586"]:
        rows = hsb_cov[hsb_cov["school"] == school]
        res = sm.OLS(rows["mathach"], sm.add_constant(rows["cses"])).fit()
        got = ols.loc[school]
        np.testing.assert_allclose([got["intercept"], got["slope"]], res.params, rtol=1e-10)
        np.testing.assert_allclose([got["se_intercept"], got["se_slope"]], res.bse, rtol=1e-10)
        assert got["sigma"] == pytest.approx(np.sqrt(res.scale), rel=1e-10)
        assert got["n"] == len(rows)
    # on the centred SES, the intercept is the school mean
    np.testing.assert_allclose(ols["intercept"], hsb_cov.groupby("school")["mathach"].mean())


def test_ols_by_group_refuses_groups_without_a_line():
    with pytest.raises(ValueError, match="group.s. b have fewer than 3 members"):
        cv.ols_by_group([1.0, 2, 3, 4, 5], [0.0, 1, 2, 0, 1], ["a", "a", "a", "b", "b"])
    with pytest.raises(ValueError, match="group.s. a have x constant"):
        cv.ols_by_group([1.0, 2, 3, 4, 5, 6], [1.0, 1, 1, 0, 1, 2], list("aaabbb"))
    with pytest.raises(ValueError, match="x has 1 NaN"):
        cv.ols_by_group([1.0, 2, 3], [0.0, np.nan, 2], [1, 1, 1])
    with pytest.raises(ValueError, match="lengths differ"):
        cv.ols_by_group([1.0, 2, 3], [0.0, 1], [1, 1, 1])


def test_fitted_lines_are_fixed_part_plus_blup(fits):
    fit = fits["random_coefficients"]
    lines = cv.fitted_lines(fit, "cses")
    re = pd.DataFrame(fit.random_effects).T.loc[lines.index]
    np.testing.assert_allclose(lines["intercept"], fit.fe_params["Intercept"] + re["school"])
    np.testing.assert_allclose(lines["slope"], fit.fe_params["cses"] + re["cses"])
    # with school-level predictors the slope is gamma_10 + gamma_11 mses + gamma_12 Catholic + u
    full = fits["slopes_as_outcomes"]
    lines = cv.fitted_lines(full, "cses")
    frame = full.model.data.frame.assign(school=full.model.groups)
    school = frame.groupby("school").first().loc[lines.index]
    fe, u = full.fe_params, pd.DataFrame(full.random_effects).T.loc[lines.index]
    catholic = (school["sector"] == "Catholic").astype(float)
    slope = fe["cses"] + fe["mses:cses"] * school["mses"] + fe["sector[T.Catholic]:cses"] * catholic
    slope = slope + u["cses"]
    np.testing.assert_allclose(lines["slope"], slope, atol=1e-10)


def test_fitted_lines_refuses_what_is_not_a_line(hsb_cov, fits):
    with pytest.raises(ValueError, match="x='ses' is not a column"):
        cv.fitted_lines(fits["random_coefficients"], "ses")
    fit = reml.fit_mixed("mathach ~ cses + minority", hsb_cov, "school")
    with pytest.raises(ValueError, match="not a straight line in 'cses'"):
        cv.fitted_lines(fit, "cses")
    with pytest.raises(TypeError, match="fit must be a statsmodels MixedLMResults"):
        cv.fitted_lines("a fit", "cses")


# ------------------------------------------------------------------------ contextual effect
@pytest.mark.parametrize("method", ["REML", "ML"])
def test_contextual_effect_is_rs_mses_coefficient_in_the_ses_model(hsb_cov, method):
    """Two parameterisations of one model: in mathach ~ cses + mses the contextual effect is
    b_mses - b_cses; in mathach ~ ses + mses it is b_mses itself (R's estimate and SE)."""
    fit = reml.fit_mixed("mathach ~ cses + mses", hsb_cov, "school", method=method)
    ce = cv.contextual_effect(fit)
    ref = MODELS["contextual"][method]
    assert ce.estimate == pytest.approx(ref["fixed"]["mses"], rel=1e-6)
    assert ce.se == pytest.approx(ref["se_fixed"]["mses"], rel=1e-5)
    lo, hi = ce.interval(0.95)
    assert (hi - lo) == pytest.approx(2 * 1.959964 * ce.se, rel=1e-6) and lo > 0


def test_contextual_effect_refuses_unknown_names(fits):
    with pytest.raises(ValueError, match="between='meanses' is not a fixed effect"):
        cv.contextual_effect(fits["centred"], between="meanses")
    with pytest.raises(ValueError, match="level must lie in"):
        cv.contextual_effect(fits["centred"]).interval(1.5)


# ------------------------------------------------------------------------ variance explained
def test_variance_explained_and_conditional_icc_are_rs(fits):
    tau2 = {k: MODELS[k]["REML"]["re_sd"]["Intercept"] ** 2 for k in MODELS}
    sigma2 = {k: MODELS[k]["REML"]["residual_sd"] ** 2 for k in MODELS}
    between = cv.variance_explained(fits["null"], fits["means_as_outcomes"])
    assert between == pytest.approx(1 - tau2["means_as_outcomes"] / tau2["null"], rel=1e-5)
    assert round(between, 2) == 0.73  # sector and school SES explain 73% of tau^2
    within = cv.variance_explained(fits["null"], fits["centred"], "within")
    assert within == pytest.approx(1 - sigma2["centred"] / sigma2["null"], rel=1e-5)
    rho = cv.conditional_icc(fits["means_as_outcomes"])
    t, s = tau2["means_as_outcomes"], sigma2["means_as_outcomes"]
    assert rho == pytest.approx(t / (t + s), rel=1e-5)
    assert cv.conditional_icc(fits["null"]) == pytest.approx(0.1804, abs=1e-4)  # notebook 03


def test_variance_explained_refusals(hsb_cov, fits):
    with pytest.raises(ValueError, match="level must be 'between' or 'within'"):
        cv.variance_explained(fits["null"], fits["centred"], "total")
    other = reml.fit_mixed("mathach ~ 1", hsb_cov.iloc[:3000], "school")
    with pytest.raises(ValueError, match="same data"):
        cv.variance_explained(fits["null"], other)
    slope_only = reml.fit_mixed("mathach ~ cses", hsb_cov, "school", re_formula="~0 + cses")
    with pytest.raises(ValueError, match="fit has no random intercept"):
        cv.variance_explained(fits["null"], slope_only)
    with pytest.raises(ValueError, match="fit has random slopes"):
        cv.conditional_icc(fits["random_coefficients"])
    with pytest.raises(TypeError, match="base must be a statsmodels MixedLMResults"):
        cv.variance_explained(None, fits["null"])


# -------------------------------------------------------------------- the random-slope test
@pytest.mark.parametrize("key", ["random_coefficients", "slopes_as_outcomes"])
def test_lr_test_is_rs_with_the_boundary_correction(fits, key):
    ref = REFERENCE["lr_random_slope"][key]
    test = cv.lr_test_random_effect(fits[ref["restricted"]], fits[ref["full"]])
    assert test.statistic == pytest.approx(ref["statistic"], abs=1e-6)
    assert test.df == ref["df"] == 2
    assert test.p_value_naive == pytest.approx(ref["p_value_naive_chisq"], rel=1e-5)
    mixture = 0.5 * sps.chi2.sf(test.statistic, 1) + 0.5 * sps.chi2.sf(test.statistic, 2)
    assert test.p_value == pytest.approx(mixture, rel=1e-12)
    assert test.p_value < test.p_value_naive and test.mixture == "0.5 chi2(1) + 0.5 chi2(2)"


def test_lr_test_numbers_of_the_notebook(fits):
    rc = cv.lr_test_random_effect(fits["random_coefficients_intercept_only"],
                                  fits["random_coefficients"])  # fmt: skip
    full = cv.lr_test_random_effect(fits["slopes_as_outcomes_intercept_only"],
                                    fits["slopes_as_outcomes"])  # fmt: skip
    assert (round(rc.statistic, 2), round(rc.p_value, 4)) == (9.76, 0.0047)
    assert (round(full.statistic, 2), round(full.p_value, 2)) == (1.12, 0.43)


def test_lr_test_refusals(hsb_cov, fits):
    rc0, rc = fits["random_coefficients_intercept_only"], fits["random_coefficients"]
    ml = reml.fit_mixed("mathach ~ cses", hsb_cov, "school", "~cses", method="ML")
    with pytest.raises(ValueError, match="same method"):
        cv.lr_test_random_effect(rc0, ml)
    with pytest.raises(ValueError, match="REML likelihoods are comparable only with the same"):
        cv.lr_test_random_effect(fits["null"], rc)
    with pytest.raises(ValueError, match="exactly one random effect"):
        cv.lr_test_random_effect(rc0, rc0)
    with pytest.raises(ValueError, match="full fits worse than restricted"):
        cv.lr_test_random_effect(rc0, _worse(rc0, rc))


def _worse(rc0, rc):
    """``rc`` with a log-likelihood 1 below ``rc0``'s: what a fit stopped short would give."""
    import copy

    bad = copy.copy(rc)
    bad.optimum = reml.MixedOptimum(float(rc0.llf) - 1.0, 0.0, 0.0, 1.0, ())
    return bad


@pytest.mark.sbc
def test_lr_statistic_follows_the_mixture_under_no_random_slope():
    """Calibration of the boundary claim (and of fit_mixed's maximiser at the boundary, where
    the slope variance is estimated as 0 about half the time). 200 data sets without a random
    slope (20 schools of 10; random intercepts, a fixed slope), the REML LR statistic of
    adding the slope each time. Under the 50:50 mixture of chi2(1) and chi2(2), the share of
    statistics below 1 is 0.538 (SD 0.035); the test accepts 0.538 +- 0.106 (3 SD: a false
    alarm in about 0.3% of seeds). Its power: the naive chi2(2) gives 0.393 and chi2(1)
    0.683, each rejected with probability about 0.87; a maximiser that stops short of the
    full model's maximum makes LR smaller (more mass below 1) or negative (refused below)."""
    rng = np.random.default_rng(20160)
    m, nj, sims = 20, 10, 200
    g = np.repeat(np.arange(m), nj)
    labels = np.arange(m)
    rows = {k: np.flatnonzero(g == k) for k in labels}
    stats_ = []
    for _ in range(sims):
        x = rng.normal(size=m * nj)
        y = 1.0 + 0.5 * x + rng.normal(size=m)[g] + 2.0 * rng.normal(size=m * nj)
        X = np.column_stack([np.ones_like(x), x])
        ll = []
        for Z in (X[:, :1], X):  # fit_mixed's maximiser, without statsmodels around it
            model = types.SimpleNamespace(exog=X, exog_re=Z, endog=y, group_labels=labels,
                                          row_indices=rows)  # fmt: skip
            ll.append(reml._maximise(reml._products(model), True)[1].loglik)
        stats_.append(2 * (ll[1] - ll[0]))
    stats_ = np.array(stats_)
    assert stats_.min() > -2e-6  # the full model never fits worse: both maxima were reached
    share = float(np.mean(stats_ < 1.0))
    mixture = 0.5 * sps.chi2.cdf(1.0, 1) + 0.5 * sps.chi2.cdf(1.0, 2)
    assert abs(share - mixture) < 3 * np.sqrt(mixture * (1 - mixture) / sims), share


# ------------------------------------------------------------------------------ the figures
def test_figures_have_labels_and_one_line_per_school(hsb_cov, ols, fits):
    ols_ses = cv.ols_by_group(hsb_cov["mathach"], hsb_cov["ses"], hsb_cov["school"])
    sector = hsb_cov.groupby("school")["sector"].first()
    ax = cv.plot_school_lines(ols_ses, hue=sector)
    assert len(ax.lines) == 160 and ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Public (90)", "Catholic (70)"]
    ax = cv.plot_slopes_by_size(ols)
    assert "slope" in ax.get_ylabel() and ax.get_title()
    fe = fits["centred"].fe_params
    mses = hsb_cov.groupby("school")["mses"].first()
    ax = cv.plot_within_between(ols, mses, fe["cses"], (fe["Intercept"], fe["mses"]))
    assert len(ax.lines) == 161 and ax.get_xlabel() and ax.get_title()
    rc = fits["random_coefficients"]
    pooled = (rc.fe_params["Intercept"], rc.fe_params["cses"])
    axes = cv.plot_coefficient_shrinkage(ols, cv.fitted_lines(rc, "cses"), pooled=pooled)
    assert axes.shape == (2,) and all(a.get_xlabel() and a.get_title() for a in axes)
    plt.close("all")


def test_fixed_lines_are_the_fixed_part(fits):
    full = fits["slopes_as_outcomes"]
    settings = pd.DataFrame({"sector": pd.Categorical(["Public", "Catholic"],
                                                      categories=["Public", "Catholic"]),
                             "mses": [0.0, 0.0]})  # fmt: skip
    ax = cv.plot_fixed_lines(full, "cses", settings, x_range=(-1.0, 1.0))
    fe = full.fe_params
    public, catholic = (np.asarray(line.get_ydata()) for line in ax.lines)
    np.testing.assert_allclose(public, fe["Intercept"] + fe["cses"] * np.array([-1.0, 1.0]))
    slope = fe["cses"] + fe["sector[T.Catholic]:cses"]
    np.testing.assert_allclose(np.diff(catholic) / 2, slope)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Public, mses 0",
        "Catholic, mses 0",
    ]
    with pytest.raises(ValueError, match="settings cannot be evaluated"):
        cv.plot_fixed_lines(full, "cses", settings[["mses"]])
    with pytest.raises(ValueError, match="x_range must be increasing"):
        cv.plot_fixed_lines(full, "cses", settings, x_range=(1.0, 1.0))
    with pytest.raises(TypeError, match="settings must be a non-empty DataFrame"):
        cv.plot_fixed_lines(full, "cses", {"mses": [0.0]})
    plt.close("all")


def test_figure_refusals(ols):
    with pytest.raises(
        TypeError, match=r"ols must be a table of lines \(from covariates.ols_by_group"
    ):
        cv.plot_school_lines(pd.DataFrame({"slope": [1.0]}))
    with pytest.raises(ValueError, match="hue must give a value for every group"):
        cv.plot_school_lines(ols, hue=pd.Series({"1224": "Public"}))
    with pytest.raises(TypeError, match=r"^hue must be a pandas Series \(one label per group"):
        cv.plot_school_lines(ols, hue={"1224": "Public"})
    with pytest.raises(TypeError, match=r"^x_means must be a pandas Series \(each group's"):
        cv.plot_within_between(ols, ols["x_mean"].to_dict(), 2.0, (12.0, 5.0))
    with pytest.raises(TypeError, match=r"^ols must be a table of lines .*; got dict"):
        cv.plot_slopes_by_size(ols.to_dict())
    with pytest.raises(ValueError, match="same groups"):
        cv.plot_coefficient_shrinkage(ols, ols.iloc[:10])
    plt.close("all")


def test_blups_shrink_slopes_more_than_intercepts(ols, fits):
    """What the shrinkage figure shows: the BLUP lines are pulled towards the fixed effects,
    the slopes far more (SD 1.63 -> 0.43) than the intercepts (3.12 -> 2.81), and the
    small schools the most."""
    rc = fits["random_coefficients"]
    lines = cv.fitted_lines(rc, "cses")
    ratio = lines.std() / ols.std()
    assert ratio["slope"] < 0.3 < 0.85 < ratio["intercept"] < 1.0
    pull = (ols["slope"] - lines["slope"]).abs() / (ols["slope"] - rc.fe_params["cses"]).abs()
    small, large = ols["n"] < ols["n"].median(), ols["n"] >= ols["n"].median()
    assert pull[small].median() > pull[large].median()
