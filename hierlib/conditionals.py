"""Full conditional distributions of the hierarchical normal models and of the mixed model,
derived (lecture: Gibbs).

Each function returns the parameters of one full conditional (a :class:`Normal` or a
:class:`Gamma`, with a ``logpdf``), computed from the group sufficient statistics
:math:`n_j, \\bar y_j, SS_j` only (:func:`hierlib.data.group_stats`). The samplers in
:mod:`hierlib.gibbs` draw from exactly these. Each is checked against :func:`log_joint` /
:func:`log_joint_unequal`, which are computed independently from the raw data with
``scipy.stats`` densities: a full conditional's log density and the log joint differ by a
constant in that parameter.

Notation: :math:`n = \\sum_j n_j`; a prior on a precision :math:`\\lambda` is written as Gamma
pseudo-counts :math:`p(\\lambda) \\propto \\lambda^{a-1}e^{-b\\lambda}` (see
:mod:`hierlib.priors`: Default has :math:`a_\\tau=-1, b_\\tau=0` (flat on :math:`\\tau^2`) and
:math:`a_\\sigma=b_\\sigma=0` (:math:`1/\\sigma^2`); SemiConjugate has
:math:`a_\\tau=\\eta_0/2, b_\\tau=\\eta_0\\tau_0^2/2, a_\\sigma=\\nu_0/2,
b_\\sigma=\\nu_0\\sigma_0^2/2`; ``Default(tau2="uniform-tau")`` has :math:`a_\\tau=-1/2`;
HalfCauchy has :math:`a_\\tau = 1/2, b_\\tau = 1/a` given its auxiliary variable :math:`a`,
see :func:`cauchy_aux_precision`), and the prior of :math:`\\mu` is :math:`N(\\mu_0, 1/p_0)`
with :math:`p_0=0` meaning flat.

Key identity (why sufficient statistics suffice):

.. math::
    \\sum_i (y_{ij}-\\theta_j)^2 = SS_j + n_j(\\bar y_j-\\theta_j)^2 .

Corrections to the slides: the normal kernels are :math:`\\exp(-\\tfrac12\\phi(\\cdot)^2)` (the
slides drop the minus sign); the likelihood is a *product* over groups and students, not a sum;
the Gamma rates carry a factor 1/2 (:math:`1/\\sigma_j^2 \\mid \\cdot \\sim
\\text{Gamma}((\\nu_0+n_j)/2, (\\nu_0\\sigma_0^2+\\sum_i(y_{ij}-\\theta_j)^2)/2)`), and the
:math:`\\sigma_0^2` rate is :math:`(b + \\nu_0\\sum_j 1/\\sigma_j^2)/2` (the slides drop both
the 1/2 and the factor :math:`\\nu_0`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib.data import GroupStats, MixedStats, require_mixed_stats, require_stats
from hierlib.priors import InverseWishart, MixedDefault, MixedProper

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Normal:
    """A normal distribution :math:`N(\\text{mean}, \\text{var})` (arrays broadcast)."""

    mean: FloatArray | float
    var: FloatArray | float

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Normalised log density at ``x``."""
        from scipy import stats  # lazy: the samplers do not need scipy

        return stats.norm.logpdf(x, self.mean, np.sqrt(self.var))


@dataclass(frozen=True)
class Gamma:
    """A Gamma distribution with ``shape`` and **rate**, the law of a precision
    :math:`\\lambda = 1/v`."""

    shape: FloatArray | float
    rate: FloatArray | float

    def logpdf(self, x: ArrayLike) -> FloatArray:
        """Normalised log density of the precision at ``x``."""
        from scipy import stats  # lazy: the samplers do not need scipy

        return stats.gamma.logpdf(x, self.shape, scale=1.0 / np.asarray(self.rate))

    def logpdf_of_inverse(self, v: ArrayLike) -> FloatArray:
        """Log density of the variance :math:`v = 1/\\lambda` (inverse gamma):
        :math:`\\log p_\\lambda(1/v) - 2\\log v`."""
        from scipy import stats  # lazy: the samplers do not need scipy

        return stats.invgamma.logpdf(v, self.shape, scale=self.rate)


