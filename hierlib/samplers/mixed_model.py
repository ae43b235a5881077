"""The mixed model (varying intercepts and slopes): its prepare step, its compiled sweep and
its posterior, behind :func:`hierlib.gibbs.mixed_model`.

:math:`y_j = X_j\\beta + Z_j b_j + e_j`, :math:`b_j \\sim N_q(0, \\Sigma)`,
:math:`e_j \\sim N(0, \\sigma^2 I)`, on the per-group cross-products of
:class:`hierlib.data.MixedStats` only: a sweep costs O(m) in the groups and nothing in the
students. Notation: :math:`A_j = Z_j^\\top Z_j`, :math:`C_j = X_j^\\top Z_j`,
:math:`M_j = A_j + \\sigma^2\\Sigma^{-1}`. One sweep, each line a full conditional of
:mod:`hierlib.conditionals`:

1. :math:`\\beta \\mid \\Sigma, \\sigma^2, y` with every :math:`b_j` integrated out
   (:func:`~hierlib.conditionals.beta_mixed`, Woodbury on the cross-products), then
   :math:`b_j \\mid \\beta, \\Sigma, \\sigma^2, y` (:func:`~hierlib.conditionals.b_mixed`):
   together one draw of :math:`(\\beta, b) \\mid \\Sigma, \\sigma^2, y`, a *blocked* update.
   With a group-level predictor in :math:`X` (school SES, sector) :math:`\\beta` and the
   :math:`b_j` are strongly correlated a posteriori, and drawing :math:`\\beta \\mid b`
   instead would crawl;
2. ``parameterization="collapsed"`` (the default) moves :math:`\\Sigma` between those two
   draws, from :math:`p(\\Sigma \\mid \\beta, \\sigma^2, y)` with every :math:`b_j`
   integrated out, by Metropolis-Hastings (:func:`_collapsed_step`):

   .. math::
       \\log p(\\Sigma \\mid \\beta, \\sigma^2, y) = \\log p(\\Sigma) - \\tfrac m2\\log|\\Sigma|
       - \\tfrac12\\textstyle\\sum_j\\log|M_j| + \\sum_j r_j^\\top M_j^{-1}r_j/(2\\sigma^2)
       + \\text{const}, \\quad r_j = Z_j^\\top(y_j - X_j\\beta)

   (:func:`collapsed_log_target`: :math:`|\\sigma^2I + Z_j\\Sigma Z_j^\\top| =
   \\sigma^{2(n_j-q)}|\\Sigma||M_j|`, :math:`(\\sigma^2I + Z_j\\Sigma Z_j^\\top)^{-1} =
   \\sigma^{-2}(I - Z_jM_j^{-1}Z_j^\\top)`), on the log-Cholesky :math:`\\theta`
   (:math:`\\log L_{ii}` and :math:`L_{ac}`, :math:`\\Sigma = LL^\\top`, with its Jacobian),
   O(m) per evaluation. Each sweep makes :data:`INDEPENDENT_STEPS` (1) independence step
   from a multivariate t fitted to the warm-up's draws of :math:`\\theta`, then
   :data:`RANDOM_WALK_STEPS` (1) random-walk step whose covariance (2.38²/d times the
   warm-up's) and scale (to :data:`TARGET_ACCEPT`) are tuned in warm-up; both proposals
   are frozen after it, so the kept draws come from one fixed kernel that leaves the
   target invariant. The :math:`b_j` are then drawn given the new :math:`\\Sigma`: the
   pair is a draw of :math:`(\\Sigma, b) \\mid \\beta, \\sigma^2, y`, which never uses the
   old :math:`b_j` -- a partially collapsed Gibbs sampler (van Dyk & Park 2008).
   :class:`MixedPosterior` reports the two acceptance rates
   (``collapsed_acceptance``);
3. :math:`\\Sigma \\mid b \\sim \\text{IW}(\\nu + m, S + \\sum_j b_jb_j^\\top)`
   (:func:`~hierlib.conditionals.cov_re_mixed`; Bartlett's decomposition, :func:`_draw_iw`);
4. :math:`1/\\sigma^2 \\mid \\beta, b, y \\sim \\text{Gamma}(a + n/2, b + R/2)`
   (:func:`~hierlib.conditionals.sigma2_mixed`);
5. ``parameterization="interweaved"`` and ``"collapsed"`` add an ancillarity-sufficiency
   interweaving step (ASIS; Yu & Meng 2011), as model 1's interweaved sampler does for
   :math:`\\tau`: see :func:`_interweave` (its acceptance rate is ``acceptance``).
   ``"blocked"`` is steps 1, 3 and 4 only.

Measured on the R&B model (4 chains x 5000 draws, bulk ESS per sweep): every fixed effect
about 1 with the blocked update (0.12-0.13 for the intercept, sector and school SES when
:math:`\\beta` is drawn given the :math:`b_j` instead: lag-1 autocorrelation 0.77); the
variances of :math:`\\Sigma` 0.37 and 0.009 (intercept, slope) blocked, 0.71 and 0.16
interweaved (the slope's SD is small, so the :math:`b_j` pin :math:`\\Sigma` down and the
blocked sampler crawls), at about 19 and 22 microseconds of CPU per sweep (one chain,
load average 4; 52-63 and 60-74 before the sweep wrote out its q = 2 algebra in closed form:
:func:`_school_beta_q2`, :func:`_school_b_q2`). Collapsed (2026-12-03), with one
independence step and one walk: 0.85 and 0.60, the fixed effects 0.98-1.02; the acceptance
rates 0.55 (independence) and 0.31 (walk). Random-walk steps alone (K of them) gave the slope
variance 0.23, 0.34, 0.40, 0.46, 0.56, 0.63 for K = 1, 2, 3, 4, 6, 8, against 0.60, 0.77,
0.88, 0.92 for 1, 2, 3, 4 independence steps and one walk (each step one O(m) evaluation,
about 1.3 microseconds at m = 160, one log per 8 groups). One independence step, not three,
because the fixed effects, not the slope variance, are then the slowest per CPU second: in one
``benchmarks/bench_peers.py`` run each (quiet machine, 2 threads) the smallest ratio to
nutpie's bulk ESS per CPU second was 10.5x (``mses:cses``) with three, 11.1x with one, where
the slope variance went from 37x to 28x (the interweaved sampler: 8.1x, the slope variance).
Without the interweaving step the two variances got 0.89 and 0.85 (three independence steps)
at no measurable saving.

:func:`sweeps` is compiled with numba (``nogil``: chains run on threads); the chains are run
by :mod:`hierlib.samplers._chains`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib import _memory
from hierlib._memory import MAX_POINTWISE_BYTES
from hierlib._pointwise import _LOG_2PI, draw_index
from hierlib._validate import RESCALE_HINT
from hierlib.data import MixedStats, _mixed_design
from hierlib.priors import MixedDefault, MixedProper
from hierlib.samplers import _chains, _inputs
from hierlib.samplers._kernels import njit, standard_gamma
from hierlib.samplers._posterior import ARVIZ_MARGIN, POINTWISE_BLOCK, inference_data

BLOCKED, INTERWEAVED, COLLAPSED = 0, 1, 2
PARAMETERIZATIONS = {"blocked": BLOCKED, "interweaved": INTERWEAVED, "collapsed": COLLAPSED}
PRIORS = (MixedDefault, MixedProper)
"""The priors the mixed model takes (``None``: the first)."""


# ------------------------------------------------------------- small dense linear algebra
@njit(cache=True, nogil=True)
def _chol(a, out, k):
    """Lower Cholesky factor of the k x k matrix ``a`` into ``out``; False if ``a`` is not
    (numerically) positive definite."""
    for i in range(k):
        for j in range(i + 1):
            s = a[i, j]
            for t in range(j):
                s -= out[i, t] * out[j, t]
            if i == j:
                if not s > 0.0:
                    return False
                out[i, i] = math.sqrt(s)
            else:
                out[i, j] = s / out[j, j]
        for j in range(i + 1, k):
            out[i, j] = 0.0
    return True


@njit(cache=True, nogil=True)
def _solve_lower(low, b, x, k):
    """x = L^{-1} b (forward substitution; ``x`` may be ``b``)."""
    for i in range(k):
        s = b[i]
        for t in range(i):
            s -= low[i, t] * x[t]
        x[i] = s / low[i, i]


@njit(cache=True, nogil=True)
def _solve_upper(low, b, x, k):
    """x = L'^{-1} b (back substitution with the transpose of L; ``x`` may be ``b``)."""
    for i in range(k - 1, -1, -1):
        s = b[i]
        for t in range(i + 1, k):
            s -= low[t, i] * x[t]
        x[i] = s / low[i, i]


@njit(cache=True, nogil=True)
def _chol_solve(low, b, x, k):
    """x = (L L')^{-1} b."""
    _solve_lower(low, b, x, k)
    _solve_upper(low, x, x, k)


@njit(cache=True, nogil=True)
def _inverse(a, out, low, col, k):
    """``out`` = a^{-1} for a symmetric positive definite ``a`` (False if it is not)."""
    if not _chol(a, low, k):
        return False
    for c in range(k):
        for i in range(k):
            col[i] = 1.0 if i == c else 0.0
        _chol_solve(low, col, col, k)
        for i in range(k):
            out[i, c] = col[i]
    return True


@njit(cache=True, nogil=True)
def _draw_mvn(rng, low, mean, scale, out, k):
    """out = mean + scale * L'^{-1} z: a draw from N(mean, scale^2 (L L')^{-1}) given the
    Cholesky factor L of the precision."""
    for i in range(k):
        out[i] = rng.standard_normal()
    _solve_upper(low, out, out, k)
    for i in range(k):
        out[i] = mean[i] + scale * out[i]


@njit(cache=True, nogil=True, inline="always")
def _chol_into(a, out, j, k):
    """:func:`_chol` of the k x k matrix ``a`` into ``out[j]`` (no view made: the sweep
    calls this once per group and sweep)."""
    for i in range(k):
        for c in range(i + 1):
            s = a[i, c]
            for t in range(c):
                s -= out[j, i, t] * out[j, c, t]
            if i == c:
                if not s > 0.0:
                    return False
                out[j, i, i] = math.sqrt(s)
            else:
                out[j, i, c] = s / out[j, c, c]
        for c in range(i + 1, k):
            out[j, i, c] = 0.0
    return True


