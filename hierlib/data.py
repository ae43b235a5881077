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
    as_real_array,
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


SECTORS = ("Public", "Catholic")
"""The school sectors of HSB, reference level first (as Raudenbush & Bryk code them)."""

COVARIATE_COLUMNS = (
    "school",
    "mathach",
    "ses",
    "minority",
    "sex",
    "meanses",
    "sector",
    "mses",
    "cses",
)
"""The columns of :func:`load_hsb_covariates`, in order."""


def load_hsb_covariates(data_dir: Path | None = None) -> pd.DataFrame:
    """The HSB students with the covariates of the mixed models (notebook 11): SES, school SES
    and sector (Raudenbush & Bryk, *Hierarchical Linear Models*, ch. 4).

    Parameters
    ----------
    data_dir : Path, optional
        Folder holding ``hsb_students.csv`` and ``hsb_schools.csv`` (default: the course's).

    Returns
    -------
    pandas.DataFrame
        One row per student (7185), in the row order of :func:`load_hsb`, with columns
        :data:`COVARIATE_COLUMNS`:

        - ``school`` (label), ``mathach``, ``ses``, ``minority``, ``sex``: as in
          :func:`load_hsb`;
        - ``meanses``: the school mean SES as distributed with the data (3 decimals; it
          differs from the mean of these students, ``mses``, by up to 0.0065);
        - ``sector``: the school's sector, a ``pandas.Categorical`` with categories
          ``["Public", "Catholic"]``: Public is the reference level of a formula;
        - ``mses``: the school's mean SES computed from these students,
          :math:`\\overline{ses}_j = n_j^{-1}\\sum_i ses_{ij}`;
        - ``cses``: SES centred at its school's mean, :math:`ses_{ij} - \\overline{ses}_j`
          (it sums to 0 in every school, so it carries only within-school information).

    Raises
    ------
    ValueError
        If a student's school is missing from ``hsb_schools.csv`` or a sector is neither
        Public nor Catholic.
    """
    students = load_hsb(data_dir=data_dir)
    schools = load_hsb_schools(data_dir).set_index("school")["sector"]
    sector = students["school"].map(schools)
    if sector.isna().any():
        missing = sorted(students.loc[sector.isna(), "school"].unique())[:5]
        raise ValueError(f"school(s) {missing} have no row in hsb_schools.csv (no sector)")
    unknown = sorted(set(sector) - set(SECTORS))
    if unknown:
        raise ValueError(f"sector must be one of {SECTORS}; hsb_schools.csv has {unknown}")
    out = students.copy()
    out["sector"] = pd.Categorical(sector, categories=list(SECTORS))
    out["mses"] = out.groupby("school", sort=False)["ses"].transform("mean")
    out["cses"] = out["ses"] - out["mses"]
    return out[list(COVARIATE_COLUMNS)]