# ----------------------------------------------------------------------------- model 1
def theta_centered(s: GroupStats, mu: float, sigma2: float, tau2: float) -> Normal:
    """:math:`\\theta_j \\mid \\mu, \\sigma^2, \\tau^2, Y` (centered; independent over j).

    Derivation: as a function of :math:`\\theta_j`,

    .. math::
        \\exp\\{-\\tfrac{n_j}{2\\sigma^2}(\\bar y_j-\\theta_j)^2
               -\\tfrac{1}{2\\tau^2}(\\theta_j-\\mu)^2\\}
        \\propto N\\Big(\\frac{n_j\\bar y_j/\\sigma^2 + \\mu/\\tau^2}{n_j/\\sigma^2+1/\\tau^2},
                       \\frac{1}{n_j/\\sigma^2+1/\\tau^2}\\Big)

    (precisions add; the mean is the precision-weighted average -- the shrinkage formula).
    """
    require_stats(s, "s")
    prec = s.n / sigma2 + 1.0 / tau2
    return Normal((s.n * s.ybar / sigma2 + mu / tau2) / prec, 1.0 / prec)


def mu_centered(theta: ArrayLike, tau2: float, mu0: float = 0.0, mu_prec0: float = 0.0) -> Normal:
    """:math:`\\mu \\mid \\theta, \\tau^2` (centered; does not involve Y or :math:`\\sigma^2`).

    .. math::
        p(\\mu\\mid\\cdot) \\propto e^{-\\frac{p_0}{2}(\\mu-\\mu_0)^2}
        \\prod_j e^{-\\frac{1}{2\\tau^2}(\\theta_j-\\mu)^2}
        = N\\Big(\\frac{m\\bar\\theta/\\tau^2 + p_0\\mu_0}{m/\\tau^2 + p_0},
                 \\frac{1}{m/\\tau^2 + p_0}\\Big);

    under the default prior (:math:`p_0 = 0`) this is :math:`N(\\bar\\theta, \\tau^2/m)` (the
    slides' :math:`1/(m\\phi_\\mu)`).
    """
    th = np.asarray(theta, dtype=float)
    prec = th.size / tau2 + mu_prec0
    return Normal((th.sum() / tau2 + mu_prec0 * mu0) / prec, 1.0 / prec)


def sigma_precision(
    s: GroupStats, theta: ArrayLike, a_sigma: float = 0.0, b_sigma: float = 0.0
) -> Gamma:
    """:math:`1/\\sigma^2 \\mid \\theta, Y` (same in every parameterisation, with
    :math:`\\theta = \\mu + \\delta`).

    With :math:`\\phi = 1/\\sigma^2` the likelihood is
    :math:`\\prod_{ij}\\phi^{1/2}e^{-\\phi(y_{ij}-\\theta_j)^2/2}
    = \\phi^{n/2}e^{-\\phi S/2}`, :math:`S = \\sum_j SS_j + n_j(\\bar y_j-\\theta_j)^2`, so

    .. math::
        \\phi \\mid \\cdot \\sim \\text{Gamma}(a_\\sigma + n/2,\\ b_\\sigma + S/2);

    default prior: Gamma(n/2, S/2); Hoff: Gamma((ν0+n)/2, (ν0σ0²+S)/2).
    """
    require_stats(s, "s")
    th = np.asarray(theta, dtype=float)
    ss = float(np.sum(s.ss + s.n * (s.ybar - th) ** 2))
    return Gamma(a_sigma + s.n_total / 2, b_sigma + ss / 2)


def tau_precision(dev: ArrayLike, a_tau: float = -1.0, b_tau: float = 0.0) -> Gamma:
    """:math:`1/\\tau^2 \\mid \\theta, \\mu` from the deviations ``dev`` :math:`=\\theta-\\mu`
    (= :math:`\\delta` in the offset form).

    With :math:`\\phi_\\mu = 1/\\tau^2`: :math:`\\prod_j \\phi_\\mu^{1/2}
    e^{-\\phi_\\mu(\\theta_j-\\mu)^2/2} = \\phi_\\mu^{m/2} e^{-\\phi_\\mu Q/2}`,
    :math:`Q=\\sum_j(\\theta_j-\\mu)^2`, so

    .. math::
        \\phi_\\mu \\mid \\cdot \\sim \\text{Gamma}(a_\\tau + m/2,\\ b_\\tau + Q/2).

    Default (flat on :math:`\\tau^2`, i.e. :math:`p(\\phi_\\mu)\\propto\\phi_\\mu^{-2}`):
    Gamma((m-2)/2, Q/2); Hoff: Gamma((η0+m)/2, (η0τ0²+Q)/2).
    """
    d = np.asarray(dev, dtype=float)
    return Gamma(a_tau + d.size / 2, b_tau + float(d @ d) / 2)


