"""Bad input and edge cases: every public function returns a finite answer or raises a clear
ValueError/TypeError naming the problem; no sampler hangs. One test (or more) per finding.

Sampler calls that used to hang run in a subprocess with a timeout (:func:`run_isolated`), so a
regression fails the test instead of hanging CI.
"""

import os
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hierlib import (
    anova,
    comparisons,
    diagnostics,
    explore,
    gibbs,
    marginal,
    posterior,
    priors,
    propriety,
    ranking,
    reml,
    sbc,
    shrinkage,
    unequal,
)
from hierlib.data import GroupStats, group_stats
from hierlib.samplers import _chains, _posterior

REPO = Path(__file__).resolve().parents[1]
CONSTANT_GROUP_Y = np.r_[np.full(5, 7.0), np.random.default_rng(0).normal(10, 2, 15)]
FOUR_GROUPS = np.repeat(np.arange(4), 5)
TWO_GROUPS = group_stats([1.0, 2.0, 4.0, 5.0], [0, 0, 1, 1])
SMALL = {"n_draws": 50, "n_warmup": 10, "n_chains": 1, "progress": False}


def run_isolated(code: str, timeout: float = 120.0) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter; fail (not hang) if it takes over ``timeout`` s."""
    try:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not return within {timeout} s (a sampler loop that never ends?)")


# ----------------------------------------------------------------- 1. hangs in model 2
def test_model_2_edge_cases_return_or_raise_in_time():
    """Both reproducers of the hang, both engines, in one subprocess with a timeout: a
    constant group (refused as improper) and an extreme nu0 prior (the sampler stops with a
    named error once sigma02 underflows)."""
    proc = run_isolated(
        """
        import numpy as np
        from hierlib import gibbs, priors
        g = np.repeat(np.arange(4), 5)
        constant = np.r_[np.full(5, 7.0), np.random.default_rng(0).normal(10, 2, 15)]
        spread = np.random.default_rng(0).normal(10, 2, 20)
        extreme = priors.UnequalVariances(nu0_shape=1e-8, nu0_rate=1e8)
        for engine in ("numba", "numpy"):
            for y, prior in ((constant, None), (spread, extreme)):
                try:
                    gibbs.unequal_variances(y, g, prior=prior, n_draws=2000, seed=1, engine=engine)
                    print("returned")
                except ValueError as err:
                    print("ValueError:", err)
        """
    )
    lines = proc.stdout.splitlines()
    assert len(lines) == 4, proc.stderr[-2000:]
    for line in lines[0::2]:
        assert line.startswith("ValueError: the unequal-variances posterior is improper")
        assert "group(s) 0 have no spread" in line and "= 4)" in line
    for line in lines[1::2]:
        assert line.startswith("ValueError: unequal_variances: the sampler stopped")
        assert "sigma02" in line or "nu0" in line


def test_propriety_condition_for_constant_groups():
    """K = sum (n_j - 1) over the constant groups; proper iff a > K and K < 2 (m + nu0_shape)."""
    st = group_stats(CONSTANT_GROUP_Y, FOUR_GROUPS)
    labels, k = propriety.constant_groups_excess(st)
    assert list(labels) == [0] and k == 4
    with pytest.raises(ValueError, match="improper.*1/sigma02"):
        propriety.check_unequal_variances(st, priors.UnequalVariances())
    with pytest.raises(ValueError, match="a > 4"):
        propriety.check_unequal_variances(st, priors.UnequalVariances(a=4, b=1))
    propriety.check_unequal_variances(st, priors.UnequalVariances(a=4.5, b=1))  # proper
    big = group_stats(
        np.r_[np.full(40, 3.0), CONSTANT_GROUP_Y[5:]], np.repeat([0, 1, 2, 3], [40, 5, 5, 5])
    )
    with pytest.raises(ValueError, match=r"nu0\^\(m - K/2"):  # K = 39 >= 2 (4 + 2)
        propriety.check_unequal_variances(big, priors.UnequalVariances(a=50, b=1))


def test_the_refused_side_of_the_condition_really_collapses(monkeypatch):
    """With the check switched off, a < K sends sigma02 to about 1e-30 (the sampler wanders
    into the non-integrable corner); a > K keeps it of the order of the data's variance."""
    monkeypatch.setattr(propriety, "check_unequal_variances", lambda stats, prior: None)
    median = {}
    for a in (2.0, 6.0):  # K = 4
        prior = priors.UnequalVariances(mu0=10, g20=100, eta0=1, t20=4, a=a, b=6)
        post = gibbs.unequal_variances(CONSTANT_GROUP_Y, FOUR_GROUPS, prior=prior,
                                       **(SMALL | {"n_draws": 5000, "n_warmup": 1000}))  # fmt: skip
        median[a] = float(np.median(post.draws["sigma02"]))
    assert median[2.0] < 1e-10 < 0.05 < median[6.0]


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_constant_group_with_a_proper_enough_prior_samples(engine):
    prior = priors.UnequalVariances(mu0=10, g20=100, eta0=1, t20=4, a=6, b=6)
    post = gibbs.unequal_variances(
        CONSTANT_GROUP_Y, FOUR_GROUPS, prior=prior, seed=1, engine=engine, **SMALL
    )
    assert np.isfinite(post.draws["sigma02"]).all() and (post.draws["sigma02"] > 0).all()


