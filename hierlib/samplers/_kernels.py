"""The pieces every Gibbs sweep is built from, compiled once (numba, ``cache=True``).

Each model's sweep (:mod:`hierlib.samplers.hierarchical_normal`,
:mod:`hierlib.samplers.unequal_variances`) is written with these: draws use the chain's
``numpy.random.Generator`` (numba shares its state), a normal as
``mean + sd * standard_normal()`` (:func:`normal`, given its precision), a Gamma(shape, rate)
as ``standard_gamma(rng, shape) / rate`` (:func:`standard_gamma`: Marsaglia & Tsang's exact
method, written here because it is twice as fast as numba's ``Generator.standard_gamma`` and
compiles quicker), a variance as :func:`inverse_gamma`, and a parameter with no closed-form
conditional by an exact slice-sampling update on its log (:func:`slice_step`, with the targets
:data:`LOG_TAU`, :data:`LOG_TAU_HALF_CAUCHY` and :data:`LOG_NU0` of :func:`_log_target`).
The numpy reference sweeps (``engine="numpy"``) draw from the full conditionals of
:mod:`hierlib.conditionals` with :func:`draw_normal` and :func:`draw_inverse_gamma`.

Everything is compiled, and cached on disk, to keep the first call in a fresh checkout short
(about 3 s of compilation; later processes load the cache in a fraction of a second). Where
numba cannot write a cache (a read-only install with no writable home cache), :func:`njit`
compiles in memory instead and says so once (:class:`CacheWarning`).

Every loop is bounded. A rejection or slice loop that cannot make progress (a NaN or
infinite Gamma shape, a slice whose current point has zero density) stops and raises a
``ValueError`` naming the parameter and the likely cause (numba raises it with a constant
message; :func:`hierlib.samplers._chains.guarded` adds the context).
"""

from __future__ import annotations

import math
import warnings

import numba
import numpy as np

from hierlib import conditionals as cond


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

# targets of the slice sampler (log densities on u = log x, Jacobian included)
LOG_TAU, LOG_NU0, LOG_TAU_HALF_CAUCHY = 0, 1, 2


# ------------------------------------------------------------------ compiled draws
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
def normal(rng, b, precision):
    """One draw from :math:`N(b/P, 1/P)`: a normal given its precision :math:`P` and
    :math:`b = P \\times` mean (the form every normal full conditional comes in)."""
    var = 1.0 / precision
    return b * var + math.sqrt(var) * rng.standard_normal()


@njit(cache=True, nogil=True, inline="always")
def inverse_gamma(rng, shape, rate):
    """One draw of a variance :math:`v = 1/\\lambda`, :math:`\\lambda \\sim` Gamma(shape, rate)."""
    return rate / standard_gamma(rng, shape)


# ------------------------------------------------------------------ slice sampling
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


# ------------------------------------------------- numpy draws (engine="numpy")
def draw_normal(rng: np.random.Generator, d: cond.Normal) -> np.ndarray | float:
    """One draw from each normal of ``d``."""
    z = rng.standard_normal(np.shape(d.mean))
    return d.mean + np.sqrt(d.var) * z


def draw_inverse_gamma(rng: np.random.Generator, g: cond.Gamma) -> np.ndarray | float:
    """One draw of the variance ``1/lambda`` for each precision ``lambda ~ g``."""
    return g.rate / rng.standard_gamma(g.shape)