def cauchy_aux_precision(tau2: float, scale2: float) -> Gamma:
    """:math:`1/a \\mid \\tau^2` for the half-Cauchy(0, A) prior on :math:`\\tau`
    (:class:`hierlib.priors.HalfCauchy`), written as the mixture
    :math:`\\tau^2 \\mid a \\sim \\text{Inv-Gamma}(1/2, 1/a)`,
    :math:`a \\sim \\text{Inv-Gamma}(1/2, 1/A^2)`.

    As a function of :math:`a`,

    .. math::
        p(a \\mid \\tau^2) \\propto
        \\underbrace{a^{-1/2} e^{-1/(a\\tau^2)}}_{p(\\tau^2 \\mid a)}\\,
        \\underbrace{a^{-3/2} e^{-1/(aA^2)}}_{p(a)}
        = a^{-2} e^{-(1/A^2 + 1/\\tau^2)/a},

    an :math:`\\text{Inv-Gamma}(1, 1/A^2 + 1/\\tau^2)`: the precision :math:`1/a` is
    :math:`\\text{Gamma}(1,\\ 1/A^2 + 1/\\tau^2)` (shape, rate). Given :math:`a`, the prior on
    the precision :math:`1/\\tau^2` is :math:`\\text{Gamma}(1/2, 1/a)`, so :func:`tau_precision`
    applies with :math:`a_\\tau = 1/2`, :math:`b_\\tau = 1/a`.
    """
    return Gamma(1.0, 1.0 / scale2 + 1.0 / tau2)


def delta_offset(s: GroupStats, mu: float, sigma2: float, tau2: float) -> Normal:
    """:math:`\\delta_j \\mid \\mu, \\sigma^2, \\tau^2, Y` in the offset (mixed-effects) form
    :math:`Y_{ij} = \\mu + \\delta_j + \\varepsilon_{ij}`, :math:`\\delta_j \\sim N(0,\\tau^2)`.

    .. math::
        e^{-\\frac{n_j}{2\\sigma^2}(\\bar y_j-\\mu-\\delta_j)^2 - \\frac{\\delta_j^2}{2\\tau^2}}
        \\propto N\\Big(\\frac{n_j(\\bar y_j-\\mu)/\\sigma^2}{n_j/\\sigma^2+1/\\tau^2},
                       \\frac{1}{n_j/\\sigma^2+1/\\tau^2}\\Big).
    """
    require_stats(s, "s")
    prec = s.n / sigma2 + 1.0 / tau2
    return Normal(s.n * (s.ybar - mu) / sigma2 / prec, 1.0 / prec)


def mu_offset(
    s: GroupStats, delta: ArrayLike, sigma2: float, mu0: float = 0.0, mu_prec0: float = 0.0
) -> Normal:
    """:math:`\\mu \\mid \\delta, \\sigma^2, Y` in the offset form (involves the data, not
    :math:`\\tau^2`).

    .. math::
        e^{-\\frac{p_0}{2}(\\mu-\\mu_0)^2}\\prod_j e^{-\\frac{n_j}{2\\sigma^2}
        (\\bar y_j-\\delta_j-\\mu)^2}
        = N\\Big(\\frac{\\sum_j n_j(\\bar y_j-\\delta_j)/\\sigma^2 + p_0\\mu_0}{n/\\sigma^2+p_0},
                 \\frac{1}{n/\\sigma^2+p_0}\\Big).

    When the data are informative, :math:`\\mu` and :math:`\\delta` are strongly (negatively)
    correlated a posteriori and this Gibbs step moves slowly: the lecture's "very poor mixing".
    """
    require_stats(s, "s")
    d = np.asarray(delta, dtype=float)
    prec = s.n_total / sigma2 + mu_prec0
    return Normal((float(s.n @ (s.ybar - d)) / sigma2 + mu_prec0 * mu0) / prec, 1.0 / prec)


