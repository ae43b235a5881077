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

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib import _memory
from hierlib._validate import RESCALE_HINT, positive_int
from hierlib.data import GroupStats, _stats_and_rows, group_stats
from hierlib.priors import Default, HalfCauchy, SemiConjugate
from hierlib.samplers._chains import chain_rngs  # the samplers' streams, one per chain
from hierlib.samplers._posterior import Posterior

_DROP = 30.0  # log-density units below the maximum treated as zero on a grid
_MAX_WIDEN = 6  # bound on the loop that widens the sigma^2 grid
_SIGMA_GRID = 241  # points of the sigma^2 grid
_COARSE = 321  # points of the coarse pass that locates the mass of tau


def _log_prior_variance(v: NDArray, a: float, b: float) -> NDArray:
    """Log density of a variance ``v`` whose precision has Gamma pseudo-counts ``(a, b)``:
    :math:`p(\\lambda) \\propto \\lambda^{a-1}e^{-b\\lambda}` gives
    :math:`p(v) \\propto v^{-a-1}e^{-b/v}`."""
    out = -(a + 1.0) * np.log(v)
    return out - b / v if b > 0 else out


def _log_prior_tau2(prior: Any, tau2: NDArray) -> NDArray:
    if isinstance(prior, HalfCauchy):  # -log(tau (1 + tau2/s2)), without tau2/s2 overflowing
        return -0.5 * np.log(tau2) - np.log(prior.scale2 + tau2) + np.log(prior.scale2)
    _, _, a_tau, b_tau, _, _ = prior.hyper()
    return _log_prior_variance(tau2, a_tau, b_tau)


def _log_lik(stats: GroupStats, tau2: NDArray, sigma2: float, mu0: float, p0: float) -> NDArray:
    """:math:`\\log p(y \\mid \\tau^2, \\sigma^2)` (module docstring) for each ``tau2``."""
    v = tau2[:, None] + sigma2 / stats.n[None, :]
    w = 1.0 / v
    big_w = w.sum(axis=1) + p0
    mu_hat = (w @ stats.ybar + p0 * mu0) / big_w
    q = np.sum(w * (stats.ybar[None, :] - mu_hat[:, None]) ** 2, axis=1) + p0 * (mu0 - mu_hat) ** 2
    within = -0.5 * (stats.n_total - stats.m) * np.log(sigma2) - 0.5 * stats.ss.sum() / sigma2
    return -0.5 * np.log(v).sum(axis=1) - 0.5 * q - 0.5 * np.log(big_w) + within


def _log_post_tau2(stats: GroupStats, prior: Any, tau2: NDArray) -> NDArray:
    """Unnormalised :math:`\\log p(\\tau^2 \\mid y)`: :math:`\\sigma^2` integrated out by the
    trapezoid rule on a grid in :math:`\\log\\sigma^2`, widened until its edges carry no mass."""
    mu0, p0, _, _, a_s, b_s = prior.hyper()[:6]
    df = stats.n_total - stats.m
    centre = np.log(stats.ss.sum() / df)
    half = max(10.0 * np.sqrt(2.0 / df), 1.0)
    for _ in range(_MAX_WIDEN):
        logv = np.linspace(centre - half, centre + half, _SIGMA_GRID)
        s2 = np.exp(logv)
        # integrand on the log sigma^2 scale: prior x likelihood x Jacobian sigma^2
        table = (
            np.stack([_log_lik(stats, tau2, s, mu0, p0) for s in s2], axis=1)
            + (_log_prior_variance(s2, a_s, b_s) + logv)[None, :]
        )
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
    """``n_grid`` if it is at most :data:`MAX_GRID` and the grid's arrays (:math:`\\sigma^2`
    integral: a few arrays of ``n_grid`` x m values for each of its points, and the table of
    ``n_grid`` x 241) fit the memory limit (:mod:`hierlib._memory`), else a ``ValueError``."""
    if n_grid > MAX_GRID:
        raise ValueError(
            f"n_grid must be at most {MAX_GRID} (the quadrature error falls like 1/n_grid**2: "
            f"the default 1201 is accurate, and the cost grows with n_grid); got {n_grid}"
        )
    rows = max(n_grid, _COARSE)
    _memory.check(
        8 * rows * (6 * m + 3 * _SIGMA_GRID) + 2**20,
        f"marginal_tau2's grid ({rows} points of tau2 x {m} groups x 8 bytes, with temporaries)",
        "a smaller n_grid=",
    )
    return n_grid