# ------------------------------------------------------------------- the mixed model
@dataclass(frozen=True)
class MixedStats:
    """Per-group sufficient statistics of the linear mixed model
    :math:`y_j = X_j\\beta + Z_j b_j + e_j` (:func:`mixed_stats`).

    Everything the Gibbs sampler of :mod:`hierlib.samplers.mixed_model` needs: with them a
    sweep costs O(m) in the groups and nothing in the students, since for any
    :math:`\\beta, b_j`

    .. math::
        \\lVert y_j - X_j\\beta - Z_j b_j\\rVert^2 = y_j^\\top y_j
        - 2\\beta^\\top X_j^\\top y_j - 2 b_j^\\top Z_j^\\top y_j + \\beta^\\top X_j^\\top X_j\\beta
        + 2\\beta^\\top X_j^\\top Z_j b_j + b_j^\\top Z_j^\\top Z_j b_j .

    Attributes
    ----------
    groups : ndarray, shape (m,)
        The group labels, sorted as ``np.unique`` sorts them; every array below is in this
        order.
    n : ndarray of int64, shape (m,)
        Rows (students) per group.
    xtx, xtz, ztz : ndarray, shapes (m, p, p), (m, p, q), (m, q, q)
        :math:`X_j^\\top X_j`, :math:`X_j^\\top Z_j`, :math:`Z_j^\\top Z_j`.
    xty, zty, yty : ndarray, shapes (m, p), (m, q), (m,)
        :math:`X_j^\\top y_j`, :math:`Z_j^\\top y_j`, :math:`y_j^\\top y_j`.
    fe_names, re_names : tuple of str
        The columns of :math:`X` (as statsmodels ``MixedLM``'s ``fe_params`` names them) and
        of :math:`Z` (e.g. ``("Intercept", "cses")``).

    Raises
    ------
    ValueError
        At construction, when the shapes disagree, an entry is NaN or infinite, a group
        size is not a whole number >= 1, a label repeats, or the names do not match p and q.
    """

    groups: NDArray
    n: NDArray[np.int64]
    xtx: NDArray[np.float64]
    xtz: NDArray[np.float64]
    ztz: NDArray[np.float64]
    xty: NDArray[np.float64]
    zty: NDArray[np.float64]
    yty: NDArray[np.float64]
    fe_names: tuple[str, ...]
    re_names: tuple[str, ...]

    def __post_init__(self) -> None:
        groups = as_labels(self.groups, "groups")
        n = as_finite_1d(self.n, "n")
        m = groups.size
        if (n < 1).any() or (n != np.round(n)).any():
            raise ValueError("n must hold whole group sizes of at least 1")
        if np.unique(groups).size != m:
            raise ValueError("groups must be distinct: one entry per group")
        p, q = len(self.fe_names), len(self.re_names)
        if p < 1 or q < 1:
            raise ValueError("a mixed model needs at least one fixed and one random effect")
        shapes = {"n": (m,), "xtx": (m, p, p), "xtz": (m, p, q), "ztz": (m, q, q),
                  "xty": (m, p), "zty": (m, q), "yty": (m,)}  # fmt: skip
        for name, shape in shapes.items():
            arr = np.asarray(as_real_array(getattr(self, name), name), dtype=np.float64)
            if arr.shape != shape:
                raise ValueError(f"{name} must have shape {shape} (m, p, q from groups, "
                                 f"fe_names, re_names); got {arr.shape}")  # fmt: skip
            if not np.isfinite(arr).all():
                raise ValueError(f"{name} has NaN or infinite entries; {RESCALE_HINT}")
            object.__setattr__(self, name, arr)
        object.__setattr__(self, "groups", groups)
        object.__setattr__(self, "n", n.astype(np.int64))
        object.__setattr__(self, "fe_names", tuple(str(s) for s in self.fe_names))
        object.__setattr__(self, "re_names", tuple(str(s) for s in self.re_names))

    @property
    def m(self) -> int:
        """Number of groups."""
        return int(self.n.size)

    @property
    def p(self) -> int:
        """Number of fixed effects."""
        return len(self.fe_names)

    @property
    def q(self) -> int:
        """Number of random effects per group."""
        return len(self.re_names)

    @property
    def n_total(self) -> int:
        """Number of rows :math:`n = \\sum_j n_j`."""
        return int(self.n.sum())


def require_mixed_stats(stats: Any, name: str = "stats") -> MixedStats:
    """``stats`` if it is a :class:`MixedStats`, else a ``TypeError`` naming ``name``."""
    return require_type(stats, MixedStats, name, "build one with data.mixed_stats(...)")


