"""Compiled Gibbs sweeps (numba, ``cache=True``) on group sufficient statistics.

Private: :mod:`hierlib.gibbs` is the public face. Each sweep costs O(m) whatever the number
of students, and each line is one of the full conditionals derived in
:mod:`hierlib.conditionals` (the docstrings there give the math). Draws use the chain's
``numpy.random.Generator`` (numba shares its state): a normal as
``mean + sd * standard_normal()``, a Gamma(shape, rate) as ``standard_gamma(rng, shape) / rate``
(:func:`standard_gamma`: Marsaglia & Tsang's exact method, written here because it is twice
as fast as numba's ``Generator.standard_gamma`` and compiles quicker).

Two sweep kernels (model 1 in all three parameterisations, model 2) and a few small helpers
they share (normal and gamma draws, the slice sampler) are compiled, and cached on disk, to
keep the first call in a fresh checkout short (about 3 s of compilation; later processes load
the cache in a fraction of a second). A model-1 sweep on HSB (m = 160) costs about 1.1-1.3 us
of CPU, about 2.5 times the cost of drawing its 160 normal variates. Where numba cannot write
a cache (a read-only install with no writable home cache), :func:`njit` compiles in memory
instead and says so once (:class:`CacheWarning`).

Every loop is bounded. A rejection or slice loop that cannot make progress (a NaN or
infinite Gamma shape, a slice whose current point has zero density) stops and raises a
``ValueError`` naming the parameter and the likely cause (numba raises it with a constant
message; :mod:`hierlib.gibbs` adds the context).
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np


class CacheWarning(UserWarning):
    """numba could not cache the compiled sweeps on disk; they are compiled in memory."""


_CACHE_WARNED = False


def njit(**options):
    """``numba.njit(**options)``, except that ``cache=True`` falls back to an in-memory
    compilation (with one :class:`CacheWarning` per process) when numba finds no writable
    cache folder: neither the package's ``__pycache__`` nor ``NUMBA_CACHE_DIR`` / the user's
    cache directory (a read-only classroom install)."""

    def decorate(func):
        try:
            return numba.njit(**options)(func)
        except RuntimeError as err:
            if not options.get("cache") or "cannot cache" not in str(err):
                raise
        global _CACHE_WARNED
        if not _CACHE_WARNED:
            _CACHE_WARNED = True
            warnings.warn(
                "hierlib: numba cannot write its cache here (read-only install, no writable "
                "NUMBA_CACHE_DIR or home cache); the samplers are compiled in memory at their "
                "first use in each session. Set NUMBA_CACHE_DIR to a writable folder to keep "
                "the compiled code.",
                CacheWarning,
                stacklevel=2,
            )
        return numba.njit(**{**options, "cache": False})(func)

    return decorate


MAX_TRIES = 10_000
"""Bound on the proposals of one rejection draw (Marsaglia-Tsang accepts about 96% of them:
reaching the bound means the shape is not a usable number, never bad luck)."""

MAX_SHRINK = 200
"""Bound on the shrinkage steps of one slice update (each step at least halves the interval
on average; 200 steps take it below the spacing of doubles around the current point)."""

CENTERED, OFFSET, INTERWEAVED = 0, 1, 2
PARAMETERIZATIONS = {"centered": CENTERED, "offset": OFFSET, "interweaved": INTERWEAVED}

# targets of the slice sampler (log densities on u = log x, Jacobian included)
LOG_TAU, LOG_NU0, LOG_TAU_HALF_CAUCHY = 0, 1, 2


@njit(cache=True, nogil=True)
def standard_gamma(rng, shape):
    """One Gamma(shape, rate 1) draw (Marsaglia & Tsang 2000, exact rejection sampler).

    For shape >= 1: d = shape - 1/3, c = 1/sqrt(9d); propose v = (1 + c z)^3 with z standard
    normal, accept d v if log u < z^2/2 + d (1 - v + log v). For shape < 1:
    Gamma(shape) = Gamma(shape + 1) * u^(1/shape).

    Raises ``ValueError`` if ``shape`` is not a finite positive number (a full conditional
    whose shape is NaN or infinite: the loop could never accept), and after
    :data:`MAX_TRIES` rejected proposals.
    """
    if not (shape > 0.0 and shape < math.inf):
        raise ValueError(
            "Gamma draw with a NaN, zero or infinite shape: a full conditional of a precision "
            "is degenerate (the data or the prior make the posterior improper or overflow)"
        )
    boost = 1.0
    if shape < 1.0:
        boost = rng.random() ** (1.0 / shape)
        shape += 1.0
    d = shape - 1.0 / 3.0
    c = 1.0 / math.sqrt(9.0 * d)
    for _ in range(MAX_TRIES):
        z = rng.standard_normal()
        v = 1.0 + c * z
        if v <= 0.0:
            continue
        v = v * v * v
        u = rng.random()
        if u < 1.0 - 0.0331 * (z * z) * (z * z):  # squeeze: accepts ~98% without a log
            return d * v * boost
        if math.log(u) < 0.5 * z * z + d * (1.0 - v + math.log(v)):
            return d * v * boost
    raise ValueError("Gamma draw: no proposal accepted in 10000 tries (shape out of range)")


@njit(cache=True, nogil=True, inline="always")
def _normal(rng, b, precision):
    """One draw from :math:`N(b/P, 1/P)`: a normal given its precision :math:`P` and
    :math:`b = P \\times` mean (the form every normal full conditional comes in)."""
    var = 1.0 / precision
    return b * var + math.sqrt(var) * rng.standard_normal()


@njit(cache=True, nogil=True, inline="always")
def _inverse_gamma(rng, shape, rate):
    """One draw of a variance :math:`v = 1/\\lambda`, :math:`\\lambda \\sim` Gamma(shape, rate)."""
    return rate / standard_gamma(rng, shape)


@njit(cache=True, nogil=True)
def _log_target(kind, u, c):
    """Log density of ``u`` up to a constant (``-inf`` outside the support or on overflow).

    ``LOG_TAU`` (u = log tau, interweaving step of model 1, tau given eta = delta/tau):
    ``-c0/2 e^{2u} + c1 e^u - 2 a_tau u - b_tau e^{-2u}`` with ``c = (c0, c1, a_tau, b_tau)``
    (the likelihood of tau given eta, times the prior density of tau, times the Jacobian e^u).
    ``LOG_TAU_HALF_CAUCHY``: as ``LOG_TAU`` with the half-Cauchy(0, A) prior on tau,
    ``-c0/2 e^{2u} + c1 e^u + u - log(1 + e^{2u}/A^2)`` with ``c = (c0, c1, A^2, unused)``.
    ``LOG_NU0`` (u = log nu0, model 2): :func:`hierlib.conditionals.nu0_logpdf` plus the
    Jacobian ``u``, with ``c = (m, sigma02, sum log phi_j, sum phi_j, nu0_shape, nu0_rate)``.
    """
    t = math.exp(u)
    if t == 0.0 or math.isinf(t):
        return -math.inf
    if kind == LOG_TAU:
        val = -0.5 * c[0] * t * t + c[1] * t - 2.0 * c[2] * u
        if c[3] > 0.0:
            val -= c[3] / (t * t)
    elif kind == LOG_TAU_HALF_CAUCHY:
        val = -0.5 * c[0] * t * t + c[1] * t + u - math.log1p(t * t / c[2])
    else:
        m = c[0]
        val = (
            c[4] * u
            - c[5] * t
            + 0.5 * m * t * math.log(0.5 * t * c[1])
            - m * math.lgamma(0.5 * t)
            + 0.5 * t * c[2]
            - 0.5 * t * c[1] * c[3]
        )
    if math.isnan(val):
        return -math.inf
    return val


@njit(cache=True, nogil=True)
def slice_sample(rng, kind, u0, c, width):
    """One slice-sampling update of ``u`` (Neal 2003, fig. 3 and 5: stepping out with at most
    64 steps split at random between the two sides, then shrinkage).

    Exact: the update leaves the target density invariant (no grid, no approximation).

    Bounded: returns NaN (for the caller to turn into an error naming its parameter) when
    the density at ``u0`` is zero or not a number (no slice to sample: the state has left
    the support, e.g. a variance that underflowed to 0) or when :data:`MAX_SHRINK`
    shrinkage steps found no point in the slice.
    """
    f0 = _log_target(kind, u0, c)
    if not f0 > -math.inf:
        return math.nan
    logy = f0 + math.log(rng.random())  # log of the slice height
    left = u0 - width * rng.random()
    right = left + width
    n_left = int(64 * rng.random())
    n_right = 63 - n_left
    while n_left > 0 and _log_target(kind, left, c) > logy:
        left -= width
        n_left -= 1
    while n_right > 0 and _log_target(kind, right, c) > logy:
        right += width
        n_right -= 1
    for _ in range(MAX_SHRINK):  # shrinkage: u0 itself lies in the slice
        u1 = left + (right - left) * rng.random()
        if _log_target(kind, u1, c) > logy:
            return u1
        if u1 < u0:
            left = u1
        else:
            right = u1
    return math.nan


@njit(cache=True, nogil=True)
def slice_step(rng, kind, u0, c, width):
    """:func:`slice_sample`, raising a ``ValueError`` that names the parameter (tau or nu0)
    and the likely cause when the slice sampler cannot move (its NaN)."""
    u1 = slice_sample(rng, kind, u0, c, width)
    if math.isnan(u1):
        if kind == LOG_NU0:
            raise ValueError(
                "nu0: the slice sampler found no point of positive density (sigma02 or the "
                "sigma_j^2 left floating point: groups with no spread, or an extreme nu0 prior)"
            )
        raise ValueError(
            "tau (interweaving step): the slice sampler found no point of positive "
            "density; tau or sigma2 left floating point (data near constant or "
            "extremely large or small)"
        )
    return u1


@njit(cache=True, nogil=True)
def require_positive_sigma02(sigma02):
    """Raise a ``ValueError`` naming sigma02 when its draw underflowed to 0."""
    if not sigma02 > 0.0:
        raise ValueError(
            "sigma02 underflowed to 0: its full conditional has almost no mass away from 0 "
            "(nu0 near 0, e.g. a nu0 prior with tiny shape / huge rate, or groups with no "
            "spread)"
        )


@njit(cache=True, nogil=True, inline="always")
def _aux_precision(rng, scale2, tau2):
    """The half-Cauchy's auxiliary precision: 1/a | tau2 ~ Gamma(1, 1/A^2 + 1/tau2)."""
    return standard_gamma(rng, 1.0) / (1.0 / scale2 + 1.0 / tau2)


