"""The one memory limit (:mod:`hierlib._memory`): every call that allocates in proportion to
its arguments estimates its peak before allocating, the estimate bounds what ``tracemalloc``
measures, and a call above the limit is refused with a message naming the setting and what
to pass instead.

The peaks are measured with ``tracemalloc`` (numpy's allocations are traced; numba's are
not, and the estimates count them anyway). Hypothesis draws the run's shape (chains, draws,
groups, kept thetas): the estimate must bound the traced peak whatever the shape, and the
refusal must come before anything large is allocated.
"""

import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hierlib import _memory, data, exact, gibbs, predictive, textbook
from hierlib.samplers import _chains

SETTINGS = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def traced_peak(call):
    """The call's result and the peak bytes ``tracemalloc`` traced while it ran."""
    tracemalloc.start()
    try:
        out = call()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module", autouse=True)
def compiled():
    """The sweeps compiled (or loaded from numba's cache) before any peak is measured:
    loading them allocates once per process, whatever the run."""
    gibbs.warm_up()


@pytest.fixture(scope="module")
def hsb():
    df = data.load_hsb()
    return df["mathach"].to_numpy(), df["school"].to_numpy()


@pytest.fixture(scope="module")
def hsb_fits(hsb):
    y, g = hsb
    return {
        "model 1": gibbs.hierarchical_normal(y, g, n_draws=1000, seed=3, progress=False),
        "model 2": gibbs.unequal_variances(y, g, n_draws=400, seed=3, progress=False),
        "complete pooling": exact.complete_pooling(y, g, n_draws=1000),
        "no pooling": exact.no_pooling(y, g, n_draws=1000),
    }


def grouped(m: int, per: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(m), per)
    return rng.normal(0, 1, g.size) + rng.normal(0, 1, m)[g], g


# ------------------------------------------------------------------------ samplers
SAMPLERS = {
    "hierarchical_normal": (gibbs.hierarchical_normal, (3, 1), 4),
    "unequal_variances": (gibbs.unequal_variances, (4, 2), 6),
}


@pytest.mark.parametrize("name", SAMPLERS)
@SETTINGS
@given(
    n_chains=st.integers(1, 400),
    n_draws=st.integers(1, 60),
    m=st.integers(6, 400),
    keep_all=st.booleans(),
)
def test_the_estimate_bounds_the_traced_peak_of_a_run(name, n_chains, n_draws, m, keep_all):
    """Many chains with few draws (the chains' work arrays dominate) as much as few chains
    with many draws (the kept draws dominate)."""
    sampler, kept, work = SAMPLERS[name]
    y, g = grouped(m, 3)
    keep = None if keep_all else []
    run = {"n_warmup": 2, "progress": False, "keep_theta": keep}
    _, peak = traced_peak(lambda: sampler(y, g, n_chains=n_chains, n_draws=n_draws, **run))
    values = kept[0] + kept[1] * (m if keep_all else 0)
    _, need = _chains.memory_need(n_chains, n_draws, values, m, work)
    assert peak <= need


def test_many_chains_with_few_draws_are_refused_for_their_work_arrays(monkeypatch):
    """The kept draws (5000 chains x 1 draw x 3 values: 120 kB) are far below the limit; the
    chains' running sums and state (5000 x 4 x 20000 values: 3.2 GB) are not."""
    y, g = grouped(20_000, 2)
    with pytest.raises(ValueError, match=r"0\.1 MB of kept draws.*MAX_DRAWS_BYTES.*n_chains"):
        gibbs.hierarchical_normal(y, g, n_chains=5000, n_draws=1, keep_theta=[], progress=False)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", 10 * 2**20)
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES"):
        gibbs.unequal_variances(y, g, n_chains=40, n_draws=1, keep_theta=[], progress=False)


def test_the_limit_is_one_value_read_at_each_call(monkeypatch):
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", 12345)
    assert gibbs.MAX_DRAWS_BYTES == _memory.MAX_BYTES == 12345
    y, g = grouped(6, 3)
    with pytest.raises(ValueError, match=r"above the limit of 0\.0 MB"):
        exact.no_pooling(y, g, n_draws=1000)


