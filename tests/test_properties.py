"""Property-based tests (Hypothesis) over hierlib's public API.

The property: on any data set -- random shapes, labels (ints, strings, floats, categoricals with
unused categories), groups of one member, constant groups, scales from 1e-150 to 1e150 and
offsets up to 1e12 -- every call returns finite results of the right shape, or raises
``ValueError``/``TypeError`` whose message names an argument or quantity. Never another
exception, never a NaN, never a hang.

The samplers run in a subprocess with a timeout (compiled loops cannot be interrupted from
Python), so a regression that hangs fails the test instead of hanging CI. Example counts are
modest (the whole file takes well under a minute on two cores); ``pytest -m slow_property``
runs the larger versions.
"""

import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hierlib import anova, comparisons, explore, marginal, priors, reml, shrinkage
from hierlib.data import GroupStats, group_stats

FAST = settings(
    max_examples=40,
    deadline=None,
    database=None,  # nothing written to the repository (.hypothesis/)
    derandomize=True,  # the same examples on every run: CI failures reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LARGE = settings(FAST, max_examples=400)
SAMPLER_EXAMPLES, SAMPLER_EXAMPLES_LARGE = 12, 120
SAMPLER_TIMEOUT = 240.0  # seconds for the whole sampler run (about 20 s when healthy)

NAMES = re.compile(
    r"\b(y|groups?|labels|stats_?|n|ybar|ss|sigma2|tau2|mu|sigma02|nu0|theta|keep_theta|"
    r"theta_draws|draws|k|prob|level|mu0|g20|eta0|t20|nu0|s20|a|b|nu0_shape|nu0_rate|"
    r"group_sizes|rng|m|max_lag|n_posterior|n_bins|ranks|quantity|model|loo_a|loo_b|"
    r"prior|within|between|ANOVA|F|REML|likelihood|sums? of squares|variance|correlation)\b",
    re.IGNORECASE,
)


def assert_named_error(err: Exception) -> None:
    """A ValueError or TypeError whose message names what is wrong."""
    assert isinstance(err, ValueError | TypeError), f"{type(err).__name__}: {err}"
    assert NAMES.search(str(err)), f"message names no argument: {err}"


@st.composite
def datasets(draw, max_groups: int = 7, max_size: int = 6):
    """``(y, groups)``: m groups of 1..max_size members, some constant, at a random scale
    (1e-150..1e150) and offset (up to 1e12), labelled by ints, strings, floats or a
    categorical with an unused category, rows shuffled."""
    m = draw(st.integers(1, max_groups))
    sizes = draw(st.lists(st.integers(1, max_size), min_size=m, max_size=m))
    scale = 10.0 ** draw(st.sampled_from([-150, -40, -6, 0, 0, 0, 3, 40, 150]))
    offset = draw(st.sampled_from([0.0, 0.0, 12.5, -1e3, 1e6, 1e12, -1e12]))
    values = []
    for n in sizes:
        if draw(st.integers(0, 4)) == 0:  # a constant group
            values += [draw(st.floats(-3, 3))] * n
        else:
            values += draw(st.lists(st.floats(-3, 3), min_size=n, max_size=n))
    y = offset + scale * np.array(values)
    kind = draw(st.sampled_from(["int", "str", "float", "categorical"]))
    codes = np.repeat(np.arange(m), sizes)
    if kind == "int":
        ids = draw(st.lists(st.integers(-50, 10_000), min_size=m, max_size=m, unique=True))
        groups = np.array(ids)[codes]
    elif kind == "str":
        groups = np.array([f"school {c}" for c in codes])
    elif kind == "float":
        groups = codes * 0.5 - 1.0
    else:
        groups = pd.Categorical(
            [f"g{c}" for c in codes], categories=[f"g{c}" for c in range(m + 1)]
        )
    order = np.array(draw(st.permutations(range(codes.size))))
    return y[order], groups[order]


def call(fn, *args):
    """``fn(*args)``: the result, or ``None`` after checking the error is a named one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # MixedLM's convergence notes are not errors,
            # but a numpy overflow warning from hierlib's own code is a leak: make it fail
            warnings.filterwarnings("error", category=RuntimeWarning, module=r"hierlib\.")
            return fn(*args)
    except Exception as err:  # noqa: BLE001 -- the property is about which exceptions
        assert_named_error(err)
        return None


def finite(*values) -> bool:
    return all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in values)


def check_data_api(data) -> None:
    y, groups = data
    stats = call(group_stats, y, groups)
    if stats is None:
        return
    m = stats.m
    assert stats.n.shape == stats.ybar.shape == stats.ss.shape == (m,)
    assert finite(stats.ybar, stats.ss) and (stats.ss >= 0).all() and stats.n.sum() == y.size
    res = call(anova.anova_from_stats, stats)
    if res is not None:
        assert finite(res.f, res.p_value, res.ss_between, res.ss_within)
        assert 0 <= res.p_value <= 1
    r = call(marginal.within_group_correlation, y, groups)
    assert r is None or finite(r)
    est = call(shrinkage.moment_estimates, stats)
    if est is not None:
        assert finite(est.mu, est.tau2, est.sigma2) and est.tau2 >= 0
        means = call(shrinkage.empirical_bayes_means, stats)
        assert means is None or (means.shape == (m,) and finite(means))
        for tau2 in (0.0, est.tau2, 1e6 * (est.sigma2 + 1.0)):  # the explorer's path in tau
            path = call(shrinkage.means_given_tau, stats.ybar, stats.n, tau2, est.sigma2)
            assert path is None or (finite(path[0]) and path[1].shape == (m,) and finite(path[1]))
    claims = call(comparisons.raw_pairwise_claims, stats)
    assert claims is None or 0 <= claims <= m * (m - 1) // 2
    sd = call(explore.pooled_within_sd, stats)
    assert sd is None or (finite(sd) and sd >= 0)
    peak = call(reml.maximize_profile, stats)
    if peak is not None:
        assert finite(*peak) and peak[0] >= 0 and peak[1] > 0
        prof = call(reml.profile_loglik, stats, [0.0, peak[0]])
        assert prof is None or (prof.shape == (2,) and finite(prof))


def check_reml_fit(data) -> None:
    y, groups = data
    fit = call(reml.fit_random_intercept, y, groups)
    if fit is not None:
        assert finite(fit.mu_hat, fit.tau2, fit.sigma2, fit.loglik, fit.random_effects)
        assert fit.tau2 >= 0 and fit.sigma2 > 0


test_data_api = FAST(given(datasets())(check_data_api))
test_data_api_large = pytest.mark.slow_property(LARGE(given(datasets(12, 10))(check_data_api)))
test_reml_fit = settings(FAST, max_examples=6)(given(datasets(5, 5))(check_reml_fit))
test_reml_fit_large = pytest.mark.slow_property(LARGE(given(datasets(8, 8))(check_reml_fit)))

WRONG_KINDS = st.sampled_from(
    [None, {"y": [1.0]}, "scores", 3.0, pd.DataFrame({"a": [1.0, 2.0]}), [1 + 2j, 3.0],
     [[1.0, 2.0], [3.0, 4.0]], ["a", 1], [], [np.nan, 1.0]]
)  # fmt: skip


@FAST
@given(WRONG_KINDS, WRONG_KINDS)
def test_wrong_kinds_of_input_raise_named_errors(y, groups):
    for fn in (group_stats, anova.one_way_anova, marginal.within_group_correlation):
        for args in ((y, [0, 0]), ([1.0, 2.0], groups), (y, groups)):
            assert call(fn, *args) is None
    for fn in (anova.anova_from_stats, reml.maximize_profile, explore.standard_errors):
        assert call(fn, y) is None


@FAST
@given(
    st.lists(st.integers(-2, 8), min_size=1, max_size=4),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=4),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=4),
)
def test_hand_built_group_stats_are_valid_or_refused(n, ybar, ss):
    k = min(len(n), len(ybar), len(ss))
    stats = call(GroupStats, np.arange(k), n[:k], ybar[:k], ss[:k])
    if stats is not None:
        assert (stats.n >= 1).all() and finite(stats.ybar, stats.ss) and (stats.ss >= 0).all()
        res = call(anova.anova_from_stats, stats)
        assert res is None or finite(res.f, res.p_value)


@FAST
@given(
    st.floats(allow_nan=True, allow_infinity=True), st.floats(allow_nan=True, allow_infinity=True)
)
def test_icc_is_a_share_or_refused(tau2, sigma2):
    rho = call(marginal.icc, tau2, sigma2)
    assert rho is None or 0.0 <= rho <= 1.0


# ------------------------------------------------------------------------- the samplers
@st.composite
def sampler_cases(draw):
    """A data set, a sampler, its options and a prior (default, or proper with
    hyperparameters from 1e-8 to 1e8)."""
    y, groups = draw(datasets())
    model = draw(st.sampled_from(["hierarchical_normal", "unequal_variances"]))
    engine = draw(st.sampled_from(["numba", "numpy"]))
    wide = st.sampled_from([1e-8, 1e-3, 0.5, 1.0, 4.0, 1e3, 1e8])
    if model == "hierarchical_normal":
        prior = draw(
            st.one_of(
                st.none(),
                st.builds(priors.SemiConjugate, st.floats(-10, 10), wide, wide, wide, wide, wide),
            )
        )
        options = {"parameterization": draw(st.sampled_from(["centered", "offset", "interweaved"]))}
    else:
        proper = st.builds(priors.UnequalVariances, mu0=st.just(0.0), g20=wide, eta0=wide,
                           t20=wide, a=wide, b=wide, nu0_shape=wide, nu0_rate=wide)  # fmt: skip
        flat = st.builds(priors.UnequalVariances, nu0_shape=wide, nu0_rate=wide)
        prior = draw(st.one_of(st.none(), flat, proper))
        options = {}
    return y, groups, model, engine, prior, options


def check_sampler(case) -> None:
    from hierlib import gibbs

    y, groups, model, engine, prior, options = case
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", gibbs.InfiniteMeanWarning)
            warnings.filterwarnings("error", category=RuntimeWarning, module=r"hierlib\.")
            post = getattr(gibbs, model)(
                y, groups, prior=prior, n_draws=30, n_warmup=10, n_chains=2, engine=engine,
                progress=False, seed=3, **options,
            )  # fmt: skip
    except Exception as err:  # noqa: BLE001
        assert_named_error(err)
        return
    m = post.stats.m
    for name, arr in post.draws.items():
        assert arr.shape[:2] == (2, 30), name
        assert finite(arr), f"{name} has non-finite draws"
    assert post.draws["theta"].shape == (2, 30, m)
    assert finite(post.theta_mean, post.theta_sd) and post.theta_mean.shape == (m,)
    assert (post.draws["tau2"] > 0).all()
    check_functions_of_a_fit(post, model)


def check_check(check, replicates: int) -> None:
    """A predictive check's dict: finite statistics, one per replicate, a p-value in [0, 1]."""
    assert check["replicated"].shape == (replicates,) and finite(check["replicated"])
    assert finite(check["observed"]) and 0.0 <= check["p_value"] <= 1.0


def check_loo(res, n_obs: int) -> None:
    """A PSIS-LOO result: finite elpd_i, se, p_loo, one k-hat per observation (inf allowed:
    ArviZ's mark of a tail too short to fit)."""
    if res is None:
        return
    assert res["loo_i"].shape == res["pareto_k"].shape == (n_obs,)
    assert finite(res["loo_i"], res["elpd_loo"], res["se"], res["p_loo"])
    assert not np.isnan(res["pareto_k"]).any()


def check_functions_of_a_fit(post, model: str) -> None:
    """The predictive functions of a sampler's posterior (mixed checks, one student's Pareto
    k, the variance a known school removes) and, for model 2, the nu0 sweep refitting it."""
    from hierlib import predictive, unequal

    check = call(predictive.ppc_new_means, post, "largest school mean", 10, 1)
    if check is not None:
        check_check(check, 20)
    k = call(predictive.observation_pareto_k, post, 0)
    assert k is None or finite(k)
    check_loo(call(lambda: predictive.loo(post)), post._rows()[0].size)
    share = call(predictive.variance_removed_by_school, post, {"first": post.groups[0]})
    if share is not None:
        assert share.shape == (2,) and finite(share) and (share <= 1).all()
    if model != "unequal_variances":
        return
    check = call(predictive.ppc_new_variances, post, "sd of s_j^2", 10, 1)
    if check is not None:
        check_check(check, 20)
    both = call(predictive.variance_spread_checks, post, 10, 1)
    if both is not None:
        assert set(both) == {"standard", "mixed"}
        for check in both.values():
            check_check(check, 20)
    sweep_options = {"draws": 5, "n_draws": 10, "n_warmup": 5, "seed": 2}
    sweep = call(lambda: unequal.variance_spread_by_nu0([3.0, 30.0], post.stats, **sweep_options))
    if sweep is not None:
        assert list(sweep.index) == [3.0, 30.0] and finite(sweep.to_numpy())
        assert ((sweep.filter(like="p_") >= 0) & (sweep.filter(like="p_") <= 1)).all(axis=None)


def _run_sampler_property(examples: int) -> None:
    prop = settings(FAST, max_examples=examples)(given(sampler_cases())(check_sampler))
    prop()


@pytest.mark.parametrize(
    "examples",
    [SAMPLER_EXAMPLES, pytest.param(SAMPLER_EXAMPLES_LARGE, marks=pytest.mark.slow_property)],
)
def test_samplers_return_or_raise_in_time(examples):
    """Run the sampler property in a subprocess: a hang fails after SAMPLER_TIMEOUT."""
    code = (
        f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
        f"import test_properties as t; t._run_sampler_property({examples}); "
        "print('property held')"
    )
    timeout = SAMPLER_TIMEOUT * (1 if examples == SAMPLER_EXAMPLES else 10)
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=timeout)  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"the sampler property did not finish in {timeout} s: a loop that never ends?")
    assert "property held" in proc.stdout, proc.stderr[-4000:]


