"""Classical estimation of the random-intercept model by REML (and ML).

The model :math:`Y_{ij} = \\mu + b_j + \\varepsilon_{ij}`, :math:`b_j \\sim N(0, \\tau^2)`,
:math:`\\varepsilon_{ij} \\sim N(0, \\sigma^2)` is the marginal model of
:mod:`hierlib.marginal`. Two tools:

- :func:`fit_random_intercept` -- a thin wrapper over ``statsmodels`` ``MixedLM`` (what R's
  ``nlme::lme(MathAch ~ 1, random = ~ 1 | School)`` does), returning a small
  :class:`RandomInterceptFit`.
- :func:`restricted_loglik` and :func:`profile_loglik` -- the (RE)ML log-likelihood written
  in closed form in the group sufficient statistics, so a notebook can draw the profile
  log-likelihood of :math:`\\tau^2` and a test can check it peaks where ``MixedLM`` says.

**REML.** With :math:`w_j = n_j / (\\sigma^2 + n_j\\tau^2)`, the GLS estimate of
:math:`\\mu` is :math:`\\hat\\mu = \\sum_j w_j \\bar y_j / \\sum_j w_j` with
:math:`\\operatorname{Var}(\\hat\\mu) = 1 / \\sum_j w_j`. ML plugs :math:`\\hat\\mu` into the
marginal log-likelihood :math:`\\ell` (:func:`hierlib.marginal.marginal_loglik`); REML
integrates :math:`\\mu` out under a flat prior instead, i.e. maximises the likelihood of the
:math:`n - 1` residual contrasts:

.. math::

    \\ell_R(\\tau^2, \\sigma^2) = \\ell(\\hat\\mu, \\tau^2, \\sigma^2)
        + \\tfrac12 \\log 2\\pi - \\tfrac12 \\log \\textstyle\\sum_j w_j .

The extra :math:`-\\tfrac12\\log\\sum_j w_j` is the price of estimating :math:`\\mu`; without
it (ML) the variance components are biased down, as :math:`\\frac1n\\sum(y - \\bar y)^2` is.
This matches ``statsmodels``' REML log-likelihood (which, like R, omits the constant
:math:`\\tfrac12\\log|X^\\top X|`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy import stats as sps

from hierlib._validate import (
    RESCALE_HINT,
    as_finite_1d,
    as_labels,
    at_least_groups,
    finite_result,
    nonnegative,
    same_length,
)
from hierlib.data import GroupStats, group_stats, require_stats
from hierlib.marginal import icc, marginal_loglik

if TYPE_CHECKING:
    from matplotlib.axes import Axes

METHODS = ("REML", "ML")


def _method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be 'REML' or 'ML'; got {method!r}")
    return method


def _check_stats(stats: GroupStats) -> None:
    """A GroupStats with two groups or more, at least one within-group degree of freedom and
    some within-group spread (with every group constant the likelihood grows without bound
    as sigma2 -> 0: there is no estimate)."""
    require_stats(stats)
    at_least_groups(stats.m, 2)
    if stats.n_total - stats.m < 1:
        raise ValueError(
            "sigma2 needs at least one group with 2 or more members "
            f"(n = {stats.n_total} observations in m = {stats.m} groups)"
        )
    if not stats.ss.sum() > 0:
        raise ValueError(
            "sigma2 cannot be estimated: every group is constant (within-group SS = 0), so the "
            "likelihood grows without bound as sigma2 -> 0; y needs at least one group with "
            "two different values"
        )


def gls_mean(stats: GroupStats, tau2: float, sigma2: float) -> tuple[float, float]:
    """GLS estimate of :math:`\\mu` and its standard error for given variance components.

    :math:`\\hat\\mu = \\sum_j w_j \\bar y_j / \\sum_j w_j`, :math:`SE = (\\sum_j w_j)^{-1/2}`,
    :math:`w_j = n_j / (\\sigma^2 + n_j \\tau^2)`.
    """
    require_stats(stats)
    t2, s2 = nonnegative(tau2, "tau2"), nonnegative(sigma2, "sigma2")
    if s2 == 0:
        raise ValueError("sigma2 must be > 0")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        w = stats.n / (s2 + stats.n * t2)
        mu, se = float(np.dot(w, stats.ybar) / w.sum()), float(1 / np.sqrt(w.sum()))
    finite_result([mu, se], "the GLS mean of y (weights n_j / (sigma2 + n_j tau2))", RESCALE_HINT)
    return mu, se


def restricted_loglik(stats: GroupStats, tau2: float, sigma2: float, method: str = "REML") -> float:
    """The REML (default) or ML log-likelihood of :math:`(\\tau^2, \\sigma^2)`, :math:`\\mu`
    replaced by its GLS estimate (see the module docstring for the formula).

    Parameters
    ----------
    stats : GroupStats
        Group sufficient statistics (:func:`hierlib.data.group_stats`).
    tau2, sigma2 : float
        Variance components, :math:`\\tau^2 \\ge 0`, :math:`\\sigma^2 > 0`.
    method : {"REML", "ML"}
    """
    _method(method)
    mu_hat, se = gls_mean(stats, tau2, sigma2)
    ll = marginal_loglik(stats, mu_hat, tau2, sigma2)
    if method == "REML":
        ll += 0.5 * np.log(2 * np.pi) + np.log(se)
    return float(ll)


def _sigma2_bounds(stats: GroupStats) -> tuple[float, float]:
    """A log-scale search interval that holds the maximising sigma2 for any tau2 >= 0."""
    ms_within = stats.ss.sum() / (stats.n_total - stats.m)
    total = (stats.ss.sum() + np.sum(stats.n * (stats.ybar - stats.grand_mean) ** 2)) / (
        stats.n_total - 1
    )
    lo = max(min(ms_within, total), 1e-300)
    return np.log(lo) - 5.0, np.log(max(ms_within, total)) + 2.0


def _best_sigma2(stats: GroupStats, tau2: float, method: str) -> tuple[float, float]:
    """Maximise over sigma2 (Brent on log sigma2); returns (sigma2, log-likelihood)."""
    lo, hi = _sigma2_bounds(stats)
    res = optimize.minimize_scalar(
        lambda ls2: -restricted_loglik(stats, tau2, float(np.exp(ls2)), method),
        bounds=(lo, hi),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(np.exp(res.x)), float(-res.fun)


def profile_loglik(stats: GroupStats, tau2: ArrayLike, method: str = "REML") -> NDArray[np.float64]:
    """Profile log-likelihood of :math:`\\tau^2`: for each value,
    :math:`\\max_{\\sigma^2} \\ell_R(\\tau^2, \\sigma^2)` (REML) or the ML analogue.

    :math:`\\mu` is replaced by its GLS estimate in closed form; the inner maximisation over
    :math:`\\sigma^2` is one-dimensional (Brent's method on :math:`\\log\\sigma^2`): with
    unequal :math:`n_j` the score equation in :math:`\\sigma^2` at fixed :math:`\\tau^2` has
    no closed-form root (at a fixed *ratio* :math:`\\tau^2/\\sigma^2` it does, which
    :func:`maximize_profile` uses). Each evaluation costs O(m): only the group sufficient
    statistics are used.

    Parameters
    ----------
    stats : GroupStats
    tau2 : array_like of float
        Values :math:`\\tau^2 \\ge 0` at which to evaluate.
    method : {"REML", "ML"}

    Returns
    -------
    ndarray
        The profile log-likelihood at each ``tau2``.
    """
    _method(method)
    _check_stats(stats)
    t2 = as_finite_1d(np.atleast_1d(tau2), "tau2")
    if (t2 < 0).any():
        raise ValueError(f"tau2 is a variance component and must be >= 0; got min {t2.min()}")
    return np.array([_best_sigma2(stats, float(v), method)[1] for v in t2])


def _ratio_profile(stats: GroupStats, gamma: float, method: str) -> tuple[float, float]:
    """For a variance ratio :math:`\\gamma = \\tau^2/\\sigma^2`, the maximising
    :math:`\\sigma^2` in closed form and the log-likelihood there.

    With :math:`V = \\sigma^2 V_\\gamma`, the quadratic form is :math:`Q(\\gamma)/\\sigma^2`,
    :math:`Q(\\gamma) = \\sum_j SS_j + \\sum_j \\frac{n_j}{1 + n_j\\gamma}(\\bar y_j -
    \\hat\\mu)^2`, so :math:`\\hat\\sigma^2(\\gamma) = Q(\\gamma)/(n - 1)` (REML) or
    :math:`Q(\\gamma)/n` (ML).
    """
    w = stats.n / (1.0 + stats.n * gamma)
    mu_hat = np.dot(w, stats.ybar) / w.sum()
    q = stats.ss.sum() + np.dot(w, (stats.ybar - mu_hat) ** 2)
    sigma2 = float(q / (stats.n_total - (1 if method == "REML" else 0)))
    return sigma2, restricted_loglik(stats, gamma * sigma2, sigma2, method)


def maximize_profile(stats: GroupStats, method: str = "REML") -> tuple[float, float, float]:
    """Maximise the (RE)ML log-likelihood from the sufficient statistics alone.

    :math:`\\sigma^2` is profiled out in closed form for each variance ratio
    :math:`\\gamma = \\tau^2/\\sigma^2` (:func:`_ratio_profile`), and the one-dimensional
    profile in :math:`\\log\\gamma` is maximised by bounded Brent (the boundary
    :math:`\\gamma = 0` is compared too). O(m) per evaluation; no ``MixedLM``.

    Returns
    -------
    (tau2, sigma2, loglik)
        The maximiser and the maximum: where :func:`fit_random_intercept` starts ``MixedLM``.
    """
    _method(method)
    _check_stats(stats)
    res = optimize.minimize_scalar(
        lambda lg: -_ratio_profile(stats, float(np.exp(lg)), method)[1],
        bounds=(np.log(1e-10), np.log(1e8)),
        method="bounded",
        options={"xatol": 1e-10},
    )
    gamma = float(np.exp(res.x))
    sigma2, ll = _ratio_profile(stats, gamma, method)
    sigma2_0, ll_0 = _ratio_profile(stats, 0.0, method)
    if ll_0 >= ll:
        return 0.0, sigma2_0, ll_0
    return gamma * sigma2, sigma2, ll


def profile_interval(
    stats: GroupStats, level: float = 0.95, method: str = "REML"
) -> tuple[float, float]:
    """Likelihood-ratio (profile) confidence interval for :math:`\\tau^2`.

    The set of :math:`\\tau^2 \\ge 0` whose profile log-likelihood lies within
    :math:`\\tfrac12 \\chi^2_{1,\\text{level}}` of the maximum (1.92 for 95%); the lower end
    is 0 when :math:`\\tau^2 = 0` is inside. Unlike :math:`\\hat\\tau^2 \\pm 1.96\\,SE`, it
    respects :math:`\\tau^2 \\ge 0` and the skew of the likelihood.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must lie in (0, 1); got {level!r}")
    tau2_hat, _, ll_max = maximize_profile(stats, method)
    cut = ll_max - 0.5 * float(sps.chi2.ppf(level, 1))

    def gap(t2: float) -> float:
        return float(profile_loglik(stats, [t2], method)[0]) - cut

    lower = 0.0 if gap(0.0) >= 0 else optimize.brentq(gap, 0.0, tau2_hat, xtol=1e-10)
    upper = max(tau2_hat, 1e-8) * 2
    for _ in range(200):  # bounded doubling: 2^200 times the estimate is beyond any answer
        if gap(upper) <= 0:
            return float(lower), float(optimize.brentq(gap, tau2_hat, upper, xtol=1e-10))
        upper *= 2
    raise ValueError(
        f"the profile likelihood of tau2 does not fall below the {level:.0%} cut-off for any "
        f"tau2 up to {upper:.3g}: the upper end of the interval is not finite (too few groups "
        "or groups that barely differ); report the lower end only"
    )


def plot_profile(
    stats: GroupStats,
    tau2_range: tuple[float, float] | None = None,
    methods: tuple[str, ...] = ("REML", "ML"),
    level: float = 0.95,
    ax: Axes | None = None,
    title: str = "REML peaks at a larger $\\tau^2$ than ML",
) -> Axes:
    """Profile log-likelihood of :math:`\\tau^2`, relative to its maximum, for each method.

    Each curve is :func:`profile_loglik` minus its maximum, with the maximiser marked; the
    dotted line at :math:`-\\tfrac12\\chi^2_{1,\\text{level}}` reads off the profile
    interval (:func:`profile_interval`).

    Parameters
    ----------
    stats : GroupStats
    tau2_range : (float, float), optional
        The :math:`\\tau^2` axis (default: 0 to 2.2 times the largest estimate).
    methods : tuple of {"REML", "ML"}
    level : float, default 0.95
    ax : matplotlib Axes, optional
    title : str
        A title that says what to see.
    """
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax)
    peaks = {m: maximize_profile(stats, m) for m in methods}
    top = max(p[0] for p in peaks.values())
    lo, hi = tau2_range if tau2_range is not None else (0.0, 2.2 * top)
    grid = np.linspace(lo, hi, 160)
    for k, (m, (t2, _, ll)) in enumerate(peaks.items()):
        ax.plot(grid, profile_loglik(stats, grid, m) - ll, color=f"C{k}", lw=2,
                label=f"{m}, maximum at {t2:.2f}")  # fmt: skip
        ax.plot([t2], [0.0], "o", color=f"C{k}", ms=9)
    cut = -0.5 * float(sps.chi2.ppf(level, 1))
    ax.axhline(cut, color="0.3", ls=":", lw=1.5, label=f"{level:.0%} profile interval cut-off")
    ax.set_ylim(3.5 * cut, 0.5)
    ax.set_xlabel("between-school variance $\\tau^2$ (points$^2$)")
    ax.set_ylabel("profile log-likelihood minus max")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=11)
    return ax


