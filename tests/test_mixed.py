"""hierlib.reml.fit_mixed: the HSB mixed models of Raudenbush & Bryk (ch. 4) against R's nlme.

The reference numbers are in tests/reference/nlme_covariates.json, written by
tests/reference/nlme_covariates.R (R and nlme versions inside); no test needs R. Tolerances
(the issue's): fixed effects 1e-3 relative, SDs of the random effects 5e-3, residual SD 1e-3;
the maxima themselves agree far closer, and the log-likelihood is held to 1e-6.
"""

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_light_imports import heavy_after_each

from hierlib import data, reml

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "nlme_covariates.json").read_text(encoding="utf-8")
)
MODELS = REFERENCE["models"]
CASES = [(key, method) for key in MODELS for method in ("REML", "ML")]
REQUIRED = ["ses", "means_as_outcomes", "slopes_as_outcomes"]  # the three


@pytest.fixture(scope="module")
def hsb_cov():
    return data.load_hsb_covariates()


@pytest.fixture(scope="module")
def fits(hsb_cov):
    """Every reference model by REML and ML, fitted once; any warning is an error."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for key, method in CASES:
            spec = MODELS[key]
            out[key, method] = reml.fit_mixed(
                spec["formula"], hsb_cov, "school", re_formula=spec["re_formula"], method=method
            )
    return out


def re_sds(fit) -> np.ndarray:
    return np.sqrt(np.diag(np.asarray(fit.cov_re)))


def test_reference_file_records_its_software_and_the_required_models():
    assert REFERENCE["software"]["R"] == "4.2.2"
    assert REFERENCE["software"]["nlme"] == "3.1.162"
    assert set(REQUIRED) <= set(MODELS)
    assert MODELS["slopes_as_outcomes"]["re_formula"] == "~cses"
    for key, method in CASES:
        entry = MODELS[key][method]
        assert entry["n_obs"] == 7185 and entry["n_groups"] == 160
        # R's two optimisers (nlminb, optim) agree: R reached its optimum too
        assert abs(entry["logLik_gap_between_optimizers"]) < 1e-5, (key, method)


@pytest.mark.parametrize(("key", "method"), CASES)
def test_fit_mixed_matches_nlme(fits, key, method):
    fit, ref = fits[key, method], MODELS[key][method]
    assert fit.method == method and fit.converged
    assert set(fit.fe_params.index) == set(ref["fixed"])  # named as MixedLM names them
    for name, value in ref["fixed"].items():
        assert fit.fe_params[name] == pytest.approx(value, rel=1e-3, abs=1e-9), name
    np.testing.assert_allclose(re_sds(fit), list(ref["re_sd"].values()), rtol=5e-3)
    assert np.sqrt(fit.scale) == pytest.approx(ref["residual_sd"], rel=1e-3)
    assert fit.llf == pytest.approx(ref["logLik"], abs=1e-6)
    for pair, value in ref["re_corr"].items():
        cov = np.asarray(fit.cov_re)
        assert cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]) == pytest.approx(value, abs=5e-3), pair


@pytest.mark.parametrize(("key", "method"), CASES)
def test_fit_mixed_is_at_least_as_high_as_nlme_and_agrees_closely(fits, key, method):
    """The agreement is far tighter than the tolerances: the same maximum. The larger of the
    relative differences (fixed effects, SDs) is under 2e-4 (the random slope's SD, where
    the likelihood is flattest), and hierlib is never below R's log-likelihood by more than
    1e-8 (R's nlminb stopped 1e-9 short in the slopes-as-outcomes REML fit)."""
    fit, ref = fits[key, method], MODELS[key][method]
    fe = max(abs(fit.fe_params[k] / v - 1) for k, v in ref["fixed"].items())
    sd = np.max(np.abs(re_sds(fit) / np.array(list(ref["re_sd"].values())) - 1))
    assert max(fe, sd) < 2e-4
    assert fit.llf >= ref["logLik"] - 1e-8


@pytest.mark.parametrize(("key", "method"), CASES)
def test_standard_errors_are_rs(fits, key, method):
    se = np.sqrt(np.diag(reml.fixed_effects_cov(fits[key, method])))
    names = list(fits[key, method].fe_params.index)
    for name, value in MODELS[key][method]["se_fixed"].items():
        assert se[names.index(name)] == pytest.approx(value, rel=1e-4), name


def test_blups_are_rs(fits):
    fit, ref = fits["slopes_as_outcomes", "REML"], MODELS["slopes_as_outcomes"]["REML"]
    r = pd.DataFrame(ref["random_effects"]).set_index("school")
    ours = pd.DataFrame(fit.random_effects).T.loc[r.index]
    np.testing.assert_allclose(ours.iloc[:, 0], r["Intercept"], atol=2e-3)
    np.testing.assert_allclose(ours["cses"], r["cses"], atol=2e-3)


def test_the_certificate_is_recorded(fits):
    opt = fits["slopes_as_outcomes", "REML"].optimum
    assert isinstance(opt, reml.MixedOptimum)
    assert opt.gain_bound <= reml.MIXED_LOGLIK_TOL and opt.min_curvature > 0
    assert opt.loglik == pytest.approx(fits["slopes_as_outcomes", "REML"].llf, abs=1e-8)
    assert len(opt.start_logliks) == 2 and max(opt.start_logliks) <= opt.loglik + 1e-8


# ------------------------------------------------------------------ what a default fit gets
def test_default_mixedlm_stops_short_and_fit_mixed_does_not(hsb_cov, fits):
    """The issue's numbers: statsmodels' default MixedLM.fit() on mathach ~ ses stops 0.012
    below the REML maximum, with slope 2.3936 (R 2.3902) and tau 2.161 (R 2.184): outside
    the tolerances. fit_mixed gets R's maximum."""
    import statsmodels.formula.api as smf

    ref = MODELS["ses"]["REML"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        naive = smf.mixedlm("mathach ~ ses", hsb_cov, groups="school").fit(reml=True)
    assert ref["logLik"] - naive.llf > 0.01
    assert abs(naive.fe_params["ses"] / ref["fixed"]["ses"] - 1) > 1e-3
    assert abs(re_sds(naive)[0] / ref["re_sd"]["Intercept"] - 1) > 5e-3
    fit = fits["ses", "REML"]
    assert abs(fit.llf - ref["logLik"]) < 1e-6
    assert fit.fe_params["ses"] == pytest.approx(2.3902, abs=1e-4)
    assert re_sds(fit)[0] == pytest.approx(2.1836, abs=1e-4)


def test_lbfgs_returns_zeros_marked_converged_and_fit_mixed_does_not(hsb_cov, fits):
    """method="lbfgs" returns a fit of all zeros with an infinite log-likelihood, and says
    converged=True: the failure fit_mixed's certificate exists to catch."""
    import statsmodels.formula.api as smf

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        naive = smf.mixedlm("mathach ~ ses", hsb_cov, groups="school").fit(method="lbfgs")
    assert naive.converged
    assert not np.isfinite(naive.llf)
    assert abs(naive.fe_params["Intercept"]) < 1e-8 and np.asarray(naive.cov_re)[0, 0] < 1e-8
    fit = fits["ses", "REML"]
    assert np.isfinite(fit.llf) and fit.fe_params["Intercept"] == pytest.approx(12.657, abs=1e-3)


def test_default_mixedlm_fails_on_random_slopes_and_fit_mixed_does_not(hsb_cov, fits):
    """On the random-coefficients model (mathach ~ cses, random intercept and slope of cses)
    the default fit tries BFGS, L-BFGS and CG, fails all three and returns a slope SD of
    about 3.9 (R: 0.833), 100 log-likelihood units below the maximum (converged=False, with
    warnings). fit_mixed gets R's maximum."""
    import statsmodels.formula.api as smf

    ref = MODELS["random_coefficients"]["REML"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm("mathach ~ cses", hsb_cov, groups="school", re_formula="~cses")
        naive = model.fit(reml=True)
    assert ref["logLik"] - naive.llf > 50
    assert re_sds(naive)[1] > 2 * ref["re_sd"]["cses"]
    fit = fits["random_coefficients", "REML"]
    assert abs(fit.llf - ref["logLik"]) < 1e-6
    assert re_sds(fit)[1] == pytest.approx(ref["re_sd"]["cses"], rel=1e-5)


def test_certificate_refuses_a_point_that_is_not_the_maximum(hsb_cov):
    """The check fit_mixed applies, applied to the default fit's stopping point: a Newton
    step from there gains 0.012, far above the tolerance."""
    import statsmodels.formula.api as smf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.mixedlm("mathach ~ ses", hsb_cov, groups="school")
        naive = model.fit(reml=True)
    pr = reml._products(model)
    x = np.linalg.cholesky(np.asarray(naive.cov_re_unscaled) * np.outer(pr.cz, pr.cz)).ravel()
    gain, *_ = reml._certify(lambda t: -reml._profile(t, pr, True)[0], x)
    assert gain == pytest.approx(0.0116, abs=2e-3)
    assert gain > 1e3 * reml.MIXED_LOGLIK_TOL


# ------------------------------------------------------------------------------ invariance
def test_units_do_not_matter(hsb_cov, fits):
    """Scaling the response by 1e-4 and a predictor by 1e3 scales the estimates and nothing
    else (MixedLM's absolute tolerances would not see these as the same problem)."""
    d = hsb_cov.assign(y=hsb_cov["mathach"] * 1e-4, c=hsb_cov["cses"] * 1e3)
    fit = reml.fit_mixed("y ~ mses * c + sector * c", d, "school", re_formula="~c")
    ref = fits["slopes_as_outcomes", "REML"]
    assert fit.fe_params["c"] == pytest.approx(ref.fe_params["cses"] * 1e-7, rel=1e-6)
    assert fit.fe_params["Intercept"] == pytest.approx(ref.fe_params["Intercept"] * 1e-4, rel=1e-6)
    assert np.sqrt(fit.scale) == pytest.approx(np.sqrt(ref.scale) * 1e-4, rel=1e-6)
    sd, sd_ref = re_sds(fit), re_sds(ref)
    assert sd[0] == pytest.approx(sd_ref[0] * 1e-4, rel=1e-5)
    assert sd[1] == pytest.approx(sd_ref[1] * 1e-7, rel=1e-5)


def test_groups_as_an_array_and_row_order_give_the_same_fit(hsb_cov, fits):
    shuffled = hsb_cov.sample(frac=1.0, random_state=630).reset_index(drop=True)
    fit = reml.fit_mixed("mathach ~ mses + sector", shuffled, shuffled["school"].to_numpy())
    ref = fits["means_as_outcomes", "REML"]
    np.testing.assert_allclose(fit.fe_params, ref.fe_params, rtol=1e-7)
    assert fit.llf == pytest.approx(ref.llf, abs=1e-7)


def test_modules_import_no_heavy_library():
    found = heavy_after_each("hierlib.data", "hierlib.reml", "hierlib.covariates")
    assert found == {"hierlib.data": [], "hierlib.reml": [], "hierlib.covariates": []}


# --------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small(hsb_cov):
    """12 HSB schools: bad inputs are refused before any fitting, so size hardly matters."""
    keep = hsb_cov["school"].isin(sorted(hsb_cov["school"].unique())[:12])
    return hsb_cov[keep].reset_index(drop=True)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(formula="mathach ~ ses + income"), "formula uses 'income', which is not a column"),
        (dict(re_formula="~income"), "re_formula uses 'income'"),
        (dict(formula="maths ~ ses"), "formula uses 'maths'"),
        (dict(groups="district"), "groups='district' is not a column"),
        (dict(formula="mathach ~ ses + k"), "term 'k' is constant"),
        (dict(formula="mathach ~ ses + I(2 * ses)"), "collinear"),
        (dict(re_formula="~mses"), "'mses' does not vary within any group of 'school'"),
        (dict(re_formula="~sector"), "does not vary within any group"),
        (dict(groups="one"), "need at least 2 groups; got 1"),
        (dict(formula="mathach ~ gap"), "column 'gap' .* 1 missing or infinite"),
        (dict(formula="mathach ~ ses", groups="holes"), "groups .*missing"),
        (dict(formula="mathach ~ ses", method="OLS"), "method must be 'REML' or 'ML'"),
        (dict(formula="mathach ~ (ses"), "formula could not be parsed"),
        (dict(formula="mathach + ses"), "needs a '~'"),
        (dict(formula="~ ses"), "one response on the left"),
        (dict(re_formula="mathach ~ cses"), "re_formula has no response"),
        (dict(formula="sex ~ ses"), "response 'sex' must be numeric"),
        (dict(formula="exact ~ ses"), "fitted exactly by the fixed effects"),
    ],
)
def test_bad_input_is_refused_naming_the_problem(small, change, message):
    d = small.assign(k=1.0, one="a", gap=small["ses"], holes=small["school"],
                     exact=2 * small["ses"] + 1)  # fmt: skip
    d.loc[3, "gap"] = np.nan
    d.loc[5, "holes"] = None
    args = dict(formula="mathach ~ ses", groups="school", re_formula=None, method="REML")
    args.update(change)
    with pytest.raises(ValueError, match=message):
        reml.fit_mixed(args.pop("formula"), d, **args)


