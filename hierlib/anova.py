"""One-way analysis of variance from the group sufficient statistics.

The classical model :math:`Y_{ij} = \\theta_j + \\varepsilon_{ij}`,
:math:`\\varepsilon_{ij} \\overset{iid}{\\sim} N(0, \\sigma^2)`, with the school means
:math:`\\theta_j` as fixed effects, tests :math:`H_0: \\theta_1 = \\dots = \\theta_m` with

=========  ========================  ================================================  =============
source     df                        SS                                                MS
=========  ========================  ================================================  =============
between    :math:`m - 1`             :math:`\\sum_j n_j (\\bar Y_j - \\bar Y)^2`        SS / df
within     :math:`n - m`             :math:`\\sum_j \\sum_i (Y_{ij} - \\bar Y_j)^2`     SS / df
total      :math:`n - 1`             :math:`\\sum_j \\sum_i (Y_{ij} - \\bar Y)^2`       SS / df
=========  ========================  ================================================  =============

and :math:`F = MS_{between} / MS_{within} \\sim F_{m-1,\\, n-m}` under :math:`H_0`. Large F
(the between-school mean square much *larger* than the within one) is evidence against
:math:`H_0`. Everything is computed from :math:`n_j, \\bar y_j, SS_j`
(:func:`hierlib.data.group_stats`); the total SS is :math:`SS_B + SS_W`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from hierlib._validate import RESCALE_HINT, at_least_groups, finite_result, require_type
from hierlib.data import GroupStats, group_stats, require_stats

if TYPE_CHECKING:
    from matplotlib.axes import Axes

ROWS = ("between groups", "within groups", "total")
COLUMNS = ("df", "SS", "MS", "F", "p")


@dataclass(frozen=True)
class OneWayAnova:
    """Result of :func:`one_way_anova`.

    Attributes
    ----------
    df_between, df_within : int
        :math:`m - 1` and :math:`n - m`.
    ss_between, ss_within : float
        Between- and within-group sums of squares.
    f : float
        :math:`F = MS_B / MS_W`.
    p_value : float
        :math:`P(F_{m-1, n-m} > F)` under :math:`H_0` (all group means equal).
    """

    df_between: int
    df_within: int
    ss_between: float
    ss_within: float
    f: float
    p_value: float

    @property
    def ms_between(self) -> float:
        """Between-group mean square :math:`SS_B / (m - 1)`."""
        return self.ss_between / self.df_between

    @property
    def ms_within(self) -> float:
        """Within-group mean square :math:`SS_W / (n - m)`, the pooled estimate of σ²."""
        return self.ss_within / self.df_within

    @property
    def table(self) -> pd.DataFrame:
        """The ANOVA table laid out like the lecture's slide: rows between / within / total,
        columns df, SS, MS, F, p (F and p only on the between row; NaN elsewhere)."""
        df_total = self.df_between + self.df_within
        ss_total = self.ss_between + self.ss_within
        return pd.DataFrame(
            {
                "df": [self.df_between, self.df_within, df_total],
                "SS": [self.ss_between, self.ss_within, ss_total],
                "MS": [self.ms_between, self.ms_within, ss_total / df_total],
                "F": [self.f, np.nan, np.nan],
                "p": [self.p_value, np.nan, np.nan],
            },
            index=pd.Index(ROWS, name="source"),
        )

    def to_text(self) -> str:
        """The table as text, rounded like R's ``anova()`` print (SS to integers, MS to 2
        decimals, F to 3, p to 3 significant digits)."""
        fmt = {
            "df": "{:.0f}".format,
            "SS": "{:.0f}".format,
            "MS": "{:.2f}".format,
            "F": "{:.3f}".format,
            "p": "{:.3g}".format,
        }
        shown = self.table.astype(object)
        for col, f in fmt.items():
            shown[col] = [f(v) if np.isfinite(v) else "" for v in self.table[col]]
        return shown.to_string()

    def reject(self, alpha: float = 0.05) -> bool:
        """True when the F-test rejects :math:`H_0` (equal means) at level ``alpha``."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha must lie in (0, 1); got {alpha!r}")
        return self.p_value <= alpha

    def decision(self, alpha: float = 0.05) -> str:
        """The lecture's rule, in words.

        p <= alpha: reject :math:`H_0`, estimate each group by its own mean
        :math:`\\hat\\theta_j = \\bar Y_j`; otherwise pool: :math:`\\hat\\theta_j = \\bar Y`.
        """
        if self.reject(alpha):
            return (
                f"F = {self.f:.2f}, p = {self.p_value:.2g} <= {alpha}: reject equal means; "
                "use separate estimates theta_j = ybar_j"
            )
        return (
            f"F = {self.f:.2f}, p = {self.p_value:.2g} > {alpha}: no evidence the means differ; "
            "pool them: theta_j = ybar for every j"
        )


