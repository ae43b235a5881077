"""Shrinkage: a school's posterior mean is a precision-weighted average of its own mean and μ.

Given :math:`(\\mu, \\tau^2, \\sigma^2)`, the normal prior :math:`\\theta_j \\sim N(\\mu, \\tau^2)`
and the likelihood :math:`\\bar y_j \\mid \\theta_j \\sim N(\\theta_j, \\sigma^2 / n_j)` give

.. math::

    E[\\theta_j \\mid \\mu, \\tau^2, \\sigma^2, Y]
      = \\frac{n_j \\bar y_j / \\sigma^2 + \\mu / \\tau^2}{n_j / \\sigma^2 + 1 / \\tau^2}
      = B_j \\mu + (1 - B_j) \\bar y_j,
    \\qquad B_j = \\frac{\\sigma^2}{\\sigma^2 + n_j \\tau^2},

where :math:`B_j` is the *shrinkage factor*: the weight pulled from the school's own mean
towards μ. It falls as :math:`n_j` grows (more data, less borrowing). With a variance per group
(:math:`\\sigma_j^2`, notebook 06) the same formula holds with :math:`\\sigma_j^2` for
:math:`\\sigma^2`.

The module also holds the held-out comparison of the three estimators of a school mean -- no
pooling (:math:`\\bar y_j`), complete pooling (:math:`\\bar y`), partial pooling (the
shrinkage estimate) -- and the generic shrinkage plot used for means (07) and variances (06).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import (
    as_finite_1d,
    as_labels,
    finite_scalar,
    nonnegative,
    positive,
    positive_int,
    same_length,
)
from hierlib.anova import anova_from_stats
from hierlib.data import GroupStats, group_stats, require_stats
from hierlib.plots import finish_axes, new_axes


def _positive_variances(value: ArrayLike, name: str) -> float | NDArray[np.float64]:
    """A variance (scalar) or one per group (1-d), each finite and > 0, else ``ValueError``."""
    if np.ndim(value) == 0:
        return positive(value, name)  # type: ignore[arg-type]
    arr = as_finite_1d(value, name)
    if (arr <= 0).any():
        raise ValueError(f"{name} must be positive; got {arr[arr <= 0][0]!r}")
    return arr


def shrinkage_factor(n: ArrayLike, sigma2: ArrayLike, tau2: float) -> NDArray[np.float64]:
    """Weight :math:`B_j = \\sigma_j^2 / (\\sigma_j^2 + n_j \\tau^2)` given to μ.

    Parameters
    ----------
    n : array_like of int, shape (m,)
        Group sizes :math:`n_j` (each >= 1).
    sigma2 : float or array_like, shape (m,)
        Within-group variance :math:`\\sigma^2` (one for all groups) or :math:`\\sigma_j^2`.
    tau2 : float
        Between-group variance :math:`\\tau^2 \\ge 0` (0 gives :math:`B_j = 1`).

    Returns
    -------
    ndarray, shape (m,)
        :math:`B_j \\in (0, 1]`; :math:`1 - B_j` is the weight of the school's own mean.
    """
    n_arr = as_finite_1d(n, "n")
    if (n_arr < 1).any() or (n_arr != np.round(n_arr)).any():
        raise ValueError("n must hold whole group sizes of at least 1")
    s2 = _positive_variances(sigma2, "sigma2")
    if np.ndim(tau2) != 0:
        raise ValueError("tau2 must be a single number (one between-group variance)")
    t2 = nonnegative(tau2, "tau2")
    if np.ndim(s2) == 1:
        same_length(n=n_arr, sigma2=s2)
    with np.errstate(over="ignore", under="ignore"):
        total = s2 + n_arr * t2
        if np.isfinite(total).all():
            return s2 / total
        return 1.0 / (1.0 + n_arr * (t2 / s2))  # the same ratio, without the overflowing sum


def conditional_mean(
    ybar: ArrayLike, n: ArrayLike, mu: float, tau2: float, sigma2: ArrayLike
) -> NDArray[np.float64]:
    """:math:`E[\\theta_j \\mid \\mu, \\tau^2, \\sigma^2, Y] = B_j\\mu + (1 - B_j)\\bar y_j`.

    The precision-weighted average
    :math:`(n_j \\bar y_j/\\sigma_j^2 + \\mu/\\tau^2) / (n_j/\\sigma_j^2 + 1/\\tau^2)`, written
    with the shrinkage factor :math:`B_j` (see :func:`shrinkage_factor`) so that
    :math:`\\tau^2 = 0` (complete pooling) is handled exactly.

    Parameters
    ----------
    ybar : array_like, shape (m,)
        Group means :math:`\\bar y_j`.
    n : array_like, shape (m,)
        Group sizes.
    mu : float
        Population mean μ.
    tau2 : float
        Between-group variance (>= 0).
    sigma2 : float or array_like, shape (m,)
        Within-group variance, common or per group (> 0).

    Returns
    -------
    ndarray, shape (m,)
    """
    ybar_arr = as_finite_1d(ybar, "ybar")
    b = shrinkage_factor(n, sigma2, tau2)
    same_length(ybar=ybar_arr, n=b)
    mu_f = finite_scalar(mu, "mu")
    return b * mu_f + (1.0 - b) * ybar_arr


def conditional_var(n: ArrayLike, tau2: float, sigma2: ArrayLike) -> NDArray[np.float64]:
    """:math:`\\mathrm{Var}[\\theta_j \\mid \\mu, \\tau^2, \\sigma^2, Y]
    = (n_j/\\sigma_j^2 + 1/\\tau^2)^{-1}`.

    Computed as :math:`(1 - B_j)\\,\\sigma_j^2 / n_j`, which equals the precision form and is 0
    when :math:`\\tau^2 = 0`.
    """
    n_arr = as_finite_1d(n, "n")
    b = shrinkage_factor(n_arr, sigma2, tau2)
    s2 = np.broadcast_to(np.asarray(sigma2, dtype=np.float64), b.shape)
    return (1.0 - b) * s2 / n_arr


# ---------------------------------------------------------------------------------------------
# Empirical-Bayes plug-in (method-of-moments variance components)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MomentEstimates:
    """Method-of-moments (ANOVA) estimates of the random-intercept model.

    Attributes
    ----------
    mu : float
        GLS mean :math:`\\hat\\mu = \\sum_j w_j \\bar y_j / \\sum_j w_j`,
        :math:`w_j = 1/(\\hat\\tau^2 + \\hat\\sigma^2/n_j)`.
    tau2 : float
        :math:`\\hat\\tau^2 = \\max\\{0, (MSB - MSW)/n_0\\}`,
        :math:`n_0 = (N - \\sum_j n_j^2 / N)/(m - 1)`.
    sigma2 : float
        :math:`\\hat\\sigma^2 = MSW = \\sum_j SS_j / (N - m)`.
    """

    mu: float
    tau2: float
    sigma2: float


def moment_estimates(stats: GroupStats) -> MomentEstimates:
    """Closed-form ANOVA (method-of-moments) estimates of :math:`(\\mu, \\tau^2, \\sigma^2)`.

    :math:`E[MSW] = \\sigma^2` and :math:`E[MSB] = \\sigma^2 + n_0 \\tau^2` for the
    unbalanced one-way random-effects model, which gives the estimates in
    :class:`MomentEstimates`. No optimiser is involved, so it is fast enough to refit on
    hundreds of random splits; on HSB it is close to REML (τ̂² 8.2 vs 8.6).

    Raises
    ------
    ValueError
        Fewer than two groups, no within-group degrees of freedom (every group of size 1), or
        every group constant (from :func:`hierlib.anova.anova_from_stats`).
    """
    require_stats(stats)
    table = anova_from_stats(stats)  # MSB, MSW; raises on < 2 groups or no within df
    msb, msw = table.ms_between, table.ms_within
    n_tot = stats.n_total
    n0 = (n_tot - float(np.dot(stats.n, stats.n)) / n_tot) / (stats.m - 1)
    tau2 = max(0.0, (msb - msw) / n0)
    w = 1.0 / (tau2 + msw / stats.n)
    mu = float(np.dot(w, stats.ybar) / w.sum())
    return MomentEstimates(mu=mu, tau2=tau2, sigma2=msw)


def empirical_bayes_means(stats: GroupStats) -> NDArray[np.float64]:
    """Partial pooling by plug-in: :func:`conditional_mean` at the :func:`moment_estimates`."""
    est = moment_estimates(stats)
    return conditional_mean(stats.ybar, stats.n, est.mu, est.tau2, est.sigma2)


# ---------------------------------------------------------------------------------------------
# Held-out comparison: no pooling vs complete pooling vs partial pooling
# ---------------------------------------------------------------------------------------------

ESTIMATORS = ("no_pooling", "complete_pooling", "partial_eb", "partial_gibbs")
"""Estimators :func:`heldout_comparison` knows: sample mean, grand mean, EB plug-in, Gibbs."""


def split_groups(groups: ArrayLike, rng: np.random.Generator) -> NDArray[np.bool_]:
    """Split every group's members at random into two halves.

    Parameters
    ----------
    groups : array_like, shape (n,)
        Group label of each observation; every group needs at least two members.
    rng : numpy.random.Generator
        Source of randomness.

    Returns
    -------
    ndarray of bool, shape (n,)
        ``True`` for the fitting half: :math:`\\lfloor n_j/2 \\rfloor` members of group j chosen
        uniformly at random; the other :math:`\\lceil n_j/2 \\rceil` are held out. Every group
        is on both sides.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    g = as_labels(groups)
    _, idx, n = np.unique(g, return_inverse=True, return_counts=True)
    if (n < 2).any():
        raise ValueError("every group needs at least two members to be split in halves")
    order = np.lexsort((rng.random(g.size), idx))  # by group, random within group
    start = np.concatenate(([0], np.cumsum(n)[:-1]))
    pos = np.arange(g.size) - start[idx[order]]
    train = np.empty(g.size, dtype=bool)
    train[order] = pos < (n // 2)[idx[order]]
    return train


def _gibbs_means(y: NDArray, groups: NDArray, seed: int, gibbs_kwargs: dict) -> NDArray:
    from hierlib import gibbs  # the sampler module; imported only when asked for

    # only the running posterior means are needed: keep no theta draws
    kwargs = {"n_draws": 2000, "n_warmup": 500, "n_chains": 2, "keep_theta": [], **gibbs_kwargs}
    post = gibbs.hierarchical_normal(y, groups, seed=seed, **kwargs)
    return np.asarray(post.theta_mean, dtype=np.float64)


def heldout_mse(
    y: ArrayLike,
    groups: ArrayLike,
    train: ArrayLike,
    estimators: tuple[str, ...] = ("no_pooling", "complete_pooling", "partial_eb"),
    seed: int = 0,
    gibbs_kwargs: dict | None = None,
) -> dict[str, float]:
    """Mean squared error of each estimator at predicting the held-out half's school means.

    Each estimator is fitted on the rows with ``train`` True and predicts, for every school j,
    the mean :math:`\\bar y_j^{test}` of its held-out rows. The score is
    :math:`m^{-1}\\sum_j (\\hat\\theta_j - \\bar y_j^{test})^2`.

    ``"noise_floor"`` is also returned: :math:`m^{-1}\\sum_j \\hat\\sigma^2_{test}/n_j^{test}`,
    an estimate of the part every estimator pays because :math:`\\bar y_j^{test}` is itself
    noisy (:math:`E(\\hat\\theta_j - \\bar y_j^{test})^2 = E(\\hat\\theta_j - \\theta_j)^2 +
    \\sigma^2 / n_j^{test}` for an estimator independent of the held-out half).

    Parameters
    ----------
    y, groups : array_like, shape (n,)
        Responses and group labels.
    train : array_like of bool, shape (n,)
        Fitting half (see :func:`split_groups`); every group must be on both sides.
    estimators : tuple of str
        Any of :data:`ESTIMATORS`. ``"partial_gibbs"`` runs
        :func:`hierlib.gibbs.hierarchical_normal` (default prior) with ``seed`` and
        ``gibbs_kwargs`` (default 2 chains x 2000 draws after 500 warm-up) and uses the
        posterior means of the θ_j.

    Returns
    -------
    dict
        ``{estimator: mse}`` plus ``"noise_floor"``.
    """
    y_arr = as_finite_1d(y, "y")
    g_arr = as_labels(groups)
    mask = np.asarray(train)
    if mask.dtype != bool:
        raise ValueError("train must be a boolean mask")
    same_length(y=y_arr, groups=g_arr, train=mask)
    unknown = set(estimators) - set(ESTIMATORS)
    if unknown or not estimators:
        raise ValueError(f"unknown estimator(s) {sorted(unknown)}; choose from {ESTIMATORS}")
    fit = group_stats(y_arr[mask], g_arr[mask])
    test = group_stats(y_arr[~mask], g_arr[~mask])
    if fit.m != test.m or not np.array_equal(fit.labels, test.labels):
        raise ValueError("every group must have members in both the fitting and held-out halves")
    preds: dict[str, NDArray] = {}
    for name in estimators:
        if name == "no_pooling":
            preds[name] = fit.ybar
        elif name == "complete_pooling":
            preds[name] = np.full(fit.m, fit.grand_mean)
        elif name == "partial_eb":
            preds[name] = empirical_bayes_means(fit)
        else:
            preds[name] = _gibbs_means(y_arr[mask], g_arr[mask], seed, gibbs_kwargs or {})
    out = {name: float(np.mean((p - test.ybar) ** 2)) for name, p in preds.items()}
    dof = test.n_total - test.m
    s2_test = float(test.ss.sum()) / dof if dof > 0 else np.nan
    out["noise_floor"] = float(np.mean(s2_test / test.n))
    return out


def heldout_comparison(
    y: ArrayLike,
    groups: ArrayLike,
    n_splits: int = 100,
    seed: int = 0,
    estimators: tuple[str, ...] = ("no_pooling", "complete_pooling", "partial_eb"),
    gibbs_kwargs: dict | None = None,
) -> pd.DataFrame:
    """:func:`heldout_mse` over ``n_splits`` random half-splits, one row per split.

    Split ``s`` uses the generator spawned as ``SeedSequence(seed).spawn(n_splits)[s]`` (and,
    for the Gibbs estimator, a sampler seed drawn from it), so each split is reproducible on
    its own and the whole table is bit-identical for a given ``seed``.

    Returns
    -------
    pandas.DataFrame
        Index ``split`` (0..n_splits-1); one column per estimator plus ``noise_floor``.
    """
    n_splits = positive_int(n_splits, "n_splits")
    y_arr = as_finite_1d(y, "y")
    labels, codes = np.unique(as_labels(groups), return_inverse=True)  # sort labels once
    same_length(y=y_arr, groups=codes)
    rows = []
    for child in np.random.SeedSequence(seed).spawn(n_splits):
        rng = np.random.default_rng(child)
        train = split_groups(codes, rng)
        rows.append(
            heldout_mse(
                y_arr,
                codes,
                train,
                estimators=estimators,
                seed=int(rng.integers(2**31)),
                gibbs_kwargs=gibbs_kwargs,
            )
        )
    return pd.DataFrame(rows, index=pd.RangeIndex(n_splits, name="split"))


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def _sizes(n: NDArray, lo: float = 15.0, hi: float = 160.0) -> NDArray:
    span = n.max() - n.min()
    return np.full(n.shape, (lo + hi) / 2) if span == 0 else lo + (hi - lo) * (n - n.min()) / span


def plot_shrinkage(
    sample_estimate: ArrayLike,
    posterior_mean: ArrayLike,
    n: ArrayLike,
    ax: Axes | None = None,
    *,
    pooled: float | None = None,
    pooled_label: str = "pooled value",
    xlabel: str = "sample estimate",
    ylabel: str = "posterior mean",
    title: str | None = "Posterior means are pulled towards the pooled value",
    size_legend: tuple[int, ...] | None = None,
) -> Axes:
    """Posterior mean against sample estimate, one point per group sized by :math:`n_j`.

    Points on the dashed 45-degree line are not shrunk; the flatter the cloud, the stronger the
    pooling. Works for means (:math:`\\bar y_j` vs :math:`E[\\theta_j|Y]`) and variances
    (:math:`s_j^2` vs :math:`E[\\sigma_j^2|Y]`).

    Parameters
    ----------
    sample_estimate, posterior_mean, n : array_like, shape (m,)
        Per-group sample estimate, posterior mean and group size.
    ax : matplotlib Axes, optional
        Drawn into a new figure when omitted.
    pooled : float, optional
        The value everything is pulled towards (μ̂, or the prior mean of σ_j²); drawn as a
        dotted horizontal line.
    pooled_label : str
        Legend text of that line (its value is appended).
    xlabel, ylabel, title : str
        Axis labels (give units) and a title that says what to see.
    size_legend : tuple of int, optional
        Group sizes shown in the marker-size legend (default: min, median, max of ``n``).

    Returns
    -------
    matplotlib Axes
    """
    x = as_finite_1d(sample_estimate, "sample_estimate")
    yv = as_finite_1d(posterior_mean, "posterior_mean")
    n_arr = as_finite_1d(n, "n")
    same_length(sample_estimate=x, posterior_mean=yv, n=n_arr)
    if (n_arr < 1).any():
        raise ValueError("n must hold group sizes of at least 1")
    ax = new_axes(ax)
    sizes = _sizes(n_arr)
    ax.scatter(x, yv, s=sizes, alpha=0.55, edgecolor="k", linewidth=0.4, zorder=3)
    lo = float(min(x.min(), yv.min()))
    hi = float(max(x.max(), yv.max()))
    pad = 0.03 * (hi - lo if hi > lo else 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], "--", color="0.3", lw=1.2,
            label="45° line (no shrinkage)", zorder=2)  # fmt: skip
    if pooled is not None:
        ax.axhline(float(pooled), color="C3", ls=":", lw=1.5, label=f"{pooled_label} {pooled:.2f}")
    ticks = size_legend or tuple(
        sorted({int(n_arr.min()), int(np.median(n_arr)), int(n_arr.max())})
    )
    for t in ticks:
        ax.scatter([], [], s=float(_sizes(np.append(n_arr, t))[-1]), color="C0", alpha=0.55,
                   edgecolor="k", linewidth=0.4, label=f"n = {t}")  # fmt: skip
    return finish_axes(ax, xlabel, ylabel, title, legend="upper left")