def test_a_category_absent_from_the_data_is_a_constant_term(small):
    public = small[small["sector"] == "Public"]
    with pytest.raises(ValueError, match=r"term 'sector\[T.Catholic\]' is constant"):
        reml.fit_mixed("mathach ~ ses + sector", public, "school")


def test_groups_of_one_cannot_separate_the_variances():
    d = pd.DataFrame({"y": [1.0, 2.5, 0.3, 4.0], "x": [0.1, 0.5, 0.2, 0.9], "g": list("abcd")})
    with pytest.raises(ValueError, match="at most 1 row"):
        reml.fit_mixed("y ~ x", d, "g")


def test_infinite_values_are_refused(small):
    d = small.assign(ses=small["ses"].where(small.index != 7, np.inf))
    with pytest.raises(ValueError, match="column 'ses' .* missing or infinite"):
        reml.fit_mixed("mathach ~ ses", d, "school")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("mathach ~ ses", {"mathach": [1.0]}, "school"), "data must be a pandas DataFrame"),
        ((["mathach ~ ses"], "FRAME", "school"), "formula must be a string"),
        (("mathach ~ ses", "FRAME", 3.5), "groups must be one group label per observation"),
        (("mathach ~ ses", "FRAME", None), "groups is required"),
        (("mathach ~ ses", "FRAME", "school", 2), "re_formula must be a string or None"),
    ],
)
def test_wrong_kinds_are_type_errors(small, args, message):
    args = tuple(small if a == "FRAME" else a for a in args)
    with pytest.raises(TypeError, match=message):
        reml.fit_mixed(*args)