@dataclass(frozen=True, eq=False)
class RandomInterceptFit:
    """Estimates of the random-intercept model (:func:`fit_random_intercept`).

    Attributes
    ----------
    method : str
        ``"REML"`` or ``"ML"``.
    mu_hat, se_mu : float
        Fixed intercept :math:`\\hat\\mu` and its standard error
        :math:`(\\sum_j n_j / (\\hat\\sigma^2 + n_j \\hat\\tau^2))^{-1/2}` (the GLS formula
        R's ``lme`` reports; ``MixedLM``'s Hessian-based ``bse_fe`` differs in the 5th digit).
    tau2, sigma2 : float
        Between- and within-group variances :math:`\\hat\\tau^2`, :math:`\\hat\\sigma^2`.
    random_effects : pandas.Series
        Predicted random effects (BLUPs) :math:`\\hat b_j = E[b_j \\mid y]` at the estimates,
        indexed by group label, in sorted label order; the predicted group mean is
        :math:`\\hat\\mu + \\hat b_j`.
    loglik : float
        Maximised (restricted) log-likelihood.
    converged : bool
        False when the optimiser says so or warned of non-convergence.
    messages : tuple of str
        The warnings ``MixedLM`` raised during the fit (re-issued to the caller as well).
    n_obs, n_groups : int
    result : statsmodels MixedLMResults
        The underlying fit, for its ``summary()`` and anything not copied here.
    """

    method: str
    mu_hat: float
    se_mu: float
    tau2: float
    sigma2: float
    random_effects: pd.Series
    loglik: float
    converged: bool
    messages: tuple[str, ...]
    n_obs: int
    n_groups: int
    result: Any = field(default=None, repr=False)

    @property
    def tau(self) -> float:
        """Between-group standard deviation :math:`\\hat\\tau`."""
        return float(np.sqrt(self.tau2))

    @property
    def sigma(self) -> float:
        """Within-group standard deviation :math:`\\hat\\sigma`."""
        return float(np.sqrt(self.sigma2))

    @property
    def icc(self) -> float:
        """Intraclass correlation :math:`\\hat\\tau^2 / (\\hat\\tau^2 + \\hat\\sigma^2)`."""
        return icc(self.tau2, self.sigma2)

    def summary(self) -> pd.Series:
        """The estimates as one labelled Series (R's ``lme`` names in brackets)."""
        return pd.Series(
            {
                "mu_hat (Intercept Value)": self.mu_hat,
                "se_mu (Std.Error)": self.se_mu,
                "tau (StdDev Intercept)": self.tau,
                "sigma (StdDev Residual)": self.sigma,
                "tau2": self.tau2,
                "sigma2": self.sigma2,
                "icc": self.icc,
                "loglik": self.loglik,
            },
            name=self.method,
        )