@njit(cache=True, nogil=True, inline="always")
def _solve_at(low, j, x, k):
    """x = (L_j L_j')^{-1} x in place, L_j = ``low[j]`` (forward then back substitution)."""
    for i in range(k):
        s = x[i]
        for t in range(i):
            s -= low[j, i, t] * x[t]
        x[i] = s / low[j, i, i]
    for i in range(k - 1, -1, -1):
        s = x[i]
        for t in range(i + 1, k):
            s -= low[j, t, i] * x[t]
        x[i] = s / low[j, i, i]


@njit(cache=True, nogil=True, inline="always")
def _noise_at(rng, low, j, scale, x, k):
    """x += scale * L_j'^{-1} z, z standard normal: the noise of a draw from
    N(x, scale^2 (L_j L_j')^{-1})."""
    for i in range(k - 1, -1, -1):
        s = rng.standard_normal()
        for t in range(i + 1, k):
            s -= low[j, t, i] * x[k + t]
        x[k + i] = s / low[j, i, i]
    for i in range(k):
        x[i] += scale * x[k + i]


@njit(cache=True, nogil=True)
def _draw_iw(rng, df, scale, out, low, a, ainv, q):
    """One draw of :math:`\\Sigma \\sim \\text{IW}(\\nu, S)` into ``out`` (Bartlett).

    :math:`S = UU^\\top` (Cholesky), :math:`A` lower triangular with :math:`A_{ii} =
    \\sqrt{\\chi^2_{\\nu - i}}` (i = 0..q-1) and standard normals below the diagonal, so
    that :math:`AA^\\top \\sim W(\\nu, I)` and :math:`\\Sigma^{-1} = U^{-\\top}AA^\\top U^{-1}
    \\sim W(\\nu, S^{-1})`; then :math:`\\Sigma = TT^\\top`, :math:`T = UA^{-\\top}`. Every
    loop runs q steps; a scale that is not positive definite raises ``ValueError``."""
    if not _chol(scale, low, q):
        raise ValueError(
            "Sigma | b: the scale S + sum_j b_j b_j' is not positive definite (the random "
            "effects are degenerate: too few groups for the random effects, or a variance "
            "that underflowed)"
        )
    for i in range(q):
        for j in range(q):
            a[i, j] = 0.0
            ainv[i, j] = 0.0
        a[i, i] = math.sqrt(2.0 * standard_gamma(rng, 0.5 * (df - i)))
        for j in range(i):
            a[i, j] = rng.standard_normal()
    for c in range(q):  # A^{-1}, column by column (lower triangular)
        for i in range(q):
            s = 1.0 if i == c else 0.0
            for t in range(i):
                s -= a[i, t] * ainv[t, c]
            ainv[i, c] = s / a[i, i]
    # T = U A^{-T} (into a), Sigma = T T'
    for i in range(q):
        for j in range(q):
            s = 0.0
            for t in range(q):
                s += low[i, t] * ainv[j, t]
            a[i, j] = s
    for i in range(q):
        for j in range(i + 1):
            s = 0.0
            for t in range(q):
                s += a[i, t] * a[j, t]
            out[i, j] = s
            out[j, i] = s


# ------------------------------------------------------------------- the compiled sweep
@njit(cache=True, nogil=True, inline="always")
def _school_m_q2(ztz, inv_cov, sigma2, fac, j):
    """``fac[j]`` = :math:`(1/L_{00}, L_{10}, 1/L_{11}, (M_j^{-1})_{00}, (M_j^{-1})_{10},
    (M_j^{-1})_{11})`, :math:`L_j` the Cholesky factor of :math:`M_j = A_j +
    \\sigma^2\\Sigma^{-1}` at q = 2 in closed form; False if :math:`M_j` is not positive
    definite."""
    a00 = ztz[j, 0, 0] + sigma2 * inv_cov[0, 0]
    a10 = ztz[j, 1, 0] + sigma2 * inv_cov[1, 0]
    a11 = ztz[j, 1, 1] + sigma2 * inv_cov[1, 1]
    if not a00 > 0.0:
        return False
    l00 = math.sqrt(a00)
    l10 = a10 / l00
    s = a11 - l10 * l10
    if not s > 0.0:
        return False
    r00 = 1.0 / l00
    r11 = 1.0 / math.sqrt(s)
    r10 = -l10 * r00 * r11  # L^{-1} = [[r00, 0], [r10, r11]]
    fac[j, 0], fac[j, 1], fac[j, 2] = r00, l10, r11
    fac[j, 3], fac[j, 4], fac[j, 5] = r00 * r00 + r10 * r10, r10 * r11, r11 * r11
    return True


@njit(cache=True, nogil=True, inline="always")
def _factor_m(ztz, inv_cov, sigma2, fac, mq, m_low, j, q):
    """Group j's factor of :math:`M_j = A_j + \\sigma^2\\Sigma^{-1}`: at q = 2 into
    ``fac[j]`` (:func:`_school_m_q2`), otherwise its Cholesky factor into ``m_low[j]``
    (``mq`` a q x q work array). False if :math:`M_j` is not positive definite."""
    if q == 2:
        return _school_m_q2(ztz, inv_cov, sigma2, fac, j)
    for r in range(q):
        for c in range(q):
            mq[r, c] = ztz[j, r, c] + sigma2 * inv_cov[r, c]
    return _chol_into(mq, m_low, j, q)


@njit(cache=True, nogil=True, inline="always")
def _school_beta_q2(ztz, xtz, zty, xty, inv_cov, sigma2, fac, j, rhs, prec, p):
    """The beta step's share of group j at q = 2, in closed form (no loops over q): the
    Cholesky factor :math:`L_j` of :math:`M_j = A_j + \\sigma^2\\Sigma^{-1}`, then
    :math:`M_j^{-1} = L_j^{-\\top}L_j^{-1}`; ``rhs`` -= :math:`C_jM_j^{-1}Z_j^\\top y_j`
    (after += :math:`X_j^\\top y_j`), ``prec`` -= :math:`C_jM_j^{-1}C_j^\\top` (lower
    triangle). ``fac[j]`` keeps :math:`(1/L_{00}, L_{10}, 1/L_{11}, (M_j^{-1})_{00},
    (M_j^{-1})_{10}, (M_j^{-1})_{11})` for the b_j step. False if :math:`M_j` is not
    positive definite."""
    if not _school_m_q2(ztz, inv_cov, sigma2, fac, j):
        return False
    n00, n10, n11 = fac[j, 3], fac[j, 4], fac[j, 5]
    v0 = n00 * zty[j, 0] + n10 * zty[j, 1]
    v1 = n10 * zty[j, 0] + n11 * zty[j, 1]
    for r in range(p):
        c0, c1 = xtz[j, r, 0], xtz[j, r, 1]
        rhs[r] += xty[j, r] - c0 * v0 - c1 * v1
        w0 = n00 * c0 + n10 * c1  # row r of C_j M_j^{-1}
        w1 = n10 * c0 + n11 * c1
        for c in range(r + 1):
            prec[r, c] -= w0 * xtz[j, c, 0] + w1 * xtz[j, c, 1]
    return True


@njit(cache=True, nogil=True, inline="always")
def _school_b_q2(rng, ztz, fac, sd, b, zr, j, sums):
    """The b_j draw of group j at q = 2 (``fac`` from :func:`_school_beta_q2`), given
    :math:`r_j = Z_j^\\top(y_j - X_j\\beta)` in ``zr[j]``: :math:`b_j = M_j^{-1}r_j +
    \\sigma L_j^{-\\top}z` (z standard normal, drawn last entry first as
    :func:`_noise_at`); ``sums`` += :math:`(b_{j0}^2, b_{j0}b_{j1}, b_{j1}^2, b_j^\\top
    A_jb_j - 2b_j^\\top r_j)`."""
    t0, t1 = zr[j, 0], zr[j, 1]
    x1 = rng.standard_normal() * fac[j, 2]
    x0 = (rng.standard_normal() - fac[j, 1] * x1) * fac[j, 0]
    b0 = fac[j, 3] * t0 + fac[j, 4] * t1 + sd * x0
    b1 = fac[j, 4] * t0 + fac[j, 5] * t1 + sd * x1
    b[j, 0], b[j, 1] = b0, b1
    sums[0] += b0 * b0
    sums[1] += b0 * b1
    sums[2] += b1 * b1
    sums[3] += b0 * (ztz[j, 0, 0] * b0 + ztz[j, 0, 1] * b1 - 2.0 * t0) + b1 * (
        ztz[j, 1, 0] * b0 + ztz[j, 1, 1] * b1 - 2.0 * t1
    )


@njit(cache=True, nogil=True)
def _pair(a, c):
    """Position of :math:`L_{ac}` (a >= c) in vec(L): rows of the lower triangle in order."""
    return a * (a + 1) // 2 + c


@njit(cache=True, nogil=True)
def asis_system(ztz, zr, eta, prec, rhs, q):
    """The normal equations of :math:`\\operatorname{vec}(L)` given :math:`\\eta`:
    :math:`Z_j^\\top(y_j - X_j\\beta) = Z_j^\\top Z_j L\\eta_j + Z_j^\\top e_j` is linear in the
    :math:`q(q+1)/2` entries :math:`L_{ab}` (a >= b), with

    .. math::
        A_{(ab),(cd)} = \\sum_j \\eta_{jb}\\eta_{jd}(Z_j^\\top Z_j)_{ac}, \\quad
        r_{(ab)} = \\sum_j \\eta_{jb}\\,[Z_j^\\top(y_j - X_j\\beta)]_a,

    so the likelihood in vec(L) is :math:`\\exp\\{-(\\theta^\\top A\\theta -
    2\\theta^\\top r)/(2\\sigma^2)\\}` (``zr`` holds :math:`Z_j^\\top(y_j - X_j\\beta)`)."""
    if q == 2:
        _asis_system_q2(ztz, zr, eta, prec, rhs)
        return
    _asis_system_general(ztz, zr, eta, prec, rhs, q)