def log_joint(
    y: ArrayLike,
    groups: ArrayLike,
    theta: ArrayLike,
    mu: float,
    sigma2: float,
    tau2: float,
    prior,
    parameterization: str = "centered",
) -> float:
    """Log joint density of model 1 from the raw data, with ``scipy.stats`` densities.

    ``centered``: :math:`\\log p(y\\mid\\theta,\\sigma^2) + \\log p(\\theta\\mid\\mu,\\tau^2) +
    \\log p(\\mu,\\sigma^2,\\tau^2)`. ``offset``: ``theta`` holds :math:`\\delta` and the density
    is :math:`\\log p(y\\mid\\mu+\\delta,\\sigma^2) + \\log p(\\delta\\mid\\tau^2)
    + \\log p(\\cdot)`.
    Up to a constant for the improper default prior. Groups are matched to ``theta`` in sorted
    label order (as :func:`hierlib.data.group_stats`).
    """
    from scipy import stats  # lazy: the samplers do not need scipy

    y = np.asarray(y, dtype=float)
    labels, idx = np.unique(np.asarray(groups), return_inverse=True)
    th = np.asarray(theta, dtype=float)
    if parameterization == "centered":
        means = th[idx]
        lp_group = stats.norm.logpdf(th, mu, math.sqrt(tau2)).sum()
    elif parameterization == "offset":
        means = mu + th[idx]
        lp_group = stats.norm.logpdf(th, 0.0, math.sqrt(tau2)).sum()
    else:
        raise ValueError(
            f"parameterization must be 'centered' or 'offset'; got {parameterization!r}"
        )
    lp_y = stats.norm.logpdf(y, means, math.sqrt(sigma2)).sum()
    return float(lp_y + lp_group + prior.logpdf(mu=mu, sigma2=sigma2, tau2=tau2))


# ----------------------------------------------------------------------------- model 2
def theta_unequal(s: GroupStats, mu: float, sigma2_j: ArrayLike, tau2: float) -> Normal:
    """:math:`\\theta_j \\mid \\mu, \\sigma_j^2, \\tau^2, Y` with unequal variances: as
    :func:`theta_centered` with :math:`\\sigma^2` replaced by :math:`\\sigma_j^2`.

    .. math::
        N\\Big(\\frac{n_j\\bar y_j/\\sigma_j^2 + \\mu/\\tau^2}{n_j/\\sigma_j^2+1/\\tau^2},
               \\frac{1}{n_j/\\sigma_j^2+1/\\tau^2}\\Big)
    """
    require_stats(s, "s")
    s2 = np.asarray(sigma2_j, dtype=float)
    prec = s.n / s2 + 1.0 / tau2
    return Normal((s.n * s.ybar / s2 + mu / tau2) / prec, 1.0 / prec)


def sigma_j_precision(s: GroupStats, theta: ArrayLike, nu0: float, sigma02: float) -> Gamma:
    """:math:`1/\\sigma_j^2 \\mid \\theta_j, \\nu_0, \\sigma_0^2, Y` (independent over j).

    With :math:`\\phi_j = 1/\\sigma_j^2`: prior :math:`\\phi_j^{\\nu_0/2-1}
    e^{-\\phi_j\\nu_0\\sigma_0^2/2}` times likelihood :math:`\\phi_j^{n_j/2}
    e^{-\\phi_j S_j/2}`, :math:`S_j = SS_j + n_j(\\bar y_j-\\theta_j)^2`:

    .. math::
        \\phi_j \\mid \\cdot \\sim
        \\text{Gamma}\\big((\\nu_0+n_j)/2,\\ (\\nu_0\\sigma_0^2+S_j)/2\\big)

    (the slides drop the 1/2 of the rate).
    """
    require_stats(s, "s")
    th = np.asarray(theta, dtype=float)
    return Gamma((nu0 + s.n) / 2, (nu0 * sigma02 + s.ss + s.n * (s.ybar - th) ** 2) / 2)


