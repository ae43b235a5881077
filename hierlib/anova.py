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

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from hierlib._validate import at_least_groups
from hierlib.data import GroupStats, group_stats

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
    at_least_groups(stats.m, 2)
    df_b, df_w = stats.m - 1, stats.n_total - stats.m
    if df_w < 1:
        raise ValueError(
            "the within-group mean square needs at least one group with 2 or more members "
            f"(n = {stats.n_total} observations in m = {stats.m} groups)"
        )
    ss_b = float(np.sum(stats.n * (stats.ybar - stats.grand_mean) ** 2))
    ss_w = float(stats.ss.sum())
    if ss_w == 0:
        raise ValueError("every observation equals its group mean (within SS = 0): F undefined")
    f = (ss_b / df_b) / (ss_w / df_w)
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