@njit(cache=True, nogil=True)
def _asis_system_q2(ztz, zr, eta, prec, rhs):
    """:func:`asis_system` at q = 2 written out: vec(L) = (L00, L10, L11), six sums."""
    s0 = s1 = s2 = s3 = s4 = s5 = r0 = r1 = r2 = 0.0
    for j in range(eta.shape[0]):
        e0, e1 = eta[j, 0], eta[j, 1]
        e00, e01 = e0 * e0, e0 * e1
        s0 += e00 * ztz[j, 0, 0]
        s1 += e00 * ztz[j, 1, 0]
        s2 += e00 * ztz[j, 1, 1]
        s3 += e01 * ztz[j, 1, 0]
        s4 += e01 * ztz[j, 1, 1]
        s5 += e1 * e1 * ztz[j, 1, 1]
        r0 += e0 * zr[j, 0]
        r1 += e0 * zr[j, 1]
        r2 += e1 * zr[j, 1]
    prec[0, 0], prec[1, 0], prec[1, 1] = s0, s1, s2
    prec[2, 0], prec[2, 1], prec[2, 2] = s3, s4, s5
    prec[0, 1], prec[0, 2], prec[1, 2] = s1, s3, s4
    rhs[0], rhs[1], rhs[2] = r0, r1, r2


@njit(cache=True, nogil=True)
def _asis_system_general(ztz, zr, eta, prec, rhs, q):
    """:func:`asis_system` for any q (loops over the pairs of entries of L)."""
    d = q * (q + 1) // 2
    for k in range(d):
        rhs[k] = 0.0
        for t in range(d):
            prec[k, t] = 0.0
    for j in range(eta.shape[0]):
        for a in range(q):
            for bb in range(a + 1):
                k1 = _pair(a, bb)
                rhs[k1] += eta[j, bb] * zr[j, a]
                for c in range(q):
                    for dd in range(c + 1):
                        k2 = _pair(c, dd)
                        if k2 <= k1:
                            prec[k1, k2] += eta[j, bb] * eta[j, dd] * ztz[j, a, c]
    for k1 in range(d):
        for k2 in range(k1):
            prec[k2, k1] = prec[k1, k2]


@njit(cache=True, nogil=True)
def log_prior_l(low, nu, s0, q, work, col):
    """:math:`\\log g(L)`: the prior of :math:`\\Sigma = LL^\\top` (inverse-Wishart kernel
    :math:`|\\Sigma|^{-(\\nu+q+1)/2}e^{-\\operatorname{tr}(S\\Sigma^{-1})/2}`; flat is
    :math:`\\nu = -(q+1), S = 0`) times the Jacobian :math:`|d\\Sigma/dL| \\propto
    \\prod_i |L_{ii}|^{q-i}` (i = 0..q-1), any sign of :math:`L_{ii}`; ``-inf`` for a zero
    diagonal."""
    val = 0.0
    for i in range(q):
        if low[i, i] == 0.0:
            return -math.inf
        val += (q - i - (nu + q + 1.0)) * math.log(abs(low[i, i]))
    nonzero = False
    for i in range(q):
        for c in range(q):
            if s0[i, c] != 0.0:
                nonzero = True
    if nonzero:  # tr(S (LL')^-1) = tr(L^-1 (L^-1 S)')
        for c in range(q):
            for i in range(q):
                col[i] = s0[i, c]
            _solve_lower(low, col, col, q)
            for i in range(q):
                work[i, c] = col[i]  # X = L^-1 S
        tr = 0.0
        for c in range(q):
            for i in range(q):
                col[i] = work[c, i]  # column c of X'
            _solve_lower(low, col, col, q)
            tr += col[c]
        val -= 0.5 * tr
    return val


@njit(cache=True, nogil=True, inline="always")
def _llt(low, out, q):
    """``out`` = :math:`LL^\\top` for the lower-triangular ``low`` (q x q), both triangles."""
    for a in range(q):
        for c in range(a + 1):
            s = 0.0
            for t in range(c + 1):
                s += low[a, t] * low[c, t]
            out[a, c] = s
            out[c, a] = s


@njit(cache=True, nogil=True)
def _interweave(rng, ztz, zr, b, cov, sigma2, nu, s0, eta, low, low_new, prec, low_d, rhs,
                theta, work, col):  # fmt: skip
    """The ASIS step (Yu & Meng 2011) on the non-centred form :math:`b_j = L\\eta_j`.

    With :math:`L = \\operatorname{chol}\\Sigma` and :math:`\\eta_j = L^{-1}b_j` held fixed,
    redraw :math:`L \\mid \\eta, \\beta, \\sigma^2, y`. In :math:`(\\eta, L)` the joint density
    is the likelihood, Gaussian in vec(L) (:func:`asis_system`), times
    :math:`\\prod_j N(\\eta_j; 0, I)` (the :math:`|L|^{-m}` of :math:`p(b \\mid \\Sigma)`
    cancels the Jacobian :math:`|L|^m` of :math:`b = L\\eta`), times :math:`g(L)`
    (:func:`log_prior_l`). An independence Metropolis-Hastings step proposing from that
    Gaussian accepts with probability :math:`\\min(1, g(L')/g(L))`. :math:`L` of either
    sign on its diagonal is allowed: flipping column k of :math:`L` and entry k of every
    :math:`\\eta_j` leaves :math:`\\Sigma = LL^\\top` and :math:`b_j` unchanged and the
    density equal, so the step on the sign-free space leaves the posterior of
    :math:`(\\Sigma, b)` invariant whichever branch (here the Cholesky one) it starts from.
    Then :math:`b_j = L'\\eta_j`, :math:`\\Sigma = L'L'^\\top`. Returns 1 if accepted."""
    q = cov.shape[0]
    m = b.shape[0]
    d = q * (q + 1) // 2
    if not _chol(cov, low, q):
        return 0
    if q == 2:  # eta_j = L^-1 b_j written out
        i00, l10, i11 = 1.0 / low[0, 0], low[1, 0], 1.0 / low[1, 1]
        for j in range(m):
            e0 = b[j, 0] * i00
            eta[j, 0] = e0
            eta[j, 1] = (b[j, 1] - l10 * e0) * i11
    else:
        for j in range(m):
            for r in range(q):
                col[r] = b[j, r]
            _solve_lower(low, col, col, q)
            for r in range(q):
                eta[j, r] = col[r]
    asis_system(ztz, zr, eta, prec, rhs, q)
    if not _chol(prec, low_d, d):
        return 0
    _chol_solve(low_d, rhs, rhs, d)  # the mean
    _draw_mvn(rng, low_d, rhs, math.sqrt(sigma2), theta, d)
    for a in range(q):
        for c in range(q):
            low_new[a, c] = theta[_pair(a, c)] if c <= a else 0.0
    log_ratio = log_prior_l(low_new, nu, s0, q, work, col) - log_prior_l(low, nu, s0, q, work, col)
    if not (log_ratio >= 0.0 or math.log(rng.random()) < log_ratio):
        return 0
    if q == 2:  # b_j = L' eta_j written out
        n00, n10, n11 = low_new[0, 0], low_new[1, 0], low_new[1, 1]
        for j in range(m):
            b[j, 0] = n00 * eta[j, 0]
            b[j, 1] = n10 * eta[j, 0] + n11 * eta[j, 1]
    else:
        for j in range(m):
            for a in range(q):
                s = 0.0
                for c in range(a + 1):
                    s += low_new[a, c] * eta[j, c]
                b[j, a] = s
    _llt(low_new, cov, q)
    return 1


# ------------------------------------------ the collapsed Metropolis-Hastings step on Sigma
INDEPENDENT_STEPS = 1
"""Independence Metropolis-Hastings steps on :math:`\\Sigma` per sweep in
``parameterization="collapsed"`` (:func:`_collapsed_step`)."""

RANDOM_WALK_STEPS = 1
"""Random-walk Metropolis-Hastings steps on :math:`\\Sigma` per sweep after them (at least 1:
the only move until the warm-up has fitted the independence proposal)."""

TARGET_ACCEPT = 0.3
"""The acceptance rate the warm-up tunes the random walk's scale to."""

T_DF = 5.0
"""Degrees of freedom of the independence proposal (a multivariate t: heavier tails than the
target's, so the ratio target/proposal stays bounded)."""

T_INFLATE = 1.2
"""The independence proposal's scale relative to the warm-up's sd of :math:`\\theta`."""

_MH_HEAD = 6  # steps (walk), warm-up sweeps, sweeps adapted, log scale, draws seen, (indep.)


def mh_size(q: int) -> int:
    """Length of a chain's state array of the collapsed step (:func:`mh_state`)."""
    d = q * (q + 1) // 2
    return _MH_HEAD + d + 2 * d * d


def mh_state(cov: NDArray[np.float64], n_warmup: int, n_independent: int = INDEPENDENT_STEPS,
             n_walk: int = RANDOM_WALK_STEPS) -> NDArray[np.float64]:  # fmt: skip
    """A chain's state of the collapsed step: ``[K_walk, n_warmup, t, log s, n, K_indep,
    mean (d), M2 (d x d), C (d x d)]``: the random-walk steps per sweep, the warm-up sweeps
    planned and adapted so far, the log of the walk's scale s, the number, running mean and
    sum of squared deviations (Welford) of the warm-up's draws of :math:`\\theta`, the
    independence steps per sweep, and the Cholesky factor C of the walk's covariance
    (:math:`\\theta' = \\theta + sCz`). C starts diagonal at the chain's starting
    :math:`\\Sigma`: sd 0.1 for each :math:`\\log L_{ii}` and :math:`0.1\\,L_{aa}` for
    :math:`L_{ac}`, c < a."""
    if n_walk < 1 or n_independent < 0:
        raise ValueError("the collapsed step needs at least one random-walk step per sweep")
    q = cov.shape[0]
    d = q * (q + 1) // 2
    out = np.zeros(mh_size(q))
    out[0], out[1], out[5] = n_walk, n_warmup, n_independent
    low = np.linalg.cholesky(cov)
    c = out[_MH_HEAD + d + d * d :].reshape(d, d)
    for a in range(q):
        for b in range(a + 1):
            k = a * (a + 1) // 2 + b
            c[k, k] = 0.1 if a == b else 0.1 * low[a, a]
    return out