def plot_shrinkage_vs_n(
    n: ArrayLike,
    sample_estimate: ArrayLike,
    posterior_mean: ArrayLike,
    ax: Axes | None = None,
    *,
    ylabel: str = "sample mean − posterior mean",
    title: str | None = "Small schools are shrunk the most",
) -> Axes:
    """Shrinkage :math:`\\bar y_j - E[\\theta_j|Y]` against :math:`n_j`, one point per group.

    Points above 0 are schools pulled down (their mean was above μ), below 0 pulled up; the
    funnel narrows as :math:`n_j` grows.
    """
    n_arr = as_finite_1d(n, "n")
    x = as_finite_1d(sample_estimate, "sample_estimate")
    yv = as_finite_1d(posterior_mean, "posterior_mean")
    same_length(n=n_arr, sample_estimate=x, posterior_mean=yv)
    ax = new_axes(ax)
    d = x - yv
    ax.axhline(0.0, color="0.3", lw=1)
    ax.scatter(n_arr[d >= 0], d[d >= 0], color="C0", alpha=0.7, label="pulled down")
    ax.scatter(n_arr[d < 0], d[d < 0], color="C1", alpha=0.7, marker="s", label="pulled up")
    return finish_axes(ax, "students in the school, $n_j$", ylabel, title, legend="upper right")