@njit(cache=True, nogil=True, inline="always")
def _tau2_step(rng, shape, b_tau, q, cauchy, inv_a, scale2):
    """tau2 from 1/tau2 | rest ~ Gamma(shape, b + q/2), with ``b = b_tau``, or ``b = 1/a``
    under the half-Cauchy (then 1/a | tau2 is redrawn). Returns ``(tau2, inv_a)``."""
    if cauchy:
        tau2 = _inverse_gamma(rng, shape, inv_a + 0.5 * q)
        return tau2, _aux_precision(rng, scale2, tau2)
    return _inverse_gamma(rng, shape, b_tau + 0.5 * q), inv_a


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
def normal_sweeps(
    rng, param, n, ybar, ss, hyper, state, x, n_iter, start, keep, out, out_theta, acc
):
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
                x[j] = _normal(rng, n[j] * (ybar[j] - mu) * inv_s2, n[j] * inv_s2 + inv_t2)
                s += n[j] * (ybar[j] - x[j])
                q += x[j] * x[j]
                r += n[j] * (ybar[j] - mu - x[j]) ** 2
            # 1/sigma2 | mu, delta, Y ~ Gamma(a_sigma + n/2, b_sigma + r/2)
            sigma2 = _inverse_gamma(rng, a_sigma + 0.5 * n_total, b_sigma + 0.5 * r)
            # mu | delta, sigma2, Y ~ N((sum_j n_j (ybar_j - delta_j)/sigma2 + p0 mu0)/P, 1/P),
            #     P = n/sigma2 + p0
            prec = n_total / sigma2 + mu_prec0
            mu = _normal(rng, s / sigma2 + mu_prec0 * mu0, prec)
            shift = mu  # theta_j = mu + delta_j; q = sum_j delta_j^2 for tau2 below
        else:
            # theta_j | mu, sigma2, tau2 ~ N((n_j ybar_j/sigma2 + mu/tau2)/P_j, 1/P_j)
            s = 0.0
            s2 = 0.0  # sums of theta_j - centre and its square, for tau2's conditional
            for j in range(m):
                x[j] = _normal(rng, ny[j] * inv_s2 + mu * inv_t2, n[j] * inv_s2 + inv_t2)
                s += x[j] - centre
                s2 += (x[j] - centre) ** 2
                r += n[j] * (ybar[j] - x[j]) ** 2
            # 1/sigma2 | theta, Y ~ Gamma(a_sigma + n/2, b_sigma + r/2)
            sigma2 = _inverse_gamma(rng, a_sigma + 0.5 * n_total, b_sigma + 0.5 * r)
            # mu | theta, tau2 ~ N((sum_j theta_j/tau2 + p0 mu0)/P, 1/P), P = m/tau2 + p0
            prec = m * inv_t2 + mu_prec0
            mu = _normal(rng, (s + m * centre) * inv_t2 + mu_prec0 * mu0, prec)
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
            mu_new = _normal(rng, (sum_ny - nd) / sigma2 + mu_prec0 * mu0, prec)
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


