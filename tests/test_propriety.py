"""hierlib.propriety: the integrated likelihood of tau2 and the tails of its posterior."""

import numpy as np
import pytest
from scipy import integrate

from hierlib import propriety
from hierlib.data import group_stats
from hierlib.marginal import marginal_loglik, simulate_two_level


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(630)
    y, groups = simulate_two_level(rng, [5, 8, 3, 6, 7, 4], mu=2.0, tau2=1.5, sigma2=2.0)
    return group_stats(y, groups)


@pytest.mark.parametrize("tau2", [0.0, 0.3, 1.5, 20.0])
def test_integrated_likelihood_matches_quadrature(small, tau2):
    sigma2 = 2.0
    peak = marginal_loglik(small, small.grand_mean, tau2, sigma2)
    value, _ = integrate.quad(
        lambda mu: np.exp(marginal_loglik(small, mu, tau2, sigma2) - peak), -30, 30, points=[2.0]
    )
    expected = peak + np.log(value)
    got = propriety.log_integrated_likelihood(small, [tau2], sigma2)[0]
    assert got == pytest.approx(expected, abs=1e-7)


def test_likelihood_has_a_positive_limit_at_zero_and_a_power_tail(small):
    m = small.m
    at = propriety.log_integrated_likelihood(small, [0.0, 1e-12, 1e6, 1e8], 2.0)
    assert at[1] == pytest.approx(at[0], abs=1e-9)
    # L(tau2) ~ c * tau2^{-(m-1)/2} for large tau2
    slope = (at[3] - at[2]) / (np.log(1e8) - np.log(1e6))
    assert slope == pytest.approx(-(m - 1) / 2, abs=1e-3)


def test_reference_tail_is_flat_and_flat_prior_tail_decays(small):
    u = np.array([-40.0, -30.0])
    ref = propriety.log_tau2_posterior_on_log_scale(small, u, 2.0, "reference")
    flat = propriety.log_tau2_posterior_on_log_scale(small, u, 2.0, "flat")
    assert ref[1] - ref[0] == pytest.approx(0.0, abs=1e-9)
    assert flat[1] - flat[0] == pytest.approx(10.0, abs=1e-9)


def test_bad_input(small):
    with pytest.raises(ValueError, match="prior must be one of"):
        propriety.log_tau2_posterior_on_log_scale(small, [0.0], 2.0, "jeffreys")
    with pytest.raises(ValueError, match="tau2"):
        propriety.log_integrated_likelihood(small, [-1.0], 2.0)
    with pytest.raises(ValueError, match="sigma2"):
        propriety.log_integrated_likelihood(small, [1.0], 0.0)


def test_tail_figure_levels_off_for_the_reference_prior(small):
    import matplotlib

    matplotlib.use("Agg")
    ax = propriety.plot_tau2_tails(small, sigma2=2.0)
    flat, ref = ax.get_lines()[:2]
    # relative to log L(0): the reference curve tends to 0, the flat one falls along u
    assert ref.get_ydata()[0] == pytest.approx(0.0, abs=1e-6)
    assert flat.get_ydata()[0] == pytest.approx(flat.get_xdata()[0], abs=1e-6)
    assert "log τ²" in ax.get_xlabel()
