"""hierlib.textbook: the readable numpy sampler targets the same posterior as the compiled one."""

import numpy as np
import pytest

from hierlib import diagnostics, gibbs, priors, textbook
from hierlib.data import group_stats
from hierlib.marginal import simulate_two_level


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(20)
    sizes = rng.integers(3, 12, size=12)
    return simulate_two_level(rng, sizes, mu=5.0, tau2=4.0, sigma2=9.0)


def test_textbook_and_compiled_samplers_agree_within_monte_carlo_error(data):
    y, groups = data
    names = ["mu", "sigma2", "tau2", "theta"]
    tb = diagnostics.summary_table(
        textbook.run_chains(group_stats(y, groups), n_draws=4000, n_warmup=500, seed=3), names
    )
    post = gibbs.hierarchical_normal(y, groups, n_draws=4000, n_warmup=500, seed=4)
    nb = diagnostics.summary_table(post, names)
    assert (tb["r_hat"] < 1.01).all() and (tb["ess_bulk"] > 800).all()
    # two independent estimates of each posterior mean: the difference has sd
    # sqrt(mcse_1^2 + mcse_2^2); 4.5 of them is a false alarm below 1e-5 per row (16 rows)
    z = (tb["mean"] - nb["mean"]) / np.hypot(tb["mcse_mean"], nb["mcse_mean"])
    assert (z.abs() < 4.5).all(), z.round(2).to_dict()
    # the posterior sds agree too (within 10%: ESS of several thousand)
    assert np.allclose(tb["sd"], nb["sd"], rtol=0.1)


def test_the_agreement_test_could_fail(data):
    """A sampler with the reference-prior tau2 step (shape m/2) is caught by the same test."""
    y, groups = data
    stats = group_stats(y, groups)
    # a nearly flat semi-conjugate prior with eta0 -> 0 is p(tau2) ∝ 1/tau2: shape m/2
    post = gibbs.hierarchical_normal(
        y, groups, prior=priors.SemiConjugate(mu0=0, g20=1e8, eta0=2e-8, t20=1.0, nu0=1e-8,
                                              s20=1.0),
        n_draws=4000, n_warmup=500, seed=4,
    )  # fmt: skip
    tb = diagnostics.summary_table(textbook.run_chains(stats, n_draws=4000, seed=3), ["tau2"])
    nb = diagnostics.summary_table(post, ["tau2"])
    z = (tb["mean"] - nb["mean"]) / np.hypot(tb["mcse_mean"], nb["mcse_mean"])
    assert (z.abs() > 4.5).all()


def test_one_chain_returns_every_sweep_and_is_reproducible(data):
    stats = group_stats(*data)
    a = textbook.gibbs_sampler(stats, 50, np.random.default_rng(1))
    b = textbook.gibbs_sampler(stats, 50, np.random.default_rng(1))
    assert a["theta"].shape == (50, stats.m) and a["mu"].shape == (50,)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
    assert (a["sigma2"] > 0).all() and (a["tau2"] > 0).all()


def test_run_chains_shapes_and_bad_input(data):
    stats = group_stats(*data)
    out = textbook.run_chains(stats, n_draws=30, n_warmup=5, n_chains=2, seed=0)
    assert out["theta"].shape == (2, 30, stats.m) and out["tau"].shape == (2, 30)
    np.testing.assert_allclose(out["tau"] ** 2, out["tau2"])
    with pytest.raises(ValueError, match="n_draws"):
        textbook.run_chains(stats, n_draws=0)
    with pytest.raises(TypeError, match="GroupStats"):
        textbook.run_chains(data, n_draws=10)
    few = group_stats([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], [0, 0, 1, 1, 2, 2])
    with pytest.raises(ValueError, match="at least 4 groups"):
        textbook.run_chains(few, n_draws=10)
    flat = group_stats([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0], [0, 0, 1, 1, 2, 2, 3, 3])
    with pytest.raises(ValueError, match="no spread"):
        textbook.run_chains(flat, n_draws=10)
