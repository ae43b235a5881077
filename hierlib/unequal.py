"""Unequal within-group variances: the t-like marginal and the shrinkage of variances and means.

The lecture's extension of the hierarchical normal model gives every group its own variance,

.. math::

    Y_{ij} \\mid \\theta_j, \\sigma_j^2 \\sim N(\\theta_j, \\sigma_j^2), \\qquad
    1/\\sigma_j^2 \\mid \\nu_0, \\sigma_0^2 \\sim \\text{Gamma}(\\nu_0/2,\\ \\nu_0\\sigma_0^2/2).

Writing :math:`\\sigma_j^2 = \\sigma_0^2/\\lambda_j` with :math:`\\lambda_j \\sim
\\text{Gamma}(\\nu_0/2, \\nu_0/2)` (mean 1) shows it as a *scale mixture of normals*: integrating
:math:`\\lambda_j` out, each :math:`Y_{ij}` is Student-t with :math:`\\nu_0` degrees of freedom,
location :math:`\\theta_j` and scale :math:`\\sigma_0` (:func:`draw_group_variances`,
:func:`plot_t_marginal`).

Given :math:`\\theta_j`, the full conditional of the precision is
:math:`\\text{Gamma}((\\nu_0+n_j)/2, (\\nu_0\\sigma_0^2+S_j)/2)` with
:math:`S_j = SS_j + n_j(\\bar y_j-\\theta_j)^2`, so the conditional mean of the variance
(an inverse gamma mean, for :math:`\\nu_0 > 2`) is a weighted average,

.. math::

    E[\\sigma_j^2 \\mid \\cdot] = \\frac{\\nu_0\\sigma_0^2 + S_j}{\\nu_0 + n_j - 2}
    = w_j\\,\\frac{\\nu_0\\sigma_0^2}{\\nu_0-2} + (1-w_j)\\,\\frac{S_j}{n_j},
    \\qquad w_j = \\frac{\\nu_0-2}{\\nu_0+n_j-2}:

the variances are shrunk towards the prior mean of :math:`\\sigma_j^2`,
:math:`\\nu_0\\sigma_0^2/(\\nu_0-2)`, the more so the smaller the group
(:func:`variance_shrinkage_weight`, :func:`variance_table`). The means are shrunk with the
group's own :math:`\\sigma_j^2`, so a noisy school is pulled harder (:func:`mean_shrinkage`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from hierlib._validate import (
    as_finite_1d,
    finite_scalar,
    positive,
    positive_int,
    require_draws,
    require_type,
)
from hierlib.data import require_stats
from hierlib.marginal import simulate_two_level
from hierlib.plots import AXES_HOW, new_axes


def draw_group_variances(
    rng: np.random.Generator, nu0: float, sigma02: float, m: int
) -> NDArray[np.float64]:
    """Draw :math:`m` group variances :math:`\\sigma_j^2 = \\sigma_0^2/\\lambda_j` from the prior.

    :math:`\\lambda_j \\sim \\text{Gamma}(\\nu_0/2, \\text{rate } \\nu_0/2)`, i.e.
    :math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)`.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    nu0, sigma02 : float
        Prior degrees of freedom and centre (both > 0).
    m : int
        Number of groups.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (numpy.random.default_rng(seed))")
    nu = positive(nu0, "nu0")
    s02 = positive(sigma02, "sigma02")
    size = positive_int(m, "m")
    lam = rng.standard_gamma(nu / 2, size=size) / (nu / 2)
    with np.errstate(divide="ignore", over="ignore"):
        out = s02 / lam
    if not np.isfinite(out).all():
        raise ValueError(
            f"a group variance drawn with nu0 = {nu:g}, sigma02 = {s02:g} is not finite (the "
            "Gamma(nu0/2) draw underflowed to 0 or the ratio overflowed): use a larger nu0"
        )
    return out


def plot_t_marginal(
    rng: np.random.Generator,
    nu0_values: Sequence[float],
    sigma02: float,
    n_draws: int = 100_000,
    axes: Sequence[Axes] | None = None,
) -> list[Axes]:
    """Simulated scores around their school mean against the Student-t and normal densities.

    For each :math:`\\nu_0`: draw ``n_draws`` schools' variances from the prior
    (:func:`draw_group_variances`), one student per school
    (:func:`hierlib.marginal.simulate_two_level` with :math:`\\tau^2 = 0`), and histogram
    :math:`Y - \\theta`. Overlaid: :math:`t_{\\nu_0}(0, \\sigma_0)` (the exact marginal) and
    :math:`N(0, \\sigma_0^2)`. Log density axis, so the tails show.
    """
    s02 = positive(sigma02, "sigma02")
    nus = [positive(v, "nu0") for v in nu0_values]
    if not nus:
        raise ValueError("nu0_values is empty")
    if axes is None:
        _, ax_arr = plt.subplots(1, len(nus), figsize=(6.0 * len(nus), 4.6), sharey=True)
        axes = list(np.atleast_1d(ax_arr))
    axes = [require_type(a, Axes, f"axes[{k}]", AXES_HOW) for k, a in enumerate(np.ravel(axes))]
    if len(axes) != len(nus):
        raise ValueError(f"axes holds {len(axes)} Axes for {len(nus)} values of nu0: one each")
    scale = np.sqrt(s02)
    grid = np.linspace(-6 * scale, 6 * scale, 400)
    edges = np.linspace(grid[0], grid[-1], 81)
    mids = (edges[:-1] + edges[1:]) / 2
    for ax, nu in zip(axes, nus, strict=True):
        sigma2_j = draw_group_variances(rng, nu, s02, n_draws)
        dev, _ = simulate_two_level(rng, np.ones(n_draws, dtype=int), 0.0, 0.0, sigma2_j)
        dens, _ = np.histogram(dev, bins=edges, density=True)
        ax.plot(mids[dens > 0], dens[dens > 0], "o", ms=4, color="C0",
                label="simulated: σⱼ² from the prior")  # fmt: skip
        ax.plot(grid, stats.t.pdf(grid, nu, scale=scale), color="C3", lw=2.2,
                label="Student t, ν₀ df, scale σ₀")  # fmt: skip
        ax.plot(grid, stats.norm.pdf(grid, scale=scale), color="0.2", ls="--", lw=1.8,
                label="normal, sd σ₀")  # fmt: skip
        ax.set_yscale("log")
        ax.set_ylim(1e-5, 0.2)
        ax.set_xlabel(r"score minus school mean, $y - \theta_j$ (points)")
        ax.set_title(f"ν₀ = {nu:g}")
    axes[0].set_ylabel("density (log scale)")
    axes[0].legend(loc="lower center", fontsize=10)
    fig = axes[0].figure
    fig.suptitle(f"One λⱼ per school makes the scores Student-t (σ₀² = {s02:.1f})")
    fig.tight_layout()
    return list(axes)


def variance_shrinkage_weight(n: ArrayLike, nu0: float) -> NDArray[np.float64]:
    """Weight :math:`w_j = (\\nu_0-2)/(\\nu_0+n_j-2)` that :math:`E[\\sigma_j^2 \\mid \\cdot]`
    puts on the prior mean :math:`\\nu_0\\sigma_0^2/(\\nu_0-2)` of :math:`\\sigma_j^2`
    (module docstring); the rest goes to the school's own :math:`S_j/n_j`.

    The prior acts like :math:`\\nu_0 - 2` extra observations at its mean. Needs
    :math:`\\nu_0 > 2` (otherwise :math:`\\sigma_j^2` has no prior mean).
    """
    n_arr = as_finite_1d(n, "n")
    if (n_arr < 1).any():
        raise ValueError("n must hold group sizes of at least 1")
    nu = positive(nu0, "nu0")
    if nu <= 2:
        raise ValueError(f"nu0 must exceed 2 (the prior mean of sigma_j^2 is infinite); got {nu}")
    return (nu - 2) / (nu + n_arr - 2)


def variance_table(post: Any) -> pd.DataFrame:
    """Per group: :math:`n_j`, :math:`s_j^2`, posterior mean and sd of :math:`\\sigma_j^2`.

    Parameters
    ----------
    post : unequal-variances posterior
        Needs ``stats`` (group sufficient statistics), ``sigma2_j_mean``, ``sigma2_j_sd``
        and ``draws["nu0"]``, ``draws["sigma02"]`` (see :func:`hierlib.gibbs.unequal_variances`).

    Returns
    -------
    pandas.DataFrame
        Indexed by group label: ``n``, ``s2`` (sample variance), ``post_mean``, ``post_sd``,
        ``weight`` (:math:`(\\nu_0-2)/(\\nu_0+n_j-2)` at the posterior mean of :math:`\\nu_0`) and
        ``pulled`` (:math:`s_j^2 - E[\\sigma_j^2 \\mid Y]`).
    """
    require_draws(post)
    for key in ("nu0", "sigma02"):
        if key not in post.draws:
            raise ValueError(f"the posterior has no {key} draws: not an unequal-variances fit")
    st = require_stats(getattr(post, "stats", None), "post.stats")
    table = pd.DataFrame(
        {
            "n": st.n,
            "s2": st.s2,
            "post_mean": np.asarray(post.sigma2_j_mean),
            "post_sd": np.asarray(post.sigma2_j_sd),
            "weight": variance_shrinkage_weight(st.n, float(np.mean(post.draws["nu0"]))),
        },
        index=pd.Index(st.labels, name="group"),
    )
    table["pulled"] = table["s2"] - table["post_mean"]
    return table


def mean_shrinkage(stats_: Any, theta_mean: ArrayLike, mu: float) -> NDArray[np.float64]:
    """Share of the way each group mean is pulled to :math:`\\mu`:
    :math:`(\\bar y_j - E[\\theta_j\\mid Y]) / (\\bar y_j - \\mu)`.

    0 means not shrunk, 1 means pulled all the way to :math:`\\mu`. Groups whose
    :math:`\\bar y_j` is within 0.05 sd of the group means of :math:`\\mu` are NaN (the ratio is
    unstable there).
    """
    ybar = require_stats(stats_, "stats_").ybar
    post = as_finite_1d(theta_mean, "theta_mean")
    mu = finite_scalar(mu, "mu")
    if post.shape != ybar.shape:
        raise ValueError(f"theta_mean has {post.size} groups but the statistics have {ybar.size}")
    gap = ybar - float(mu)
    out = np.full(ybar.shape, np.nan)
    ok = np.abs(gap) > 0.05 * ybar.std()
    out[ok] = (ybar[ok] - post[ok]) / gap[ok]
    return out


def plot_mean_shrinkage_compare(
    stats_: Any,
    equal: Any,
    unequal: Any,
    ax: Axes | None = None,
) -> Axes:
    """Shrinkage of each school mean under equal vs unequal variances, coloured by :math:`s_j`.

    x: share of the way to :math:`\\mu` under model 1 (one :math:`\\sigma^2`); y: the same under
    model 2 (own :math:`\\sigma_j^2`). Schools above the 45-degree line are pulled harder when
    they keep their own variance: those with a large :math:`s_j`.
    """
    require_draws(equal, "equal", ["mu"])
    require_draws(unequal, "unequal", ["mu"])
    x = mean_shrinkage(stats_, equal.theta_mean, float(np.mean(equal.draws["mu"])))
    yv = mean_shrinkage(stats_, unequal.theta_mean, float(np.mean(unequal.draws["mu"])))
    ax = new_axes(ax)
    ok = np.isfinite(x) & np.isfinite(yv)
    sd = np.sqrt(stats_.s2)
    points = ax.scatter(x[ok], yv[ok], c=sd[ok], cmap="viridis", s=40, edgecolor="k", lw=0.3)
    lo, hi = float(min(x[ok].min(), yv[ok].min())), float(max(x[ok].max(), yv[ok].max()))
    ax.plot([lo, hi], [lo, hi], "--", color="0.3", lw=1.2, label="45° line: same shrinkage")
    plt.colorbar(points, ax=ax, label=r"school sd $s_j$ (points)")
    ax.set_xlabel("share pulled to μ, equal variances")
    ax.set_ylabel(r"share pulled to μ, own variance $\sigma_j^2$")
    ax.set_title(r"Noisy schools (large $s_j$) are pulled harder with their own variance")
    ax.legend(loc="upper left")
    return ax