def _start_params(stats: GroupStats, method: str):
    """``MixedLM`` starting values at the optimum :func:`maximize_profile` finds in closed
    form: :math:`\\hat\\mu` (GLS) and the variance ratio :math:`\\hat\\tau^2/\\hat\\sigma^2`
    (``MixedLM`` profiles the scale :math:`\\sigma^2` out, so its ``cov_re`` is that ratio).
    ``None`` (``MixedLM``'s own start) when the optimum is on the boundary :math:`\\tau^2 = 0`
    or cannot be computed in floating point.
    """
    from statsmodels.regression.mixed_linear_model import MixedLMParams

    try:
        with np.errstate(all="ignore"):
            tau2, sigma2, _ = maximize_profile(stats, method)
            mu_hat = gls_mean(stats, tau2, sigma2)[0] if tau2 > 0 else 0.0
    except (ValueError, ArithmeticError):  # data at the edge of floating point: MixedLM's start
        return None
    if not (tau2 > 0 and np.isfinite([tau2, sigma2, mu_hat]).all()):
        return None
    return MixedLMParams.from_components(
        fe_params=np.array([mu_hat]), cov_re=np.array([[tau2 / sigma2]])
    )


def fit_random_intercept(
    y: ArrayLike, groups: ArrayLike, method: str = "REML"
) -> RandomInterceptFit:
    """Fit :math:`Y_{ij} = \\mu + b_j + \\varepsilon_{ij}` by REML or ML with ``MixedLM``.

    ``MixedLM`` starts where it will end: at the optimum :func:`maximize_profile` finds from
    the group sufficient statistics in a few milliseconds, so its optimiser (BFGS) converges
    in a step or two (about 0.2-0.3x the time of a default ``MixedLM.fit``; ``make bench``
    prints both). The estimates are ``MixedLM``'s own, and agree with a default fit run to
    full convergence (``gtol=1e-10``) to 1e-6; a default fit, which stops at ``gtol=1e-5``,
    can be off by about 1e-4 (relative) in :math:`\\hat\\tau^2`.

    Parameters
    ----------
    y : array_like of float, shape (n,)
    groups : array_like, shape (n,)
        Group labels. If a named ``pandas.Series``, its name labels the random effects index.
    method : {"REML", "ML"}

    Returns
    -------
    RandomInterceptFit

    Warns
    -----
    Any warning ``MixedLM`` raises (for instance ``ConvergenceWarning``, or an estimate on
    the boundary :math:`\\tau^2 = 0`) is re-issued to the caller, recorded in
    ``messages``, and a convergence warning sets ``converged=False``; none is swallowed.

    Notes
    -----
    ``MixedLM``'s convergence tests use absolute tolerances, so they depend on the units of
    ``y`` (``y * 1e-6`` can "fail to converge" at the right answer). When the fit in the
    units of ``y`` does not converge, ``y`` is refitted standardised,
    :math:`z = (y - \\bar y)/s`, and if that fit converges its estimates are mapped back
    (:math:`\\mu = \\bar y + s\\mu_z`, variances and random effects times :math:`s^2`
    and :math:`s`, log-likelihood minus :math:`(n - p)\\log s`, :math:`p = 1` for REML,
    0 for ML); ``result`` is then the fit of :math:`z`, and ``messages`` keeps the first
    fit's warnings (prefixed "units of y:") without re-issuing them.

    Raises
    ------
    ValueError
        NaN/inf or non-numeric ``y``, mismatched lengths, fewer than two groups, no group
        with two members, every group constant (no within-group spread), or an unknown
        ``method``.
    """
    _method(method)
    y_arr = as_finite_1d(y, "y")
    g_arr = as_labels(groups)
    same_length(y=y_arr, groups=g_arr)
    stats = group_stats(y_arr, g_arr)
    _check_stats(stats)
    y_name = getattr(y, "name", None) or "y"
    res, caught, converged = _mixedlm(y_arr, g_arr, y_name, method, _start_params(stats, method))
    center, scale = 0.0, 1.0
    messages = tuple(str(w.message) for w in caught)
    if not converged:
        refit = _refit_standardised(y_arr, g_arr, stats, y_name, method)
        if refit is not None:
            res, center, scale, caught_z = refit
            converged = True
            messages = tuple(f"units of y: {m}" for m in messages)
            messages += tuple(str(w.message) for w in caught_z)
            caught = caught_z
    for w in caught:
        warnings.warn(f"MixedLM: {w.message}", w.category, stacklevel=2)
    name = getattr(groups, "name", None) or "group"
    re = pd.Series(
        [scale * float(res.random_effects[g].iloc[0]) for g in stats.labels],
        index=pd.Index(stats.labels, name=name),
        name="random_effect",
    )
    tau2 = scale**2 * float(np.asarray(res.cov_re)[0, 0])
    sigma2 = scale**2 * float(res.scale)
    n_fixed = 1 if method == "REML" else 0
    loglik = float(res.llf) - (stats.n_total - n_fixed) * float(np.log(scale))
    finite_result([tau2, sigma2, loglik, *re], "the MixedLM estimates", RESCALE_HINT)
    return RandomInterceptFit(
        method=method,
        mu_hat=center + scale * float(np.asarray(res.fe_params)[0]),
        se_mu=gls_mean(stats, tau2, sigma2)[1],
        tau2=tau2,
        sigma2=sigma2,
        random_effects=re,
        loglik=loglik,
        converged=converged,
        messages=messages,
        n_obs=stats.n_total,
        n_groups=stats.m,
        result=res,
    )