def sigma02_conditional(
    sigma2_j: ArrayLike, nu0: float, a_s0: float = 0.0, b_s0: float = 0.0
) -> Gamma:
    """:math:`\\sigma_0^2 \\mid \\sigma_j^2, \\nu_0` -- a Gamma law of :math:`\\sigma_0^2`
    itself (not of its inverse).

    Prior :math:`p(\\sigma_0^2) \\propto (\\sigma_0^2)^{a_{s0}-1}e^{-b_{s0}\\sigma_0^2}`
    (Gamma(a/2, rate b/2): :math:`a_{s0}=a/2, b_{s0}=b/2`; :math:`1/\\sigma_0^2`:
    :math:`a_{s0}=b_{s0}=0`). Each :math:`\\phi_j=1/\\sigma_j^2` contributes
    :math:`(\\nu_0\\sigma_0^2/2)^{\\nu_0/2}e^{-\\phi_j\\nu_0\\sigma_0^2/2}`, so

    .. math::
        \\sigma_0^2 \\mid \\cdot \\sim \\text{Gamma}\\Big(a_{s0} + \\frac{m\\nu_0}{2},\\
        b_{s0} + \\frac{\\nu_0}{2}\\sum_j \\frac{1}{\\sigma_j^2}\\Big)
        = \\text{Gamma}\\Big(\\frac{a + m\\nu_0}{2},
        \\frac{b + \\nu_0\\sum_j 1/\\sigma_j^2}{2}\\Big)

    (the slides drop the 1/2 and the factor :math:`\\nu_0`).
    """
    s2 = np.asarray(sigma2_j, dtype=float)
    return Gamma(a_s0 + s2.size * nu0 / 2, b_s0 + nu0 * float(np.sum(1.0 / s2)) / 2)


def nu0_logpdf(
    nu0: ArrayLike,
    sigma2_j: ArrayLike,
    sigma02: float,
    nu0_shape: float = 2.0,
    nu0_rate: float = 0.5,
) -> FloatArray:
    """Unnormalised :math:`\\log p(\\nu_0 \\mid \\sigma_j^2, \\sigma_0^2)` (no closed form).

    With :math:`\\phi_j = 1/\\sigma_j^2`, prior :math:`\\nu_0 \\sim \\text{Gamma}(k, r)`:

    .. math::
        \\log p(\\nu_0\\mid\\cdot) = (k-1)\\log\\nu_0 - r\\nu_0
        + \\frac{m\\nu_0}{2}\\log\\frac{\\nu_0\\sigma_0^2}{2} - m\\log\\Gamma(\\nu_0/2)
        + \\frac{\\nu_0}{2}\\sum_j\\log\\phi_j - \\frac{\\nu_0\\sigma_0^2}{2}\\sum_j\\phi_j
        + \\text{const}.

    It depends on the :math:`\\sigma_j^2` only through :math:`\\sum\\log\\phi_j` and
    :math:`\\sum\\phi_j`, so each evaluation is O(1); the sampler draws :math:`\\nu_0` from it
    exactly by slice sampling on :math:`\\log\\nu_0` (Neal 2003; density times the Jacobian
    :math:`\\nu_0`), which leaves this conditional invariant.
    """
    from scipy import special  # lazy: the samplers do not need scipy

    v = np.asarray(nu0, dtype=float)
    phi = 1.0 / np.asarray(sigma2_j, dtype=float)
    m = phi.size
    return (
        (nu0_shape - 1) * np.log(v)
        - nu0_rate * v
        + m * v / 2 * np.log(v * sigma02 / 2)
        - m * special.gammaln(v / 2)
        + v / 2 * np.log(phi).sum()
        - v * sigma02 / 2 * phi.sum()
    )


