"""Priors for the hierarchical normal models (lecture: "Bayesian hierarchical model").

Model 1 (equal variances): :math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`,
:math:`\\theta_j \\sim N(\\mu, \\tau^2)`, with a prior on :math:`(\\mu, \\sigma^2, \\tau^2)`:

- :class:`Default` -- the lecture's :math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2`
  (flat on :math:`\\mu` and on :math:`\\tau^2`). Improper, but the posterior is proper when
  there are at least 4 groups and some within-group spread.
- ``Default(tau2="uniform-tau")`` -- :math:`p(\\tau) \\propto 1`, i.e.
  :math:`p(\\tau^2) \\propto 1/\\tau` (BDA 5.7); proper posterior from 3 groups.
- :class:`HalfCauchy` -- :math:`\\tau \\sim` half-Cauchy(0, A) (Gelman 2006), flat
  :math:`\\mu`, :math:`p(\\sigma^2) \\propto 1/\\sigma^2`; sampled through an inverse-gamma
  mixture with an auxiliary variable.
- :class:`SemiConjugate` -- Hoff (2009, ch. 8): :math:`\\mu \\sim N(\\mu_0, \\gamma_0^2)`,
  :math:`1/\\tau^2 \\sim \\text{Gamma}(\\eta_0/2, \\eta_0\\tau_0^2/2)`,
  :math:`1/\\sigma^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` (rate parameterisation).

Model 2 (unequal variances): :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)`,
:math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)`, with the prior
:class:`UnequalVariances` on :math:`(\\mu, \\tau^2, \\sigma_0^2, \\nu_0)`.

The mixed model (:func:`hierlib.gibbs.mixed_model`): :math:`y_j = X_j\\beta + Z_j b_j + e_j`,
:math:`b_j \\sim N_q(0, \\Sigma)`, with :class:`MixedDefault` (flat :math:`\\beta` and
:math:`\\Sigma`, :math:`1/\\sigma^2`) or :class:`MixedProper` (normal, inverse gamma and
:class:`InverseWishart`).

Every prior is described to the samplers as "Gamma pseudo-counts" on the precisions, so one
sampler serves every prior: a prior :math:`p(\\lambda) \\propto \\lambda^{a-1} e^{-b\\lambda}`
on a precision :math:`\\lambda` (``a`` may be 0 or -1 for the improper choices; the flat prior
on a variance :math:`v = 1/\\lambda` is :math:`p(\\lambda) \\propto \\lambda^{-2}`, i.e. ``a=-1``,
``b=0``, and :math:`p(v) \\propto 1/v` is ``a=0``, ``b=0``).

Every ``logpdf`` follows one rule: its arguments must be finite real numbers (NaN or an
infinity is a ``ValueError`` naming the argument), and a value outside the prior's support
(a variance :math:`\\le 0` where the density needs it positive, :math:`\\tau^2 < 0`,
:math:`\\nu_0 \\le 0`) has log density ``-inf``, as scipy's densities give.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import finite_scalar, positive, spd_matrix

_REFERENCE_TAU2_MESSAGE = (
    "the reference prior p(tau2) ∝ 1/tau2 gives an improper posterior: near tau2 = 0 the "
    "likelihood of the group means tends to a positive constant (all theta_j equal to mu fits "
    "the data), so the posterior behaves like 1/tau2 there and its integral diverges. Use the "
    "lecture's flat prior p(tau2) ∝ 1 (priors.Default()) or a proper inverse-gamma prior "
    "(priors.SemiConjugate)"
)


_SCALE_RANGE = (1e-150, 1e150)
"""Half-Cauchy scales :math:`A` whose square the samplers can use (:attr:`HalfCauchy.scale2`)."""

_TAU2_EXPONENT = {"flat": -1.0, "uniform-tau": -0.5}
"""Gamma pseudo-count ``a_tau`` on the precision 1/tau2 of each improper choice."""


def _logpdf_arguments(**values: float) -> list[float]:
    """The arguments of a ``logpdf`` as floats, in order; ``ValueError`` naming the first
    that is NaN, infinite or not a number (the rule of the module docstring)."""
    return [finite_scalar(v, name) for name, v in values.items()]


def _improper(name: str) -> ValueError:
    return ValueError(
        f"{name} is improper: it has no draws to give (use a proper prior such as "
        "priors.SemiConjugate or a fully specified priors.UnequalVariances for simulation)"
    )


def _require_groups(m: int, minimum: int, what: str, why: str = "") -> None:
    if m < minimum:
        raise ValueError(f"{what} needs at least {minimum} groups{why}; got {m}")


def _check_hyperparameters(prior, pairs: tuple[tuple[str, str], ...] | None = None) -> None:
    """Check a prior's hyperparameters, once for every prior class, and store them as floats:
    ``mu0``, a location, must be a finite number; ``g20``, ``eta0``, ``t20``, ``nu0``, ``s20``,
    ``a`` and ``b``, scales and prior counts, positive numbers (``ValueError`` naming the
    first that is not). With ``pairs`` they are optional: each pair is given together or not
    at all ("give both ..., or neither"), and one left out stays ``None``; without, every one
    the prior has is required."""
    for first, second in pairs or ():
        if (getattr(prior, first) is None) != (getattr(prior, second) is None):
            raise ValueError(f"give both {first} and {second}, or neither")
    for name in ("mu0", "g20", "eta0", "t20", "nu0", "s20", "a", "b"):
        if not hasattr(prior, name) or (pairs is not None and getattr(prior, name) is None):
            continue
        check = finite_scalar if name == "mu0" else positive
        object.__setattr__(prior, name, check(getattr(prior, name), name))


@dataclass(frozen=True)
class Default:
    """The lecture's default prior :math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2`.

    Flat on :math:`\\mu` and on :math:`\\tau^2`, and :math:`1/\\sigma^2` on :math:`\\sigma^2`.
    Integrating out :math:`\\theta` and :math:`\\mu`, the marginal posterior of :math:`\\tau`
    falls like :math:`\\tau^{2-m}` for large :math:`\\tau` under this prior, so it is proper
    only for :math:`m \\ge 4` groups (checked by the samplers).

    ``Default(tau2="uniform-tau")`` is BDA's (section 5.7) :math:`p(\\tau) \\propto 1`, i.e.
    :math:`p(\\tau^2) \\propto (\\tau^2)^{-1/2}`; on the precision :math:`\\lambda = 1/\\tau^2`
    (:math:`|d\\tau^2/d\\lambda| = \\lambda^{-2}`) that is
    :math:`p(\\lambda) \\propto \\lambda^{1/2}\\lambda^{-2} = \\lambda^{-3/2}`: Gamma pseudo-counts
    :math:`a_\\tau = -1/2, b_\\tau = 0`. The marginal posterior of :math:`\\tau` then falls like
    :math:`\\tau^{1-m}`, so it is proper for :math:`m \\ge 3` groups.

    Parameters
    ----------
    tau2 : {"flat", "uniform-tau", "reference"}
        ``"flat"`` (the lecture's :math:`p(\\tau^2) \\propto 1`), ``"uniform-tau"``
        (:math:`p(\\tau) \\propto 1`). ``"reference"``
        (:math:`p(\\tau^2) \\propto 1/\\tau^2`) is refused with a ``ValueError``: it makes the
        posterior improper (the lecture says so).
    """

    tau2: Literal["flat", "uniform-tau", "reference"] = "flat"

    def __post_init__(self) -> None:
        if self.tau2 == "reference":
            raise ValueError(_REFERENCE_TAU2_MESSAGE)
        if self.tau2 not in _TAU2_EXPONENT:
            raise ValueError(
                f"tau2 must be 'flat' or 'uniform-tau' (or 'reference', refused); got {self.tau2!r}"
            )

    proper = False

    def hyper(self) -> tuple[float, float, float, float, float, float]:
        """``(mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma)``: the prior as Gamma pseudo-counts
        on :math:`1/\\tau^2` and :math:`1/\\sigma^2` (``mu_prec0 = 0`` means flat on mu)."""
        return (0.0, 0.0, _TAU2_EXPONENT[self.tau2], 0.0, 0.0, 0.0)

    def check_data(self, m: int, n_total: int, ss_total: float) -> None:
        """Raise ``ValueError`` where the posterior would be improper."""
        if self.tau2 == "flat":
            _require_groups(
                m,
                4,
                "the default prior (flat on tau2: the posterior of tau falls like tau^(2-m))",
                " for a proper posterior",
            )
        else:
            _require_groups(
                m,
                3,
                "p(tau) ∝ 1 (the posterior of tau falls like tau^(1-m))",
                " for a proper posterior",
            )
        if n_total <= m or ss_total <= 0:
            raise ValueError(
                "the default prior p(sigma2) ∝ 1/sigma2 needs within-group spread: at least one "
                "group with two different values"
            )

    def sample(self, rng: np.random.Generator, m: int | None = None) -> dict:
        """Refused: an improper prior has no draws."""
        raise _improper("priors.Default")

    def logpdf(self, mu: float, sigma2: float, tau2: float) -> float:
        """Log prior density up to a constant: :math:`-\\log\\sigma^2` (flat on
        :math:`\\tau^2`), minus :math:`\\tfrac12\\log\\tau^2` for ``"uniform-tau"``, on its
        support (:math:`\\sigma^2 > 0`, :math:`\\tau^2 \\ge 0`), ``-inf`` outside it (as the
        scipy densities of the proper priors); ``ValueError`` for NaN or infinite arguments."""
        finite_scalar(mu, "mu")
        s2, t2 = finite_scalar(sigma2, "sigma2"), finite_scalar(tau2, "tau2")
        if s2 <= 0 or t2 < 0:
            return -np.inf
        if self.tau2 == "flat":
            return -float(np.log(s2))
        return np.inf if t2 == 0 else -float(np.log(s2)) - 0.5 * float(np.log(t2))


@dataclass(frozen=True)
class SemiConjugate:
    """Hoff's semi-conjugate prior (Hoff 2009, section 8.3).

    .. math::
        \\mu \\sim N(\\mu_0, \\gamma_0^2), \\quad
        1/\\tau^2 \\sim \\text{Gamma}(\\eta_0/2,\\ \\eta_0\\tau_0^2/2), \\quad
        1/\\sigma^2 \\sim \\text{Gamma}(\\nu_0/2,\\ \\nu_0\\sigma_0^2/2)

    (Gamma with shape and **rate**.) Hoff's ELS example uses
    ``SemiConjugate(mu0=50, g20=25, eta0=1, t20=100, nu0=1, s20=100)``.

    Parameters
    ----------
    mu0, g20 : float
        Prior mean and variance of :math:`\\mu` (``g20 > 0``).
    eta0, t20 : float
        Prior "sample size" and prior guess of :math:`\\tau^2` (both > 0).
    nu0, s20 : float
        Prior "sample size" and prior guess of :math:`\\sigma^2` (both > 0).
    """

    mu0: float
    g20: float
    eta0: float
    t20: float
    nu0: float
    s20: float

    def __post_init__(self) -> None:
        _check_hyperparameters(self)

    proper = True

    def hyper(self) -> tuple[float, float, float, float, float, float]:
        """``(mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma)`` (see :meth:`Default.hyper`)."""
        return (
            self.mu0,
            1.0 / self.g20,
            self.eta0 / 2,
            self.eta0 * self.t20 / 2,
            self.nu0 / 2,
            self.nu0 * self.s20 / 2,
        )

    def check_data(self, m: int, n_total: int, ss_total: float) -> None:
        """A proper prior gives a proper posterior; only two groups are asked for."""
        _require_groups(m, 2, "a hierarchical model")

    def sample(self, rng: np.random.Generator, m: int | None = None) -> dict:
        """One draw of ``mu``, ``tau2``, ``sigma2`` (and ``theta`` of length ``m`` if given)."""
        out = {
            "mu": self.mu0 + np.sqrt(self.g20) * rng.standard_normal(),
            "tau2": 1.0 / (rng.standard_gamma(self.eta0 / 2) / (self.eta0 * self.t20 / 2)),
            "sigma2": 1.0 / (rng.standard_gamma(self.nu0 / 2) / (self.nu0 * self.s20 / 2)),
        }
        if m is not None:
            out["theta"] = out["mu"] + np.sqrt(out["tau2"]) * rng.standard_normal(m)
        return out

    def logpdf(self, mu: float, sigma2: float, tau2: float) -> float:
        """Log prior density of :math:`(\\mu, \\sigma^2, \\tau^2)` (normalised; scipy);
        ``-inf`` unless :math:`\\sigma^2, \\tau^2 > 0`, ``ValueError`` for NaN or infinite
        arguments."""
        from scipy import stats

        mu, sigma2, tau2 = _logpdf_arguments(mu=mu, sigma2=sigma2, tau2=tau2)
        if sigma2 <= 0 or tau2 <= 0:
            return -np.inf
        return float(
            stats.norm.logpdf(mu, self.mu0, np.sqrt(self.g20))
            + stats.invgamma.logpdf(tau2, self.eta0 / 2, scale=self.eta0 * self.t20 / 2)
            + stats.invgamma.logpdf(sigma2, self.nu0 / 2, scale=self.nu0 * self.s20 / 2)
        )


@dataclass(frozen=True)
class HalfCauchy:
    """:math:`\\tau \\sim` half-Cauchy(0, A) (Gelman 2006), flat :math:`\\mu`,
    :math:`p(\\sigma^2) \\propto 1/\\sigma^2`.

    .. math::
        p(\\tau) = \\frac{2}{\\pi A\\,(1 + \\tau^2/A^2)}, \\qquad
        p(\\tau^2) = \\frac{p(\\tau)}{2\\tau} = \\frac{1}{\\pi A\\,\\tau\\,(1 + \\tau^2/A^2)} .

    Nearly flat on :math:`\\tau` up to about :math:`A`, with a tail that only slowly lets
    :math:`\\tau \\gg A`. Not conjugate, but a scale mixture of inverse gammas (Wand et al.
    2011; Makalic & Schmidt 2016) with an auxiliary variable :math:`a`:

    .. math::
        \\tau^2 \\mid a \\sim \\text{Inv-Gamma}(1/2,\\ 1/a), \\qquad
        a \\sim \\text{Inv-Gamma}(1/2,\\ 1/A^2),

    so that, given :math:`a`, the precision :math:`1/\\tau^2` has Gamma pseudo-counts
    :math:`a_\\tau = 1/2, b_\\tau = 1/a`, and the Gibbs sampler adds one conjugate step,
    :math:`1/a \\mid \\tau^2 \\sim \\text{Gamma}(1,\\ 1/A^2 + 1/\\tau^2)`
    (:func:`hierlib.conditionals.cauchy_aux_precision`).

    **Propriety.** The half-Cauchy is a proper prior on :math:`\\tau` and the likelihood with
    :math:`\\theta` and :math:`\\mu` integrated out is bounded in :math:`\\tau` (it tends to a
    finite limit at :math:`\\tau = 0` and decays for large :math:`\\tau`), so no condition on
    the number of groups is needed for :math:`\\tau` (one group would do); the improper
    :math:`1/\\sigma^2` needs within-group spread (some group with two different values).
    The samplers ask for two groups, as for every hierarchical model.

    Parameters
    ----------
    scale : float
        :math:`A > 0`, in the units of :math:`\\tau` (score points): the prior median of
        :math:`\\tau` is :math:`A`. The samplers use :math:`A^2` (:attr:`scale2`), so they
        take :math:`10^{-150} \\le A \\le 10^{150}`; :func:`hierlib.exact.marginal_tau2`
        takes any :math:`A` within 1e150 of the sd of ``y``.
    mu0, g20, nu0, s20 : float, optional
        A proper stand-in for simulation-based calibration (same :math:`\\tau` update):
        :math:`\\mu \\sim N(\\mu_0, \\gamma_0^2)` and
        :math:`1/\\sigma^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)`; give each pair
        or neither.
    """

    scale: float
    mu0: float | None = None
    g20: float | None = None
    nu0: float | None = None
    s20: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "scale", positive(self.scale, "scale"))
        _check_hyperparameters(self, pairs=(("mu0", "g20"), ("nu0", "s20")))

    @property
    def proper(self) -> bool:  # type: ignore[override]
        """True when the stand-in priors on mu and sigma2 are given."""
        return self.mu0 is not None and self.nu0 is not None

    @property
    def scale2(self) -> float:
        """:math:`A^2`, which the samplers use: ``ValueError`` unless
        :math:`10^{-150} \\le A \\le 10^{150}` (so that :math:`A^2` and :math:`1/A^2` are
        ordinary doubles; :func:`hierlib.exact.marginal_tau2` never squares :math:`A`)."""
        if not _SCALE_RANGE[0] <= self.scale <= _SCALE_RANGE[1]:
            raise ValueError(
                f"scale = {self.scale:g}: the samplers square the half-Cauchy scale A, which "
                "needs 1e-150 <= scale <= 1e150 (A^2 and 1/A^2 inside floating point); rescale "
                "y and scale by the same factor (tau scales with y) and transform back"
            )
        return self.scale**2

    def hyper(self) -> tuple[float, ...]:
        """``(mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma, A^2)`` (see :meth:`Default.hyper`);
        ``a_tau = 1/2`` and ``b_tau`` is replaced by the auxiliary :math:`1/a` in the sampler."""
        mu0, mu_prec0 = (0.0, 0.0) if self.mu0 is None else (self.mu0, 1.0 / self.g20)
        a_s, b_s = (0.0, 0.0) if self.nu0 is None else (self.nu0 / 2, self.nu0 * self.s20 / 2)
        return (mu0, mu_prec0, 0.5, 0.0, a_s, b_s, self.scale2)

    def check_data(self, m: int, n_total: int, ss_total: float) -> None:
        """Raise ``ValueError`` where the posterior would be improper."""
        _require_groups(m, 2, "a hierarchical model")
        if self.nu0 is None and (n_total <= m or ss_total <= 0):
            raise ValueError(
                "p(sigma2) ∝ 1/sigma2 needs within-group spread: at least one group with two "
                "different values"
            )

    def sample(self, rng: np.random.Generator, m: int | None = None) -> dict:
        """One draw of ``mu``, ``tau2``, ``sigma2`` (and ``theta``); proper stand-in only."""
        if not self.proper:
            raise _improper("priors.HalfCauchy without mu0, g20, nu0, s20")
        assert self.mu0 is not None and self.g20 is not None
        assert self.nu0 is not None and self.s20 is not None
        tau = self.scale * abs(rng.standard_cauchy())
        out = {
            "mu": self.mu0 + np.sqrt(self.g20) * rng.standard_normal(),
            "tau2": tau * tau,
            "sigma2": 1.0 / (rng.standard_gamma(self.nu0 / 2) / (self.nu0 * self.s20 / 2)),
        }
        if m is not None:
            out["theta"] = out["mu"] + tau * rng.standard_normal(m)
        return out

    def _logpdf_mu_sigma2(self, mu: float, sigma2: float) -> float:
        from scipy import stats

        mu, sigma2 = _logpdf_arguments(mu=mu, sigma2=sigma2)
        if sigma2 <= 0:
            return -np.inf
        lp = 0.0
        if self.mu0 is not None:
            lp += float(stats.norm.logpdf(mu, self.mu0, np.sqrt(self.g20)))
        if self.nu0 is None:
            lp -= float(np.log(sigma2))
        else:
            lp += float(stats.invgamma.logpdf(sigma2, self.nu0 / 2, scale=self.nu0 * self.s20 / 2))
        return lp

    def logpdf_tau2(self, tau2: float) -> float:
        """Normalised log density of :math:`\\tau^2`:
        :math:`-\\log(\\pi A \\tau (1+\\tau^2/A^2))` (``-inf`` below 0, ``inf`` at 0)."""
        t2 = finite_scalar(tau2, "tau2")
        if t2 <= 0:
            return np.inf if t2 == 0 else -np.inf
        return -float(np.log(np.pi * self.scale * np.sqrt(t2) * (1.0 + t2 / self.scale2)))

    def logpdf(self, mu: float, sigma2: float, tau2: float) -> float:
        """Log prior density of :math:`(\\mu, \\sigma^2, \\tau^2)` (up to a constant for the
        improper parts)."""
        return self._logpdf_mu_sigma2(mu, sigma2) + self.logpdf_tau2(tau2)

    def logpdf_augmented(self, mu: float, sigma2: float, tau2: float, a: float) -> float:
        """Log density of :math:`(\\mu, \\sigma^2, \\tau^2, a)` in the mixture form:
        :math:`\\text{Inv-Gamma}(\\tau^2; 1/2, 1/a)\\,\\text{Inv-Gamma}(a; 1/2, 1/A^2)`
        (``-inf`` unless :math:`\\sigma^2, \\tau^2, a > 0`)."""
        from scipy import stats

        tau2, a = _logpdf_arguments(tau2=tau2, a=a)
        if tau2 <= 0 or a <= 0:
            return -np.inf
        return (
            self._logpdf_mu_sigma2(mu, sigma2)
            + float(stats.invgamma.logpdf(tau2, 0.5, scale=1.0 / a))
            + float(stats.invgamma.logpdf(a, 0.5, scale=1.0 / self.scale2))
        )


@dataclass(frozen=True)
class UnequalVariances:
    """Prior of the unequal-variances model (lecture: "Model extension: unequal variances").

    .. math::
        1/\\sigma_j^2 \\mid \\nu_0, \\sigma_0^2 \\sim
        \\text{Gamma}(\\nu_0/2,\\ \\nu_0\\sigma_0^2/2),
        \\quad \\nu_0 \\sim \\text{Gamma}(\\text{nu0\\_shape}, \\text{rate nu0\\_rate}),

    :math:`\\sigma_0^2` with :math:`p(\\sigma_0^2) \\propto 1/\\sigma_0^2` (the lecture; ``a``
    and ``b`` left ``None``) or :math:`\\sigma_0^2 \\sim \\text{Gamma}(a/2, \\text{rate } b/2)`;
    :math:`\\mu` flat or :math:`N(\\mu_0, \\gamma_0^2)`; :math:`\\tau^2` flat or
    :math:`1/\\tau^2 \\sim \\text{Gamma}(\\eta_0/2, \\eta_0\\tau_0^2/2)`. The default,
    ``UnequalVariances()``, is the lecture's prior (improper). Give every hyperparameter for a
    proper prior (needed for simulation-based calibration), e.g.
    ``UnequalVariances(mu0=0, g20=1, eta0=2, t20=1, a=4, b=4)``.

    Parameters
    ----------
    mu0, g20 : float, optional
        Normal prior on :math:`\\mu`; both or neither (flat).
    eta0, t20 : float, optional
        Inverse-gamma prior on :math:`\\tau^2`; both or neither (flat on :math:`\\tau^2`).
    a, b : float, optional
        Gamma(a/2, rate b/2) prior on :math:`\\sigma_0^2`; both or neither
        (:math:`p(\\sigma_0^2) \\propto 1/\\sigma_0^2`).
    nu0_shape, nu0_rate : float
        Gamma prior on :math:`\\nu_0` (default Gamma(2, rate 1/2): prior mean 4).
    """

    mu0: float | None = None
    g20: float | None = None
    eta0: float | None = None
    t20: float | None = None
    a: float | None = None
    b: float | None = None
    nu0_shape: float = 2.0
    nu0_rate: float = 0.5

    def __post_init__(self) -> None:
        _check_hyperparameters(self, pairs=(("mu0", "g20"), ("eta0", "t20"), ("a", "b")))
        for name in ("nu0_shape", "nu0_rate"):
            object.__setattr__(self, name, positive(getattr(self, name), name))

    @property
    def proper(self) -> bool:  # type: ignore[override]
        """True when every hyperparameter is given."""
        return self.mu0 is not None and self.eta0 is not None and self.a is not None

    def hyper(self) -> tuple[float, ...]:
        """``(mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, nu0_shape, nu0_rate)``; the prior on
        :math:`\\sigma_0^2` is :math:`\\propto (\\sigma_0^2)^{a_{s0}-1} e^{-b_{s0}\\sigma_0^2}`."""
        mu0, mu_prec0 = (0.0, 0.0) if self.mu0 is None else (self.mu0, 1.0 / self.g20)
        a_tau, b_tau = (
            (-1.0, 0.0) if self.eta0 is None else (self.eta0 / 2, self.eta0 * self.t20 / 2)
        )
        a_s0, b_s0 = (0.0, 0.0) if self.a is None else (self.a / 2, self.b / 2)
        return (mu0, mu_prec0, a_tau, b_tau, a_s0, b_s0, self.nu0_shape, self.nu0_rate)

    def check_data(self, m: int, n_total: int, ss_total: float) -> None:
        """Raise ``ValueError`` where the posterior would be improper."""
        _require_groups(m, 2, "a hierarchical model")
        if self.eta0 is None:
            _require_groups(
                m,
                4,
                "a flat prior on tau2 (the posterior of tau falls like tau^(2-m))",
                " for a proper posterior",
            )

    def sample(self, rng: np.random.Generator, m: int | None = None) -> dict:
        """One prior draw of ``mu``, ``tau2``, ``sigma02``, ``nu0`` (and ``theta``, ``sigma2_j``
        of length ``m`` if given). Proper priors only."""
        if not self.proper:
            raise _improper("this priors.UnequalVariances (give mu0, g20, eta0, t20, a, b)")
        assert self.g20 is not None and self.t20 is not None and self.b is not None
        assert self.mu0 is not None and self.eta0 is not None and self.a is not None
        out = {
            "mu": self.mu0 + np.sqrt(self.g20) * rng.standard_normal(),
            "tau2": 1.0 / (rng.standard_gamma(self.eta0 / 2) / (self.eta0 * self.t20 / 2)),
            "sigma02": rng.standard_gamma(self.a / 2) / (self.b / 2),
            "nu0": rng.standard_gamma(self.nu0_shape) / self.nu0_rate,
        }
        if m is not None:
            out["theta"] = out["mu"] + np.sqrt(out["tau2"]) * rng.standard_normal(m)
            rate = out["nu0"] * out["sigma02"] / 2
            out["sigma2_j"] = rate / rng.standard_gamma(out["nu0"] / 2, size=m)
        return out

    def logpdf(self, mu: float, tau2: float, sigma02: float, nu0: float) -> float:
        """Log prior density of :math:`(\\mu, \\tau^2, \\sigma_0^2, \\nu_0)`, up to a constant
        for the improper parts (scipy densities for the proper parts); ``-inf`` outside the
        support (:math:`\\tau^2 < 0`, or :math:`\\le 0` under its inverse gamma;
        :math:`\\sigma_0^2 \\le 0`; :math:`\\nu_0 \\le 0`), ``ValueError`` for NaN or infinite
        arguments."""
        from scipy import stats

        values = _logpdf_arguments(mu=mu, tau2=tau2, sigma02=sigma02, nu0=nu0)
        mu, tau2, sigma02, nu0 = values
        if tau2 < 0 or (tau2 == 0 and self.eta0 is not None) or sigma02 <= 0 or nu0 <= 0:
            return -np.inf
        lp = float(stats.gamma.logpdf(nu0, self.nu0_shape, scale=1 / self.nu0_rate))
        if self.mu0 is not None:
            lp += float(stats.norm.logpdf(mu, self.mu0, np.sqrt(self.g20)))
        if self.eta0 is not None:
            lp += float(stats.invgamma.logpdf(tau2, self.eta0 / 2, scale=self.eta0 * self.t20 / 2))
        if self.a is None:
            lp -= float(np.log(sigma02))
        else:
            lp += float(stats.gamma.logpdf(sigma02, self.a / 2, scale=2 / self.b))
        return lp


# ------------------------------------------------------------------- the mixed model
@dataclass(frozen=True)
class InverseWishart:
    """The inverse-Wishart law of a :math:`q \\times q` covariance matrix :math:`\\Sigma`
    (Hoff 2009, section 7.3), the proper prior of the random effects' covariance:

    .. math::
        p(\\Sigma) \\propto |\\Sigma|^{-(\\nu + q + 1)/2}
        \\exp\\{-\\tfrac12 \\operatorname{tr}(S\\,\\Sigma^{-1})\\}, \\qquad
        E[\\Sigma] = S / (\\nu - q - 1) \\ (\\nu > q + 1),

    ``df`` :math:`= \\nu`, ``scale`` :math:`= S`; :math:`\\Sigma^{-1}` is then
    Wishart(:math:`\\nu, S^{-1}`). It is also the law of :math:`\\Sigma \\mid b` in the mixed
    model (:func:`hierlib.conditionals.cov_re_mixed`).

    Parameters
    ----------
    df : float
        Degrees of freedom, :math:`\\nu > q - 1` (else the density does not integrate).
    scale : array_like, shape (q, q)
        Symmetric positive definite.
    """

    df: float
    scale: NDArray[np.float64]

    def __post_init__(self) -> None:
        scale = spd_matrix(self.scale, "scale")
        df = finite_scalar(self.df, "df")
        q = scale.shape[0]
        if not df > q - 1:
            raise ValueError(
                f"df must be above q - 1 = {q - 1} for a {q} x {q} inverse Wishart (below it "
                f"the density does not integrate); got {df:g}"
            )
        object.__setattr__(self, "df", df)
        object.__setattr__(self, "scale", scale)

    proper = True

    @property
    def q(self) -> int:
        """The dimension :math:`q`."""
        return int(self.scale.shape[0])

    def sample(self, rng: np.random.Generator) -> NDArray[np.float64]:
        """One draw of :math:`\\Sigma` (Bartlett: :math:`\\Sigma^{-1} = F A A^\\top F^\\top`,
        :math:`FF^\\top = S^{-1}`, :math:`A` lower triangular with :math:`A_{ii}^2 \\sim
        \\chi^2_{\\nu - i + 1}` and standard normals below the diagonal)."""
        q = self.q
        a = np.tril(rng.standard_normal((q, q)), -1)
        a[np.diag_indices(q)] = np.sqrt(2.0 * rng.standard_gamma((self.df - np.arange(q)) / 2))
        t = np.linalg.cholesky(self.scale) @ np.linalg.inv(a).T  # Sigma = T T'
        return t @ t.T

    def logpdf(self, cov: ArrayLike) -> float:
        """Normalised log density at ``cov`` (scipy); ``-inf`` for a matrix that is not
        symmetric positive definite, ``ValueError`` for NaN, infinite or a wrong shape."""
        from scipy import stats

        c = _covariance_argument(cov, self.q)
        if c is None:
            return -np.inf
        return float(stats.invwishart.logpdf(c, self.df, self.scale))


def _covariance_argument(cov: ArrayLike, q: int) -> NDArray[np.float64] | None:
    """``cov`` as a q x q float matrix, ``None`` when it is not symmetric positive definite
    (outside the support); ``ValueError`` for NaN, infinite entries or a wrong shape."""
    c = np.atleast_2d(np.asarray(cov, dtype=np.float64))
    if c.shape != (q, q):
        raise ValueError(f"cov_re must be {q} x {q}; got shape {c.shape}")
    if not np.isfinite(c).all():
        raise ValueError("cov_re has NaN or infinite entries")
    try:
        return spd_matrix(c, "cov_re")
    except ValueError:
        return None


def _beta_argument(beta: ArrayLike, p: int | None = None) -> NDArray[np.float64]:
    b = np.atleast_1d(np.asarray(beta, dtype=np.float64))
    if b.ndim != 1 or (p is not None and b.size != p):
        raise ValueError(f"beta must be a vector of {p} fixed effects; got shape {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError("beta has NaN or infinite entries")
    return b


@dataclass(frozen=True)
class MixedDefault:
    """The default prior of the mixed model (``prior=None`` of
    :func:`hierlib.gibbs.mixed_model`): flat on :math:`\\beta`,
    :math:`p(\\sigma^2) \\propto 1/\\sigma^2` and flat on :math:`\\Sigma`,
    :math:`p(\\beta, \\sigma^2, \\Sigma) \\propto 1/\\sigma^2`.

    A flat :math:`\\Sigma` is the inverse-Wishart kernel with :math:`\\nu = -(q+1)`,
    :math:`S = 0`, so :math:`\\Sigma \\mid b \\sim \\text{IW}(m - q - 1, \\sum_j b_j b_j^\\top)`.
    With :math:`q = 1` and ``"y ~ 1"`` this is the lecture's default prior of model 1 (flat
    :math:`\\mu` and :math:`\\tau^2`, :math:`1/\\sigma^2`).

    **When the posterior is proper** (checked by the sampler, :meth:`check_data`): let
    :math:`k` be the number of fixed effects the random effects can absorb (the dimension of
    the span of :math:`X` inside that of the block-diagonal :math:`Z`: the intercept, the
    group-level predictors and their products with the random slopes; :math:`k = 1` for
    ``"y ~ 1"``, 6 for the R&B model). The posterior is proper when :math:`m > 2q + k`:

    - :math:`\\Sigma \\mid b` above is a distribution only when :math:`m - q - 1 > q - 1`,
      i.e. :math:`m > 2q`: each group's :math:`b_j` is one draw from :math:`N(0, \\Sigma)`,
      and a flat density on the :math:`q(q+1)/2` entries of :math:`\\Sigma` needs more than
      :math:`2q` of them before its tail integrates;
    - with :math:`b` and :math:`\\beta` integrated out, as one eigenvalue :math:`\\lambda`
      of :math:`\\Sigma` grows the likelihood falls like :math:`\\lambda^{-(m - k)/2}` (each
      group contributes :math:`\\lambda^{-1/2}`, and each absorbed fixed effect, integrated
      under its flat prior, gives one back), while the flat prior's volume grows like
      :math:`\\lambda^{q-1}\\,d\\lambda`; the integral converges when :math:`(m-k)/2 > q`.
      For :math:`q = 1`, ``"y ~ 1"``: :math:`m \\ge 4` groups, the lecture's condition;
    - :math:`1/\\sigma^2` needs residual spread once :math:`X` and every :math:`Z_j` are
      fitted (else the posterior piles up at :math:`\\sigma^2 = 0`).

    Use :class:`MixedProper` (proper priors) for simulation-based calibration.
    """

    proper = False

    def beta_terms(self, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(mean, precision)`` of the normal prior of :math:`\\beta` (precision 0: flat)."""
        return np.zeros(p), np.zeros((p, p))

    def sigma_terms(self) -> tuple[float, float]:
        """Gamma pseudo-counts ``(a, b)`` on :math:`1/\\sigma^2`: :math:`p(\\lambda) \\propto
        \\lambda^{a-1}e^{-b\\lambda}` (here 0, 0: :math:`1/\\sigma^2`)."""
        return 0.0, 0.0

    def cov_terms(self, q: int) -> tuple[float, NDArray[np.float64]]:
        """``(nu, S)`` of the inverse-Wishart kernel of :math:`\\Sigma` (here
        :math:`-(q+1), 0`: flat)."""
        return -(q + 1.0), np.zeros((q, q))

    def check_data(self, m: int, q: int, absorbed: int, residual: float) -> None:
        """``ValueError`` where the posterior would be improper (class docstring): fewer than
        :math:`2q + k + 1` groups (``absorbed`` :math:`= k`), or no residual spread
        (``residual``: the residual sum of squares of :math:`y` on :math:`X` and every
        :math:`Z_j`, relative to :math:`y^\\top y`)."""
        need = 2 * q + absorbed + 1
        if m < need:
            raise ValueError(
                f"the default prior (flat on beta and Sigma) needs at least 2q + k + 1 = {need} "
                f"groups for a proper posterior (q = {q} random effects, k = {absorbed} fixed "
                f"effects the random effects can absorb); got {m}. Use fewer random effects or "
                "group-level predictors, or a proper prior (priors.MixedProper)"
            )
        if not residual > 1e-12:
            raise ValueError(
                "the default prior p(sigma2) ∝ 1/sigma2 needs residual spread: y is fitted "
                "exactly by the fixed and random effects (each group's rows lie on its own "
                "line), so the posterior of sigma2 piles up at 0; use a proper prior"
            )

    def sample(self, rng: np.random.Generator, p: int, q: int, m: int | None = None) -> dict:
        """Refused: an improper prior has no draws."""
        raise _improper("priors.MixedDefault")

    def logpdf(self, beta: ArrayLike, sigma2: float, cov_re: ArrayLike) -> float:
        """Log prior density up to a constant: :math:`-\\log\\sigma^2`; ``-inf`` outside the
        support (:math:`\\sigma^2 \\le 0`, :math:`\\Sigma` not positive definite)."""
        _beta_argument(beta)
        s2 = finite_scalar(sigma2, "sigma2")
        c = np.atleast_2d(np.asarray(cov_re, dtype=np.float64))
        if s2 <= 0 or _covariance_argument(c, c.shape[0]) is None:
            return -np.inf
        return -float(np.log(s2))


