"""Bad input and edge cases: every public function returns a finite answer or raises a clear
ValueError/TypeError naming the problem; no sampler hangs. One test (or more) per finding.

Sampler calls that used to hang run in a subprocess with a timeout (:func:`run_isolated`), so a
regression fails the test instead of hanging CI.
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from hierlib import (
    _memory,
    anova,
    comparisons,
    conditionals,
    covariates,
    diagnostics,
    exact,
    explore,
    gibbs,
    marginal,
    plots,
    posterior,
    predictive,
    priors,
    propriety,
    ranking,
    reml,
    sbc,
    shrinkage,
    shrinkage_explorer,
    textbook,
    unequal,
)
from hierlib.data import GroupStats, group_stats, require_mixed_stats, require_stats
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
    """Kept: 5000 draws x (4 + 2 x 6) values x 8 bytes = 640 kB with every theta_j and
    sigma_j^2, 160 kB without; the chain's work arrays add a few kB."""
    y = np.random.default_rng(4).normal(0, 1, 24)
    g = np.repeat(np.arange(6), 4)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", 300_000)
    assert _memory.MAX_BYTES == 300_000  # one setting, read where the calls check it
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES"):
        gibbs.unequal_variances(y, g, **(SMALL | {"n_draws": 5000}))
    post = gibbs.unequal_variances(y, g, keep_theta=[], **(SMALL | {"n_draws": 5000}))
    assert post.draws["theta"].shape == (1, 5000, 0)
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES must be a finite positive"):
        gibbs.MAX_DRAWS_BYTES = float("nan")


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
# Every public function that takes a GroupStats, a posterior, matplotlib axes (or another of
# hierlib's objects) refuses a dict, a list, None or a DataFrame with a TypeError that names the
# argument and the type expected, in one wording (_validate.require_type); the guards below
# fail when a public function with such an argument is missing from these lists.
@pytest.fixture(scope="module")
def fits():
    """Small model-1 and model-2 posteriors (with rows), sampled once, and mixed models with
    covariates (:func:`mixed_fits`)."""
    y = np.random.default_rng(3).normal(0, 1, 24) + np.repeat(np.arange(6.0), 4)
    g = np.repeat(np.arange(6), 4)
    run = {"n_draws": 40, "n_warmup": 10, "n_chains": 2}
    posts = gibbs.hierarchical_normal(y, g, **run), gibbs.unequal_variances(y, g, **run)
    return (*posts, mixed_fits())


def mixed_fits() -> SimpleNamespace:
    """Random intercepts (``restricted``) and intercepts and slopes (``full``) of ``y ~ x + z``
    on 8 simulated groups of 10 (``z`` a group-level predictor), and the OLS lines per group."""
    rng = np.random.default_rng(5)
    g = np.repeat(np.arange(8), 10)
    x = rng.normal(0, 1, g.size)
    z = np.repeat(rng.normal(0, 1, 8), 10)
    a, b = rng.normal(0, 1, 8), rng.normal(1, 0.7, 8)
    df = pd.DataFrame({"y": a[g] + b[g] * x + z + rng.normal(0, 0.5, g.size), "x": x, "z": z,
                       "g": g})  # fmt: skip
    restricted = reml.fit_mixed("y ~ x + z", df, "g", method="ML")
    full = reml.fit_mixed("y ~ x + z", df, "g", re_formula="~x", method="ML")
    ols = covariates.ols_by_group(df["y"], df["x"], df["g"])
    return SimpleNamespace(restricted=restricted, full=full, ols=ols, data=df)


