"""Simulation-based calibration: the harness has power, and every course sampler passes it.

The first tests (fast, unmarked) check the harness itself on a model whose posterior is known
exactly: theta ~ N(0, 1), y_1..y_5 | theta ~ N(theta, 1), so
theta | y ~ N(sum(y) / 6, 1 / 6). Exact draws pass; a posterior that is too narrow, shifted, or
autocorrelated and not thinned fails.

The tests marked ``sbc`` run the harness on every model and parameterisation of
hierlib.gibbs (>= 200 replications each, fixed seeds); CI runs them.
"""

import functools

import numpy as np
import pytest
from scipy.signal import lfilter

from hierlib import priors, sbc

N_OBS = 5
ALPHA = 0.01


def conjugate_prior(rng):
    return {"theta": rng.standard_normal(), "v": rng.standard_normal(3)}


def conjugate_simulate(rng, params):
    return params["theta"] + rng.standard_normal(N_OBS)


def exact_fit(y, seed, *, sd_factor=1.0, shift_sd=0.0, n=99):
    """iid draws from theta | y (optionally too narrow or shifted); 'v' has no data."""
    rng = np.random.default_rng(seed)
    mean, sd = y.sum() / (N_OBS + 1), np.sqrt(1.0 / (N_OBS + 1))
    theta = mean + shift_sd * sd + sd_factor * sd * rng.standard_normal(n)
    return {"theta": theta, "v": rng.standard_normal((n, 3))}


def ar1_fit(y, seed, *, phi=0.95, n=99):
    """A correct but sticky 'MCMC': a stationary AR(1) chain with the exact marginal."""
    rng = np.random.default_rng(seed)
    mean, sd = y.sum() / (N_OBS + 1), np.sqrt(1.0 / (N_OBS + 1))
    e = rng.standard_normal(n) * np.sqrt(1 - phi**2)
    z = lfilter([1.0], [1.0, -phi], e, zi=[phi * rng.standard_normal()])[0]
    return {"theta": mean + sd * z}


def run_conjugate(fit, quantities=("theta",), n_reps=500, seed=11):
    return sbc.run_sbc(
        conjugate_prior, conjugate_simulate, fit, list(quantities), n_reps=n_reps, seed=seed
    )


# ----------------------------------------------------------------------------- the harness
def test_exact_posterior_passes():
    result = run_conjugate(exact_fit, quantities=("theta", "v[2]"))
    table = result.test()
    assert result.n_reps == 500
    assert (table["p_value"] > ALPHA).all(), table
    assert result.ranks.to_numpy().min() >= 0 and result.ranks.to_numpy().max() <= 99


def test_too_narrow_posterior_fails():
    # A posterior sd 30% too small (e.g. a precision doubled by a missing factor 1/2 gives
    # 1/sqrt(2) = 0.71): the truth falls outside the draws too often -> U-shaped ranks.
    result = run_conjugate(functools.partial(exact_fit, sd_factor=0.7))
    table = result.test()
    assert table.loc["theta", "p_value"] < 1e-4
    counts = sbc.bin_counts(result.ranks["theta"], 99, 10)
    assert counts[0] + counts[-1] > 2 * 500 / 10  # the U shape: both end bins overfull


def test_too_wide_posterior_fails():
    result = run_conjugate(functools.partial(exact_fit, sd_factor=1.5))
    assert result.test().loc["theta", "p_value"] < 1e-4


def test_shifted_posterior_fails():
    result = run_conjugate(functools.partial(exact_fit, shift_sd=0.5))
    assert result.test().loc["theta", "p_value"] < 1e-4
    # draws too high -> the truth ranks low
    assert result.ranks["theta"].mean() < 0.4 * 99


def test_autocorrelated_draws_need_thinning():
    # The right marginal, but 99 strongly autocorrelated draws are not 99 independent ones:
    # SBC rejects them unthinned and accepts them thinned to nearly independent draws.
    sticky = run_conjugate(functools.partial(ar1_fit, n=99))
    assert sticky.test().loc["theta", "p_value"] < 1e-4
    thinned = run_conjugate(functools.partial(ar1_fit, n=99 * 60))
    assert thinned.test().loc["theta", "p_value"] > ALPHA


def test_same_seed_same_ranks_and_ess_recorded():
    a = run_conjugate(exact_fit, n_reps=30, seed=3)
    b = run_conjugate(exact_fit, n_reps=30, seed=3)
    c = run_conjugate(exact_fit, n_reps=30, seed=4)
    assert a.ranks.equals(b.ranks)
    assert not a.ranks.equals(c.ranks)
    d = sbc.run_sbc(
        conjugate_prior, conjugate_simulate, exact_fit, ["theta"], n_reps=20, check_ess=True
    )
    assert d.test().loc["theta", "ess_over_L"] == pytest.approx(1.0, abs=0.25)


