"""The checks' statistics, quickly: each test's p-value is uniform under the exact law (so the
Bonferroni bound on false alarms holds), and a 5% error is caught as often as the docstrings
say. The full measurement (thousands of runs) is benchmarks/check_power.py; this runs the same
simulation code with a few hundred."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import check_power  # noqa: E402

from hierlib import checks, priors  # noqa: E402


def _rejection_rates(raw: np.ndarray, level: float) -> np.ndarray:
    return (raw < level).mean(axis=0)


@pytest.mark.parametrize("name, sims", [("theta", 150), ("mu", 400), ("tau2", 400)])
def test_update_p_values_are_uniform_under_the_exact_law(name, sims):
    rng = np.random.default_rng(20)
    prior = checks._as_prior(None)
    raw = []
    for _ in range(sims):
        _, pv = check_power._family_rejects(name, prior, rng)
        raw.append(np.concatenate([np.atleast_1d(v) for q in pv for v in q.values()]))
    raw = np.array(raw)
    for level in (0.05, 0.2):
        rates = _rejection_rates(raw, level)
        sd = np.sqrt(level * (1 - level) / sims)
        assert rates.max() < level + 4.5 * sd, (level, rates)  # no test too liberal
        assert abs(rates.mean() - level) < 4 * sd, (level, rates.mean())


def test_a_location_error_of_005_sd_in_one_school_is_caught():
    rng = np.random.default_rng(21)
    prior = checks._as_prior(None)
    hits = sum(
        check_power._family_rejects("theta", prior, rng, (None, "shift_one", 0.05))[0]
        for _ in range(50)
    )
    assert hits >= 47  # power 0.995 (docstring): 46 or fewer has probability below 2e-4


def test_sampler_p_values_are_uniform_for_a_correct_sampler():
    rng = np.random.default_rng(22)
    target = checks._marginals(priors.Default())
    sims, c = 100, checks.N_CHAINS
    draws = check_power.batched_gibbs(
        checks.SAMPLER_STATS, priors.Default(), checks.N_SWEEPS, rng, sims * c
    )
    draws = draws.reshape(sims, c, checks.N_SWEEPS, 3)[:, :, checks.N_WARMUP :]
    raw = np.array([check_power._sampler_rejects(d, target)[1] for d in draws])
    for level in (0.05, 0.2):
        rates = _rejection_rates(raw, level)
        sd = np.sqrt(level * (1 - level) / sims)
        assert rates.max() < level + 4.5 * sd, (level, rates)
        assert abs(rates.mean() - level) < 4 * sd, (level, rates.mean())


def test_a_sampler_with_a_wrong_tau2_shape_is_always_caught():
    rng = np.random.default_rng(23)
    target = checks._marginals(priors.Default())
    sims, c = 20, checks.N_CHAINS
    draws = check_power.batched_gibbs(
        checks.SAMPLER_STATS, priors.Default(), checks.N_SWEEPS, rng, sims * c, "tau2 shape m/2"
    )
    draws = draws.reshape(sims, c, checks.N_SWEEPS, 3)[:, :, checks.N_WARMUP :]
    assert all(check_power._sampler_rejects(d, target)[0] for d in draws)