STATS_CALLS = {
    "anova.anova_from_stats": anova.anova_from_stats,
    "anova.plot_two_extremes": anova.plot_two_extremes,
    "comparisons.raw_pairwise_claims": comparisons.raw_pairwise_claims,
    "conditionals.delta_offset": lambda s: conditionals.delta_offset(s, 0.0, 1.0, 1.0),
    "conditionals.mu_offset": lambda s: conditionals.mu_offset(s, [0.0, 0.0], 1.0),
    "conditionals.sigma_j_precision": lambda s: conditionals.sigma_j_precision(s, [0, 0], 4, 1),
    "conditionals.sigma_precision": lambda s: conditionals.sigma_precision(s, [0.0, 0.0]),
    "conditionals.theta_centered": lambda s: conditionals.theta_centered(s, 0.0, 1.0, 1.0),
    "conditionals.theta_unequal": lambda s: conditionals.theta_unequal(s, 0.0, [1, 1], 1.0),
    "data.require_stats": require_stats,
    "explore.plot_means_vs_size": explore.plot_means_vs_size,
    "explore.plot_standard_errors": explore.plot_standard_errors,
    "explore.pooled_within_sd": explore.pooled_within_sd,
    "explore.standard_errors": explore.standard_errors,
    "gibbs.hierarchical_normal": lambda s: gibbs.hierarchical_normal(stats=s, **SMALL),
    "gibbs.unequal_variances": lambda s: gibbs.unequal_variances(stats=s, **SMALL),
    "marginal.marginal_loglik": lambda s: marginal.marginal_loglik(s, 0.0, 1.0, 1.0),
    "propriety.check_unequal_variances": lambda s: propriety.check_unequal_variances(
        s, priors.UnequalVariances()
    ),
    "propriety.constant_groups_excess": propriety.constant_groups_excess,
    "propriety.log_integrated_likelihood": lambda s: propriety.log_integrated_likelihood(
        s, [1.0], 1.0
    ),
    "propriety.log_tau2_posterior_on_log_scale": lambda s: (
        propriety.log_tau2_posterior_on_log_scale(s, [0.0], 1.0)
    ),
    "propriety.plot_tau2_tails": lambda s: propriety.plot_tau2_tails(s, 1.0),
    "reml.gls_mean": lambda s: reml.gls_mean(s, 1.0, 1.0),
    "reml.maximize_profile": reml.maximize_profile,
    "reml.plot_profile": reml.plot_profile,
    "reml.profile_interval": reml.profile_interval,
    "reml.profile_loglik": lambda s: reml.profile_loglik(s, [1.0]),
    "reml.restricted_loglik": lambda s: reml.restricted_loglik(s, 1.0, 1.0),
    "shrinkage.empirical_bayes_means": shrinkage.empirical_bayes_means,
    "shrinkage.moment_estimates": shrinkage.moment_estimates,
    "shrinkage_explorer.explorer_table": lambda s: shrinkage_explorer.explorer_table(
        s, 1.0, [1.0, 1.0]
    ),
    "textbook.run_chains": textbook.run_chains,
    "unequal.mean_shrinkage": lambda s: unequal.mean_shrinkage(s, [1.0, 2.0], 0.0),
    "unequal.plot_mean_shrinkage_compare": lambda s: unequal.plot_mean_shrinkage_compare(
        s, *[SimpleNamespace(draws={"mu": np.zeros((1, 2))}, theta_mean=np.zeros(2))] * 2
    ),
    "unequal.variance_spread_by_nu0": lambda s: unequal.variance_spread_by_nu0([10.0], s),
}
# Not checked, on purpose: textbook.gibbs_sampler is the lecture's sampler written to be read
# line by line (no input checks; textbook.run_chains checks and calls it).
STATS_UNCHECKED = {"textbook.gibbs_sampler"}
GROUP_STATS_ARGS = {"s": "s", "stats": "stats", "stats_": "stats_"}
_B, _C = np.zeros((2, 1)), np.eye(1)
MIXED_STATS_CALLS = {  # the mixed model's functions take a data.MixedStats instead
    "conditionals.beta_given_b": lambda s: conditionals.beta_given_b(s, _B, 1.0),
    "conditionals.beta_mixed": lambda s: conditionals.beta_mixed(s, 1.0, _C),
    "conditionals.log_joint_mixed": lambda s: conditionals.log_joint_mixed(s, [0.0], _B, 1.0, _C),
    "conditionals.residual_ss": lambda s: conditionals.residual_ss(s, [0.0], _B),
    "conditionals.sigma2_mixed": lambda s: conditionals.sigma2_mixed(s, [0.0], _B),
    "data.require_mixed_stats": require_mixed_stats,
}