def _refit_standardised(y: NDArray, groups: NDArray, stats: GroupStats, y_name: str, method: str):
    """The fit of :math:`z = (y - c)/u` (:meth:`GroupStats.standardised`), started at its
    profile optimum, if it converges: ``(result, c, u, warnings)``; else ``None`` (also when
    ``y`` has no spread in floating point, so that there is no :math:`z`)."""
    try:
        center, scale, z_stats = stats.standardised()
    except ValueError:
        return None
    z = (y - center) / scale
    res, caught, converged = _mixedlm(z, groups, y_name, method, _start_params(z_stats, method))
    return (res, center, scale, caught) if converged else None


def _mixedlm(y: NDArray, groups: NDArray, y_name: str, method: str, start=None):
    """One ``MixedLM`` fit of an intercept-only random-intercept model, from ``start``
    (:func:`_start_params`; ``None``: ``MixedLM``'s own): the result, the warnings it raised
    (recorded, not shown) and whether it converged."""
    import statsmodels.api as sm  # lazy: importing hierlib.reml stays light
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    exog = pd.DataFrame({"Intercept": np.ones(y.size)})
    model = sm.MixedLM(pd.Series(y, name=y_name), exog, groups=groups)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = model.fit(reml=method == "REML", start_params=start)
    with np.errstate(all="ignore"):
        outputs = [res.fe_params, res.cov_re, res.scale, res.llf]
        outputs += [v for v in res.random_effects.values()]
        usable = all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in outputs)
    converged = (
        bool(res.converged)
        and usable  # NaN or inf inside MixedLM (y near 1e150): not an answer
        and not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    )
    return res, list(caught), converged