def test_fixed_effects_cov_needs_a_mixedlm_fit():
    with pytest.raises(TypeError, match="fit must be a statsmodels MixedLMResults"):
        reml.fixed_effects_cov({"fe_params": [1.0]})


def test_a_start_at_a_saddle_is_left_along_its_negative_curvature(hsb_cov):
    """Delta = 0 has gradient 0 in the Cholesky parameters (the likelihood is even in L), so
    BFGS started there does not move; the certificate sees the negative curvature and the
    climb resumes from beside it, to R's maximum."""
    import statsmodels.formula.api as smf

    model = smf.mixedlm("mathach ~ mses * cses + sector * cses", hsb_cov, groups="school",
                        re_formula="~cses")  # fmt: skip
    pr = reml._products(model)
    zero = np.zeros(3)
    f = lambda t: -reml._profile(t, pr, True)[0]  # noqa: E731
    assert np.allclose(reml._climb(f, zero)[0], zero)
    assert reml._certify(f, zero)[3].any()  # a direction to leave along
    x, opt = reml._maximise(pr, True, starts=[zero])
    assert opt.gain_bound <= reml.MIXED_LOGLIK_TOL
    assert opt.loglik == pytest.approx(reml._maximise(pr, True)[1].loglik, abs=1e-7)


@pytest.mark.parametrize("method", ["REML", "ML"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_profiled_likelihood_is_the_dense_formula(method, seed):
    """The group cross-product likelihood fit_mixed maximises equals the textbook formula
    with the full n x n covariance V = I + Z Delta Z' (profiled sigma2 and beta; REML adds
    -1/2 log|X'V^-1 X|), at random Delta, on data with an offset of 1e6 in y (centred away
    inside) and predictors on scales 1e-3 and 1e3."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(7), rng.integers(2, 9, size=7))
    n = g.size
    d = pd.DataFrame({"x": 1e-3 * rng.normal(size=n), "w": 1e3 * rng.normal(size=7)[g], "g": g})
    d["y"] = 1e6 + 2e3 * d["x"] + rng.normal(size=7)[g] + 1e3 * d["x"] * rng.normal(size=7)[g]
    d["y"] += rng.normal(size=n)
    model = smf.mixedlm("y ~ x * w", d, groups="g", re_formula="~x")
    pr = reml._products(model)
    reml_ = method == "REML"
    for _ in range(3):
        L = np.tril(rng.normal(size=(2, 2))) * np.array([[1.0], [1e3]])  # x's slope is large
        X, Z, y = model.exog, model.exog_re, model.endog
        V = np.eye(n)
        for k in np.unique(g):
            ix = np.flatnonzero(g == k)
            V[np.ix_(ix, ix)] += Z[ix] @ L @ L.T @ Z[ix].T
        Vi = np.linalg.inv(V)
        A = X.T @ Vi @ X
        r = y - X @ np.linalg.solve(A, X.T @ Vi @ y)
        df = n - X.shape[1] if reml_ else n
        dense = -0.5 * df * (1 + np.log(2 * np.pi * (r @ Vi @ r) / df))
        dense -= 0.5 * np.linalg.slogdet(V)[1] + (0.5 * np.linalg.slogdet(A)[1] if reml_ else 0)
        ours = reml._profile_root(pr.cz[:, None] * L, pr, reml_)[0]
        ours -= df * np.log(pr.cy) - (np.log(abs(np.linalg.det(pr.to_beta))) if reml_ else 0)
        assert ours == pytest.approx(dense, abs=1e-7 * abs(dense))


def test_a_variance_at_zero_is_reported_and_the_lr_test_uses_the_maximum():
    """Simulated without a random slope (30 schools of 12), the REML slope variance lands on
    its boundary (here a singular covariance: intercept and slope perfectly correlated):
    fit_mixed warns, hands MixedLM a covariance nudged just inside (MixedLM cannot evaluate
    a singular one) and says how much that cost; the LR statistic is taken from the
    certified maxima, not from the nudged fit's llf."""
    from hierlib.covariates import lr_test_random_effect

    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(30), 12)
    x = rng.normal(size=g.size)
    d = pd.DataFrame({"y": 1 + 0.5 * x + rng.normal(size=30)[g] + 2 * rng.normal(size=g.size),
                      "x": x, "g": g})  # fmt: skip
    with pytest.warns(UserWarning, match="singular at the maximum"):
        full = reml.fit_mixed("y ~ x", d, "g", re_formula="~x")
    restricted = reml.fit_mixed("y ~ x", d, "g")
    opt = full.optimum
    assert opt.boundary_floor > 0 and 0 <= opt.boundary_loss <= reml.MIXED_LOGLIK_TOL
    assert full.llf == pytest.approx(opt.loglik - opt.boundary_loss, abs=1e-9)
    assert np.linalg.eigvalsh(np.asarray(full.cov_re)).min() < 1e-6 * full.scale
    test = lr_test_random_effect(restricted, full)
    assert test.statistic == pytest.approx(2 * (opt.loglik - restricted.optimum.loglik), abs=1e-9)
    assert test.statistic >= 0 and test.p_value < test.p_value_naive
