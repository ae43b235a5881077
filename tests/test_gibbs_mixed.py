"""gibbs.mixed_model: the same posterior as model 1's sampler where the models coincide, the
R&B model's fixed effects where nlme puts them, chains on threads bit-identical to sequential,
the memory guard, and clear errors."""

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_light_imports import heavy_after_each
from test_mixed_stats import random_frame

from hierlib import data, gibbs, priors
from hierlib.samplers import _chains
from hierlib.samplers import mixed_model as mm

REFERENCE = json.loads(
    (Path(__file__).parent / "reference" / "nlme_covariates.json").read_text(encoding="utf-8")
)
RB = ("mathach ~ mses * cses + sector * cses", "~cses")


@pytest.fixture(scope="module")
def hsb_cov():
    return data.load_hsb_covariates()


@pytest.fixture(scope="module")
def rb_post(hsb_cov):
    return gibbs.mixed_model(RB[0], hsb_cov, "school", RB[1], n_draws=2000, n_warmup=500,
                             n_chains=4, seed=0)  # fmt: skip


def ess(x):
    """Bulk ESS of (chains, draws) draws (ArviZ)."""
    import arviz as az

    return float(az.ess(np.asarray(x)))


def mc_se(x):
    x = np.asarray(x)
    return float(x.std()) / np.sqrt(ess(x))


@pytest.mark.parametrize("parameterization", ["blocked", "interweaved", "collapsed"])
def test_random_intercept_model_is_model_1(hsb_cov, parameterization):
    """With formula 'mathach ~ 1', re '~1' and the default prior, the model and prior are model
    1's (flat mu and tau2, 1/sigma2): the posteriors of mu, sigma2, tau2 must agree.

    Means: |difference| < 4 Monte Carlo standard errors of the difference (each from its
    bulk ESS, about 2000-8000 here): a false alarm has probability 6e-5 per comparison (2e-4
    for the three). Sds: the sd of an sd estimate is about sd/sqrt(2 ESS) (near-normal
    margins), and the same 4-se band applies. Power: the degrees-of-freedom slip IW(m, S)
    for IW(m - q - 1, S) lowers E[tau2] by 1.3% (0.11, against a standard error of the
    difference near 0.015: about 7 se).
    """
    post = gibbs.mixed_model("mathach ~ 1", hsb_cov, "school", "~1", n_draws=3000,
                             n_warmup=500, seed=1, parameterization=parameterization)  # fmt: skip
    y, groups = data.hsb_arrays()
    ref = gibbs.hierarchical_normal(y, groups, parameterization="interweaved", n_draws=3000,
                                    n_warmup=500, seed=2, keep_theta=[])  # fmt: skip
    pairs = {
        "mu": (post.draws["fe"][..., 0], ref.draws["mu"]),
        "sigma2": (post.draws["sigma2"], ref.draws["sigma2"]),
        "tau2": (post.draws["cov_re"][..., 0, 0], ref.draws["tau2"]),
    }
    for name, (a, b) in pairs.items():
        se = np.hypot(mc_se(a), mc_se(b))
        assert abs(a.mean() - b.mean()) < 4 * se, name
        se_sd = np.hypot(a.std() / np.sqrt(2 * ess(a)), b.std() / np.sqrt(2 * ess(b)))
        assert abs(a.std() - b.std()) < 4 * se_sd, name
    # and the school effects: b_j = theta_j - mu (posterior means, to 0.05 points; their
    # Monte Carlo error is about 0.02)
    np.testing.assert_allclose(post.b_mean[:, 0] + post.draws["fe"][..., 0].mean(),
                               ref.theta_mean, atol=0.08)  # fmt: skip


def test_rb_fixed_effects_are_within_half_a_posterior_sd_of_nlme(rb_post):
    """The issue's independent check: each fixed effect's posterior mean within 0.5 posterior
    sd of nlme's REML estimate. (Under the flat prior on beta the posterior mean given Sigma
    and sigma2 is the GLS estimate, REML's at its maximum; they differ only by the spread of
    Sigma and sigma2. Monte Carlo error of the means: about 0.02 sd.)"""
    fixed = REFERENCE["models"]["slopes_as_outcomes"]["REML"]["fixed"]
    frame = rb_post.fe_frame()
    assert set(frame.index) == set(fixed) and list(frame.index) == list(rb_post.fe_names)
    for name, value in fixed.items():
        z = abs(frame.loc[name, "mean"] - value) / frame.loc[name, "sd"]
        assert z < 0.5, (name, z)
    # the posterior sds are near nlme's standard errors (within 15%: sd of Sigma adds a bit)
    se = REFERENCE["models"]["slopes_as_outcomes"]["REML"]["se_fixed"]
    np.testing.assert_allclose(frame["sd"], [se[k] for k in frame.index], rtol=0.15)


