"""The samplers' chains on threads (``cores=``) and their sufficient-statistic input
(``stats=``): the same draws as a sequential run on the rows, and clear errors."""

import threading

import numpy as np
import pandas as pd
import pytest

from hierlib import gibbs, priors
from hierlib.data import GroupStats, group_stats
from hierlib.samplers import _chains
from hierlib.samplers import hierarchical_normal as model_1

MODELS = [
    (gibbs.hierarchical_normal, {"parameterization": "centered"}),
    (gibbs.hierarchical_normal, {"parameterization": "offset"}),
    (gibbs.hierarchical_normal, {"parameterization": "interweaved"}),
    (gibbs.unequal_variances, {}),
]
IDS = ["centered", "offset", "interweaved", "unequal"]


def assert_same_draws(a, b):
    assert a.draws.keys() == b.draws.keys()
    for k in a.draws:
        assert np.array_equal(a.draws[k], b.draws[k]), k
    assert np.array_equal(a.theta_mean, b.theta_mean)
    assert np.array_equal(a.theta_sd, b.theta_sd)
    for k in a.extra:
        assert np.array_equal(a.extra[k], b.extra[k]), k


# ---------------------------------------------------------------------- chains on threads
@pytest.mark.parametrize(("sampler", "kw"), MODELS, ids=IDS)
def test_parallel_chains_are_bit_identical_to_sequential(small, sampler, kw):
    # 5 chains over 2 and 3 threads (uneven shares), more than 1000 sweeps (several chunks)
    y, groups = small
    run = dict(kw, n_chains=5, n_draws=1500, n_warmup=300, seed=9)
    sequential = sampler(y, groups, cores=1, **run)
    for cores in (2, 3, None):
        assert_same_draws(sequential, sampler(y, groups, cores=cores, **run))


def test_parallel_chains_differ_from_one_another(small):
    y, groups = small
    post = gibbs.hierarchical_normal(y, groups, n_chains=4, n_draws=200, seed=2, cores=4)
    assert len({float(x) for x in post.draws["mu"][:, -1]}) == 4


def test_numpy_engine_takes_cores_and_gives_its_sequential_draws(small):
    y, groups = small
    a = gibbs.unequal_variances(y, groups, n_draws=100, engine="numpy", cores=2, seed=4)
    b = gibbs.unequal_variances(y, groups, n_draws=100, engine="numpy", cores=1, seed=4)
    assert_same_draws(a, b)


def test_progress_bar_counts_every_sweep_of_parallel_chains(small, capfd):
    y, groups = small
    gibbs.hierarchical_normal(
        y, groups, n_chains=3, n_draws=1200, n_warmup=100, cores=2, progress=True
    )
    err = capfd.readouterr().err
    assert "Gibbs" in err and "3900/3900" in err
    gibbs.hierarchical_normal(y, groups, n_chains=3, n_draws=100, cores=2, progress=False)
    assert capfd.readouterr().err == ""


def test_available_cores_is_the_default(monkeypatch, small):
    assert gibbs.available_cores() >= 1
    seen = []

    def sequential(steps, n_warmup, n_draws, bar, workers):
        seen.append(workers)
        return sum(_chains.run_chunks(step, n_warmup, n_draws, bar) for step in steps)

    monkeypatch.setattr(_chains, "run_threads", sequential)
    monkeypatch.setattr(_chains, "available_cores", lambda: 3)
    y, groups = small
    gibbs.hierarchical_normal(y, groups, n_chains=4, n_draws=10)
    gibbs.hierarchical_normal(y, groups, n_chains=2, n_draws=10)  # at most one per chain
    assert seen == [3, 2]


@pytest.mark.parametrize("cores", [0, -1, 1.5, "2", True])
def test_bad_cores(small, cores):
    y, groups = small
    with pytest.raises(ValueError, match="cores"):
        gibbs.hierarchical_normal(y, groups, n_draws=10, cores=cores)


# ------------------------------------------------------------------ sufficient statistics
@pytest.mark.parametrize(("sampler", "kw"), MODELS, ids=IDS)
def test_stats_give_the_same_draws_as_rows(small, sampler, kw):
    y, groups = small
    rows = sampler(y, groups, n_draws=300, seed=5, keep_theta=[1, 6], **kw)
    summ = sampler(stats=group_stats(y, groups), n_draws=300, seed=5, keep_theta=[1, 6], **kw)
    assert_same_draws(rows, summ)
    assert np.array_equal(rows.theta_groups, summ.theta_groups)