def mixed_stats(
    formula: str, data: pd.DataFrame, groups: str | ArrayLike, re_formula: str | None = "~1"
) -> MixedStats:
    """Per-group sufficient statistics of the mixed model ``formula`` with random effects
    ``re_formula`` by ``groups`` (:class:`MixedStats`).

    The formulas are checked and turned into :math:`X, Z, y` exactly as
    :func:`hierlib.reml.fit_mixed` does (:mod:`hierlib._design`: statsmodels
    ``MixedLM.from_formula``), so ``fe_names`` are the names of ``fit_mixed(...).fe_params``.

    Parameters
    ----------
    formula : str
        Response and fixed effects, e.g. ``"mathach ~ mses * cses + sector * cses"``.
    data : pandas.DataFrame
        One row per observation.
    groups : str or array_like
        The grouping column's name, or one label per row.
    re_formula : str, optional
        Random effects (default ``"~1"``, a random intercept; ``None`` means the same).

    Raises
    ------
    TypeError, ValueError
        As :func:`hierlib.reml.fit_mixed` for its arguments and design (a column missing or
        with NaN, a formula that does not parse, collinear or constant terms, a random slope
        constant within every group, no group with more rows than random effects, a
        response fitted exactly), and for cross-products that overflow.
    """
    return _mixed_design(formula, data, groups, re_formula)[0]


def _mixed_design(formula, data, groups, re_formula):
    """:func:`mixed_stats`, and the rows it was built from: ``(stats, X, Z, y, idx)``, ``idx``
    each row's group as an index into ``stats.groups`` (rows in the order of ``data``)."""
    from hierlib import _design  # lazy: statsmodels and patsy are needed only here

    re_formula = "~1" if re_formula is None else re_formula
    used, passed = _design._mixed_inputs(formula, data, groups, re_formula)
    model = _design._build_mixedlm(formula, data[used], passed, re_formula)
    _design._check_design(model, repr(groups if isinstance(groups, str) else "groups"))
    X, Z, y = (np.asarray(a, dtype=np.float64) for a in (model.exog, model.exog_re, model.endog))
    idx = _design._group_index(model)
    labels = np.asarray(model.group_labels)  # sorted, as np.unique sorts them
    # MixedLM names the random intercept after the groups column; the model calls it Intercept
    group_name = groups if isinstance(groups, str) else "Group"
    re_names = ["Intercept" if s == group_name else s for s in model.data.exog_re_names]
    stats = _cross_products(X, Z, y, idx, labels, model.exog_names, re_names)
    return stats, X, Z, y, idx


def _sums_by_group(
    a: NDArray, idx: NDArray[np.int64], m: int, axis: int = 0
) -> tuple[NDArray, NDArray[np.int64]]:
    """Per-group sums of ``a`` along ``axis``, :math:`\\sum_{i:\\,idx_i = j} a_i` for
    :math:`j = 0, \\dots, m-1`, and the group sizes :math:`n_j` (one stable sort, one
    ``np.add.reduceat`` pass). ``ValueError`` if a group has no entry."""
    n = np.bincount(idx, minlength=m)
    if (n == 0).any():
        raise ValueError("every group index 0..m-1 needs at least one observation")
    order = np.argsort(idx, kind="stable")
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    return np.add.reduceat(np.take(a, order, axis=axis), starts, axis=axis), n


def _cross_products(X, Z, y, idx, labels, fe_names, re_names) -> MixedStats:
    """The per-group cross-products of rows ``X, Z, y`` with groups ``idx`` (sums over the
    rows of each group, :func:`_sums_by_group`)."""
    m = labels.size

    def sums(a):
        return _sums_by_group(a, idx, m)[0]

    with np.errstate(over="ignore", invalid="ignore"):
        out = {
            "xtx": sums(X[:, :, None] * X[:, None, :]),
            "xtz": sums(X[:, :, None] * Z[:, None, :]),
            "ztz": sums(Z[:, :, None] * Z[:, None, :]),
            "xty": sums(X * y[:, None]),
            "zty": sums(Z * y[:, None]),
            "yty": sums(y * y),
        }
    n = np.bincount(idx, minlength=m)
    for name, arr in out.items():
        finite_result(arr, f"a cross-product of the design ({name})", RESCALE_HINT)
    return MixedStats(groups=labels, n=n.astype(np.int64), fe_names=tuple(fe_names),
                      re_names=tuple(re_names), **out)  # fmt: skip
