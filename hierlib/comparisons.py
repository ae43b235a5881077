"""Comparing every pair of schools: why a hierarchical model "avoids multiple testing".

With :math:`m` schools there are :math:`m(m-1)/2` pairs (12 720 for HSB). Testing each pair at
the 5% level with the raw means,

.. math:: |\\bar y_a - \\bar y_b| > t_{0.975,\\,n-m}\\; s_p\\sqrt{1/n_a + 1/n_b},

declares about 5% of the pairs different even when every school is the same. The hierarchical
model instead compares the *shrunk* school means: a pair is claimed different when
:math:`P(\\theta_a > \\theta_b \\mid Y)` is above 0.975 or below 0.025. When the schools are
alike the posterior of :math:`\\tau^2` is near 0, every :math:`\\theta_j` is pulled to
:math:`\\mu`, and the claims disappear without any Bonferroni-type correction (Gelman, Hill &
Yajima 2012, "Why we (usually) don't have to worry about multiple comparisons").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike
from scipy import stats

from hierlib._validate import RESCALE_HINT, as_real_array, finite_result
from hierlib.data import GroupStats, require_stats
from hierlib.plots import new_axes


def _check_level(level: float) -> float:
    p = float(level)
    if not 0.5 < p < 1:
        raise ValueError(f"level must lie strictly between 0.5 and 1; got {level!r}")
    return p


def raw_pairwise_claims(stats_: GroupStats, level: float = 0.95) -> int:
    """Number of pairs of groups whose raw means differ by an unadjusted two-sided t-test.

    Uses the pooled within-group variance :math:`s_p^2 = \\sum_j SS_j / (n - m)` with
    :math:`n - m` degrees of freedom (Fisher's least significant difference, no correction).

    Parameters
    ----------
    stats_ : GroupStats
        Group sufficient statistics.
    level : float, default 0.95
        Confidence level of each test (0.95: a 5% test).
    """
    p = _check_level(level)
    require_stats(stats_, "stats_")
    if stats_.m < 2 or stats_.n_total <= stats_.m:
        raise ValueError("need at least two groups and within-group replication")
    df = stats_.n_total - stats_.m
    s2p = float(stats_.ss.sum()) / df
    crit = stats.t.ppf((1 + p) / 2, df)
    with np.errstate(over="ignore", invalid="ignore"):
        diff = stats_.ybar[:, None] - stats_.ybar[None, :]
        se = np.sqrt(s2p * (1.0 / stats_.n[:, None] + 1.0 / stats_.n[None, :]))
    finite_result(diff, "a difference of two group means", RESCALE_HINT)
    finite_result([s2p], "the pooled within-group variance", RESCALE_HINT)
    if s2p == 0:
        raise ValueError("every group is constant (pooled within-group variance 0): no t-test")
    upper = np.triu(np.ones((stats_.m, stats_.m), dtype=bool), k=1)
    return int((np.abs(diff) > crit * se)[upper].sum())


def posterior_pairwise_claims(theta_draws: ArrayLike, level: float = 0.95) -> int:
    """Number of pairs with :math:`P(\\theta_a > \\theta_b \\mid Y) > (1+p)/2` or
    :math:`< (1-p)/2`, i.e. whose equal-tailed :math:`p` interval of
    :math:`\\theta_a - \\theta_b` excludes 0.

    Parameters
    ----------
    theta_draws : array_like, shape (draws, m) or (chains, draws, m)
        Posterior draws of the group means (chains are pooled).
    level : float, default 0.95
    """
    p = _check_level(level)
    draws = as_real_array(theta_draws, "theta_draws", "an array of draws (draws, m)")
    if draws.ndim == 3 and draws.size:
        draws = draws.reshape(-1, draws.shape[-1])
    if draws.ndim != 2 or draws.shape[1] < 2 or draws.shape[0] < 2:
        raise ValueError(f"theta_draws must be (draws, m) with m >= 2; got shape {draws.shape}")
    if not np.isfinite(draws).all():
        raise ValueError("theta_draws has NaN or infinite values")
    hi, lo = (1 + p) / 2, (1 - p) / 2
    claims = 0
    for a in range(draws.shape[1] - 1):
        prob = (draws[:, [a]] > draws[:, a + 1 :]).mean(axis=0)
        claims += int(((prob > hi) | (prob < lo)).sum())
    return claims


def plot_claims(
    table: pd.DataFrame,
    n_pairs: int,
    ax: Axes | None = None,
    title: str = "With no real differences, raw tests still claim 5% of pairs; the model, none",
) -> Axes:
    """Grouped bars: pairs declared different, raw tests against the hierarchical model.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per data set (e.g. "all schools alike (simulated)", "HSB"), columns
        ``raw t-tests`` and ``hierarchical model`` holding counts of pairs.
    n_pairs : int
        Number of pairs, to draw the 5% line expected from raw tests when nothing differs.
    ax : matplotlib Axes, optional
    title : str
        What to see.
    """
    ax = new_axes(ax)
    x = np.arange(len(table.index))
    width = 0.38
    for k, column in enumerate(table.columns):
        bars = ax.bar(x + (k - 0.5) * width, table[column], width, label=column, color=f"C{k}")
        ax.bar_label(bars, fmt="%d", padding=2, fontsize=12)
    ax.axhline(0.05 * n_pairs, color="0.3", ls=":", lw=1.5,
               label=f"5% of {n_pairs} pairs: false claims expected")  # fmt: skip
    ax.set_xticks(x, table.index)
    ax.set_ylabel("pairs of schools declared different")
    ax.set_title(title)
    ax.set_ylim(top=float(table.to_numpy().max()) * 1.5)  # room for the legend
    ax.legend(loc="upper left")
    return ax