@dataclass(frozen=True)
class MixedProper:
    """A proper (semi-conjugate) prior of the mixed model, Hoff's (2009, ch. 11) choice:

    .. math::
        \\beta \\sim N_p(\\beta_0, V_0), \\quad
        1/\\sigma^2 \\sim \\text{Gamma}(\\nu_0/2,\\ \\nu_0\\sigma_0^2/2), \\quad
        \\Sigma \\sim \\text{IW}(\\nu, S)

    (Gamma with shape and **rate**). Every full conditional stays conjugate, the posterior is
    proper for any data, and :meth:`sample` draws from it (simulation-based calibration).

    Parameters
    ----------
    beta_mean : array_like, shape (p,)
        :math:`\\beta_0`.
    beta_cov : array_like, shape (p, p)
        :math:`V_0`, symmetric positive definite.
    nu0, sigma02 : float
        Prior "sample size" and prior guess of :math:`\\sigma^2` (both > 0).
    cov_re : InverseWishart
        The prior of :math:`\\Sigma`.
    """

    beta_mean: NDArray[np.float64]
    beta_cov: NDArray[np.float64]
    nu0: float
    sigma02: float
    cov_re: InverseWishart

    def __post_init__(self) -> None:
        mean = _beta_argument(self.beta_mean)
        object.__setattr__(self, "beta_mean", mean)
        object.__setattr__(self, "beta_cov", spd_matrix(self.beta_cov, "beta_cov", mean.size))
        object.__setattr__(self, "nu0", positive(self.nu0, "nu0"))
        object.__setattr__(self, "sigma02", positive(self.sigma02, "sigma02"))
        if not isinstance(self.cov_re, InverseWishart):
            raise TypeError(
                "cov_re must be a priors.InverseWishart(df, scale); got "
                f"{type(self.cov_re).__name__}"
            )

    proper = True

    @property
    def p(self) -> int:
        """Number of fixed effects the prior is for."""
        return int(self.beta_mean.size)

    @property
    def q(self) -> int:
        """Number of random effects the prior is for."""
        return self.cov_re.q

    def check_sizes(self, p: int, q: int) -> None:
        """``ValueError`` unless the prior is for ``p`` fixed and ``q`` random effects."""
        if (p, q) != (self.p, self.q):
            raise ValueError(
                f"the prior is for {self.p} fixed and {self.q} random effects (beta_mean, "
                f"cov_re.scale); the model has {p} and {q}"
            )

    def beta_terms(self, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(mean, precision)`` of the normal prior of :math:`\\beta`."""
        self.check_sizes(p, self.q)
        return self.beta_mean.copy(), np.linalg.inv(self.beta_cov)

    def sigma_terms(self) -> tuple[float, float]:
        """Gamma pseudo-counts on :math:`1/\\sigma^2`: :math:`(\\nu_0/2, \\nu_0\\sigma_0^2/2)`."""
        return self.nu0 / 2, self.nu0 * self.sigma02 / 2

    def cov_terms(self, q: int) -> tuple[float, NDArray[np.float64]]:
        """``(nu, S)`` of the inverse-Wishart prior of :math:`\\Sigma`."""
        self.check_sizes(self.p, q)
        return self.cov_re.df, self.cov_re.scale.copy()

    def check_data(self, m: int, q: int, absorbed: int, residual: float) -> None:
        """A proper prior gives a proper posterior; two groups are asked for."""
        _require_groups(m, 2, "a mixed model")

    def sample(self, rng: np.random.Generator, p: int, q: int, m: int | None = None) -> dict:
        """One prior draw of ``beta`` (p,), ``sigma2`` and ``cov_re`` (q, q), and with ``m``
        the random effects ``b`` (m, q), :math:`b_j \\sim N(0, \\Sigma)`."""
        self.check_sizes(p, q)
        out = {
            "beta": self.beta_mean
            + np.linalg.cholesky(self.beta_cov) @ rng.standard_normal(self.p),
            "sigma2": 1.0 / (rng.standard_gamma(self.nu0 / 2) / (self.nu0 * self.sigma02 / 2)),
            "cov_re": self.cov_re.sample(rng),
        }
        if m is not None:
            out["b"] = rng.standard_normal((m, q)) @ np.linalg.cholesky(out["cov_re"]).T
        return out

    def logpdf(self, beta: ArrayLike, sigma2: float, cov_re: ArrayLike) -> float:
        """Normalised log prior density (scipy); ``-inf`` outside the support."""
        from scipy import stats

        b = _beta_argument(beta, self.p)
        s2 = finite_scalar(sigma2, "sigma2")
        if s2 <= 0:
            return -np.inf
        return float(
            stats.multivariate_normal.logpdf(b, self.beta_mean, self.beta_cov)
            + stats.invgamma.logpdf(s2, self.nu0 / 2, scale=self.nu0 * self.sigma02 / 2)
            + self.cov_re.logpdf(cov_re)
        )