def test_chi2_uniformity_by_hand():
    # 20 ranks per bin exactly -> X^2 = 0, p = 1
    ranks = np.repeat(np.arange(0, 100, 10), 20)
    stat, p = sbc.chi2_uniformity(ranks, 99, 10)
    assert stat == 0.0 and p == pytest.approx(1.0)
    # all 200 in one bin -> X^2 = (180^2 + 9 * 20^2) / 20 = 1800
    stat, p = sbc.chi2_uniformity(np.zeros(200, dtype=int), 99, 10)
    assert stat == pytest.approx(1800.0)
    assert p < 1e-300 or p == 0.0


def test_thin_and_rank():
    draws = np.arange(1000.0).reshape(2, 500)
    kept = sbc.thin(draws, 10)
    np.testing.assert_array_equal(kept, np.arange(50.0, 1000.0, 100.0))
    assert sbc.rank_of(3.5, [1.0, 2.0, 3.0, 4.0]) == 3
    assert sbc.rank_of(0.0, [1.0, 2.0]) == 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: sbc.chi2_uniformity([1, 2, 3], 98, 10), "multiple of n_bins"),
        (lambda: sbc.chi2_uniformity([1, 2, 300], 99, 10), "ranks must be integers"),
        (lambda: sbc.thin(np.ones(5), 10), "cannot keep"),
        (lambda: sbc.rank_of(np.nan, [1.0]), "finite"),
        (lambda: sbc.rank_of(0.0, [np.nan]), "NaN"),
        (lambda: run_conjugate(exact_fit, quantities=("nope",), n_reps=2), "has no 'nope'"),
        (lambda: run_conjugate(exact_fit, quantities=("th eta",), n_reps=2), "name\\[index\\]"),
        (lambda: run_conjugate(exact_fit, quantities=(), n_reps=2), "non-empty"),
        (lambda: run_conjugate(exact_fit, n_reps=1), "n_reps"),
        (lambda: sbc.gibbs_sbc(prior=priors.Default(), n_reps=2), "improper"),
        (lambda: sbc.gibbs_sbc(group_sizes=[5], n_reps=2), "at least two"),
        (lambda: sbc.gibbs_sbc("pooled", n_reps=2), "model must be one of"),
    ],
)
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ----------------------------------------------------------------------------- the samplers
# Proper priors (SBC needs prior draws): sbc.NORMAL_PRIOR and sbc.UNEQUAL_PRIOR, on 6 small
# groups of 3-10 observations.
SEED = 630
N_REPS = 1000
N_BINS = 20
# Sweeps between kept draws, so the 99 kept draws are nearly independent (checked below by
# their ESS). The offset form needs far more: mu and delta are strongly correlated a
# posteriori when the data are informative, and mu then moves slowly.
THIN = {"centered": 10, "interweaved": 10, "offset": 200}


def assert_calibrated(result, quantities, label):
    table = result.test()
    print(f"\n{label}: {result.n_reps} replications in {result.seconds:.1f} s\n{table.round(3)}")
    assert result.n_reps >= 200
    assert list(table.index) == list(quantities)
    assert (table["p_value"] > ALPHA).all(), table
    # the thinning left roughly independent draws (ESS of 99 iid draws scatters around 99)
    assert (table["ess_over_L"] > 0.85).all(), table


@pytest.mark.sbc
@pytest.mark.parametrize("parameterization", ["centered", "offset", "interweaved"])
def test_hierarchical_normal_is_calibrated(parameterization):
    result = sbc.gibbs_sbc(
        "hierarchical_normal",
        parameterization=parameterization,
        n_reps=N_REPS,
        n_bins=N_BINS,
        thin_by=THIN[parameterization],
        seed=SEED,
        check_ess=True,
    )
    assert_calibrated(result, ["mu", "tau2", "sigma2", "theta[0]"], parameterization)


@pytest.mark.sbc
def test_unequal_variances_is_calibrated():
    result = sbc.gibbs_sbc(
        "unequal_variances", n_reps=N_REPS, n_bins=N_BINS, thin_by=10, seed=SEED, check_ess=True
    )
    quantities = ["mu", "tau2", "nu0", "sigma02", "theta[0]", "sigma2_j[0]"]
    assert_calibrated(result, quantities, "unequal variances")


def test_rank_histogram_plot_is_labelled():
    import matplotlib

    matplotlib.use("Agg")
    result = run_conjugate(exact_fit, quantities=("theta", "v[0]"), n_reps=100)
    axes = result.plot()
    assert len(axes) == 2
    assert axes[0].get_xlabel() == "rank of true value among L = 99"
    assert axes[0].get_ylabel() == "replications"
    assert axes[0].get_title().startswith("theta: p = ")
    assert sum(bar.get_height() for bar in axes[0].containers[0]) == 100


@pytest.mark.sbc
def test_offset_needs_the_extra_thinning():
    # Unthinned, the offset sampler's 99 consecutive draws of mu are worth about 10
    # independent ones on these data sets: ranks against them would not be valid.
    result = sbc.gibbs_sbc(
        "hierarchical_normal",
        parameterization="offset",
        thin_by=1,
        n_reps=200,
        seed=SEED,
        check_ess=True,
    )
    assert result.test().loc["mu", "ess_over_L"] < 0.3