def test_slice_sampler_returns_nan_when_it_cannot_move():
    from hierlib.samplers import _kernels

    rng = np.random.default_rng(0)
    c = np.array([4.0, 0.0, 0.0, 1.0, 2.0, 0.5])  # sigma02 = 0: the nu0 target is -inf
    assert np.isnan(_kernels.slice_sample(rng, _kernels.LOG_NU0, 0.0, c, 1.0))
    c[1] = 1.0  # a valid state moves
    assert np.isfinite(_kernels.slice_sample(rng, _kernels.LOG_NU0, 0.0, c, 1.0))


@pytest.mark.parametrize("shape", [np.nan, np.inf, 0.0, -1.0])
def test_gamma_draw_refuses_a_shape_it_could_never_accept(shape):
    from hierlib.samplers import _kernels

    with pytest.raises(ValueError, match="shape"):
        _kernels.standard_gamma(np.random.default_rng(0), shape)


# ------------------------------------------------ 2. ZeroDivisionError from the kernels
@pytest.mark.parametrize("sampler", [gibbs.hierarchical_normal, gibbs.unequal_variances])
@pytest.mark.parametrize("scale", [1e160, 1e150, 1e-160])
def test_extreme_scales_are_refused_up_front(sampler, scale):
    y = np.random.default_rng(1).normal(0, 1, 24) * scale
    with pytest.raises(ValueError, match=r"(^y |of y).*rescale y"):
        sampler(y, np.repeat(np.arange(6), 4), **SMALL)


def test_kernel_division_by_zero_becomes_a_named_value_error():
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    with pytest.raises(ValueError, match="hierarchical_normal: the sampler stopped.*underflow"):
        _chains.guarded(broken, "hierarchical_normal")()


def test_non_finite_draws_are_refused():
    with pytest.raises(ValueError, match="draws of tau2 are not all finite"):
        _chains.check_finite({"tau2": np.array([1.0, np.inf])}, "hierarchical_normal")


# ------------------------------------------------- 3. overflowing sums of squares
def test_overflowing_sums_of_squares_are_refused():
    y = np.array([1.0, -1.0, 2.0, -2.0]) * 1e160
    with pytest.raises(ValueError, match="sum of squares of y is not finite.*rescale"):
        group_stats(y, [0, 0, 1, 1])


@pytest.mark.parametrize(
    "call",
    [
        lambda st: anova.anova_from_stats(st),
        lambda st: marginal.marginal_loglik(st, 0.0, 1.0, 1.0),
        lambda st: comparisons.raw_pairwise_claims(st),
    ],
)
def test_overflow_between_groups_is_refused(call):
    # finite means and SS, but their differences and squares overflow
    st = GroupStats(np.arange(3), np.array([2, 2, 2]), np.array([-1.5e308, 1.5e308, 0.0]),
                    np.array([1.0, 1.0, 1.0]))  # fmt: skip
    with pytest.raises(ValueError, match="not finite"):
        call(st)