def log_joint_unequal(
    y: ArrayLike,
    groups: ArrayLike,
    theta: ArrayLike,
    sigma2_j: ArrayLike,
    mu: float,
    tau2: float,
    sigma02: float,
    nu0: float,
    prior,
) -> float:
    """Log joint density of model 2 from the raw data, with ``scipy.stats`` densities:
    :math:`\\log p(y\\mid\\theta,\\sigma_j^2) + \\log p(\\theta\\mid\\mu,\\tau^2) +
    \\sum_j\\log p(\\sigma_j^2\\mid\\nu_0,\\sigma_0^2) + \\log p(\\mu,\\tau^2,\\sigma_0^2,\\nu_0)`,
    each :math:`\\sigma_j^2` an inverse gamma :math:`(\\nu_0/2, \\nu_0\\sigma_0^2/2)`."""
    from scipy import stats  # lazy: the samplers do not need scipy

    y = np.asarray(y, dtype=float)
    _, idx = np.unique(np.asarray(groups), return_inverse=True)
    th = np.asarray(theta, dtype=float)
    s2 = np.asarray(sigma2_j, dtype=float)
    return float(
        stats.norm.logpdf(y, th[idx], np.sqrt(s2[idx])).sum()
        + stats.norm.logpdf(th, mu, math.sqrt(tau2)).sum()
        + stats.invgamma.logpdf(s2, nu0 / 2, scale=nu0 * sigma02 / 2).sum()
        + prior.logpdf(mu=mu, tau2=tau2, sigma02=sigma02, nu0=nu0)
    )


# ------------------------------------------------------------------------- the mixed model
# y_j = X_j beta + Z_j b_j + e_j, b_j ~ N_q(0, Sigma), e_j ~ N(0, sigma2 I), on the per-group
# cross-products of hierlib.data.MixedStats. Notation: A_j = Z_j'Z_j, C_j = X_j'Z_j,
# M_j = A_j + sigma2 Sigma^{-1}; the prior's terms are (beta0, P0) for beta (P0 = 0: flat),
# Gamma pseudo-counts (a, b) on 1/sigma2 and the inverse-Wishart kernel (nu, S) of Sigma
# (hierlib.priors.MixedDefault: P0 = 0, a = b = 0, nu = -(q + 1), S = 0).
@dataclass(frozen=True)
class MultivariateNormal:
    """A multivariate normal :math:`N(\\text{mean}, \\text{cov})`."""

    mean: FloatArray
    cov: FloatArray

    def logpdf(self, x: ArrayLike) -> float | FloatArray:
        """Normalised log density at ``x`` (one point, or one per row)."""
        from scipy import stats  # lazy: the samplers do not need scipy

        return stats.multivariate_normal.logpdf(x, self.mean, self.cov)


def _mixed_prior(prior) -> MixedDefault | MixedProper:
    """``prior``, with ``None`` meaning :class:`hierlib.priors.MixedDefault`."""
    if prior is None:
        return MixedDefault()
    if not isinstance(prior, MixedDefault | MixedProper):
        raise TypeError(
            f"prior must be None, priors.MixedDefault or priors.MixedProper; got "
            f"{type(prior).__name__}"
        )
    return prior


def _normal_from_precision(precision: FloatArray, rhs: FloatArray) -> MultivariateNormal:
    """:math:`N(P^{-1}r, P^{-1})` from the precision :math:`P` and :math:`r = P \\times` mean."""
    cov = np.linalg.inv(precision)
    cov = (cov + cov.T) / 2
    return MultivariateNormal(cov @ rhs, cov)


def b_mixed(
    ztz: ArrayLike, zt_resid: ArrayLike, sigma2: float, cov_re: ArrayLike
) -> MultivariateNormal:
    """:math:`b_j \\mid \\beta, \\sigma^2, \\Sigma, y` (independent over the groups), from
    ``ztz`` :math:`= Z_j^\\top Z_j` and ``zt_resid`` :math:`= Z_j^\\top(y_j - X_j\\beta)
    = Z_j^\\top y_j - C_j^\\top\\beta`.

    .. math::
        e^{-\\frac{1}{2\\sigma^2}\\lVert r_j - Z_j b\\rVert^2 - \\frac12 b^\\top\\Sigma^{-1}b}
        \\propto e^{-\\frac{1}{2\\sigma^2}(b^\\top M_j b - 2 b^\\top Z_j^\\top r_j)}
        \\ \\Rightarrow\\ N\\big(M_j^{-1} Z_j^\\top r_j,\\ \\sigma^2 M_j^{-1}\\big),
        \\quad M_j = Z_j^\\top Z_j + \\sigma^2\\Sigma^{-1}.
    """
    a = np.atleast_2d(np.asarray(ztz, dtype=float))
    m_j = a + sigma2 * np.linalg.inv(np.atleast_2d(np.asarray(cov_re, dtype=float)))
    return _normal_from_precision(m_j / sigma2, np.asarray(zt_resid, dtype=float) / sigma2)