@njit(cache=True, nogil=True)
def _theta_to_low(theta, low, q):
    """L from :math:`\\theta` = (rows of L's lower triangle, :math:`\\log L_{ii}` on the
    diagonal); False if a :math:`\\log L_{ii}` is out of [-300, 300] (outside the range of
    floating point once squared and multiplied)."""
    for a in range(q):
        for c in range(q):
            if c < a:
                low[a, c] = theta[_pair(a, c)]
            elif c == a:
                t = theta[_pair(a, a)]
                if not abs(t) <= 300.0:
                    return False
                low[a, a] = math.exp(t)
            else:
                low[a, c] = 0.0
    return True


@njit(cache=True, nogil=True)
def collapsed_log_target(theta, ztz, zr, sigma2, nu, s0, low, work, col, mq, low_m):
    """:math:`\\log p(\\Sigma \\mid \\beta, \\sigma^2, y)` in :math:`\\theta`, every
    :math:`b_j` integrated out, up to a constant (``-inf`` off the support).

    :math:`\\Sigma = LL^\\top`, :math:`\\theta` = vec(L) with :math:`\\log L_{ii}` for the
    diagonal (:func:`_theta_to_low`). :math:`y_j \\mid \\beta, \\Sigma, \\sigma^2 \\sim
    N(X_j\\beta, V_j)`, :math:`V_j = \\sigma^2 I + Z_j\\Sigma Z_j^\\top`, with
    :math:`|V_j| = \\sigma^{2(n_j - q)}|\\Sigma||M_j|` and :math:`V_j^{-1} =
    \\sigma^{-2}(I - Z_jM_j^{-1}Z_j^\\top)` (:math:`M_j = A_j + \\sigma^2\\Sigma^{-1}`), so
    with :math:`r_j = Z_j^\\top(y_j - X_j\\beta)` (``zr``)

    .. math::
        \\log p(\\Sigma \\mid \\beta, \\sigma^2, y) = \\log p(\\Sigma) - \\tfrac m2\\log|\\Sigma|
        - \\tfrac12\\textstyle\\sum_j \\log|M_j|
        + \\sum_j r_j^\\top M_j^{-1} r_j / (2\\sigma^2) + \\text{const},

    plus the log Jacobian of :math:`\\theta \\mapsto \\Sigma`: :math:`\\log|d\\Sigma/dL|`
    (:func:`log_prior_l` has it with the prior) and :math:`\\sum_i \\log L_{ii}` for the
    logs. :math:`\\log|\\Sigma| = 2\\sum_i \\log L_{ii}`. At q = 2 every group's share is in
    closed form (:math:`|M_j|` and :math:`r_j^\\top M_j^{-1}r_j` of a 2 x 2 matrix); other q
    factor each :math:`M_j = L_{M}L_{M}^\\top`, :math:`r_j^\\top M_j^{-1}r_j =
    \\lVert L_M^{-1}r_j\\rVert^2`. ``low, work, mq, low_m`` (q x q) and ``col`` (q) are
    work arrays."""
    q = low.shape[0]
    m = zr.shape[0]
    if not _theta_to_low(theta, low, q):
        return -math.inf
    log_diag = 0.0
    for i in range(q):
        log_diag += theta[_pair(i, i)]
    val = log_prior_l(low, nu, s0, q, work, col) + log_diag - m * log_diag
    if q == 2:
        return val + _collapsed_loglik_q2(low, ztz, zr, sigma2)
    return val + _collapsed_loglik_general(low, ztz, zr, sigma2, work, col, mq, low_m)


@njit(cache=True, nogil=True)
def _collapsed_loglik_q2(low, ztz, zr, sigma2):
    """:math:`-\\frac12\\sum_j \\log|M_j| + \\sum_j r_j^\\top M_j^{-1}r_j/(2\\sigma^2)` at
    q = 2 written out (:func:`collapsed_log_target`; ``low`` = L): :math:`\\sigma^2\\Sigma^{-1}
    = \\sigma^2L^{-\\top}L^{-1}` in closed form, then each :math:`|M_j|` and
    :math:`r_j^\\top M_j^{-1}r_j` of a 2 x 2 matrix, one log per 8 groups (the product of
    their determinants, each kept within [1e-30, 1e30] or logged alone); ``-inf`` if an
    :math:`M_j` is not positive definite."""
    m = zr.shape[0]
    log_det = 0.0
    quad = 0.0
    l00, l10, l11 = low[0, 0], low[1, 0], low[1, 1]
    i11 = sigma2 / (l11 * l11)
    p11 = i11
    p10 = -l10 / l00 * i11
    p00 = sigma2 / (l00 * l00) + l10 * l10 / (l00 * l00) * i11
    for first in range(0, m, 8):  # one log per 8 groups: the product of their |M_j|
        prod = 1.0
        for j in range(first, min(first + 8, m)):
            m00 = ztz[j, 0, 0] + p00
            m10 = ztz[j, 1, 0] + p10
            m11 = ztz[j, 1, 1] + p11
            det = m00 * m11 - m10 * m10
            if not (det > 0.0 and m00 > 0.0):
                return -math.inf
            r0, r1 = zr[j, 0], zr[j, 1]
            quad += (r0 * r0 * m11 - 2.0 * r0 * r1 * m10 + r1 * r1 * m00) / det
            if 1e-30 < det < 1e30:  # 8 of them multiply within floating point
                prod *= det
            else:
                log_det += math.log(det)
        log_det += math.log(prod)
    return 0.5 * (quad / sigma2 - log_det)


@njit(cache=True, nogil=True)
def _collapsed_loglik_general(low, ztz, zr, sigma2, work, col, mq, low_m):
    """:func:`_collapsed_loglik_q2` for any q: :math:`\\sigma^2\\Sigma^{-1}` from
    :math:`L^{-1}`, then each :math:`M_j = L_ML_M^\\top` (Cholesky): :math:`\\log|M_j| =
    2\\sum_a\\log (L_M)_{aa}`, :math:`r_j^\\top M_j^{-1}r_j = \\lVert L_M^{-1}r_j\\rVert^2`."""
    q = low.shape[0]
    m = zr.shape[0]
    log_det = 0.0
    quad = 0.0
    for c in range(q):  # work = L^-1, column by column; then mq = sigma2 L'^-1 L^-1
        for i in range(q):
            col[i] = 1.0 if i == c else 0.0
        _solve_lower(low, col, col, q)
        for i in range(q):
            work[i, c] = col[i]
    for a in range(q):
        for c in range(q):
            s = 0.0
            for t in range(q):
                s += work[t, a] * work[t, c]
            mq[a, c] = sigma2 * s
    for j in range(m):
        for a in range(q):
            for c in range(q):
                work[a, c] = ztz[j, a, c] + mq[a, c]
        if not _chol(work, low_m, q):
            return -math.inf
        for a in range(q):
            col[a] = zr[j, a]
            log_det += 2.0 * math.log(low_m[a, a])
        _solve_lower(low_m, col, col, q)
        for a in range(q):
            quad += col[a] * col[a]
    return 0.5 * (quad / sigma2 - log_det)


@njit(cache=True, nogil=True)
def _adapt(mh, theta, n_acc, q, scratch):
    """One warm-up sweep's adaptation of the collapsed step's proposal (state in ``mh``,
    :func:`mh_state`). Robbins-Monro on the log scale: :math:`\\log s \\mathrel{+}=
    (\\hat a - a^*)/t^{0.6}`, :math:`\\hat a` this sweep's acceptance fraction,
    :math:`a^*` = :data:`TARGET_ACCEPT`. From a fifth of the warm-up on, the draws of
    :math:`\\theta` are summed (Welford); from 10d of them on, the proposal's covariance is
    :math:`2.38^2/d` times their covariance (Haario et al. 2001; Roberts & Rosenthal 2001;
    the log scale restarts at 0 when it first is), refactored every sweep. Loops of d;
    ``scratch`` (d) is a work array."""
    d = q * (q + 1) // 2
    t = mh[2] + 1.0
    mh[2] = t
    mh[3] += (n_acc / mh[0] - TARGET_ACCEPT) / t**0.6
    if t <= 0.2 * mh[1]:
        return
    n = mh[4] + 1.0
    mh[4] = n
    o_mean, o_m2, o_c = _MH_HEAD, _MH_HEAD + d, _MH_HEAD + d + d * d
    for i in range(d):  # Welford: delta = x - mean; mean += delta / n; M2 += delta (x - mean)'
        scratch[i] = theta[i] - mh[o_mean + i]
        mh[o_mean + i] += scratch[i] / n
    for i in range(d):
        for c in range(d):
            mh[o_m2 + i * d + c] += scratch[i] * (theta[c] - mh[o_mean + c])
    if n < 10.0 * d:
        return
    if n < 10.0 * d + 0.5:
        mh[3] = 0.0
    f = 2.38 * 2.38 / d / (n - 1.0)
    for i in range(d):  # Cholesky of f * M2 (+ a ridge of 1e-10 of its diagonal) into C
        for c in range(i + 1):
            s = f * 0.5 * (mh[o_m2 + i * d + c] + mh[o_m2 + c * d + i])
            if i == c:
                s *= 1.0 + 1e-10
            for k in range(c):
                s -= mh[o_c + i * d + k] * mh[o_c + c * d + k]
            if i == c:
                if not s > 0.0:
                    return  # degenerate warm-up draws: keep the last proposal
                mh[o_c + i * d + i] = math.sqrt(s)
            else:
                mh[o_c + i * d + c] = s / mh[o_c + c * d + c]


