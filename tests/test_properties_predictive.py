"""The workflow helpers check what they are given: regression tests for each refusal (the
message names the argument, never numpy's internals) and Hypothesis properties of the
checked doors (``predictive.normal_logpdf`` against scipy, the priors' one rule for
impossible arguments, intervals that widen with ``prob``).
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from hierlib import exact, gibbs, predictive, priors
from hierlib._pointwise import normal_logpdf as fast_normal_logpdf
from hierlib._pointwise import observation_moments

SETTINGS = settings(max_examples=40, deadline=None)
FINITE = st.floats(-1e6, 1e6, allow_nan=False)
POSITIVE = st.floats(1e-6, 1e6)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    g = np.repeat(np.arange(8), 6)
    y = rng.normal(0, 1, g.size) + rng.normal(0, 1, 8)[g]
    return y, g


@pytest.fixture(scope="module")
def fits(data):
    y, g = data
    run = {"n_draws": 200, "n_warmup": 50, "n_chains": 2, "progress": False}
    return {
        "hierarchical_normal": gibbs.hierarchical_normal(y, g, **run),
        "unequal_variances": gibbs.unequal_variances(y, g, **run),
        "complete_pooling": exact.complete_pooling(y, g, n_draws=200),
        "no_pooling": exact.no_pooling(y, g, n_draws=200),
    }


# ------------------------------------------------------------------- normal_logpdf
@SETTINGS
@given(y=FINITE, mean=FINITE, var=POSITIVE)
def test_normal_logpdf_is_scipys_and_the_fast_path(y, mean, var):
    got = predictive.normal_logpdf(y, mean, var)
    assert got == pytest.approx(sps.norm.logpdf(y, mean, np.sqrt(var)), rel=1e-9, abs=1e-9)
    assert got == fast_normal_logpdf(y, mean, var)


@pytest.mark.parametrize(
    "args, error, match",
    [
        ((1.0, 0.0, 0.0), ValueError, r"var must be > 0"),
        ((1.0, 0.0, -2.0), ValueError, r"var must be > 0"),
        ((np.nan, 0.0, 1.0), ValueError, r"y must be finite"),
        ((1.0, np.inf, 1.0), ValueError, r"mean must be finite"),
        ((1.0, 0.0, np.nan), ValueError, r"var must be finite"),
        ((1j, 0.0, 1.0), TypeError, r"y must hold real numbers"),
        (([1.0, 2.0], [0.0, 0.0, 0.0], 1.0), ValueError, r"must broadcast together"),
        (("a", 0.0, 1.0), TypeError, r"y must be an array of numbers"),
    ],
)
def test_normal_logpdf_refuses_what_has_no_density(args, error, match):
    with pytest.raises(error, match=match):
        predictive.normal_logpdf(*args)


# ----------------------------------------------------------- group index, statistics
def test_a_float_group_index_is_refused_not_truncated(data):
    y, g = data
    with pytest.raises(ValueError, match="obs_group must hold integer group indices"):
        predictive.group_variances(y, g + 0.5, 8)
    with pytest.raises(ValueError, match="obs_group must hold integer group indices"):
        predictive.group_means(y, g.astype(float), 8)
    with pytest.raises(ValueError, match=r"obs_group must lie in 0\.\.6"):
        predictive.group_means(y, g, 7)
    with pytest.raises(ValueError, match="one entry per observation"):
        predictive.group_means(y, g[:-1], 8)
    with pytest.raises(ValueError, match="y_rep must be an array of finite numbers"):
        predictive.group_variances(np.r_[np.nan, y[1:]], g, 8)


def test_ppc_names_an_unknown_statistic_and_lists_the_known_ones(fits):
    idata = fits["hierarchical_normal"].to_arviz(posterior_predictive=True, draws=50)
    with pytest.raises(ValueError, match=r"'sd of y' is not one of .*'sd of s_j\^2'"):
        predictive.ppc(idata, "sd of y")
    with pytest.raises(TypeError, match="statistic must be a name"):
        predictive.ppc(idata, 3)


def test_ppc_refuses_a_statistic_that_is_nan(fits):
    idata = fits["hierarchical_normal"].to_arviz(posterior_predictive=True, draws=50)

    def always_nan(y, obs_group, m):
        return np.full(np.shape(y)[:-1], np.nan)

    with pytest.raises(ValueError, match="statistic always_nan is NaN or infinite"):
        predictive.ppc(idata, always_nan)

    def nan_on_replicates(y, obs_group, m):
        return np.where(np.ndim(y) > 1, np.nan, 1.0) * np.ones(np.shape(y)[:-1])

    with pytest.raises(ValueError, match=r"on 100 of the 100 replicates"):
        predictive.ppc(idata, nan_on_replicates)


# ---------------------------------------------------------------- which models
CALLS = {
    "predict_new_school_mean": lambda p: predictive.predict_new_school_mean(
        p, np.random.default_rng(0)
    ),
    "predict_new_student": lambda p: predictive.predict_new_student(p, 0, np.random.default_rng(0)),
    "prediction_table": lambda p: predictive.prediction_table(
        p, {"first": 0}, np.random.default_rng(0)
    ),
    "variance_removed_by_school": lambda p: predictive.variance_removed_by_school(p, {"first": 0}),
}


@pytest.mark.parametrize("use", CALLS)
@pytest.mark.parametrize(
    "model", ["hierarchical_normal", "unequal_variances", "complete_pooling", "no_pooling"]
)
def test_prediction_helpers_say_which_models_they_take(fits, use, model):
    call = CALLS[use]
    if model in predictive.MODELS[use]:
        out = call(fits[model])
        values = np.asarray(out.to_numpy() if hasattr(out, "to_numpy") else out, float)
        assert np.isfinite(values).all()
    else:
        with pytest.raises(ValueError, match=rf"{use} takes a fit of .*{model}"):
            call(fits[model])


@pytest.mark.parametrize(
    "model", ["hierarchical_normal", "unequal_variances", "complete_pooling", "no_pooling"]
)
def test_refits_say_which_models_they_take(data, model):
    y, g = data
    run = {"n_draws": 100, "n_warmup": 20, "n_chains": 1, "progress": False}
    fit = {
        "hierarchical_normal": lambda a, b: gibbs.hierarchical_normal(a, b, **run),
        "unequal_variances": lambda a, b: gibbs.unequal_variances(a, b, **run),
        "complete_pooling": lambda a, b: exact.complete_pooling(a, b, n_draws=100),
        "no_pooling": lambda a, b: exact.no_pooling(a, b, n_draws=100),
    }[model]
    for use, call in (
        ("loso_refit", lambda: predictive.loso_refit(y, g, 0, fit)),
        ("loo_refit", lambda: predictive.loo_refit(y, g, 3, fit)),
    ):
        if model in predictive.MODELS[use]:
            assert np.isfinite(call())
        else:
            with pytest.raises(ValueError, match=rf"{use} takes a fit of .*{model}"):
                call()


@pytest.mark.parametrize("i, match", [(1.5, "i must be an integer"), (-1, "i must be at least 0")])
def test_loo_refit_refuses_an_index_it_would_coerce(data, i, match):
    y, g = data
    with pytest.raises(ValueError, match=match):
        predictive.loo_refit(y, g, i, lambda a, b: exact.no_pooling(a, b))


@pytest.mark.parametrize(
    "keep, match",
    [([-1], r"positions 0\.\.199; got -1"), ([1.5], "integer draw positions"), ([200], "199")],
)
def test_observation_moments_refuses_draw_positions_it_would_coerce(fits, keep, match):
    with pytest.raises(ValueError, match=match):
        observation_moments(fits["no_pooling"], keep)


# -------------------------------------------------------- arguments, not numpy's words
@pytest.mark.parametrize("prob", [-0.1, 0.0, 1.0, 1.5, np.nan, True, "95%"])
def test_prediction_table_and_describe_ppc_check_prob(fits, prob):
    post = fits["hierarchical_normal"]
    with pytest.raises(ValueError, match="prob must be a"):
        predictive.prediction_table(post, {"a": 0}, np.random.default_rng(0), prob=prob)
    check = predictive.ppc(post.to_arviz(posterior_predictive=True, draws=20))
    with pytest.raises(ValueError, match="prob must be a"):
        predictive.describe_ppc(check, prob=prob)


@pytest.mark.parametrize("seed", [1.5, -1, "a", [1, 2]])
def test_seeds_are_checked_by_name(fits, seed):
    with pytest.raises(ValueError, match="seed must be"):
        fits["hierarchical_normal"].to_arviz(posterior_predictive=True, draws=5, seed=seed)
    with pytest.raises(ValueError, match="seed must be"):
        predictive.ppc_new_means(fits["hierarchical_normal"], draws=5, seed=seed)
    with pytest.raises(ValueError, match="seed must be"):
        predictive.variance_spread_checks(fits["unequal_variances"], draws=5, seed=seed)


def test_an_rng_that_is_not_a_generator_is_a_type_error(fits):
    with pytest.raises(TypeError, match=r"rng must be a numpy\.random\.Generator"):
        predictive.predict_new_school_mean(fits["hierarchical_normal"], 0)


@SETTINGS
@given(p=st.floats(0.05, 0.9), q=st.floats(0.01, 0.09))
def test_prediction_intervals_widen_with_prob(fits, p, q):
    post = fits["hierarchical_normal"]
    narrow = predictive.prediction_table(post, {"a": 0}, np.random.default_rng(1), prob=p)
    wide = predictive.prediction_table(post, {"a": 0}, np.random.default_rng(1), prob=p + q)
    assert (wide["width"] >= narrow["width"]).all()
    assert (narrow["width"] > 0).all()


# ------------------------------------------------------------------ the priors' rule
PRIORS = {
    "Default": (priors.Default(), ("mu", "sigma2", "tau2")),
    "uniform-tau": (priors.Default(tau2="uniform-tau"), ("mu", "sigma2", "tau2")),
    "SemiConjugate": (
        priors.SemiConjugate(mu0=0, g20=1, eta0=1, t20=1, nu0=1, s20=1),
        ("mu", "sigma2", "tau2"),
    ),
    "HalfCauchy": (priors.HalfCauchy(scale=2.0), ("mu", "sigma2", "tau2")),
    "HalfCauchy proper": (
        priors.HalfCauchy(scale=2.0, mu0=0, g20=1, nu0=1, s20=1),
        ("mu", "sigma2", "tau2"),
    ),
    "UnequalVariances": (priors.UnequalVariances(), ("mu", "tau2", "sigma02", "nu0")),
    "UnequalVariances proper": (
        priors.UnequalVariances(mu0=0, g20=1, eta0=2, t20=1, a=4, b=4),
        ("mu", "tau2", "sigma02", "nu0"),
    ),
}


@pytest.mark.parametrize("name", PRIORS)
@SETTINGS
@given(values=st.lists(st.floats(0.01, 100.0), min_size=4, max_size=4), neg=st.floats(-1e6, -1e-9))
def test_every_prior_logpdf_is_minus_inf_outside_its_support(name, values, neg):
    prior, args = PRIORS[name]
    point = dict(zip(args, values, strict=False))
    assert np.isfinite(prior.logpdf(**point))
    for arg in args[1:]:  # every variance (and nu0) must be > 0, tau2 >= 0
        assert prior.logpdf(**(point | {arg: neg})) == -np.inf


@pytest.mark.parametrize("name", PRIORS)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_every_prior_logpdf_refuses_nan_naming_the_argument(name, bad):
    prior, args = PRIORS[name]
    point = dict.fromkeys(args, 1.0)
    for arg in args:
        with pytest.raises(ValueError, match=rf"{arg} must be finite"):
            prior.logpdf(**(point | {arg: bad}))


def test_the_half_cauchy_augmented_density_follows_the_rule():
    hc = priors.HalfCauchy(scale=1.0)
    assert hc.logpdf_augmented(0.0, 1.0, -1.0, 1.0) == -np.inf
    assert hc.logpdf_augmented(0.0, 1.0, 1.0, 0.0) == -np.inf
    with pytest.raises(ValueError, match="a must be finite"):
        hc.logpdf_augmented(0.0, 1.0, 1.0, np.nan)