def _m_solves(stats: MixedStats, sigma2: float, cov_re: ArrayLike):
    """:math:`M_j^{-1}C_j^\\top` (m, q, p) and :math:`M_j^{-1}Z_j^\\top y_j` (m, q)."""
    m_j = stats.ztz + sigma2 * np.linalg.inv(np.asarray(cov_re, dtype=float))
    w = np.linalg.solve(m_j, np.swapaxes(stats.xtz, 1, 2))
    u = np.linalg.solve(m_j, stats.zty[:, :, None])[:, :, 0]
    return w, u


def beta_mixed(stats: MixedStats, sigma2: float, cov_re: ArrayLike, prior=None):
    """:math:`\\beta \\mid \\Sigma, \\sigma^2, y` with every :math:`b_j` integrated out
    (:math:`y_j \\sim N(X_j\\beta, V_j)`, :math:`V_j = \\sigma^2 I + Z_j\\Sigma Z_j^\\top`),
    by Woodbury on the cross-products: :math:`V_j^{-1} = (I - Z_j M_j^{-1}Z_j^\\top)/\\sigma^2`,

    .. math::
        \\beta \\mid \\cdot \\sim N(P^{-1}r, P^{-1}), \\quad
        P = \\tfrac{1}{\\sigma^2}\\textstyle\\sum_j (X_j^\\top X_j - C_j M_j^{-1}C_j^\\top) + P_0,
        \\quad r = \\tfrac{1}{\\sigma^2}\\sum_j (X_j^\\top y_j - C_j M_j^{-1}Z_j^\\top y_j)
        + P_0\\beta_0 .
    """
    stats = require_mixed_stats(stats)
    beta0, p0 = _mixed_prior(prior).beta_terms(stats.p)
    w, u = _m_solves(stats, sigma2, cov_re)
    g = np.sum(stats.xtx - stats.xtz @ w, axis=0)
    h = np.sum(stats.xty - (stats.xtz @ u[:, :, None])[:, :, 0], axis=0)
    return _normal_from_precision(g / sigma2 + p0, h / sigma2 + p0 @ beta0)


def beta_given_b(stats: MixedStats, b: ArrayLike, sigma2: float, prior=None):
    """:math:`\\beta \\mid b, \\sigma^2, y` (the regression of :math:`y_j - Z_j b_j` on
    :math:`X_j`):

    .. math::
        N(P^{-1}r, P^{-1}), \\quad P = \\tfrac{1}{\\sigma^2}\\textstyle\\sum_j X_j^\\top X_j + P_0,
        \\quad r = \\tfrac{1}{\\sigma^2}\\sum_j (X_j^\\top y_j - C_j b_j) + P_0\\beta_0 .
    """
    stats = require_mixed_stats(stats)
    beta0, p0 = _mixed_prior(prior).beta_terms(stats.p)
    bb = np.asarray(b, dtype=float).reshape(stats.m, stats.q)
    rhs = np.sum(stats.xty - (stats.xtz @ bb[:, :, None])[:, :, 0], axis=0)
    return _normal_from_precision(stats.xtx.sum(axis=0) / sigma2 + p0, rhs / sigma2 + p0 @ beta0)


def residual_ss(stats: MixedStats, beta: ArrayLike, b: ArrayLike) -> float:
    """:math:`\\sum_j \\lVert y_j - X_j\\beta - Z_j b_j\\rVert^2` from the cross-products
    (:class:`hierlib.data.MixedStats` expands it)."""
    stats = require_mixed_stats(stats)
    be = np.asarray(beta, dtype=float)
    bb = np.asarray(b, dtype=float).reshape(stats.m, stats.q)
    xtx = stats.xtx.sum(axis=0)
    fixed = stats.yty.sum() - 2 * be @ stats.xty.sum(axis=0) + be @ xtx @ be
    zr = stats.zty - np.einsum("jpq,p->jq", stats.xtz, be)  # Z_j'(y_j - X_j beta)
    return float(fixed - 2 * np.sum(bb * zr) + np.einsum("jq,jqr,jr->", bb, stats.ztz, bb))