@pytest.mark.parametrize("name", sorted(MIXED_STATS_CALLS))
@pytest.mark.parametrize("wrong", [{"n": [2, 2]}, [2, 2], pd.DataFrame({"n": [2, 2]}), None,
                                   group_stats([1.0, 2.0], [0, 1])])  # fmt: skip
def test_wrong_object_for_mixed_stats_is_a_type_error(name, wrong):
    with pytest.raises(TypeError, match=r"^stats must be a data\.MixedStats .*; got "):
        MIXED_STATS_CALLS[name](wrong)


@pytest.mark.parametrize("name", sorted(STATS_CALLS))
@pytest.mark.parametrize("wrong", [{"n": [2, 2]}, [2, 2], pd.DataFrame({"n": [2, 2]}), None])
def test_wrong_object_for_group_stats_is_a_type_error(name, wrong):
    arg = next(a for a in ("stats_", "stats", "s") if a in _params(name)) if "." in name else ""
    if name.startswith("gibbs.") and wrong is None:
        return  # stats=None means "the rows", refused as no data (test_gibbs_parallel)
    with pytest.raises(TypeError, match=rf"^{arg} must be a data\.GroupStats .*; got "):
        STATS_CALLS[name](wrong)


POSTERIOR_CALLS = {  # name -> (argument named in the message, call)
    "posterior.bayes_vs_reml": (
        "post",
        lambda p, fits: posterior.bayes_vs_reml(p, {"mu": 1, "sigma2": 1, "tau2": 1}),
    ),
    "posterior.derived_draws": ("post", lambda p, fits: posterior.derived_draws(p)),
    "posterior.plot_by_prior": (
        "posts['flat']",
        lambda p, fits: posterior.plot_by_prior({"flat": p}, "mu"),
    ),
    "posterior.prior_sensitivity": (
        "posts['x']",
        lambda p, fits: posterior.prior_sensitivity({"flat": fits[0], "x": p}),
    ),
    "predictive.observation_pareto_k": (
        "post",
        lambda p, fits: predictive.observation_pareto_k(p, 0),
    ),
    "predictive.ppc_new_means": ("post", lambda p, fits: predictive.ppc_new_means(p)),
    "predictive.ppc_new_variances": ("post", lambda p, fits: predictive.ppc_new_variances(p)),
    "predictive.predict_new_school_mean": (
        "post",
        lambda p, fits: predictive.predict_new_school_mean(p, np.random.default_rng(0)),
    ),
    "predictive.predict_new_student": (
        "post",
        lambda p, fits: predictive.predict_new_student(p, 0, np.random.default_rng(0)),
    ),
    "predictive.prediction_table": (
        "post",
        lambda p, fits: predictive.prediction_table(p, {}, np.random.default_rng(0)),
    ),
    "predictive.school_idata": ("post", lambda p, fits: predictive.school_idata(p)),
    "predictive.school_log_likelihood": (
        "post",
        lambda p, fits: predictive.school_log_likelihood(p),
    ),
    "predictive.variance_removed_by_school": (
        "post",
        lambda p, fits: predictive.variance_removed_by_school(p, {"a": 0}),
    ),
    "predictive.variance_spread_checks": (
        "post",
        lambda p, fits: predictive.variance_spread_checks(p),
    ),
    "unequal.plot_mean_shrinkage_compare": (
        "equal",
        lambda p, fits: unequal.plot_mean_shrinkage_compare(TWO_GROUPS, p, fits[1]),
    ),
    "unequal.variance_table": ("post", lambda p, fits: unequal.variance_table(p)),
}
# diagnostics takes a posterior, an arviz.InferenceData or a mapping {name: draws} by design
# (a dict of draws is an answer there, not a mistake); anything else is a TypeError naming post
# (tests/test_diagnostics.py).
POSTERIOR_ELSEWHERE = {"diagnostics"}