def anova_from_stats(stats: GroupStats) -> OneWayAnova:
    """One-way ANOVA from group sufficient statistics.

    .. math::

        SS_B = \\sum_j n_j (\\bar y_j - \\bar y)^2, \\quad SS_W = \\sum_j SS_j, \\quad
        F = \\frac{SS_B / (m - 1)}{SS_W / (n - m)}.

    Raises
    ------
    ValueError
        With fewer than two groups, when no group has two members (no within-group degrees
        of freedom), or when every observation equals its group mean (:math:`SS_W = 0`).
    """
    require_stats(stats)
    at_least_groups(stats.m, 2)
    df_b, df_w = stats.m - 1, stats.n_total - stats.m
    if df_w < 1:
        raise ValueError(
            "the within-group mean square needs at least one group with 2 or more members "
            f"(n = {stats.n_total} observations in m = {stats.m} groups)"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        ss_b = float(np.sum(stats.n * (stats.ybar - stats.grand_mean) ** 2))
    ss_w = float(stats.ss.sum())
    if ss_w == 0:
        raise ValueError("every observation equals its group mean (within SS = 0): F undefined")
    with np.errstate(over="ignore", invalid="ignore"):
        f = (ss_b / df_b) / (ss_w / df_w)
    finite_result([ss_b, ss_w, f], "the ANOVA table (SS between, SS within or F)", RESCALE_HINT)
    return OneWayAnova(
        df_between=df_b,
        df_within=df_w,
        ss_between=ss_b,
        ss_within=ss_w,
        f=f,
        p_value=float(sps.f.sf(f, df_b, df_w)),
    )


def one_way_anova(y: ArrayLike, groups: ArrayLike) -> OneWayAnova:
    """One-way ANOVA of ``y`` by ``groups`` (see :func:`anova_from_stats`).

    Examples
    --------
    >>> res = one_way_anova([1.0, 2.0, 3.0, 7.0, 8.0, 9.0], ["a", "a", "a", "b", "b", "b"])
    >>> res.df_between, res.df_within, res.f
    (1, 4, 54.0)
    """
    return anova_from_stats(group_stats(y, groups))


def plot_f_test(result: OneWayAnova, ax: Axes | None = None) -> Axes:
    """The :math:`F_{m-1,\\,n-m}` density under :math:`H_0` with the observed F marked.

    Shades the upper 5% (the rejection region) so the distance of the observed F from it is
    visible. Returns the Axes.
    """
    require_type(result, OneWayAnova, "result", "from anova.one_way_anova(y, groups)")
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax)
    dist = sps.f(result.df_between, result.df_within)
    crit = float(dist.isf(0.05))
    hi = max(result.f * 1.1, dist.isf(1e-4))
    x = np.linspace(0, hi, 800)
    ax.plot(x, dist.pdf(x), color="k", lw=1.5, label=f"F({result.df_between}, {result.df_within})")
    tail = x >= crit
    ax.fill_between(x[tail], dist.pdf(x[tail]), color="C0", alpha=0.35,
                    label=f"upper 5%: F > {crit:.2f}")  # fmt: skip
    ax.axvline(result.f, color="C3", lw=2.5, label=f"observed F = {result.f:.2f}")
    ax.set_xlabel("F = MS between / MS within")
    ax.set_ylabel("density under $H_0$")
    ax.set_title(f"Equal means would give F near 1; the data give F = {result.f:.1f}")
    ax.legend(loc="upper center")
    return ax


def plot_two_extremes(stats: GroupStats, ax: Axes | None = None, unit: str = "points") -> Axes:
    """The two estimates the F-test leaves us with, one school per x position.

    Separate means :math:`\\hat\\theta_j = \\bar y_j` with :math:`\\pm 1.96\\,s_w/\\sqrt{n_j}`
    bars (schools ordered by mean), against the single pooled mean
    :math:`\\hat\\theta_j = \\bar y` for all. Returns the Axes.
    """
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax)
    res = anova_from_stats(stats)
    order = np.argsort(stats.ybar, kind="stable")
    half = sps.norm.ppf(0.975) * np.sqrt(res.ms_within / stats.n[order])
    x = np.arange(stats.m)
    ax.errorbar(x, stats.ybar[order], yerr=half, fmt="o", ms=3, lw=0.8, color="C0",
                label=r"separate: $\hat\theta_j = \bar y_j$ (95% interval)")  # fmt: skip
    ax.axhline(stats.grand_mean, color="C3", lw=2.5,
               label=rf"pooled: $\hat\theta_j = \bar y$ = {stats.grand_mean:.2f}")  # fmt: skip
    ax.set_xlabel("school, ordered by mean score")
    ax.set_ylabel(f"estimated school mean ({unit})")
    ax.set_title(f"Two extremes: {stats.m} separate means, or one mean for all")
    ax.legend(loc="upper left")
    return ax
