"""The High School and Beyond (HSB) math scores, and per-group sufficient statistics.

Every model in the course sees the data only through the per-group summaries
:math:`n_j`, :math:`\\bar y_j = n_j^{-1}\\sum_i y_{ij}` and
:math:`SS_j = \\sum_i (y_{ij} - \\bar y_j)^2`, computed once by :func:`group_stats`.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import (
    RESCALE_HINT,
    as_finite_1d,
    as_labels,
    finite_result,
    require_type,
    same_length,
)


def _data_dir() -> Path:
    """Where the HSB CSVs are: inside the installed package, else ``data/`` of the checkout.

    A wheel ships them as ``hierlib/hsb/`` (mapped from ``data/`` by pyproject.toml); an
    editable install or a source checkout reads the repository's ``data/`` folder.
    """
    packaged = Path(str(files("hierlib") / "hsb"))
    if (packaged / "hsb_students.csv").is_file():
        return packaged
    return Path(__file__).resolve().parents[1] / "data"


DATA_DIR = _data_dir()
"""The folder holding ``hsb_students.csv``, ``hsb_schools.csv`` and their ``README.md``."""

_STUDENT_COLUMNS = {
    "School": "school",
    "Minority": "minority",
    "Sex": "sex",
    "SES": "ses",
    "MathAch": "mathach",
    "MEANSES": "meanses",
}
_SCHOOL_COLUMNS = {
    "School": "school",
    "Size": "size",
    "Sector": "sector",
    "PRACAD": "pracad",
    "DISCLIM": "disclim",
    "HIMINTY": "himinty",
    "MEANSES": "meanses",
}


def load_hsb(with_school_columns: bool = False, data_dir: Path | None = None) -> pd.DataFrame:
    """Load the HSB math achievement data: 7185 students in 160 schools.

    Parameters
    ----------
    with_school_columns : bool, default False
        Also join the school-level table (``size``, ``sector``, ``pracad``, ``disclim``,
        ``himinty``) onto every student row.
    data_dir : Path, optional
        Folder holding ``hsb_students.csv`` and ``hsb_schools.csv`` (default: the course's
        ``data/``).

    Returns
    -------
    pandas.DataFrame
        One row per student, columns ``school`` (school id as a string label), ``minority``,
        ``sex``, ``ses``, ``mathach`` (math achievement score), ``meanses`` (school mean SES),
        ordered as in R's ``nlme::MathAchieve``.
    """
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    students = pd.read_csv(folder / "hsb_students.csv", dtype={"School": str})
    students = students.rename(columns=_STUDENT_COLUMNS)
    if with_school_columns:
        schools = load_hsb_schools(folder).drop(columns="meanses")
        students = students.merge(schools, on="school", how="left", validate="many_to_one")
    return students


def load_hsb_schools(data_dir: Path | None = None) -> pd.DataFrame:
    """Load the school-level HSB table (R's ``nlme::MathAchSchool``): one row per school.

    Columns: ``school``, ``size`` (enrolment), ``sector`` (Public/Catholic), ``pracad``
    (proportion on the academic track), ``disclim`` (disciplinary climate), ``himinty``
    (1 if more than 40% minority), ``meanses``.
    """
    folder = DATA_DIR if data_dir is None else Path(data_dir)
    schools = pd.read_csv(folder / "hsb_schools.csv", dtype={"School": str})
    return schools.rename(columns=_SCHOOL_COLUMNS)


def hsb_arrays() -> tuple[NDArray[np.float64], NDArray]:
    """The HSB scores and school labels as arrays: ``y, groups = hsb_arrays()``.

    What :func:`group_stats` and the samplers take: ``y`` is the ``mathach`` column (float,
    7185 students), ``groups`` the ``school`` column (string labels), both in the row order
    of :func:`load_hsb`.
    """
    hsb = load_hsb()
    return hsb["mathach"].to_numpy(), hsb["school"].to_numpy()


@dataclass(frozen=True)
class GroupStats:
    """Per-group sufficient statistics of ``(y, groups)`` for the normal models.

    Attributes
    ----------
    labels : ndarray
        The distinct group labels, sorted; every other array is ordered the same way.
    n : ndarray of int
        Group sizes :math:`n_j`.
    ybar : ndarray of float
        Group means :math:`\\bar y_j`.
    ss : ndarray of float
        Within-group sums of squares :math:`SS_j = \\sum_i (y_{ij} - \\bar y_j)^2`.

    Raises
    ------
    ValueError
        At construction, if the arrays are not one-dimensional, empty, of different lengths,
        if a size is not a whole number >= 1, a mean is not finite, a sum of squares is
        negative or not finite, a single-member group has a nonzero sum of squares, or a
        label repeats. (A hand-built ``GroupStats`` is checked like one from
        :func:`group_stats`; ``n`` is stored as int64.)
    """

    labels: NDArray
    n: NDArray[np.int64]
    ybar: NDArray[np.float64]
    ss: NDArray[np.float64]

    def __post_init__(self) -> None:
        labels = as_labels(self.labels, "labels")
        n = as_finite_1d(self.n, "n")
        ybar = as_finite_1d(self.ybar, "ybar")
        ss = as_finite_1d(self.ss, "ss")
        same_length(labels=labels, n=n, ybar=ybar, ss=ss)
        if (n < 1).any() or (n != np.round(n)).any():
            raise ValueError(f"n must hold whole group sizes of at least 1; got {n[n < 1][:3]}")
        if (ss < 0).any():
            raise ValueError(f"ss holds sums of squares and must be >= 0; got min {ss.min()}")
        if ((n == 1) & (ss > 0)).any():
            raise ValueError("ss must be 0 for a group with a single member (n = 1)")
        if np.unique(labels).size != labels.size:
            raise ValueError("labels must be distinct: one entry per group")
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "n", n.astype(np.int64))
        object.__setattr__(self, "ybar", ybar)
        object.__setattr__(self, "ss", ss)

    @property
    def m(self) -> int:
        """Number of groups."""
        return int(self.n.size)

    @property
    def n_total(self) -> int:
        """Number of observations :math:`n = \\sum_j n_j`."""
        return int(self.n.sum())

    @property
    def grand_mean(self) -> float:
        """Grand mean :math:`\\bar y = n^{-1} \\sum_j n_j \\bar y_j`."""
        return float(np.dot(self.n, self.ybar) / self.n_total)

    @property
    def s2(self) -> NDArray[np.float64]:
        """Sample variances :math:`s_j^2 = SS_j / (n_j - 1)`.

        Raises
        ------
        ValueError
            If a group has a single member (its sample variance is undefined).
        """
        self.require_min_size(2, "a sample variance")
        return self.ss / (self.n - 1)

    def require_min_size(self, k: int, what: str) -> None:
        """Raise ``ValueError`` naming the groups with fewer than ``k`` members."""
        small = self.n < k
        if small.any():
            names = ", ".join(map(str, self.labels[small][:5]))
            more = "" if small.sum() <= 5 else f" and {int(small.sum()) - 5} more"
            raise ValueError(
                f"{what} needs at least {k} members per group; group(s) {names}{more} have fewer"
            )

    def standardised(self) -> tuple[float, float, GroupStats]:
        """The statistics of :math:`z = (y - c)/u`, :math:`c` the grand mean and :math:`u`
        the sd of ``y`` (divisor :math:`n`), from the statistics alone:

        .. math::
            u^2 = \\frac1n\\Big(\\sum_j SS_j + \\sum_j n_j(\\bar y_j - c)^2\\Big), \\quad
            \\bar z_j = (\\bar y_j - c)/u, \\quad SS_j^{(z)} = SS_j/u^2 .

        For computations that stay inside floating point only in sd units (the exact
        marginal of :math:`\\tau^2`, a REML refit). Returns ``(c, u, stats of z)``.

        Raises
        ------
        ValueError
            If ``y`` has no spread, or one beyond floating point (:math:`u` is 0 or inf).
        """
        centre = self.grand_mean
        total = float(self.ss.sum() + np.sum(self.n * (self.ybar - centre) ** 2))
        unit = float(np.sqrt(total / self.n_total))
        if not np.isfinite(unit) or unit <= 0:
            raise ValueError(f"y has no spread on a floating-point scale: {RESCALE_HINT}")
        z = GroupStats(self.labels, self.n, (self.ybar - centre) / unit, self.ss / unit**2)
        return centre, unit, z

    def to_frame(self) -> pd.DataFrame:
        """The statistics as a DataFrame indexed by group label (``s2`` is NaN-free only
        when every group has two members or more, so it is left out here)."""
        return pd.DataFrame(
            {"n": self.n, "ybar": self.ybar, "ss": self.ss},
            index=pd.Index(self.labels, name="group"),
        )


def require_stats(stats: Any, name: str = "stats") -> GroupStats:
    """``stats`` if it is a :class:`GroupStats`, else a ``TypeError`` naming ``name``."""
    return require_type(stats, GroupStats, name, "build one with data.group_stats(y, groups)")


def group_stats(y: ArrayLike, groups: ArrayLike) -> GroupStats:
    """Summarise ``(y, groups)`` into per-group sufficient statistics in one pass.

    Parameters
    ----------
    y : array_like of float, shape (n,)
        Responses; must be finite.
    groups : array_like, shape (n,)
        Group label of each response (any hashable labels).

    Returns
    -------
    GroupStats
        :math:`n_j`, :math:`\\bar y_j` and :math:`SS_j` for the groups in sorted label order.
        :math:`SS_j` is accumulated around the group mean (two-pass within the groups, so
        it does not lose precision the way :math:`\\sum y^2 - n\\bar y^2` does).

    Raises
    ------
    ValueError
        If ``y`` is empty, not numeric, has NaN/inf, or differs in length from ``groups``,
        if a group label is missing, or if ``y`` is so large in magnitude that a group mean
        or sum of squares overflows (about 1e154 and beyond).
    TypeError
        If ``y`` or ``groups`` is the wrong kind of object (a DataFrame, None, complex
        numbers, labels of mixed kinds).
    """
    return _stats_and_rows(y, groups)[0]


def _stats_and_rows(
    y: ArrayLike, groups: ArrayLike
) -> tuple[GroupStats, NDArray[np.float64], NDArray[np.intp]]:
    """:func:`group_stats` of ``(y, groups)``, and the rows as checked on the way: ``y`` as a
    float array (not a copy) and each row's group as an index into ``labels``.

    For the samplers and the exact pooling posteriors, which keep the rows for the pointwise
    log-likelihood: the labels are checked and sorted once, here."""
    y_arr = as_finite_1d(y, "y")
    g_arr = as_labels(groups)
    same_length(y=y_arr, groups=g_arr)
    labels, idx = np.unique(g_arr, return_inverse=True)
    n = np.bincount(idx).astype(np.int64)
    with np.errstate(over="ignore", invalid="ignore"):
        ybar = np.bincount(idx, weights=y_arr) / n
        ss = np.bincount(idx, weights=(y_arr - ybar[idx]) ** 2)
    finite_result(ybar, "a group mean of y", RESCALE_HINT)
    finite_result(ss, "a within-group sum of squares of y", RESCALE_HINT)
    return GroupStats(labels=labels, n=n, ybar=ybar, ss=ss), y_arr, idx


def subsample_groups(
    y: ArrayLike, groups: ArrayLike, m: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray]:
    """Keep every observation of ``m`` groups chosen at random (without replacement).

    For seeing what a hierarchical model does with few groups (e.g. 8 of HSB's 160 schools).
    Returns ``(y, groups)`` of the kept rows, in their original order.
    """
    from hierlib._validate import positive_int

    y_arr = as_finite_1d(y, "y")
    g_arr = as_labels(groups)
    same_length(y=y_arr, groups=g_arr)
    labels = np.unique(g_arr)
    m = positive_int(m, "m")
    if m > labels.size:
        raise ValueError(f"cannot keep {m} groups out of {labels.size}")
    chosen = rng.choice(labels, size=m, replace=False)
    keep = np.isin(g_arr, chosen)
    return y_arr[keep], g_arr[keep]