def test_stats_from_a_table_of_summaries(hsb):
    """A user with only per-school summaries (no student rows) gets the rows' draws."""
    table = hsb.groupby("school")["mathach"].agg(
        n="size", ybar="mean", ss=lambda v: float(((v - v.mean()) ** 2).sum())
    )
    stats = GroupStats(
        labels=table.index.to_numpy(), n=table["n"].to_numpy(), ybar=table["ybar"].to_numpy(),
        ss=table["ss"].to_numpy(),
    )  # fmt: skip
    a = gibbs.hierarchical_normal(stats=stats, n_draws=500, seed=630)
    b = gibbs.hierarchical_normal(hsb.mathach, hsb.school, n_draws=500, seed=630)
    np.testing.assert_allclose(a.draws["mu"], b.draws["mu"], rtol=1e-9)
    np.testing.assert_allclose(a.draws["theta"], b.draws["theta"], rtol=1e-9)
    assert a.stats.n.dtype == np.int64 and a.stats.m == 160


def test_posterior_from_stats_holds_no_rows(hsb):
    stats = group_stats(hsb.mathach, hsb.school)
    post = gibbs.hierarchical_normal(stats=stats, n_draws=50)
    for name, value in vars(post).items():
        assert np.shape(value)[:1] != (stats.n_total,), name
    assert np.array_equal(post.stats.ybar, stats.ybar)


def _stats(**change):
    base = {
        "labels": np.array([0, 1, 2, 3]),
        "n": np.array([2, 3, 1, 4]),
        "ybar": np.array([1.0, 2.0, 3.0, 4.0]),
        "ss": np.array([0.5, 1.0, 0.0, 2.0]),
    }
    return GroupStats(**(base | change))


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({}, ValueError, "no data.*y and groups missing"),
        ({"y": [1.0, 2.0]}, ValueError, "groups missing"),
        ({"groups": [0, 1]}, ValueError, "y missing"),
        ({"y": [1.0, 2.0], "groups": [0, 1], "stats": _stats()}, ValueError, "not both"),
        ({"y": [1.0, 2.0], "stats": _stats()}, ValueError, "not both"),
        ({"stats": pd.DataFrame({"n": [2, 3]})}, TypeError, "GroupStats"),
        ({"stats": _stats(labels=np.array([0, 2, 1, 3]))}, ValueError, "sorted"),
        ({"stats": _stats(labels=np.array(["b", "a", "c", "d"]))}, ValueError, "sorted"),
    ],
)
def test_bad_data_forms_raise_naming_the_problem(kwargs, error, match):
    for sampler in (gibbs.hierarchical_normal, gibbs.unequal_variances):
        with pytest.raises(error, match=match):
            sampler(**kwargs, n_draws=10, prior=None)


def test_group_stats_check_their_own_entries():
    # a GroupStats with impossible entries cannot be built, so it never reaches a sampler
    with pytest.raises(ValueError, match="n must hold whole group sizes"):
        _stats(n=np.array([2, 0, 1, 4]))
    with pytest.raises(ValueError, match="single member"):
        _stats(ss=np.array([0.5, 1.0, 0.3, 2.0]))


def test_stats_pass_the_models_own_checks():
    # the unequal-variances model still refuses a one-member group, from stats as from rows
    with pytest.raises(ValueError, match="at least 2 members"):
        gibbs.unequal_variances(stats=_stats(), n_draws=10)
    hoff = priors.SemiConjugate(mu0=0, g20=100, eta0=1, t20=1, nu0=1, s20=1)
    post = gibbs.hierarchical_normal(stats=_stats(), prior=hoff, n_draws=20)
    assert post.draws["theta"].shape == (4, 20, 4)


def test_an_error_in_one_chain_reaches_the_caller_and_stops_the_others(small, monkeypatch):
    """A chain that fails on its thread raises in the caller; the other chains stop at their
    next chunk instead of sweeping on."""
    real = model_1.sweeps
    calls = []
    lock = threading.Lock()

    def failing(*args):
        n_iter = args[8]
        with lock:
            calls.append(n_iter)
            if n_iter > 0 and len([k for k in calls if k > 0]) == 3:
                raise ValueError("boom in one chain")
        return real(*args)

    monkeypatch.setattr(model_1, "sweeps", failing)
    y, groups = small
    with pytest.raises(ValueError, match="boom in one chain"):
        gibbs.hierarchical_normal(
            y, groups, n_chains=4, n_warmup=0, n_draws=50_000, cores=2, progress=False
        )
    # 4 chains x 50 chunks were asked for; the run stopped long before
    assert len([k for k in calls if k > 0]) < 4 * 50 // 2


def test_pointwise_groups_need_the_rows(small):
    y, groups = small
    post = gibbs.hierarchical_normal(stats=group_stats(y, groups), n_draws=50)
    assert post.y is None
    with pytest.raises(ValueError, match="no observations"):
        post.to_arviz(log_likelihood=True)
    rows = gibbs.hierarchical_normal(y, groups, n_draws=50)
    assert rows.to_arviz(log_likelihood=True).log_likelihood["y"].shape == (4, 50, y.size)
