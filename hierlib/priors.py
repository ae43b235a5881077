"""Priors for the hierarchical normal models (lecture: "Bayesian hierarchical model").

Model 1 (equal variances): :math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`,
:math:`\\theta_j \\sim N(\\mu, \\tau^2)`, with a prior on :math:`(\\mu, \\sigma^2, \\tau^2)`:

- :class:`Default` -- the lecture's :math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2`
  (flat on :math:`\\mu` and on :math:`\\tau^2`). Improper, but the posterior is proper when
  there are at least 4 groups and some within-group spread.
- :class:`SemiConjugate` -- Hoff (2009, ch. 8): :math:`\\mu \\sim N(\\mu_0, \\gamma_0^2)`,
  :math:`1/\\tau^2 \\sim \\text{Gamma}(\\eta_0/2, \\eta_0\\tau_0^2/2)`,
  :math:`1/\\sigma^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` (rate parameterisation).

Model 2 (unequal variances): :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)`,
:math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)`, with the prior
:class:`UnequalVariances` on :math:`(\\mu, \\tau^2, \\sigma_0^2, \\nu_0)`.

Every prior is described to the samplers as "Gamma pseudo-counts" on the precisions, so one
sampler serves every prior: a prior :math:`p(\\lambda) \\propto \\lambda^{a-1} e^{-b\\lambda}`
on a precision :math:`\\lambda` (``a`` may be 0 or -1 for the improper choices; the flat prior
on a variance :math:`v = 1/\\lambda` is :math:`p(\\lambda) \\propto \\lambda^{-2}`, i.e. ``a=-1``,
``b=0``, and :math:`p(v) \\propto 1/v` is ``a=0``, ``b=0``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from hierlib._validate import finite_scalar, positive

_REFERENCE_TAU2_MESSAGE = (
    "the reference prior p(tau2) ∝ 1/tau2 gives an improper posterior: near tau2 = 0 the "
    "likelihood of the group means tends to a positive constant (all theta_j equal to mu fits "
    "the data), so the posterior behaves like 1/tau2 there and its integral diverges. Use the "
    "lecture's flat prior p(tau2) ∝ 1 (priors.Default()) or a proper inverse-gamma prior "
    "(priors.SemiConjugate)"
)


def _improper(name: str) -> ValueError:
    return ValueError(
        f"{name} is improper: it has no draws to give (use a proper prior such as "
        "priors.SemiConjugate or a fully specified priors.UnequalVariances for simulation)"
    )


def _require_groups(m: int, minimum: int, what: str, why: str = "") -> None:
    if m < minimum:
        raise ValueError(f"{what} needs at least {minimum} groups{why}; got {m}")


@dataclass(frozen=True)
class Default:
    """The lecture's default prior :math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2`.

    Flat on :math:`\\mu` and on :math:`\\tau^2`, and :math:`1/\\sigma^2` on :math:`\\sigma^2`.
    Integrating out :math:`\\theta` and :math:`\\mu`, the marginal posterior of :math:`\\tau`
    falls like :math:`\\tau^{2-m}` for large :math:`\\tau` under this prior, so it is proper
    only for :math:`m \\ge 4` groups (checked by the samplers).

    Parameters
    ----------
    tau2 : {"flat", "reference"}
        ``"flat"`` (the lecture's :math:`p(\\tau^2) \\propto 1`). ``"reference"``
        (:math:`p(\\tau^2) \\propto 1/\\tau^2`) is refused with a ``ValueError``: it makes the
        posterior improper (the lecture says so).
    """

    tau2: Literal["flat", "reference"] = "flat"

    def __post_init__(self) -> None:
        if self.tau2 == "reference":
            raise ValueError(_REFERENCE_TAU2_MESSAGE)
        if self.tau2 != "flat":
            raise ValueError(f"tau2 must be 'flat' (or 'reference', refused); got {self.tau2!r}")

    proper = False

    def hyper(self) -> tuple[float, float, float, float, float, float]:
        """``(mu0, mu_prec0, a_tau, b_tau, a_sigma, b_sigma)``: the prior as Gamma pseudo-counts
        on :math:`1/\\tau^2` and :math:`1/\\sigma^2` (``mu_prec0 = 0`` means flat on mu)."""
        return (0.0, 0.0, -1.0, 0.0, 0.0, 0.0)

    def check_data(self, m: int, n_total: int, ss_total: float) -> None:
        """Raise ``ValueError`` where the posterior would be improper."""
        _require_groups(
            m,
            4,
            "the default prior (flat on tau2: the posterior of tau falls like tau^(2-m))",
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
        """Log prior density up to a constant: :math:`-\\log\\sigma^2` on its support
        (:math:`\\sigma^2 > 0`, :math:`\\tau^2 \\ge 0`), ``-inf`` outside it (as the scipy
        densities of the proper priors); ``ValueError`` for NaN or infinite arguments."""
        finite_scalar(mu, "mu")
        s2, t2 = finite_scalar(sigma2, "sigma2"), finite_scalar(tau2, "tau2")
        if s2 <= 0 or t2 < 0:
            return -np.inf
        return -float(np.log(s2))


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
        object.__setattr__(self, "mu0", finite_scalar(self.mu0, "mu0"))
        for name in ("g20", "eta0", "t20", "nu0", "s20"):
            object.__setattr__(self, name, positive(getattr(self, name), name))

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
        """Log prior density of :math:`(\\mu, \\sigma^2, \\tau^2)` (normalised; scipy)."""
        from scipy import stats

        return float(
            stats.norm.logpdf(mu, self.mu0, np.sqrt(self.g20))
            + stats.invgamma.logpdf(tau2, self.eta0 / 2, scale=self.eta0 * self.t20 / 2)
            + stats.invgamma.logpdf(sigma2, self.nu0 / 2, scale=self.nu0 * self.s20 / 2)
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
        for first, second in (("mu0", "g20"), ("eta0", "t20"), ("a", "b")):
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                raise ValueError(f"give both {first} and {second}, or neither")
        if self.mu0 is not None:
            object.__setattr__(self, "mu0", finite_scalar(self.mu0, "mu0"))
        for name in ("g20", "eta0", "t20", "a", "b"):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, positive(getattr(self, name), name))
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
        for the improper parts (scipy densities for the proper parts)."""
        from scipy import stats

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