# ------------------------------------------------------------- functions of posterior draws
DRAW_VALUES = st.sampled_from([0.0, 1.0, -2.5, 1e-300, 1e300, -1e300, np.nan, np.inf])


@st.composite
def draw_arrays(draw):
    """Draw arrays of shape (chains, draws, m) or (draws, m), sometimes with NaN/inf or of
    a wrong kind (text, complex, ragged, one-dimensional)."""
    kind = draw(st.sampled_from(["ok", "ok", "ok", "special", "text", "complex", "1-d"]))
    shape = draw(st.sampled_from([(2, 5, 3), (4, 2), (1, 3, 1), (0, 3), (3, 0)]))
    arr = np.array(draw(st.lists(st.floats(-5, 5), min_size=int(np.prod(shape)),
                                 max_size=int(np.prod(shape))))).reshape(shape)  # fmt: skip
    if kind == "special" and arr.size:
        arr.flat[0] = draw(DRAW_VALUES)
    if kind == "text":
        return arr.astype(str)
    if kind == "complex":
        return arr + 1j
    return arr.ravel() if kind == "1-d" else arr


@FAST
@given(draw_arrays(), st.integers(-1, 4))
def test_functions_of_draws_return_or_raise_named_errors(theta, k):
    from hierlib import posterior, ranking

    ranks = call(ranking.rank_draws, theta)
    if ranks is not None:
        m = ranks.shape[1]
        assert (np.sort(ranks, axis=1) == np.arange(1, m + 1)).all()
    top = call(ranking.prob_top_k, theta, k)
    assert top is None or (finite(top) and np.isclose(top.sum(), k))
    labels = np.arange(np.shape(theta)[-1]) if np.ndim(theta) else []
    table = call(ranking.rank_summary, theta, labels, None, max(k, 1))
    assert table is None or finite(table["mean_rank"])
    rows = call(posterior.interval_table, {"theta": theta})
    assert rows is None or finite(rows.to_numpy())
    claims = call(comparisons.posterior_pairwise_claims, theta)
    assert claims is None or claims >= 0


