"""hierlib's vectorised PSIS-LOO (hierlib._psis, predictive.loo) against ArviZ's az.loo.

ArviZ 0.23 is the reference: every field of ``az.loo(..., pointwise=True)`` (elpd_i, Pareto
k-hat, elpd, se, p_loo, the warning flag, the threshold, the DataArrays' dims, coordinates and
names) must agree to 1e-8, on HSB's log-likelihoods as notebook 10 computes them and on random
matrices built to reach every branch of the algorithm: light and heavy tails (k-hat from below
0 to above 1), ties at the tail's cutoff (a shorter tail), weights so spread that the cutoff is
the smallest float (a tail of 4 or fewer: k-hat = inf, no smoothing), a few draws or many,
relative efficiencies below and above 1. ``az.compare`` and ``az.plot_khat`` must take the
result as they take ArviZ's.
"""

import warnings
import zlib

import matplotlib
import numpy as np
import pytest
import xarray as xr
from scipy.special import logsumexp

from hierlib import _psis, exact, gibbs, predictive
from hierlib._arviz import az
from hierlib._pointwise import draw_index, loglik_blocks, normal_logpdf, observation_moments
from hierlib.data import hsb_arrays

matplotlib.use("Agg")
TOL = 1e-8


def arviz_loo(idata, reff=None):
    with warnings.catch_warnings():  # the Pareto-k warning: the flag is compared instead
        warnings.simplefilter("ignore")
        return az.loo(idata, pointwise=True, reff=reff)


def assert_same_loo(ours, ref):
    """Every field of two az.loo results: numbers to TOL, the rest exactly."""
    assert list(ours.index) == list(ref.index)
    for key in ref.index:
        a, b = ours[key], ref[key]
        if isinstance(b, xr.DataArray):
            assert a.name == b.name and a.dims == b.dims, key
            xr.testing.assert_allclose(a, b, rtol=0, atol=TOL)  # coordinates too
            assert (np.isinf(a.values) == np.isinf(b.values)).all(), key
        elif isinstance(b, str | bool | np.bool_ | int | np.integer):
            assert a == b and type(a) is type(b), (key, a, b)
        else:
            assert a == pytest.approx(b, abs=TOL, rel=0), key