@njit(cache=True, nogil=True)
def unequal_sweeps(
    rng, n, ybar, ss, hyper, state, theta, phi, n_iter, start, keep, out, out_theta, out_s2, acc
):
    """Run ``n_iter`` sweeps of model 2 (unequal variances, centered).

    ``state = [mu, tau2, sigma02, nu0]``; ``theta`` and ``phi`` (= 1/sigma_j^2) are updated in
    place. ``hyper = (mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate)``. Rows of
    ``out``: mu, tau2, sigma02, nu0; ``out_theta``/``out_s2`` hold the kept groups; ``acc``
    accumulates theta - ybar and sigma_j^2 - ss_j/(n_j-1) (sums and sums of squares).
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
            theta[j] = _normal(rng, n[j] * ybar[j] * phi[j] + mu * inv_t2, n[j] * phi[j] + inv_t2)
            s += theta[j]
            # phi_j | theta_j, nu0, sigma02 ~
            #     Gamma((nu0 + n_j)/2, (nu0 sigma02 + SS_j + n_j (ybar_j - theta_j)^2)/2)
            rate = 0.5 * (nu0 * sigma02 + ss[j] + n[j] * (ybar[j] - theta[j]) ** 2)
            phi[j] = standard_gamma(rng, 0.5 * (nu0 + n[j])) / rate  # a precision: Gamma draw
            sum_phi += phi[j]
            sum_log_phi += math.log(phi[j])
        # mu | theta, tau2 ~ N((sum theta_j/tau2 + p0 mu0)/P, 1/P)
        prec = m * inv_t2 + mu_prec0
        mu = _normal(rng, s * inv_t2 + mu_prec0 * mu0, prec)
        # 1/tau2 | theta, mu ~ Gamma(a_tau + m/2, b_tau + sum (theta_j - mu)^2 / 2)
        q = 0.0
        for j in range(m):
            q += (theta[j] - mu) ** 2
        tau2 = _inverse_gamma(rng, a_tau + 0.5 * m, b_tau + 0.5 * q)
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
                e = 1.0 / phi[j] - ss[j] / (n[j] - 1.0)
                acc[0, j] += d
                acc[1, j] += d * d
                acc[2, j] += e
                acc[3, j] += e * e
    state[0], state[1], state[2], state[3] = mu, tau2, sigma02, nu0