@pytest.mark.parametrize("name", sorted(POSTERIOR_CALLS))
@pytest.mark.parametrize("wrong", [pd.DataFrame({"mu": [1.0]}), {"mu": 1.0}, [1.0], None])
def test_wrong_object_for_a_posterior_is_a_type_error(name, wrong, fits):
    arg, call = POSTERIOR_CALLS[name]
    match = rf"^{re.escape(arg)} must be a gibbs\.Posterior \(from gibbs\.hierarchical_normal"
    with pytest.raises(TypeError, match=match):
        call(wrong, fits)


def test_a_draws_attribute_that_is_not_a_mapping_is_a_type_error():
    with pytest.raises(TypeError, match="post.draws must be a mapping of names to draws; got list"):
        posterior.derived_draws(SimpleNamespace(draws=[1.0, 2.0]))


NU0_TABLE = pd.DataFrame(  # the columns of unequal.variance_spread_by_nu0
    {"observed": 1.0, "lower_standard": [0.5, 0.6], "upper_standard": [1.5, 1.4]}
    | {"lower_mixed": [0.4, 0.5], "upper_mixed": [1.6, 1.5]},
    index=pd.Index([10.0, 20.0], name="nu0"),
)
AXES_CALLS = {
    "anova.plot_f_test": lambda ax, f: anova.plot_f_test(anova.anova_from_stats(TWO_GROUPS), ax),
    "anova.plot_two_extremes": lambda ax, f: anova.plot_two_extremes(TWO_GROUPS, ax),
    "comparisons.plot_claims": lambda ax, f: comparisons.plot_claims(
        pd.DataFrame({"raw t-tests": [1], "hierarchical model": [0]}, index=["x"]), 1, ax
    ),
    "diagnostics.plot_autocorr_compare": lambda ax, f: diagnostics.plot_autocorr_compare(
        {"a": f[0]}, "mu", max_lag=10, ax=ax
    ),
    "exact.plot_tau_posteriors": lambda ax, f: exact.plot_tau_posteriors(
        {
            "x": pd.DataFrame(
                {
                    "tau2": [1.0, 4.0],
                    "density": [1.0, 0.5],
                    "tau": [1.0, 2.0],
                    "density_tau": [1.0, 1.0],
                }
            )
        },
        ax=ax,
    ),  # fmt: skip
    "explore.plot_means_vs_size": lambda ax, f: explore.plot_means_vs_size(TWO_GROUPS, ax),
    "explore.plot_standard_errors": lambda ax, f: explore.plot_standard_errors(TWO_GROUPS, ax),
    "explore.plot_within_spread": lambda ax, f: explore.plot_within_spread(
        [1.0, 2.0, 4.0, 5.0], [0, 0, 1, 1], ax
    ),
    "marginal.plot_correlation_check": lambda ax, f: marginal.plot_correlation_check(
        [0.1, 0.2, 0.3], 0.2, ax
    ),
    "marginal.plot_covariance": lambda ax, f: marginal.plot_covariance(
        marginal.marginal_cov([2, 3], 1.0, 2.0), ax
    ),
    "plots.finish_axes": lambda ax, f: plots.finish_axes(ax, "x (points)", "y (points)"),
    "plots.new_axes": lambda ax, f: plots.new_axes(ax),
    "posterior.plot_by_prior": lambda ax, f: posterior.plot_by_prior({"a": f[0]}, "mu", ax),
    "predictive.plot_ppc_statistic": lambda ax, f: predictive.plot_ppc_statistic(
        {"observed": 1.0, "replicated": np.arange(5.0), "p_value": 0.6},
        ax,
        xlabel="T",
        title="t",
    ),  # fmt: skip
    "predictive.plot_prediction_table": lambda ax, f: predictive.plot_prediction_table(
        pd.DataFrame({"mean": [0.0], "lower": [-1.0], "upper": [1.0]}, index=["a"]), ax
    ),
    "propriety.plot_tau2_tails": lambda ax, f: propriety.plot_tau2_tails(TWO_GROUPS, 1.0, ax=ax),
    "ranking.plot_rank_distribution": lambda ax, f: ranking.plot_rank_distribution(
        f[0].draws["theta"], f[0].groups, [0, 1], ax
    ),
    "ranking.plot_rank_intervals": lambda ax, f: ranking.plot_rank_intervals(
        ranking.rank_summary(f[0].draws["theta"], f[0].groups, k=3), k=3, ax=ax
    ),
    "ranking.plot_top_k_ranks": lambda ax, f: ranking.plot_top_k_ranks(
        f[0].draws["theta"], f[0].groups, f[0].stats.ybar, k=3, ax=ax
    ),
    "reml.plot_profile": lambda ax, f: reml.plot_profile(f[0].stats, ax=ax),
    "shrinkage.plot_shrinkage": lambda ax, f: shrinkage.plot_shrinkage(
        TWO_GROUPS.ybar, TWO_GROUPS.ybar, TWO_GROUPS.n, ax
    ),
    "shrinkage.plot_shrinkage_factor": lambda ax, f: shrinkage.plot_shrinkage_factor(
        TWO_GROUPS.n, 1.0, 1.0, ax
    ),
    "shrinkage.plot_shrinkage_vs_n": lambda ax, f: shrinkage.plot_shrinkage_vs_n(
        TWO_GROUPS.n, TWO_GROUPS.ybar, TWO_GROUPS.ybar, ax
    ),
    "unequal.plot_mean_shrinkage_compare": lambda ax, f: unequal.plot_mean_shrinkage_compare(
        f[0].stats, f[0], f[1], ax
    ),
    "unequal.plot_variance_spread_by_nu0": lambda ax, f: unequal.plot_variance_spread_by_nu0(
        NU0_TABLE, ax
    ),
    "covariates.plot_school_lines": lambda ax, f: covariates.plot_school_lines(f[2].ols, ax=ax),
    "covariates.plot_slopes_by_size": lambda ax, f: covariates.plot_slopes_by_size(f[2].ols, ax),
    "covariates.plot_within_between": lambda ax, f: covariates.plot_within_between(
        f[2].ols, f[2].ols["x_mean"], 1.0, (0.0, 1.0), ax
    ),
    "covariates.plot_fixed_lines": lambda ax, f: covariates.plot_fixed_lines(
        f[2].full, "x", pd.DataFrame({"z": [0.0, 1.0]}), ax=ax
    ),
}