@njit(cache=True, nogil=True)
def _independence_moves(rng, ztz, zr, sigma2, nu, s0, mh, theta, cur, prop, low, work, col,
                        mq, low_m):  # fmt: skip
    """``mh[5]`` independence Metropolis-Hastings steps from the warm-up's fit: :math:`\\theta'
    = \\hat\\mu + cCu`, u standard multivariate t with :data:`T_DF` degrees of freedom,
    :math:`cC` the Cholesky factor of :data:`T_INFLATE` squared times the warm-up's
    covariance of :math:`\\theta` (C is the walk's factor, :math:`2.38/\\sqrt d` of it), accepted
    with probability :math:`\\min(1, p(\\theta')g(\\theta)/(p(\\theta)g(\\theta')))`, g the t
    density (:math:`\\log g = -\\frac{\\nu + d}2\\log(1 + u^\\top u/\\nu)` + const). Returns the
    accepted count; ``theta`` and ``cur`` (its log target, ``cur[0]``) updated in place."""
    d = theta.size
    o_mean, o_c = _MH_HEAD, _MH_HEAD + d + d * d
    c_scale = T_INFLATE * math.sqrt(d) / 2.38
    u_cur = 0.0  # u of the current theta: (cC)^-1 (theta - mean)
    for i in range(d):
        s = theta[i] - mh[o_mean + i]
        for c in range(i):
            s -= c_scale * mh[o_c + i * d + c] * prop[d + c]
        prop[d + i] = s / (c_scale * mh[o_c + i * d + i])
        u_cur += prop[d + i] * prop[d + i]
    log_g_cur = -0.5 * (T_DF + d) * math.log1p(u_cur / T_DF)
    n_acc = 0
    for _ in range(int(mh[5])):
        w = math.sqrt(T_DF / (2.0 * standard_gamma(rng, 0.5 * T_DF)))
        uu = 0.0
        for i in range(d):
            prop[d + i] = w * rng.standard_normal()
            uu += prop[d + i] * prop[d + i]
        for i in range(d):
            s = mh[o_mean + i]
            for c in range(i + 1):
                s += c_scale * mh[o_c + i * d + c] * prop[d + c]
            prop[i] = s
        log_g = -0.5 * (T_DF + d) * math.log1p(uu / T_DF)
        val = collapsed_log_target(prop, ztz, zr, sigma2, nu, s0, low, work, col, mq, low_m)
        ratio = val - cur[0] - log_g + log_g_cur
        if val > -math.inf and (ratio >= 0.0 or math.log(rng.random()) < ratio):
            for i in range(d):
                theta[i] = prop[i]
            cur[0] = val
            log_g_cur = log_g
            n_acc += 1
    return n_acc


@njit(cache=True, nogil=True)
def _collapsed_step(rng, ztz, zr, cov, sigma2, nu, s0, mh, adapt, counts, theta, prop, cur,
                    low, work, col, mq, low_m):  # fmt: skip
    """Metropolis-Hastings on :math:`\\Sigma` from :math:`p(\\Sigma \\mid \\beta, \\sigma^2, y)`,
    every :math:`b_j` integrated out (:func:`collapsed_log_target`), in :math:`\\theta`
    (log-Cholesky): ``mh[5]`` independence steps (:func:`_independence_moves`, once the
    warm-up has fitted their proposal: at least 10d warm-up draws of :math:`\\theta`), then
    ``mh[0]`` random-walk steps :math:`\\theta' = \\theta + sCz`, z standard normal, accepted
    with probability :math:`\\min(1, p(\\theta')/p(\\theta))`. Each step leaves the target
    invariant, so their sequence does. ``cov`` is updated in place; ``counts`` += the
    accepted (independence, walk) proposals; returns their total (-1 if ``cov`` is not
    positive definite). ``theta``, ``prop`` (2d), ``cur`` (1) and the q x q arrays are work
    arrays. With ``adapt`` (warm-up only) :func:`_adapt` tunes s, C and the
    independence proposal afterwards; the kept draws come from the fixed kernel the warm-up
    left. The sweep draws the :math:`b_j` from their full conditional right after, given the
    new :math:`\\Sigma`: together a draw of :math:`(\\Sigma, b) \\mid \\beta, \\sigma^2, y`, so
    the old :math:`b_j` are not used (partially collapsed Gibbs; van Dyk & Park 2008)."""
    q = cov.shape[0]
    d = q * (q + 1) // 2
    if not _chol(cov, low, q):
        return -1
    for a in range(q):
        for c in range(a + 1):
            theta[_pair(a, c)] = math.log(low[a, a]) if a == c else low[a, c]
    cur[0] = collapsed_log_target(theta, ztz, zr, sigma2, nu, s0, low, work, col, mq, low_m)
    n_ind = 0
    if mh[5] > 0 and mh[4] >= 10.0 * d:
        n_ind = _independence_moves(rng, ztz, zr, sigma2, nu, s0, mh, theta, cur, prop, low,
                                    work, col, mq, low_m)  # fmt: skip
    scale = math.exp(mh[3])
    o_c = _MH_HEAD + d + d * d
    n_walk = 0
    for _ in range(int(mh[0])):
        for i in range(d):
            prop[d + i] = rng.standard_normal()
        for i in range(d):
            s = 0.0
            for c in range(i + 1):
                s += mh[o_c + i * d + c] * prop[d + c]
            prop[i] = theta[i] + scale * s
        val = collapsed_log_target(prop, ztz, zr, sigma2, nu, s0, low, work, col, mq, low_m)
        if val > -math.inf and (val >= cur[0] or math.log(rng.random()) < val - cur[0]):
            for i in range(d):
                theta[i] = prop[i]
            cur[0] = val
            n_walk += 1
    counts[0] += n_ind
    counts[1] += n_walk
    if n_ind + n_walk > 0:
        _theta_to_low(theta, low, q)
        _llt(low, cov, q)
    if adapt:
        _adapt(mh, theta, n_walk, q, prop)
    return n_ind + n_walk