@pytest.mark.parametrize("bad", [float("nan"), -1, 0, "2GB", True, float("inf"), None])
def test_the_setting_refuses_what_is_not_a_number_of_bytes(bad):
    before = gibbs.MAX_DRAWS_BYTES
    with pytest.raises(ValueError, match="MAX_DRAWS_BYTES must be a"):
        gibbs.MAX_DRAWS_BYTES = bad
    assert gibbs.MAX_DRAWS_BYTES == before


def test_checking_the_memory_does_not_change_a_draw():
    """The check happens before sampling and reads nothing of the streams: draws with the
    limit raised are those with the default (and those of the committed notebooks)."""
    y, g = grouped(8, 4)
    a = gibbs.hierarchical_normal(y, g, n_draws=30, seed=5, progress=False)
    old = gibbs.MAX_DRAWS_BYTES
    try:
        gibbs.MAX_DRAWS_BYTES = 2**40
        b = gibbs.hierarchical_normal(y, g, n_draws=30, seed=5, progress=False)
    finally:
        gibbs.MAX_DRAWS_BYTES = old
    for k in a.draws:
        np.testing.assert_array_equal(a.draws[k], b.draws[k])


# ------------------------------------------------------------------------- to_arviz
def largest_accepted(post, max_bytes, **groups) -> int:
    """The ``draws=`` the refusal message proposes (or every draw when nothing is refused)."""
    try:
        post.to_arviz(max_bytes=max_bytes, **groups)
    except ValueError as err:
        return int(re.search(r"draws=(\d+) or fewer", str(err)).group(1))
    return post.n_draws


GROUPS = [
    {"log_likelihood": True, "posterior_predictive": True},
    {"log_likelihood": True},
    {"posterior_predictive": True},
]


@pytest.mark.parametrize("model", ["model 1", "model 2", "complete pooling", "no pooling"])
@pytest.mark.parametrize("groups", GROUPS, ids=["both", "log_likelihood", "replicates"])
def test_to_arviz_stays_within_max_bytes_under_tracemalloc(hsb_fits, model, groups):
    """HSB, ``max_bytes=50e6``: the largest call accepted allocates at most 50 MB, and one
    more draw per chain is refused."""
    post = hsb_fits[model]
    post.to_arviz(draws=5)  # ArviZ imported outside the measurement (5 draws >= 4 chains)
    k = largest_accepted(post, 50e6, **groups)
    assert 10 < k < post.n_draws
    idata, peak = traced_peak(lambda: post.to_arviz(max_bytes=50e6, draws=k, **groups))
    assert peak <= 50e6
    assert idata.posterior.sizes["draw"] == k
    with pytest.raises(ValueError, match=r"above the limit of 50\.0 MB \(max_bytes\): pass draws="):
        post.to_arviz(max_bytes=50e6, draws=k + 1, **groups)


@pytest.mark.parametrize("bad", [float("nan"), -5, 0, "50MB", True, float("inf"), None])
def test_to_arviz_refuses_a_max_bytes_that_is_not_a_number_of_bytes(hsb_fits, bad):
    with pytest.raises(ValueError, match="max_bytes must be a"):
        hsb_fits["model 1"].to_arviz(log_likelihood=True, draws=5, max_bytes=bad)


def test_to_arviz_in_blocks_gives_the_numbers_of_the_whole_arrays(hsb_fits):
    """Blocks of draws give the same log-likelihood (bit for bit) as the formula on the
    whole (chains, draws, observations) arrays, and the same replicated data as one draw
    of the whole array from the same seed."""
    from hierlib._pointwise import draw_index, normal_logpdf, observation_moments

    for model in ("model 1", "model 2"):
        post = hsb_fits[model]
        idata = post.to_arviz(log_likelihood=True, posterior_predictive=True, draws=40, seed=9)
        keep = draw_index(post.n_draws, 1, 40)
        means, variances = observation_moments(post, keep)
        ll = normal_logpdf(post.y, means, variances)
        z = np.random.default_rng(9).standard_normal(means.shape)
        np.testing.assert_array_equal(idata.log_likelihood["y"].values, ll)
        np.testing.assert_array_equal(
            idata.posterior_predictive["y"].values, means + np.sqrt(variances) * z
        )


