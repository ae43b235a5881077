"""Why the reference prior :math:`p(\\tau^2) \\propto 1/\\tau^2` gives an improper posterior.

Integrate the school means :math:`\\theta_j` and the overall mean :math:`\\mu` (flat prior) out
of the hierarchical normal model. What is left, as a function of :math:`\\tau^2` at a fixed
:math:`\\sigma^2`, is the integrated likelihood

.. math::

    L(\\tau^2) = \\int p(y \\mid \\mu, \\tau^2, \\sigma^2)\\, d\\mu ,

and :math:`L(\\tau^2) \\to L(0) > 0` as :math:`\\tau^2 \\to 0` ("every school has the same
mean" is a model that still fits the data). So the posterior of :math:`\\tau^2` behaves like
:math:`L(0)\\,p(\\tau^2)` near 0: with :math:`p(\\tau^2) \\propto 1/\\tau^2` its integral
:math:`\\int_0 d\\tau^2/\\tau^2` diverges, with the flat :math:`p(\\tau^2) \\propto 1` it does not.
At the other end :math:`L(\\tau^2)` falls like :math:`(\\tau^2)^{-(m-1)/2}`, so the flat prior
gives a proper posterior once :math:`m \\ge 4`.

On the scale :math:`u = \\log\\tau^2` the picture is plain: the reference prior is flat in
:math:`u`, and the posterior density of :math:`u` tends to the constant :math:`L(0)` as
:math:`u \\to -\\infty` -- an infinitely long flat tail, infinite area. The flat prior on
:math:`\\tau^2` multiplies it by :math:`e^{u}`, which kills the tail.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import as_finite_1d, positive
from hierlib.data import GroupStats, require_stats
from hierlib.plots import new_axes
from hierlib.reml import restricted_loglik

TAU2_PRIORS = {"flat": 1.0, "reference": 0.0}
"""Exponent :math:`k` of :math:`p(\\tau^2) \\propto (\\tau^2)^{k-1}`: flat ``k=1``, reference
``k=0``. The density of :math:`u=\\log\\tau^2` is then :math:`\\propto L(e^u) e^{k u}`."""


def log_integrated_likelihood(stats: GroupStats, tau2: ArrayLike, sigma2: float) -> NDArray:
    """:math:`\\log \\int p(y \\mid \\mu, \\tau^2, \\sigma^2)\\, d\\mu` for each :math:`\\tau^2`.

    The log-likelihood (:func:`hierlib.marginal.marginal_loglik`) is quadratic in
    :math:`\\mu` with curvature :math:`W = \\sum_j w_j`, :math:`w_j = n_j/(\\sigma^2+n_j\\tau^2)`,
    so the integral is exact:

    .. math::

        \\log L(\\tau^2) = \\ell(\\hat\\mu_{\\tau^2}, \\tau^2, \\sigma^2)
        + \\tfrac12 \\log(2\\pi / W), \\qquad
        \\hat\\mu_{\\tau^2} = \\frac{\\sum_j w_j \\bar y_j}{W}.

    This is the REML log-likelihood: computed by :func:`hierlib.reml.restricted_loglik`.

    Parameters
    ----------
    stats : GroupStats
        Group sufficient statistics (:func:`hierlib.data.group_stats`).
    tau2 : array_like of float
        Between-group variances, each >= 0 (0 is allowed: the limit exists).
    sigma2 : float
        Within-group variance, > 0.

    Returns
    -------
    ndarray
        :math:`\\log L(\\tau^2)`, one value per ``tau2``.
    """
    require_stats(stats)
    s2 = positive(sigma2, "sigma2")
    t2 = as_finite_1d(np.atleast_1d(tau2), "tau2")
    if (t2 < 0).any():
        raise ValueError("tau2 is a variance and must be >= 0")
    return np.array([restricted_loglik(stats, float(t), s2, "REML") for t in t2])


def log_tau2_posterior_on_log_scale(
    stats: GroupStats, log_tau2: ArrayLike, sigma2: float, prior: str = "flat"
) -> NDArray:
    """Unnormalised log posterior density of :math:`u = \\log\\tau^2` at a fixed :math:`\\sigma^2`.

    .. math:: \\log p(u \\mid y, \\sigma^2) = \\log L(e^u) + k\\,u + \\text{const},

    with :math:`k = 1` for the flat prior :math:`p(\\tau^2) \\propto 1` and :math:`k = 0` for
    the reference prior :math:`p(\\tau^2) \\propto 1/\\tau^2` (the Jacobian
    :math:`d\\tau^2/du = e^u` included).
    """
    if prior not in TAU2_PRIORS:
        raise ValueError(f"prior must be one of {sorted(TAU2_PRIORS)}; got {prior!r}")
    u = as_finite_1d(np.atleast_1d(log_tau2), "log_tau2")
    return log_integrated_likelihood(stats, np.exp(u), sigma2) + TAU2_PRIORS[prior] * u


def plot_tau2_tails(
    stats: GroupStats, sigma2: float, log_tau2: ArrayLike | None = None, ax: Axes | None = None
) -> Axes:
    """Left tail of the posterior of :math:`\\log\\tau^2`: flat versus reference prior.

    Plots :math:`\\log p(u \\mid y, \\sigma^2) - \\log L(0)` against :math:`u = \\log\\tau^2`:
    the log density relative to its limit under the reference prior. The reference prior's
    curve levels off at 0 as :math:`u \\to -\\infty` (a density that never decays: infinite
    area); the flat prior's falls along the line :math:`u` (a density :math:`\\propto e^{u}`,
    finite area).
    """
    u = np.linspace(-30.0, -1.0, 300) if log_tau2 is None else as_finite_1d(log_tau2, "log_tau2")
    ax = new_axes(ax)
    log_l0 = float(log_integrated_likelihood(stats, [0.0], sigma2)[0])
    styles = {
        "flat": ("C0", "-", "flat  p(τ²) ∝ 1: density → 0, proper"),
        "reference": ("C3", "--", "reference  p(τ²) ∝ 1/τ²: density → L(0) > 0, improper"),
    }
    for prior, (color, ls, label) in styles.items():
        lp = log_tau2_posterior_on_log_scale(stats, u, sigma2, prior)
        ax.plot(u, lp - log_l0, color=color, ls=ls, lw=2.5, label=label)
    ax.axhline(0.0, color="0.4", lw=0.8)
    ax.set_ylim(-35.0, 60.0)
    ax.set_xlabel("log τ²  (τ² in squared score points)")
    ax.set_ylabel("log posterior density of log τ²\n(relative to log L(0))")
    ax.set_title("Towards τ² = 0 the reference posterior never decays")
    ax.legend(loc="upper left")
    return ax


def constant_groups_excess(stats: GroupStats) -> tuple[NDArray, int]:
    """The groups with no spread (:math:`SS_j = 0`, :math:`n_j \\ge 2`) and
    :math:`K = \\sum_{j: SS_j = 0} (n_j - 1)`, the number that decides whether the
    unequal-variances posterior is proper (:func:`check_unequal_variances`)."""
    require_stats(stats)
    constant = (stats.ss == 0) & (stats.n >= 2)
    return stats.labels[constant], int(np.sum(stats.n[constant] - 1))


def check_unequal_variances(stats: GroupStats, prior: object) -> None:
    """Refuse data and prior for which the unequal-variances posterior is improper.

    Model 2: :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)`, :math:`\\theta_j \\sim
    N(\\mu, \\tau^2)`, :math:`\\phi_j = 1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2,\\
    \\nu_0\\sigma_0^2/2)`, :math:`\\nu_0 \\sim \\text{Gamma}(\\alpha, \\beta)` (``nu0_shape``
    :math:`=\\alpha`) and :math:`p(\\sigma_0^2) \\propto (\\sigma_0^2)^{a/2 - 1}
    e^{-b\\sigma_0^2/2}` (``a = b = 0``: the lecture's :math:`1/\\sigma_0^2`).

    **Derivation.** Integrate :math:`\\phi_j` out (a Gamma integral): with
    :math:`S_j = SS_j + n_j(\\bar y_j - \\theta_j)^2`,

    .. math::

        p(y_j \\mid \\theta_j, \\nu_0, \\sigma_0^2) \\propto
        \\frac{\\Gamma(\\frac{\\nu_0 + n_j}{2})}{\\Gamma(\\frac{\\nu_0}{2})}
        \\frac{(\\nu_0\\sigma_0^2)^{\\nu_0/2}}{(\\nu_0\\sigma_0^2 + S_j)^{(\\nu_0 + n_j)/2}}.

    *A group with spread* (:math:`SS_j > 0`) has :math:`S_j \\ge SS_j > 0`: as
    :math:`\\sigma_0^2 \\to 0` its factor behaves like :math:`(\\sigma_0^2)^{\\nu_0/2}`
    (it vanishes), and as :math:`\\nu_0 \\to 0` like :math:`1/\\Gamma(\\nu_0/2) \\sim
    \\nu_0/2`. *A constant group* (:math:`SS_j = 0`) has :math:`S_j = n_j d^2`,
    :math:`d = \\theta_j - \\bar y_j`, which can be 0; its prior factor
    :math:`N(\\theta_j; \\mu, \\tau^2)` is bounded near :math:`d = 0`, and

    .. math::

        \\int (\\nu_0\\sigma_0^2 + n_j d^2)^{-(\\nu_0 + n_j)/2}\\, dd \\;\\propto\\;
        (\\nu_0\\sigma_0^2)^{-(\\nu_0 + n_j - 1)/2},

    so after :math:`\\theta_j` its factor behaves like
    :math:`\\frac{\\Gamma((\\nu_0+n_j-1)/2)}{\\Gamma(\\nu_0/2)} (\\nu_0\\sigma_0^2)^{-(n_j-1)/2}`:
    it *grows* without bound as :math:`\\nu_0\\sigma_0^2 \\to 0` (a zero-variance fit of a
    constant group). With :math:`Z` constant groups and :math:`K = \\sum_{SS_j = 0}(n_j - 1)`,
    the posterior near the boundary is, up to bounded factors,

    .. math::

        p(\\nu_0, \\sigma_0^2 \\mid y) \\sim
        \\nu_0^{\\,m - K/2 + \\alpha - 1}\\;
        (\\sigma_0^2)^{\\,[(m - Z)\\nu_0 + a - K]/2 - 1}.

    - :math:`\\sigma_0^2 \\to 0` at fixed :math:`\\nu_0`: integrable iff
      :math:`(m - Z)\\nu_0 + a > K`. Under the lecture's :math:`1/\\sigma_0^2` (:math:`a = 0`)
      this fails for every :math:`\\nu_0 \\le K/(m - Z)`, a set the Gamma prior on
      :math:`\\nu_0` gives positive probability (it would have to be bounded away from small
      values): **improper as soon as one group is constant** (:math:`K \\ge 1`). With a
      proper Gamma(a/2, b/2) prior on :math:`\\sigma_0^2` it holds for all :math:`\\nu_0`
      iff :math:`a > K` (then the inner integral is at most :math:`2/(a - K)`).
    - :math:`\\nu_0 \\to 0`: integrable iff :math:`m - K/2 + \\alpha > 0`, i.e.
      :math:`K < 2(m + \\alpha)`.
    - The other ends (:math:`\\sigma_0^2, \\nu_0 \\to \\infty`) are controlled by the
      proper priors; :math:`\\mu, \\tau^2` behave as without constant groups (flat
      :math:`\\tau^2` needs :math:`m \\ge 4`).

    So with :math:`K = 0` nothing changes, and with :math:`K \\ge 1` the posterior is proper
    iff :math:`\\sigma_0^2` has the proper prior with :math:`a > K` and :math:`K < 2(m +
    \\alpha)` (the boundary :math:`a = K` is refused too, on the safe side). Improper cases
    are not a numerical nuisance: a sampler drifts to :math:`\\sigma_0^2 \\to 0` until it
    underflows.

    Raises
    ------
    ValueError
        Naming the constant groups and :math:`K`, when the posterior is improper.
    """
    labels, k = constant_groups_excess(require_stats(stats))
    if k == 0:
        return
    names = ", ".join(map(str, labels[:5])) + ("" if labels.size <= 5 else ", ...")
    where = (
        f"the unequal-variances posterior is improper for these data: group(s) {names} have "
        f"no spread (SS_j = 0; K = sum of (n_j - 1) over them = {k})"
    )
    a = getattr(prior, "a", None)
    if a is None or a <= k:
        got = "p(sigma02) ∝ 1/sigma02" if a is None else f"a = {a:g}"
        raise ValueError(
            f"{where}. Near sigma02 = 0 the posterior behaves like sigma02^(((m - Z) nu0 + a "
            f"- K)/2 - 1), not integrable for small nu0 with {got}. Check those groups (a "
            f"constant group is often a data error), drop them, or give sigma02 a proper prior "
            f"UnequalVariances(a=..., b=...) with a > {k}"
        )
    shape = float(prior.nu0_shape)
    if k >= 2 * (stats.m + shape):
        raise ValueError(
            f"{where}. Near nu0 = 0 the posterior behaves like nu0^(m - K/2 + nu0_shape - 1), "
            f"not integrable when K >= 2 (m + nu0_shape) = {2 * (stats.m + shape):g}: raise "
            "nu0_shape, or check those groups"
        )