def idata_of(log_lik, n_chains, seed=0, posterior=None):
    """An InferenceData with log_likelihood["y"] (chain, draw, obs) from a (draws, obs)
    matrix, and a posterior (random AR(1) draws, so that the ESS and reff are MCMC-like)."""
    s, n = log_lik.shape
    if posterior is None:
        rng = np.random.default_rng(seed)
        ar = np.empty((n_chains, s // n_chains, 3))
        ar[:, 0] = rng.standard_normal((n_chains, 3))
        for t in range(1, ar.shape[1]):
            ar[:, t] = np.array([0.2, 0.6, 0.9]) * ar[:, t - 1] + rng.standard_normal((n_chains, 3))
        posterior = {"a": ar[..., 0], "b": ar[..., 1], "c": ar[..., 2]}
    ll = log_lik.reshape(n_chains, s // n_chains, n)
    return az.from_dict(posterior=posterior, log_likelihood={"y": ll})


# ------------------------------------------------------------------------------ HSB
@pytest.fixture(scope="module")
def hsb():
    y, groups = hsb_arrays()
    fits = {
        "complete pooling": exact.complete_pooling(y, groups, n_draws=500, seed=630),
        "no pooling": exact.no_pooling(y, groups, n_draws=500, seed=630),
        "model 1": gibbs.hierarchical_normal(y, groups, n_draws=1000, seed=1),
        "model 2": gibbs.unequal_variances(y, groups, n_draws=1000, seed=2),
    }
    return y, groups, fits


@pytest.mark.parametrize("name", ["complete pooling", "no pooling", "model 1", "model 2"])
def test_hsb_loo_equals_arviz_pointwise(hsb, name):
    """All 7185 students, from the posterior (blocks of students) and from an InferenceData:
    both equal az.loo, and equal each other bit for bit."""
    post = hsb[2][name]
    draws = 250 if post.n_draws > 250 else None
    idata = post.to_arviz(log_likelihood=True, draws=draws)
    reff = 1.0 if name in ("complete pooling", "no pooling") else None
    ref = arviz_loo(idata, reff)
    from_post = predictive.loo(post, draws=draws)
    from_idata = predictive.loo(idata)
    assert_same_loo(from_post, ref)
    for key in ref.index:
        a, b = from_post[key], from_idata[key]
        assert a.equals(b) if isinstance(a, xr.DataArray) else a == b, key
    assert_same_loo(predictive.loo(post, draws=draws, engine="arviz"), ref)


def test_hsb_model_2_at_notebook_10s_draws(hsb):
    """What notebook 10 computes: model 2, 4 chains x 1000 draws (the largest k-hat there)."""
    y, groups, _ = hsb
    post = gibbs.unequal_variances(y, groups, seed=630)
    ours = predictive.loo(post, draws=1000)
    ref = arviz_loo(post.to_arviz(log_likelihood=True, draws=1000))
    assert_same_loo(ours, ref)
    assert 0.5 < float(ref["pareto_k"].max()) < 0.7  # a real tail was smoothed


def test_compare_and_plot_khat_take_the_result(hsb):
    _, _, fits = hsb
    ours = {k: predictive.loo(f, draws=250 if f.n_draws > 250 else None) for k, f in fits.items()}
    ref = {k: predictive.loo(f, draws=250 if f.n_draws > 250 else None, engine="arviz")
           for k, f in fits.items()}  # fmt: skip
    table, expected = predictive.compare(ours), predictive.compare(ref)
    assert list(table.index) == list(expected.index)
    numbers = ["rank", "elpd_loo", "p_loo", "elpd_diff", "weight", "se", "dse"]
    np.testing.assert_allclose(table[numbers].astype(float), expected[numbers].astype(float),
                               rtol=0, atol=1e-7)  # fmt: skip
    assert (table["warning"] == expected["warning"]).all()
    with warnings.catch_warnings():  # ArviZ 0.23's own call of a matplotlib API it deprecates
        warnings.simplefilter("ignore", DeprecationWarning)
        ax = az.plot_khat(ours["model 2"], show_hlines=True)
    assert len(ax.collections[0].get_offsets()) == 7185
    matplotlib.pyplot.close("all")


def test_loglik_blocks_are_the_pointwise_log_likelihood_bit_for_bit(hsb):
    y, groups, fits = hsb
    small = exact.no_pooling(y[:40], np.zeros(40), n_draws=30, seed=1)  # one group
    for post in (*fits.values(), small):
        keep = draw_index(post.n_draws, 1, 20)
        full = normal_logpdf(post._rows()[0], *observation_moments(post, keep))
        full = full.reshape(-1, full.shape[-1])
        seen = np.zeros(full.shape[1], dtype=int)
        for rows, ll in loglik_blocks(post, keep, block_bytes=8 * full.shape[0] * 333):
            assert ll.shape == (rows.stop - rows.start, full.shape[0])
            np.testing.assert_array_equal(ll, full[:, rows].T)
            seen[rows] += 1
        assert (seen == 1).all()


# ------------------------------------------------------------------ random matrices
def heavy_tailed(rng, s, n, df):
    """log p(y_i | draw s) with Student-t(df) scatter across draws: the smaller df, the
    heavier the tail of the importance ratios exp(-ll) (k-hat from below 0.5 to above 1)."""
    scale = rng.uniform(0.2, 3.0, n)
    return -0.5 * (rng.standard_t(df, (s, n)) * scale) ** 2 - rng.uniform(0, 5, n)


CASES = {
    "normal, 1000 draws": lambda rng: -0.5 * rng.standard_normal((1000, 60)) ** 2,
    "t3, 2000 draws": lambda rng: heavy_tailed(rng, 2000, 50, 3),
    "t1 (Cauchy), 400 draws": lambda rng: heavy_tailed(rng, 400, 80, 1),
    "t0.5, 4000 draws": lambda rng: heavy_tailed(rng, 4000, 20, 0.5),
    "a few draws (57)": lambda rng: heavy_tailed(rng, 57, 40, 2),
    "ten draws": lambda rng: heavy_tailed(rng, 10, 40, 2),
    "ties at the cutoff": lambda rng: np.round(heavy_tailed(rng, 600, 60, 4), 1),
    "two values only": lambda rng: rng.choice([-1.0, -3.0], size=(500, 30), p=[0.95, 0.05]),
    "weights beyond 1e308": lambda rng: heavy_tailed(rng, 800, 30, 1) * 1e3,
    "large log-likelihoods": lambda rng: heavy_tailed(rng, 1000, 30, 2) + 1e6,
}


@pytest.mark.parametrize("reff", [0.3, 1.0, 1.7])
@pytest.mark.parametrize("case", sorted(CASES))
def test_psis_equals_arviz_psislw_and_loo(case, reff):
    rng = np.random.default_rng(zlib.crc32(case.encode()))
    ll = CASES[case](rng)
    ours = _psis.psis_loo(ll, reff)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw, k = az.psislw(-ll.T, reff=reff)  # observations x draws
    # where ArviZ's Pareto fit is undefined (NaN log-weights: the test below), ours flags
    failed = np.isnan(lw).any(axis=1)
    assert np.isinf(ours.pareto_k[failed]).all() and np.isfinite(ours.elpd).all()
    ok = ~failed
    np.testing.assert_allclose(ours.pareto_k[ok], k[ok], rtol=0, atol=TOL)
    assert (np.isinf(ours.pareto_k[ok]) == np.isinf(k[ok])).all()
    elpd = logsumexp(lw + ll.T, axis=1)  # what az.loo sums, from ArviZ's weights
    np.testing.assert_allclose(ours.elpd[ok], elpd[ok], rtol=1e-12, atol=TOL)
    # and through az.loo itself (its reff from the posterior's ESS, as predictive.loo's)
    idata = idata_of(ll, 2 if ll.shape[0] % 2 == 0 else 1, seed=int(reff * 10))
    mine, ref = predictive.loo(idata), arviz_loo(idata)
    if np.isfinite(ref["elpd_loo"]):
        assert_same_loo(mine, ref)
    else:  # an undefined fit makes ArviZ's sum NaN; ours flags those observations
        assert np.isfinite(mine["elpd_loo"]) and mine["warning"]
        nan = np.isnan(ref["loo_i"].values)
        assert np.isinf(mine["pareto_k"].values[nan]).all()
        for key in ("loo_i", "pareto_k"):
            np.testing.assert_allclose(mine[key].values[~nan], ref[key].values[~nan], atol=TOL)


def test_a_tail_spanning_the_float_range_is_flagged_not_fitted():
    """One draw's ratio e^0 against the rest of the tail near e^-708 (seed 239 of the
    'large log-likelihoods' matrices, observation 0): no point of the Zhang-Stephens grid has
    a finite likelihood. ArviZ then averages over no weights: k-hat 5/(n + 10) = 0.26, which
    says "reliable", and NaN log-weights. Ours: k-hat = inf (flagged) and the raw weights'
    elpd, as for a tail too short to fit; every other observation as ArviZ."""
    ll = heavy_tailed(np.random.default_rng(239), 1000, 30, 2) + 1e6
    ours = _psis.psis_loo(ll, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lw, k = az.psislw(-ll.T, reff=1.0)
    bad = np.flatnonzero(np.isnan(lw).any(axis=1))
    assert bad.tolist() == [0] and 0 < k[0] < 0.3  # ArviZ's fit failed, and says k = 0.26
    assert np.isinf(ours.pareto_k[0])
    raw = np.log(ll.shape[0]) - logsumexp(-ll[:, 0])  # plain importance sampling
    np.testing.assert_allclose(ours.elpd[0], raw, rtol=1e-12)
    rest = np.arange(1, ll.shape[1])
    np.testing.assert_allclose(ours.pareto_k[rest], k[rest], rtol=0, atol=TOL)
    elpd = logsumexp(lw + ll.T, axis=1)
    np.testing.assert_allclose(ours.elpd[rest], elpd[rest], rtol=1e-12, atol=TOL)


def test_the_random_cases_reach_every_branch():
    """The cases above are not all alike: together they have k-hat below 0.5 and above 1,
    tails shorter than M (ties, a tiny cutoff), tails of 4 or fewer (k = inf) and none."""
    ks, short = [], 0
    for case, make in CASES.items():
        ll = make(np.random.default_rng(zlib.crc32(case.encode())))
        ks.append(_psis.psis_loo(ll, 1.0).pareto_k)
        x = -ll.T - (-ll.T).max(axis=1, keepdims=True)
        m = _psis.tail_length(ll.shape[0], 1.0)
        cut = np.maximum(np.sort(x, axis=1)[:, -m - 1], np.log(np.finfo(float).tiny))
        short += int(((x > cut[:, None]).sum(axis=1) < m).sum())
    k = np.concatenate(ks)
    assert (k[np.isfinite(k)] < 0.5).any() and (k[np.isfinite(k)] > 1).any()
    assert np.isinf(k).any() and short > 0


def test_blocks_do_not_change_the_answer(monkeypatch):
    ll = heavy_tailed(np.random.default_rng(5), 700, 101, 2)
    whole = _psis.psis_loo(ll, 0.8)
    monkeypatch.setattr(_psis, "BLOCK_BYTES", 8 * 700 * 7)  # 7 observations per block
    for a, b in zip(_psis.psis_loo(ll, 0.8), whole, strict=True):
        np.testing.assert_array_equal(a, b)


def test_one_chain_and_more_observation_dims():
    """reff = 1 for one chain (as az.loo); a log-likelihood over two observed dims keeps them."""
    rng = np.random.default_rng(8)
    ll = heavy_tailed(rng, 300, 12, 2)
    one_chain = idata_of(ll, 1)
    assert_same_loo(predictive.loo(one_chain), arviz_loo(one_chain))
    grid = az.from_dict(
        posterior={"a": rng.standard_normal((3, 100))},
        log_likelihood={"y": ll.reshape(3, 100, 3, 4)},
        dims={"y": ["row", "col"]},
        coords={"row": ["a", "b", "c"], "col": np.arange(4)},
    )
    ours = predictive.loo(grid)
    assert ours["loo_i"].dims == ("row", "col")
    assert_same_loo(ours, arviz_loo(grid))


def test_bad_input_is_refused_by_name(hsb):
    _, _, fits = hsb
    post = fits["model 1"]
    with pytest.raises(ValueError, match='engine must be "numpy" or "arviz"'):
        predictive.loo(post, engine="numba")
    with pytest.raises(ValueError, match="draws applies to a posterior"):
        predictive.loo(post.to_arviz(log_likelihood=True, draws=10), draws=10)
    with pytest.raises(ValueError, match="fit needs one log_likelihood variable.*got none"):
        predictive.loo(post.to_arviz(draws=10))
    with pytest.raises(ValueError, match="draws = 5000 is more than"):
        predictive.loo(post, draws=5000)
    with pytest.raises(ValueError, match="at least 2 draws"):
        _psis.psis_loo(np.zeros((1, 3)), 1.0)


def test_warm_up_compiles_the_kernels_a_loo_uses():
    # make setup runs it: a notebook's first LOO then loads every kernel from numba's cache
    # instead of compiling (seconds each for the threaded ones)
    _psis.warm_up()
    seen = {k: set(k.signatures) for k in (_psis._gpd_fit_rows, _psis._logsumexp_kernel)}
    assert all(seen.values())
    ll = np.random.default_rng(8).normal(size=(400, 50))
    _psis.psis_loo(ll, 0.9)
    assert {k: set(k.signatures) for k in seen} == seen  # nothing new was compiled