def test_rb_variance_components_sit_where_they_should(rb_post):
    """sigma2 as REML's (6.06^2, within 2%); the intercept variance near REML's 2.38 and the
    slope variance above REML's 0.10 (a small variance component under a flat prior: the
    issue's point for notebook 12)."""
    ref = REFERENCE["models"]["slopes_as_outcomes"]["REML"]
    assert rb_post.draws["sigma2"].mean() == pytest.approx(ref["residual_sd"] ** 2, rel=0.02)
    cov = rb_post.draws["cov_re"].mean(axis=(0, 1))
    assert cov[0, 0] == pytest.approx(ref["re_cov"]["Intercept:Intercept"], rel=0.25)
    assert cov[1, 1] > ref["re_cov"]["cses:cses"]
    assert rb_post.re_names == ("Intercept", "cses")
    assert rb_post.draws["b"].shape == (4, 2000, 160, 2)
    assert np.all(np.linalg.eigvalsh(rb_post.draws["cov_re"]) > 0)


def test_to_arviz_posterior_group(rb_post):
    idata = rb_post.to_arviz(draws=100)
    post = idata.posterior
    assert post["fe"].dims == ("chain", "draw", "fixed_effect")
    assert list(post["fe"].coords["fixed_effect"].values) == list(rb_post.fe_names)
    assert post["cov_re"].dims == ("chain", "draw", "re", "re_")
    assert list(post["sd_re"].coords["re"].values) == ["Intercept", "cses"]
    assert post["b"].dims == ("chain", "draw", "group", "re")
    np.testing.assert_allclose(post["sigma"] ** 2, post["sigma2"])


# --------------------------------------------------------------------- the machinery
@pytest.fixture(scope="module")
def small_frame():
    return random_frame(12, m=9)


@pytest.mark.parametrize("parameterization", ["blocked", "interweaved", "collapsed"])
def test_parallel_chains_are_bit_identical_to_sequential(small_frame, parameterization):
    run = dict(n_chains=3, n_draws=1200, n_warmup=100, seed=5, parameterization=parameterization)
    a = gibbs.mixed_model("y ~ x + w", small_frame, "g", "~x", cores=1, **run)
    for cores in (2, None):
        b = gibbs.mixed_model("y ~ x + w", small_frame, "g", "~x", cores=cores, **run)
        for k in a.draws:
            assert np.array_equal(a.draws[k], b.draws[k]), k
        assert np.array_equal(a.b_mean, b.b_mean)
    # reruns are identical, chains differ from one another
    assert len({float(v) for v in a.draws["sigma2"][:, -1]}) == 3


def test_keep_b_keeps_the_named_groups_and_summarises_all(small_frame):
    full = gibbs.mixed_model("y ~ x", small_frame, "g", "~x", n_draws=300, seed=3, cores=1)
    part = gibbs.mixed_model("y ~ x", small_frame, "g", "~x", n_draws=300, seed=3, cores=1,
                             keep_b=["g2", "g0"])  # fmt: skip
    assert list(part.b_groups) == ["g0", "g2"]
    np.testing.assert_array_equal(part.draws["b"], full.draws["b"][:, :, [0, 2]])
    np.testing.assert_array_equal(part.b_mean, full.b_mean)
    np.testing.assert_allclose(full.b_mean, full.draws["b"].mean(axis=(0, 1)), rtol=1e-9)
    none = gibbs.mixed_model("y ~ x", small_frame, "g", "~x", n_draws=10, keep_b=[])
    assert none.draws["b"].shape == (4, 10, 0, 2)


