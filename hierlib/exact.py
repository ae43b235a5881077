"""Exact posteriors: the marginal posterior of tau^2, and the two pooling extremes.

- :func:`marginal_tau2` -- :math:`p(\\tau^2 \\mid y)` of the hierarchical normal model on a
  grid. The :math:`\\theta_j` and :math:`\\mu` integrate out in closed form (normal
  integrals), :math:`\\sigma^2` by quadrature; no Monte Carlo. The Gibbs sampler's
  :math:`\\tau^2` draws must follow it (lecture: "the sampler, seen to be right").
- :func:`complete_pooling` and :func:`no_pooling` -- iid draws from the exact posteriors of
  the two extremes of notebook 02 (one mean for all schools; a free mean per school), under
  :math:`p(\\mu, \\sigma^2) \\propto 1/\\sigma^2` and :math:`p(\\theta, \\sigma^2) \\propto
  1/\\sigma^2`. They return :class:`hierlib.gibbs.Posterior` objects, so the model
  comparison of notebook 07 treats all four models alike (``to_arviz(log_likelihood=True)``).

Integrating :math:`\\theta` out of model 1 gives, for school :math:`j`,
:math:`\\bar y_j \\mid \\mu, \\tau^2, \\sigma^2 \\sim N(\\mu, v_j)`, :math:`v_j = \\tau^2 +
\\sigma^2/n_j`, independent of :math:`SS_j \\mid \\sigma^2 \\sim \\sigma^2\\chi^2_{n_j-1}`.
With :math:`w_j = 1/v_j`, :math:`W = \\sum_j w_j`, :math:`\\hat\\mu = \\sum_j w_j\\bar y_j / W`
(a normal prior :math:`N(\\mu_0, 1/p_0)` on :math:`\\mu` adds a pseudo-school with
:math:`\\bar y = \\mu_0`, :math:`w = p_0`), the flat-:math:`\\mu` integral is

.. math::
    \\log p(y \\mid \\tau^2, \\sigma^2) = -\\tfrac12\\sum_j \\log v_j
      - \\tfrac12 \\sum_j w_j(\\bar y_j - \\hat\\mu)^2 - \\tfrac12 \\log W
      - \\tfrac{n-m}{2}\\log\\sigma^2 - \\frac{\\sum_j SS_j}{2\\sigma^2} + \\text{const},

and :math:`p(\\tau^2 \\mid y) \\propto p(\\tau^2) \\int p(\\sigma^2)\\,p(y \\mid \\tau^2,
\\sigma^2)\\,d\\sigma^2`.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib import _memory
from hierlib._validate import RESCALE_HINT, positive_int, probability
from hierlib.data import GroupStats, _stats_and_rows
from hierlib.priors import Default, HalfCauchy, SemiConjugate
from hierlib.samplers._chains import chain_rngs  # the samplers' streams, one per chain
from hierlib.samplers._inputs import check_magnitudes
from hierlib.samplers._posterior import Posterior, infinite_means, warn_infinite_means

_DROP = 30.0  # log-density units below the maximum treated as zero on the sigma^2 grid
_MAX_WIDEN = 6  # bound on the loop that widens the sigma^2 grid
TAU_TAIL = 1e-12
"""Where the grid of :func:`marginal_tau2` ends: the density of :math:`\\log\\tau` (and, when
:math:`E[\\tau \\mid y]` is finite, that of :math:`\\tau` times it) has fallen to this
fraction of its peak at both ends."""
_X_MAX = float(np.log(1e150))  # |log tau| on the standardised scale: tau^2 stays a double
_N_SCAN = 346  # the scan for the mode: log tau in [-_X_MAX, _X_MAX], steps of 2
_MAX_STEP = 0.05  # widest step of a grid stretch in log tau: more points than n_grid if needed
_SIGMA_GRID = 241  # points of the sigma^2 grid
_BLOCK_BYTES = 2**20  # the sigma^2 grid is integrated over a few columns at a time: one numpy
# pass over tau2 x columns x groups (the arrays stay in cache), not one Python call a column


def _log_prior_variance(v: NDArray, a: float, b: float) -> NDArray:
    """Log density of a variance ``v`` whose precision has Gamma pseudo-counts ``(a, b)``:
    :math:`p(\\lambda) \\propto \\lambda^{a-1}e^{-b\\lambda}` gives
    :math:`p(v) \\propto v^{-a-1}e^{-b/v}`."""
    out = -(a + 1.0) * np.log(v)
    with np.errstate(over="ignore"):  # b/v beyond floating point: log density -inf
        return out - b / v if b > 0 else out


def _log_prior_tau2(prior: Any, tau2: NDArray) -> NDArray:
    if isinstance(prior, HalfCauchy):  # -log(tau (1 + tau2/A^2)), A^2 never formed
        log_t2 = np.log(tau2)
        return -0.5 * log_t2 - np.logaddexp(0.0, log_t2 - 2.0 * np.log(prior.scale))
    _, _, a_tau, b_tau, _, _ = prior.hyper()
    return _log_prior_variance(tau2, a_tau, b_tau)


def _hyper(prior: Any) -> tuple[float, ...]:
    """The prior's Gamma pseudo-counts ``(mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma)``
    (:meth:`hierlib.priors.Default.hyper`); a half-Cauchy's scale is left out (it enters
    through :func:`_log_prior_tau2` on the log scale, so any :math:`A` works here)."""
    if isinstance(prior, HalfCauchy):
        prior = replace(prior, scale=1.0)
    return tuple(float(h) for h in prior.hyper()[:6])


def _log_lik(
    stats: GroupStats, tau2: NDArray, sigma2: float | NDArray, mu0: float, p0: float
) -> NDArray:
    """:math:`\\log p(y \\mid \\tau^2, \\sigma^2)` (module docstring) for each ``tau2``; with
    ``sigma2`` an array, a table: one row per ``tau2``, one column per ``sigma2``."""
    s2 = np.atleast_1d(np.asarray(sigma2, dtype=float))
    v = tau2[:, None, None] + s2[None, :, None] / stats.n
    w = 1.0 / v
    big_w = w.sum(axis=2) + p0
    mu_hat = ((w.reshape(-1, stats.m) @ stats.ybar).reshape(big_w.shape) + p0 * mu0) / big_w
    q = np.sum(w * (stats.ybar - mu_hat[..., None]) ** 2, axis=2) + p0 * (mu0 - mu_hat) ** 2
    within = -0.5 * (stats.n_total - stats.m) * np.log(s2) - 0.5 * stats.ss.sum() / s2
    out = -0.5 * np.log(v).sum(axis=2) - 0.5 * q - 0.5 * np.log(big_w) + within
    return out if np.ndim(sigma2) else out[:, 0]


def _log_post_tau2(stats: GroupStats, prior: Any, tau2: NDArray) -> NDArray:
    """Unnormalised :math:`\\log p(\\tau^2 \\mid y)`: :math:`\\sigma^2` integrated out by the
    trapezoid rule on a grid in :math:`\\log\\sigma^2`, widened until its edges carry no mass."""
    mu0, p0, _, _, a_s, b_s = _hyper(prior)
    df = stats.n_total - stats.m
    centre = np.log(stats.ss.sum() / df)
    half = max(10.0 * np.sqrt(2.0 / df), 1.0)
    for _ in range(_MAX_WIDEN):
        logv = np.linspace(centre - half, centre + half, _SIGMA_GRID)
        s2 = np.exp(logv)
        # integrand on the log sigma^2 scale: prior x likelihood x Jacobian sigma^2
        step = max(1, _BLOCK_BYTES // (8 * tau2.size * stats.m))  # sigma2 values at a time
        lik = [_log_lik(stats, tau2, s2[i : i + step], mu0, p0) for i in range(0, s2.size, step)]
        table = np.concatenate(lik, axis=1) + (_log_prior_variance(s2, a_s, b_s) + logv)[None, :]
        top = table.max()
        if max(table[:, 0].max(), table[:, -1].max()) < top - _DROP:
            break
        half *= 2.0
    else:  # pragma: no cover - the sigma^2 posterior is proper once checked
        raise ValueError("could not bracket the posterior of sigma2 on a grid")
    weights = np.full(logv.size, logv[1] - logv[0])
    weights[[0, -1]] /= 2.0
    row_max = table.max(axis=1)
    integral = row_max + np.log(np.exp(table - row_max[:, None]) @ weights)
    return _log_prior_tau2(prior, tau2) + integral


MAX_GRID = 10_001
"""Most grid points :func:`marginal_tau2` takes: its cost grows like ``n_grid`` x groups x
the 241 points of the :math:`\\sigma^2` grid (HSB: a few seconds at the default 1201), and its
quadrature error falls like ``1/n_grid**2``, negligible long before this."""


def _check_grid(n_grid: int, m: int) -> int:
    """``n_grid`` if it is at most :data:`MAX_GRID` and a grid of that many points fits the
    memory limit (:func:`_check_grid_memory`), else a ``ValueError``."""
    if n_grid > MAX_GRID:
        raise ValueError(
            f"n_grid must be at most {MAX_GRID} (the quadrature error falls like 1/n_grid**2: "
            f"the default 1201 is accurate, and the cost grows with n_grid); got {n_grid}"
        )
    _check_grid_memory(2 * n_grid + 2 * _N_SCAN, m)
    return n_grid


def _check_grid_memory(rows: int, m: int) -> None:
    """``ValueError`` unless the arrays of a grid of ``rows`` points of :math:`\\tau^2` fit the
    memory limit (:mod:`hierlib._memory`): for each point, the :math:`\\sigma^2` integral keeps
    a few arrays of m values and a row of the table of 241 points (or a few blocks of
    :data:`_BLOCK_BYTES`, when several columns of it are computed at once)."""
    _memory.check(
        8 * rows * (6 * m + 3 * _SIGMA_GRID) + 8 * _BLOCK_BYTES,
        f"marginal_tau2's grid ({rows} points of tau2 x {m} groups x 8 bytes, with temporaries)",
        "a smaller n_grid=",
    )


def marginal_tau2(
    y: ArrayLike, groups: ArrayLike, prior: Any = None, n_grid: int = 1201
) -> pd.DataFrame:
    """The exact marginal posterior :math:`p(\\tau^2 \\mid y)` of model 1 on a grid.

    :math:`\\theta` and :math:`\\mu` are integrated out analytically, :math:`\\sigma^2` by the
    trapezoid rule in :math:`\\log\\sigma^2` (module docstring): exact up to quadrature error.
    The grid comes from the posterior itself (:func:`_log_tau_grid`): equally spaced in
    :math:`\\log\\tau`, it ends where the density of :math:`\\log\\tau` has fallen to
    :data:`TAU_TAIL` (``1e-12``) of its peak on both sides, and, when :math:`E[\\tau \\mid y]`
    is finite, where :math:`\\tau` times that density has too (so that the mean of
    :func:`tau_summary` is inside the grid). When these two stretches lie far apart, each gets
    ``n_grid`` points (joined by points one unit of :math:`\\log\\tau` apart if they do not
    meet). A stretch wider than ``0.05 * n_grid`` in :math:`\\log\\tau` (a posterior spread
    over many decades) gets more points, up to :data:`MAX_GRID`, so that no step is wider
    than 0.05.

    Parameters
    ----------
    y, groups : array_like, shape (n,)
        Responses and group labels (as :func:`hierlib.gibbs.hierarchical_normal`).
    prior : priors.Default, priors.SemiConjugate or priors.HalfCauchy, optional
        ``None`` is the lecture's default (flat on :math:`\\mu` and :math:`\\tau^2`,
        :math:`1/\\sigma^2`); the same propriety checks as the sampler apply.
    n_grid : int
        Grid points (at least 50, at most :data:`MAX_GRID`; more are taken for a wide
        posterior, see above); the quadrature error falls like ``1/n_grid**2``.

    Returns
    -------
    pandas.DataFrame
        Columns ``tau2``, ``density`` (of :math:`\\tau^2`, normalised so that
        ``np.trapezoid(density, tau2) == 1``), ``tau`` and ``density_tau``
        (:math:`p(\\tau \\mid y) = 2\\tau\\,p(\\tau^2 \\mid y)`).

    Raises
    ------
    ValueError
        Bad data, a prior of another type, or one that makes the posterior improper; a
        posterior whose mass cannot be bracketed within :math:`\\tau` from 1e-150 to 1e150
        sd of ``y`` (a tail too heavy for a grid).
    """
    stats, y_arr, obs_group = _stats_and_rows(y, groups)
    if prior is None:
        prior = Default()
    if not isinstance(prior, Default | SemiConjugate | HalfCauchy):
        raise ValueError(
            "prior must be None, priors.Default, priors.SemiConjugate or priors.HalfCauchy; "
            f"got {type(prior).__name__}"
        )
    n_grid = _check_grid(positive_int(n_grid, "n_grid", minimum=50), stats.m)
    if _varies_within(y_arr, obs_group):  # spread that underflowed is not "no spread"
        _check_squares(float(stats.ss.sum()), y_arr)
    prior.check_data(stats.m, stats.n_total, float(stats.ss.sum()))
    if stats.n_total <= stats.m or stats.ss.sum() <= 0:
        raise ValueError(
            "the exact marginal needs within-group spread in y (some group with two values)"
        )
    # work on standardised data (scores in sd units): every grid stays inside floating point
    centre, unit, stats, prior = _standardised(stats, prior)
    log_tau_std = _log_tau_grid(stats, prior, n_grid)
    _check_grid_memory(log_tau_std.size, stats.m)
    tau_std = np.exp(log_tau_std)
    log_d = _log_post_tau2(stats, prior, tau_std**2)
    density_std = np.exp(log_d - log_d.max())
    density_std /= np.trapezoid(density_std, tau_std**2)
    m, a_tau = stats.m, _hyper(prior)[2]
    # back to score units: tau = unit * tau_std, p(tau2) = p_std(tau2 / unit^2) / unit^2
    with np.errstate(over="ignore", under="ignore"):
        tau = unit * tau_std
        density = density_std / unit**2
        table = pd.DataFrame(
            {"tau2": tau**2, "density": density, "tau": tau, "density_tau": 2.0 * tau * density}
        )
    values = table.to_numpy()
    if not np.isfinite(values).all() or not (table["density"] > 0).any():
        raise ValueError(
            f"tau2 on the scale of y (sd {unit:.3g}) leaves floating point: {RESCALE_HINT}"
        )
    table.attrs.update(groups=m, a_tau=a_tau)  # for tau_summary's infinite-mean rule
    return table


def _log_tau_grid(stats: GroupStats, prior: Any, n_grid: int) -> NDArray[np.float64]:
    """The grid of :func:`marginal_tau2` in :math:`x = \\log\\tau` (standardised data).

    :math:`f(x) = \\log p(\\tau^2 \\mid y) + 2x` is the log density of :math:`x`. A scan of
    :math:`|x| \\le \\log 10^{150}` in steps of 2 finds the mode, two finer passes around the
    best point (steps 0.05, then 0.0013) refine it (a peak narrower than the scan is found),
    and each end of the grid is where :math:`f` falls :math:`\\log(1/\\text{TAU\\_TAIL})`
    below the mode (:func:`_ends`). When :math:`E[\\tau \\mid y] < \\infty`
    (:func:`hierlib.samplers._posterior.infinite_means`) the same is asked of :math:`g = f +
    x`, the integrand of the mean (below the mode :math:`g` falls faster than :math:`f`): one
    grid covers both stretches when they are much the same, else each gets its own ``n_grid``
    points. A fixed number of passes: no loop to bound.
    """

    def log_f(x: NDArray) -> NDArray:
        return _log_post_tau2(stats, prior, np.exp(2.0 * x)) + 2.0 * x

    xs = np.linspace(-_X_MAX, _X_MAX, _N_SCAN)
    fs = log_f(xs)
    for width in (2.0, 0.05):
        k = int(np.argmax(fs))
        local = np.linspace(xs[k] - width, xs[k] + width, 81)
        local = local[np.abs(local) <= _X_MAX]
        xs, fs = np.concatenate([xs, local]), np.concatenate([fs, log_f(local)])
        order = np.argsort(xs)
        xs, fs = xs[order], fs[order]

    def span(a: float, b: float) -> NDArray:  # n_grid points, or more for a wide stretch
        steps = min(MAX_GRID - 1, int(np.ceil((b - a) / _MAX_STEP)))
        return np.linspace(a, b, max(n_grid, steps + 1))

    lo, hi = _ends(log_f, xs, fs, "tau")
    if infinite_means(stats.m, _hyper(prior)[2])[1]:
        return span(lo, hi)
    lo_g, hi_g = _ends(lambda x: log_f(x) + x, xs, fs + xs, "tau times it")
    if max(hi, hi_g) - lo <= 2.0 * (hi_g - lo_g):  # much the same stretch: one grid
        return span(lo, max(hi, hi_g))
    fill = np.arange(hi, lo_g, 1.0)  # empty unless the stretches are apart
    return np.unique(np.concatenate([span(lo, hi), fill, span(lo_g, hi_g)]))


def _ends(log_h, xs: NDArray, hs: NDArray, what: str) -> tuple[float, float]:
    """``(lo, hi)`` in :math:`x = \\log\\tau` outside which the log density ``log_h``
    (evaluated as ``hs`` at the sorted points ``xs``) is more than
    :math:`\\log(1/\\text{TAU\\_TAIL})` below its maximum: every point above that cut is
    inside (a second mode is not left out), and each end is located to 1/40 of the step
    between the outermost point above the cut and its neighbour outside. ``ValueError`` when
    the density is still above the cut, or still rising outwards, at
    :math:`|x| = \\log 10^{150}` (a tail too heavy for a grid, a posterior improper near 0 or
    infinity, or a prior whose scale lies beyond: then mass lies outside the scan).
    """
    cut = float(hs.max()) - np.log(1.0 / TAU_TAIL)
    inside = np.flatnonzero(hs >= cut)
    rising = hs[1] > -np.inf and hs[0] >= hs[1] or hs[-2] > -np.inf and hs[-1] >= hs[-2]
    if rising or inside[0] == 0 or inside[-1] == xs.size - 1:
        raise ValueError(
            f"the posterior density of {what} (tau the between-group sd) does not fall to "
            f"{TAU_TAIL:g} of its peak, and keep falling, for tau between 1e-150 and 1e150 sd "
            "of y: the posterior may be improper, or the prior puts tau on a scale that far "
            "from the data's (a half-Cauchy scale or a prior guess t20 beyond that range); "
            f"use a prior on the scale of y, or {RESCALE_HINT}"
        )
    ends = []
    for outer, inner in ((inside[0] - 1, inside[0]), (inside[-1] + 1, inside[-1])):
        between = np.linspace(xs[outer], xs[inner], 41)  # from below the cut to above it
        first_above = int(np.argmax(log_h(between) >= cut))  # the inner end is above: exists
        ends.append(float(between[max(first_above - 1, 0)]))
    return ends[0], ends[1]


def _standardised(stats: GroupStats, prior: Any) -> tuple[float, float, GroupStats, Any]:
    """The statistics of :math:`(y - c)/u` (:meth:`GroupStats.standardised`: :math:`c` the
    grand mean, :math:`u` the sd of y) and the same prior on that scale: :math:`\\tau/u` is
    half-Cauchy(0, A/u); a semi-conjugate prior's mean and variances are shifted and scaled
    the same way; the flat and :math:`p(\\tau) \\propto 1` priors do not change."""
    centre, unit, std = stats.standardised()
    if isinstance(prior, HalfCauchy):
        given = prior.mu0 is not None, prior.nu0 is not None
        prior = HalfCauchy(
            scale=prior.scale / unit,
            mu0=(prior.mu0 - centre) / unit if given[0] else None,
            g20=prior.g20 / unit**2 if given[0] else None,
            nu0=prior.nu0 if given[1] else None,
            s20=prior.s20 / unit**2 if given[1] else None,
        )
    elif isinstance(prior, SemiConjugate):
        u2 = unit**2
        prior = SemiConjugate(
            mu0=(prior.mu0 - centre) / unit, g20=prior.g20 / u2, eta0=prior.eta0,
            t20=prior.t20 / u2, nu0=prior.nu0, s20=prior.s20 / u2,
        )  # fmt: skip
    return centre, unit, std, prior


# ------------------------------------------------------------------- the pooling extremes
def _pooling_posterior(stats, draws, theta_mean, theta_sd, model, seed, keep_theta: bool):
    return Posterior(
        draws=draws,
        groups=stats.labels,
        theta_groups=stats.labels if keep_theta else stats.labels[:0],
        theta_mean=theta_mean,
        theta_sd=theta_sd,
        stats=stats,
        elapsed=0.0,
        prior=None,
        model=model,
        parameterization="exact",
        seed=seed,
        engine="numpy",
    )


def _pooling_bytes(model: str, n_chains: int, n_draws: int, m: int, n: int) -> int:
    """Bytes :func:`complete_pooling` or :func:`no_pooling` (``model``) allocate: the kept
    draws, one chain's temporaries (a few arrays of its draws), the temporary of the
    summaries' sd (as large as the draws), and the rows' copies and group statistics."""
    rows = 8 * (16 * n + 16 * m) + 2**20
    if model == "complete_pooling":
        return 8 * (3 * n_chains * n_draws + 6 * n_draws) + rows
    return 8 * (n_chains * n_draws * (2 * m + 1) + n_draws * (5 * m + 4)) + rows


def _check_pooling_memory(model: str, n_chains: int, n_draws: int, stats: GroupStats) -> None:
    """Refuse (before drawing) a pooling fit above the memory limit (:mod:`hierlib._memory`)."""
    values = 2 if model == "complete_pooling" else stats.m + 1
    _memory.check(
        _pooling_bytes(model, n_chains, n_draws, stats.m, stats.n_total),
        f"{model} ({n_chains} chains x {n_draws} draws x {values} values x 8 bytes, with "
        "temporaries)",
        "fewer n_draws or n_chains",
    )


def _sigma2_draws(rng: np.random.Generator, ss: float, df: float, size: int) -> NDArray:
    """:math:`\\sigma^2 = SS/\\chi^2_{df}`: the posterior of :math:`\\sigma^2` under
    :math:`1/\\sigma^2` with residual sum of squares SS on df degrees of freedom."""
    return ss / (2.0 * rng.standard_gamma(df / 2.0, size=size))


def _varies_within(y: NDArray, obs_group: NDArray) -> bool:
    """Whether some group has two different values of ``y`` (from the rows, so that squares
    underflowing to 0 are not mistaken for no spread)."""
    order = np.lexsort((y, obs_group))
    g, v = obs_group[order], y[order]
    return bool(np.any((g[1:] == g[:-1]) & (v[1:] != v[:-1])))


def _check_squares(ss: float, y: NDArray) -> None:
    """A sum of squares of values that differ must be positive: 0 means the squares of the
    deviations underflowed (y varies on a scale below about 1e-154)."""
    if not ss > 0:
        spread = float(np.max(y) - np.min(y))
        raise ValueError(
            f"the squared deviations of y underflow to 0 (y spans only {spread:.3g}): "
            f"{RESCALE_HINT}"
        )


def complete_pooling(
    y: ArrayLike, groups: ArrayLike, n_draws: int = 1000, n_chains: int = 4, seed: int = 1
):
    """Exact posterior draws of complete pooling: :math:`Y_{ij} \\sim N(\\mu, \\sigma^2)`,
    :math:`p(\\mu, \\sigma^2) \\propto 1/\\sigma^2`.

    .. math::
        \\sigma^2 \\mid y \\sim \\frac{\\sum_{ij}(y_{ij}-\\bar y)^2}{\\chi^2_{n-1}}, \\qquad
        \\mu \\mid \\sigma^2, y \\sim N(\\bar y, \\sigma^2/n)

    (independent draws, one stream per chain). ``groups`` is kept for the pointwise
    predictive groups (every school has mean :math:`\\mu`).

    Returns
    -------
    hierlib.gibbs.Posterior
        ``draws["mu"]`` and ``draws["sigma2"]``, shape (chains, draws); ``model =
        "complete_pooling"``.
    """
    stats, y_arr, obs_group = _stats_and_rows(y, groups)
    n_draws, n_chains = positive_int(n_draws, "n_draws"), positive_int(n_chains, "n_chains")
    positive_int(seed, "seed", minimum=0)
    _check_pooling_memory("complete_pooling", n_chains, n_draws, stats)
    n = stats.n_total
    if n < 2:
        raise ValueError("complete pooling needs at least two observations in y")
    grand = stats.grand_mean
    if np.all(y_arr == y_arr[0]):
        raise ValueError("complete pooling needs spread: all values of y are equal")
    check_magnitudes(stats)  # the samplers' range: no sum of squares leaves floating point
    ss = float(stats.ss.sum() + np.sum(stats.n * (stats.ybar - grand) ** 2))
    _check_squares(ss, y_arr)
    mu = np.empty((n_chains, n_draws))
    sigma2 = np.empty((n_chains, n_draws))
    for c, rng in enumerate(chain_rngs(seed, n_chains)):
        sigma2[c] = _sigma2_draws(rng, ss, n - 1, n_draws)
        mu[c] = grand + np.sqrt(sigma2[c] / n) * rng.standard_normal(n_draws)
    means = np.full(stats.m, float(mu.mean()))
    post = _pooling_posterior(
        stats, {"mu": mu, "sigma2": sigma2}, means, np.full(stats.m, float(mu.std())),
        "complete_pooling", seed, keep_theta=False,
    )  # fmt: skip
    post.y, post.obs_group = y_arr.copy(), obs_group  # for the pointwise groups
    return post


def no_pooling(
    y: ArrayLike, groups: ArrayLike, n_draws: int = 1000, n_chains: int = 4, seed: int = 1
):
    """Exact posterior draws of no pooling: :math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`,
    :math:`p(\\theta, \\sigma^2) \\propto 1/\\sigma^2` (a free mean per school).

    .. math::
        \\sigma^2 \\mid y \\sim \\frac{\\sum_j SS_j}{\\chi^2_{n-m}}, \\qquad
        \\theta_j \\mid \\sigma^2, y \\sim N(\\bar y_j, \\sigma^2/n_j) \\text{ independently.}

    Returns
    -------
    hierlib.gibbs.Posterior
        ``draws["theta"]`` (chains, draws, m) and ``draws["sigma2"]``; ``model =
        "no_pooling"``.
    """
    stats, y_arr, obs_group = _stats_and_rows(y, groups)
    n_draws, n_chains = positive_int(n_draws, "n_draws"), positive_int(n_chains, "n_chains")
    positive_int(seed, "seed", minimum=0)
    _check_pooling_memory("no_pooling", n_chains, n_draws, stats)
    df = stats.n_total - stats.m
    if df <= 0 or not _varies_within(y_arr, obs_group):
        raise ValueError(
            "no pooling needs within-group spread in y: some group with two different values"
        )
    check_magnitudes(stats)  # the samplers' range: no sum of squares leaves floating point
    _check_squares(float(stats.ss.sum()), y_arr)
    sigma2 = np.empty((n_chains, n_draws))
    theta = np.empty((n_chains, n_draws, stats.m))
    for c, rng in enumerate(chain_rngs(seed, n_chains)):
        sigma2[c] = _sigma2_draws(rng, float(stats.ss.sum()), df, n_draws)
        z = rng.standard_normal((n_draws, stats.m))
        theta[c] = stats.ybar + np.sqrt(sigma2[c][:, None] / stats.n) * z
    post = _pooling_posterior(
        stats, {"sigma2": sigma2, "theta": theta}, theta.mean(axis=(0, 1)),
        theta.std(axis=(0, 1)), "no_pooling", seed, keep_theta=True,
    )  # fmt: skip
    post.y, post.obs_group = y_arr.copy(), obs_group  # for the pointwise groups
    return post


def plot_tau_posteriors(
    tables: dict[str, pd.DataFrame],
    draws: dict[str, ArrayLike] | None = None,
    ax: Any = None,
    *,
    title: str = "",
    bins: int = 60,
):
    """Exact :math:`p(\\tau \\mid y)` curves (``density_tau`` of :func:`marginal_tau2`), one per
    entry of ``tables``, over histograms of the Gibbs draws of :math:`\\tau` of the same name.

    Returns the matplotlib Axes.
    """
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax, (10, 4.8))
    quantiles = [_tau_quantiles(tab, (0.001, 0.995)) for tab in tables.values()]
    hi = 1.1 * max(q[1] for q in quantiles)
    lo = 0.9 * min(q[0] for q in quantiles)
    lo = 0.0 if lo < 0.3 * hi else lo
    edges = np.linspace(lo, hi, bins + 1)
    for k, (name, tab) in enumerate(tables.items()):
        color = f"C{k}"
        if draws is not None and name in draws:
            tau = np.ravel(draws[name])
            weights = np.full(tau.size, 1.0 / (tau.size * (edges[1] - edges[0])))
            ax.hist(tau, bins=edges, weights=weights, color=color, alpha=0.3,
                    label=f"{name}: Gibbs draws")  # fmt: skip
        ax.plot(tab["tau"], tab["density_tau"], color=color, lw=2.5, label=f"{name}: exact")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("τ, between-school sd (score points)")
    ax.set_ylabel("posterior density of τ")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=11)
    return ax


def _log_tau_cdf(table: pd.DataFrame) -> tuple[NDArray, NDArray, NDArray]:
    """``(x, w, cdf)``: :math:`x = \\log\\tau` at the grid points of a :func:`marginal_tau2`
    table, the density of :math:`x` there (:math:`w = \\tau p(\\tau)`) and its cdf by the
    trapezoid rule in :math:`x`, divided by its total. On a grid equally spaced in
    :math:`x` this rule is far more accurate than the same rule in :math:`\\tau^2` (exact
    for a density flat in :math:`x`, which a prior spread over many decades gives)."""
    tau = table["tau"].to_numpy()
    x, w = np.log(tau), tau * table["density_tau"].to_numpy()
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(x) * 0.5 * (w[1:] + w[:-1]))])
    return x, w, cdf / cdf[-1]


def _tau_quantiles(table: pd.DataFrame, probs) -> NDArray[np.float64]:
    """Quantiles of :math:`\\tau` from a :func:`marginal_tau2` table (:func:`_log_tau_cdf`,
    linear interpolation)."""
    return np.interp(probs, _log_tau_cdf(table)[2], table["tau"].to_numpy())


def tau_summary(table: pd.DataFrame, prob: float = 0.95) -> dict[str, float]:
    """Posterior mean of :math:`\\tau` and its equal-tailed ``prob`` interval, from a
    :func:`marginal_tau2` table (trapezoid rule in :math:`\\log\\tau`,
    :func:`_log_tau_cdf`; linear interpolation).

    The interval's ends are the :math:`(1 \\mp \\text{prob})/2` quantiles, so it widens as
    ``prob`` grows and ``lower <= upper``. Where :math:`E[\\tau \\mid y]` is infinite for the
    data and prior of the table (the samplers' rule,
    :func:`hierlib.samplers._posterior.warn_infinite_means`: e.g. 4 groups under the flat
    prior on :math:`\\tau^2`) the mean is ``inf`` and an
    :class:`hierlib.gibbs.InfiniteMeanWarning` says so, as the samplers do: a grid's mean
    would be finite only because the grid ends.

    Raises
    ------
    ValueError
        ``prob`` not strictly between 0 and 1.
    """
    prob = probability(prob, "prob")
    lo, hi = _tau_quantiles(table, [(1 - prob) / 2, (1 + prob) / 2])
    x, w, cdf = _log_tau_cdf(table)
    mean = float(np.trapezoid(w * np.exp(x), x) / np.trapezoid(w, x))
    m, a_tau = table.attrs.get("groups"), table.attrs.get("a_tau")
    if m is not None and a_tau is not None and infinite_means(m, a_tau)[1]:
        warn_infinite_means(m, (0.0, 0.0, a_tau))
        mean = np.inf
    return {"mean": mean, "lower": float(lo), "upper": float(hi)}