def sigma2_mixed(stats: MixedStats, beta: ArrayLike, b: ArrayLike, prior=None) -> Gamma:
    """:math:`1/\\sigma^2 \\mid \\beta, b, y`: with :math:`\\lambda = 1/\\sigma^2`,
    :math:`\\lambda^{a-1}e^{-b\\lambda}\\,\\lambda^{n/2}e^{-\\lambda R/2}`,
    :math:`R = \\sum_j\\lVert y_j - X_j\\beta - Z_j b_j\\rVert^2`, so

    .. math::
        \\lambda \\mid \\cdot \\sim \\text{Gamma}(a + n/2,\\ b + R/2)

    (default prior: Gamma(n/2, R/2); use ``.logpdf_of_inverse`` for :math:`\\sigma^2`).
    """
    a, rate = _mixed_prior(prior).sigma_terms()
    return Gamma(a + require_mixed_stats(stats).n_total / 2, rate + residual_ss(stats, beta, b) / 2)


def cov_re_mixed(b: ArrayLike, prior=None) -> InverseWishart:
    """:math:`\\Sigma \\mid b` (``b`` of shape (m, q)): the prior kernel
    :math:`|\\Sigma|^{-(\\nu+q+1)/2}e^{-\\operatorname{tr}(S\\Sigma^{-1})/2}` times
    :math:`\\prod_j |\\Sigma|^{-1/2}e^{-b_j^\\top\\Sigma^{-1}b_j/2}` is

    .. math::
        \\Sigma \\mid b \\sim \\text{IW}\\big(\\nu + m,\\ S + \\textstyle\\sum_j b_j b_j^\\top\\big)

    (default prior, flat: :math:`\\text{IW}(m - q - 1, \\sum_j b_j b_j^\\top)`, a
    distribution only for :math:`m > 2q`).
    """
    bb = np.atleast_2d(np.asarray(b, dtype=float))
    m, q = bb.shape
    nu, scale = _mixed_prior(prior).cov_terms(q)
    return InverseWishart(nu + m, scale + bb.T @ bb)


def log_joint_mixed(
    stats: MixedStats, beta: ArrayLike, b: ArrayLike, sigma2: float, cov_re: ArrayLike, prior=None
) -> float:
    """Log joint density of the mixed model (up to a constant for an improper prior):
    :math:`\\log p(y \\mid \\beta, b, \\sigma^2) + \\sum_j \\log N(b_j; 0, \\Sigma)
    + \\log p(\\beta, \\sigma^2, \\Sigma)`, the likelihood
    :math:`-\\frac n2\\log(2\\pi\\sigma^2) - R/(2\\sigma^2)` from the cross-products
    (:func:`residual_ss`) and the rest with scipy densities."""
    from scipy import stats as sps  # lazy: the samplers do not need scipy

    stats = require_mixed_stats(stats)
    bb = np.asarray(b, dtype=float).reshape(stats.m, stats.q)
    r = residual_ss(stats, beta, bb)
    loglik = -0.5 * stats.n_total * math.log(2 * math.pi * sigma2) - r / (2 * sigma2)
    lp_b = np.sum(sps.multivariate_normal.logpdf(bb, np.zeros(stats.q), cov_re))
    return float(loglik + lp_b + _mixed_prior(prior).logpdf(beta, sigma2, cov_re))


__all__ = [
    "Gamma",
    "MultivariateNormal",
    "b_mixed",
    "beta_given_b",
    "beta_mixed",
    "cov_re_mixed",
    "log_joint_mixed",
    "residual_ss",
    "sigma2_mixed",
    "cauchy_aux_precision",
    "Normal",
    "delta_offset",
    "log_joint",
    "log_joint_unequal",
    "mu_centered",
    "mu_offset",
    "nu0_logpdf",
    "sigma02_conditional",
    "sigma_j_precision",
    "sigma_precision",
    "theta_centered",
    "theta_unequal",
    "tau_precision",
]
