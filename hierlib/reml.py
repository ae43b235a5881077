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

from hierlib._design import _build_mixedlm, _check_design, _group_index, _mixed_inputs, _rms
from hierlib._validate import (
    RESCALE_HINT,
    as_finite_1d,
    as_labels,
    at_least_groups,
    finite_result,
    nonnegative,
    require_type,
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


# ---------------------------------------------------------------------------------------------
# Mixed models with covariates (notebook 11): random intercepts and slopes by REML or ML
# ---------------------------------------------------------------------------------------------
#
# The model, for group j (n_j rows): y_j = X_j beta + Z_j b_j + e_j, b_j ~ N(0, sigma2 Delta),
# e_j ~ N(0, sigma2 I), Delta = L L' (L lower triangular, the parameters optimised). With
# M_j = I + L' Z_j'Z_j L (Woodbury), every quantity is a sum over groups of q x q, q x p
# cross-products, so one evaluation costs O(m q^3) and no n x n matrix is formed:
#
#   A = sum_j X_j'X_j - (L'Z_j'X_j)' M_j^-1 (L'Z_j'X_j)        (= sigma2 X'V^-1 X)
#   c = sum_j X_j'y_j - (L'Z_j'X_j)' M_j^-1 (L'Z_j'y_j),  d = y'y - sum_j |M_j^-1/2 L'Z_j'y_j|^2
#   beta_hat = A^-1 c,   Q = d - c' beta_hat                      (= sigma2 r'V^-1 r)
#   ML:   l   = -n/2 (1 + log(2 pi Q / n)) - 1/2 sum_j log|M_j|
#   REML: l_R = -(n-p)/2 (1 + log(2 pi Q / (n-p))) - 1/2 sum_j log|M_j| - 1/2 log|A|
#
# (sigma2 profiled out: sigma2_hat = Q/n or Q/(n-p)). These are the conventions of R's lme and
# statsmodels' MixedLM (REML without the constant 1/2 log|X'X|), so the maxima agree.

MIXED_LOGLIK_TOL = 1e-6
"""What :func:`fit_mixed` certifies: at its answer, a quadratic model of the (RE)ML
log-likelihood (finite-difference gradient and Hessian) leaves at most this much (in
log-likelihood units) to gain."""

MIXED_RESCALE_HINT = "rescale the response and the predictors (e.g. to unit sd) and transform back"
"""What :func:`fit_mixed` suggests when its data leave floating point."""

_MIXED_STEPS = 30  # Newton steps per start (each one bounded, backtracking at most 60 halvings)
_MIXED_ESCAPES = 3  # attempts to leave a saddle point along its negative curvature


@dataclass(frozen=True)
class MixedOptimum:
    """How :func:`fit_mixed` checked that it reached the maximum (``fit.optimum``).

    Attributes
    ----------
    loglik : float
        The maximised (restricted) log-likelihood, from hierlib's own formula (``fit.llf``,
        ``MixedLM``'s, is checked against that formula at the same point to 1e-8 relative).
    gain_bound : float
        What a Newton step from the answer would still gain, :math:`\\tfrac12 g^\\top
        H^{-1} g` (log-likelihood units; below :data:`MIXED_LOGLIK_TOL`).
    gradient_norm : float
        Largest absolute entry of the gradient in the (scaled) Cholesky parameters.
    min_curvature : float
        Smallest eigenvalue of the negative Hessian there (> 0 at a strict maximum).
    start_logliks : tuple of float
        The maximum reached from each start (the moment estimate, then the identity
        covariance); the answer is the best of them.
    boundary_floor : float
        0 inside the parameter space. At a singular maximum (a variance estimated as 0), the
        smallest eigenvalue of :math:`\\hat\\Sigma_b/\\hat\\sigma^2` (predictors at unit
        root mean square) was raised to this for ``MixedLM``, which cannot evaluate a singular
        covariance; ``fit.llf`` is then below ``loglik`` by ``boundary_loss``.
    boundary_loss : float
        ``loglik - fit.llf`` (0 inside the parameter space).
    """

    loglik: float
    gain_bound: float
    gradient_norm: float
    min_curvature: float
    start_logliks: tuple[float, ...]
    boundary_floor: float = 0.0
    boundary_loss: float = 0.0


@dataclass(frozen=True)
class _Products:
    """Group cross-products of the scaled design (columns divided by their root mean square):
    ``X/cx``, ``Z/cz``, ``y/cy``. Shapes: XX (p, p), Xy (p,), ZZ (m, q, q), ZX (m, q, p),
    Zy (m, q); group sizes ``counts`` and, for the starting values, the OLS coefficients and
    each group's sum of squared OLS residuals ``ols_rr``. With an intercept, ``y`` and the
    other columns of ``X`` are centred first; ``to_beta`` maps coefficients of the scaled
    columns back to the model's (:math:`\\beta = G\\tilde\\beta`, :math:`|G| = 1/\\prod cx`)."""

    XX: NDArray
    Xy: NDArray
    yy: float
    ZZ: NDArray
    ZX: NDArray
    Zy: NDArray
    n: int
    cx: NDArray
    cz: NDArray
    cy: float
    counts: NDArray
    ols_rr: NDArray
    ols_beta: NDArray
    to_beta: NDArray

    @property
    def p(self) -> int:
        return int(self.XX.shape[0])

    @property
    def q(self) -> int:
        return int(self.ZZ.shape[1])


def _products(model) -> _Products:
    X, Z, y = (np.asarray(a, dtype=np.float64) for a in (model.exog, model.exog_re, model.endog))
    p = X.shape[1]
    with np.errstate(all="ignore"):
        # With an intercept, centre y and the other columns of X first (the likelihood is
        # unchanged: X -> X T with det T = 1, y -> y - ybar within the span of X): no
        # cancellation for data such as 1e6 + noise.
        T = np.eye(p)
        const = np.flatnonzero(np.ptp(X, axis=0) == 0)
        if const.size:
            shift = X.mean(axis=0)
            shift[const] = 0.0
            T[const[0]] -= shift / X[0, const[0]]
            X = X - shift
            y = y - y.mean()
        cx, cz, cy = _rms(X), _rms(Z), float(_rms(y[:, None])[0])
        X, Z, y = X / cx, Z / cz, y / cy
        idx = _group_index(model)
        m, q = len(model.group_labels), Z.shape[1]
        ZZ, ZX, Zy = np.zeros((m, q, q)), np.zeros((m, q, p)), np.zeros((m, q))
        np.add.at(ZZ, idx, Z[:, :, None] * Z[:, None, :])
        np.add.at(ZX, idx, Z[:, :, None] * X[:, None, :])
        np.add.at(Zy, idx, Z * y[:, None])
        beta, *_ = np.linalg.lstsq(X, y, rcond=None)
        rr = np.bincount(idx, weights=(y - X @ beta) ** 2, minlength=m)
    counts = np.bincount(idx, minlength=m)
    out = _Products(X.T @ X, X.T @ y, float(y @ y), ZZ, ZX, Zy, y.size, cx, cz, cy, counts, rr,
                    beta, T / cx)  # fmt: skip
    sums = [out.XX.sum(), out.Xy.sum(), out.yy, out.ZZ.sum(), out.ZX.sum(), out.Zy.sum()]
    finite_result(sums, "a cross-product of the design", MIXED_RESCALE_HINT)
    return out


def _lower(theta: NDArray, q: int) -> NDArray:
    L = np.zeros((q, q))
    L[np.tril_indices(q)] = theta
    return L


def _profile(theta: NDArray, pr: _Products, reml: bool):
    """``(loglik, beta, Q, A)`` in the scaled units at the Cholesky parameters ``theta``;
    loglik is -inf where it cannot be evaluated (the optimisers step back from there)."""
    return _profile_root(_lower(theta, pr.q), pr, reml)


def _profile_root(L: NDArray, pr: _Products, reml: bool):
    """:func:`_profile` at any square root ``L`` of Delta (scaled units), ``Delta = L L'``."""
    with np.errstate(all="ignore"):
        LZX = np.einsum("ki,mkp->mip", L, pr.ZX)
        LZy = np.einsum("ki,mk->mi", L, pr.Zy)
        M = np.eye(L.shape[1]) + np.einsum("ki,mkl,lj->mij", L, pr.ZZ, L)
        try:
            chol_m = np.linalg.cholesky(M)
            sol_x = np.linalg.solve(M, LZX)
            sol_y = np.linalg.solve(M, LZy[:, :, None])[:, :, 0]
            A = pr.XX - np.einsum("mip,miq->pq", LZX, sol_x)
            chol_a = np.linalg.cholesky(A)
        except np.linalg.LinAlgError:
            return -np.inf, None, None, None
        c = pr.Xy - np.einsum("mip,mi->p", LZX, sol_y)
        beta = np.linalg.solve(A, c)
        Q = pr.yy - np.einsum("mi,mi->", LZy, sol_y) - c @ beta
        df = pr.n - pr.p if reml else pr.n
        ll = -0.5 * df * (1 + np.log(2 * np.pi * Q / df))
        ll -= np.log(np.diagonal(chol_m, axis1=1, axis2=2)).sum()
        if reml:
            ll -= np.log(np.diag(chol_a)).sum()
    if not (np.isfinite(ll) and Q > 0):
        return -np.inf, None, None, None
    return float(ll), beta, float(Q), A


def _gradient(f, x: NDArray, rel: float = 1e-5) -> NDArray:
    """Central-difference gradient of ``f`` at ``x``."""
    h = rel * (1.0 + np.abs(x))
    g = np.empty_like(x)
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where f cannot be evaluated
        for i in range(x.size):
            e = np.zeros_like(x)
            e[i] = h[i]
            g[i] = (f(x + e) - f(x - e)) / (2 * h[i])
    return g


def _hessian(f, x: NDArray, rel: float = 1e-4) -> NDArray:
    """Central-difference Hessian of ``f`` at ``x`` (second differences; 2k^2 + 1 calls)."""
    h = rel * (1.0 + np.abs(x))
    k = x.size
    step = np.diag(h)
    f0 = f(x)
    H = np.empty((k, k))
    with np.errstate(invalid="ignore", over="ignore"):  # inf - inf where f cannot be evaluated
        for i in range(k):
            H[i, i] = (f(x + step[i]) - 2 * f0 + f(x - step[i])) / h[i] ** 2
            for j in range(i):
                pp, mm = f(x + step[i] + step[j]), f(x - step[i] - step[j])
                pm, mp = f(x + step[i] - step[j]), f(x - step[i] + step[j])
                H[i, j] = H[j, i] = (pp - pm - mp + mm) / (4 * h[i] * h[j])
    return H


def _moment_start(pr: _Products) -> NDArray:
    """Cholesky parameters of a moment estimate of Delta: the spread of per-group OLS
    coefficients of the OLS residuals on Z, less their average sampling variance, over the
    pooled within-group residual variance; eigenvalues floored so the start is inside."""
    q = pr.q
    delta = np.eye(q)
    with np.errstate(all="ignore"):
        zr = pr.Zy - np.einsum("mkp,p->mk", pr.ZX, pr.ols_beta)
        scale = np.abs(pr.ZZ).max(axis=(1, 2))
        usable = (pr.counts > q) & (np.linalg.det(pr.ZZ) > 1e-10 * scale**q)
        if usable.sum() >= 2:
            zz_inv = np.linalg.inv(pr.ZZ[usable])
            b = np.einsum("mkl,ml->mk", zz_inv, zr[usable])
            rss = pr.ols_rr[usable] - np.einsum("mk,mk->m", b, zr[usable])
            s2 = float(rss.sum() / np.sum(pr.counts[usable] - q))
            spread = np.atleast_2d(np.cov(b, rowvar=False))
            est = (spread - s2 * zz_inv.mean(axis=0)) / s2
            if s2 > 0 and np.isfinite(est).all():
                w, v = np.linalg.eigh(0.5 * (est + est.T))
                floor = 1e-2 * max(float(np.mean(np.abs(w))), 1e-2)
                delta = (v * np.maximum(w, floor)) @ v.T
    return np.linalg.cholesky(delta)[np.tril_indices(q)]


def _climb(f, x0: NDArray) -> tuple[NDArray, tuple[NDArray, NDArray] | None]:
    """Maximise by BFGS (minimising ``f``, the negative log-likelihood), then polish with
    bounded Newton steps on the finite-difference Hessian. Returns the point and, when the
    last Newton step found nothing left to gain there, the gradient and Hessian at it."""
    res = optimize.minimize(f, x0, jac=lambda x: _gradient(f, x), method="BFGS",
                            options={"gtol": 1e-4, "maxiter": 200})  # fmt: skip
    x = np.asarray(res.x, dtype=np.float64) if np.isfinite(res.fun) else x0
    for _ in range(_MIXED_STEPS):
        g, H = _gradient(f, x), _hessian(f, x)
        if not (np.isfinite(g).all() and np.isfinite(H).all()):
            return x, (g, H)
        w, v = np.linalg.eigh(H)
        if not (np.isfinite(w).all() and w.min() > 1e-12 * max(1.0, np.abs(w).max())):
            return x, (g, H)
        step = -(v @ ((v.T @ g) / w))
        if 0.5 * float(g @ -step) < 1e-13:
            return x, (g, H)
        f0, t = f(x), 1.0
        for _ in range(60):
            if f(x + t * step) <= f0:
                break
            t *= 0.5
        else:
            break
        x = x + t * step
    return x, None


def _certify(f, x: NDArray, at_x: tuple[NDArray, NDArray] | None = None):
    """``(gain_bound, gradient_norm, min_curvature, escape_direction)`` at ``x``: the
    Newton gain on the positive-curvature directions (inf where a flat direction still has a
    gradient, or where ``f`` cannot be evaluated); a direction of negative curvature to leave
    a saddle along (zeros at a maximum). ``at_x``: the gradient and Hessian at ``x``, when
    already computed."""
    g, H = at_x if at_x is not None else (_gradient(f, x), _hessian(f, x))
    if not (np.isfinite(g).all() and np.isfinite(H).all()):
        return np.inf, np.inf, -np.inf, np.zeros_like(x)
    w, v = np.linalg.eigh(H)
    big = max(1.0, float(np.abs(w).max()))
    gv = v.T @ g
    pos = w > 1e-9 * big
    gain = 0.5 * float(np.sum(gv[pos] ** 2 / w[pos]))
    if (~pos).any() and np.abs(gv[~pos]).max() > 1e-3:
        gain = np.inf
    escape = v[:, 0] if w[0] < -1e-7 * big else np.zeros_like(x)
    return gain, float(np.abs(g).max()), float(w[0]), escape


def _maximise(pr: _Products, reml: bool, starts=None) -> tuple[NDArray, MixedOptimum]:
    """The Cholesky parameters (scaled units) of the (RE)ML maximum, from two starts (the
    moment estimate and the identity, unless ``starts`` are given), each climbed and
    certified; ``ValueError`` when no start reaches a certified maximum."""

    def f(x: NDArray) -> float:
        return -_profile(x, pr, reml)[0]

    q = pr.q
    if starts is None:
        starts = [_moment_start(pr), np.eye(q)[np.tril_indices(q)]]
    found, reached = [], []
    for x0 in starts:
        x, at_x = _climb(f, x0)
        gain, gnorm, curv, escape = _certify(f, x, at_x)
        for _ in range(_MIXED_ESCAPES):  # a saddle: leave along its negative curvature
            if not escape.any():
                break
            step = 0.1 * (1.0 + np.linalg.norm(x)) * escape
            x, at_x = _climb(f, min((x + step, x - step), key=f))
            gain, gnorm, curv, escape = _certify(f, x, at_x)
        reached.append(-f(x))
        if gain <= MIXED_LOGLIK_TOL:
            found.append((-f(x), x, gain, gnorm, curv))
    best = max(found, key=lambda t: t[0]) if found else None
    if best is None or best[0] < max(reached) - MIXED_LOGLIK_TOL:
        why = ("none reached one" if best is None else
               f"the best certified one, {best[0]:.6g}, is below {max(reached):.6g}, which "
               "another start reached")  # fmt: skip
        raise ValueError(
            f"fit_mixed could not certify a maximum of the {'REML' if reml else 'ML'} "
            f"likelihood from {len(starts)} starts ({why}): the likelihood may have no "
            "maximum for these data (it grows without bound) or the random-effects part is "
            "too rich for them (drop a random slope), or a predictor is nearly collinear"
        )
    ll, x, gain, gnorm, curv = best
    return x, MixedOptimum(ll, gain, gnorm, curv, tuple(float(v) for v in reached))


_SM_OPTIMISER_NOTES = ("optimization", "Retrying", "Gradient optimization", "on the boundary")


def fit_mixed(
    formula: str,
    data: pd.DataFrame,
    groups: str | ArrayLike,
    re_formula: str | None = None,
    method: str = "REML",
):
    """Fit a linear mixed model by REML or ML, certified to be at the maximum.

    The model: for group :math:`j`, :math:`y_j = X_j\\beta + Z_j b_j + \\varepsilon_j` with
    :math:`b_j \\sim N(0, \\Sigma_b)` and :math:`\\varepsilon_j \\sim N(0, \\sigma^2 I)`;
    ``formula`` gives :math:`y` and the fixed-effect columns :math:`X` (patsy syntax, as
    ``MixedLM.from_formula`` and R's ``lme`` fixed part), ``re_formula`` the random-effect
    columns :math:`Z` (default ``"~1"``: a random intercept; ``"~cses"``: intercept and slope
    of ``cses``, with an unstructured :math:`2\\times2` :math:`\\Sigma_b`, as
    ``random = ~ cses | school`` in R).

    How the maximum is found and checked (``statsmodels``' default fit stops short on HSB,
    and its ``method="lbfgs"`` returns all zeros with an infinite log-likelihood and
    ``converged=True``):

    1. :math:`\\beta` and :math:`\\sigma^2` are profiled out in closed form, and the
       (RE)ML log-likelihood of the Cholesky factor :math:`L` of
       :math:`\\Delta = \\Sigma_b/\\sigma^2` is computed from group cross-products (formulas
       in the comment above this section; columns scaled to unit root mean square);
    2. it is maximised by BFGS and then Newton steps from two starts (a moment estimate from
       per-group OLS, and :math:`\\Delta = I`), leaving saddle points along their negative
       curvature;
    3. the best answer is *certified*: with the finite-difference gradient :math:`g` and
       Hessian :math:`H`, a Newton step would gain at most :data:`MIXED_LOGLIK_TOL`
       (:math:`\\tfrac12 g^\\top(-H)^{-1}g`); if no start passes, ``ValueError``;
    4. ``MixedLM`` is started there, accepts it at its first gradient test, and builds the
       results; its log-likelihood must equal hierlib's (else ``ValueError``).

    Parameters
    ----------
    formula : str
        Response and fixed effects, e.g. ``"mathach ~ mses * cses + sector * cses"``.
    data : pandas.DataFrame
        One row per observation.
    groups : str or array_like
        The grouping column's name, or one label per row.
    re_formula : str, optional
        Random effects, e.g. ``"~cses"`` (default: a random intercept only).
    method : {"REML", "ML"}
        REML for estimates (the default, as in R); ML to compare models with different
        fixed effects by likelihood ratio.

    Returns
    -------
    statsmodels MixedLMResults
        ``fe_params``, ``bse_fe``, ``cov_re`` (:math:`\\hat\\Sigma_b`; the random intercept is
        labelled by the groups column), ``scale`` (:math:`\\hat\\sigma^2`), ``llf``,
        ``random_effects``, ``summary()``; plus ``optimum`` (:class:`MixedOptimum`: how the
        maximum was checked). ``bse_fe`` is statsmodels' (from the observed information of
        all parameters); R's standard errors are :func:`fixed_effects_cov`'s.

    Warns
    -----
    Warnings ``MixedLM`` raises while building the results are passed on, except its notes
    about its own optimiser (superseded by the certificate) and its "MLE may be on the
    boundary" heuristic (an absolute 0.01 on a variance), replaced by a ``UserWarning`` when
    :math:`\\hat\\Sigma_b` is singular (a variance estimated as 0). ``MixedLM`` cannot
    evaluate a singular covariance, so there the fit it returns has the smallest eigenvalue
    of :math:`\\hat\\Sigma_b/\\hat\\sigma^2` raised to about 1e-6 (predictors at unit root
    mean square; ``fit.optimum.boundary_floor``), below the maximum by
    ``fit.optimum.boundary_loss`` (at most half of :data:`MIXED_LOGLIK_TOL` unless even a
    floor of 1e-8 costs more); ``fit.optimum.loglik`` is the maximum itself.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame, ``formula`` not a string, ``re_formula`` neither None nor
        a string, ``groups`` not a column name or a 1-d array of labels.
    ValueError
        A column the formulas use is not in ``data`` or has NaN/inf; a formula that cannot
        be parsed; a response that is not numeric or is fitted exactly; a constant or
        collinear fixed-effect term; fewer than two groups; a random slope of a variable that
        does not vary within any group; no certified maximum; an unknown ``method``.
    """
    _method(method)
    used, passed_groups = _mixed_inputs(formula, data, groups, re_formula)
    model = _build_mixedlm(formula, data[used], passed_groups, re_formula)
    groups_name = groups if isinstance(groups, str) else "groups"
    _check_design(model, repr(groups_name))
    reml = method == "REML"
    pr = _products(model)
    x, optimum = _maximise(pr, reml)
    root, floor = _inside(x, pr, reml, optimum.loglik)
    res = _mixedlm_at(model, root, reml, pr)
    ll_scaled = _profile_root(root, pr, reml)[0]
    shift = -(pr.n - (pr.p if reml else 0)) * np.log(pr.cy)  # scaled units -> the data's
    if reml:
        shift -= float(np.sum(np.log(pr.cx)))
    ll_orig = ll_scaled + shift
    if not abs(float(res.llf) - ll_orig) <= 1e-8 * max(1.0, abs(ll_orig)):
        raise ValueError(
            f"MixedLM's log-likelihood at the certified maximum ({float(res.llf):.10g}) is not "
            f"hierlib's ({ll_orig:.10g}): the fit cannot be trusted; {MIXED_RESCALE_HINT}"
        )
    if floor > 0:
        warnings.warn(
            "the random-effects covariance is singular at the maximum (a variance, or a "
            "combination of them, is estimated as 0): the data do not support this "
            "random-effects part (consider a simpler re_formula); MixedLM cannot evaluate a "
            f"singular covariance, so the fit returned has its smallest eigenvalue at {floor:g} "
            f"(relative, scaled units), {optimum.loglik - ll_scaled:.1e} below the maximum "
            "(fit.optimum.loglik is the maximum)",
            UserWarning,
            stacklevel=2,
        )
    res.optimum = MixedOptimum(
        float(optimum.loglik + shift), optimum.gain_bound, optimum.gradient_norm,
        optimum.min_curvature, tuple(float(v + shift) for v in optimum.start_logliks), floor,
        float(optimum.loglik - ll_scaled),
    )  # fmt: skip
    return res


_BOUNDARY_FLOORS = (1e-6, 1e-7, 1e-8)


def _inside(x: NDArray, pr: _Products, reml: bool, ll_max: float) -> tuple[NDArray, float]:
    """The Cholesky factor (scaled units) to hand to ``MixedLM``, and the eigenvalue floor
    used (0 inside the parameter space).

    ``MixedLM`` inverts the random-effects covariance, so it cannot evaluate a singular one
    (a variance at its boundary 0: the likelihood it reports there is wrong). There the
    smallest eigenvalues of :math:`\\Delta` (relative to :math:`\\sigma^2`, predictors at
    unit root mean square) are raised to the largest floor in :data:`_BOUNDARY_FLOORS` that
    costs at most half of :data:`MIXED_LOGLIK_TOL` in log-likelihood, else to the smallest
    (where ``MixedLM`` is still accurate); the cost is reported.
    """
    L = _lower(x, pr.q)
    w, v = np.linalg.eigh(L @ L.T)
    big = max(1.0, float(w.max()))
    if w.min() >= _BOUNDARY_FLOORS[0] * big:
        return L, 0.0
    for floor in _BOUNDARY_FLOORS:
        root = np.linalg.cholesky((v * np.maximum(w, floor * big)) @ v.T)
        if ll_max - _profile_root(root, pr, reml)[0] <= 0.5 * MIXED_LOGLIK_TOL:
            break
    return root, (floor * big if w.min() < floor * big else 0.0)


def _mixedlm_at(model, root: NDArray, reml: bool, pr: _Products):
    """``MixedLM``'s results at the Cholesky factor ``root`` (scaled units): its BFGS starts
    there and stops at its first gradient test (``gtol`` above the gradient there)."""
    from statsmodels.tools.sm_exceptions import ConvergenceWarning

    tril = np.tril_indices(pr.q)
    theta = (root / pr.cz[:, None])[tril]  # L = diag(1/cz) L~ in the data's units
    g = _gradient(lambda t: -_profile(t, pr, reml)[0], root[tril]) * pr.cz[tril[0]]
    gtol = max(1e-5, 10.0 * float(np.abs(g).max()) / pr.n)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            res = model.fit(reml=reml, start_params=theta, method="bfgs", gtol=gtol)
        except np.linalg.LinAlgError as err:  # its Hessian, for the standard errors
            raise ValueError(
                f"MixedLM could not build its results at the certified maximum ({err}: the "
                "information matrix of the fixed effects and variances is singular); the data "
                "barely determine this model: simplify the formula or re_formula"
            ) from err
    outputs = [res.fe_params, res.cov_re, res.scale, res.llf]
    if not all(np.isfinite(np.asarray(v, dtype=np.float64)).all() for v in outputs):
        raise ValueError(f"MixedLM's estimates are not finite (overflow in floating point); "
                         f"{MIXED_RESCALE_HINT}")  # fmt: skip
    for w in caught:
        note = issubclass(w.category, ConvergenceWarning) and any(
            s in str(w.message) for s in _SM_OPTIMISER_NOTES
        )
        if not note and not issubclass(w.category, DeprecationWarning | FutureWarning):
            warnings.warn(f"MixedLM: {w.message}", w.category, stacklevel=3)
    return res


def require_mixed_fit(fit: Any, name: str = "fit") -> Any:
    """Return ``fit`` if it is a statsmodels ``MixedLMResults`` (what :func:`fit_mixed` and
    ``MixedLM.fit`` return), else a ``TypeError`` naming ``name``: what every function that
    takes a mixed-model fit checks first (statsmodels is imported here, not before)."""
    from statsmodels.regression.mixed_linear_model import MixedLMResults, MixedLMResultsWrapper

    return require_type(fit, (MixedLMResults, MixedLMResultsWrapper), name,
                        "from reml.fit_mixed", label="statsmodels MixedLMResults")  # fmt: skip


def fixed_effects_cov(fit) -> pd.DataFrame:
    """Covariance of the fixed effects by the GLS formula, as R's ``vcov(lme)``:
    :math:`\\hat\\sigma^2 (X^\\top V^{-1} X)^{-1}` at the estimated variances
    (:math:`V = I + Z \\hat\\Delta Z^\\top` per group, :math:`\\hat\\Delta =
    \\hat\\Sigma_b/\\hat\\sigma^2`), computed from the group cross-products.

    ``MixedLM``'s ``bse_fe`` comes instead from the observed information of all parameters
    together; on HSB they differ by up to 2% (the slope of ``ses``).

    Parameters
    ----------
    fit : statsmodels MixedLMResults
        From :func:`fit_mixed` (or ``MixedLM.fit``).

    Returns
    -------
    pandas.DataFrame
        Indexed and labelled by the fixed-effect names.

    Raises
    ------
    TypeError
        ``fit`` is not a ``MixedLMResults`` (:func:`require_mixed_fit`).
    ValueError
        :math:`X^\\top V^{-1} X` is not positive definite, or the covariance overflows.
    """
    model = require_mixed_fit(fit).model
    pr = _products(model)
    delta = np.asarray(fit.cov_re_unscaled, dtype=np.float64) * np.outer(pr.cz, pr.cz)
    w, v = np.linalg.eigh(0.5 * (delta + delta.T))
    L = v * np.sqrt(np.maximum(w, 0.0))  # any square root of Delta~ gives the same A
    A = _profile_root(L, pr, fit.method == "REML")[3]
    if A is None:
        raise ValueError("X'V^-1 X is not positive definite at this fit's variances")
    with np.errstate(all="ignore"):
        cov = float(fit.scale) * pr.to_beta @ np.linalg.inv(A) @ pr.to_beta.T
    finite_result(cov, "the covariance of the fixed effects", MIXED_RESCALE_HINT)
    names = list(model.exog_names)
    return pd.DataFrame(cov, index=names, columns=names)