@pytest.mark.parametrize("name", sorted(AXES_CALLS))
@pytest.mark.parametrize("wrong", ["dict", "list", "figure"])
def test_wrong_object_for_axes_is_a_type_error(name, wrong, fits):
    import matplotlib.pyplot as plt

    fig = plt.figure()
    bad = {"dict": {"x": 1}, "list": [1, 2], "figure": fig}[wrong]
    try:
        with pytest.raises(TypeError, match=r"^ax must be a matplotlib\.axes\.Axes \(e\.g\. "):
            AXES_CALLS[name](bad, fits)
    finally:
        plt.close("all")


def test_every_plot_helper_still_draws_on_axes_it_is_given(fits):
    """The control: with real axes, each helper above draws on them and returns them."""
    import matplotlib.pyplot as plt

    try:
        for name, call in AXES_CALLS.items():
            _, ax = plt.subplots()
            assert call(ax, fits) is ax, name
            plt.close("all")
    finally:
        plt.close("all")


def test_the_coefficient_shrinkage_names_the_axes_entry_that_is_wrong(fits):
    import matplotlib.pyplot as plt

    ols = fits[2].ols
    _, ax = plt.subplots()
    try:
        with pytest.raises(TypeError, match=r"^axes\[1\] must be a matplotlib\.axes\.Axes"):
            covariates.plot_coefficient_shrinkage(ols, ols, axes=[ax, {"x": 1}])
        with pytest.raises(ValueError, match="axes holds 1 Axes: give two"):
            covariates.plot_coefficient_shrinkage(ols, ols, axes=ax)
        _, pair = plt.subplots(1, 2)
        assert list(covariates.plot_coefficient_shrinkage(ols, ols, axes=pair)) == list(pair)
    finally:
        plt.close("all")


