"""Looking at grouped data before modelling it: group means, spread and noise against size.

The three figures of the data notebook (``01_data``) and the numbers behind them:

- :func:`plot_means_vs_size` -- group mean :math:`\\bar y_j` against group size :math:`n_j`,
  with the band :math:`\\bar y \\pm 1.96\\, s_w/\\sqrt{n}` that group means would fill if every
  group had the same true mean (the funnel);
- :func:`plot_within_spread` -- every observation of every group, groups ordered by mean;
- :func:`plot_standard_errors` -- the standard error :math:`s/\\sqrt{n_j}` of a group mean.

:math:`s_w` is the pooled within-group standard deviation
:math:`s_w^2 = \\sum_j SS_j / (n - m)` (the ANOVA's within mean square).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import as_finite_1d
from hierlib.data import GroupStats, group_stats, require_stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

Z95 = 1.959963984540054
"""The 97.5% standard-normal quantile: :math:`\\pm` this many SEs hold 95% of a normal."""


def pooled_within_sd(stats: GroupStats) -> float:
    """Pooled within-group standard deviation :math:`s_w = \\sqrt{\\sum_j SS_j / (n - m)}`.

    Raises
    ------
    ValueError
        If :math:`n \\le m` (no within-group degrees of freedom).
    """
    require_stats(stats)
    dof = stats.n_total - stats.m
    if dof <= 0:
        raise ValueError(
            f"pooled within-group sd needs more observations than groups; got n={stats.n_total},"
            f" m={stats.m}"
        )
    return float(np.sqrt(stats.ss.sum() / dof))


def standard_errors(stats: GroupStats, pooled: bool = True) -> NDArray[np.float64]:
    """Standard error of each group mean.

    Parameters
    ----------
    stats : GroupStats
        Per-group sufficient statistics.
    pooled : bool, default True
        ``True``: :math:`s_w/\\sqrt{n_j}` with the pooled within-group sd (the equal-variance
        model's view); ``False``: :math:`s_j/\\sqrt{n_j}` with each group's own sample sd.

    Returns
    -------
    ndarray, shape (m,)
        In the order of ``stats.labels``.
    """
    require_stats(stats)
    sd = pooled_within_sd(stats) if pooled else np.sqrt(stats.s2)
    return sd / np.sqrt(stats.n)


def _new_axes(ax: Axes | None) -> Axes:
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    return new_axes(ax)


def plot_means_vs_size(
    stats: GroupStats, ax: Axes | None = None, funnel: bool = True, unit: str = "points"
) -> Axes:
    """Scatter group means :math:`\\bar y_j` against group sizes :math:`n_j`.

    A dashed line marks the grand mean :math:`\\bar y`; with ``funnel=True`` a shaded band
    :math:`\\bar y \\pm 1.96\\, s_w/\\sqrt{n}` shows where 95% of group means would fall if all
    groups shared one true mean (pure sampling noise).

    Parameters
    ----------
    stats : GroupStats
        Per-group sufficient statistics (e.g. ``group_stats(hsb.mathach, hsb.school)``).
    ax : matplotlib Axes, optional
        Where to draw (default: a new figure).
    funnel : bool, default True
        Draw the 95% band of pure noise.
    unit : str, default "points"
        Unit of ``y`` for the axis label.

    Returns
    -------
    matplotlib Axes
        The first collection on it holds the plotted points ``(n_j, ybar_j)``.
    """
    require_stats(stats)
    ax = _new_axes(ax)
    ax.scatter(stats.n, stats.ybar, s=28, alpha=0.8, label=f"school mean ({stats.m} schools)")
    ax.axhline(stats.grand_mean, color="k", ls="--", lw=1.2, label="grand mean")
    if funnel:
        sizes = np.linspace(stats.n.min(), stats.n.max(), 200)
        half = Z95 * pooled_within_sd(stats) / np.sqrt(sizes)
        ax.fill_between(
            sizes,
            stats.grand_mean - half,
            stats.grand_mean + half,
            color="0.5",
            alpha=0.2,
            label="95% band if all means were equal",
        )
    ax.set_xlabel("number of students in the school, $n_j$")
    ax.set_ylabel(f"school mean score, $\\bar y_j$ ({unit})")
    ax.set_title("School means against school size")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    return ax


def plot_within_spread(
    y: ArrayLike, groups: ArrayLike, ax: Axes | None = None, unit: str = "points"
) -> Axes:
    """Every observation of every group, groups ordered by their mean.

    Each group gets one x position (its rank by :math:`\\bar y_j`, lowest first); its
    observations are grey dots and its mean a coloured dot.

    Returns
    -------
    matplotlib Axes
        Collection 0 holds the observations, collection 1 the group means (sorted ascending).
    """
    y_arr = as_finite_1d(y, "y")
    stats = group_stats(y_arr, groups)
    order = np.argsort(stats.ybar, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    _, idx = np.unique(np.asarray(groups), return_inverse=True)
    ax = _new_axes(ax)
    ax.scatter(rank[idx], y_arr, s=4, color="0.55", alpha=0.25, lw=0, label="one student")
    ax.scatter(np.arange(stats.m), stats.ybar[order], s=12, color="C3", label="school mean")
    ax.axhline(stats.grand_mean, color="k", ls="--", lw=1.2, label="grand mean")
    ax.set_xlabel("school, ordered by mean score")
    ax.set_ylabel(f"math score ({unit})")
    ax.set_title("Every student, schools ordered by their mean")
    ax.legend(loc="upper left", markerscale=2)
    return ax


def plot_standard_errors(stats: GroupStats, ax: Axes | None = None) -> Axes:
    """Standard error of each group mean against group size.

    Dots: :math:`s_j/\\sqrt{n_j}` (each group's own sd); line: :math:`s_w/\\sqrt{n}` (pooled sd).

    Returns
    -------
    matplotlib Axes
        Collection 0 holds ``(n_j, s_j/sqrt(n_j))``; line 0 is the pooled curve.
    """
    require_stats(stats)
    ax = _new_axes(ax)
    ax.scatter(
        stats.n,
        standard_errors(stats, pooled=False),
        s=28,
        alpha=0.8,
        label="$s_j/\\sqrt{n_j}$ (own sd)",
    )
    sizes = np.linspace(stats.n.min(), stats.n.max(), 200)
    ax.plot(
        sizes,
        pooled_within_sd(stats) / np.sqrt(sizes),
        color="k",
        label="$s_w/\\sqrt{n}$ (pooled sd)",
    )
    ax.set_xlabel("number of students in the school, $n_j$")
    ax.set_ylabel("standard error of the school mean (points)")
    ax.set_title("The noise in a school mean falls like $1/\\sqrt{n_j}$")
    ax.legend(loc="upper right")
    return ax