# --------------------------------------------------------- the other allocating calls
def test_pooling_fits_are_refused_before_allocating(monkeypatch):
    """Refused above the limit, accepted at it (the estimate itself; the next test shows it
    bounds the traced peak)."""
    y, g = grouped(1000, 2)
    with pytest.raises(ValueError, match=r"no_pooling.*MAX_DRAWS_BYTES.*n_draws"):
        exact.no_pooling(y, g, n_draws=10**6)
    with pytest.raises(ValueError, match=r"complete_pooling.*MAX_DRAWS_BYTES.*n_draws"):
        exact.complete_pooling(y, g, n_draws=10**8)
    for fit in (exact.no_pooling, exact.complete_pooling):
        need = exact._pooling_bytes(fit.__name__, 3, 200, 1000, y.size)
        monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", need)
        fit(y, g, n_draws=200, n_chains=3)
        monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", need - 1)
        with pytest.raises(ValueError, match=fit.__name__):
            fit(y, g, n_draws=200, n_chains=3)


@SETTINGS
@given(n_draws=st.integers(1, 20_000), n_chains=st.integers(1, 6), m=st.integers(2, 300))
def test_pooling_estimates_bound_the_traced_peak(n_draws, n_chains, m):
    y, g = grouped(m, 2)
    for fit in (exact.complete_pooling, exact.no_pooling):
        _, peak = traced_peak(lambda fit=fit: fit(y, g, n_draws=n_draws, n_chains=n_chains))
        assert peak <= exact._pooling_bytes(fit.__name__, n_chains, n_draws, m, y.size)


def test_textbook_sampler_is_refused_before_allocating():
    stats = data.group_stats(*grouped(1000, 3))
    with pytest.raises(ValueError, match=r"textbook.*MAX_DRAWS_BYTES.*n_draws"):
        textbook.run_chains(stats, n_draws=10**6)
    with pytest.raises(ValueError, match=r"textbook.*MAX_DRAWS_BYTES.*n_sweeps"):
        textbook.gibbs_sampler(stats, 10**6, np.random.default_rng(0))


@SETTINGS
@given(n_draws=st.integers(1, 300), n_chains=st.integers(1, 5), m=st.integers(4, 200))
def test_textbook_estimate_bounds_the_traced_peak(n_draws, n_chains, m):
    stats = data.group_stats(*grouped(m, 3))
    _, peak = traced_peak(
        lambda: textbook.run_chains(stats, n_draws=n_draws, n_warmup=20, n_chains=n_chains)
    )
    assert peak <= textbook._memory_bytes(stats.m, n_chains, n_draws + 20, n_draws)


def test_the_textbook_source_on_the_slide_is_the_sampler_alone():
    """The memory check wraps the sampler without showing up in the code students read."""
    source = textbook.source_without_docstring(textbook.gibbs_sampler)
    assert source.startswith("def gibbs_sampler(") and "_memory" not in source


def test_a_grid_too_large_for_the_exact_marginal_is_refused_at_once(hsb):
    """``n_grid=10**6`` ran for minutes; now a ValueError names n_grid before any work."""
    y, g = hsb
    with pytest.raises(ValueError, match=r"n_grid must be at most"):
        exact.marginal_tau2(y, g, n_grid=10**6)
    y, g = grouped(200_000, 2)
    with pytest.raises(ValueError, match=r"marginal_tau2.*MAX_DRAWS_BYTES.*n_grid"):
        exact.marginal_tau2(y, g)


def test_loo_from_a_posterior_is_refused_before_allocating(hsb_fits, monkeypatch):
    post = hsb_fits["model 1"]
    predictive.loo(post, draws=20)  # ArviZ imported outside the measurement
    _, peak = traced_peak(lambda: predictive.loo(post, draws=200))
    assert peak <= predictive._loo_bytes(post, 200)
    monkeypatch.setattr(gibbs, "MAX_DRAWS_BYTES", 10 * 2**20)
    with pytest.raises(ValueError, match=r"PSIS-LOO.*MAX_DRAWS_BYTES.*draws="):
        predictive.loo(post)