# ------------------------------------------------------------ 4. GroupStats validated
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n": [0, 3]}, "n must hold whole group sizes"),
        ({"n": [2.5, 3]}, "n must hold whole group sizes"),
        ({"ybar": [np.nan, 1.0]}, "ybar has 1 NaN"),
        ({"ss": [-1.0, 1.0]}, "ss holds sums of squares"),
        ({"ss": [1.0, np.inf]}, "ss has 1 NaN or infinite"),
        ({"n": [1, 3], "ss": [2.0, 1.0]}, "single member"),
        ({"labels": ["a", "a"]}, "distinct"),
        ({"n": [3]}, "lengths differ"),
    ],
)
def test_group_stats_is_validated_at_construction(kwargs, match):
    base = {"labels": ["a", "b"], "n": [3, 3], "ybar": [1.0, 2.0], "ss": [1.0, 2.0]}
    with pytest.raises(ValueError, match=match):
        GroupStats(**(base | kwargs))


def test_hand_built_group_stats_equals_computed():
    st = GroupStats(["a", "b"], [2.0, 2.0], [1.5, 3.5], [0.5, 0.5])
    assert st.n.dtype == np.int64
    ref = group_stats([1.0, 2.0, 3.0, 4.0], ["a", "a", "b", "b"])
    assert anova.anova_from_stats(st) == anova.anova_from_stats(ref)


# ------------------------------------------------------------------- 5. complex y
@pytest.mark.parametrize("fn", [group_stats, anova.one_way_anova, reml.fit_random_intercept])
def test_complex_y_is_refused(fn):
    y = np.array([1.0 + 1j, 2.0, 3.0, 4.0])
    with pytest.raises(TypeError, match="y must hold real numbers; got complex"):
        fn(y, [0, 0, 1, 1])


@pytest.mark.parametrize("text", [np.array(["7", "8"]), np.empty((0, 3), dtype="<U32")])
def test_text_draws_are_refused_even_when_empty(text):
    # an empty array of strings has no example to quote: still a ValueError naming the argument
    with pytest.raises(ValueError, match="theta_draws must be numeric; got .*text"):
        ranking.rank_draws(text)


# ------------------------------------------------------------ 6. boolean keep_theta
def test_boolean_keep_theta_is_a_mask():
    y = np.random.default_rng(2).normal(0, 1, 24)
    g = np.repeat(np.array([10, 20, 30, 40, 50, 60]), 4)
    mask = np.array([True, False, False, True, False, False])
    post = gibbs.hierarchical_normal(y, g, keep_theta=mask, **SMALL)
    assert list(post.theta_groups) == [10, 40]
    with pytest.raises(ValueError, match="boolean mask of length 2, but there are 6 groups"):
        gibbs.hierarchical_normal(y, g, keep_theta=[True, False], **SMALL)


# -------------------------------------------------------------------- 7. memory
def test_allocation_beyond_the_limit_is_refused_naming_keep_theta():
    y = np.random.default_rng(3).normal(0, 1, 200_000)
    g = np.arange(200_000) % 100_000
    with pytest.raises(ValueError, match=r"14\.9 GiB.*keep_theta="):
        gibbs.hierarchical_normal(y, g)  # defaults: 4 chains x 5000 draws x every theta


def test_memory_limit_is_configurable(monkeypatch):
    y = np.random.default_rng(4).normal(0, 1, 24)
    g = np.repeat(np.arange(6), 4)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", 1000)
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES"):
        gibbs.unequal_variances(y, g, **SMALL)
    post = gibbs.unequal_variances(y, g, keep_theta=[], **(SMALL | {"n_draws": 10}))
    assert post.draws["theta"].shape == (1, 10, 0)