def marginal_tau2(
    y: ArrayLike, groups: ArrayLike, prior: Any = None, n_grid: int = 1201
) -> pd.DataFrame:
    """The exact marginal posterior :math:`p(\\tau^2 \\mid y)` of model 1 on a grid.

    :math:`\\theta` and :math:`\\mu` are integrated out analytically, :math:`\\sigma^2` by the
    trapezoid rule in :math:`\\log\\sigma^2` (module docstring): exact up to quadrature error.
    The grid is equally spaced in :math:`\\log\\tau` and covers every :math:`\\tau` whose
    log density (per unit of :math:`\\log\\tau`) is within 30 of the maximum.

    Parameters
    ----------
    y, groups : array_like, shape (n,)
        Responses and group labels (as :func:`hierlib.gibbs.hierarchical_normal`).
    prior : priors.Default, priors.SemiConjugate or priors.HalfCauchy, optional
        ``None`` is the lecture's default (flat on :math:`\\mu` and :math:`\\tau^2`,
        :math:`1/\\sigma^2`); the same propriety checks as the sampler apply.
    n_grid : int
        Grid points (at least 50); the quadrature error falls like ``1/n_grid**2``.

    Returns
    -------
    pandas.DataFrame
        Columns ``tau2``, ``density`` (of :math:`\\tau^2`, normalised so that
        ``np.trapezoid(density, tau2) == 1``), ``tau`` and ``density_tau``
        (:math:`p(\\tau \\mid y) = 2\\tau\\,p(\\tau^2 \\mid y)`).

    Raises
    ------
    ValueError
        Bad data, a prior of another type, or one that makes the posterior improper.
    """
    stats = group_stats(y, groups)
    if prior is None:
        prior = Default()
    if not isinstance(prior, Default | SemiConjugate | HalfCauchy):
        raise ValueError(
            "prior must be None, priors.Default, priors.SemiConjugate or priors.HalfCauchy; "
            f"got {type(prior).__name__}"
        )
    n_grid = _check_grid(positive_int(n_grid, "n_grid", minimum=50), stats.m)
    prior.check_data(stats.m, stats.n_total, float(stats.ss.sum()))
    if stats.n_total <= stats.m or stats.ss.sum() <= 0:
        raise ValueError(
            "the exact marginal needs within-group spread in y (some group with two values)"
        )
    # work on standardised data (scores in sd units): every grid stays inside floating point
    centre, unit, stats, prior = _standardised(stats, prior)
    s_within = stats.ss.sum() / (stats.n_total - stats.m)
    scale = np.sqrt(max(float(np.var(stats.ybar)), s_within / stats.n.mean()))
    # a coarse pass locates the mass; then a fine grid in log tau covers it
    coarse = scale * np.exp(np.linspace(np.log(1e-5), np.log(1e15), 321))
    log_u = _log_post_tau2(stats, prior, coarse**2) + 2.0 * np.log(coarse)  # per unit log tau
    inside = np.flatnonzero(log_u > log_u.max() - _DROP)
    if inside[-1] == coarse.size - 1:
        raise ValueError(
            "the posterior of tau has too heavy a tail for a grid (it may be improper)"
        )
    lo, hi = coarse[max(inside[0] - 1, 0)], coarse[inside[-1] + 1]
    tau_std = np.exp(np.linspace(np.log(lo), np.log(hi), n_grid))
    log_d = _log_post_tau2(stats, prior, tau_std**2)
    density_std = np.exp(log_d - log_d.max())
    density_std /= np.trapezoid(density_std, tau_std**2)
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
    return table


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
    ss = float(stats.ss.sum() + np.sum(stats.n * (stats.ybar - grand) ** 2))
    if ss <= 0:
        raise ValueError("complete pooling needs spread: all values of y are equal")
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
    if df <= 0 or stats.ss.sum() <= 0:
        raise ValueError(
            "no pooling needs within-group spread in y: some group with two different values"
        )
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


def _tau_quantiles(table: pd.DataFrame, probs) -> NDArray[np.float64]:
    """Quantiles of :math:`\\tau` from a :func:`marginal_tau2` table (trapezoid cdf)."""
    tau2, dens = table["tau2"].to_numpy(), table["density"].to_numpy()
    cdf = np.concatenate([[0.0], np.cumsum(np.diff(tau2) * 0.5 * (dens[1:] + dens[:-1]))])
    return np.interp(probs, cdf, table["tau"].to_numpy())


def tau_summary(table: pd.DataFrame, prob: float = 0.95) -> dict[str, float]:
    """Posterior mean of :math:`\\tau` and its equal-tailed ``prob`` interval, from a
    :func:`marginal_tau2` table (trapezoid cdf, linear interpolation)."""
    lo, hi = _tau_quantiles(table, [(1 - prob) / 2, (1 + prob) / 2])
    tau2, dens = table["tau2"].to_numpy(), table["density"].to_numpy()
    mean = float(np.trapezoid(table["tau"].to_numpy() * dens, tau2))
    return {"mean": mean, "lower": float(lo), "upper": float(hi)}