@njit(cache=True, nogil=True)
def sweeps(rng, param, xtx, xtz, ztz, xty, zty, totals, hyper, beta0, p0, s0, state, beta, b,
           cov, n_iter, start, keep, out_fe, out_cov, out_s2, out_b, acc, accepted,
           mh):  # fmt: skip
    """Run ``n_iter`` sweeps of the mixed model (module docstring for the scan).

    ``totals = (n, sum_j y_j'y_j)``; ``hyper = (a_sigma, b_sigma, nu)``, ``beta0, p0`` the
    prior mean and precision of beta (0: flat), ``s0`` the inverse-Wishart scale (0: flat).
    ``state = [sigma2]``; ``beta`` (p), ``b`` (m, q) and ``cov`` (q, q) are updated in place.
    Sweep ``i`` is stored at row ``start + i`` of the outputs (``out_b``: the groups
    ``keep``) and the b_j are summed into ``acc`` (sum, sum of squares; (2, m q)), unless
    ``start < 0`` (warm-up). ``accepted[0]`` counts the interweaving step's acceptances
    (warm-up included), ``accepted[1]`` and ``accepted[2]`` the collapsed step's accepted
    independence and random-walk proposals in the kept sweeps; ``mh`` is the collapsed
    step's state (:func:`mh_state`; adapted during warm-up only). Every loop is bounded by
    m, p, q, ``mh[0]``, ``mh[5]`` or ``n_iter``.
    """
    m, p, q = xtz.shape[0], xtz.shape[1], xtz.shape[2]
    n_total, yty_total = totals[0], totals[1]
    a_sigma, b_sigma, nu = hyper[0], hyper[1], hyper[2]
    xtx_total = np.zeros((p, p))
    xty_total = np.zeros(p)
    for j in range(m):
        for r in range(p):
            xty_total[r] += xty[j, r]
            for c in range(p):
                xtx_total[r, c] += xtx[j, r, c]
    general = 0 if q == 2 else m  # q = 2: closed forms, fac instead of m_low, w, v
    m_low = np.empty((general, q, q))  # Cholesky factors of M_j
    w = np.empty((general, q, p))  # M_j^{-1} C_j'
    v = np.empty((general, q))  # M_j^{-1} Z_j'y_j
    fac = np.empty((m if q == 2 else 0, 6))  # see _school_beta_q2
    sums = np.zeros(4)
    zr = np.empty((m, q))  # Z_j'(y_j - X_j beta)
    inv_cov = np.empty((q, q))
    mq = np.empty((q, q))
    low_q = np.empty((q, q))
    tmp_q = np.empty((q, q))
    tmp_q2 = np.empty((q, q))
    col_q = np.empty(q)
    col2 = np.empty(2 * q)
    prec = np.empty((p, p))
    low_p = np.empty((p, p))
    rhs = np.empty(p)
    mean_p = np.empty(p)
    scale_post = np.empty((q, q))
    d = q * (q + 1) // 2  # the interweaving step's work: vec(L) and its normal equations
    eta = np.empty((m, q))
    prec_d = np.empty((d, d))
    low_d = np.empty((d, d))
    rhs_d = np.empty(d)
    theta_d = np.empty(d)
    prop_d = np.empty(2 * d)  # the collapsed step's proposal and its normals
    low_m = np.empty((q, q))
    counts = np.zeros(2)
    cur = np.empty(1)
    sigma2 = state[0]
    for it in range(n_iter):
        if not _inverse(cov, inv_cov, low_q, col_q, q):
            raise ValueError("Sigma is not positive definite (a variance underflowed)")
        # beta | Sigma, sigma2, y (b integrated out): P = sum_j (X'X_j - C_j M_j^-1 C_j')/s2
        # + P0, rhs = sum_j (X'y_j - C_j M_j^-1 Z'y_j)/s2 + P0 beta0
        for r in range(p):
            rhs[r] = 0.0
            for c in range(p):
                prec[r, c] = xtx_total[r, c]
        for j in range(m):
            if q == 2:
                if not _school_beta_q2(ztz, xtz, zty, xty, inv_cov, sigma2, fac, j, rhs, prec, p):
                    raise ValueError("M_j = Z_j'Z_j + sigma2 Sigma^-1 is not positive definite")
                continue
            if not _factor_m(ztz, inv_cov, sigma2, fac, mq, m_low, j, q):
                raise ValueError("M_j = Z_j'Z_j + sigma2 Sigma^-1 is not positive definite")
            for c in range(p):
                for r in range(q):
                    col_q[r] = xtz[j, c, r]
                _solve_at(m_low, j, col_q, q)
                for r in range(q):
                    w[j, r, c] = col_q[r]
            for r in range(q):
                col_q[r] = zty[j, r]
            _solve_at(m_low, j, col_q, q)
            for r in range(q):
                v[j, r] = col_q[r]
            for r in range(p):
                s = xty[j, r]
                for t in range(q):
                    s -= xtz[j, r, t] * v[j, t]
                rhs[r] += s
                for c in range(r + 1):
                    s = 0.0
                    for t in range(q):
                        s += xtz[j, r, t] * w[j, t, c]
                    prec[r, c] -= s
        for r in range(p):
            s = 0.0
            for c in range(p):
                s += p0[r, c] * beta0[c]
            rhs[r] = rhs[r] / sigma2 + s
            for c in range(r + 1):
                prec[r, c] = prec[r, c] / sigma2 + p0[r, c]
                prec[c, r] = prec[r, c]
        if not _chol(prec, low_p, p):
            raise ValueError("beta: the marginal precision is not positive definite")
        _chol_solve(low_p, rhs, mean_p, p)
        _draw_mvn(rng, low_p, mean_p, 1.0, beta, p)
        # (Sigma, b) | beta, sigma2, y: Sigma by Metropolis-Hastings with b integrated out,
        # then b_j | beta, Sigma, sigma2, y below (its factors refreshed if Sigma moved)
        moved = 0
        for j in range(m):  # r_j = Z_j'(y_j - X_j beta) at the new beta, for every step below
            for r in range(q):
                t_ = zty[j, r]
                for c in range(p):
                    t_ -= xtz[j, c, r] * beta[c]
                zr[j, r] = t_
        if param == COLLAPSED:
            moved = _collapsed_step(
                rng, ztz, zr, cov, sigma2, nu, s0, mh, start < 0, counts, theta_d, prop_d,
                cur, low_q, tmp_q, col_q, tmp_q2, low_m,
            )  # fmt: skip
            if moved < 0:
                raise ValueError("Sigma is not positive definite (a variance underflowed)")
            if start >= 0:
                accepted[1] += counts[0]
                accepted[2] += counts[1]
            counts[0] = counts[1] = 0.0
            if moved > 0:
                if not _inverse(cov, inv_cov, low_q, col_q, q):
                    raise ValueError("Sigma is not positive definite (a variance underflowed)")
                for j in range(m):
                    if not _factor_m(ztz, inv_cov, sigma2, fac, mq, m_low, j, q):
                        raise ValueError("M_j = Z_j'Z_j + sigma2 Sigma^-1 is not positive definite")
        # b_j | beta, Sigma, sigma2, y ~ N(M_j^-1 Z_j'(y_j - X_j beta), sigma2 M_j^-1), the
        # mean M_j^-1 Z'y_j - (M_j^-1 C_j') beta; and the residual sum of squares R
        sd = math.sqrt(sigma2)
        for r in range(q):
            for c in range(q):
                scale_post[r, c] = s0[r, c]
        rss = yty_total
        for r in range(p):
            s = 0.0
            for c in range(p):
                s += xtx_total[r, c] * beta[c]
            rss += beta[r] * (s - 2.0 * xty_total[r])
        sums[0] = sums[1] = sums[2] = sums[3] = 0.0
        for j in range(m):
            if q == 2:
                _school_b_q2(rng, ztz, fac, sd, b, zr, j, sums)
                continue
            for r in range(q):
                s = v[j, r]
                for c in range(p):
                    s -= w[j, r, c] * beta[c]
                col2[r] = s
            if moved > 0:  # Sigma moved since v and w: the mean M_j^-1 Z_j'(y_j - X_j beta)
                for r in range(q):
                    col2[r] = zr[j, r]
                _solve_at(m_low, j, col2, q)
            _noise_at(rng, m_low, j, sd, col2, q)
            for r in range(q):
                b[j, r] = col2[r]
            for r in range(q):
                s = 0.0
                for c in range(q):
                    s += ztz[j, r, c] * b[j, c]
                    scale_post[r, c] += b[j, r] * b[j, c]
                rss += b[j, r] * (s - 2.0 * zr[j, r])
        if q == 2:
            scale_post[0, 0] += sums[0]
            scale_post[1, 0] += sums[1]
            scale_post[0, 1] += sums[1]
            scale_post[1, 1] += sums[2]
            rss += sums[3]
        # Sigma | b ~ IW(nu + m, S + sum_j b_j b_j')
        _draw_iw(rng, nu + m, scale_post, cov, low_q, tmp_q, tmp_q2, q)
        # 1/sigma2 | beta, b, y ~ Gamma(a + n/2, b + R/2)
        sigma2 = (b_sigma + 0.5 * max(rss, 0.0)) / standard_gamma(rng, a_sigma + 0.5 * n_total)
        if param != BLOCKED:
            accepted[0] += _interweave(
                rng, ztz, zr, b, cov, sigma2, nu, s0, eta, low_q, tmp_q, prec_d, low_d, rhs_d,
                theta_d, tmp_q2, col_q,
            )  # fmt: skip
        if start >= 0:
            row = start + it
            for r in range(p):
                out_fe[row, r] = beta[r]
            for r in range(q):
                for c in range(q):
                    out_cov[row, r, c] = cov[r, c]
            out_s2[row] = sigma2
            for k in range(keep.size):
                for r in range(q):
                    out_b[row, k, r] = b[keep[k], r]
            for j in range(m):
                for r in range(q):
                    acc[0, j * q + r] += b[j, r]
                    acc[1, j * q + r] += b[j, r] * b[j, r]
    state[0] = sigma2