# ----------------------------------------------------------- functions of a few numbers
ANY_NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0, 1, 3, -1, 1e-300, 1e300, True, None, "2", [1.0, 2.0], 1 + 1j]),
)


@FAST
@given(ANY_NUMBER, ANY_NUMBER, ANY_NUMBER)
def test_functions_of_numbers_return_or_raise_named_errors(a, b, c):
    from hierlib import unequal

    rng = np.random.default_rng(0)
    cov = call(marginal.marginal_cov, [2, 3], a, b)
    if cov is not None:
        assert finite(cov.diagonal())
    sim = call(marginal.simulate_two_level, rng, [2, 3], a, b, c)
    assert sim is None or (finite(sim[0]) and sim[0].shape == (5,))
    factor = call(shrinkage.shrinkage_factor, [1, 5], a, b)
    assert factor is None or (finite(factor) and ((factor >= 0) & (factor <= 1)).all())
    cm = call(shrinkage.conditional_mean, [1.0, 2.0], [1, 5], a, b, c)
    assert cm is None or finite(cm)
    path = call(shrinkage.means_given_tau, [1.0, 2.0], [1, 5], a, b)
    assert path is None or (finite(path[0]) and finite(path[1]) and path[1].shape == (2,))
    var = call(unequal.draw_group_variances, rng, a, b, 3)
    assert var is None or (finite(var) and (var >= 0).all())
    for build in (
        lambda: priors.SemiConjugate(a, b, c, 1.0, 1.0, 1.0),
        lambda: priors.UnequalVariances(nu0_shape=a, nu0_rate=b),
        lambda: priors.Default().logpdf(a, b, c),
    ):
        out = call(build)
        assert out is None or not isinstance(out, float) or not np.isnan(out)
