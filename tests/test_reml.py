"""hierlib.reml: the lecture's lme() output on HSB, and the closed-form (RE)ML likelihood."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hierlib.data import group_stats
from hierlib.marginal import marginal_cov, simulate_two_level
from hierlib.reml import (
    fit_random_intercept,
    gls_mean,
    maximize_profile,
    profile_interval,
    profile_loglik,
    restricted_loglik,
)

# R: lme(fixed = MathAch ~ 1, random = ~ 1 | School), summary() and random.effects()
LECTURE = {"mu": 12.63697, "se": 0.2443936, "tau": 2.934966, "sigma": 6.256862}
LECTURE_RE = {
    "8367": -6.10301150,
    "8854": -7.35291362,
    "4458": -6.23521734,
    "5762": -7.40281890,
    "6990": -6.13417909,
}


@pytest.fixture(scope="module")
def reml_fit(hsb):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the HSB fit must be clean: no convergence warning
        return fit_random_intercept(hsb["mathach"], hsb["school"], method="REML")


@pytest.fixture(scope="module")
def ml_fit(hsb):
    return fit_random_intercept(hsb["mathach"], hsb["school"], method="ML")


@pytest.fixture(scope="module")
def hsb_stats(hsb):
    return group_stats(hsb["mathach"], hsb["school"])


def test_lecture_reml_estimates(reml_fit):
    assert reml_fit.converged and reml_fit.messages == ()
    assert reml_fit.mu_hat == pytest.approx(LECTURE["mu"], rel=1e-3)
    assert reml_fit.se_mu == pytest.approx(LECTURE["se"], rel=1e-3)
    assert reml_fit.tau == pytest.approx(LECTURE["tau"], rel=1e-3)
    assert reml_fit.sigma == pytest.approx(LECTURE["sigma"], rel=1e-3)
    # the slide: tau2 = 8.61, sigma2 = 39.14 (39.15 rounded from 6.256862^2), ICC 0.18
    assert round(reml_fit.tau2, 2) == 8.61
    assert reml_fit.sigma2 == pytest.approx(39.15, abs=0.01)
    assert round(reml_fit.icc, 2) == 0.18
    assert reml_fit.icc == pytest.approx(
        LECTURE["tau"] ** 2 / (LECTURE["tau"] ** 2 + LECTURE["sigma"] ** 2), rel=1e-3
    )
    assert reml_fit.n_obs == 7185 and reml_fit.n_groups == 160


def test_lecture_random_effects(reml_fit):
    re = reml_fit.random_effects
    assert isinstance(re, pd.Series) and len(re) == 160 and re.index.name == "school"
    for school, value in LECTURE_RE.items():
        assert re[school] == pytest.approx(value, abs=1e-3), school


def test_random_effects_are_the_blup_formula(reml_fit, hsb_stats):
    # b_j = n_j tau2 / (sigma2 + n_j tau2) * (ybar_j - mu_hat): the shrunken school deviation
    st, f = hsb_stats, reml_fit
    blup = st.n * f.tau2 / (f.sigma2 + st.n * f.tau2) * (st.ybar - f.mu_hat)
    np.testing.assert_allclose(f.random_effects.to_numpy(), blup, atol=1e-6)
    np.testing.assert_array_equal(f.random_effects.index.to_numpy(), st.labels)


def test_ml_variance_is_smaller_than_reml(reml_fit, ml_fit):
    assert ml_fit.converged
    assert ml_fit.tau2 < reml_fit.tau2
    assert ml_fit.tau2 == pytest.approx(8.555, abs=0.01)
    assert ml_fit.mu_hat == pytest.approx(reml_fit.mu_hat, abs=1e-3)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_closed_form_loglik_matches_mixedlm(method, reml_fit, ml_fit, hsb_stats):
    fit = reml_fit if method == "REML" else ml_fit
    ll = restricted_loglik(hsb_stats, fit.tau2, fit.sigma2, method)
    assert ll == pytest.approx(fit.loglik, abs=1e-6)
    mu, _ = gls_mean(hsb_stats, fit.tau2, fit.sigma2)
    assert mu == pytest.approx(fit.mu_hat, abs=1e-6)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_profile_maximiser_agrees_with_mixedlm(method, reml_fit, ml_fit, hsb_stats):
    fit = reml_fit if method == "REML" else ml_fit
    tau2, sigma2, ll = maximize_profile(hsb_stats, method)
    assert tau2 == pytest.approx(fit.tau2, rel=1e-3)
    assert sigma2 == pytest.approx(fit.sigma2, rel=1e-5)
    assert ll == pytest.approx(fit.loglik, abs=1e-4)
    grid = np.array([0.5, 0.9, 1.0, 1.1, 2.0]) * fit.tau2
    prof = profile_loglik(hsb_stats, grid, method)
    assert np.argmax(prof) == 2
    assert prof[2] == pytest.approx(fit.loglik, abs=1e-3)
    # the profile sits above the log-likelihood at any other sigma2
    assert prof[2] >= restricted_loglik(hsb_stats, grid[2], 1.01 * fit.sigma2, method)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_started_fit_has_the_default_fits_estimates(method, reml_fit, ml_fit, hsb):
    """fit_random_intercept starts MixedLM at the closed-form optimum: the estimates are those
    of MixedLM from its own default start, run to full convergence, to 1e-6; and never worse
    (in log-likelihood) than a default fit, which stops at gtol=1e-5."""
    import statsmodels.api as sm

    fit = reml_fit if method == "REML" else ml_fit
    model = sm.MixedLM(hsb["mathach"], np.ones((len(hsb), 1)), groups=hsb["school"])
    full = model.fit(reml=method == "REML", gtol=1e-10)
    assert fit.mu_hat == pytest.approx(float(np.asarray(full.fe_params)[0]), rel=1e-6)
    assert fit.tau2 == pytest.approx(float(np.asarray(full.cov_re)[0, 0]), rel=1e-6)
    assert fit.sigma2 == pytest.approx(float(full.scale), rel=1e-6)
    assert fit.loglik == pytest.approx(float(full.llf), abs=1e-6)
    default = model.fit(reml=method == "REML")
    assert fit.tau2 == pytest.approx(float(np.asarray(default.cov_re)[0, 0]), rel=1e-3)
    assert fit.loglik >= float(default.llf) - 1e-9


def test_reml_loglik_is_likelihood_of_residual_contrasts():
    # REML = log density of A'y, A (n x n-1) orthonormal with A'1 = 0, up to the log|X'X|
    # constant: l_R = log N(A'y; 0, A'VA) - 0.5 log n
    rng = np.random.default_rng(4)
    sizes = [3, 4, 2, 5]
    y, g = simulate_two_level(rng, sizes, 1.0, 2.0, 1.0)
    n = y.size
    q, _ = np.linalg.qr(np.column_stack([np.ones(n), rng.normal(size=(n, n - 1))]))
    a = q[:, 1:]
    v = marginal_cov(sizes, 1.7, 0.8).to_dense()
    ref = sps.multivariate_normal(np.zeros(n - 1), a.T @ v @ a).logpdf(a.T @ y) - 0.5 * np.log(n)
    assert restricted_loglik(group_stats(y, g), 1.7, 0.8) == pytest.approx(ref, rel=1e-10)


def test_boundary_fit_warns_not_swallowed():
    # no between-group variation at all: tau2 is estimated on the boundary 0
    rng = np.random.default_rng(11)
    y, g = simulate_two_level(rng, [5] * 8, 0.0, 0.0, 1.0)
    y = y - group_stats(y, g).ybar[g] + 3.0  # make every group mean exactly 3
    with pytest.warns(Warning, match="MixedLM"):
        fit = fit_random_intercept(y, g)
    assert fit.messages and not fit.converged
    assert fit.tau2 == pytest.approx(0.0, abs=1e-3)
    # the closed-form maximiser lands exactly on the boundary
    tau2, sigma2, _ = maximize_profile(group_stats(y, g))
    assert tau2 == 0.0
    assert sigma2 == pytest.approx(group_stats(y, g).ss.sum() / (y.size - 1))


@pytest.mark.parametrize(
    ("y", "groups", "kwargs", "message"),
    [
        ([1.0, 2.0, 3.0], [0, 0, 0], {}, "at least 2 groups"),
        ([1.0, 2.0, 3.0], [0, 1, 2], {}, "2 or more members"),
        ([1.0, np.nan, 3.0, 4.0], [0, 0, 1, 1], {}, "NaN"),
        ([1.0, 2.0, 3.0], [0, 0, 1, 1], {}, "lengths differ"),
        ([1.0, 2.0, 3.0, 4.0], [0, 0, 1, 1], {"method": "MLE"}, "method"),
    ],
)
def test_bad_input(y, groups, kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_random_intercept(y, groups, **kwargs)


def test_bad_variance_components(hsb_stats):
    with pytest.raises(ValueError, match="tau2"):
        profile_loglik(hsb_stats, [1.0, -1.0])
    with pytest.raises(ValueError, match="tau2"):
        restricted_loglik(hsb_stats, -1.0, 1.0)
    with pytest.raises(ValueError, match="sigma2"):
        restricted_loglik(hsb_stats, 1.0, 0.0)
    with pytest.raises(ValueError, match="method"):
        profile_loglik(hsb_stats, [1.0], method="reml")


def test_profile_interval(hsb_stats, reml_fit):
    lo, hi = profile_interval(hsb_stats, 0.95)
    assert lo < reml_fit.tau2 < hi
    assert (round(lo, 2), round(hi, 2)) == (6.78, 11.08)
    ends = profile_loglik(hsb_stats, [lo, hi])
    np.testing.assert_allclose(ends, reml_fit.loglik - 1.920729, atol=1e-3)
    with pytest.raises(ValueError, match="level"):
        profile_interval(hsb_stats, 95)


def test_ml_never_exceeds_reml_on_small_data():
    rng = np.random.default_rng(8)
    for _ in range(20):
        st = group_stats(*simulate_two_level(rng, [20] * 6, 0.0, 8.6, 39.2))
        assert maximize_profile(st, "ML")[0] <= maximize_profile(st, "REML")[0] + 1e-8


def test_profile_plot_marks_the_maximum(hsb_stats):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hierlib.reml import plot_profile

    ax = plot_profile(hsb_stats, (4.0, 14.0))
    reml_curve, reml_peak = ax.lines[0], ax.lines[1]
    assert reml_peak.get_xdata()[0] == pytest.approx(8.614, abs=2e-3)
    assert np.max(reml_curve.get_ydata()) <= 1e-9
    assert "tau" in ax.get_xlabel()
    plt.close("all")