def test_the_t_marginal_names_the_axes_entry_that_is_wrong():
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    rng = np.random.default_rng(0)
    try:
        with pytest.raises(TypeError, match=r"^axes\[1\] must be a matplotlib\.axes\.Axes"):
            unequal.plot_t_marginal(rng, [2.0, 5.0], 4.0, n_draws=100, axes=[ax, "ax"])
        with pytest.raises(ValueError, match="axes holds 1 Axes for 2 values of nu0"):
            unequal.plot_t_marginal(rng, [2.0, 5.0], 4.0, n_draws=100, axes=[ax])
    finally:
        plt.close("all")


MIXED_FIT_CALLS = {  # (function, argument) -> call with a wrong object in that argument
    ("covariates.conditional_icc", "fit"): lambda w, m: covariates.conditional_icc(w),
    ("covariates.contextual_effect", "fit"): lambda w, m: covariates.contextual_effect(w, "z", "x"),
    ("covariates.fitted_lines", "fit"): lambda w, m: covariates.fitted_lines(w, "x"),
    ("covariates.lr_test_random_effect", "restricted"): lambda w, m: (
        covariates.lr_test_random_effect(w, m.full)
    ),
    ("covariates.lr_test_random_effect", "full"): lambda w, m: covariates.lr_test_random_effect(
        m.restricted, w
    ),
    ("covariates.plot_fixed_lines", "fit"): lambda w, m: covariates.plot_fixed_lines(
        w, "x", pd.DataFrame({"z": [0.0]})
    ),
    ("covariates.variance_explained", "base"): lambda w, m: covariates.variance_explained(
        w, m.full
    ),
    ("covariates.variance_explained", "fit"): lambda w, m: covariates.variance_explained(
        m.restricted, w
    ),
    ("reml.fixed_effects_cov", "fit"): lambda w, m: reml.fixed_effects_cov(w),
    ("reml.require_mixed_fit", "fit"): lambda w, m: reml.require_mixed_fit(w),
}
MIXED_FIT_ARGS = ("fit", "base", "full", "restricted")
# There `fit` is a function that refits the model (a callable), not a mixed-model fit; in
# predictive.loo it is a sampler's posterior or an InferenceData (checked in OTHER_OBJECTS).
FIT_IS_A_FUNCTION = {"predictive.loo_refit", "predictive.loso_refit", "sbc.run_sbc"}
FIT_IS_A_POSTERIOR = {"predictive.loo"}


def _wrong_fit(kind: str, fits):
    """Objects that are not a MixedLM fit, some of them close to one: hierlib's random-
    intercept fit (it holds a MixedLM fit as ``.result``) and a statsmodels OLS fit."""
    if kind == "random-intercept fit":
        return reml.fit_random_intercept(fits[2].data["y"], fits[2].data["g"])
    if kind == "OLS fit":
        import statsmodels.formula.api as smf

        return smf.ols("y ~ x", fits[2].data).fit()
    return {"dict": {"fe_params": [1.0]}, "list": [1.0], "None": None,
            "DataFrame": fits[2].data}[kind]  # fmt: skip


@pytest.mark.parametrize("key", sorted(MIXED_FIT_CALLS))
@pytest.mark.parametrize(
    "wrong", ["dict", "list", "None", "DataFrame", "random-intercept fit", "OLS fit"]
)
def test_wrong_object_for_a_mixed_model_fit_is_a_type_error(key, wrong, fits):
    _, arg = key
    match = rf"^{arg} must be a statsmodels MixedLMResults \(from reml\.fit_mixed\); got "
    with pytest.raises(TypeError, match=match):
        MIXED_FIT_CALLS[key](_wrong_fit(wrong, fits), fits[2])


def test_every_mixed_model_call_above_works_with_fits(fits):
    """The control: with real fits in every argument, no call above raises."""
    import matplotlib.pyplot as plt

    m = fits[2]
    try:
        for (name, arg), call in MIXED_FIT_CALLS.items():
            intercepts_only = arg in ("restricted", "base") or name == "covariates.conditional_icc"
            call(m.restricted if intercepts_only else m.full, m)
    finally:
        plt.close("all")