def plot_shrinkage_factor(
    n: ArrayLike,
    sigma2: float,
    tau2: float,
    ax: Axes | None = None,
    *,
    observed: tuple[ArrayLike, ArrayLike, float] | None = None,
    min_distance: float = 1.0,
    title: str | None = "The weight on μ falls with the number of students",
) -> Axes:
    """The shrinkage factor :math:`B(n) = \\sigma^2/(\\sigma^2 + n\\tau^2)` as a curve over n.

    Parameters
    ----------
    n : array_like
        Group sizes; the curve spans their range and a rug marks each group.
    sigma2, tau2 : float
        Variance components at which the curve is drawn.
    observed : (sample_estimate, posterior_mean, center), optional
        Adds each group's realised factor :math:`(\\bar y_j - E[\\theta_j|Y]) /
        (\\bar y_j - \\mu)` for groups with :math:`|\\bar y_j - \\mu| >` ``min_distance``
        (closer ones divide noise by almost zero).
    """
    n_arr = as_finite_1d(n, "n")
    grid = np.linspace(max(1.0, n_arr.min() * 0.8), n_arr.max() * 1.05, 200)
    ax = new_axes(ax)
    b_grid = shrinkage_factor(np.round(grid), sigma2, tau2)
    ax.plot(np.round(grid), b_grid, color="C3", lw=2,
            label=f"$B(n)$ at σ² = {float(sigma2):.1f}, τ² = {float(tau2):.2f}")  # fmt: skip
    if observed is not None:
        x = as_finite_1d(observed[0], "sample_estimate")
        post = as_finite_1d(observed[1], "posterior_mean")
        same_length(n=n_arr, sample_estimate=x, posterior_mean=post)
        center = float(observed[2])
        far = np.abs(x - center) > min_distance
        ratio = (x[far] - post[far]) / (x[far] - center)
        label = "each school: $(\\bar y_j - E[\\theta_j|Y])/(\\bar y_j - \\hat\\mu)$"
        ax.scatter(n_arr[far], ratio, color="C0", alpha=0.6, s=25, label=label)
    ax.plot(n_arr, np.zeros_like(n_arr), "|", color="0.4", ms=10)
    ylabel = "shrinkage factor $B_j$ (weight on μ)"
    ax.set_ylim(bottom=-0.02)
    return finish_axes(ax, "students in the school, $n_j$", ylabel, title, legend="upper right")
