"""Numerical invariances: shifting y by a constant moves only mu and theta; scaling y by c
multiplies mu and theta by c and every variance by c^2. Exact in the mathematics (the default
priors are flat in mu and tau2 and scale-free in sigma2, sigma02), so the computed answers
must agree to rounding: in REML and in every sampler (both engines, all parameterisations).

For the samplers the same seed gives the same path: with y -> a + c y every full conditional
is the image of the old one (Gamma shapes do not change, rates scale by c^2; the slice
updates of log tau and log nu0 are translated), so draw s of the new run is the image of
draw s of the old run up to rounding.
"""

import numpy as np
import pytest

from hierlib import gibbs, reml, shrinkage
from hierlib.data import group_stats
from hierlib.marginal import simulate_two_level

RNG = np.random.default_rng(630)
Y, G = simulate_two_level(RNG, RNG.integers(5, 25, size=30), 12.0, 9.0, 36.0)
SHIFT, SCALES = 1e6, (1e-3, 1e4)
RUN = {"n_draws": 300, "n_warmup": 100, "n_chains": 2, "seed": 11, "progress": False}

VARIANCES = {"sigma2", "tau2", "sigma02", "sigma2_j"}
LOCATIONS = {"mu", "theta"}


def test_reml_closed_form_is_shift_and_scale_equivariant():
    tau2, sigma2, _ = reml.maximize_profile(group_stats(Y, G))
    t_shift, s_shift, _ = reml.maximize_profile(group_stats(Y + SHIFT, G))
    assert (t_shift, s_shift) == pytest.approx((tau2, sigma2), rel=1e-6)
    for c in SCALES:
        t_c, s_c, _ = reml.maximize_profile(group_stats(c * Y, G))
        assert (t_c, s_c) == pytest.approx((c**2 * tau2, c**2 * sigma2), rel=1e-6)


def test_means_given_tau_are_shift_and_scale_equivariant():
    st = group_stats(Y, G)
    s2_j = np.where(st.s2 > 0, st.s2, 36.0)  # a variance per group, as model 2's
    for sigma2 in (36.0, s2_j):
        mu, theta = shrinkage.means_given_tau(st.ybar, st.n, 9.0, sigma2)
        mu_s, theta_s = shrinkage.means_given_tau(st.ybar + SHIFT, st.n, 9.0, sigma2)
        assert mu_s - SHIFT == pytest.approx(mu, abs=1e-6)
        np.testing.assert_allclose(theta_s - SHIFT, theta, atol=1e-6)
        for c in SCALES:
            mu_c, theta_c = shrinkage.means_given_tau(
                c * st.ybar, st.n, c**2 * 9.0, c**2 * np.asarray(sigma2)
            )
            assert mu_c == pytest.approx(c * mu, rel=1e-12)
            np.testing.assert_allclose(theta_c, c * theta, rtol=1e-12)


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_mixedlm_fit_is_shift_and_scale_equivariant(method):
    ref = reml.fit_random_intercept(Y, G, method)
    shifted = reml.fit_random_intercept(Y + SHIFT, G, method)
    assert shifted.mu_hat - SHIFT == pytest.approx(ref.mu_hat, abs=1e-6 * SHIFT * 1e-3)
    assert (shifted.tau2, shifted.sigma2) == pytest.approx((ref.tau2, ref.sigma2), rel=1e-4)
    np.testing.assert_allclose(shifted.random_effects, ref.random_effects, atol=1e-4)
    for c in SCALES:
        fit = reml.fit_random_intercept(c * Y, G, method)
        assert fit.converged
        assert fit.mu_hat == pytest.approx(c * ref.mu_hat, rel=1e-6)
        assert (fit.tau2, fit.sigma2) == pytest.approx(
            (c**2 * ref.tau2, c**2 * ref.sigma2), rel=1e-4
        )
        np.testing.assert_allclose(
            fit.random_effects, c * ref.random_effects, rtol=1e-3, atol=1e-6 * c
        )
        n_fixed = 1 if method == "REML" else 0  # the likelihood of a density in c*y units
        assert fit.loglik == pytest.approx(ref.loglik - (Y.size - n_fixed) * np.log(c), rel=1e-7)


SAMPLERS = [
    (gibbs.hierarchical_normal, {"parameterization": p, "engine": e})
    for p in ("centered", "offset", "interweaved")
    for e in ("numba", "numpy")
] + [(gibbs.unequal_variances, {"engine": e}) for e in ("numba", "numpy")]


def _check_image(new, old, shift: float, scale: float, rtol: float) -> None:
    """``new`` draws = image of ``old`` draws under y -> shift + scale * y."""
    for name, before in old.draws.items():
        after = new.draws[name]
        if name in VARIANCES:
            expected = scale**2 * before
        elif name in LOCATIONS:
            expected = shift + scale * before
        else:  # nu0: scale-free
            expected = before
        spread = scale * np.sqrt(np.mean(old.draws["tau2"]))  # the scale of a location
        atol = rtol * spread if name in LOCATIONS else 0.0
        np.testing.assert_allclose(after, expected, rtol=rtol, atol=atol, err_msg=name)
    np.testing.assert_allclose(new.theta_mean, shift + scale * old.theta_mean, rtol=rtol)


@pytest.mark.parametrize(("sampler", "options"), SAMPLERS)
def test_sampler_is_shift_and_scale_equivariant(sampler, options):
    ref = sampler(Y, G, **RUN, **options)
    _check_image(sampler(Y + SHIFT, G, **RUN, **options), ref, SHIFT, 1.0, rtol=1e-6)
    for c in SCALES:
        _check_image(sampler(c * Y, G, **RUN, **options), ref, 0.0, c, rtol=1e-6)
