"""Pareto-smoothed importance sampling leave-one-out (PSIS-LOO), every observation at once.

ArviZ 0.23's ``az.loo`` runs PSIS (``az.psislw``) as a Python loop over observations: for
HSB's 7185 students and 4000 draws that is about 3 CPU seconds per model, most of it the
loop's overhead. This module runs the same algorithm over blocks of observations, with numpy
and two compiled kernels (numba: the generalized Pareto fit, :func:`gpd_fit`, and the
log-sum-exps), and gives the same numbers as ``az.loo`` (to 1e-8, pointwise, on HSB and on
heavy-tailed random matrices). ArviZ stays the reference:
:func:`hierlib.predictive.loo` with ``engine="arviz"`` calls ``az.loo`` itself.

For observation :math:`i` with log-likelihood draws :math:`\\ell_{is}`, :math:`s = 1..S`, the
raw importance ratios of leaving it out are :math:`r_s = 1/p(y_i \\mid \\vartheta^{(s)})`, so
the log weights are :math:`x_s = -\\ell_{is} - \\max_s(-\\ell_{is})`. As ArviZ
(Vehtari et al. 2024):

1. the tail: the :math:`M = \\lceil\\min(S/5, 3\\sqrt{S/r_{\\rm eff}})\\rceil` largest weights,
   those above the cutoff :math:`c = \\max(x_{(S-M)}, \\log(\\text{tiny}))` (the
   :math:`(M+1)`-th largest);
2. a generalized Pareto fit to :math:`e^{x} - e^{c}` over the tail (Zhang & Stephens 2009's
   empirical Bayes estimate, with ArviZ's weakly informative prior pulling :math:`\\hat k`
   towards 0.5 by 10 pseudo-observations), unless the tail holds 4 or fewer weights
   (:math:`\\hat k = \\infty`);
3. where :math:`\\hat k` is finite, the tail replaced by the fitted quantiles at
   :math:`(j - 1/2)/n`, truncated at the largest raw weight (0);
4. the weights normalised, and :math:`\\text{elpd}_i = \\log\\sum_s w_s\\,p(y_i \\mid
   \\vartheta^{(s)})`.

Then :math:`\\text{elpd}_{loo} = \\sum_i \\text{elpd}_i`, its standard error
:math:`\\sqrt{n \\operatorname{Var}_i(\\text{elpd}_i)}`, and :math:`p_{loo} = \\text{lppd} -
\\text{elpd}_{loo}` with :math:`\\text{lppd} = \\sum_i \\log \\frac1S \\sum_s p(y_i \\mid
\\vartheta^{(s)})`.

References: Vehtari, A., Simpson, D., Gelman, A., Yao, Y. and Gabry, J. (2024), "Pareto
smoothed importance sampling", *JMLR* 25(72); Zhang, J. and Stephens, M. A. (2009), "A new and
efficient estimation method for the generalized Pareto distribution", *Technometrics* 51.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from hierlib.samplers._kernels import njit

BLOCK_BYTES = 2**20
"""Observations are smoothed in blocks of about this many bytes of log weights (32
observations of 4000 draws): every pass over a block runs in the processor's cache, and the
temporaries stay small whatever the data's size (on HSB with 4000 draws, 1 MiB blocks took
0.6 CPU s per model against 0.9 s with 16 MiB and 1.4 s with 64 MiB)."""

_CUTOFF_MIN = float(np.log(np.finfo(float).tiny))
_PRIOR_BS, _PRIOR_K = 3, 10  # ArviZ's prior: the scale grid, and 10 pseudo-observations of k


class PointwiseLoo(NamedTuple):
    """What PSIS-LOO gives per observation: :math:`\\text{elpd}_i`, Pareto :math:`\\hat k_i`
    and :math:`\\log\\frac1S\\sum_s p(y_i \\mid \\vartheta^{(s)})` (the in-sample lppd)."""

    elpd: NDArray[np.float64]
    pareto_k: NDArray[np.float64]
    lppd: NDArray[np.float64]


def tail_length(n_samples: int, reff: float) -> int:
    """:math:`M = \\lceil\\min(S/5, 3\\sqrt{S/r_{\\rm eff}})\\rceil`, the number of largest
    weights the Pareto tail is fitted to (ArviZ's ``cutoff_ind`` is :math:`-M-1`)."""
    return int(np.ceil(min(n_samples / 5.0, 3 * (n_samples / reff) ** 0.5)))


def _logsumexp_rows(a: NDArray[np.float64], n: int | None = None) -> NDArray[np.float64]:
    """:math:`\\log\\sum_s e^{a_{is}}` of each row (:math:`\\log\\frac1n\\sum_s` if ``n`` is
    given), in ArviZ's order of operations: the row's maximum out first, added back last.
    Compiled (:func:`_logsumexp_kernel`): numpy's version made two temporaries the size of
    ``a`` and took a third of a LOO's time."""
    out = np.empty(a.shape[0])
    _logsumexp_kernel(np.ascontiguousarray(a, dtype=float), out)
    return out if n is None else out - np.log(n)


@njit(cache=True, nogil=True, error_model="numpy")
def _logsumexp_kernel(a, out):  # pragma: no cover - compiled
    """``out[i]`` = :math:`\\max_s a_{is} + \\log\\sum_s e^{a_{is} - \\max_s a_{is}}`
    (NaN in a row gives NaN, as numpy's)."""
    rows, n = a.shape
    for r in range(rows):
        top = a[r, 0]
        for s in range(1, n):
            v = a[r, s]
            if v > top or v != v:
                top = v
                if v != v:
                    break
        acc = 0.0
        for s in range(n):
            acc += np.exp(a[r, s] - top)
        out[r] = np.log(acc) + top


def gpd_fit(tail: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shape :math:`\\hat k` and scale :math:`\\hat\\sigma` of a generalized Pareto fit to each
    row of ``tail`` (rows sorted ascending, all of one length :math:`n`): ArviZ's ``_gpdfit``,
    row by row.

    Zhang & Stephens: on a grid of :math:`m = 30 + \\lfloor\\sqrt n\\rfloor` values of
    :math:`b = -k/\\sigma`, the profile :math:`k(b) = \\overline{\\log(1 - b x)}` and the
    log-likelihood :math:`L(b) = n[\\log(-b/k(b)) - k(b) - 1]` give weights
    :math:`w_b \\propto e^{L(b)}`; :math:`\\hat b = \\sum w_b b`, :math:`\\hat k = k(\\hat b)`,
    :math:`\\hat\\sigma = -\\hat k/\\hat b`; then the prior: :math:`\\hat k \\leftarrow
    (n\\hat k + 5)/(n + 10)`.

    Compiled (:func:`_gpd_fit_rows`): the profile is :math:`m \\times n` terms per row, most
    of a LOO's time, so it takes one logarithm per 8 of them (:func:`_mean_log1m`); numpy's
    version built them as one (rows, m, n) array of ``log1p`` (on HSB with 1000 draws 0.8 s
    per model here, the compiled loop of ``log1p`` 0.5 s, now 0.08 s). One thread: sharing
    the rows among numba's threads halved it on an idle machine but doubled it when another
    process held the second core (``make notebooks`` runs two notebooks at a time).
    """
    n = tail.shape[1]
    m_est = 30 + int(n**0.5)
    grid = 1 - np.sqrt(m_est / (np.arange(1, m_est + 1, dtype=float) - 0.5))
    k, sigma = np.empty(tail.shape[0]), np.empty(tail.shape[0])
    _gpd_fit_rows(np.ascontiguousarray(tail, dtype=float), grid, k, sigma)
    return k, sigma


@njit(cache=True, nogil=True, error_model="numpy")
def _gpd_fit_rows(tail, grid, k_out, sigma_out):  # pragma: no cover - compiled
    """:func:`gpd_fit` of each row of ``tail`` on the grid ``grid`` (of :math:`1 - b/b_0`
    values), into ``k_out`` and ``sigma_out``. The weights are ArviZ's
    :math:`w_b = 1/\\sum_{b'} e^{L(b') - L(b)} = e^{L(b) - \\log\\sum_{b'} e^{L(b')}}` (one
    exponential per grid point, not ArviZ's :math:`m^2`), those below :math:`10\\varepsilon`
    set to 0.

    Where no grid point has a finite likelihood, the fit is undefined and the row gets
    :math:`\\hat k = \\infty` (flagged, its raw weights kept, as a tail too short to fit):
    a tail whose values span the whole float range, e.g. one draw at :math:`e^0` and the
    others near :math:`e^{-708}`, puts :math:`b = \\text{grid}/(3x_{(n/4)})` beyond the largest
    float. (ArviZ's ``_gpdfit`` then averages over no weights at all and returns
    :math:`\\hat k = 5/(n+10)`, which looks reliable, with a NaN scale, and ``psislw`` NaN
    log-weights.)"""
    rows, n = tail.shape
    m_est = grid.size
    quartile = int(n / 4 + 0.5) - 1
    negligible = 10 * np.finfo(np.float64).eps
    b, len_scale = np.empty(m_est), np.empty(m_est)
    for r in range(rows):
        x = tail[r]
        scale, top = _PRIOR_BS * x[quartile], 1.0 / x[n - 1]
        best = -np.inf
        for g in range(m_est):
            bg = grid[g] / scale + top
            kg = _mean_log1m(bg, x)
            b[g] = bg
            len_scale[g] = n * (np.log(-(bg / kg)) - kg - 1.0)
            if len_scale[g] > best:
                best = len_scale[g]
        acc = 0.0
        for g in range(m_est):
            acc += np.exp(len_scale[g] - best)
        log_total = best + np.log(acc)
        total, b_post = 0.0, 0.0
        for g in range(m_est):
            w = np.exp(len_scale[g] - log_total)
            if w >= negligible:
                total += w
                b_post += b[g] * w
        if not total > 0.0:  # no grid point with a finite likelihood: no fit
            k_out[r], sigma_out[r] = np.inf, np.nan
            continue
        b_post /= total
        k_post = _mean_log1m(b_post, x)
        sigma_out[r] = -k_post / b_post
        k_out[r] = (n * k_post + _PRIOR_K * 0.5) / (n + _PRIOR_K)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _mean_log1m(b, x):  # pragma: no cover - compiled
    """:math:`\\frac1n\\sum_i \\log(1 - b x_i)` with one logarithm per 8 terms: the log of
    each product of 8 factors (each factor rounded to 1e-16, as log1p's result is), the
    factors one by one where a product would leave the normal range (very heavy tails)."""
    n = x.size
    s = 0.0
    full = n - n % 8
    for i in range(0, full, 8):
        p = 1.0 - b * x[i]
        for j in range(i + 1, i + 8):
            p *= 1.0 - b * x[j]
        if 1e-300 < p < 1e300:
            s += np.log(p)
        else:
            for j in range(i, i + 8):
                s += np.log1p(-b * x[j])
    for j in range(full, n):
        s += np.log1p(-b * x[j])
    return s / n


def warm_up() -> None:
    """Compile the PSIS kernels, :func:`_gpd_fit_rows` and :func:`_logsumexp_kernel` (or load
    them from numba's cache): a PSIS-LOO of 3 observations with 40 draws. ``make setup``
    calls it, so that the first LOO of a notebook does not spend seconds compiling."""
    psis_loo(np.random.default_rng(0).normal(size=(40, 3)), 1.0)


def gpd_quantiles(
    probs: NDArray[np.float64], k: NDArray[np.float64], sigma: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Generalized Pareto quantiles at ``probs`` (all inside (0, 1)), one row per
    :math:`(k, \\sigma)`: :math:`\\sigma\\,[(1-p)^{-k} - 1]/k` (:math:`-\\sigma\\log(1-p)` for
    :math:`|k| < \\varepsilon`); NaN where :math:`\\sigma \\le 0` (ArviZ's ``_gpinv``)."""
    k, sigma = k[:, None], sigma[:, None]
    log1m = np.log1p(-probs)
    tiny = np.abs(k) < np.finfo(float).eps
    with np.errstate(divide="ignore", invalid="ignore"):
        x = np.where(tiny, -log1m, np.expm1(-k * log1m) / np.where(tiny, 1.0, k))
    return np.where(sigma <= 0, np.nan, x * sigma)


def _smooth_block(
    x: NDArray[np.float64], m_tail: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """PSIS on each row of ``x`` (log weights, its maximum already taken out), in place;
    returns each row's :math:`\\hat k` and :math:`\\log\\sum_s e^{\\tilde x_s - x_s}`, the
    smoothed weights over the raw ones (:math:`\\log S` where nothing was smoothed: the
    ratio is 1 outside the tail)."""
    n_rows, n_samples = x.shape
    kth = n_samples - m_tail - 1
    top = np.argpartition(x, kth, axis=1)[:, kth:]  # the M + 1 largest, the cutoff first
    top_x = np.take_along_axis(x, top, axis=1)
    order = np.argsort(top_x, axis=1, kind="stable")
    top, top_x = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_x, order, axis=1)
    cutoff = np.maximum(top_x[:, 0], _CUTOFF_MIN)
    exp_cutoff = np.exp(cutoff)
    lengths = (top_x > cutoff[:, None]).sum(axis=1)  # M, fewer with ties or a tiny cutoff
    k = np.full(n_rows, np.inf)
    log_ratio = np.full(n_rows, np.log(n_samples))
    for n in np.unique(lengths[lengths > 4]):
        rows = np.flatnonzero(lengths == n)
        tail_x, tail_at = top_x[rows, -n:], top[rows, -n:]
        k_n, sigma = gpd_fit(np.exp(tail_x) - exp_cutoff[rows, None])
        k[rows] = k_n
        fit = np.isfinite(k_n)
        rows, tail_at, tail_x = rows[fit], tail_at[fit], tail_x[fit]
        probs = np.arange(0.5, n) / n
        smoothed = np.log(gpd_quantiles(probs, k_n[fit], sigma[fit]) + exp_cutoff[rows, None])
        np.minimum(smoothed, 0.0, out=smoothed)  # truncated at the largest raw weight
        x[rows[:, None], tail_at] = smoothed
        d = smoothed - tail_x
        t = d.max(axis=1, initial=0.0)  # no overflow below
        kept = (n_samples - n) * np.exp(-t) + np.exp(d - t[:, None]).sum(axis=1)
        log_ratio[rows] = t + np.log(kept)
    return k, log_ratio


def psis_loo(log_lik: NDArray[np.float64], reff: float) -> PointwiseLoo:
    """PSIS-LOO of every observation from its log-likelihood draws ``log_lik``, shape
    (draws, observations) with the chains stacked, and the relative efficiency ``reff`` of
    the draws (ArviZ: the mean bulk ESS of the posterior's parameters over ``S``; 1 for
    independent draws). See the module docstring for the steps."""
    n_samples, n_obs = log_lik.shape
    step = max(1, BLOCK_BYTES // (8 * n_samples))
    blocks = (
        (rows, np.ascontiguousarray(log_lik[:, rows].T))
        for rows in (slice(i, min(i + step, n_obs)) for i in range(0, n_obs, step))
    )
    return psis_loo_blocks(blocks, n_obs, n_samples, reff)


def psis_loo_blocks(
    blocks: Iterable[tuple[slice, NDArray[np.float64]]], n_obs: int, n_samples: int, reff: float
) -> PointwiseLoo:
    """:func:`psis_loo` from the log-likelihood given a block of observations at a time:
    ``(rows, ll)`` with ``ll`` of shape (observations in ``rows``, draws), together covering
    observations ``0 .. n_obs - 1`` (e.g. :func:`hierlib._pointwise.loglik_blocks`)."""
    m_tail = tail_length(n_samples, reff)
    if n_samples - m_tail - 1 < 0:
        raise ValueError(f"PSIS needs at least 2 draws per observation; got {n_samples}")
    elpd, pareto_k, lppd = (np.full(n_obs, np.nan) for _ in range(3))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for rows, ll in blocks:
            x = -ll
            top = x.max(axis=1, keepdims=True)
            x -= top
            pareto_k[rows], log_ratio = _smooth_block(x, m_tail)
            # elpd_i = log sum_s w_s e^{ll_s} with w = e^{x~}/sum e^{x~}, and ll_s = -x_s - top:
            # log sum_s e^{x~_s - x_s} - top - log sum_s e^{x~_s}, one log-sum-exp fewer
            block = elpd[rows]  # a view
            block[:] = log_ratio - top[:, 0] - _logsumexp_rows(x)
            block[~np.isfinite(ll).all(axis=1)] = np.nan  # as e^{x~ + ll} would give
            lppd[rows] = _logsumexp_rows(ll, n_samples)
    return PointwiseLoo(elpd, pareto_k, lppd)