OTHER_OBJECTS = [  # (call, the message's start)
    (lambda w, f: anova.plot_f_test(w), r"result must be an anova\.OneWayAnova \(from anova"),
    (lambda w, f: marginal.plot_covariance(w), r"cov must be a marginal\.BlockCompoundSymmetry"),
    (lambda w, f: predictive.ppc(w), r"idata must be an arviz\.InferenceData \(from post"),
    (
        lambda w, f: predictive.loo(w),
        r"fit must be a gibbs\.Posterior or arviz\.InferenceData \(a posterior, or post",
    ),
    (
        lambda w, f: predictive.prediction_table(f[0], w, np.random.default_rng(0)),
        r"schools must be a dict \(e\.g\. ",
    ),
    (lambda w, f: posterior.prior_sensitivity(w), r"posts must be a dict \(one posterior"),
    (
        lambda w, f: predictive.variance_removed_by_school(f[0], w),
        r"schools must be a dict \(e\.g\. ",
    ),
    (
        lambda w, f: predictive.elpd_difference(w, w),
        r"loo_a must be an arviz\.ELPDData \(from predictive\.loo\(idata\)\); got ",
    ),
    (
        lambda w, f: unequal.plot_variance_spread_by_nu0(w),
        r"table must be a pandas\.DataFrame \(from unequal\.variance_spread_by_nu0\); got ",
    ),
    (lambda w, f: posterior.plot_by_prior(w, "mu"), r"posts must be a dict"),
    (lambda w, f: diagnostics.ess_table(w, ["mu"]), r"posts must be a dict \(one posterior"),
    (lambda w, f: diagnostics.plot_autocorr_compare(w, "mu"), r"posts must be a dict"),
]


@pytest.mark.parametrize(("call", "match"), OTHER_OBJECTS)
@pytest.mark.parametrize("wrong", [[1, 2], "text", None])
def test_wrong_object_for_hierlibs_other_objects_is_a_type_error(call, match, wrong, fits):
    with pytest.raises(TypeError, match="^" + match):
        call(wrong, fits)


def test_an_empty_mapping_of_posteriors_is_a_value_error():
    for call in (
        lambda: posterior.prior_sensitivity({}),
        lambda: diagnostics.ess_table({}, ["mu"]),
    ):
        with pytest.raises(ValueError, match="posts is empty: give one posterior per"):
            call()


def _public_functions():
    """``{"module.function": function}`` of every public function of hierlib's modules."""
    import importlib
    import inspect
    import pkgutil

    import hierlib

    found = {}
    for info in pkgutil.iter_modules(hierlib.__path__):
        if info.name.startswith("_") or info.name in ("samplers", "hsb"):
            continue
        module = importlib.import_module(f"hierlib.{info.name}")
        for fname, fn in inspect.getmembers(module, inspect.isfunction):
            if not fname.startswith("_") and fn.__module__ in (module.__name__, "hierlib.gibbs"):
                found[f"{info.name}.{fname}"] = fn
    found |= {f"gibbs.{n}": getattr(gibbs, n) for n in ("hierarchical_normal", "unequal_variances")}
    return found


def _params(name: str) -> list[str]:
    import inspect

    return list(inspect.signature(_public_functions()[name]).parameters)


def test_every_function_taking_group_stats_posteriors_or_axes_is_listed_here():
    """A new public function with a ``stats``/``s``, ``post``/``posts``, ``ax`` or a
    mixed-model fit argument (``fit``, ``base``, ``full``, ``restricted``) must join the
    lists above (and check it with require_type)."""
    functions = _public_functions()
    takes = {arg: {n for n in functions if arg in _params(n)} for arg in (*GROUP_STATS_ARGS,
             "post", "posts", "ax")}  # fmt: skip
    stats_takers = set().union(*(takes[a] for a in GROUP_STATS_ARGS))
    assert stats_takers == set(STATS_CALLS) | STATS_UNCHECKED | set(MIXED_STATS_CALLS)
    posterior_takers = {n for n in takes["post"] | takes["posts"]
                        if n.split(".")[0] not in POSTERIOR_ELSEWHERE}  # fmt: skip
    listed = {n for n in POSTERIOR_CALLS if n != "unequal.plot_mean_shrinkage_compare"}
    assert posterior_takers == listed
    assert takes["ax"] == set(AXES_CALLS)
    fit_takers = {(n, a) for n in functions for a in MIXED_FIT_ARGS if a in _params(n)}
    elsewhere = FIT_IS_A_FUNCTION | FIT_IS_A_POSTERIOR
    assert {(n, a) for n, a in fit_takers if n not in elsewhere} == set(MIXED_FIT_CALLS)
    assert {n for n, _ in fit_takers} >= elsewhere


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