# ------------------------------------------------------------------------ the posterior
@dataclass(repr=False)
class MixedPosterior:
    """Draws of the mixed model's Gibbs sampler (after warm-up), and what produced them.

    Attributes
    ----------
    draws : dict of str to ndarray
        ``"fe"`` (chains, draws, p), ``"cov_re"`` (chains, draws, q, q), ``"sigma2"``
        (chains, draws), and ``"b"`` (chains, draws, len(b_groups), q) for the kept groups.
    fe_names, re_names : tuple of str
        The fixed effects (as MixedLM's ``fe_params`` names them) and the random effects.
    groups : ndarray
        Every group label, sorted; ``b_groups`` the labels of the kept ``b`` draws.
    b_mean, b_sd : ndarray, shape (m, q)
        Posterior mean and sd of every :math:`b_j` (accumulated while sampling, kept or not).
    stats : MixedStats
        The sufficient statistics the sampler ran on.
    elapsed : float
        Seconds spent sampling, warm-up included (compilation excluded).
    acceptance : float
        Acceptance rate of the interweaving step, warm-up included (NaN for ``"blocked"``).
    collapsed_acceptance : tuple of float
        Acceptance rates of the collapsed step's independence and random-walk proposals on
        :math:`\\Sigma` in the kept sweeps, after its warm-up tuning (``"collapsed"`` only;
        NaN otherwise).
    prior, parameterization, seed
        What produced the draws.
    rows : tuple
        ``(X, Z, y, obs_group)``, the rows the statistics were built from (for the pointwise
        groups of :meth:`to_arviz`).
    """

    draws: dict[str, NDArray[np.float64]]
    fe_names: tuple[str, ...]
    re_names: tuple[str, ...]
    groups: NDArray
    b_groups: NDArray
    b_mean: NDArray[np.float64]
    b_sd: NDArray[np.float64]
    stats: MixedStats
    elapsed: float
    acceptance: float
    prior: Any
    parameterization: str
    seed: int
    rows: tuple[Any, ...] = field(default=(None, None, None, None))
    collapsed_acceptance: tuple[float, float] = (math.nan, math.nan)
    model: str = "mixed_model"
    engine: str = "numba"

    def __repr__(self) -> str:
        return (
            f"MixedPosterior({self.parameterization}, {self.n_chains} chains x {self.n_draws} "
            f"draws, p = {len(self.fe_names)}, q = {len(self.re_names)}, {self.stats.m} groups, "
            f"{self.elapsed:.2f} s)"
        )

    @property
    def n_chains(self) -> int:
        """Number of chains."""
        return int(self.draws["sigma2"].shape[0])

    @property
    def n_draws(self) -> int:
        """Draws per chain (after warm-up)."""
        return int(self.draws["sigma2"].shape[1])

    def fe_frame(self) -> pd.DataFrame:
        """Posterior mean and sd of each fixed effect, indexed by ``fe_names``."""
        fe = self.draws["fe"].reshape(-1, len(self.fe_names))
        return pd.DataFrame(
            {"mean": fe.mean(axis=0), "sd": fe.std(axis=0, ddof=1)}, index=list(self.fe_names)
        )

    @property
    def y(self) -> NDArray[np.float64] | None:
        """The responses, in the order of the data."""
        return self.rows[2]

    @property
    def obs_group(self) -> NDArray[np.int64] | None:
        """Each row's group, as an index into :attr:`groups`."""
        return self.rows[3]

    def _rows(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if self.rows[2] is None:
            raise ValueError("this posterior has no rows: the pointwise groups need them")
        return self.rows[2], self.rows[3]

    def _kept_b(self) -> NDArray[np.float64]:
        """The b draws of every group, or a ``ValueError`` (``keep_b`` left some out)."""
        if len(self.b_groups) != len(self.groups):
            raise ValueError(
                "the pointwise groups need the b draws of every group: sample with keep_b=None"
            )
        return self.draws["b"]

    def _means(self, fe: NDArray, b: NDArray, rows: slice) -> NDArray[np.float64]:
        """:math:`x_i^\\top\\beta + z_i^\\top b_{j[i]}` for draws ``fe`` (k, p), ``b``
        (k, m, q) and the observations ``rows``: shape (observations, k), one observation's
        draws contiguous (:func:`_row_means`)."""
        X, Z, _, idx = self.rows
        c = np.ascontiguousarray  # one compiled version whatever the layout of the rows
        x_rows = c(X[rows], float)
        out = np.empty((x_rows.shape[0], fe.shape[0]))
        _row_means(c(fe, float), c(b, float), x_rows, c(Z[rows], float), c(idx[rows], np.int64),
                   out)  # fmt: skip
        return out

    def moment_bytes(self, n_kept: int) -> int:
        """Bytes of the kept draws an observation's mean and variance are built from
        (:func:`hierlib._pointwise.moment_bytes` for this model): beta, b of every group and
        sigma2, per chain and kept draw."""
        p, q, m = len(self.fe_names), len(self.re_names), len(self.groups)
        return 8 * self.n_chains * n_kept * (p + m * q + 1)

    def loglik_blocks(self, keep: NDArray[np.int64], block_bytes: int):
        """The pointwise log-likelihood :math:`\\log N(y_i; x_i^\\top\\beta +
        z_i^\\top b_{j[i]}, \\sigma^2)` a block of observations at a time, ``(rows, ll)``
        with ``ll`` (observations in ``rows``, chains x kept), the draws chain after chain
        (:func:`hierlib._pointwise.loglik_blocks` for this model)."""
        y, _ = self._rows()
        n_samples = self.n_chains * keep.size
        b = self._kept_b()[:, keep].reshape(n_samples, len(self.groups), -1)
        fe = self.draws["fe"][:, keep].reshape(n_samples, -1)
        s2 = self.draws["sigma2"][:, keep].reshape(n_samples)
        log_s2 = np.log(s2) + _LOG_2PI
        step = max(1, block_bytes // (8 * n_samples))
        for start in range(0, y.size, step):
            rows = slice(start, min(start + step, y.size))
            ll = np.subtract(y[rows, None], self._means(fe, b, rows))
            np.square(ll, out=ll)
            ll /= s2
            ll += log_s2
            ll *= -0.5
            yield rows, ll

    def _pointwise_bytes(self, n_kept: int, pointwise: tuple[bool, bool]) -> int:
        """Bytes :meth:`to_arviz` allocates: the kept draws it copies, and with the pointwise
        groups chains x ``n_kept`` x observations x 8 bytes each, the temporaries of one block
        (at most six arrays of :data:`POINTWISE_BLOCK` bytes, or of one draw's row if larger)
        and the coordinates; plus :data:`ARVIZ_MARGIN`."""
        rows = self.n_chains * n_kept
        values = (
            sum(int(np.prod(v.shape[2:])) for v in self.draws.values()) + 1 + len(self.re_names)
        )
        need = 8 * rows * values + ARVIZ_MARGIN
        if any(pointwise):
            n_obs = self.rows[2].size
            need += 8 * rows * n_obs * sum(pointwise)
            need += 6 * max(POINTWISE_BLOCK, 8 * n_obs) + n_obs * (8 + self.groups.itemsize)
        return need

    def to_arviz(
        self,
        log_likelihood: bool = False,
        posterior_predictive: bool = False,
        *,
        thin: int = 1,
        draws: int | None = None,
        seed: int | None = None,
        max_bytes: int = MAX_POINTWISE_BYTES,
    ):
        """The draws as an ``arviz.InferenceData``.

        ``posterior``: ``fe`` (dimension ``fixed_effect``, coordinates ``fe_names``; a
        dimension cannot share the variable's name), ``cov_re`` (``re``, ``re_``), ``sd_re``
        (``re``), ``sigma2``, ``sigma`` and ``b`` (``group``, ``re``) when kept.

        With ``log_likelihood=True`` or ``posterior_predictive=True`` (as
        :meth:`hierlib.gibbs.Posterior.to_arviz`; they need every group's b, ``keep_b=None``)
        also ``observed_data["y"]`` (dimension ``obs``, the rows in the order of the data, with
        a ``school`` coordinate), ``log_likelihood["y"]`` :math:`\\log N(y_i;
        x_i^\\top\\beta + z_i^\\top b_{j[i]}, \\sigma^2)` and/or
        ``posterior_predictive["y"]``, one replicated data set per draw (``seed``, default the
        sampler's). Then ``az.loo``, :func:`hierlib.predictive.loo` and ``az.plot_ppc`` work
        on the result. ``thin``, ``draws``: every ``thin``-th draw, or ``draws`` equally
        spaced per chain. ``max_bytes``: the most this call may allocate (refused before
        allocating, naming ``draws=``).
        """

        max_bytes = _memory.budget(max_bytes)
        keep = draw_index(self.n_draws, thin, draws)
        pointwise = (log_likelihood, posterior_predictive)
        b_all = self._kept_b() if any(pointwise) else None
        need = self._pointwise_bytes(keep.size, pointwise)
        if need > max_bytes:
            per_draw = self._pointwise_bytes(1, pointwise) - self._pointwise_bytes(0, pointwise)
            fit = int((max_bytes - self._pointwise_bytes(0, pointwise)) // per_draw)
            _memory.check(need, f"{sum(pointwise)} pointwise group(s) and the posterior of "
                          f"{self.n_chains} chains x {keep.size} draws",
                          f"draws={max(fit, 1)} or fewer (or a larger thin=)", limit=max_bytes,
                          setting="max_bytes")  # fmt: skip
        d = {k: v[:, keep] for k, v in self.draws.items()}
        cov = d["cov_re"]
        posterior = {
            "fe": d["fe"],
            "cov_re": cov,
            "sd_re": np.sqrt(np.diagonal(cov, axis1=2, axis2=3)),
            "sigma2": d["sigma2"],
            "sigma": np.sqrt(d["sigma2"]),
        }
        dims = {"fe": ["fixed_effect"], "cov_re": ["re", "re_"], "sd_re": ["re"]}
        re = list(self.re_names)
        coords: dict[str, Any] = {"fixed_effect": list(self.fe_names), "re": re, "re_": re}
        if d["b"].shape[2]:
            posterior["b"] = d["b"]
            dims["b"] = ["group", "re"]
            coords["group"] = np.asarray(self.b_groups)
        blocks = (lambda: self._moment_blocks(keep, b_all)) if any(pointwise) else None
        return inference_data(self, posterior, coords, dims, blocks, keep, pointwise, seed)

    def _moment_blocks(self, keep: NDArray[np.int64], b_all: NDArray[np.float64]):
        """``(chain, rows, means, variances)`` a block of draws at a time, as
        :func:`hierlib._pointwise.moment_blocks` gives them for the other models: the means
        :math:`x_i^\\top\\beta + z_i^\\top b_{j[i]}` (kept draws in ``rows``, n) and the
        variances :math:`\\sigma^2` (a column)."""
        step = max(1, POINTWISE_BLOCK // (8 * max(self.rows[2].size, 1)))
        for c in range(self.n_chains):
            for start in range(0, keep.size, step):
                k = keep[start : start + step]
                means = self._means(self.draws["fe"][c, k], b_all[c, k], slice(None)).T
                yield c, slice(start, start + k.size), means, self.draws["sigma2"][c, k][:, None]


@njit(cache=True, nogil=True)
def _row_means(fe, b, X, Z, idx, out):  # pragma: no cover - compiled
    """``out[i, s]`` = :math:`x_i^\\top\\beta^{(s)} + z_i^\\top b^{(s)}_{j[i]}` for the rows
    ``X``, ``Z``, ``idx`` (group indices) and the draws ``fe`` (S, p), ``b`` (S, m, q): one
    pass, where numpy built the product and then gathered ``b[:, idx, a]`` for every random
    effect (a third of a LOO's time on HSB)."""
    n, p = X.shape
    q = Z.shape[1]
    for i in range(n):
        g = idx[i]
        for s in range(fe.shape[0]):
            acc = 0.0
            for k in range(p):
                acc += fe[s, k] * X[i, k]
            for a in range(q):
                acc += b[s, g, a] * Z[i, a]
            out[i, s] = acc


# ---------------------------------------------------------------------- the sampler
def _absorbed_and_residual(stats: MixedStats) -> tuple[int, float]:
    """``k``, the number of fixed effects the random effects can absorb (the dimension of
    the span of X inside that of the block-diagonal Z: p minus the rank of
    :math:`X^\\top(I - P_Z)X = \\sum_j X_j^\\top X_j - C_j A_j^{+} C_j^\\top`), and the
    residual sum of squares of y on X and every Z_j relative to y'y (see
    :class:`hierlib.priors.MixedDefault`)."""
    a_pinv = np.linalg.pinv(stats.ztz, hermitian=True)
    g = np.sum(stats.xtx - stats.xtz @ a_pinv @ np.swapaxes(stats.xtz, 1, 2), axis=0)
    h = np.sum(stats.xty - (stats.xtz @ a_pinv @ stats.zty[:, :, None])[:, :, 0], axis=0)
    r_y = float(np.sum(stats.yty - np.einsum("jq,jqr,jr->j", stats.zty, a_pinv, stats.zty)))
    scale = np.sqrt(np.maximum(np.diag(stats.xtx.sum(axis=0)), 1e-300))
    g_scaled = g / np.outer(scale, scale)
    eig = np.linalg.eigvalsh((g_scaled + g_scaled.T) / 2)
    rank = int(np.sum(eig > 1e-9 * max(1.0, float(eig.max(initial=0.0)))))
    rss = r_y - float(h @ np.linalg.pinv(g, hermitian=True) @ h)
    return stats.p - rank, rss / max(float(stats.yty.sum()), 1e-300)


def _check_magnitudes(stats: MixedStats) -> None:
    """Refuse cross-products the sweep cannot combine in floating point (its sums of
    squares reach about n max|y|^2)."""
    big = max(float(np.max(np.abs(a))) for a in (stats.xtx, stats.ztz, stats.yty))
    if not big * stats.m < 1e300:
        raise ValueError(f"the data are out of the range the sampler can compute with; "
                         f"{RESCALE_HINT}")  # fmt: skip


def _prior_terms(prior, stats: MixedStats):
    beta0, p0 = prior.beta_terms(stats.p)
    a_sigma, b_sigma = prior.sigma_terms()
    nu, s0 = prior.cov_terms(stats.q)
    return np.array([a_sigma, b_sigma, nu]), beta0, p0, s0


def _collapsed_rates(accepted, n_kept: int, n_ind: int, n_walk: int) -> tuple[float, float]:
    """Acceptance rates of the collapsed step's (independence, random-walk) proposals in the
    kept sweeps (NaN for a kind that made none)."""
    rates = []
    for total, steps in zip(accepted[:, 1:].sum(axis=0), (n_ind, n_walk), strict=True):
        rates.append(float(total / (n_kept * steps)) if steps else math.nan)
    return rates[0], rates[1]


def start_values(stats: MixedStats, rng: np.random.Generator):
    """Dispersed starting values of :math:`(\\sigma^2, \\Sigma)` around OLS (the sweep
    draws :math:`\\beta` and the :math:`b_j` first, from them): :math:`\\sigma^2` the OLS
    residual variance times :math:`e^{0.1z}`, and :math:`\\Sigma` diagonal, each variance a
    tenth of :math:`\\sigma^2` over the mean square of its column times :math:`e^{z}`."""
    xtx, xty = stats.xtx.sum(axis=0), stats.xty.sum(axis=0)
    beta = np.linalg.lstsq(xtx, xty, rcond=None)[0]
    rss = float(stats.yty.sum() - 2 * beta @ xty + beta @ xtx @ beta)
    s2 = max(rss, 1e-12 * float(stats.yty.sum())) / max(stats.n_total - stats.p, 1)
    z = rng.standard_normal(1 + stats.q)
    col_ms = np.maximum(np.diagonal(stats.ztz.sum(axis=0)) / stats.n_total, 1e-300)
    cov = np.diag(0.1 * s2 / col_ms * np.exp(z[1:]))
    return s2 * float(np.exp(0.1 * z[0])), cov


def mixed_model(
    formula: str,
    data: pd.DataFrame,
    groups: str | ArrayLike = "school",
    re_formula: str | None = "~1",
    prior: MixedDefault | MixedProper | None = None,
    n_draws: int = 2000,
    n_warmup: int = 500,
    n_chains: int = 4,
    seed: int = 0,
    cores: int | None = None,
    keep_b: ArrayLike | None = None,
    progress: bool | None = None,
    parameterization: str = "collapsed",
) -> MixedPosterior:
    """Gibbs sampler for the linear mixed model (varying intercepts and slopes).

    .. math::
        y_{ij} = x_{ij}^\\top\\beta + z_{ij}^\\top b_j + e_{ij}, \\quad
        b_j \\sim N_q(0, \\Sigma), \\quad e_{ij} \\sim N(0, \\sigma^2), \\quad
        (\\beta, \\sigma^2, \\Sigma) \\sim \\text{prior}

    (the R&B model: ``"mathach ~ mses * cses + sector * cses"``, ``re_formula="~cses"``).

    Parameters
    ----------
    formula, data, groups, re_formula
        As :func:`hierlib.reml.fit_mixed` (the same checks; the design from statsmodels
        ``MixedLM``, so ``fe_names`` are its ``fe_params`` names). ``re_formula`` defaults to
        ``"~1"``, a random intercept.
    prior : priors.MixedDefault or priors.MixedProper, optional
        ``None``: :class:`~hierlib.priors.MixedDefault` (flat :math:`\\beta` and
        :math:`\\Sigma`, :math:`1/\\sigma^2`), proper only with enough groups (its docstring
        says which; checked here).
    n_draws, n_warmup, n_chains, seed, cores, progress
        As :func:`hierlib.gibbs.hierarchical_normal`: draws kept per chain, sweeps discarded
        first, chains (each its own stream, on ``cores`` threads, bit-identical to
        ``cores=1``), the seed, the progress bar.
    keep_b : array_like of group labels, or boolean mask, optional
        The groups whose :math:`b_j` draws are kept (``None``: every group; ``[]``: none).
        The posterior mean and sd of every :math:`b_j` are returned anyway.
    parameterization : {"collapsed", "interweaved", "blocked"}
        ``"blocked"``: the blocked Gibbs sweep; ``"interweaved"`` adds the ASIS step on
        :math:`\\Sigma`; ``"collapsed"`` (default, the fastest to mix per CPU second) adds to
        that a Metropolis-Hastings update of :math:`\\Sigma` with every :math:`b_j`
        integrated out, between the :math:`\\beta` and the :math:`b_j` draws:

        .. math::
            \\log p(\\Sigma \\mid \\beta, \\sigma^2, y) = \\log p(\\Sigma)
            - \\tfrac m2\\log|\\Sigma| - \\tfrac12\\textstyle\\sum_j\\log|M_j|
            + \\sum_j r_j^\\top M_j^{-1}r_j/(2\\sigma^2) + \\text{const},

        :math:`M_j = Z_j^\\top Z_j + \\sigma^2\\Sigma^{-1}`, :math:`r_j = Z_j^\\top(y_j -
        X_j\\beta)`: one independence and one random-walk proposal per sweep on the
        log-Cholesky factor of :math:`\\Sigma`, tuned in warm-up and fixed after it (the
        module docstring derives it and gives the measured gain).

    Returns
    -------
    MixedPosterior

    Raises
    ------
    ValueError
        Bad data or formulas (as :func:`hierlib.data.mixed_stats`), an improper posterior
        under the default prior, bad run arguments, a run too large for
        ``gibbs.MAX_DRAWS_BYTES``, a sampler that left floating point, a prior of another
        kind (as the other samplers).
    TypeError
        ``data`` not a DataFrame, a formula not a string.
    """
    stats, X, Z, y, idx = _mixed_design(formula, data, groups, re_formula)
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(
            "parameterization must be 'collapsed', 'interweaved' or 'blocked'; got "
            f"{parameterization!r}"
        )
    prior = _inputs.check_prior(prior, PRIORS, MixedDefault())
    if isinstance(prior, MixedProper):
        prior.check_sizes(stats.p, stats.q)
    _chains.check_run(n_draws, n_warmup, n_chains, seed, progress, "numba")
    prior.check_data(stats.m, stats.q, *_absorbed_and_residual(stats))
    _check_magnitudes(stats)
    keep = _inputs.keep_indices(stats, keep_b, "keep_b")
    p, q, m = stats.p, stats.q, stats.m
    per_chain = q * q + q * p + 6 * q  # M_j factors, M_j^-1 C_j', v_j, zr_j, b_j, eta_j, sums
    shared = -(-(p * p + p * q + q * q + p + q + 1) // n_chains)  # the statistics, once
    _chains.check_memory(
        n_chains, n_draws, p + q * q + 1, keep.size * q, m, per_chain + shared, effects="b"
    )
    workers = _chains.n_workers(cores, n_chains, "numba")
    hyper, beta0, p0, s0 = _prior_terms(prior, stats)
    param = PARAMETERIZATIONS[parameterization]
    totals = np.array([float(stats.n_total), float(stats.yty.sum())])
    sweep = _chains.guarded(sweeps, "mixed_model")
    out_fe = np.empty((n_chains, n_draws, p))
    out_cov = np.empty((n_chains, n_draws, q, q))
    out_s2 = np.empty((n_chains, n_draws))
    out_b = np.empty((n_chains, n_draws, keep.size, q))
    accepted = np.zeros((n_chains, 3))
    n_ind, n_walk = INDEPENDENT_STEPS, RANDOM_WALK_STEPS
    st = stats

    def init_chain(c, rng, acc_c):
        s2, cov = start_values(st, rng)
        state = np.array([s2])
        mh = mh_state(cov, n_warmup, n_ind, n_walk)
        beta, b = np.zeros(p), np.zeros((m, q))
        return lambda k, start: sweep(
            rng, param, st.xtx, st.xtz, st.ztz, st.xty, st.zty, totals, hyper, beta0, p0, s0,
            state, beta, b, cov, k, start, keep, out_fe[c], out_cov[c], out_s2[c], out_b[c],
            acc_c, accepted[c], mh,
        )  # fmt: skip

    acc, elapsed = _chains.run_chains(
        init_chain, 2, m * q, n_chains, n_warmup, n_draws, seed, progress, workers
    )
    draws = {"fe": out_fe, "cov_re": out_cov, "sigma2": out_s2, "b": out_b}
    _chains.check_finite(draws, "mixed_model")
    b_mean, b_sd = _chains.moments(acc, n_chains * n_draws, np.zeros(m * q))
    n_asis = n_chains * (n_warmup + n_draws)
    return MixedPosterior(
        draws=draws, fe_names=stats.fe_names, re_names=stats.re_names, groups=stats.groups,
        b_groups=stats.groups[keep], b_mean=b_mean.reshape(m, q), b_sd=b_sd.reshape(m, q),
        stats=stats, elapsed=elapsed,
        acceptance=float(accepted[:, 0].sum() / n_asis) if param != BLOCKED else math.nan,
        prior=prior, parameterization=parameterization, seed=seed, rows=(X, Z, y, idx),
        collapsed_acceptance=_collapsed_rates(accepted, n_chains * n_draws, n_ind, n_walk)
        if param == COLLAPSED else (math.nan, math.nan),
    )  # fmt: skip


def warm_up() -> None:
    """Compile :func:`sweeps` and :func:`_row_means` (or load them from numba's cache): one
    draw of a tiny model, and its rows' means."""
    rng = np.random.default_rng(0)
    g = np.repeat(np.arange(8), 4)
    x = rng.normal(size=g.size)
    df = pd.DataFrame({"y": x + rng.normal(size=g.size), "x": x, "g": g})
    for param in PARAMETERIZATIONS:
        post = mixed_model("y ~ x", df, "g", "~x", n_draws=1, n_warmup=0, n_chains=1,
                           parameterization=param)  # fmt: skip
    post._means(post.draws["fe"][0], post.draws["b"][0], slice(None))  # _row_means
