"""Property-based tests (Hypothesis) of the exact posteriors: every exact density is
normalised and its grid's ends carry no mass; every exact summary moves with the data
(shift y by s and scale it by c from 1e-150 to 1e150: tau scales by c, mu moves to c mu + s,
sigma2 scales by c^2); tau_summary's intervals widen with prob."""

from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_properties import FAST, call, datasets, finite

from hierlib import exact, priors

INVARIANCE = settings(FAST, max_examples=15)


def base_data(seed: int, m: int):
    """m groups of 3..6 scores with unit spread within and a random spread between."""
    rng = np.random.default_rng(seed)
    sizes = rng.integers(3, 7, size=m)
    groups = np.repeat(np.arange(m), sizes)
    between = 10.0 ** rng.uniform(-6, 1)
    y = between * rng.standard_normal(m)[groups] + rng.standard_normal(groups.size)
    return y, groups


def scaled_prior(kind: str, c: float, s: float):
    """The same prior on the scale of c y + s."""
    if kind == "flat":
        return None
    if kind == "uniform tau":
        return priors.Default(tau2="uniform-tau")
    if kind == "half-Cauchy":
        return priors.HalfCauchy(scale=0.5 * c)
    if kind == "tiny half-Cauchy":
        return priors.HalfCauchy(scale=1e-7 * c)
    return priors.SemiConjugate(mu0=s, g20=4 * c**2, eta0=2, t20=c**2, nu0=1, s20=c**2)


KINDS = ["flat", "uniform tau", "half-Cauchy", "tiny half-Cauchy", "semi-conjugate"]


@lru_cache(maxsize=64)
def base_summary(seed: int, m: int, kind: str):
    y, g = base_data(seed, m)
    return exact.tau_summary(exact.marginal_tau2(y, g, scaled_prior(kind, 1.0, 0.0)))


@INVARIANCE
@given(
    st.integers(0, 3),
    st.integers(5, 8),
    st.sampled_from(KINDS),
    st.integers(-150, 150),
    st.floats(-1e3, 1e3),
)
def test_tau_summary_scales_with_y(seed, m, kind, power, shift):
    c = 10.0**power
    y, g = base_data(seed, m)
    s = shift * c
    got = exact.tau_summary(exact.marginal_tau2(c * y + s, g, scaled_prior(kind, c, s)))
    want = base_summary(seed, m, kind)
    for key in ("mean", "lower", "upper"):
        assert got[key] / c == pytest.approx(want[key], rel=1e-4), key


@INVARIANCE
@given(
    st.integers(0, 3),
    st.integers(5, 8),
    st.sampled_from(KINDS),
    st.floats(0.01, 0.98),
    st.floats(0.01, 0.98),
)
def test_intervals_widen_with_prob(seed, m, kind, p, q):
    y, g = base_data(seed, m)
    table = exact.marginal_tau2(y, g, scaled_prior(kind, 1.0, 0.0))
    small, large = (exact.tau_summary(table, x) for x in sorted((p, q)))
    assert 0 < large["lower"] <= small["lower"] <= small["upper"] <= large["upper"]


PRIORS = [None, priors.Default(tau2="uniform-tau"), priors.HalfCauchy(scale=2.0)]


@settings(FAST, max_examples=25)
@given(datasets(), st.sampled_from(PRIORS))
def test_marginal_tau2_is_normalised_with_empty_ends(data, prior):
    table = call(exact.marginal_tau2, *data, prior, 401)
    if table is None:
        return
    tau2, dens = table["tau2"].to_numpy(), table["density"].to_numpy()
    assert np.trapezoid(dens, tau2) == pytest.approx(1.0, abs=1e-9)
    per_log_tau = 2.0 * tau2 * dens  # tau p(tau) = 2 tau^2 p(tau^2)
    log_tau = np.log(table["tau"].to_numpy())
    # the same normalisation by the trapezoid rule in log tau: O(h^2) apart
    assert np.trapezoid(per_log_tau, log_tau) == pytest.approx(1.0, rel=2e-2)
    top = per_log_tau.max()
    assert max(per_log_tau[0], per_log_tau[-1]) < 2 * exact.TAU_TAIL * top


@settings(FAST, max_examples=20)
@given(
    st.integers(0, 3),
    st.integers(2, 8),
    st.integers(-150, 150),
    st.floats(-1e3, 1e3),
    st.sampled_from([exact.complete_pooling, exact.no_pooling]),
)
def test_pooling_posteriors_move_with_y(seed, m, power, shift, fit):
    c = 10.0**power
    y, g = base_data(seed, m)
    base = fit(y, g, n_draws=50, n_chains=2, seed=3)
    moved = call(fit, c * y + shift * c, g, 50, 2, 3)
    if moved is None:  # refused: must be beyond the samplers' range of scales
        assert abs(power) > 140
        return
    assert finite(*moved.draws.values())
    np.testing.assert_allclose(moved.draws["sigma2"] / c**2, base.draws["sigma2"], rtol=1e-9)
    key = "mu" if "mu" in base.draws else "theta"
    np.testing.assert_allclose(
        (moved.draws[key] - shift * c) / c, base.draws[key], rtol=1e-6, atol=1e-9
    )
