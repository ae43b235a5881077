"""Model 2, unequal variances: its prepare step, its sweeps (compiled and numpy) and its
posterior, behind :func:`hierlib.gibbs.unequal_variances`.

:math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)`, :math:`\\theta_j \\sim N(\\mu, \\tau^2)`, with
:math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` and :math:`\\nu_0`
sampled by an exact slice-sampling step on :math:`\\log\\nu_0` (centered parameterisation).

:func:`sweeps` is the compiled sweep (each line one full conditional of
:mod:`hierlib.conditionals`, O(m) per sweep on the group sufficient statistics), and
:func:`numpy_sweeps` the textbook vectorised loop with the same signature (``engine="numpy"``).
The chains are run by :mod:`hierlib.samplers._chains`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from hierlib import conditionals as cond
from hierlib.data import GroupStats
from hierlib.priors import UnequalVariances
from hierlib.samplers import _chains, _inputs
from hierlib.samplers._kernels import (
    LOG_NU0,
    draw_inverse_gamma,
    draw_normal,
    inverse_gamma,
    njit,
    normal,
    slice_step,
    standard_gamma,
)
from hierlib.samplers._posterior import Posterior, warn_infinite_means

MIN_SIZE_FOR = "the unequal-variances model (sigma_j^2 per group)"


# ----------------------------------------------------------------- the compiled sweep
@njit(cache=True, nogil=True)
def require_positive_sigma02(sigma02):
    """Raise a ``ValueError`` naming sigma02 when its draw underflowed to 0."""
    if not sigma02 > 0.0:
        raise ValueError(
            "sigma02 underflowed to 0: its full conditional has almost no mass away from 0 "
            "(nu0 near 0, e.g. a nu0 prior with tiny shape / huge rate, or groups with no "
            "spread)"
        )


@njit(cache=True, nogil=True)
def sweeps(
    rng, n, ybar, ss, hyper, state, theta, phi, n_iter, start, keep, out, out_theta, out_s2, acc,
    unit,
):  # fmt: skip
    """Run ``n_iter`` sweeps of model 2 (unequal variances, centered).

    ``state = [mu, tau2, sigma02, nu0]``; ``theta`` and ``phi`` (= 1/sigma_j^2) are updated in
    place. ``hyper = (mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate)``. Rows of
    ``out``: mu, tau2, sigma02, nu0; ``out_theta``/``out_s2`` hold the kept groups; ``acc``
    accumulates theta - ybar and (sigma_j^2 - ss_j/(n_j-1)) * unit (sums and sums of squares;
    ``unit``, a power of two near 1/sigma_j^2, keeps the squares inside floating point and
    scales them exactly).
    """
    m = n.size
    mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate = hyper
    mu, tau2, sigma02, nu0 = state[0], state[1], state[2], state[3]
    c = np.empty(6)
    for it in range(n_iter):
        # Given (mu, tau2, nu0, sigma02) the pairs (theta_j, phi_j) are independent across
        # groups, so one pass updates theta_j and then phi_j = 1/sigma_j^2 for each j.
        inv_t2 = 1.0 / tau2
        s = 0.0
        sum_phi = 0.0
        sum_log_phi = 0.0
        for j in range(m):
            # theta_j | mu, sigma_j^2, tau2 ~ N((n_j ybar_j phi_j + mu/tau2)/P_j, 1/P_j),
            #     P_j = n_j phi_j + 1/tau2
            theta[j] = normal(rng, n[j] * ybar[j] * phi[j] + mu * inv_t2, n[j] * phi[j] + inv_t2)
            s += theta[j]
            # phi_j | theta_j, nu0, sigma02 ~
            #     Gamma((nu0 + n_j)/2, (nu0 sigma02 + SS_j + n_j (ybar_j - theta_j)^2)/2)
            rate = 0.5 * (nu0 * sigma02 + ss[j] + n[j] * (ybar[j] - theta[j]) ** 2)
            phi[j] = standard_gamma(rng, 0.5 * (nu0 + n[j])) / rate  # a precision: Gamma draw
            sum_phi += phi[j]
            sum_log_phi += math.log(phi[j])
        # mu | theta, tau2 ~ N((sum theta_j/tau2 + p0 mu0)/P, 1/P)
        prec = m * inv_t2 + mu_prec0
        mu = normal(rng, s * inv_t2 + mu_prec0 * mu0, prec)
        # 1/tau2 | theta, mu ~ Gamma(a_tau + m/2, b_tau + sum (theta_j - mu)^2 / 2)
        q = 0.0
        for j in range(m):
            q += (theta[j] - mu) ** 2
        tau2 = inverse_gamma(rng, a_tau + 0.5 * m, b_tau + 0.5 * q)
        # sigma02 | phi, nu0 ~ Gamma(a_s0 + m nu0/2, b_s0 + nu0 sum phi_j / 2)  (sigma02 itself)
        sigma02 = standard_gamma(rng, a_s0 + 0.5 * m * nu0) / (b_s0 + 0.5 * nu0 * sum_phi)
        # nu0 | phi, sigma02: no closed form; exact slice-sampling update on log nu0
        c[0], c[1], c[2], c[3], c[4], c[5] = m, sigma02, sum_log_phi, sum_phi, nu0_shape, nu0_rate
        require_positive_sigma02(sigma02)
        log_nu0 = slice_step(rng, LOG_NU0, math.log(nu0), c, 1.0)
        nu0 = math.exp(log_nu0)
        if start >= 0:
            row = start + it
            out[row, 0] = mu
            out[row, 1] = tau2
            out[row, 2] = sigma02
            out[row, 3] = nu0
            for k in range(keep.size):
                out_theta[row, k] = theta[keep[k]]
                out_s2[row, k] = 1.0 / phi[keep[k]]
            for j in range(m):
                d = theta[j] - ybar[j]
                e = (1.0 / phi[j] - ss[j] / (n[j] - 1.0)) * unit
                acc[0, j] += d
                acc[1, j] += d * d
                acc[2, j] += e
                acc[3, j] += e * e
    state[0], state[1], state[2], state[3] = mu, tau2, sigma02, nu0


# -------------------------------------------------------------- the numpy reference
def numpy_sweeps(
    rng, n, ybar, ss, hyper, state, theta, phi, n_iter, start, keep, out, out_theta, out_s2, acc,
    unit,
):  # fmt: skip
    """Model 2 sweeps in numpy, one vectorised call per full conditional (see :func:`sweeps`
    for the arguments)."""
    s = GroupStats(labels=np.arange(n.size), n=n, ybar=ybar, ss=ss)
    mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate = hyper
    mu, tau2, sigma02, nu0 = state
    for it in range(n_iter):
        theta[:] = draw_normal(rng, cond.theta_unequal(s, mu, 1.0 / phi, tau2))
        phi[:] = 1.0 / draw_inverse_gamma(rng, cond.sigma_j_precision(s, theta, nu0, sigma02))
        mu = float(draw_normal(rng, cond.mu_centered(theta, tau2, mu0, mu_prec0)))
        tau2 = float(draw_inverse_gamma(rng, cond.tau_precision(theta - mu, a_tau, b_tau)))
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
            d, e = theta - ybar, (1.0 / phi - ss / (n - 1.0)) * unit
            acc += np.stack([d, d * d, e, e * e])
    state[:] = mu, tau2, sigma02, nu0


# ---------------------------------------------------------------------- the sampler
def _check_groups(stats: GroupStats, prior: UnequalVariances) -> None:
    """Every group needs two members (its sigma_j^2), and groups with no spread must leave
    the posterior proper (:func:`hierlib.propriety.check_unequal_variances`)."""
    stats.require_min_size(2, MIN_SIZE_FOR)
    from hierlib.propriety import check_unequal_variances  # lazy: it plots with matplotlib

    check_unequal_variances(stats, prior)


def unequal_variances(
    y: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    prior: UnequalVariances | None = None,
    n_draws: int = 5000,
    n_warmup: int = 1000,
    n_chains: int = 4,
    seed: int = 1,
    keep_theta: ArrayLike | None = None,
    progress: bool | None = None,
    engine: str = "numba",
    *,
    stats: GroupStats | None = None,
    cores: int | None = None,
) -> Posterior:
    """Gibbs sampler for the hierarchical normal model with unequal variances (centered).

    .. math::
        Y_{ij} \\sim N(\\theta_j, \\sigma_j^2), \\quad \\theta_j \\sim N(\\mu, \\tau^2), \\quad
        1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2),

    with the prior :class:`hierlib.priors.UnequalVariances` on :math:`(\\mu, \\tau^2,
    \\sigma_0^2, \\nu_0)` (``None``: the lecture's -- flat :math:`\\mu, \\tau^2`,
    :math:`p(\\sigma_0^2) \\propto 1/\\sigma_0^2`, :math:`\\nu_0 \\sim \\text{Gamma}(2, 1/2)`).
    A sweep draws :math:`\\theta_j`, :math:`1/\\sigma_j^2`, :math:`\\mu`, :math:`\\tau^2`,
    :math:`\\sigma_0^2` from their full conditionals (:mod:`hierlib.conditionals`) and
    :math:`\\nu_0` by an exact slice-sampling update on :math:`\\log\\nu_0` (no closed form).

    Parameters and returns as :func:`hierarchical_normal` (``stats=`` instead of rows,
    ``cores=`` for parallel chains); ``keep_theta`` selects the groups
    whose ``theta`` and ``sigma2_j`` draws are kept; ``post.sigma2_j_mean`` and
    ``post.sigma2_j_sd`` cover every group.

    Raises
    ------
    ValueError
        As :func:`hierarchical_normal`, for any group with a single member (its
        :math:`\\sigma_j^2` would be sampled from one observation), and when groups with no
        spread (:math:`SS_j = 0`) make the posterior improper (the condition is derived in
        :func:`hierlib.propriety.check_unequal_variances`).
    """
    stats, rows = _inputs.data(y, groups, stats)  # rows (None, None) from stats=
    prior, keep, hyper = _inputs.prepare(
        stats, prior, (UnequalVariances,), n_draws, n_warmup, n_chains, seed, progress, engine,
        keep_theta, kept=(4, 2, 6),  # mu, tau2, sigma02, nu0; theta_j, sigma_j^2 of each kept
        # group; per chain: four running sums, theta and phi
        model_check=_check_groups,
    )  # fmt: skip
    workers = _chains.n_workers(cores, n_chains, engine)
    sweep = _chains.guarded(sweeps if engine == "numba" else numpy_sweeps, "unequal_variances")
    n = stats.n.astype(np.float64)
    ybar, ss = stats.ybar, stats.ss
    s2 = ss / (n - 1.0)
    pooled = float(ss.sum() / (n.sum() - stats.m))
    s2_start = np.where(s2 > 0, s2, pooled if pooled > 0 else 1.0)
    unit = float(2.0 ** -np.frexp(s2_start.max())[1])  # exact scaling of the sigma_j^2 moments
    out = np.empty((n_chains, n_draws, 4))
    out_theta = np.empty((n_chains, n_draws, keep.size))
    out_s2 = np.empty((n_chains, n_draws, keep.size))

    def init_chain(c, rng, acc_c):
        mu, _, tau2 = _inputs.start_values(stats, rng)
        sigma02 = float(np.mean(s2_start))
        state = np.array([mu, tau2, sigma02, prior.nu0_shape / prior.nu0_rate])
        theta = ybar.copy()
        phi = 1.0 / s2_start
        return lambda k, start: sweep(
            rng, n, ybar, ss, hyper, state, theta, phi, k, start, keep, out[c], out_theta[c],
            out_s2[c], acc_c, unit,
        )  # fmt: skip

    acc, elapsed = _chains.run_chains(
        init_chain, 4, stats.m, n_chains, n_warmup, n_draws, seed, progress, workers
    )
    _chains.check_finite(
        {"mu, tau2, sigma02 or nu0": out, "theta": out_theta, "sigma2_j": out_s2},
        "unequal_variances",
    )
    warn_infinite_means(stats.m, hyper)
    count = n_chains * n_draws
    s2_mean, s2_sd = _chains.moments(acc[2:], count, np.zeros(stats.m))  # in units of 1/unit
    s2_mean, s2_sd = s2 + s2_mean / unit, s2_sd / unit
    draws = {"mu": out[..., 0], "tau2": out[..., 1], "sigma02": out[..., 2], "nu0": out[..., 3]}
    return Posterior.from_run(
        draws | {"theta": out_theta, "sigma2_j": out_s2}, stats, keep,
        _chains.moments(acc[:2], count, ybar), rows, elapsed=elapsed, prior=prior,
        model="unequal_variances", parameterization="centered", seed=seed, engine=engine,
        extra={"sigma2_j_mean": s2_mean, "sigma2_j_sd": s2_sd},
    )  # fmt: skip


def warm_up() -> None:
    """Compile :func:`sweeps` (or load it from numba's cache): one draw on six tiny groups."""
    y = np.arange(1.0, 13.0)
    unequal_variances(y, np.repeat(np.arange(6), 2), n_draws=1, n_warmup=0, n_chains=1)
