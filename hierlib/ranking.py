"""Ranking schools: the posterior distribution of each school's rank.

At every posterior draw :math:`(\\theta_1^{(s)}, \\dots, \\theta_m^{(s)})` rank the schools
(rank 1 = highest θ). The ranks across draws are draws from the posterior of each school's
rank, so rank intervals and :math:`P(\\text{rank}_j \\le k \\mid Y)` -- the probability that
school j is in the top k -- follow by counting. Because exactly k schools are in the top k at
every draw, :math:`\\sum_j P(\\text{rank}_j \\le k \\mid Y) = k`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import as_finite_1d, as_real_array, positive_int, same_length
from hierlib.plots import finish_axes, new_axes


def _draws_2d(theta_draws: ArrayLike) -> NDArray[np.float64]:
    """Flatten ``(chains, draws, m)`` or ``(draws, m)`` to ``(S, m)``; reject bad input."""
    arr = as_real_array(theta_draws, "theta_draws", "an array of draws (draws, m)")
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"theta_draws must have shape (draws, m) or (chains, draws, m); got {arr.shape}"
        )
    if arr.size == 0 or arr.shape[-1] < 2:
        raise ValueError(f"theta_draws needs at least one draw and two groups; got {arr.shape}")
    arr = arr.reshape(-1, arr.shape[-1])
    if not np.isfinite(arr).all():
        raise ValueError("theta_draws has NaN or infinite values")
    return arr


def rank_draws(theta_draws: ArrayLike, descending: bool = True) -> NDArray[np.int64]:
    """Rank the groups at every draw.

    Parameters
    ----------
    theta_draws : array_like, shape (chains, draws, m) or (draws, m)
        Posterior draws of the group means.
    descending : bool, default True
        Rank 1 goes to the largest θ (the best school). ``False`` gives rank 1 to the smallest.

    Returns
    -------
    ndarray of int, shape (S, m)
        :math:`r_j^{(s)} = 1 + \\#\\{k : \\theta_k^{(s)} > \\theta_j^{(s)}\\}` (draws of all
        chains stacked, S = chains x draws). Each row is a permutation of 1..m; ties (which
        have probability 0 for continuous draws) are broken by position.
    """
    arr = _draws_2d(theta_draws)
    key = -arr if descending else arr
    order = np.argsort(key, axis=1, kind="stable")
    ranks = np.empty_like(order)
    rows = np.arange(arr.shape[0])[:, None]
    ranks[rows, order] = np.arange(1, arr.shape[1] + 1)
    return ranks.astype(np.int64)


def prob_top_k(theta_draws: ArrayLike, k: int = 10) -> NDArray[np.float64]:
    """:math:`P(\\text{rank}_j \\le k \\mid Y)` for every group: the share of draws in the top k.

    The result sums to ``k`` (exactly k groups are in the top k at every draw).
    """
    arr = _draws_2d(theta_draws)
    k = positive_int(k, "k")
    if k > arr.shape[1]:
        raise ValueError(f"k = {k} exceeds the number of groups ({arr.shape[1]})")
    return (rank_draws(arr) <= k).mean(axis=0)


def rank_summary(
    theta_draws: ArrayLike,
    labels: ArrayLike,
    sample_mean: ArrayLike | None = None,
    k: int = 10,
    prob: float = 0.95,
) -> pd.DataFrame:
    """One row per group: posterior mean and median rank, an equal-tailed rank interval, and
    :math:`P(\\text{top } k)`.

    Parameters
    ----------
    theta_draws : array_like, shape (chains, draws, m) or (draws, m)
    labels : array_like, shape (m,)
        Group labels, in the order of the last axis of ``theta_draws``.
    sample_mean : array_like, shape (m,), optional
        Sample means :math:`\\bar y_j`; adds ``ybar`` and ``sample_rank`` (rank 1 = highest).
    k : int
        The "top k" cut-off.
    prob : float
        Interval probability, in (0, 1); the interval is ``[q_{(1-p)/2}, q_{(1+p)/2}]`` of the
        rank draws (whole ranks, so its coverage is at least ``prob``).

    Returns
    -------
    pandas.DataFrame
        Indexed by label, sorted by posterior mean rank; columns ``mean_rank``,
        ``median_rank``, ``rank_lo``, ``rank_hi``, ``p_top{k}`` (and ``ybar``,
        ``sample_rank``).
    """
    arr = _draws_2d(theta_draws)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size != arr.shape[1]:
        raise ValueError(f"labels must have one entry per group ({arr.shape[1]}); got {lab.shape}")
    if not 0.0 < float(prob) < 1.0:
        raise ValueError(f"prob must lie strictly between 0 and 1; got {prob!r}")
    ranks = rank_draws(arr)
    lo, med, hi = np.quantile(ranks, [(1 - prob) / 2, 0.5, (1 + prob) / 2], axis=0,
                              method="inverted_cdf")  # fmt: skip
    out = pd.DataFrame(
        {
            "mean_rank": ranks.mean(axis=0),
            "median_rank": med.astype(int),
            "rank_lo": lo.astype(int),
            "rank_hi": hi.astype(int),
            f"p_top{k}": prob_top_k(arr, k),
        },
        index=pd.Index(lab, name="group"),
    )
    if sample_mean is not None:
        ybar = as_finite_1d(sample_mean, "sample_mean")
        same_length(sample_mean=ybar, labels=lab)
        out["ybar"] = ybar
        out["sample_rank"] = rank_draws(ybar[None, :])[0]
    return out.sort_values("mean_rank", kind="stable")


def plot_rank_distribution(
    theta_draws: ArrayLike,
    labels: ArrayLike,
    which: ArrayLike,
    ax: Axes | None = None,
    *,
    title: str | None = "Posterior distribution of the rank of a few schools",
) -> Axes:
    """Histograms of :math:`p(r_j \\mid Y)` for the schools named in ``which``.

    Parameters
    ----------
    theta_draws : array_like, shape (chains, draws, m) or (draws, m)
    labels : array_like, shape (m,)
        Group labels in the order of the last axis of ``theta_draws``.
    which : array_like
        Labels of the schools to show (one step histogram each, over ranks 1..m).
    """
    arr = _draws_2d(theta_draws)
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size != arr.shape[1]:
        raise ValueError(f"labels must have one entry per group ({arr.shape[1]}); got {lab.shape}")
    chosen = np.atleast_1d(np.asarray(which))
    missing = [w for w in chosen if w not in set(lab.tolist())]
    if missing or chosen.size == 0:
        raise ValueError(f"which must name groups in labels; unknown: {missing}")
    ranks = rank_draws(arr)
    m = arr.shape[1]
    ax = new_axes(ax)
    bins = np.arange(0.5, m + 1.5)
    for k, w in enumerate(chosen):
        j = int(np.flatnonzero(lab == w)[0])
        share = np.bincount(ranks[:, j], minlength=m + 1)[1:] / ranks.shape[0]
        ax.stairs(share, bins, color=f"C{k}", lw=2, fill=True, alpha=0.35,
                  label=f"school {w}")  # fmt: skip
    ax.set_xlim(0.5, m + 0.5)
    xlabel = f"rank among {m} schools (1 = highest mean score)"
    return finish_axes(ax, xlabel, "posterior probability", title, legend="upper center")


def plot_top_k_ranks(
    theta_draws: ArrayLike,
    labels: ArrayLike,
    sample_mean: ArrayLike,
    k: int = 10,
    ax: Axes | None = None,
    *,
    title: str | None = None,
) -> Axes:
    """The lecture's figure: the top k schools by sample mean and their posterior ranks.

    One row per school (best sample mean on top): the posterior median rank (dot), the 50%
    (thick) and 95% (thin) rank intervals, the sample-mean rank (cross) and a dashed line at
    rank k. A school whose 95% interval stays left of the line is credibly in the top k.
    """
    arr = _draws_2d(theta_draws)
    ybar = as_finite_1d(sample_mean, "sample_mean")
    lab = np.asarray(labels)
    same_length(sample_mean=ybar, labels=lab, theta_groups=arr[0])
    k = positive_int(k, "k")
    ranks = rank_draws(arr)
    sample_rank = rank_draws(ybar[None, :])[0]
    top = np.argsort(sample_rank)[:k]
    q = np.quantile(ranks[:, top], [0.025, 0.25, 0.5, 0.75, 0.975], axis=0, method="inverted_cdf")
    ax = new_axes(ax, (9.0, 0.42 * k + 1.6))
    rows = np.arange(k)
    ax.hlines(rows, q[0], q[4], color="C0", lw=1.5, label="95% rank interval")
    ax.hlines(rows, q[1], q[3], color="C0", lw=6, alpha=0.8, label="50% rank interval")
    ax.plot(q[2], rows, "o", color="white", mec="C0", mew=2, ms=7, label="posterior median")
    ax.plot(sample_rank[top], rows, "x", color="C3", ms=9, mew=2, label="rank of sample mean")
    ax.axvline(k + 0.5, color="0.3", ls="--", lw=1.2, label=f"top-{k} cut-off")
    ax.set_yticks(rows, [f"{lab[j]} (ȳ={ybar[j]:.1f})" for j in top])
    ax.invert_yaxis()
    ax.set_xlabel(f"rank among {arr.shape[1]} schools (1 = highest mean score)")
    ax.set_ylabel(f"top {k} by sample mean")
    ax.set_title(title or f"Top {k} schools by sample mean, and their posterior ranks")
    ax.set_xlim(0, max(float(q[4].max()) + 3, k + 5))
    ax.legend(loc="upper right", fontsize=11, framealpha=0.95)
    return ax


def plot_rank_intervals(
    summary: pd.DataFrame,
    k: int = 10,
    ax: Axes | None = None,
    *,
    title: str | None = "Every school's posterior rank: only the extremes are well ranked",
) -> Axes:
    """All schools' posterior rank intervals, sorted by posterior mean rank (a caterpillar).

    Parameters
    ----------
    summary : pandas.DataFrame
        The output of :func:`rank_summary` (columns ``mean_rank``, ``rank_lo``, ``rank_hi``,
        ``median_rank``).
    k : int
        Draws a dashed line at rank ``k`` (the top-k cut-off).
    """
    need = {"mean_rank", "median_rank", "rank_lo", "rank_hi"}
    if not isinstance(summary, pd.DataFrame) or not need <= set(summary.columns):
        raise ValueError(f"summary must be a rank_summary() table with columns {sorted(need)}")
    tab = summary.sort_values("mean_rank", kind="stable")
    x = np.arange(1, len(tab) + 1)
    ax = new_axes(ax)
    ax.vlines(x, tab["rank_lo"], tab["rank_hi"], color="C0", lw=1.2, alpha=0.7,
              label="95% rank interval")  # fmt: skip
    ax.plot(x, tab["median_rank"], ".", color="k", ms=4, label="posterior median rank")
    ax.axhline(k + 0.5, color="C3", ls="--", lw=1.2, label=f"top-{k} cut-off")
    xlabel = "schools, ordered by posterior mean rank"
    return finish_axes(ax, xlabel, "rank (1 = highest mean score)", title, legend="upper left")
