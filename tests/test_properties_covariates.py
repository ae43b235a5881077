"""Property-based tests (Hypothesis) of the mixed models with covariates: reml.fit_mixed,
reml.fixed_effects_cov and the functions of hierlib.covariates.

On random data frames -- 1 to 6 groups of 1 to 8 rows, a student-level predictor that is
constant in some groups, a group-level predictor, a category, labels of every kind, scales
from 1e-150 to 1e150 and offsets up to 1e12, now and then a NaN -- and random formulas (some
impossible: a random slope of a group-level variable, a constant term), every call returns a
finite answer of the right shape, a fit certified at its maximum, or a ValueError/TypeError
whose message names the problem. Never another exception, never a NaN.
"""

import re
import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import FAST, datasets, finite

from hierlib import covariates, reml

NAMED = re.compile(
    r"\b(formula|re_formula|data|column|groups?|term|terms|response|likelihood|MixedLM|"
    r"random|rows?|method|x|y|fit|base|full|restricted|between|within|level|covariance)\b"
)


def attempt(fn, *args, **kwargs):
    """``fn(...)``, or ``None`` after checking the error is a ValueError/TypeError that names
    what is wrong. Warnings (of a singular covariance, MixedLM's notes) are allowed, except a
    numpy RuntimeWarning from hierlib's own code: a NaN or overflow leaking."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            warnings.filterwarnings("error", category=RuntimeWarning, module=r"hierlib\.")
            return fn(*args, **kwargs)
    except Exception as err:  # noqa: BLE001 -- the property is about which exceptions
        assert isinstance(err, ValueError | TypeError), f"{type(err).__name__}: {err}"
        assert NAMED.search(str(err)), f"message names nothing: {err}"
        return None


FORMULAS = ["y ~ x", "y ~ x + w", "y ~ x * w", "y ~ 1", "y ~ w + c", "y ~ x + k", "y ~ x + q"]
RE_FORMULAS = [None, None, "~x", "~0 + x", "~w", "~x + w"]


@st.composite
def frames(draw):
    """A DataFrame with y, x (varies within most groups), w (one value per group), c (a
    category), k (a constant), q (a column with a NaN now and then) and g (the groups)."""
    y, groups = draw(datasets(max_groups=6, max_size=8))
    n = y.size
    codes = pd.factorize(np.asarray(groups))[0]
    m = int(codes.max()) + 1
    scale = 10.0 ** draw(st.sampled_from([-150, -3, 0, 0, 4, 150]))
    x = scale * np.array(draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n)))
    if draw(st.booleans()):
        x = x - pd.Series(x).groupby(codes).transform("mean").to_numpy()  # group-centred
    w_group = draw(st.lists(st.floats(-2, 2), min_size=m, max_size=m))
    frame = pd.DataFrame(
        {
            "y": y,
            "x": x,
            "w": np.asarray(w_group)[codes],
            "g": groups,
            "k": 1.0,
            "c": pd.Categorical(np.where(codes % 2 == 0, "a", "b"), categories=["a", "b"]),
            "q": x,
        }  # fmt: skip
    )
    if draw(st.integers(0, 5)) == 0:
        frame.loc[draw(st.integers(0, n - 1)), "q"] = np.nan
    return frame


def check_fit(frame, formula, re_formula, method):
    fit = attempt(reml.fit_mixed, formula, frame, "g", re_formula=re_formula, method=method)
    if fit is None:
        return
    p = len(fit.fe_params)
    cov_re = np.asarray(fit.cov_re, dtype=np.float64)
    assert finite(fit.fe_params, cov_re, fit.scale, fit.llf) and fit.scale > 0
    assert np.linalg.eigvalsh(cov_re).min() >= -1e-8 * max(1.0, np.abs(cov_re).max())
    assert fit.optimum.gain_bound <= reml.MIXED_LOGLIK_TOL
    assert fit.optimum.loglik >= max(fit.optimum.start_logliks) - 1e-6
    cov = attempt(reml.fixed_effects_cov, fit)
    assert cov is None or (cov.shape == (p, p) and finite(cov.to_numpy()))
    if "x" in fit.fe_params.index and "w" in fit.fe_params.index:
        ce = attempt(covariates.contextual_effect, fit, "w", "x")
        assert ce is None or finite(ce.estimate, ce.se)
    if cov_re.shape == (1, 1):
        rho = attempt(covariates.conditional_icc, fit)
        assert rho is None or 0.0 <= rho <= 1.0


@FAST
@given(frames(), st.sampled_from(FORMULAS), st.sampled_from(RE_FORMULAS),
       st.sampled_from(["REML", "ML"]))  # fmt: skip
def test_fit_mixed_is_certified_or_refused(frame, formula, re_formula, method):
    check_fit(frame, formula, re_formula, method)


@FAST
@given(frames(), st.sampled_from(["REML", "ML"]))
def test_lr_test_and_variance_explained_are_finite_or_refused(frame, method):
    base = attempt(reml.fit_mixed, "y ~ x", frame, "g", method=method)
    full = attempt(reml.fit_mixed, "y ~ x", frame, "g", re_formula="~x", method=method)
    if base is None or full is None:
        return
    test = attempt(covariates.lr_test_random_effect, base, full)
    if test is not None:
        assert finite(test.statistic, test.p_value) and test.statistic >= 0
        assert 0 <= test.p_value <= test.p_value_naive <= 1
    share = attempt(covariates.variance_explained, base, full, "within")
    assert share is None or finite(share)


@FAST
@given(datasets(), st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60))
def test_ols_by_group_is_finite_or_refused(data, xs):
    y, groups = data
    x = np.resize(np.asarray(xs), y.size)
    table = attempt(covariates.ols_by_group, y, x, groups)
    if table is not None:
        assert list(table.columns) == list(covariates.OLS_COLUMNS)
        assert finite(table.to_numpy(dtype=np.float64)) and (table["se_slope"] >= 0).all()


WRONG = st.sampled_from([None, 3.0, "text", ["y ~ x"], {"y": [1.0]}, np.zeros((2, 2))])


@settings(FAST, max_examples=20)
@given(WRONG, WRONG, WRONG)
def test_wrong_kinds_raise_named_errors(a, b, c):
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0], "x": [0.0, 1.0, 0.5, 2.0], "g": list("aabb")})
    for args in ((a, frame, "g"), ("y ~ x", a, "g"), ("y ~ x", frame, a)):
        assert attempt(reml.fit_mixed, *args) is None
    if b is not None:
        assert attempt(reml.fit_mixed, "y ~ x", frame, "g", re_formula=b) is None
    for fn in (reml.fixed_effects_cov, covariates.conditional_icc):
        assert attempt(fn, c) is None
    assert attempt(covariates.fitted_lines, c, "x") is None
    assert attempt(covariates.variance_explained, a, b) is None
    assert attempt(covariates.lr_test_random_effect, b, c) is None


@FAST
@given(datasets(), st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=60), st.integers(1, 3))
def test_slope_heterogeneity_is_finite_or_refused(data, xs, copies):
    """The predictive check's slope statistic (notebook 12): one finite, non-negative value
    per data set, the same for y shifted, or a named refusal (a group too small or flat in x,
    no residual spread)."""
    from hierlib import predictive

    y, groups = data
    x = np.resize(np.asarray(xs), y.size)
    labels, idx = np.unique(np.asarray(groups).astype(str), return_inverse=True)
    stat = attempt(predictive.slope_heterogeneity, x)
    if stat is None:
        return
    rows = np.stack([y] * copies)
    t = attempt(stat, rows, idx, labels.size)
    if t is not None:
        assert t.shape == (copies,) and finite(t) and (t >= 0).all()
        np.testing.assert_allclose(t, t[0])


@FAST
@given(st.lists(st.floats(-1e150, 1e150), min_size=4, max_size=4), st.floats(0.001, 0.999))
def test_covariance_ellipse_is_finite_or_refused(entries, level):
    """Axes of the 2-D shrinkage figure's ellipse: finite, width >= height >= 0 and an angle
    in (-90, 90], or a named refusal (not symmetric, not positive definite)."""
    a = np.array(entries).reshape(2, 2)
    for cov in (a, a @ a.T, (a + a.T) / 2):
        out = attempt(covariates.covariance_ellipse, cov, level)
        if out is not None:
            width, height, angle = out
            assert finite(out) and width >= height >= 0 and -90 < angle <= 90
