"""Model 1, equal variances: its prepare step, its sweeps (compiled and numpy) and its
posterior, behind :func:`hierlib.gibbs.hierarchical_normal`.

:math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`, :math:`\\theta_j \\sim N(\\mu, \\tau^2)`, in
three parameterisations:

* ``"centered"``: the lecture's sampler, :math:`\\theta \\to \\sigma^2 \\to \\mu \\to \\tau^2`.
* ``"offset"``: the lecture's mixed-effects form :math:`Y_{ij} = \\mu + \\delta_j +
  \\varepsilon_{ij}`, :math:`\\delta_j \\sim N(0, \\tau^2)`, with its own full conditionals
  (:math:`\\delta \\to \\sigma^2 \\to \\mu \\to \\tau^2`). It mixes poorly when the data are
  informative about each group (many students per school), well when they are not.
* ``"interweaved"``: ancillarity-sufficiency interweaving (ASIS; Yu & Meng 2011). After the
  centered updates of :math:`\\theta, \\mu, \\tau^2` (the *sufficient* augmentation), it
  redraws :math:`\\mu` given :math:`\\delta = \\theta - \\mu` (offset form) and then
  :math:`\\tau` given :math:`\\eta = \\delta/\\tau` (the *ancillary* augmentation, fully
  non-centered; an exact slice-sampling step on :math:`\\log\\tau`), and maps back to
  :math:`\\theta = \\mu + \\tau\\eta`. Every step leaves the posterior invariant, and the
  sampler mixes well in both regimes.

:func:`sweeps` is the compiled sweep (each line one full conditional of
:mod:`hierlib.conditionals`, O(m) per sweep on the group sufficient statistics), and
:func:`numpy_sweeps` the textbook vectorised loop with the same signature (``engine="numpy"``,
the reference the compiled sweep is checked against; its draws differ, since vectorised draws
consume the stream in another order). The chains are run by :mod:`hierlib.samplers._chains`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from hierlib import conditionals as cond
from hierlib.data import GroupStats
from hierlib.priors import Default, HalfCauchy, SemiConjugate
from hierlib.samplers import _chains, _inputs
from hierlib.samplers._kernels import (
    LOG_TAU,
    LOG_TAU_HALF_CAUCHY,
    draw_inverse_gamma,
    draw_normal,
    inverse_gamma,
    njit,
    normal,
    slice_step,
    standard_gamma,
)
from hierlib.samplers._posterior import Posterior, warn_infinite_means

CENTERED, OFFSET, INTERWEAVED = 0, 1, 2
PARAMETERIZATIONS = {"centered": CENTERED, "offset": OFFSET, "interweaved": INTERWEAVED}
PRIORS = (Default, SemiConjugate, HalfCauchy)
"""The priors model 1 takes (``None``: the first, the lecture's)."""


# ----------------------------------------------------------------- the compiled sweep
@njit(cache=True, nogil=True, inline="always")
def _aux_precision(rng, scale2, tau2):
    """The half-Cauchy's auxiliary precision: 1/a | tau2 ~ Gamma(1, 1/A^2 + 1/tau2)."""
    return standard_gamma(rng, 1.0) / (1.0 / scale2 + 1.0 / tau2)


@njit(cache=True, nogil=True, inline="always")
def _tau2_step(rng, shape, b_tau, q, cauchy, inv_a, scale2):
    """tau2 from 1/tau2 | rest ~ Gamma(shape, b + q/2), with ``b = b_tau``, or ``b = 1/a``
    under the half-Cauchy (then 1/a | tau2 is redrawn). Returns ``(tau2, inv_a)``."""
    if cauchy:
        tau2 = inverse_gamma(rng, shape, inv_a + 0.5 * q)
        return tau2, _aux_precision(rng, scale2, tau2)
    return inverse_gamma(rng, shape, b_tau + 0.5 * q), inv_a


@njit(cache=True, nogil=True)
def _tau_width(c):
    """Initial slice width on log tau: about 2.5 sd of log tau under the likelihood
    exp(-c0 tau^2/2 + c1 tau), clipped to [0.02, 2]. It depends on the conditioning values
    only (not on the current tau), so the slice update stays exact; it only saves steps."""
    if c[0] <= 0.0 or c[1] <= 0.0:
        return 2.0
    return min(2.0, max(0.02, 2.5 / (math.sqrt(c[0]) * (c[1] / c[0]))))


@njit(cache=True, nogil=True)
def _record(row, out_theta, keep, acc, theta, shift, ybar):
    """Store the kept groups' theta (= shift + x) in ``out_theta[row]`` and accumulate the
    running sums of theta - ybar and of its square for every group."""
    for k in range(keep.size):
        out_theta[row, k] = shift + theta[keep[k]]
    for j in range(theta.size):
        d = shift + theta[j] - ybar[j]
        acc[0, j] += d
        acc[1, j] += d * d


@njit(cache=True, nogil=True)
def sweeps(rng, param, n, ybar, ss, hyper, state, x, n_iter, start, keep, out, out_theta, acc):
    """Run ``n_iter`` sweeps of model 1 (equal variances).

    ``state = [mu, sigma2, tau2, inv_a]``; ``x`` holds theta (centered, interweaved) or delta
    (offset). ``hyper = (mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma, scale2)``;
    ``scale2 = A^2 > 0`` means the half-Cauchy(0, A) prior on tau, sampled with the auxiliary
    ``inv_a = 1/a`` (tau2 | a ~ Inv-Gamma(1/2, 1/a), a ~ Inv-Gamma(1/2, 1/A^2)): then
    ``b_tau`` is ``inv_a`` and each tau2 draw is followed by ``inv_a | tau2 ~
    Gamma(1, 1/A^2 + 1/tau2)``; the interweaving step on log tau uses the half-Cauchy
    density itself (a integrated out) and redraws ``inv_a`` after it. Sweep ``i`` is
    stored at row ``start + i`` of ``out`` (columns mu, sigma2, tau2) and ``out_theta`` (the
    groups ``keep``), and theta - ybar is accumulated in ``acc`` (sum, sum of squares), unless
    ``start < 0`` (warm-up).

    Scan order: theta (or delta), sigma2, mu, tau2 [, interweaving steps]. Sums that a later
    conditional needs are accumulated in the loop that draws the group parameters, so a sweep
    makes two passes over the groups (three when interweaving).
    """
    m = n.size
    n_total = 0.0
    ss_within = 0.0
    sum_ny = 0.0
    ny = np.empty(m)
    for j in range(m):
        n_total += n[j]
        ss_within += ss[j]
        ny[j] = n[j] * ybar[j]
        sum_ny += ny[j]
    centre = sum_ny / n_total  # the grand mean: sums of theta_j are taken around it
    mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma, scale2 = hyper
    mu, sigma2, tau2, inv_a = state[0], state[1], state[2], state[3]
    cauchy = scale2 > 0.0
    c = np.empty(4)
    for it in range(n_iter):
        inv_s2 = 1.0 / sigma2
        inv_t2 = 1.0 / tau2
        r = ss_within  # sum_ij (y_ij - theta_j)^2 = sum_j SS_j + n_j (ybar_j - theta_j)^2
        if param == OFFSET:
            # delta_j | mu, sigma2, tau2 ~ N(n_j (ybar_j - mu) inv_s2 / P_j, 1/P_j),
            #     P_j = n_j/sigma2 + 1/tau2
            s = 0.0
            q = 0.0
            for j in range(m):
                x[j] = normal(rng, n[j] * (ybar[j] - mu) * inv_s2, n[j] * inv_s2 + inv_t2)
                s += n[j] * (ybar[j] - x[j])
                q += x[j] * x[j]
                r += n[j] * (ybar[j] - mu - x[j]) ** 2
            # 1/sigma2 | mu, delta, Y ~ Gamma(a_sigma + n/2, b_sigma + r/2)
            sigma2 = inverse_gamma(rng, a_sigma + 0.5 * n_total, b_sigma + 0.5 * r)
            # mu | delta, sigma2, Y ~ N((sum_j n_j (ybar_j - delta_j)/sigma2 + p0 mu0)/P, 1/P),
            #     P = n/sigma2 + p0
            prec = n_total / sigma2 + mu_prec0
            mu = normal(rng, s / sigma2 + mu_prec0 * mu0, prec)
            shift = mu  # theta_j = mu + delta_j; q = sum_j delta_j^2 for tau2 below
        else:
            # theta_j | mu, sigma2, tau2 ~ N((n_j ybar_j/sigma2 + mu/tau2)/P_j, 1/P_j)
            s = 0.0
            s2 = 0.0  # sums of theta_j - centre and its square, for tau2's conditional
            for j in range(m):
                x[j] = normal(rng, ny[j] * inv_s2 + mu * inv_t2, n[j] * inv_s2 + inv_t2)
                s += x[j] - centre
                s2 += (x[j] - centre) ** 2
                r += n[j] * (ybar[j] - x[j]) ** 2
            # 1/sigma2 | theta, Y ~ Gamma(a_sigma + n/2, b_sigma + r/2)
            sigma2 = inverse_gamma(rng, a_sigma + 0.5 * n_total, b_sigma + 0.5 * r)
            # mu | theta, tau2 ~ N((sum_j theta_j/tau2 + p0 mu0)/P, 1/P), P = m/tau2 + p0
            prec = m * inv_t2 + mu_prec0
            mu = normal(rng, (s + m * centre) * inv_t2 + mu_prec0 * mu0, prec)
            # q = sum_j (theta_j - mu)^2 = s2 - 2 (mu - centre) s + m (mu - centre)^2
            q = max(s2 - 2.0 * (mu - centre) * s + m * (mu - centre) ** 2, 0.0)
            shift = 0.0
        # 1/tau2 | theta, mu ~ Gamma(a_tau + m/2, b_tau + q/2), q = sum_j (theta_j - mu)^2
        tau2, inv_a = _tau2_step(rng, a_tau + 0.5 * m, b_tau, q, cauchy, inv_a, scale2)
        if param == INTERWEAVED:
            nd = 0.0  # sums over delta_j = theta_j - mu
            nd2 = 0.0
            ndy = 0.0
            for j in range(m):
                d = x[j] - mu
                nd += n[j] * d
                nd2 += n[j] * d * d
                ndy += n[j] * d * (ybar[j] - mu)
            # ancillary step for mu: mu | delta, sigma2, Y (the offset form's conditional),
            #     sum_j n_j (ybar_j - delta_j) = sum_ny - nd
            prec = n_total / sigma2 + mu_prec0
            mu_new = normal(rng, (sum_ny - nd) / sigma2 + mu_prec0 * mu0, prec)
            # ancillary step for tau: tau | eta = delta/tau, mu, sigma2, Y; the likelihood
            # in tau is exp(-c0 tau^2/2 + c1 tau), c0 = sum n_j eta_j^2 / sigma2,
            # c1 = sum n_j eta_j (ybar_j - mu)/sigma2; exact slice update on log tau
            tau = math.sqrt(tau2)
            c[0] = nd2 / tau2 / sigma2
            c[1] = (ndy - (mu_new - mu) * nd) / tau / sigma2
            if cauchy:  # the half-Cauchy density of tau (a integrated out), then a | tau
                c[2] = scale2
                c[3] = 0.0
                kind = LOG_TAU_HALF_CAUCHY
            else:
                c[2] = a_tau
                c[3] = b_tau
                kind = LOG_TAU
            log_tau = slice_step(rng, kind, math.log(tau), c, _tau_width(c))
            tau_new = math.exp(log_tau)
            tau2 = tau_new * tau_new
            if cauchy:
                inv_a = _aux_precision(rng, scale2, tau2)
            # back to theta_j = mu + tau eta_j
            for j in range(m):
                x[j] = mu_new + tau_new / tau * (x[j] - mu)
            mu = mu_new
        if start >= 0:
            row = start + it
            out[row, 0] = mu
            out[row, 1] = sigma2
            out[row, 2] = tau2
            _record(row, out_theta, keep, acc, x, shift, ybar)
    state[0], state[1], state[2], state[3] = mu, sigma2, tau2, inv_a


# -------------------------------------------------------------- the numpy reference
def numpy_sweeps(
    rng, param, n, ybar, ss, hyper, state, x, n_iter, start, keep, out, out_theta, acc
):
    """Model 1 sweeps in numpy, one vectorised call per full conditional (see :func:`sweeps`
    for the arguments and the scan order: theta or delta, sigma2, mu, tau2 [, interweaving
    steps])."""
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
            return float(draw_inverse_gamma(rng, cond.tau_precision(dev, a_tau, b_tau)))
        t2 = float(draw_inverse_gamma(rng, cond.tau_precision(dev, a_tau, inv_a)))
        redraw_aux(t2)
        return t2

    for it in range(n_iter):
        if param == OFFSET:
            x[:] = draw_normal(rng, cond.delta_offset(s, mu, sigma2, tau2))
            g = cond.sigma_precision(s, mu + x, a_sigma, b_sigma)
            sigma2 = float(draw_inverse_gamma(rng, g))
            mu = float(draw_normal(rng, cond.mu_offset(s, x, sigma2, mu0, mu_prec0)))
            tau2 = draw_tau2(x)
            theta = mu + x
        else:
            x[:] = draw_normal(rng, cond.theta_centered(s, mu, sigma2, tau2))
            sigma2 = float(draw_inverse_gamma(rng, cond.sigma_precision(s, x, a_sigma, b_sigma)))
            mu = float(draw_normal(rng, cond.mu_centered(x, tau2, mu0, mu_prec0)))
            tau2 = draw_tau2(x - mu)
            if param == INTERWEAVED:
                delta = x - mu
                mu = float(draw_normal(rng, cond.mu_offset(s, delta, sigma2, mu0, mu_prec0)))
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


# ---------------------------------------------------------------------- the sampler
def hierarchical_normal(
    y: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    prior: Default | SemiConjugate | HalfCauchy | None = None,
    parameterization: str = "centered",
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
    """Gibbs sampler for the hierarchical normal model with equal variances.

    .. math::
        Y_{ij} \\sim N(\\theta_j, \\sigma^2), \\quad \\theta_j \\sim N(\\mu, \\tau^2), \\quad
        (\\mu, \\sigma^2, \\tau^2) \\sim \\text{prior}

    Parameters
    ----------
    y : array_like of float, shape (n,)
        Responses (finite). Give either ``y`` and ``groups`` or ``stats``.
    groups : array_like, shape (n,)
        Group label of every response (any sortable labels).
    prior : priors.Default, priors.SemiConjugate or priors.HalfCauchy, optional
        ``None`` is the lecture's default :math:`p \\propto 1/\\sigma^2` (needs >= 4 groups;
        ``Default(tau2="uniform-tau")`` needs 3). Under ``HalfCauchy`` the sweep also draws
        the auxiliary variable of its inverse-gamma mixture (not returned).
    parameterization : {"centered", "offset", "interweaved"}
        See the module docstring.
    n_draws, n_warmup : int
        Draws kept per chain, and sweeps discarded first.
    n_chains : int
        Number of chains, each with its own stream (run in parallel, see ``cores``).
    seed : int
        Non-negative; the same seed gives bit-identical draws.
    keep_theta : array_like of group labels, or boolean mask, optional
        Keep the :math:`\\theta_j` draws of these groups only (``None``: all groups; ``[]``:
        none; a boolean array with one entry per group, in sorted label order, is a mask).
        Posterior means and sds of every :math:`\\theta_j` are returned regardless.
        Keeping all draws needs chains x draws x m x 8 bytes: runs above
        :data:`MAX_DRAWS_BYTES` (2 GiB) are refused with a message naming ``keep_theta``.
    progress : bool or None
        A tqdm progress bar on stderr: ``True`` always, ``False`` never, ``None`` (default)
        only once a run has lasted 2 s, and never inside a Jupyter kernel (notebooks stay
        clean).
    engine : {"numba", "numpy"}
        Compiled sweeps (default) or the textbook numpy loop (slower, same law; its chains
        run one after the other).
    stats : hierlib.data.GroupStats, optional
        The data as group sufficient statistics instead of rows:
        ``stats=data.group_stats(y, groups)`` gives the same draws as ``y, groups``, and
        needs only :math:`n_j, \\bar y_j, SS_j` per group (a table of summaries will do: labels
        sorted and distinct). The :class:`Posterior` then holds no rows.
    cores : int, optional
        Threads the chains run on (``None``, default: every core this process may use, see
        :func:`available_cores`; at most one per chain). The draws do not depend on it:
        ``cores=1`` runs the chains one after the other and gives the same draws.

    Returns
    -------
    Posterior

    Raises
    ------
    ValueError
        Bad data (NaN/inf, mismatched lengths, empty, text, a scale beyond floating point),
        fewer than two groups (four under the default prior), no within-group spread under
        the default prior, an argument of the wrong value, kept draws above
        :data:`MAX_DRAWS_BYTES`, a sampler that stopped because a quantity left floating
        point (the message names it), no data or both rows and ``stats``.
    TypeError
        ``y`` or ``groups`` of the wrong kind (a DataFrame, None, complex numbers), or
        ``stats`` that is not a :class:`hierlib.data.GroupStats`.

    Warns
    -----
    InfiniteMeanWarning
        When the prior and the number of groups make :math:`E[\\tau^2 \\mid y]` infinite
        (the default prior with m = 4 or 5 groups): summarise :math:`\\tau^2` by quantiles.
    """
    stats, rows = _inputs.data(y, groups, stats)  # rows (None, None) from stats=
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            "parameterization must be 'centered', 'offset' or 'interweaved'; "
            f"got {parameterization!r}"
        )
    prior, keep, hyper = _inputs.prepare(
        stats, prior, PRIORS, n_draws, n_warmup, n_chains, seed, progress, engine, keep_theta,
        kept=(3, 1, 4),  # mu, sigma2, tau2; theta_j of each kept group; sums, x, ny per chain
    )  # fmt: skip
    workers = _chains.n_workers(cores, n_chains, engine)
    hyper = hyper[:6] + (hyper[6] if len(hyper) > 6 else 0.0,)  # A^2 (0: no half-Cauchy)
    param = PARAMETERIZATIONS[parameterization]
    sweep = _chains.guarded(sweeps if engine == "numba" else numpy_sweeps, "hierarchical_normal")
    n = stats.n.astype(np.float64)
    ybar, ss = stats.ybar, stats.ss
    out = np.empty((n_chains, n_draws, 3))
    out_theta = np.empty((n_chains, n_draws, keep.size))

    def init_chain(c, rng, acc_c):
        mu, sigma2, tau2 = _inputs.start_values(stats, rng)
        inv_a = 1.0 / (1.0 / hyper[6] + 1.0 / tau2) if hyper[6] > 0 else 0.0  # E[1/a | tau2]
        state = np.array([mu, sigma2, tau2, inv_a])
        x = ybar.copy() if param != OFFSET else ybar - state[0]
        return lambda k, start: sweep(
            rng, param, n, ybar, ss, hyper, state, x, k, start, keep, out[c], out_theta[c], acc_c
        )

    acc, elapsed = _chains.run_chains(
        init_chain, 2, stats.m, n_chains, n_warmup, n_draws, seed, progress, workers
    )
    _chains.check_finite({"mu, sigma2 or tau2": out, "theta": out_theta}, "hierarchical_normal")
    warn_infinite_means(stats.m, hyper)
    return Posterior.from_run(
        {"mu": out[..., 0], "sigma2": out[..., 1], "tau2": out[..., 2], "theta": out_theta},
        stats, keep, _chains.moments(acc, n_chains * n_draws, ybar), rows, elapsed=elapsed,
        prior=prior, model="hierarchical_normal", parameterization=parameterization,
        seed=seed, engine=engine,
    )  # fmt: skip


def warm_up() -> None:
    """Compile :func:`sweeps` (or load it from numba's cache): one draw on six tiny groups."""
    y = np.arange(1.0, 13.0)
    hierarchical_normal(y, np.repeat(np.arange(6), 2), n_draws=1, n_warmup=0, n_chains=1)
