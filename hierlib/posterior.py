"""Reading a posterior of the hierarchical normal model: derived quantities and comparison tables.

The samplers (:mod:`hierlib.gibbs`) return draws of :math:`\\mu`, :math:`\\sigma^2`,
:math:`\\tau^2` with shape ``(chains, draws)``. This module turns them into what the lecture
reads off a posterior:

- the standard deviations :math:`\\sigma`, :math:`\\tau` and the intraclass correlation
  :math:`\\rho = \\tau^2 / (\\tau^2 + \\sigma^2)`, draw by draw (:func:`derived_draws`);
- posterior means with equal-tailed credible intervals (:func:`interval_table`);
- the lecture's reading of the spreads, "about 95% of scores within a school lie within
  :math:`4\\sigma` of each other" (:func:`spread_reading`);
- the Bayesian fit next to the REML fit (:func:`bayes_vs_reml`) and one posterior per prior
  side by side (:func:`prior_sensitivity`).

Every function takes plain arrays or any object with a ``draws`` mapping, so it works the same
for every parameterisation and for the unequal-variances model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from hierlib._validate import (
    RESCALE_HINT,
    as_finite_1d,
    as_real_array,
    finite_result,
    require_draws,
    require_mapping,
)
from hierlib.plots import new_axes
from hierlib.reml import fixed_effects_cov, require_mixed_fit

PARAMETERS = ("mu", "sigma", "tau", "icc")
"""The quantities the lecture summarises, in the order tables show them."""

LABELS = {
    "mu": "μ (overall mean)",
    "sigma": "σ (within-school sd)",
    "tau": "τ (between-school sd)",
    "sigma2": "σ² (within-school var.)",
    "tau2": "τ² (between-school var.)",
    "icc": "ICC τ²/(τ²+σ²)",
}
"""Row labels used by the tables (the symbol and what it measures)."""


class HasDraws(Protocol):
    """Anything with a ``draws`` mapping of name -> array, such as a ``gibbs`` posterior."""

    draws: Mapping[str, NDArray]


def _positive_draws(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = as_real_array(values, name, "an array of draws")
    if arr.size == 0:
        raise ValueError(f"{name} has no draws")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite draws")
    if (arr < 0).any():
        raise ValueError(f"{name} is a variance and must be >= 0; got a negative draw")
    return arr


def icc_draws(sigma2: ArrayLike, tau2: ArrayLike) -> NDArray[np.float64]:
    """Intraclass correlation draw by draw.

    .. math:: \\rho^{(s)} = \\frac{\\tau^{2(s)}}{\\tau^{2(s)} + \\sigma^{2(s)}}

    the share of the total variance :math:`\\operatorname{Var}(Y_{ij}) = \\tau^2 + \\sigma^2`
    that lies between groups, and the correlation of two students of the same school.

    Parameters
    ----------
    sigma2, tau2 : array_like
        Draws of the within- and between-group variances (same shape).

    Returns
    -------
    ndarray
        Draws of :math:`\\rho`, the shape of the inputs.

    Raises
    ------
    ValueError
        If the shapes differ, a draw is NaN/inf or negative, or both variances are 0 in a draw.
    """
    s2 = _positive_draws(sigma2, "sigma2")
    t2 = _positive_draws(tau2, "tau2")
    if s2.shape != t2.shape:
        raise ValueError(f"sigma2 has shape {s2.shape} but tau2 has shape {t2.shape}")
    total = s2 + t2
    if (total == 0).any():
        raise ValueError("the ICC is undefined where sigma2 and tau2 are both 0")
    return t2 / total


def derived_draws(post: HasDraws) -> dict[str, NDArray[np.float64]]:
    """Draws of :math:`\\mu`, :math:`\\sigma`, :math:`\\tau` and the ICC from a posterior.

    Parameters
    ----------
    post : object with ``draws``
        ``draws["mu"]``, ``draws["sigma2"]`` and ``draws["tau2"]``, each ``(chains, draws)``.
        For the unequal-variances model, where there is no single :math:`\\sigma^2`, pass
        an object whose ``draws["sigma2"]`` is the variance you want to read (for instance
        :math:`\\sigma_0^2`).

    Returns
    -------
    dict
        ``mu``, ``sigma`` :math:`=\\sqrt{\\sigma^2}`, ``tau`` :math:`=\\sqrt{\\tau^2}`, ``icc``,
        ``sigma2``, ``tau2``; each with the shape of the input draws.
    """
    require_draws(post)
    missing = [k for k in ("mu", "sigma2", "tau2") if k not in post.draws]
    if missing:
        raise ValueError(f"the posterior has no draws of {', '.join(missing)}")
    sigma2 = _positive_draws(post.draws["sigma2"], "sigma2")
    tau2 = _positive_draws(post.draws["tau2"], "tau2")
    return {
        "mu": np.asarray(post.draws["mu"], dtype=np.float64),
        "sigma": np.sqrt(sigma2),
        "tau": np.sqrt(tau2),
        "icc": icc_draws(sigma2, tau2),
        "sigma2": sigma2,
        "tau2": tau2,
    }


def _check_prob(prob: float) -> float:
    p = float(prob)
    if not 0 < p < 1:
        raise ValueError(f"prob must lie strictly between 0 and 1; got {prob!r}")
    return p


def interval_table(
    draws: Mapping[str, ArrayLike], names: Sequence[str] | None = None, prob: float = 0.95
) -> pd.DataFrame:
    """Posterior mean, sd and equal-tailed credible interval of each named quantity.

    For draws :math:`x^{(1)},\\dots,x^{(S)}` (all chains pooled) the interval is
    :math:`[q_{(1-p)/2}, q_{(1+p)/2}]`, the sample quantiles; with :math:`p = 0.95` it holds
    the central 95% of the posterior.

    Parameters
    ----------
    draws : mapping of name -> array_like
        Draws of any shape (chains and draws are pooled).
    names : sequence of str, optional
        Which quantities, in which order (default: every key of ``draws``).
    prob : float, default 0.95
        Posterior probability inside the interval.

    Returns
    -------
    pandas.DataFrame
        Index: the names; columns ``mean``, ``sd``, ``lower``, ``upper``.
    """
    p = _check_prob(prob)
    keys = list(draws) if names is None else list(names)
    rows = {}
    for key in keys:
        if key not in draws:
            raise ValueError(f"no draws named {key!r}; have {', '.join(draws)}")
        x = as_real_array(draws[key], f"draws[{key!r}]", "an array of draws").ravel()
        if x.size < 2 or not np.isfinite(x).all():
            raise ValueError(f"draws of {key!r} must be at least two finite numbers")
        lo, hi = np.quantile(x, [(1 - p) / 2, (1 + p) / 2])
        with np.errstate(over="ignore", invalid="ignore"):
            row = {"mean": x.mean(), "sd": x.std(ddof=1), "lower": lo, "upper": hi}
        finite_result(list(row.values()), f"the mean or sd of the draws of {key!r}", RESCALE_HINT)
        rows[key] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def spread_reading(sigma: float, tau: float, coverage: float = 0.95) -> pd.DataFrame:
    """The lecture's reading of :math:`\\sigma` and :math:`\\tau` as ranges of scores.

    About 95% of a normal population lies within :math:`\\pm 2` sd of its mean, an interval
    :math:`4` sd wide. So about 95% of the scores within a school lie within :math:`4\\sigma`
    of each other, and about 95% of the school means within :math:`4\\tau`. The exact width
    for ``coverage`` :math:`c` is :math:`2 z_{(1+c)/2}\\,\\mathrm{sd}` (:math:`3.92` sd for 95%).

    Parameters
    ----------
    sigma, tau : float
        Within-school and between-school standard deviations (e.g. posterior means).
    coverage : float, default 0.95
        Share of the population the exact interval holds.

    Returns
    -------
    pandas.DataFrame
        Rows ``scores within a school`` and ``school means``; columns ``sd``, ``4 x sd``
        (the lecture's rule of thumb) and ``exact width`` (:math:`2 z\\,\\mathrm{sd}`).
    """
    c = _check_prob(coverage)
    z = stats.norm.ppf((1 + c) / 2)
    sds = {"scores within a school": sigma, "school means": tau}
    rows = {}
    for name, sd in sds.items():
        s = float(sd)
        if not np.isfinite(s) or s <= 0:
            raise ValueError(f"the sd of {name} must be a finite positive number; got {sd!r}")
        rows[name] = {"sd": s, "4 x sd": 4 * s, "exact width": 2 * z * s}
    return pd.DataFrame.from_dict(rows, orient="index")


def _reml_value(reml: Any, name: str) -> float:
    """Read ``name`` (``mu``, ``sigma``, ``tau``, ``icc``) from a REML result or a mapping."""
    raw = reml.get if isinstance(reml, Mapping) else lambda k: getattr(reml, k, None)

    def get(key: str) -> Any:
        value = raw(key)
        return raw(key + "_hat") if value is None else value  # e.g. ``mu_hat``

    value = get(name)
    if value is None and name in ("sigma", "tau"):
        var = get(name + "2")
        value = None if var is None else np.sqrt(float(var))
    if value is None and name in ("sigma2", "tau2"):
        sd = get(name[:-1])
        value = None if sd is None else float(sd) ** 2
    if value is None and name == "icc":
        t2 = _reml_value(reml, "tau2")
        value = t2 / (t2 + _reml_value(reml, "sigma2"))
    if value is None:
        raise ValueError(f"the REML result has no {name!r} (nor a variance to derive it from)")
    return float(value)


def bayes_vs_reml(
    post: HasDraws, reml: Any, names: Sequence[str] = PARAMETERS, prob: float = 0.95
) -> pd.DataFrame:
    """The Bayesian posterior next to the REML point estimates, one row per parameter.

    Parameters
    ----------
    post : object with ``draws``
        A posterior of the hierarchical normal model (see :func:`derived_draws`).
    reml : object or mapping
        REML estimates with attributes (or keys) ``mu`` (or ``mu_hat``) and
        ``sigma2``/``tau2`` (or ``sigma``/``tau``); ``icc`` is derived when absent, e.g. a
        :class:`hierlib.reml.RandomInterceptFit`.
    names : sequence of str
        Rows, from ``mu``, ``sigma``, ``tau``, ``icc``, ``sigma2``, ``tau2``.
    prob : float, default 0.95
        Probability of the credible interval.

    Returns
    -------
    pandas.DataFrame
        Index: readable labels; columns ``posterior mean``, ``lower``, ``upper`` (equal-tailed
        ``prob`` interval), ``REML`` and ``posterior mean - REML``.
    """
    table = interval_table(derived_draws(post), names, prob)
    out = table[["mean", "lower", "upper"]].rename(columns={"mean": "posterior mean"})
    out["REML"] = [_reml_value(reml, k) for k in table.index]
    out["posterior mean - REML"] = out["posterior mean"] - out["REML"]
    out.index = [LABELS.get(k, k) for k in table.index]
    return out


def mixed_draws(post: HasDraws) -> dict[str, NDArray[np.float64]]:
    """Draws of what a mixed-model posterior (:func:`hierlib.gibbs.mixed_model`) is read by,
    each of shape (chains, draws): every fixed effect (by ``post.fe_names``), the standard
    deviation of every random effect, :math:`\\sqrt{\\Sigma_{kk}}` (``"sd(<name>)"``), the
    correlation of every pair, :math:`\\Sigma_{kl}/\\sqrt{\\Sigma_{kk}\\Sigma_{ll}}`
    (``"corr(<name>, <name>)"``), and the residual sd :math:`\\sigma` (``"sigma"``).

    Raises
    ------
    TypeError
        ``post`` is not a posterior.
    ValueError
        No ``fe``, ``cov_re`` or ``sigma2`` draws, or names that do not match their shapes.
    """
    require_draws(post, "post", ["fe", "cov_re", "sigma2"])
    fe = as_real_array(post.draws["fe"], "post.draws['fe']")
    cov = as_real_array(post.draws["cov_re"], "post.draws['cov_re']")
    fe_names, re_names = list(post.fe_names), list(post.re_names)
    if fe.shape[-1] != len(fe_names) or cov.shape[-2:] != (len(re_names),) * 2:
        raise ValueError(
            f"post has {fe.shape[-1]} fixed effects and a {cov.shape[-2:]} covariance for the "
            f"names {fe_names} and {re_names}"
        )
    out = {name: fe[..., k] for k, name in enumerate(fe_names)}
    sd = np.sqrt(_positive_draws(np.diagonal(cov, axis1=-2, axis2=-1), "the variances of cov_re"))
    for k, name in enumerate(re_names):
        out[f"sd({name})"] = sd[..., k]
    for k, a in enumerate(re_names):
        for ll in range(k + 1, len(re_names)):
            out[f"corr({a}, {re_names[ll]})"] = cov[..., k, ll] / (sd[..., k] * sd[..., ll])
    out["sigma"] = np.sqrt(_positive_draws(post.draws["sigma2"], "sigma2"))
    return out


def mixed_vs_reml(post: HasDraws, fit: Any, prob: float = 0.95) -> pd.DataFrame:
    """A mixed model's posterior next to its REML fit, one row per quantity of
    :func:`mixed_draws`: posterior mean, sd and equal-tailed ``prob`` interval, the REML
    estimate and, for the fixed effects, its standard error as R's ``lme`` reports it
    (:func:`hierlib.reml.fixed_effects_cov`).

    Parameters
    ----------
    post : mixed-model posterior
    fit : statsmodels MixedLMResults
        :func:`hierlib.reml.fit_mixed` of the same formulas and data (same fixed-effect names;
        its random effects in the order of ``post.re_names``).

    Returns
    -------
    pandas.DataFrame
        Columns ``posterior mean``, ``posterior sd``, ``lower``, ``upper``, ``REML``,
        ``REML SE`` (NaN for the variance parameters: REML gives no SE for them). A REML
        correlation is NaN where one of its SDs is 0 (the fit on its boundary).
    """
    draws = mixed_draws(post)
    require_mixed_fit(fit)
    fe_names, re_names = list(post.fe_names), list(post.re_names)
    if list(fit.fe_params.index) != fe_names:
        raise ValueError(f"fit's fixed effects {list(fit.fe_params.index)} are not post's "
                         f"{fe_names}: fit the same formula")  # fmt: skip
    cov = np.asarray(fit.cov_re, dtype=np.float64)
    if cov.shape != (len(re_names),) * 2:
        raise ValueError(f"fit has {cov.shape[0]} random effects, post {len(re_names)}")
    sd = np.sqrt(np.diag(cov))
    reml = dict(fit.fe_params.astype(float))
    reml |= {f"sd({name})": sd[k] for k, name in enumerate(re_names)}
    for k, a in enumerate(re_names):
        for ll in range(k + 1, len(re_names)):
            scale = sd[k] * sd[ll]  # 0 on REML's boundary: the correlation is undefined
            reml[f"corr({a}, {re_names[ll]})"] = cov[k, ll] / scale if scale > 0 else np.nan
    reml["sigma"] = float(np.sqrt(fit.scale))
    table = interval_table(draws, list(draws), prob)
    out = table.rename(columns={"mean": "posterior mean", "sd": "posterior sd"})
    out["REML"] = [reml[k] for k in out.index]
    se = np.sqrt(np.diag(fixed_effects_cov(fit)))
    out["REML SE"] = pd.Series(dict(zip(fe_names, se, strict=True))).reindex(out.index)
    return out


def _posteriors(posts: Any) -> Mapping[str, HasDraws]:
    """``posts``, checked: a non-empty mapping of prior name -> posterior (``TypeError`` naming
    ``posts[name]`` for an entry that is not a posterior)."""
    require_mapping(posts, "posts", "one posterior per prior, e.g. {'flat': post}")
    for prior, post in posts.items():
        require_draws(post, f"posts[{prior!r}]")
    return posts


def prior_sensitivity(
    posts: Mapping[str, HasDraws], names: Sequence[str] = PARAMETERS, prob: float = 0.95
) -> pd.DataFrame:
    """Posterior means and credible intervals under several priors, side by side.

    Parameters
    ----------
    posts : mapping of prior name -> posterior
        One fit of the same data per prior.
    names : sequence of str
        Quantities to compare (see :func:`derived_draws`).
    prob : float, default 0.95
        Probability of the credible intervals.

    Returns
    -------
    pandas.DataFrame
        Index: readable labels of ``names``; columns a two-level index
        ``(prior name, mean | lower | upper)``.
    """
    tables = {
        prior: interval_table(derived_draws(post), names, prob)[["mean", "lower", "upper"]]
        for prior, post in _posteriors(posts).items()
    }
    out = pd.concat(tables, axis=1)
    out.index = [LABELS.get(k, k) for k in out.index]
    return out


def conditional_gap(
    log_joint: Callable[[float], float],
    log_conditional: Callable[[float], float],
    values: ArrayLike,
) -> float:
    """How far a derived full conditional is from the joint density: the range of the gap.

    With every other parameter held fixed, a correct full conditional satisfies
    :math:`\\log p(x \\mid \\text{rest}) = \\log p(x, \\text{rest}) - \\log p(\\text{rest})`,
    so :math:`\\log p(x, \\text{rest}) - \\log p(x \\mid \\text{rest})` is the same for every
    :math:`x`. Returns :math:`\\max_x - \\min_x` of that difference over ``values``: rounding
    error (about 1e-10) for a right conditional, order 1 or more for a wrong one.
    """
    xs = as_finite_1d(values, "values")
    if xs.size < 2:
        raise ValueError("values must hold at least two points to compare")
    gap = np.array([float(log_joint(x)) - float(np.sum(log_conditional(x))) for x in xs])
    if not np.isfinite(gap).all():
        raise ValueError(
            "a log density is not finite on the grid; choose values inside the support"
        )
    return float(np.ptp(gap))


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------

AXIS_LABELS = {
    "mu": "μ (score points)",
    "sigma": "σ (score points)",
    "tau": "τ (score points)",
    "sigma2": "σ² (squared score points)",
    "tau2": "τ² (squared score points)",
    "icc": "ICC τ²/(τ²+σ²) (share of variance)",
    "nu0": "ν₀ (prior degrees of freedom)",
    "sigma02": "σ₀² (squared score points)",
}
"""x-axis labels with units (HSB scores are test points)."""


def _fmt(value: float) -> str:
    """Two decimals for quantities of order 1 or more, three for shares such as the ICC."""
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3f}"


def plot_marginals(
    draws: Mapping[str, ArrayLike],
    names: Sequence[str] = PARAMETERS,
    reference: Mapping[str, float] | None = None,
    reference_label: str | Mapping[str, str] = "REML",
    prob: float = 0.95,
    bins: int = 60,
) -> NDArray:
    """One histogram per quantity (chains pooled) with its credible interval shaded.

    Parameters
    ----------
    draws : mapping of name -> array_like
        E.g. :func:`derived_draws` of a posterior.
    names : sequence of str
        Panels, left to right then top to bottom (two per row).
    reference : mapping of name -> float, optional
        A point estimate per quantity drawn as a vertical line (e.g. REML).
    reference_label : str or mapping of name -> str
        Legend label of the reference lines (one for all, or one per quantity).
    prob : float
        Probability of the shaded equal-tailed interval.
    bins : int
        Histogram bins.

    Returns
    -------
    ndarray of matplotlib Axes
    """
    table = interval_table(draws, names, prob)
    ncols = 2 if len(names) > 1 else 1
    nrows = int(np.ceil(len(names) / ncols))
    height = 4.2 if nrows == 1 else 3.3 * nrows  # one row: taller panels for slides
    fig, axes = plt.subplots(nrows, ncols, figsize=(11.0, height), squeeze=False)
    for ax, name in zip(axes.flat, names, strict=False):
        x = np.asarray(draws[name], dtype=np.float64).ravel()
        row = table.loc[name]
        ax.hist(x, bins=bins, density=True, color="C0", alpha=0.6)
        ax.axvspan(row["lower"], row["upper"], color="C0", alpha=0.12,
                   label=f"{100 * prob:g}% interval")  # fmt: skip
        ax.axvline(row["mean"], color="C0", lw=2, label=f"posterior mean {_fmt(row['mean'])}")
        if reference is not None and name in reference:
            value = float(reference[name])
            label = (
                reference_label.get(name, "reference")
                if isinstance(reference_label, Mapping)
                else reference_label
            )
            ax.axvline(value, color="C3", ls="--", lw=2, label=f"{label} {_fmt(value)}")
        ax.set_xlabel(AXIS_LABELS.get(name, name))
        ax.set_ylabel("posterior density")
        ax.set_ylim(top=ax.get_ylim()[1] * 1.6)  # headroom for the legend
        ax.legend(loc="upper right", fontsize=10, ncol=2 if reference else 1)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    fig.tight_layout()
    return axes


def plot_by_prior(
    posts: Mapping[str, HasDraws], name: str, ax: Axes | None = None, bins: int = 60
) -> Axes:
    """Posterior histograms of one quantity under several priors, overlaid as outlines."""
    ax = new_axes(ax)
    styles = ("-", "--", "-.", ":")
    for k, (prior, post) in enumerate(_posteriors(posts).items()):
        x = derived_draws(post)[name].ravel()
        ax.hist(x, bins=bins, density=True, histtype="step", lw=2.2, color=f"C{k}",
                ls=styles[k % len(styles)], label=f"{prior}: mean {_fmt(x.mean())}")  # fmt: skip
    ax.set_xlabel(AXIS_LABELS.get(name, name))
    ax.set_ylabel("posterior density")
    ax.legend(loc="upper right", fontsize=11)
    return ax
