"""The textbook numpy Gibbs loop: the same sweeps as :mod:`hierlib._kernels`, one vectorised
call per full conditional of :mod:`hierlib.conditionals`.

Private; reached through ``engine="numpy"`` in :mod:`hierlib.gibbs`. It is the reference the
compiled sweeps are checked against. Signatures match the compiled kernels, so the driver in
:mod:`hierlib.gibbs` does not care which it runs. (Draws differ from the compiled sweeps':
vectorised draws consume the stream in another order.) Its only loops are the sweeps and the
compiled slice updates, which are bounded; a slice update that cannot make progress raises the
same named ``ValueError`` as the compiled sweeps.
"""

from __future__ import annotations

import math

import numpy as np

from hierlib import conditionals as cond
from hierlib._kernels import (
    INTERWEAVED,
    LOG_NU0,
    LOG_TAU,
    LOG_TAU_HALF_CAUCHY,
    OFFSET,
    _tau_width,
    require_positive_sigma02,
    slice_step,
)
from hierlib.data import GroupStats


def _normal(rng: np.random.Generator, d: cond.Normal) -> np.ndarray | float:
    """One draw from each normal of ``d``."""
    z = rng.standard_normal(np.shape(d.mean))
    return d.mean + np.sqrt(d.var) * z


def _inverse_gamma(rng: np.random.Generator, g: cond.Gamma) -> np.ndarray | float:
    """One draw of the variance ``1/lambda`` for each precision ``lambda ~ g``."""
    return g.rate / rng.standard_gamma(g.shape)


def normal_sweeps(
    rng, param, n, ybar, ss, hyper, state, x, n_iter, start, keep, out, out_theta, acc
):
    """Model 1 sweeps (see :func:`hierlib._kernels.normal_sweeps` for the arguments and the
    scan order: theta or delta, sigma2, mu, tau2 [, interweaving steps])."""
    s = GroupStats(labels=np.arange(n.size), n=n, ybar=ybar, ss=ss)
    mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma, scale2 = hyper
    mu, sigma2, tau2, inv_a = state
    cauchy = scale2 > 0.0

    def redraw_aux(t2):
        """Under the half-Cauchy, 1/a | tau2 (the auxiliary precision)."""
        nonlocal inv_a
        g = cond.cauchy_aux_precision(t2, scale2)
        inv_a = float(rng.standard_gamma(g.shape) / g.rate)

    def draw_tau2(dev):
        """tau2 | dev (and, under the half-Cauchy, b_tau = 1/a; then 1/a | tau2)."""
        if not cauchy:
            return float(_inverse_gamma(rng, cond.tau_precision(dev, a_tau, b_tau)))
        t2 = float(_inverse_gamma(rng, cond.tau_precision(dev, a_tau, inv_a)))
        redraw_aux(t2)
        return t2

    for it in range(n_iter):
        if param == OFFSET:
            x[:] = _normal(rng, cond.delta_offset(s, mu, sigma2, tau2))
            g = cond.sigma_precision(s, mu + x, a_sigma, b_sigma)
            sigma2 = float(_inverse_gamma(rng, g))
            mu = float(_normal(rng, cond.mu_offset(s, x, sigma2, mu0, mu_prec0)))
            tau2 = draw_tau2(x)
            theta = mu + x
        else:
            x[:] = _normal(rng, cond.theta_centered(s, mu, sigma2, tau2))
            sigma2 = float(_inverse_gamma(rng, cond.sigma_precision(s, x, a_sigma, b_sigma)))
            mu = float(_normal(rng, cond.mu_centered(x, tau2, mu0, mu_prec0)))
            tau2 = draw_tau2(x - mu)
            if param == INTERWEAVED:
                delta = x - mu
                mu = float(_normal(rng, cond.mu_offset(s, delta, sigma2, mu0, mu_prec0)))
                tau = math.sqrt(tau2)
                eta = delta / tau
                c0, c1 = n @ eta**2 / sigma2, n @ (eta * (ybar - mu)) / sigma2
                kind = LOG_TAU_HALF_CAUCHY if cauchy else LOG_TAU
                c = np.array([c0, c1, scale2, 0.0] if cauchy else [c0, c1, a_tau, b_tau])
                log_tau = slice_step(rng, kind, math.log(tau), c, _tau_width(c))
                tau = math.exp(log_tau)
                x[:] = mu + tau * eta
                tau2 = tau * tau
                if cauchy:  # the step used the half-Cauchy density (a out): redraw a | tau2
                    redraw_aux(tau2)
            theta = x
        if start >= 0:
            out[start + it] = mu, sigma2, tau2
            out_theta[start + it] = theta[keep]
            acc[0] += theta - ybar
            acc[1] += (theta - ybar) ** 2
    state[:] = mu, sigma2, tau2, inv_a


def unequal_sweeps(
    rng, n, ybar, ss, hyper, state, theta, phi, n_iter, start, keep, out, out_theta, out_s2, acc
):
    """Model 2 sweeps (see :func:`hierlib._kernels.unequal_sweeps` for the arguments)."""
    s = GroupStats(labels=np.arange(n.size), n=n, ybar=ybar, ss=ss)
    mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate = hyper
    mu, tau2, sigma02, nu0 = state
    for it in range(n_iter):
        theta[:] = _normal(rng, cond.theta_unequal(s, mu, 1.0 / phi, tau2))
        phi[:] = 1.0 / _inverse_gamma(rng, cond.sigma_j_precision(s, theta, nu0, sigma02))
        mu = float(_normal(rng, cond.mu_centered(theta, tau2, mu0, mu_prec0)))
        tau2 = float(_inverse_gamma(rng, cond.tau_precision(theta - mu, a_tau, b_tau)))
        g = cond.sigma02_conditional(1.0 / phi, nu0, a_s0, b_s0)
        sigma02 = float(rng.standard_gamma(g.shape) / g.rate)
        c = np.array([n.size, sigma02, np.log(phi).sum(), phi.sum(), nu0_shape, nu0_rate])
        require_positive_sigma02(sigma02)
        log_nu0 = slice_step(rng, LOG_NU0, math.log(nu0), c, 1.0)
        nu0 = math.exp(log_nu0)
        if start >= 0:
            out[start + it] = mu, tau2, sigma02, nu0
            out_theta[start + it] = theta[keep]
            out_s2[start + it] = 1.0 / phi[keep]
            d, e = theta - ybar, 1.0 / phi - ss / (n - 1.0)
            acc += np.stack([d, d * d, e, e * e])
    state[:] = mu, tau2, sigma02, nu0