def test_memory_guard_counts_draws_and_each_chains_work_arrays(small_frame, monkeypatch):
    """The limit falls exactly where the draws (p + q^2 + 1 values per draw and q per kept
    group) and each chain's work arrays (q^2 + qp + 6q per group, plus its share of the
    statistics) need it, and a refused run allocates nothing (a run of 10^10 draws is refused
    at once)."""
    s = data.mixed_stats("y ~ x + w", small_frame, "g", "~x")
    p, q, m = s.p, s.q, s.m
    work = q * q + q * p + 6 * q + -(-(p * p + p * q + q * q + p + q + 1) // 2)
    need = _chains.memory_need(2, 50, p + q * q + 1 + m * q, m, work)[1]
    run = dict(n_chains=2, n_draws=50, n_warmup=0)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", need)
    gibbs.mixed_model("y ~ x + w", small_frame, "g", "~x", **run)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", need - 1)
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES") as refused:
        gibbs.mixed_model("y ~ x + w", small_frame, "g", "~x", **run)
    assert "keep_b= a few group labels" in str(refused.value)  # this sampler's argument
    assert "keep_theta" not in str(refused.value)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="of kept draws.*MAX_DRAWS_BYTES"):
        gibbs.mixed_model("y ~ x", small_frame, "g", "~x", n_draws=10**10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"parameterization": "centered"}, "parameterization must be"),
        ({"prior": priors.Default()}, "prior must be None or priors.MixedDefault"),
        ({"n_draws": 0}, "n_draws must be at least 1"),
        ({"seed": -1}, "seed must be at least 0"),
        ({"keep_b": ["nope"]}, "keep_b names groups that are not in the data"),
        ({"keep_b": [True, False]}, "keep_b is a boolean mask of length 2"),
        ({"cores": 0}, "cores must be at least 1"),
        ({"prior": priors.MixedProper([0.0], np.eye(1), 1.0, 1.0,
                                      priors.InverseWishart(3.0, np.eye(2)))},
         "the prior is for 1 fixed and 2 random effects"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused(small_frame, kwargs, message):
    with pytest.raises(ValueError, match=message):
        gibbs.mixed_model("y ~ x", small_frame, "g", "~x", **{"n_draws": 5, **kwargs})


def test_too_few_groups_for_the_default_prior(hsb_cov):
    # R&B: q = 2 and k = 6 fixed effects the random effects absorb: 11 schools needed
    schools = np.unique(hsb_cov["school"])
    ten = hsb_cov[hsb_cov["school"].isin(schools[:10])]
    with pytest.raises(ValueError, match="2q \\+ k \\+ 1 = 11 groups"):
        gibbs.mixed_model(RB[0], ten, "school", RB[1], n_draws=5)
    eleven = hsb_cov[hsb_cov["school"].isin(schools[:11])]
    assert gibbs.mixed_model(RB[0], eleven, "school", RB[1], n_draws=5).n_draws == 5
    proper = priors.MixedProper(np.zeros(6), 100 * np.eye(6), 1.0, 36.0,
                                priors.InverseWishart(3.0, np.eye(2)))  # fmt: skip
    assert gibbs.mixed_model(RB[0], ten, "school", RB[1], prior=proper, n_draws=5).n_draws == 5
    # model 1's condition: 4 schools for 'mathach ~ 1'
    three = hsb_cov[hsb_cov["school"].isin(schools[:3])]
    with pytest.raises(ValueError, match="= 4 groups"):
        gibbs.mixed_model("mathach ~ 1", three, "school", n_draws=5)


def test_data_errors_are_refused(small_frame):
    with pytest.raises(ValueError, match="missing or infinite"):
        gibbs.mixed_model("y ~ x", small_frame.assign(y=np.nan), "g", "~x")
    with pytest.raises(ValueError, match="fitted exactly"):
        gibbs.mixed_model("y ~ x", small_frame.assign(y=2 * small_frame.x), "g", "~x")
    with pytest.raises(ValueError, match="residual spread"):  # each group on its own line
        exact = small_frame.assign(y=small_frame.x * small_frame.g.str[1:].astype(float))
        gibbs.mixed_model("y ~ x", exact, "g", "~x")
    with pytest.raises(ValueError, match="out of the range"):
        gibbs.mixed_model("y ~ x", small_frame.assign(y=small_frame.y * 1e150), "g", "~x")
    with pytest.raises(TypeError, match="data must be a pandas DataFrame"):
        gibbs.mixed_model("y ~ x", small_frame.to_dict(), "g", "~x")


def test_a_sweep_that_stops_raises_a_named_error(small_frame):
    """The kernel's bounded checks: a covariance that is not positive definite (a NaN state)
    stops the sweep with a ValueError that names the sampler, not a NaN or a hang."""
    s = data.mixed_stats("y ~ x", small_frame, "g", "~x")
    p, q, m = s.p, s.q, s.m
    run = _chains.guarded(mm.sweeps, "mixed_model")
    args = (
        np.random.default_rng(0),
        0,
        s.xtx,
        s.xtz,
        s.ztz,
        s.xty,
        s.zty,
        np.array([s.n_total, s.yty.sum()]),
        np.array([0.0, 0.0, -3.0]),
        np.zeros(p),
        np.zeros((p, p)),
        np.zeros((q, q)),
        np.array([1.0]),
        np.zeros(p),
        np.zeros((m, q)),
    )
    tail = (3, 0, np.arange(m), np.empty((3, p)), np.empty((3, q, q)), np.empty(3),
            np.empty((3, m, q)), np.zeros((2, m * q)), np.zeros(3),
            mm.mh_state(np.eye(q), 0))  # fmt: skip
    with pytest.raises(ValueError, match="mixed_model: the sampler stopped.*Sigma"):
        run(*args, np.full((q, q), np.nan), *tail)
    run(*args, np.eye(q), *tail)  # the same call with a valid Sigma runs


def test_progress_bar_and_threads(small_frame, capfd):
    gibbs.mixed_model("y ~ x", small_frame, "g", "~x", n_draws=50, progress=True, cores=2)
    assert "Gibbs" in capfd.readouterr().err
    assert not [t for t in threading.enumerate() if t.name.startswith("hierlib-chain")]


def test_the_sampler_modules_import_no_heavy_library():
    found = heavy_after_each("hierlib.samplers.mixed_model", "hierlib.conditionals")
    assert found == {"hierlib.samplers.mixed_model": [], "hierlib.conditionals": []}


def test_warm_up_compiles_the_mixed_model():
    assert mm in gibbs.MODELS
    mm.warm_up()
    assert isinstance(gibbs.mixed_model, type(mm.mixed_model))
    assert pd.api.types.is_list_like(gibbs.__all__) and "mixed_model" in gibbs.__all__
