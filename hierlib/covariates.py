"""Covariates at both levels: SES within schools, school SES and sector between them.

The models of notebook 11 (Raudenbush & Bryk, *Hierarchical Linear Models*, ch. 4), fitted by
:func:`hierlib.reml.fit_mixed`. This module holds what the notebook computes around those
fits:

- :func:`ols_by_group` -- one least-squares line per school (no pooling), with standard
  errors; :func:`fitted_lines` -- the same lines read off a mixed model's fitted values
  (fixed part plus BLUPs), so the two can be compared;
- :func:`contextual_effect` -- between-school minus within-school slope of SES, with its
  standard error;
- :func:`variance_explained` and :func:`conditional_icc` -- how much of :math:`\\tau^2` (or
  :math:`\\sigma^2`) the predictors explain, and the intraclass correlation that is left;
- :func:`lr_test_random_effect` -- the likelihood-ratio test of a random slope, with the
  boundary correction (a 50:50 mixture of :math:`\\chi^2` distributions);
- the figures: :func:`plot_school_lines`, :func:`plot_slopes_by_size`,
  :func:`plot_within_between`, :func:`plot_fixed_lines`,
  :func:`plot_coefficient_shrinkage` and :func:`plot_shrinkage_2d` (arrows from each school's
  own intercept and slope to its shrunk ones, over the ellipse of :func:`covariance_ellipse`).

The fits are statsmodels ``MixedLMResults``; matplotlib is imported only by the plots.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from hierlib._validate import (
    as_finite_1d,
    as_labels,
    as_real_array,
    probability,
    require_type,
    same_length,
)
from hierlib.marginal import icc
from hierlib.reml import MIXED_LOGLIK_TOL, MixedOptimum, fixed_effects_cov, require_mixed_fit

if TYPE_CHECKING:
    from matplotlib.axes import Axes

OLS_COLUMNS = ("n", "intercept", "slope", "se_intercept", "se_slope", "sigma",
               "x_mean", "x_min", "x_max")  # fmt: skip
"""The columns of :func:`ols_by_group` (and :func:`fitted_lines`)."""


def ols_by_group(y: ArrayLike, x: ArrayLike, groups: ArrayLike) -> pd.DataFrame:
    """One least-squares line :math:`y = a_j + b_j x` per group (no pooling).

    Within group :math:`j`, with :math:`S_{xx} = \\sum_i (x_{ij} - \\bar x_j)^2` and
    :math:`S_{xy} = \\sum_i (x_{ij} - \\bar x_j)(y_{ij} - \\bar y_j)`:
    :math:`b_j = S_{xy}/S_{xx}`, :math:`a_j = \\bar y_j - b_j \\bar x_j`, residual variance
    :math:`s_j^2 = (S_{yy} - b_j S_{xy})/(n_j - 2)`, :math:`SE(b_j) = s_j/\\sqrt{S_{xx}}`,
    :math:`SE(a_j) = s_j\\sqrt{1/n_j + \\bar x_j^2/S_{xx}}`. With ``x`` centred at the group
    mean (``cses``), :math:`a_j = \\bar y_j`: the school's mean score at its average SES.

    Parameters
    ----------
    y, x : array_like of float, shape (n,)
        Response and predictor.
    groups : array_like, shape (n,)
        Group labels.

    Returns
    -------
    pandas.DataFrame
        Indexed by group label (sorted), columns :data:`OLS_COLUMNS` (``sigma`` is
        :math:`s_j`; ``x_min``/``x_max`` the range of ``x`` in the group).

    Raises
    ------
    ValueError
        NaN/inf or non-numeric ``y``/``x``, lengths that differ, missing labels, or a group
        with fewer than 3 members or with ``x`` constant (no slope and standard error).
    """
    y_arr, x_arr = as_finite_1d(y, "y"), as_finite_1d(x, "x")
    g_arr = as_labels(groups)
    same_length(y=y_arr, x=x_arr, groups=g_arr)
    labels, idx = np.unique(g_arr, return_inverse=True)
    n = np.bincount(idx)
    with np.errstate(all="ignore"):
        xbar = np.bincount(idx, weights=x_arr) / n
        ybar = np.bincount(idx, weights=y_arr) / n
        dx, dy = x_arr - xbar[idx], y_arr - ybar[idx]
        sxx = np.bincount(idx, weights=dx * dx)
        sxy = np.bincount(idx, weights=dx * dy)
        syy = np.bincount(idx, weights=dy * dy)
    small = n < 3
    flat = ~small & ~(sxx > 1e-24 * np.maximum(np.bincount(idx, weights=x_arr**2), 1e-300))
    for bad, why in ((small, "fewer than 3 members"), (flat, "x constant")):
        if bad.any():
            names = ", ".join(map(str, labels[bad][:5]))
            more = "" if bad.sum() <= 5 else f" and {int(bad.sum()) - 5} more"
            raise ValueError(
                f"a line per group needs at least 3 members and some spread in x; group(s) "
                f"{names}{more} have {why}: drop them first"
            )
    with np.errstate(all="ignore"):
        slope = sxy / sxx
        intercept = ybar - slope * xbar
        s2 = np.maximum(syy - slope * sxy, 0.0) / (n - 2)
        se_slope = np.sqrt(s2 / sxx)
        se_intercept = np.sqrt(s2 * (1.0 / n + xbar**2 / sxx))
    x_min = pd.Series(x_arr).groupby(idx).min().to_numpy()
    x_max = pd.Series(x_arr).groupby(idx).max().to_numpy()
    table = pd.DataFrame(
        dict(
            zip(
                OLS_COLUMNS,
                [n, intercept, slope, se_intercept, se_slope, np.sqrt(s2), xbar, x_min, x_max],
                strict=True,
            )
        ),  # fmt: skip
        index=pd.Index(labels, name=getattr(groups, "name", None) or "group"),
    )
    if not np.isfinite(table.to_numpy(dtype=np.float64)).all():
        raise ValueError("a per-group line is not finite (overflow): rescale y and x")
    return table


def fitted_lines(fit: Any, x: str) -> pd.DataFrame:
    """Each group's line in ``x`` as the mixed model predicts it: fixed part plus BLUPs.

    The within-group least-squares line of the fitted values
    :math:`\\hat y_{ij} = X_{ij}\\hat\\beta + Z_{ij}\\hat b_j` on ``x``
    (:func:`ols_by_group` of ``fit.fittedvalues``), which is exact when ``x`` is the only
    predictor that varies within groups: intercept :math:`\\hat\\beta_{0j}` and slope
    :math:`\\hat\\beta_{1j}` of school :math:`j`, to set beside its own OLS line.

    Raises
    ------
    TypeError
        ``fit`` is not a MixedLM fit.
    ValueError
        ``x`` is not a column of the fit's data, or the fitted values are not a line in ``x``
        within each group (another predictor varies within groups).
    """
    require_mixed_fit(fit)
    frame = getattr(fit.model.data, "frame", None)
    if frame is None or x not in frame.columns:
        raise ValueError(f"x={x!r} is not a column of the data the fit was made from")
    lines = ols_by_group(np.asarray(fit.fittedvalues), frame[x], fit.model.groups)
    if (lines["sigma"] > 1e-8 * max(1.0, float(np.abs(fit.fittedvalues).max()))).any():
        raise ValueError(
            f"the fitted values are not a straight line in {x!r} within each group: another "
            "predictor varies within groups, so a group has no single line in x"
        )
    return lines


@dataclass(frozen=True)
class ContextualEffect:
    """Between-group minus within-group slope (:func:`contextual_effect`).

    Attributes
    ----------
    estimate, se : float
        :math:`\\hat\\gamma_{between} - \\hat\\gamma_{within}` and its standard error.
    between, within : str
        The two fixed-effect names.
    """

    estimate: float
    se: float
    between: str
    within: str

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """Wald interval :math:`\\hat c \\pm z_{(1+level)/2}\\,SE`."""
        if not 0 < level < 1:
            raise ValueError(f"level must lie in (0, 1); got {level!r}")
        z = float(sps.norm.ppf(0.5 + level / 2))
        return self.estimate - z * self.se, self.estimate + z * self.se


def contextual_effect(fit: Any, between: str = "mses", within: str = "cses") -> ContextualEffect:
    """The contextual effect of a group-mean-centred predictor.

    In :math:`y_{ij} = \\gamma_0 + \\gamma_w (x_{ij} - \\bar x_j) + \\gamma_b \\bar x_j + u_j
    + \\varepsilon_{ij}`, :math:`\\gamma_w` is the within-school slope (students of one school
    who differ by 1 in :math:`x`) and :math:`\\gamma_b` the between-school slope (school
    means that differ by 1). Their difference :math:`\\gamma_b - \\gamma_w` is the
    contextual effect: the expected difference between two students with the *same*
    :math:`x` in schools whose mean :math:`x` differs by 1. (In
    :math:`y = \\gamma_0 + \\gamma_1 x_{ij} + \\gamma_2 \\bar x_j + \\dots`, it is
    :math:`\\gamma_2` itself.) Its variance,
    :math:`V_{bb} + V_{ww} - 2V_{bw}`, uses :func:`hierlib.reml.fixed_effects_cov` (as R).

    Raises
    ------
    TypeError
        ``fit`` is not a MixedLM fit.
    ValueError
        ``between`` or ``within`` is not a fixed effect of the fit.
    """
    require_mixed_fit(fit)
    names = list(fit.model.exog_names)
    for arg, value in (("between", between), ("within", within)):
        if value not in names:
            raise ValueError(f"{arg}={value!r} is not a fixed effect of the fit ({names})")
    cov = fixed_effects_cov(fit)
    fe = fit.fe_params
    var = cov.loc[between, between] + cov.loc[within, within] - 2 * cov.loc[between, within]
    return ContextualEffect(
        float(fe[between] - fe[within]), float(np.sqrt(max(var, 0.0))), between, within
    )


def _intercept_variance(fit: Any, name: str) -> float:
    """:math:`\\hat\\tau^2_{00}`, the variance of the random intercept of ``fit``."""
    z = np.asarray(fit.model.exog_re, dtype=np.float64)
    if not np.all(z[:, 0] == 1.0):
        raise ValueError(f"{name} has no random intercept (its re_formula leaves it out)")
    return float(np.asarray(fit.cov_re, dtype=np.float64)[0, 0])


LEVELS = ("between", "within")
"""What :func:`variance_explained` compares: the random-intercept variance or sigma2."""


def variance_explained(base: Any, fit: Any, level: str = "between") -> float:
    """Proportion of a variance component explained by the predictors added to ``base``.

    Raudenbush & Bryk's proportional reduction (ch. 4):
    :math:`(\\hat\\tau^2_{base} - \\hat\\tau^2_{fit}) / \\hat\\tau^2_{base}` for the
    between-school variance of the intercepts (``level="between"``), or the same with
    :math:`\\hat\\sigma^2` (``"within"``). It can be negative (adding a within-school
    predictor can raise :math:`\\hat\\tau^2`): it compares two estimates, not a share of
    a fixed total.

    Parameters
    ----------
    base, fit : MixedLM fits
        The same data (same number of rows and groups), ``fit`` with more predictors.
    level : {"between", "within"}

    Raises
    ------
    TypeError
        ``base`` or ``fit`` is not a MixedLM fit.
    ValueError
        Unknown ``level``, fits of different data, or a fit without a random intercept, or a
        base variance of 0.
    """
    require_mixed_fit(base, "base")
    require_mixed_fit(fit)
    if level not in LEVELS:
        raise ValueError(f"level must be 'between' or 'within'; got {level!r}")
    _same_data(base, fit)
    if level == "between":
        v0, v1 = _intercept_variance(base, "base"), _intercept_variance(fit, "fit")
    else:
        v0, v1 = float(base.scale), float(fit.scale)
    if not v0 > 0:
        raise ValueError(f"base's {level}-group variance is 0: there is nothing to explain")
    return (v0 - v1) / v0


def _same_data(a: Any, b: Any) -> None:
    if (a.model.n_totobs, a.model.n_groups) != (b.model.n_totobs, b.model.n_groups) or not (
        np.array_equal(np.asarray(a.model.endog), np.asarray(b.model.endog))
    ):
        raise ValueError("the two fits must be of the same data (same response, rows, groups)")


def conditional_icc(fit: Any) -> float:
    """The intraclass correlation left after the predictors: :math:`\\hat\\tau^2 /
    (\\hat\\tau^2 + \\hat\\sigma^2)` of a random-intercept fit, the correlation of two
    students of one school with the same predictor values.

    Raises
    ------
    TypeError
        ``fit`` is not a MixedLM fit.
    ValueError
        ``fit`` has random slopes (then the within-school correlation depends on the
        predictors: there is no single ICC) or no random intercept.
    """
    require_mixed_fit(fit)
    if np.asarray(fit.cov_re).shape != (1, 1):
        raise ValueError(
            "fit has random slopes: the correlation of two students of one school depends on "
            "their predictor values, so there is no single intraclass correlation"
        )
    return icc(_intercept_variance(fit, "fit"), float(fit.scale))


@dataclass(frozen=True)
class LRTest:
    """A likelihood-ratio test of one more random effect (:func:`lr_test_random_effect`).

    Attributes
    ----------
    statistic : float
        :math:`LR = 2(\\ell_{full} - \\ell_{restricted}) \\ge 0` (the certified maxima of
        :func:`hierlib.reml.fit_mixed`, ``fit.optimum.loglik``, where the fits have them).
    df : int
        Covariance parameters the full model adds: the new variance and its covariances
        with the :math:`q` random effects already there (:math:`q + 1`).
    p_value : float
        With the boundary correction: :math:`\\tfrac12 P(\\chi^2_{q} > LR) + \\tfrac12
        P(\\chi^2_{q+1} > LR)`.
    p_value_naive : float
        :math:`P(\\chi^2_{q+1} > LR)`, which ignores the boundary (too large).
    mixture : str
        The null distribution in words, e.g. ``"0.5 chi2(1) + 0.5 chi2(2)"``.
    """

    statistic: float
    df: int
    p_value: float
    p_value_naive: float
    mixture: str


def _max_loglik(fit: Any) -> float:
    """The maximised log-likelihood: :func:`hierlib.reml.fit_mixed`'s certified one where the
    fit has it (``fit.llf`` is below it when a variance sits at 0), else ``fit.llf``."""
    optimum = getattr(fit, "optimum", None)
    return float(optimum.loglik) if isinstance(optimum, MixedOptimum) else float(fit.llf)


def lr_test_random_effect(restricted: Any, full: Any) -> LRTest:
    """Likelihood-ratio test that the random effect ``full`` adds has variance 0.

    Said plainly: a variance cannot be negative, so "no random slope" (:math:`\\tau_{11} = 0`)
    sits on the edge of the parameter space, and the usual rule (:math:`LR \\sim
    \\chi^2_{df}`, df = parameters added) does not apply. The new effect adds a variance and
    :math:`q` covariances with the effects already there (all 0 under :math:`H_0`: a
    covariance needs a variance). Near :math:`H_0` the covariances may move either way, to
    first order, but the variance only up; the covariances' directions always add a
    :math:`\\chi^2_q` to :math:`LR`, the variance's adds a :math:`\\chi^2_1` only when the data
    push it up. When there is no random slope that is half the time: the other half the data
    would like :math:`\\hat\\tau_{11} < 0`, the estimate stops at 0, and :math:`LR` behaves
    like :math:`\\chi^2_q` instead of :math:`\\chi^2_{q+1}`.
    So under :math:`H_0` the statistic follows the 50:50 mixture
    :math:`\\tfrac12\\chi^2_q + \\tfrac12\\chi^2_{q+1}` (Self & Liang 1987; Stram & Lee 1994),
    and the p-value is the average of the two tail areas. For a random slope next to a
    random intercept (:math:`q = 1`): :math:`\\tfrac12 P(\\chi^2_1 > LR) + \\tfrac12
    P(\\chi^2_2 > LR)`, always smaller than the naive :math:`\\chi^2_2` p-value, which is
    too conservative (its 5% test rejects a true :math:`H_0` less than 5% of the time, and
    misses real slope variation more often).

    Parameters
    ----------
    restricted, full : MixedLM fits
        Of the same data, by the same method, ``full`` with exactly one more random effect
        (e.g. ``re_formula="~1"`` and ``"~cses"``). For REML fits the fixed effects must be
        the same (REML likelihoods of different fixed effects are not comparable).

    Returns
    -------
    LRTest

    Raises
    ------
    TypeError
        A fit is not a MixedLM fit.
    ValueError
        Different data or methods, REML fits with different fixed effects, ``full`` not
        adding exactly one random effect, or ``full`` fitting worse than ``restricted`` (a
        fit did not reach its maximum).
    """
    require_mixed_fit(restricted, "restricted")
    require_mixed_fit(full, "full")
    _same_data(restricted, full)
    if restricted.method != full.method:
        raise ValueError(
            f"restricted and full must be fitted by the same method; got {restricted.method} "
            f"and {full.method}"
        )
    if full.method == "REML" and (
        list(restricted.model.exog_names) != list(full.model.exog_names)
        or not np.array_equal(restricted.model.exog, full.model.exog)
    ):
        raise ValueError(
            "REML likelihoods are comparable only with the same fixed effects: refit both "
            "models with method='ML', or keep the fixed part equal"
        )
    q = int(np.asarray(restricted.cov_re).shape[0])
    if int(np.asarray(full.cov_re).shape[0]) != q + 1:
        raise ValueError(
            f"full must add exactly one random effect to restricted; they have {q} and "
            f"{np.asarray(full.cov_re).shape[0]}"
        )
    stat = 2.0 * (_max_loglik(full) - _max_loglik(restricted))
    if stat < -2 * MIXED_LOGLIK_TOL * max(1.0, abs(float(full.llf))):
        raise ValueError(
            f"full fits worse than restricted (LR = {stat:.3g} < 0): one of the fits did not "
            "reach its maximum (use reml.fit_mixed for both)"
        )
    stat = max(stat, 0.0)
    upper = float(sps.chi2.sf(stat, q + 1))
    lower = float(sps.chi2.sf(stat, q))  # q >= 1: a MixedLM fit has a random effect
    return LRTest(stat, q + 1, 0.5 * lower + 0.5 * upper, upper,
                  f"0.5 chi2({q}) + 0.5 chi2({q + 1})")  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


_LINES_HOW = "from covariates.ols_by_group or covariates.fitted_lines"


def _require_lines(table: Any, name: str) -> pd.DataFrame:
    """``table`` if it is a table of lines (columns :data:`OLS_COLUMNS`), else a
    ``TypeError`` naming ``name``."""
    require_type(table, pd.DataFrame, name, _LINES_HOW, label="table of lines (a DataFrame)")
    missing = [c for c in OLS_COLUMNS if c not in table.columns]
    if missing:
        raise TypeError(f"{name} must be a table of lines ({_LINES_HOW}); it has no {missing}")
    return table


def _require_series(values: Any, name: str, what: str) -> pd.Series:
    """``values`` if it is a pandas Series, else a ``TypeError`` naming ``name``."""
    return require_type(values, pd.Series, name, what, label="pandas Series")


def plot_school_lines(
    ols: pd.DataFrame,
    hue: pd.Series | None = None,
    ax: Axes | None = None,
    *,
    xlabel: str = "student SES (standardised scale)",
    ylabel: str = "math achievement (points)",
    title: str | None = "One least-squares line per school",
) -> Axes:
    """Spaghetti plot: each group's OLS line over the range of ``x`` it has.

    Parameters
    ----------
    ols : pandas.DataFrame
        From :func:`ols_by_group`.
    hue : pandas.Series, optional
        A label per group (indexed like ``ols``, e.g. the school's sector): one colour and a
        legend entry per value.
    ax : matplotlib Axes, optional
    xlabel, ylabel, title : str
    """
    from hierlib.plots import finish_axes, new_axes

    ols = _require_lines(ols, "ols")
    ax = new_axes(ax)
    if hue is None:
        kinds = pd.Series("all schools", index=ols.index)
    else:
        kinds = _require_series(hue, "hue", "one label per group, indexed like ols").reindex(
            ols.index
        )
    if kinds.isna().any():
        raise ValueError("hue must give a value for every group of ols")
    for k, (kind, rows) in enumerate(ols.groupby(kinds.to_numpy(), sort=False, observed=True)):
        xs = np.stack([rows["x_min"], rows["x_max"]])
        ys = rows["intercept"].to_numpy() + rows["slope"].to_numpy() * xs
        lines = ax.plot(xs, ys, color=f"C{k}", lw=0.9, alpha=0.55)
        lines[0].set_label(f"{kind} ({len(rows)})")
    return finish_axes(ax, xlabel, ylabel, title, legend="upper left")


def plot_slopes_by_size(
    ols: pd.DataFrame,
    ax: Axes | None = None,
    *,
    ylabel: str = "OLS slope of math on SES (points per SD)",
    title: str | None = "The slopes of small schools are the noisiest",
) -> Axes:
    """Each group's OLS slope with :math:`\\pm 2` standard errors against its size, and the
    mean slope: the bars shrink like :math:`1/\\sqrt{n_j}`."""
    from hierlib.plots import finish_axes, new_axes

    ols = _require_lines(ols, "ols")
    ax = new_axes(ax)
    ax.errorbar(ols["n"], ols["slope"], yerr=2 * ols["se_slope"], fmt="o", ms=4, alpha=0.6,
                color="C0", ecolor="0.6", elinewidth=1, label="slope ± 2 SE")  # fmt: skip
    mean = float(ols["slope"].mean())
    ax.axhline(mean, color="C3", ls=":", lw=1.5, label=f"mean slope {mean:.2f}")
    return finish_axes(ax, "students in the school, $n_j$", ylabel, title, legend="upper right")


def plot_within_between(
    ols: pd.DataFrame,
    x_means: pd.Series,
    within: float,
    between: tuple[float, float],
    ax: Axes | None = None,
    *,
    xlabel: str = "school mean SES (standardised scale)",
    ylabel: str = "math achievement (points)",
    title: str | None = "Within schools the SES slope is flatter than between them",
) -> Axes:
    """School means against school mean ``x``, the between-school line, and through each
    school's mean a short segment with the within-school slope.

    Parameters
    ----------
    ols : pandas.DataFrame
        :func:`ols_by_group` of ``y`` on the *centred* ``x`` (its ``intercept`` is the school
        mean :math:`\\bar y_j`; its ``x_min``/``x_max`` the centred range).
    x_means : pandas.Series
        Each school's mean ``x`` (``mses``), indexed like ``ols``.
    within : float
        The within-school slope :math:`\\hat\\gamma_w` (coefficient of ``cses``).
    between : (float, float)
        Intercept and slope of the between-school line (``Intercept`` and ``mses``).
    """
    from hierlib.plots import finish_axes, new_axes

    ols = _require_lines(ols, "ols")
    x_means = _require_series(x_means, "x_means", "each group's mean x, indexed like ols")
    xm = x_means.reindex(ols.index).to_numpy(dtype=np.float64)
    if not np.isfinite(xm).all():
        raise ValueError("x_means must give a finite value for every group of ols")
    ax = new_axes(ax)
    ax.scatter(xm, ols["intercept"], s=14, color="C0", alpha=0.6, zorder=3,
               label="school mean score")  # fmt: skip
    half = 0.5 * np.minimum(ols["x_max"] - ols["x_min"], 0.5).to_numpy()
    seg_x = np.stack([xm - half, xm + half])
    seg_y = ols["intercept"].to_numpy() + within * (seg_x - xm)
    segs = ax.plot(seg_x, seg_y, color="C2", lw=1.2, alpha=0.6)
    segs[0].set_label(f"within-school slope {within:.2f}")
    grid = np.linspace(xm.min(), xm.max(), 2)
    ax.plot(grid, between[0] + between[1] * grid, color="C3", lw=2.5,
            label=f"between-school slope {between[1]:.2f}")  # fmt: skip
    return finish_axes(ax, xlabel, ylabel, title, legend="upper left")


def plot_fixed_lines(
    fit: Any,
    x: str,
    settings: pd.DataFrame,
    x_range: tuple[float, float] = (-2.0, 2.0),
    ax: Axes | None = None,
    *,
    xlabel: str = "student SES relative to the school mean (standardised scale)",
    ylabel: str = "expected math achievement (points)",
    title: str | None = "What the fixed effects say about each kind of school",
) -> Axes:
    """The fixed part of a fit, :math:`X\\hat\\beta`, as lines in ``x``: one line per row of
    ``settings`` (the values of the other predictors, e.g. sector and school SES), coloured
    by its first column and dashed by the second.

    Raises
    ------
    TypeError
        ``fit`` is not a MixedLM fit or ``settings`` not a DataFrame.
    ValueError
        ``settings`` lacks a predictor of the formula, or ``x_range`` is not increasing.
    """
    from hierlib.plots import finish_axes, new_axes

    require_mixed_fit(fit)
    if not isinstance(settings, pd.DataFrame) or settings.empty:
        raise TypeError("settings must be a non-empty DataFrame: one row per line")
    lo, hi = (float(v) for v in x_range)
    if not lo < hi:
        raise ValueError(f"x_range must be increasing; got {x_range!r}")
    grid = np.linspace(lo, hi, 2)
    ax = new_axes(ax)
    cols = list(settings.columns)
    colours = {v: f"C{k}" for k, v in enumerate(pd.unique(settings[cols[0]]))}
    styles = ["-", "--", ":", "-."]
    dashes = {v: styles[k % 4] for k, v in enumerate(pd.unique(settings[cols[-1]]))}
    for _, row in settings.iterrows():
        new = pd.DataFrame({c: [row[c]] * grid.size for c in cols}).assign(**{x: grid})
        for c in cols:  # keep a categorical's categories (its reference level)
            if isinstance(settings[c].dtype, pd.CategoricalDtype):
                new[c] = pd.Categorical(new[c], categories=settings[c].cat.categories)
        try:
            pred = np.asarray(fit.predict(new), dtype=np.float64)
        except Exception as err:  # noqa: BLE001 -- patsy's errors name the missing variable
            raise ValueError(f"settings cannot be evaluated by the fit's formula: {err}") from err
        label = ", ".join(f"{c} {row[c]:g}" if isinstance(row[c], float) else f"{row[c]}"
                          for c in cols)  # fmt: skip
        ax.plot(grid, pred, color=colours[row[cols[0]]], ls=dashes[row[cols[-1]]], lw=2.2,
                label=label)  # fmt: skip
    return finish_axes(ax, xlabel, ylabel, title, legend="upper left")


def plot_coefficient_shrinkage(
    ols: pd.DataFrame,
    lines: pd.DataFrame,
    axes: Any = None,
    *,
    pooled: tuple[float, float] | None = None,
    x_name: str = "SES",
) -> Any:
    """BLUP-based school lines against the OLS ones: intercepts (left), slopes (right).

    Each panel is :func:`hierlib.shrinkage.plot_shrinkage` (points sized by :math:`n_j`,
    the 45-degree line is "no shrinkage"): the mixed model pulls every school's line towards
    the line its predictors give, the small schools the most, and the slopes much more than
    the intercepts (a slope is estimated from the spread of SES within one school).

    Parameters
    ----------
    ols, lines : pandas.DataFrame
        :func:`ols_by_group` and :func:`fitted_lines` of the same groups.
    axes : two matplotlib Axes, optional
    pooled : (float, float), optional
        The common intercept and slope the model pulls towards, drawn as dotted lines (for a
        model without group-level predictors: its fixed effects).
    x_name : str
        What the slope is a slope of, for the labels.

    Returns
    -------
    ndarray of two Axes

    Raises
    ------
    TypeError
        ``ols`` or ``lines`` is not a table of lines, or an entry of ``axes`` is not Axes.
    ValueError
        ``ols`` and ``lines`` hold different groups, or ``axes`` does not hold two Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    from hierlib.plots import AXES_HOW
    from hierlib.shrinkage import plot_shrinkage

    ols, lines = _require_lines(ols, "ols"), _require_lines(lines, "lines")
    if not ols.index.equals(lines.index):
        raise ValueError("ols and lines must hold the same groups in the same order")
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    axes = [require_type(a, Axes, f"axes[{k}]", AXES_HOW) for k, a in enumerate(np.ravel(axes))]
    if len(axes) != 2:
        raise ValueError(f"axes holds {len(axes)} Axes: give two (intercepts, slopes)")
    panels = (
        ("intercept", "intercept (points)", "Intercepts: pulled in a little"),
        ("slope", f"slope of {x_name} (points per SD)", "Slopes: pulled in hard"),
    )
    for k, (col, unit, title) in enumerate(panels):
        plot_shrinkage(
            ols[col], lines[col], ols["n"], axes[k],
            pooled=None if pooled is None else pooled[k], pooled_label="fixed effect",
            xlabel=f"school's own OLS {unit}", ylabel=f"mixed-model {col} (BLUP)", title=title,
        )  # fmt: skip
    return np.asarray(axes)


def covariance_ellipse(cov: ArrayLike, level: float = 0.95) -> tuple[float, float, float]:
    """The ellipse holding probability ``level`` of a bivariate normal with covariance
    ``cov``: :math:`\\{u : u^\\top\\Sigma^{-1}u \\le c\\}`, :math:`c = \\chi^2_{2}` quantile
    :math:`= -2\\log(1 - \\text{level})`. With the eigenvalues
    :math:`\\lambda_1 \\ge \\lambda_2` of :math:`\\Sigma` and the first eigenvector
    :math:`v_1`, its full axes are :math:`2\\sqrt{c\\lambda_1}` and :math:`2\\sqrt{c\\lambda_2}`
    and the long one points along :math:`v_1`.

    Returns
    -------
    (float, float, float)
        Width (long axis), height (short axis) and the long axis' angle in degrees from the
        x axis, in (-90, 90]: what ``matplotlib.patches.Ellipse`` takes.

    Raises
    ------
    ValueError
        ``cov`` is not a finite symmetric positive definite 2 x 2 matrix, or ``level`` is not
        in (0, 1).
    """
    level = probability(level, "level")
    c = as_real_array(cov, "cov")
    if c.shape != (2, 2) or not np.isfinite(c).all():
        raise ValueError(f"cov must be a finite 2 x 2 covariance matrix; got shape {c.shape}")
    if abs(c[0, 1] - c[1, 0]) > 1e-10 * max(abs(c[0, 1]), abs(c[1, 0]), 1e-300):
        raise ValueError("cov must be a symmetric covariance matrix")
    w, v = np.linalg.eigh(c)
    if not w[0] > 0:
        raise ValueError(
            f"cov must be a positive definite covariance matrix; eigenvalues {w[0]:.3g}, {w[1]:.3g}"
        )
    q = -2.0 * np.log1p(-level)  # the chi-square(2) quantile
    angle = float(np.degrees(np.arctan2(v[1, 1], v[0, 1])))
    angle = angle - 180.0 if angle > 90 else angle + 180.0 if angle <= -90 else angle
    return float(2 * np.sqrt(q * w[1])), float(2 * np.sqrt(q * w[0])), angle


def _pairs(values: Any, name: str) -> NDArray:
    """``values`` as a finite (m, 2) float array: an array, or a DataFrame with the columns
    ``intercept`` and ``slope``."""
    if isinstance(values, pd.DataFrame):
        missing = [c for c in ("intercept", "slope") if c not in values.columns]
        if missing:
            raise ValueError(f"{name} needs the columns 'intercept' and 'slope'; has no {missing}")
        values = values[["intercept", "slope"]].to_numpy(dtype=np.float64)
    arr = as_real_array(values, name)
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.shape[0] == 0:
        raise ValueError(
            f"{name} needs one (intercept, slope) row per group; got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; got NaN or infinite entries")
    return arr


def plot_shrinkage_2d(
    own: Any,
    shrunk: Any,
    cov: ArrayLike,
    n: ArrayLike | None = None,
    ax: Axes | None = None,
    *,
    centre: tuple[float, float] = (0.0, 0.0),
    levels: tuple[float, ...] = (0.5, 0.95),
    xlabel: str = "intercept (points)",
    ylabel: str = "slope (points per SD)",
    title: str | None = "Each school pulled from its own line towards the population's",
) -> Axes:
    """Shrinkage in two dimensions: each group's own (intercept, slope) -- an arrow -- to its
    shrunk (intercept, slope), over the ellipses of the population
    :math:`N(\\text{centre}, \\Sigma)` that hold ``levels`` of it (:func:`covariance_ellipse`).

    The arrows point into the ellipse: a coefficient the group's own data measure noisily,
    against the population's spread in that direction, is pulled in most (for school lines,
    the slopes: nearly vertical arrows); with correlated coefficients, pulling one in moves
    the other too.

    Parameters
    ----------
    own, shrunk : pandas.DataFrame or array_like, shape (m, 2)
        Per group (intercept, slope): its own estimate (e.g. OLS) and the shrunk one
        (posterior mean); DataFrames need the columns ``intercept`` and ``slope``.
    cov : array_like, shape (2, 2)
        :math:`\\Sigma`, e.g. the posterior mean of the random effects' covariance.
    n : array_like, shape (m,), optional
        Group sizes: the own estimates are drawn with areas growing with :math:`n_j`.
    centre : (float, float)
        The population's centre (0 for random effects).
    """
    from matplotlib.patches import Ellipse

    from hierlib.plots import finish_axes, new_axes
    from hierlib.shrinkage import _sizes

    a, b = _pairs(own, "own"), _pairs(shrunk, "shrunk")
    if a.shape != b.shape:
        raise ValueError(f"own and shrunk must hold the same groups; got {a.shape} and {b.shape}")
    sizes = np.full(a.shape[0], 30.0)
    if n is not None:
        n_arr = as_finite_1d(n, "n")
        if n_arr.size != a.shape[0] or (n_arr < 1).any():
            raise ValueError("n must hold one group size (at least 1) per row of own")
        sizes = _sizes(n_arr, 10.0, 90.0)
    c0 = tuple(float(v) for v in centre)
    ax = new_axes(ax, (11.5, 5.6))
    for k, level in enumerate(sorted(levels)):
        width, height, angle = covariance_ellipse(cov, level)
        ax.add_patch(Ellipse(c0, width, height, angle=angle, fill=False, lw=2, color="C3",
                             ls="-" if k == len(levels) - 1 else "--",
                             label=f"{100 * level:g}% of the population N(0, Σ)"))  # fmt: skip
    d = b - a
    ax.quiver(a[:, 0], a[:, 1], d[:, 0], d[:, 1], angles="xy", scale_units="xy", scale=1,
              color="0.45", width=0.0025, alpha=0.7, zorder=2)  # fmt: skip
    ax.scatter(a[:, 0], a[:, 1], s=sizes, facecolor="none", edgecolor="C0", lw=0.9, zorder=3,
               label="school's own (OLS)")  # fmt: skip
    ax.scatter(b[:, 0], b[:, 1], s=12, color="C1", zorder=4, label="posterior mean")
    ax.autoscale_view()
    finish_axes(ax, xlabel, ylabel, title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=11)  # beside the cloud
    return ax