# ------------------------------------------- 14. the mixed checks, k-hat and elpd differences
# Found by the Hypothesis properties (tests/test_properties*.py) on tiny or degenerate fits.
def _model_2_like(nu0: float):
    """A stand-in for a model-2 posterior of TWO_GROUPS: 1 chain of 4 draws, nu0 as given."""
    draws = {"nu0": np.full((1, 4), nu0), "sigma02": np.ones((1, 4))}
    draws |= {"sigma2_j": np.ones((1, 4, 2)), "theta": np.zeros((1, 4, 2))}
    y, obs_group = np.array([1.0, 2.0, 4.0, 5.0]), np.array([0, 0, 1, 1])
    return SimpleNamespace(draws=draws, stats=TWO_GROUPS, n_draws=4, _rows=lambda: (y, obs_group))


@pytest.mark.parametrize(
    "check",
    [
        lambda p: predictive.variance_spread_checks(p, draws=4),
        lambda p: predictive.ppc_new_variances(p, draws=4),
    ],
)
def test_new_school_variances_that_overflow_are_refused_naming_nu0(check):
    """A nu0 draw of 1e-6: the Gamma(nu0/2) draw underflows to 0, the variance would be inf."""
    with pytest.raises(ValueError, match=r"sigma_j\^2 ~ Inv-Gamma\(nu0/2.*is infinite at nu0 dr"):
        check(_model_2_like(1e-6))
    out = check(_model_2_like(5.0))  # the control: a nu0 of 5 gives finite replicates
    for res in out.values() if "mixed" in out else [out]:
        assert np.isfinite(res["replicated"]).all()


def test_a_pareto_k_arviz_cannot_fit_is_refused_not_inf():
    """Four of 40 draws put y_0 ~2000 log units less likely than the rest: only their 4
    ratios lie above PSIS's cutoff, so ArviZ returns k = inf; observation_pareto_k says why."""
    theta = np.zeros((1, 40, 1))
    theta[0, :4] = 63.0  # (y - theta)^2 / 2 = 1984.5 for y = 0
    post = SimpleNamespace(
        draws={"theta": theta, "sigma2": np.ones((1, 40))},
        model="hierarchical_normal",
        n_draws=40,
        _rows=lambda: (np.zeros(3), np.zeros(3, dtype=np.int64)),
    )
    with pytest.raises(ValueError, match="at most 4 of observation 0's 40 importance ratios"):
        predictive.observation_pareto_k(post, 0)
    theta[0] = np.random.default_rng(1).normal(0, 1, (40, 1))  # the control: a finite k
    assert np.isfinite(predictive.observation_pareto_k(post, 0))


def test_elpd_differences_that_leave_floating_point_are_refused():
    from hierlib._arviz import az

    a, b = (az.ELPDData(data=[np.array(v)], index=["loo_i"]) for v in ([-1e300, 0.0], [0, -1e300]))
    with pytest.raises(ValueError, match="difference of loo_a and loo_b or its se is not finite"):
        predictive.elpd_difference(a, b)
    one = az.ELPDData(data=[np.array([-1.0])], index=["loo_i"])
    with pytest.raises(ValueError, match="one observation\\): the difference has no standard"):
        predictive.elpd_difference(one, one)
    nan = az.ELPDData(data=[np.array([-1.0, np.nan])], index=["loo_i"])
    with pytest.raises(ValueError, match=r"loo_b\['loo_i'\] has 1 NaN or infinite"):
        predictive.elpd_difference(a, nan)