# ------------------------------------------------------------ 8. read-only install
def test_read_only_install_compiles_in_memory(tmp_path):
    """A copy of the package where no cache folder can be made: the package's __pycache__,
    NUMBA_CACHE_DIR and the home cache all lie under regular files (so this holds even when
    the tests run as root, whom permissions do not stop)."""
    pkg = tmp_path / "site" / "hierlib"
    shutil.copytree(REPO / "hierlib", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    for package in {p.parent for p in pkg.rglob("__init__.py")}:  # subpackages too
        (package / "__pycache__").write_text("not a folder")
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    env = os.environ | {
        "PYTHONPATH": str(pkg.parent),
        "NUMBA_CACHE_DIR": str(blocker / "numba"),
        "HOME": str(blocker),
        "XDG_CACHE_HOME": str(blocker / "xdg"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    code = (  # importing decorates (where numba used to fail); one small kernel compiles
        "import hierlib, hierlib.gibbs, numpy as np; from hierlib.samplers import _kernels as k; "
        f"assert hierlib.__file__.startswith({str(pkg)!r}); "
        "print('ok', k.standard_gamma(np.random.default_rng(0), 2.0) > 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=300, cwd=tmp_path)  # fmt: skip
    assert "ok True" in proc.stdout, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if "CacheWarning" in line]
    assert len(lines) == 1 and "compiled in memory" in lines[0], proc.stderr[-2000:]


# ---------------------------------------------------- 9. E[tau2 | y] infinite for m = 4, 5
@pytest.mark.parametrize("m", [4, 5])
@pytest.mark.parametrize("sampler", [gibbs.hierarchical_normal, gibbs.unequal_variances])
def test_infinite_posterior_mean_of_tau2_is_announced(sampler, m):
    y = np.random.default_rng(5).normal(0, 1, 4 * m)
    match = rf"tau2: with m = {m} groups.*E\[tau2 \| y\]"
    with pytest.warns(gibbs.InfiniteMeanWarning, match=match):
        sampler(y, np.repeat(np.arange(m), 4), **SMALL)


@pytest.mark.parametrize("m", [6, 160])
def test_no_warning_when_the_mean_exists(m):
    y = np.random.default_rng(6).normal(0, 1, 4 * m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gibbs.hierarchical_normal(y, np.repeat(np.arange(m), 4), **SMALL)
        gibbs.hierarchical_normal(  # a proper prior with a thin tail: no warning at m = 4
            y[:16],
            np.repeat(np.arange(4), 4),
            prior=priors.SemiConjugate(0, 1, 2, 1, 2, 1),
            **SMALL,
        )


def test_the_rule_matches_the_tail_exponent():
    """E[tau2 | y] < inf iff m > 3 - 2 a_tau: flat (a = -1) needs m >= 6, eta0 = 1 m >= 3."""
    flat = priors.Default().hyper()
    for m, warns in [(4, True), (5, True), (6, False)]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            _posterior.warn_infinite_means(m, flat)
        assert bool(caught) is warns
    with pytest.warns(gibbs.InfiniteMeanWarning, match="m = 2"):
        _posterior.warn_infinite_means(2, priors.SemiConjugate(0, 1, 1, 1, 1, 1).hyper())


# ------------------------------------------------- 10. messages from inside other libraries
CONSTANT = (np.full(12, 3.0), np.repeat(np.arange(4), 3))
SPREAD = "every group is constant"
LABELS_AS_Y = "group labels as y"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: reml.profile_loglik(group_stats(*CONSTANT), [1.0]), ValueError, SPREAD),
        (lambda: reml.profile_interval(group_stats(*CONSTANT)), ValueError, SPREAD),
        (lambda: reml.fit_random_intercept(*CONSTANT), ValueError, SPREAD),
        (lambda: group_stats([1.0, 2.0, 3.0], ["a", 1, "b"]), TypeError, "groups mixes text"),
        (lambda: group_stats(pd.Series(["a", 1]), [0, 1]), ValueError, LABELS_AS_Y),
        (lambda: group_stats([1.0, 2.0], pd.Series(["a", 1])), TypeError, "groups mixes text"),
        (lambda: group_stats(np.array(["12", "13"]), ["a", "b"]), ValueError, LABELS_AS_Y),
        (lambda: gibbs.unequal_variances(np.array(["1"] * 8), range(8)), ValueError, LABELS_AS_Y),
        (lambda: group_stats([1.0, 2.0], None), TypeError, "groups is required"),
        (lambda: group_stats([1.0, 2.0], 3), TypeError, "groups must be one group label"),
        (lambda: group_stats(pd.DataFrame({"v": [1.0, 2.0]}), [0, 1]), TypeError, r"df\['v'\]"),
        (lambda: group_stats({"y": [1.0]}, [0]), TypeError, "y must be a 1-d array"),
    ],
)  # fmt: skip
def test_errors_name_the_argument_not_the_library_inside(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_profile_interval_is_bounded_when_the_likelihood_never_falls(monkeypatch):
    st = group_stats(np.random.default_rng(7).normal(0, 1, 30), np.repeat(np.arange(6), 5))
    monkeypatch.setattr(reml, "profile_loglik", lambda stats, t2, method: np.array([1e9]))
    with pytest.raises(ValueError, match="upper end of the interval is not finite"):
        reml.profile_interval(st)


def test_plot_autocorr_checks_max_lag():
    draws = {"mu": np.random.default_rng(8).normal(size=(2, 30))}
    with pytest.raises(ValueError, match="max_lag must be between 1 and 29"):
        diagnostics.plot_autocorr(draws, max_lag=50)


def test_categorical_labels_with_unused_categories():
    g = pd.Categorical(["a", "b", "a", "b"], categories=["a", "b", "c"])
    st = group_stats([1.0, 2.0, 3.0, 5.0], g)
    assert list(st.labels) == ["a", "b"] and list(st.n) == [2, 2]


# ---------------------------------------------------------- 11. silent or misleading
def test_icc_does_not_overflow():
    assert marginal.icc(1e308, 1e308) == 0.5
    assert marginal.icc(1e308, 0.5e308) == pytest.approx(2 / 3)


def test_default_prior_logpdf_outside_its_support():
    assert priors.Default().logpdf(0.0, -1.0, 1.0) == -np.inf
    assert priors.Default().logpdf(0.0, 1.0, -1.0) == -np.inf
    assert priors.Default().logpdf(0.0, np.e, 0.0) == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="sigma2 must be finite"):
        priors.Default().logpdf(0.0, np.nan, 1.0)


def test_mean_shrinkage_refuses_a_nan_mu():
    st = group_stats([1.0, 2.0, 5.0, 6.0], [0, 0, 1, 1])
    with pytest.raises(ValueError, match="mu must be finite"):
        unequal.mean_shrinkage(st, [2.0, 5.0], mu=np.nan)


def test_bin_counts_refuses_ranks_above_l():
    with pytest.raises(ValueError, match=r"ranks must lie in 0\.\.99"):
        sbc.bin_counts([0, 50, 100], 99, 10)
    np.testing.assert_array_equal(sbc.bin_counts([0, 10, 99], 99, 10), [1, 1] + [0] * 7 + [1])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"quantities": ["theta[99]"]}, r"theta\[99\]' does not exist: there are 6 groups"),
        ({"quantities": ["nu0"]}, "not a quantity of hierarchical_normal"),
        ({"quantities": ["mu[0]"]}, "not a quantity"),
        ({"model": "unequal_variances", "prior": sbc.NORMAL_PRIOR}, "draws no 'sigma2_j'"),
    ],
)
def test_gibbs_sbc_checks_quantities_before_sampling(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sbc.gibbs_sbc(n_reps=2, **kwargs)


def test_run_sbc_index_out_of_range_is_a_value_error():
    def fit(data, seed):
        return {"theta": np.zeros((1, 100, 3))}

    with pytest.raises(ValueError, match=r"theta\[5\] does not exist"):
        sbc.run_sbc(lambda rng: {"theta": np.zeros(8)}, lambda rng, p: None, fit, ["theta[5]"],
                    n_reps=2)  # fmt: skip


def test_fit_random_intercept_converges_in_any_units():
    rng = np.random.default_rng(9)
    y, g = marginal.simulate_two_level(rng, np.full(30, 20), 12.0, 9.0, 36.0)
    ref = reml.fit_random_intercept(y, g)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MixedLM's own warnings in the units of y
        small = reml.fit_random_intercept(y * 1e-6, g)
    assert ref.converged and small.converged
    assert small.tau2 == pytest.approx(ref.tau2 * 1e-12, rel=1e-4)
    assert small.sigma2 == pytest.approx(ref.sigma2 * 1e-12, rel=1e-4)
    assert small.mu_hat == pytest.approx(ref.mu_hat * 1e-6, rel=1e-6)


# --------------------------------------------------------------- 12. wrong kind of object
STATS_FUNCTIONS = [
    anova.anova_from_stats,
    anova.plot_two_extremes,
    lambda s: marginal.marginal_loglik(s, 0.0, 1.0, 1.0),
    reml.maximize_profile,
    lambda s: reml.profile_loglik(s, [1.0]),
    lambda s: reml.gls_mean(s, 1.0, 1.0),
    shrinkage.moment_estimates,
    shrinkage.empirical_bayes_means,
    comparisons.raw_pairwise_claims,
    explore.pooled_within_sd,
    explore.standard_errors,
    lambda s: propriety.log_integrated_likelihood(s, [1.0], 1.0),
    lambda s: unequal.mean_shrinkage(s, [1.0, 2.0], 0.0),
]


@pytest.mark.parametrize("fn", STATS_FUNCTIONS)
@pytest.mark.parametrize("wrong", [{"n": [2, 2]}, pd.DataFrame({"n": [2, 2]}), None])
def test_wrong_object_for_group_stats_is_a_type_error(fn, wrong):
    with pytest.raises(TypeError, match="must be a data.GroupStats"):
        fn(wrong)


@pytest.mark.parametrize(
    "fn",
    [
        posterior.derived_draws,
        unequal.variance_table,
        lambda p: posterior.bayes_vs_reml(p, {"mu": 1, "sigma2": 1, "tau2": 1}),
        lambda p: unequal.plot_mean_shrinkage_compare(TWO_GROUPS, p, p),
    ],
)  # fmt: skip
@pytest.mark.parametrize("wrong", [pd.DataFrame({"mu": [1.0]}), {"mu": 1.0}, None])
def test_wrong_object_for_a_posterior_is_a_type_error(fn, wrong):
    with pytest.raises(TypeError, match="must be a posterior from hierlib.gibbs"):
        fn(wrong)


# ------------------------------------------------------- 13. the priors' hyperparameters
@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: priors.SemiConjugate(None, 1, 1, 1, 1, 1), "mu0 must be a number; got None"),
        (lambda: priors.SemiConjugate(0, 1, 1, -2, 1, 1), "t20 must be a finite positive"),
        (lambda: priors.SemiConjugate(np.inf, 1, 1, 1, 1, 1), "mu0 must be finite"),
        (lambda: priors.HalfCauchy(1.0, mu0=0.0), "give both mu0 and g20, or neither"),
        (lambda: priors.HalfCauchy(1.0, nu0=2.0, s20=0.0), "s20 must be a finite positive"),
        (lambda: priors.HalfCauchy(0.0), "scale must be a finite positive"),
        (lambda: priors.UnequalVariances(eta0=1.0), "give both eta0 and t20, or neither"),
        (lambda: priors.UnequalVariances(a=1.0, b=np.nan), "b must be a finite positive"),
        (lambda: priors.UnequalVariances(mu0="x", g20=1.0), "mu0 must be a number"),
        (lambda: priors.UnequalVariances(nu0_rate=-1.0), "nu0_rate must be a finite positive"),
    ],
)
def test_prior_hyperparameters_are_checked_by_name(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_optional_hyperparameters_stay_none_and_given_ones_become_floats():
    hc = priors.HalfCauchy(2, mu0=1, g20=4)
    assert (hc.mu0, hc.g20, hc.nu0, hc.s20) == (1.0, 4.0, None, None)
    assert isinstance(hc.mu0, float) and isinstance(hc.scale, float)
    uv = priors.UnequalVariances(a=np.int64(4), b=2)
    assert (uv.a, uv.b, uv.mu0, uv.eta0) == (4.0, 2.0, None, None) and type(uv.a) is float
