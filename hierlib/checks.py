"""Checking a student's Gibbs updates and whole samplers against exact results (lecture: Gibbs).

**The updates.** A student writes the four updates of model 1 on group sufficient
statistics. Under the lecture's default prior :math:`p(\\mu, \\sigma^2, \\tau^2) \\propto
1/\\sigma^2` (``prior=None``)::

    def draw_theta(rng, mu, sigma2, tau2, n, ybar): ...  # -> array, one draw of every theta_j
    def draw_sigma2(rng, theta, n, ybar, ss): ...        # -> float (ss: within-group SS_j)
    def draw_mu(rng, theta, tau2): ...                   # -> float
    def draw_tau2(rng, theta, mu): ...                   # -> float

Under Hoff's semi-conjugate prior (``prior=priors.SemiConjugate(...)``) the three updates the
prior enters take it as their last argument (``prior.mu0``, ``prior.g20``, ``prior.eta0``,
``prior.t20``, ``prior.nu0``, ``prior.s20``); ``draw_theta`` does not change::

    def draw_sigma2(rng, theta, n, ybar, ss, prior): ...  # N = sum_j n_j students
    def draw_mu(rng, theta, tau2, prior): ...
    def draw_tau2(rng, theta, mu, prior): ...

:func:`check_update` says in plain words whether one is right::

    r = check_update("tau2", draw_tau2, prior=PRIOR, seed=0)
    r.passed, r.message

**How an update is tested.** It is called :data:`N_CALLS` = 20,000 times at fixed values
(:data:`CONDITIONS`: m = 12 schools of 2 to 30 students, *not* sorted by size, with every
argument a read-only array), each call with the one generator ``numpy.random.default_rng(seed)``
(``seed`` is anything ``default_rng`` accepts, a ``Generator`` included). Under a semi-conjugate
prior the prior-dependent updates are tested twice: at the prior given, and with
:data:`N_STRESS` = 5,000 more calls at :data:`STRESS_PRIOR`, a prior as strong as the data,
where every hyperparameter moves the conditional. An update that is right at the prior given
but wrong in general (a hyperparameter left out, or read from the notebook instead of the
``prior`` argument) is off there by more than 0.35 sd under the course's priors (notebook 05's,
Hoff's ELS prior, a weak one), and the slips that the prior given cannot show by more than
0.8 sd, which 5,000 calls catch with probability above 0.9999 (a 0.1-sd shift: 0.998).

The draws are compared with the exact full conditional (:mod:`hierlib.conditionals`) through
standardised values :math:`u` (normal laws: :math:`(x - E x)/\\mathrm{sd}\\,x`; variances
and precisions: :math:`(\\log x - E\\log x)/\\mathrm{sd}\\log x`, whose exact moments are
digamma and polygamma functions), by a family of tests:

- *location*, per school: :math:`\\sqrt{N_{calls}}\\,\\bar u_j \\sim N(0, 1)`;
- *spread*, per school: the sample variance of :math:`u_j`, exact :math:`\\chi^2` for normal
  laws, its exact mean and variance (from the fourth cumulant) for the log of a gamma;
- *shape*: a Kolmogorov-Smirnov test of the probability integral transforms of every draw;
- *independence across calls*: the lag-1 correlation of :math:`u`;
- for ``theta``, the *joint law within a call*: the largest correlation between two schools
  (Bonferroni over the 66 pairs), and the variance of :math:`\\sum_j u_j/\\sqrt{m}` (a
  :math:`\\chi^2` test): the schools' draws must be independent, not one number shared.

**False-alarm rate and power.** The tests of one :func:`check_update` call form a family with
a Bonferroni correction (each p-value multiplied by the number of tests: 28 for ``theta``, 4 per
prior for the others); the update fails when an adjusted p-value falls below
:data:`ALPHA` = 2e-4. So a correct update fails with probability at most 2e-4 whatever the
seed, and the four updates and the sampler (:func:`check_sampler`) together at most 1e-3.
Power: a shift of the location by 0.05 sd in a single school (the hardest case) is caught with
probability :math:`\\Phi(0.05\\sqrt{N_{calls}} - z_{\\alpha/56}) = \\Phi(7.07 - 4.49) = 0.995`;
5% too large or too small a spread with probability above 0.9999, and a variance drawn 5% too
large or small (a scale error) with probability above 0.9999. Measured by simulation
(2026-12-02, with the stress prior at :data:`N_STRESS` calls; draws simulated with the law of a
correct or a wrong update, through the same tests; 2000 simulated checks per update and prior,
14,000 in all): 2 false alarms in 14,000 (1.4e-4 per check, below the bound 2e-4), and each
test's p-value uniform (rejection rates at 1%: 0.005 to 0.015, at 5%: 0.036 to 0.062, within
the binomial error of 2000 runs); power, in 2000 runs each: 0.994 against a 0.05-sd shift of
one school's theta, 0.9995 against a 0.05-sd shift of mu, 1.000 against a spread 5% too
large or too small, sigma2 or tau2 drawn 5% too large or too small, and the sd of log tau2 5%
too large (a wrong Gamma shape); with the error at the stress prior only (Hoff's prior given,
right): 0.999 against a 0.1-sd shift of mu, 1.000 against sigma2 10% too large and tau2 10%
too small.

**The b_j update of the mixed model** (notebook 12). In :math:`y_{ij} = x_{ij}^T\\beta +
z_{ij}^T b_j + e_{ij}`, :math:`b_j \\sim N_q(0, \\Sigma)`, :math:`e_{ij} \\sim N(0, \\sigma^2)`, a
student writes the draw of one school's :math:`b_j`::

    def draw_b(rng, ztz, zt_resid, sigma2, cov_re): ...  # -> array of shape (q,)

with ``ztz`` :math:`= Z_j^TZ_j`, ``zt_resid`` :math:`= Z_j^T(y_j - X_j\\beta)`, ``cov_re``
:math:`= \\Sigma`; the exact law (:func:`hierlib.conditionals.b_mixed`) is
:math:`N(M^{-1}Z_j^T(y_j - X_j\\beta), \\sigma^2M^{-1})`, :math:`M = Z_j^TZ_j +
\\sigma^2\\Sigma^{-1}`, whatever the priors on :math:`\\beta, \\sigma^2, \\Sigma`
(``check_update("b", draw_b)``, no ``prior``; ``"b_mixed"`` is the same check). It is called
:data:`N_CALLS_B` = 5,000 times at each of the four schools of :data:`B_CONDITIONS` (q = 2,
intercept and SES slope: a typical HSB school, a small one under a Σ of correlation 0.95, one
whose ``ztz`` is not diagonal, one whose ``ztz`` is nearly singular under a vague Σ; the exact
posterior correlation of intercept and slope runs from 0.2 to -0.94). The draws are whitened
by the Cholesky factor of the exact covariance, :math:`u = L^{-1}(x - m)`, iid
:math:`N(0, I_2)` under the exact law, and tested per school: the *location* and the
*variance* of each whitened coordinate (normal and :math:`\\chi^2` tests), their
*correlation* (the exact t-test; the three together pin the whole covariance), the *shape*
(Kolmogorov-Smirnov tests of the squared Mahalanobis distance :math:`|u|^2` against
:math:`\\chi^2_2` and of each coordinate against N(0, 1)) and the *independence across calls*
(lag-1 correlation): 9 tests a school, 36 in the Bonferroni family, the same :data:`ALPHA`
= 2e-4. Why 5,000 and not the scalar updates' 20,000: a student's ``draw_b`` costs about
50 µs a call (three small ``np.linalg`` calls), so 20,000 calls a school made the check take
4 s in a notebook, while every slip named below is off somewhere by 0.5 sd or more (or 50% in
a variance), five times the smallest error 5,000 calls catch reliably. Power
(:math:`z_{\\alpha/72} = 4.54`): a whitened coordinate 0.1 sd off, or the two correlated
0.1, at a single school is caught with probability
:math:`\\Phi(0.1\\sqrt{5000} - 4.54) = 0.994`; a whitened sd 10% off with probability above
0.9999, 5% off with probability about 2/3. Measured by simulation (2026-12-03, 2000 simulated
checks per row): 0 false alarms in 2000, each of the 36 tests' rejection rate at 1% 0.006 to
0.016 and at 5% 0.042 to 0.061 (uniform p-values); power (:data:`B_POWER_CASES`, each error at
one school only): 0.995 and 0.994 against a whitened coordinate 0.1 sd off at the typical
school and at the nearly singular one, 0.9945 and 0.993 against a whitened correlation of 0.1
at the typical and the strongly correlated school, 1.000 against a whitened sd 10% too large
or too small, 0.66 against one 5% too large. Slips named (:func:`slips`): Σ where
:math:`\\Sigma^{-1}` belongs, the :math:`\\sigma^2` of :math:`M` left out, the covariance
:math:`M^{-1}` without :math:`\\sigma^2` or with :math:`\\sigma`, the mean :math:`\\sigma^2`
times too large (the precision form's slip) or without :math:`M^{-1}`, draws from the prior,
the school's least-squares fit (no prior), the transposed Cholesky factor (of the covariance
or of :math:`M`), intercept and slope drawn independently, or swapped; a return of the wrong
shape (a matrix from ``*`` where ``@`` belongs, a column) and the mean alone have messages of
their own. A slip is named when its laws fit the draws at all four schools.

**How it explains.** A failing update is tested against each slip of :func:`slips` (the laws
the classic mistakes draw from); when one fits, the message names it with a hint. Otherwise
the message says which test failed and by how much: the location (in sds, or "5% too large"
for a variance), the spread, the joint law, the independence; the shape is blamed only when
location and spread pass. Before any statistics: ``None`` or an update raising
``NotImplementedError`` is "not written yet"; a wrong number of arguments, an exception (even
``SystemExit`` or ``KeyboardInterrupt``), a return of the wrong shape, a string, complex
numbers, a generator, a NaN or infinite value, draws that ignore the ``rng`` passed in, a
change to the input arrays, or use of numpy's global generator get a message saying so, never
a traceback. Printed output is hidden (and counted in the message).

**Time.** A check stops at :data:`TIME_BUDGET` = 60 s of wall-clock time (a numpy update
takes 0.1 to 0.5 s of CPU; one that builds a frozen scipy distribution at every call, 5 to
10 s). On Linux and macOS, in the main thread (where a notebook runs), a call still running
then is stopped; elsewhere the time is checked between calls. An update whose first few
hundred calls show that the check would exceed the budget is stopped early with a message
saying how long one call takes.

**Whole samplers.** :func:`check_sampler` runs a student's sampler ``fn(stats, n_sweeps, rng)``
(returning an array of shape (n_sweeps, 3) of :math:`(\\mu, \\sigma^2, \\tau^2)`) on
:data:`SAMPLER_STATS`, a small fixed data set whose exact marginal posteriors it computes on a
grid, and judges the chains by batch means; its docstring states its tests, false-alarm rate
and power.
"""

from __future__ import annotations

import inspect
import math
import time
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any, NamedTuple

import numpy as np
from scipy import special
from scipy import stats as sps

from hierlib import _guard, conditionals, exact
from hierlib.data import GroupStats
from hierlib.priors import Default, HalfCauchy, SemiConjugate

__all__ = [
    "ALPHA",
    "B_CONDITIONS",
    "B_POWER_CASES",
    "CONDITIONS",
    "CheckResult",
    "N_CALLS",
    "N_CALLS_B",
    "N_STRESS",
    "POWER_CASES",
    "SAMPLER_STATS",
    "SLIPS",
    "STRESS_PRIOR",
    "TIME_BUDGET",
    "check_all",
    "check_sampler",
    "check_update",
    "slips",
]

ALPHA = 2e-4
"""Family-wise false-alarm rate of one check (Bonferroni over its tests)."""
N_CALLS = 20_000
"""Calls of the update at the prior it is checked under."""
N_CALLS_B = 5_000
"""Calls of ``draw_b`` at each school of :data:`B_CONDITIONS` (20,000 in all: a student's
``draw_b`` takes about 50 µs a call, so the check takes about a second)."""
N_STRESS = 5_000
"""Calls of a prior-dependent update at :data:`STRESS_PRIOR` (the errors only that prior can
reveal are large there: module docstring)."""
TIME_BUDGET = 60.0
"""Seconds (wall clock) a :func:`check_update` may take before it stops the update."""

_N = np.array([7, 3, 12, 5, 20, 2, 9, 4, 15, 6, 30, 8])
_YBAR = np.array([14.0, 6.0, 11.0, 19.0, 8.0, 3.0, 16.0, 10.0, 13.0, 21.0, 9.0, 5.0])
_SS = np.array([300.0, 90.0, 600.0, 200.0, 1000.0, 40.0, 420.0, 150.0, 700.0, 260.0, 1500.0,
                330.0])  # fmt: skip
_THETA = np.array([13.0, 8.0, 11.0, 17.0, 8.5, 7.0, 15.0, 10.0, 12.5, 18.0, 9.2, 7.0])
_M = _N.size

CONDITIONS: dict[str, dict[str, Any]] = {
    "theta": {"mu": 10.0, "sigma2": 64.0, "tau2": 16.0, "n": _N, "ybar": _YBAR},
    "sigma2": {"theta": _THETA, "n": _N, "ybar": _YBAR, "ss": _SS},
    "mu": {"theta": _THETA, "tau2": 30.0},
    "tau2": {"theta": _THETA, "mu": 10.0},
}
"""The values each update is called with (arguments after ``rng``, in the contract's order)."""

STRESS_PRIOR = SemiConjugate(mu0=4.0, g20=2.0, eta0=8.0, t20=40.0, nu0=30.0, s20=20.0)
"""The second semi-conjugate prior every prior-dependent update is tested at: as strong as the
check's data (30 pseudo-students against 121, 8 pseudo-schools against 12, a prior variance of
mu near tau2/m), so that no hyperparameter can be left out unnoticed."""

POWER_CASES = {
    "location shifted by 0.05 sd (one school)": ("theta", "shift_one", 0.05),
    "location shifted by 0.05 sd": ("mu", "shift", 0.05),
    "spread 5% too large": ("theta", "spread", 1.05),
    "spread 5% too small": ("mu", "spread", 1 / 1.05),
    "sigma2 5% too large": ("sigma2", "scale", 1.05),
    "tau2 5% too small": ("tau2", "scale", 1 / 1.05),
    "sd of log tau2 5% too large (Gamma shape)": ("tau2", "spread", 1.05),
}
"""The 5% errors whose detection rate the docstring states (measured by simulation)."""

B_POWER_CASES = {
    "0.1 sd off in one whitened coordinate, at the typical school": ("shift_one", 0.1, 0),
    "0.1 sd off in one whitened coordinate, at the nearly singular school": (
        "shift_one", 0.1, 3),
    "whitened coordinates correlated 0.1, at the typical school": ("corr", 0.1, 0),
    "whitened correlation 0.1, at the strongly correlated school": ("corr", 0.1, 1),
    "one whitened sd 10% too large, at the typical school": ("spread", 1.1, 0),
    "one whitened sd 10% too small, at the uncentred school": ("spread", 1 / 1.1, 2),
    "one whitened sd 5% too large, at the typical school": ("spread", 1.05, 0),
}  # fmt: skip
"""The small errors of ``draw_b`` (at one school of :data:`B_CONDITIONS`) whose detection rate
the docstring states (measured by simulation)."""

STRESS_POWER_CASES = {
    "location shifted by 0.1 sd": ("mu", "shift", 0.1),
    "sigma2 10% too large": ("sigma2", "scale", 1.1),
    "tau2 10% too small": ("tau2", "scale", 1 / 1.1),
}
"""Errors at :data:`STRESS_PRIOR` only (the prior given right), whose detection rate the
docstring states."""

_SIGNATURES = {
    "theta": "draw_theta(rng, mu, sigma2, tau2, n, ybar)",
    "sigma2": "draw_sigma2(rng, theta, n, ybar, ss)",
    "mu": "draw_mu(rng, theta, tau2)",
    "tau2": "draw_tau2(rng, theta, mu)",
    "b": "draw_b(rng, ztz, zt_resid, sigma2, cov_re)",
}
_ALIASES = {"b_mixed": "b"}  # hierlib.conditionals' name of b_j's law
_UPDATES = ("theta", "sigma2", "mu", "tau2", "b")
_MY_FILES = (__file__, _guard.__file__)


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_update` or :func:`check_sampler` found.

    Attributes
    ----------
    name : str
        The update checked (``"theta"``, ``"mu"``, ``"sigma2"``, ``"tau2"``, ``"b"``) or
        ``"sampler"``.
    passed : bool
        True when the draws fit the exact law.
    message : str
        What is off, in plain words, with a hint where one fits.
    status : str
        ``"passed"``, ``"wrong"`` (draws from another distribution), ``"error"`` (the function
        could not be run, or broke a rule), or ``"not written"``.
    p_value : float or None
        The smallest Bonferroni-adjusted p-value of the tests (None when nothing was tested).
    slip : str or None
        The key of the recognised slip (:func:`slips`), if any.
    """

    name: str
    passed: bool
    message: str
    status: str
    p_value: float | None = None
    slip: str | None = None
    details: dict = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return self.message

    def __bool__(self) -> bool:
        return self.passed


# --------------------------------------------------------------------------- laws
@dataclass(frozen=True)
class _Law:
    """A full conditional: ``kind`` "normal" (``a`` mean, ``b`` sd, arrays for theta),
    "variance" (a variance whose precision is Gamma(shape ``a``, rate ``b``)) or "precision"
    (Gamma(shape ``a``, rate ``b``) itself)."""

    kind: str
    a: Any
    b: Any

    def standardise(self, x: np.ndarray) -> np.ndarray:
        if self.kind == "normal":
            return (x - self.a) / self.b
        return (np.log(x) - self.log_mean) / math.sqrt(special.polygamma(1, self.a))

    @property
    def log_mean(self) -> float:
        """E log x: log b - psi(a) for a variance, psi(a) - log b for a precision."""
        m = float(math.log(self.b) - special.digamma(self.a))
        return m if self.kind == "variance" else -m

    def pit(self, x: np.ndarray) -> np.ndarray:
        """P(X <= x) under the law (probability integral transform)."""
        if self.kind == "normal":
            return special.ndtr((x - self.a) / self.b)
        if self.kind == "variance":
            return special.gammaincc(self.a, self.b / x)
        return special.gammainc(self.a, self.b * x)

    def excess_kurtosis(self) -> float:
        """Fourth cumulant over the squared variance of the standardised value."""
        if self.kind == "normal":
            return 0.0
        return float(special.polygamma(3, self.a) / special.polygamma(1, self.a) ** 2)


def _variance(g: conditionals.Gamma) -> _Law:
    return _Law("variance", float(g.shape), float(g.rate))


def _hyper(prior) -> tuple[float, float, float, float, float, float]:
    return prior.hyper()[:6]


def _exact(name: str, prior=None) -> _Law:
    """The exact full conditional of ``name`` at :data:`CONDITIONS` under ``prior``."""
    mu0, p0, a_tau, b_tau, a_s, b_s = _hyper(prior or Default())
    if name == "theta":
        c = CONDITIONS["theta"]
        d = conditionals.theta_centered(_STATS, c["mu"], c["sigma2"], c["tau2"])
        return _Law("normal", np.asarray(d.mean), np.sqrt(np.asarray(d.var)))
    if name == "mu":
        d = conditionals.mu_centered(_THETA, CONDITIONS["mu"]["tau2"], mu0, p0)
        return _Law("normal", float(d.mean), math.sqrt(d.var))
    if name == "sigma2":
        return _variance(conditionals.sigma_precision(_STATS, _THETA, a_s, b_s))
    return _variance(conditionals.tau_precision(_THETA - CONDITIONS["tau2"]["mu"], a_tau, b_tau))


_STATS = GroupStats(labels=np.arange(_M), n=_N, ybar=_YBAR, ss=_SS)
_N_TOT = float(_N.sum())
_S = float(np.sum(_SS + _N * (_YBAR - _THETA) ** 2))
_Q = float(np.sum((_THETA - CONDITIONS["tau2"]["mu"]) ** 2))


def _theta_law(prec_term: Callable, mean_has_mu: bool = True, sd_as_var: bool = False) -> _Law:
    c = CONDITIONS["theta"]
    n, ybar, mu, s2, t2 = c["n"], c["ybar"], c["mu"], c["sigma2"], c["tau2"]
    prec = n / s2 + prec_term(t2)
    mean = (n * ybar / s2 + (mu / t2 if mean_has_mu else 0.0)) / prec
    return _Law("normal", mean, 1 / prec if sd_as_var else 1 / np.sqrt(prec))


def _theta_slips() -> dict[str, tuple[_Law, str]]:
    right = _exact("theta")
    by_n = np.argsort(_N, kind="stable")
    return {
        "precision_tau2": (
            _theta_law(lambda t2: t2),
            "is the precision of theta_j n_j/sigma2 + tau2? The prior's precision is 1/tau2: "
            "use n_j/sigma2 + 1/tau2.",
        ),
        "mean_ignores_mu": (
            _theta_law(lambda t2: 1 / t2, mean_has_mu=False),
            "the mean of theta_j must pull towards mu: (n_j ybar_j/sigma2 + mu/tau2) / "
            "(n_j/sigma2 + 1/tau2). Is the mu/tau2 term missing?",
        ),
        "no_shrinkage": (
            _Law("normal", _YBAR.astype(float), right.b),
            "your theta_j are centred at ybar_j: the mean is the precision-weighted average "
            "of ybar_j and mu, (n_j ybar_j/sigma2 + mu/tau2) / (n_j/sigma2 + 1/tau2).",
        ),
        "sd_as_variance": (
            _theta_law(lambda t2: 1 / t2, sd_as_var=True),
            "rng.normal takes the standard deviation: pass sqrt(1/P_j), not the variance 1/P_j.",
        ),
        "sorted_by_n": (
            _Law("normal", right.a[by_n], right.b[by_n]),
            "your draws come out in the order of the school sizes: the j-th draw must be "
            "school j's (did you sort the schools by n_j and not put the draws back?).",
        ),
    }


def _gamma_slips(
    what: str, shape: Callable, rate: Callable, flat_shape: float, prior_given: bool
) -> dict[str, tuple[_Law, str]]:
    """Slips of a variance update ``1/what ~ Gamma(shape(...), rate(...))``.

    ``shape(prior_shape, data_shape)`` and ``rate(prior_rate, data_rate)`` build the Gamma
    from the prior's and the data's parts (data_shape = N/2 or m/2, data_rate = S/2 or Q/2)."""
    right_shape, right_rate = shape(1.0, 1.0), rate(1.0, 1.0)
    out = {
        "rate_missing_half": (
            ("variance", right_shape, rate(2.0, 2.0)),
            f"is the 1/2 in the Gamma rate missing? 1/{what} | rest has rate "
            + ("(prior part + data part)/2." if prior_given else "S/2 (Q/2 for tau2)."),
        ),
        "rate_as_scale": (
            ("variance", right_shape, 1 / right_rate),
            "numpy's rng.gamma(shape, scale) takes the scale = 1/rate: pass 1/rate (e.g. "
            "2/S), not the rate.",
        ),
        "returned_precision": (
            ("precision", right_shape, right_rate),
            f"you return the precision 1/{what}: return its inverse, {what}.",
        ),
    }
    if prior_given:
        out |= {
            "prior_ignored": (
                ("variance", flat_shape, rate(0.0, 1.0)),
                "your draws ignore the prior: its pseudo-data add to the shape and the rate "
                "(shape (nu0 + N)/2 and rate (nu0 s20 + S)/2 for sigma2; eta0, t20, m and Q "
                "for tau2).",
            ),
            "shape_without_prior": (
                ("variance", shape(0.0, 1.0), right_rate),
                "the prior adds to the shape too: (nu0 + N)/2 for sigma2, (eta0 + m)/2 for tau2.",
            ),
            "rate_without_prior": (
                ("variance", right_shape, rate(0.0, 1.0)),
                "the prior adds to the rate too: (nu0 s20 + S)/2 for sigma2, (eta0 t20 + Q)/2 "
                "for tau2.",
            ),
            "guess_not_times_count": (
                ("variance", right_shape, rate("guess", 1.0)),
                "the prior's part of the rate is nu0 * s20 (eta0 * t20 for tau2), its number "
                "of pseudo-observations times its guess, not the guess alone.",
            ),
            "shape_missing_half": (
                ("variance", 2 * right_shape, right_rate),
                "is the 1/2 in the Gamma shape missing? It is (prior count + data count)/2.",
            ),
        }
    return {k: (_Law(*law), hint) for k, (law, hint) in out.items()}


def _sigma2_slips(prior) -> dict[str, tuple[_Law, str]]:
    _, _, _, _, a_s, b_s = _hyper(prior)
    s20 = prior.s20 if isinstance(prior, SemiConjugate) else 0.0

    def shape(p, d):
        return p * a_s + d * _N_TOT / 2

    def rate(p, d):  # p == "guess": the prior's guess s20 without its count nu0
        return (s20 / 2 if p == "guess" else p * b_s) + d * _S / 2

    out = _gamma_slips("sigma2", shape, rate, _N_TOT / 2, isinstance(prior, SemiConjugate))
    out["ss_only"] = (
        _Law("variance", shape(1.0, 1.0), b_s + float(_SS.sum()) / 2),
        "S must be the squared distances to theta_j: sum_j SS_j + n_j (ybar_j - theta_j)^2. "
        "Is the n_j (ybar_j - theta_j)^2 term missing?",
    )
    if not isinstance(prior, SemiConjugate):
        out["shape_n"] = (
            _Law("variance", _N_TOT, _S / 2),
            "the Gamma shape of 1/sigma2 is N/2, N = sum_j n_j the number of students (each "
            "brings a factor phi^(1/2)), not N.",
        )
    return out


def _tau2_slips(prior) -> dict[str, tuple[_Law, str]]:
    _, _, a_tau, b_tau, _, _ = _hyper(prior)
    semi = isinstance(prior, SemiConjugate)
    t20 = prior.t20 if semi else 0.0

    def shape(p, d):
        return p * a_tau + d * _M / 2

    def rate(p, d):
        return (t20 / 2 if p == "guess" else p * b_tau) + d * _Q / 2

    out = _gamma_slips("tau2", shape, rate, (_M - 2) / 2, semi)
    if not semi:
        reference = (
            _M / 2,
            "shape m/2 belongs to the log-uniform prior p(tau2) ∝ 1/tau2 (the lecture's "
            "'reference prior'); the default flat prior on tau2 gives shape (m-2)/2.",
        )
        flat = ((_M - 2) / 2, "the flat prior on tau2 gives shape (m-2)/2; p(tau) ∝ 1 gives "
                "(m-1)/2.")  # fmt: skip
        for key, (a, hint) in {"shape_reference": reference, "shape_flat": flat}.items():
            if not math.isclose(a, shape(1.0, 1.0)):
                out[key] = (_Law("variance", a, _Q / 2), hint)
    return out


def _mu_slips(prior) -> dict[str, tuple[_Law, str]]:
    mu0, p0, *_ = _hyper(prior)
    t2 = CONDITIONS["mu"]["tau2"]
    tbar, m = float(_THETA.mean()), _M
    prec = m / t2 + p0
    mean = (m * tbar / t2 + p0 * mu0) / prec
    out = {
        "sd_as_variance": (
            ("normal", mean, 1 / prec),
            "rng.normal takes the standard deviation: pass sqrt of the variance "
            + ("1/(m/tau2 + 1/g20)." if p0 else "tau2/m."),
        ),
        "sum_not_mean": (
            ("normal", (m * _THETA.sum() / t2 + p0 * mu0) / prec, 1 / math.sqrt(prec)),
            "the centre of mu | rest uses the average of the theta_j, not their sum.",
        ),
    }
    if p0 == 0:
        out |= {
            "variance_tau2": (
                ("normal", tbar, math.sqrt(t2)),
                "Var(mu | rest) is tau2/m, not tau2: the mean of m school means is m times as "
                "precise as one of them.",
            ),
            "variance_m_minus_1": (
                ("normal", tbar, math.sqrt(t2 / (m - 1))),
                "Var(mu | rest) is tau2/m: all m school means count, not m - 1.",
            ),
        }
        return {k: (_Law(*law), hint) for k, (law, hint) in out.items()}
    g20 = 1 / p0
    out |= {
        "prior_ignored": (
            ("normal", tbar, math.sqrt(t2 / m)),
            "your draws ignore the prior on mu: precisions add, m/tau2 from the schools and "
            "1/g20 from the prior, and the mean is their precision-weighted average of "
            "theta-bar and mu0.",
        ),
        "equal_weights": (
            ("normal", (tbar + mu0) / 2, 1 / math.sqrt(prec)),
            "the mean of mu | rest weights theta-bar and mu0 by their precisions, m/tau2 and "
            "1/g20, not equally.",
        ),
        "weights_swapped": (
            ("normal", (tbar * p0 + mu0 * m / t2) / prec, 1 / math.sqrt(prec)),
            "the weights are swapped: theta-bar gets the schools' precision m/tau2, mu0 the "
            "prior's 1/g20.",
        ),
        "m_missing": (
            ("normal", (tbar / t2 + p0 * mu0) / (1 / t2 + p0), 1 / math.sqrt(1 / t2 + p0)),
            "the schools bring precision m/tau2 (m of them), not 1/tau2.",
        ),
        "g20_as_precision": (
            ("normal", (m * tbar / t2 + g20 * mu0) / (m / t2 + g20), 1 / math.sqrt(m / t2 + g20)),
            "g20 is the prior's variance of mu: its precision is 1/g20.",
        ),
        "variances_added": (
            ("normal", mean, math.sqrt(t2 / m + g20)),
            "precisions add, not variances: Var(mu | rest) = 1/(m/tau2 + 1/g20).",
        ),
    }
    return {k: (_Law(*law), hint) for k, (law, hint) in out.items()}


def slips(name: str, prior=None) -> dict[str, tuple[Any, str]]:
    """The classic slips of update ``name`` under ``prior``: ``{key: (law, hint)}``, each law
    the distribution the slip draws from at :data:`CONDITIONS`. Slips that coincide with the
    exact law for this prior are left out. For ``"b"`` (no prior), ``law`` is a tuple: the
    slip's law at each school of :data:`B_CONDITIONS`."""
    name = _ALIASES.get(name, name)
    if name == "b":
        _b_prior(prior)
        return _b_slips()
    prior = _as_prior(prior)
    table = {
        "theta": lambda: _theta_slips(),
        "mu": lambda: _mu_slips(prior),
        "sigma2": lambda: _sigma2_slips(prior),
        "tau2": lambda: _tau2_slips(prior),
    }[name]()
    right = _exact(name, prior)
    return {k: v for k, v in table.items() if not _same_law(v[0], right)}


def _same_law(a: _Law, b: _Law) -> bool:
    return (
        a.kind == b.kind
        and np.allclose(a.a, b.a, rtol=1e-9, atol=0)
        and np.allclose(a.b, b.b, rtol=1e-9, atol=0)
    )


# --------------------------------------------------------------------------- b_j (mixed model)
_SIGMA_RB = np.array([[2.379, 0.192], [0.192, 0.101]])  # the R&B model's REML Sigma
_SIGMA2_RB = 36.72  # and its REML sigma2 (statsmodels MixedLM, nlme: the same to 3 digits)


def _b_condition(label: str, ztz, zt_resid, sigma2: float, cov_re) -> dict[str, Any]:
    return {"label": label, "ztz": np.array(ztz, dtype=float),
            "zt_resid": np.array(zt_resid, dtype=float), "sigma2": float(sigma2),
            "cov_re": np.array(cov_re, dtype=float)}  # fmt: skip


B_CONDITIONS: tuple[dict[str, Any], ...] = (
    _b_condition(
        "a typical school (47 students, SES centred within the school)",
        [[47.0, 0.0], [0.0, 18.1003]], [-4.5109, 0.2709], _SIGMA2_RB, _SIGMA_RB,
    ),
    _b_condition(
        "a small school under a strongly correlated Σ (14 students, correlation 0.95)",
        [[14.0, 0.0], [0.0, 7.4181]], [-107.9612, -20.1865], _SIGMA2_RB,
        [[4.0, 1.14], [1.14, 0.36]],
    ),
    _b_condition(
        "a school with SES not centred (19 students: Z_j'Z_j not diagonal)",
        [[19.0, -11.292], [-11.292, 11.5733]], [25.101, -22.546], 30.0, _SIGMA_RB,
    ),
    _b_condition(
        "a school whose students' SES hardly varies (8 students: Z_j'Z_j nearly singular) "
        "under a vague Σ",
        [[8.0, 6.4], [6.4, 5.14]], [10.0, 8.1], _SIGMA2_RB, [[100.0, 0.0], [0.0, 100.0]],
    ),
)  # fmt: skip
"""The schools ``draw_b`` is called at (``ztz``, ``zt_resid``, ``sigma2``, ``cov_re``, q = 2:
intercept and SES slope). Sets 1 and 2 are HSB schools 1224 and 8367 with ``Z = [1, cses]``,
residuals at the R&B model's REML fixed effects, sigma2 and Sigma (set 2 with a Sigma of
correlation 0.95); set 3 is school 9292 with raw SES (so ``ztz`` has off-diagonal terms); set 4
is a made-up school of 8 students with SES 0.80 +- 0.05 (``ztz`` of determinant 0.16) under a
vague Sigma = 100 I, where the posterior correlation of intercept and slope is -0.94."""
_Q_B = 2
_SHAPES = {"theta": (_M,), "b": (_Q_B,)}
"""The shape of one call's draw of the updates that return an array."""


@dataclass(frozen=True)
class _MvLaw:
    """A multivariate normal law :math:`N(\\text{mean}, \\text{cov})` of one call's draw."""

    mean: np.ndarray
    cov: np.ndarray

    def whiten(self, x: np.ndarray) -> np.ndarray:
        """:math:`L^{-1}(x - \\text{mean})` row by row, :math:`LL^T` = cov (Cholesky): iid
        N(0, 1) coordinates when ``x`` follows the law."""
        chol = np.linalg.cholesky(self.cov)
        return np.linalg.solve(chol, (x - self.mean).T).T


def _b_values(c: dict[str, Any]) -> tuple:
    return c["ztz"], c["zt_resid"], c["sigma2"], c["cov_re"]


def _b_laws() -> list[_MvLaw]:
    """The exact law of b_j at each school of :data:`B_CONDITIONS`."""
    laws = []
    for c in B_CONDITIONS:
        d = conditionals.b_mixed(*_b_values(c))
        laws.append(_MvLaw(np.asarray(d.mean, dtype=float), np.asarray(d.cov, dtype=float)))
    return laws


def _b_slip_moments(c: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(mean, covariance) each slip of ``draw_b`` draws from at school ``c``."""
    a, r, s2, sigma = _b_values(c)
    inv = np.linalg.inv
    m_mat = a + s2 * inv(sigma)
    mean, cov = inv(m_mat) @ r, s2 * inv(m_mat)
    chol, chol_m = np.linalg.cholesky(cov), np.linalg.cholesky(m_mat)

    def with_m(other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return inv(other) @ r, s2 * inv(other)

    return {
        "sigma_not_inverted": with_m(a + s2 * sigma),
        "sigma2_missing_in_m": with_m(a + inv(sigma)),
        "cov_missing_sigma2": (mean, inv(m_mat)),
        "cov_sigma_not_sigma2": (mean, math.sqrt(s2) * inv(m_mat)),
        "mean_times_sigma2": (s2 * mean, cov),
        "mean_without_inverse": (r, cov),
        "prior_draw": (np.zeros_like(r), sigma),
        "prior_ignored": (inv(a) @ r, s2 * inv(a)),
        "transposed_cholesky": (mean, chol.T @ chol),
        "precision_cholesky_not_transposed": (mean, s2 * inv(chol_m.T @ chol_m)),
        "independent_coordinates": (mean, np.diag(np.diag(cov))),
        "coordinates_swapped": (mean[::-1], cov[::-1, ::-1]),
    }


_B_HINTS = {
    "sigma_not_inverted": "the prior's part of M is sigma2 times the *inverse* of Σ: M = ztz + "
    "sigma2 * np.linalg.inv(cov_re), not ztz + sigma2 * cov_re.",
    "sigma2_missing_in_m": "M = Z_j'Z_j + σ² Σ⁻¹: the sigma2 in front of inv(cov_re) is "
    "missing (or, in the precision form ztz/sigma2 + inv(cov_re), the division of ztz by "
    "sigma2).",
    "cov_missing_sigma2": "the covariance of b_j is σ² M⁻¹: multiply inv(M) by sigma2.",
    "cov_sigma_not_sigma2": "the covariance of b_j is σ² M⁻¹ with σ² = sigma2 itself (a "
    "variance), not its square root.",
    "mean_times_sigma2": "the mean of b_j is M⁻¹ Z_j'(y_j - X_j β) = np.linalg.solve(M, "
    "zt_resid), with no sigma2 in front (in the precision form P = ztz/sigma2 + inv(cov_re) "
    "it is solve(P, zt_resid / sigma2)).",
    "mean_without_inverse": "the mean of b_j is M⁻¹ Z_j'(y_j - X_j β): np.linalg.solve(M, "
    "zt_resid), not zt_resid itself.",
    "prior_draw": "your draws follow the prior N(0, Σ) and ignore the school's data: b_j | "
    "rest ~ N(M⁻¹ zt_resid, σ² M⁻¹) with M = ztz + sigma2 * inv(cov_re).",
    "prior_ignored": "your draws ignore the prior N(0, Σ): they are centred at the school's "
    "least-squares fit (Z_j'Z_j)⁻¹ Z_j'r_j. The prior adds σ² Σ⁻¹ to Z_j'Z_j (M = ztz + "
    "sigma2 * inv(cov_re)), which shrinks b_j towards 0.",
    "transposed_cholesky": "a draw is mean + L z with L the *lower* Cholesky factor of the "
    "covariance (L Lᵀ = σ² M⁻¹, as np.linalg.cholesky gives it) and z = "
    "rng.standard_normal(2): yours uses its transpose (Lᵀ z, or z @ L; scipy.linalg.cholesky "
    "gives the upper factor unless lower=True).",
    "precision_cholesky_not_transposed": "with the Cholesky factor L of M (L Lᵀ = M), a draw "
    "is mean + sqrt(sigma2) * solve(Lᵀ, z), not solve(L, z).",
    "independent_coordinates": "your intercept and slope are drawn independently (the right "
    "spreads, no correlation): draw them jointly from N(mean, σ² M⁻¹), e.g. mean + L z with "
    "L = np.linalg.cholesky(sigma2 * np.linalg.inv(M)) and z = rng.standard_normal(2).",
    "coordinates_swapped": "your draws come out as (slope, intercept): return them in the "
    "order of Z's columns (intercept first), the order of ztz and zt_resid.",
}


def _b_slips() -> dict[str, tuple[tuple[_MvLaw, ...], str]]:
    """``{key: (law at each school of B_CONDITIONS, hint)}``, leaving out a slip that draws
    from the exact law at every school."""
    moments = [_b_slip_moments(c) for c in B_CONDITIONS]
    right = _b_laws()
    out = {}
    for key, hint in _B_HINTS.items():
        laws = tuple(_MvLaw(*m[key]) for m in moments)
        if not all(_same_mv(s, e) for s, e in zip(laws, right, strict=True)):
            out[key] = (laws, hint)
    return out


def _same_mv(a: _MvLaw, b: _MvLaw) -> bool:
    return bool(
        np.allclose(a.mean, b.mean, rtol=1e-9, atol=0)
        and np.allclose(a.cov, b.cov, rtol=1e-9, atol=0)
    )


# --------------------------------------------------------------------------- arguments
def _as_prior(prior):
    if prior is None:
        return Default()
    if isinstance(prior, Default | SemiConjugate):
        return prior
    raise TypeError(
        "prior must be None (the lecture's default), a priors.Default or a "
        f"priors.SemiConjugate; got {type(prior).__name__}"
    )


def _b_prior(prior) -> None:
    """``None``: the law of b_j given the rest involves no prior but Σ's value (``cov_re``)."""
    if prior is not None:
        raise ValueError(
            "the b_j update takes no prior: b_j | rest ~ N(M⁻¹ zt_resid, σ² M⁻¹) whatever the "
            "priors on β, σ² and Σ (Σ enters as cov_re); check it with prior=None"
        )


SLIPS = {name: slips(name) for name in (*CONDITIONS, "b")}
"""The slips recognised under the default prior: ``SLIPS[name][key] = (law, hint)`` (for
``"b"``, ``law`` is the tuple of the slip's laws at the schools of :data:`B_CONDITIONS`)."""


def _b_shape_message(shape: tuple) -> str:
    hint = ""
    if shape == (_Q_B, _Q_B):
        hint = " (a matrix: is there a * where @ belongs, e.g. inv(M) * zt_resid?)"
    elif shape in ((_Q_B, 1), (1, _Q_B)):
        hint = " (a column or a row: draw z = rng.standard_normal(2), not (2, 1), or .ravel())"
    return (
        f"draw_b must return one draw of b_j, an array of shape ({_Q_B},) (intercept, slope); "
        f"yours has shape {shape}{hint}."
    )


def _as_rng(seed: Any) -> np.random.Generator:
    """``numpy.random.default_rng(seed)``, with its errors naming ``seed``."""
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as err:
        kind = TypeError if isinstance(err, TypeError) else ValueError
        raise kind(
            "seed must be what numpy.random.default_rng accepts (None, an int >= 0, a "
            f"SeedSequence, a BitGenerator or a Generator); got {seed!r}"
        ) from None


def _clone(rng: np.random.Generator) -> np.random.Generator:
    """A new generator in the same state as ``rng`` (``rng`` itself does not move)."""
    bit = type(rng.bit_generator)()
    bit.state = rng.bit_generator.state
    return np.random.Generator(bit)


def _takes_prior(name: str, prior) -> bool:
    return name in ("sigma2", "mu", "tau2") and isinstance(prior, SemiConjugate)


def _signature(name: str, prior) -> str:
    base = _SIGNATURES[name]
    return base[:-1] + ", prior)" if _takes_prior(name, prior) else base


class _Set(NamedTuple):
    """One set of values an update is called at: ``label`` (words for the messages, empty
    for the first set of a scalar update), the ``prior`` given, the number of calls, the
    arguments after ``rng`` (``values``) and the exact law of the draws there."""

    label: str
    prior: Any
    n_calls: int
    values: tuple
    law: Any


def _condition_sets(name: str, prior) -> list[_Set]:
    """The sets of values the update is tested at: for the scalar updates, each prior (the
    one given, and :data:`STRESS_PRIOR`); for ``b``, each school of :data:`B_CONDITIONS`."""
    if name == "b":
        return [
            _Set(f" at {c['label']}", None, N_CALLS_B, _b_values(c), law)
            for c, law in zip(B_CONDITIONS, _b_laws(), strict=True)
        ]
    sets = [_Set("", prior, N_CALLS, _args(name, prior), _exact(name, prior))]
    if _takes_prior(name, prior) and prior != STRESS_PRIOR:
        label = " at the check's stronger prior (checks.STRESS_PRIOR)"
        stress = _args(name, STRESS_PRIOR)
        sets.append(_Set(label, STRESS_PRIOR, N_STRESS, stress, _exact(name, STRESS_PRIOR)))
    return sets


# --------------------------------------------------------------------------- running the update
class _Stop(Exception):
    """The function could not be run or broke a rule; ``args[0]`` is the message."""

    def __init__(self, message: str, status: str = "error"):
        super().__init__(message)
        self.status = status


def _check_callable(label: str, fn: Callable, args: tuple, expected: str) -> None:
    if not callable(fn):
        raise _Stop(f"{label} must be a function; got {type(fn).__name__}.")
    if inspect.isgeneratorfunction(fn):
        raise _Stop(
            f"{label} is a generator function (it uses `yield`): `return` the draw instead."
        )
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a builtin or C function: just call it
    try:
        sig.bind(None, *args)
    except TypeError:
        raise _Stop(
            f"{label} must take {len(args) + 1} arguments, {expected}; yours takes {sig}."
        ) from None


def _as_numbers(label: str, out: Any) -> np.ndarray:
    """The student's return value as a float array, or a :class:`_Stop` saying why not."""
    if out is None:
        raise _Stop(f"{label} returned None: did you forget `return`?")
    if isinstance(out, types.GeneratorType):
        raise _Stop(f"{label} returned a generator (it uses `yield`): `return` the draw instead.")
    if isinstance(out, str | bytes):
        raise _Stop(f"{label} returned the text {str(out)[:40]!r}, not a number.")
    try:
        raw = np.asarray(out)
        kind = raw.dtype.kind
        if kind == "c" or (kind == "O" and any(isinstance(v, complex) for v in raw.ravel())):
            raise _Stop(
                f"{label} returned complex numbers: a draw must be real (is there a square root "
                "of a negative number?)."
            )
        if kind in "US":
            raise _Stop(f"{label} returned text, not numbers.")
        if kind == "b" or isinstance(out, bool):
            raise _Stop(f"{label} returned True/False, not a number.")
        return np.asarray(raw, dtype=float)
    except (_Stop, _guard.Timeout):
        raise
    except BaseException as err:  # noqa: BLE001 - the student's object: report, never re-raise
        raise _Stop(
            f"{label} returned {type(out).__name__}, which cannot be read as numbers "
            f"({type(err).__name__}: {err})."
        ) from None


def _call(label: str, fn: Callable, first: Any, args: tuple) -> Any:
    """``fn(first, *args)`` (``first``: the rng of an update, the data of a sampler)."""
    try:
        return fn(first, *args)
    except NotImplementedError:
        raise _Stop(f"{label} is not written yet.", "not written") from None
    except _guard.Timeout:
        raise
    except BaseException as err:  # noqa: BLE001 - the student's code: report, never re-raise
        raise _Stop(
            f"{label} {_guard.describe_exception(err)}{_guard.where(err, _MY_FILES)}"
        ) from None


def _one_draw(name: str, fn: Callable, rng: np.random.Generator, args: tuple) -> np.ndarray:
    return _validated(name, _call(f"draw_{name}", fn, rng, args))


def _validated(name: str, out: Any) -> np.ndarray:
    """One call's return value as a flat float array of the right size, finite, or a
    :class:`_Stop` saying what is wrong with it."""
    label = f"draw_{name}"
    arr = _as_numbers(label, out)
    if name == "theta":
        if arr.shape != (_M,):
            raise _Stop(
                f"draw_theta must return one draw of every theta_j, an array of shape ({_M},) "
                f"for {_M} schools; yours has shape {arr.shape}."
            )
    elif name == "b":
        if arr.shape != (_Q_B,):
            raise _Stop(_b_shape_message(arr.shape))
    elif arr.size != 1:
        raise _Stop(f"draw_{name} must return one number; yours returned shape {arr.shape}.")
    _refuse_non_finite(name, arr.reshape(1, -1))
    return arr.reshape(-1)


def _refuse_non_finite(name: str, rows: np.ndarray) -> None:
    """A :class:`_Stop` naming the first value that is not a finite number in ``rows`` (one
    row per call, in the order of the calls)."""
    bad = ~np.isfinite(rows)
    if bad.any():
        first = rows[np.flatnonzero(bad.any(axis=1))[0]]
        raise _Stop(
            f"draw_{name} returned {first[~np.isfinite(first)][0]} (not a finite "
            "number): look for a division by zero, a log or sqrt of a negative number, or an "
            "uninitialised value."
        )


def _fill(name: str, fn: Callable, rng, args: tuple, out: np.ndarray, clock: _Clock) -> None:
    """``out[i]`` = the draw of call ``i``, for every row of ``out``, as :func:`_one_draw`
    would give them but at a fraction of its cost per call: the usual return values (a float
    or numpy float64 for the scalar updates, a float64 array of shape (m,) for theta) are
    stored as they are and checked for NaN and infinity all at once at the end (or when a
    later call stops the loop, so the first bad value is still the one reported); any other
    return value goes through :func:`_validated`."""
    label = f"draw_{name}"
    scalar = name not in _SHAPES
    shape = _SHAPES.get(name)
    tick = clock.tick
    done = 0
    try:
        for i in range(out.shape[0]):
            r = fn(rng, *args)
            kind = type(r)
            if scalar and (kind is float or kind is np.float64):
                out[i, 0] = r
            elif not scalar and kind is np.ndarray and r.dtype == np.float64 and r.shape == shape:
                out[i] = r
            else:
                out[i] = _validated(name, r)
            done = i + 1
            tick(label)
    except (_Stop, _guard.Timeout):
        _refuse_non_finite(name, out[:done])
        raise
    except NotImplementedError:
        _refuse_non_finite(name, out[:done])
        raise _Stop(f"{label} is not written yet.", "not written") from None
    except BaseException as err:  # noqa: BLE001 - the student's code: report, never re-raise
        _refuse_non_finite(name, out[:done])
        raise _Stop(
            f"{label} {_guard.describe_exception(err)}{_guard.where(err, _MY_FILES)}"
        ) from None
    _refuse_non_finite(name, out)


class _Clock:
    """The time budget of one check: a deadline, and the projection from the calls so far
    (stopped early when, after 20, 200 or 2000 calls, the projected total exceeds 3, 1.5 or 1
    times the budget)."""

    CHECKPOINTS = {22: 3.0, 202: 1.5, 2002: 1.0}

    def __init__(self, budget: float, planned: int):
        self.start = time.monotonic()
        self.deadline = self.start + budget
        self.budget = budget
        self.planned = planned
        self.done = 0
        self._mark: tuple[float, int] | None = None

    def tick(self, label: str, what: str = "call") -> None:
        self.done += 1
        now = time.monotonic()
        if self.done == 2:  # the first call may compile or import: time from the second on
            self._mark = (now, self.done)
        elif self._mark and self.done in self.CHECKPOINTS:
            t0, k0 = self._mark
            per = (now - t0) / (self.done - k0)
            projected = now - self.start + per * (self.planned - self.done)
            if projected > self.budget * self.CHECKPOINTS[self.done]:  # early: a wide margin
                raise _Stop(
                    f"{label} is too slow for the check: about {per * 1e3:.2g} ms per {what}, "
                    f"and the check needs {self.planned:,} of them (about {projected:.0f} s; "
                    f"its budget is {self.budget:.0f} s). Work on whole arrays with numpy "
                    "instead of Python loops, and draw all schools in one call."
                )
        if now >= self.deadline:
            raise _Stop(self.timeout_message(label))

    def timeout_message(self, label: str) -> str:
        return (
            f"{label} did not finish within the check's time budget of {self.budget:.0f} s "
            f"({self.done:,} of {self.planned:,} calls done): is there a loop that never ends?"
        )


def _draws_at(
    name: str, fn: Callable, args: tuple, original: tuple, rng, clock: _Clock, n_calls: int
) -> np.ndarray:
    """``n_calls`` draws of the update at ``args`` (read-only copies of ``original``); the
    first two from clones of ``rng``'s state must agree (the update draws with the ``rng``
    passed in)."""
    first = _one_draw(name, fn, _clone(rng), args)
    again = _one_draw(name, fn, _clone(rng), args)
    clock.tick(f"draw_{name}")
    clock.tick(f"draw_{name}")
    if not _unchanged(args, original):
        raise _Stop(f"draw_{name} changed its input arrays: work on copies, never in place.")
    if not np.array_equal(first, again):
        raise _Stop(
            f"draw_{name} gives different draws from the same rng state: draw with the `rng` "
            "passed in (e.g. rng.normal, rng.gamma), not with np.random or another generator."
        )
    out = np.empty((n_calls, first.size))
    _fill(name, fn, rng, args, out, clock)
    if np.all(out == out[0]):
        raise _Stop(
            f"draw_{name} returns the same value at every call: a Gibbs update must draw at "
            "random from the full conditional (with rng), not return its mean.",
            "wrong",
        )
    if name in ("sigma2", "tau2") and np.any(out <= 0):
        raise _Stop(
            f"draw_{name} returned {np.sum(out <= 0)} values <= 0 in {len(out)} calls: a variance "
            "must be positive (is it a normal draw where a Gamma belongs?).",
            "wrong",
        )
    return out


def _args(name: str, prior) -> tuple:
    values = tuple(CONDITIONS[name].values())
    return values + (prior,) if _takes_prior(name, prior) else values


def _collect(name: str, fn: Callable, sets, seed) -> tuple[list[np.ndarray], _guard.Guard]:
    """Run the update at every condition set inside a guard; a rule broken is a _Stop."""
    rng = _as_rng(seed)
    calls = [_guard_args(s.values) for s in sets]
    clock = _Clock(TIME_BUDGET, sum(s.n_calls + 2 for s in sets))
    guard = _guard.Guard(clock.deadline)
    draws: list[np.ndarray] = []
    stop: _Stop | None = None
    with guard:
        try:
            for args, s in zip(calls, sets, strict=True):
                draws.append(_draws_at(name, fn, args, s.values, rng, clock, s.n_calls))
        except _Stop as err:
            stop = err
        except _guard.Timeout:
            stop = _Stop(clock.timeout_message(f"draw_{name}"))
    label = f"draw_{name}"
    if guard.touched_global_rng and (stop is None or stop.status != "not written"):
        stop = _Stop(
            f"{label} uses numpy's global generator (np.random.seed, np.random.normal, ...) or "
            "Python's random module: draw only with the `rng` passed in, and never reseed "
            "anything inside an update."
        )
    for s, args in zip(sets, calls, strict=True):
        if stop is None and not _unchanged(args, s.values):
            stop = _Stop(f"{label} changed its input arrays: work on copies, never in place.")
    if stop is not None:
        raise _Stop(str(stop) + _printed_note(guard), stop.status)
    return draws, guard


def _guard_args(values: tuple) -> tuple:
    return tuple(_guard.read_only(v) for v in values)


def _unchanged(given: tuple, original: tuple) -> bool:
    return all(
        np.array_equal(g, o) if isinstance(o, np.ndarray) else g == o
        for g, o in zip(given, original, strict=True)
    )


def _printed_note(guard: _guard.Guard) -> str:
    if guard.printed_chars == 0:
        return ""
    first = guard.printed.strip().splitlines()[:1]
    shown = f", the first: {first[0][:60]!r}" if first else ""
    return (
        f" (It printed {guard.printed_lines:,} lines, {guard.printed_chars:,} characters, "
        f"during the check{shown}; they were hidden. Take print calls out of an update.)"
    )


# --------------------------------------------------------------------------- statistics
def _two_sided_normal(z: Any) -> Any:
    return 2 * special.ndtr(-np.abs(z))


def _two_sided(cdf: Any) -> Any:
    return np.minimum(1.0, 2 * np.minimum(cdf, 1 - cdf))


def _tests(x: np.ndarray, law: _Law) -> dict[str, Any]:
    """Raw p-values of the tests (module docstring) of draws ``x`` (calls x schools, or
    calls x coordinates for a multivariate law)."""
    if isinstance(law, _MvLaw):
        return _mv_tests(x, law)
    u = law.standardise(x)
    n, m = u.shape
    p: dict[str, Any] = {"location": _two_sided_normal(np.sqrt(n) * u.mean(axis=0))}
    s2 = u.var(axis=0, ddof=1)
    if law.kind == "normal":
        p["spread"] = _two_sided(sps.chi2.cdf((n - 1) * s2, n - 1))
    else:
        sd = np.sqrt(law.excess_kurtosis() / n + 2 / (n - 1))
        p["spread"] = _two_sided_normal((s2 - 1) / sd)
    p["shape"] = float(sps.kstest(law.pit(x).ravel(), "uniform", method="asymp").pvalue)
    # dependence tests on u centred and scaled per school: a location or spread error
    # alone does not make them fail
    c = (u - u.mean(axis=0)) / u.std(axis=0)
    lag = float(np.sum(c[1:] * c[:-1]) / (n * m))
    p["serial"] = float(_two_sided_normal(lag * np.sqrt((n - 1) * m)))
    if m > 1:
        r = (c.T @ c) / n
        pairs = np.abs(r[np.triu_indices(m, 1)])
        p["pairs"] = float(min(1.0, pairs.size * _two_sided_normal(pairs.max() * np.sqrt(n))))
        zeta = c.sum(axis=1) / np.sqrt(m)
        p["together"] = float(_two_sided(sps.chi2.cdf(np.sum(zeta**2), n - 1)))
    return p


def _mv_tests(x: np.ndarray, law: _MvLaw) -> dict[str, Any]:
    """Raw p-values of the tests of multivariate draws ``x`` (calls x q) on their whitened
    values :math:`u = L^{-1}(x - m)`, iid :math:`N(0, I_q)` under the law: the location and
    the variance of each coordinate (normal and :math:`\\chi^2`), each pair's correlation (the
    exact t-test), the squared Mahalanobis distance :math:`|u|^2` against :math:`\\chi^2_q` and
    each coordinate against N(0, 1) (Kolmogorov-Smirnov), and the lag-1 correlation of calls."""
    u = law.whiten(x)
    n, q = u.shape
    p: dict[str, Any] = {"location": _two_sided_normal(np.sqrt(n) * u.mean(axis=0))}
    p["spread"] = _two_sided(sps.chi2.cdf((n - 1) * u.var(axis=0, ddof=1), n - 1))
    r = np.clip(np.corrcoef(u.T)[np.triu_indices(q, 1)], -1.0, 1.0)
    with np.errstate(divide="ignore"):
        t = r * np.sqrt((n - 2) / (1 - r * r))
    p["correlation"] = 2 * sps.t.sf(np.abs(t), n - 2)
    distance = sps.chi2.cdf(np.sum(u * u, axis=1), q)
    p["distance"] = float(sps.kstest(distance, "uniform", method="asymp").pvalue)
    p["shape"] = np.array(
        [sps.kstest(special.ndtr(u[:, i]), "uniform", method="asymp").pvalue for i in range(q)]
    )
    c = (u - u.mean(axis=0)) / u.std(axis=0)
    lag = float(np.sum(c[1:] * c[:-1]) / (n * q))
    p["serial"] = float(_two_sided_normal(lag * np.sqrt((n - 1) * q)))
    # a NaN statistic (draws degenerate in some direction) is a failed test, never a pass
    return {key: np.nan_to_num(v, nan=0.0) for key, v in p.items()}


def _n_tests(p: dict[str, Any]) -> int:
    return sum(np.size(v) for v in p.values())


def _min_p(p: dict[str, Any]) -> float:
    return min(float(np.min(v)) for v in p.values())


def _family(pvalues: list[dict[str, Any]]) -> float:
    """Bonferroni: the smallest p-value times the number of tests (capped at 1)."""
    k = sum(_n_tests(p) for p in pvalues)
    return float(min(1.0, k * min(float(np.min(v)) for p in pvalues for v in p.values())))


def _fmt_p(p: float) -> str:
    """A p-value that never reads 0.00: 0.31, 0.0042, 3e-07, < 1e-16."""
    if p < 1e-16:
        return "< 1e-16"
    if p >= 0.01:
        return f"{p:.2f}"
    return f"{p:.2g}" if p >= 1e-4 else f"{p:.0e}"


def _eq(p: float) -> str:
    """'= 3e-07' or '< 1e-16'."""
    text = _fmt_p(p)
    return text if text.startswith("<") else f"= {text}"


def _off(r: float) -> str:
    """'5% too large', 'about 2.0 times too small'."""
    if not (r > 0 and math.isfinite(r)):
        return "far off"
    if 1 / 1.5 < r < 1.5:
        pct = abs(r - 1) * 100 if r >= 1 else (1 / r - 1) * 100
        return f"{pct:.0f}% too {'large' if r >= 1 else 'small'}"
    if r >= 1:
        return f"about {r:.1f} times too large" if r < 100 else f"about {r:.0e} times too large"
    return (
        f"about {1 / r:.1f} times too small" if r > 0.01 else f"about {1 / r:.0e} times too small"
    )


_SERIAL_WORDS = (
    "draws of consecutive calls are correlated: each call must draw afresh with rng, not keep "
    "or reuse an earlier draw"
)


def _describe(name: str, x: np.ndarray, law: _Law, p: dict[str, Any], cut: float) -> str:
    """What the failing tests say about the draws, in words (``cut``: the raw p-value below
    which a test failed)."""
    u = law.standardise(x)
    parts = []
    fails = {key: np.atleast_1d(v) < cut for key, v in p.items()}
    if fails["location"].any():
        off = u.mean(axis=0)
        j = int(np.argmax(np.where(fails["location"], np.abs(off), -1)))
        if law.kind != "normal":
            ratio = math.exp(float(off[0]) * math.sqrt(special.polygamma(1, law.a)))
            parts.append(f"your draws of {name} are {_off(ratio)}")
        elif name == "theta":
            side = "above" if off[j] > 0 else "below"
            parts.append(
                f"your theta_j are centred off: school {j + 1}'s by {abs(off[j]):.2f} sds "
                f"{side} its exact mean"
            )
        else:
            side = "above" if off[j] > 0 else "below"
            parts.append(f"your {name} is centred {abs(off[j]):.2f} sds {side} where it should be")
    if fails["spread"].any():
        sd = u.std(axis=0, ddof=1)
        j = int(np.argmax(np.where(fails["spread"], np.abs(np.log(sd)), -1)))
        if law.kind == "normal":
            who = f"school {j + 1}'s " if name == "theta" else "its "
            parts.append(f"{who}spread is {_off(float(sd[j]))}")
        else:
            parts.append(
                f"their relative spread (the sd of log {name}) is {_off(float(sd[0]))} (is the "
                "Gamma shape right?)"
            )
    if "pairs" in p and (fails["pairs"].any() or fails["together"].any()):
        parts.append(
            "within one call your theta_j move together (correlated across schools): draw the "
            "schools independently, one normal number each (rng.normal(mean, sd) with arrays "
            "mean and sd, or rng.standard_normal(m)), not one number shared by all"
        )
    if fails["serial"].any():
        parts.append(_SERIAL_WORDS)
    if not parts:
        return (
            "the shape of their distribution is off (KS test), although their location and "
            "spread pass their tests"
        )
    return "; ".join(parts)


# --------------------------------------------------------------------------- public
def check_update(name: str, fn: Callable | None, prior=None, seed: Any = 0) -> CheckResult:
    """Check a student's Gibbs update for ``name`` against its exact full conditional.

    Parameters
    ----------
    name : {"theta", "mu", "sigma2", "tau2", "b"}
        Which update ``fn`` is (signatures in the module docstring); ``"b"`` (also
        ``"b_mixed"``) is the update of one school's b_j in the mixed model (notebook 12).
    fn : callable or None
        The student's update; ``None`` (or one raising ``NotImplementedError``) counts as not
        written yet.
    prior : None, priors.Default or priors.SemiConjugate
        The prior the update samples under; ``None`` is the lecture's default (and the only
        value for ``"b"``, whose conditional holds under any prior on β, σ², Σ). Under a
        ``SemiConjugate`` prior ``draw_mu``, ``draw_sigma2`` and ``draw_tau2`` take it as their
        last argument and are tested at ``prior`` (:data:`N_CALLS` calls) and at
        :data:`STRESS_PRIOR` (:data:`N_STRESS` calls).
    seed : int, SeedSequence, Generator or None
        Anything ``numpy.random.default_rng`` accepts; the generator passed to ``fn`` (a
        ``Generator`` given here is used, and advanced, as it is). The same int seed gives the
        same verdict.

    Returns
    -------
    CheckResult
        ``passed`` and a plain-words ``message``. A correct update fails with probability at
        most :data:`ALPHA` = 2e-4; a 5% error of location or scale is caught with probability
        above 0.99 (for ``"b"``, at :data:`N_CALLS_B` calls a school: 0.1 sd of location or
        10% of an sd; module docstring: the tests, their power, the time budget).

    Raises
    ------
    ValueError
        ``name`` is not one of the five updates, ``seed`` is a bad value, or a prior is
        given for ``"b"``.
    TypeError
        ``prior`` or ``seed`` is of the wrong kind.
    """
    name = _ALIASES.get(name, name) if isinstance(name, str) else name
    if name not in _UPDATES:
        raise ValueError(f"name must be one of {sorted(_UPDATES)}; got {name!r}")
    prior = _b_prior(prior) if name == "b" else _as_prior(prior)
    _as_rng(seed if not isinstance(seed, np.random.Generator) else None)  # validate early
    label = f"draw_{name}"
    if fn is None:
        return CheckResult(name, False, f"{label} is not written yet.", "not written")
    sets = _condition_sets(name, prior)
    try:
        _check_callable(label, fn, sets[0].values, _signature(name, prior))
        draws, guard = _collect(name, fn, sets, seed)
    except _Stop as stop:
        return CheckResult(name, False, str(stop), stop.status)
    with np.errstate(all="ignore"):  # huge draws: their statistics may overflow
        result = _verdict(name, draws, sets, prior)
    note = _printed_note(guard)
    if note:
        result = CheckResult(result.name, result.passed, result.message + note, result.status,
                             result.p_value, result.slip, result.details)  # fmt: skip
    return result


def _verdict(name: str, draws: list[np.ndarray], sets, prior) -> CheckResult:
    """The tests at every condition set and, when they fail, the slip that fits."""
    if name == "b":
        return _verdict_b(draws, sets)
    laws = [s.law for s in sets]
    pvalues = [_tests(x, law) for x, law in zip(draws, laws, strict=True)]
    p = _family(pvalues)
    n_tests = sum(_n_tests(q) for q in pvalues)
    label = f"draw_{name}"
    if p >= ALPHA:
        calls = f"{N_CALLS:,} draws" + (
            f" at your prior and {N_STRESS:,} at a stronger one" if len(sets) > 1 else ""
        )
        return CheckResult(
            name, True, f"{label} passed: {calls} fit the exact full conditional "
            f"({n_tests} tests of location, spread, shape and independence; smallest p-value "
            f"{_fmt_p(min(_min_p(q) for q in pvalues))}).", "passed", p, None, {"p": pvalues},
        )  # fmt: skip
    k = next(i for i, q in enumerate(pvalues) if _min_p(q) * n_tests < ALPHA)
    where, x = sets[k].label, draws[k]
    what = _describe(name, x, laws[k], pvalues[k], ALPHA / n_tests)
    candidates = dict(slips(name, sets[k].prior))
    if k > 0 and not _same_law(laws[0], laws[k]):
        candidates["ignores_prior_argument"] = (
            laws[0],
            "your draws follow the prior of your notebook, not the prior passed in: read "
            "mu0, g20, eta0, t20, nu0, s20 from the `prior` argument.",
        )
    fits = {key: _family([_tests(x, law)]) for key, (law, _) in candidates.items()}
    details = {"p": pvalues, "slip_p": fits}
    named = _named_slip(name, where, what, p, fits, candidates, details)
    if named is not None:
        return named
    best = "one_draw_for_all" if "pairs" in pvalues[k] and _shared_draw(x, laws[k]) else None
    message = f"{label} is not right{where}: {what} (adjusted p {_eq(p)})."
    return CheckResult(name, False, message, "wrong", p, best, details)


_B_WORDS = ("the intercept b_j[0]", "the slope b_j[1]")


def _describe_b(x: np.ndarray, law: _MvLaw, p: dict[str, Any], cut: float) -> str:
    """What the failing tests say about draws of b_j, in words: the location, the spreads and
    the correlation of intercept and slope against the exact ones."""
    fails = {key: np.atleast_1d(v) < cut for key, v in p.items()}
    sd = np.sqrt(np.diag(law.cov))
    parts = []
    if fails["location"].any():
        off = (x.mean(axis=0) - law.mean) / sd
        i = int(np.argmax(np.abs(off)))
        side = "above" if off[i] > 0 else "below"
        parts.append(f"{_B_WORDS[i]} is centred {abs(off[i]):.2f} sds {side} its exact mean")
    if fails["spread"].any() or fails["correlation"].any():
        mine = np.cov(x.T)
        said = len(parts)
        for i, ratio in enumerate(np.sqrt(np.diag(mine)) / sd):
            if abs(math.log(ratio)) > 0.02:
                parts.append(f"the spread of {_B_WORDS[i]} is {_off(float(ratio))}")
        r_mine = mine[0, 1] / math.sqrt(mine[0, 0] * mine[1, 1])
        r_exact = law.cov[0, 1] / (sd[0] * sd[1])
        if abs(r_mine - r_exact) > 0.02:
            parts.append(
                f"the correlation of intercept and slope is {r_mine:.2f} where the exact law "
                f"has {r_exact:.2f}"
            )
        if len(parts) == said:
            parts.append("the covariance of intercept and slope is off")
    if fails["serial"].any():
        parts.append(_SERIAL_WORDS)
    if not parts:
        return (
            "the shape of their distribution is off (KS tests of the whitened draws and of "
            "their squared Mahalanobis distance), although their location and covariance pass "
            "their tests"
        )
    return "; ".join(parts)


def _verdict_b(draws: list[np.ndarray], sets: list[_Set]) -> CheckResult:
    """The tests at every school and, when they fail, the slip whose laws fit the draws at
    every school."""
    pvalues = [_tests(x, s.law) for x, s in zip(draws, sets, strict=True)]
    p = _family(pvalues)
    n_tests = sum(_n_tests(q) for q in pvalues)
    if p >= ALPHA:
        return CheckResult(
            "b", True, f"draw_b passed: {N_CALLS_B:,} draws at each of {len(sets)} schools fit "
            f"the exact full conditional N(M⁻¹ zt_resid, σ² M⁻¹) ({n_tests} tests of location, "
            f"covariance, shape and independence; smallest p-value "
            f"{_fmt_p(min(_min_p(q) for q in pvalues))}).", "passed", p, None, {"p": pvalues},
        )  # fmt: skip
    k = next(i for i, q in enumerate(pvalues) if _min_p(q) * n_tests < ALPHA)
    what = _describe_b(draws[k], sets[k].law, pvalues[k], ALPHA / n_tests)
    candidates = _b_slips()
    fits = {
        key: _family([_tests(x, law) for x, law in zip(draws, laws, strict=True)])
        for key, (laws, _) in candidates.items()
    }
    where, details = sets[k].label, {"p": pvalues, "slip_p": fits}
    named = _named_slip("b", where, what, p, fits, candidates, details)
    if named is not None:
        return named
    message = f"draw_b is not right{where}: {what} (adjusted p {_eq(p)})."
    return CheckResult("b", False, message, "wrong", p, None, details)


def _named_slip(name: str, where: str, what: str, p: float, fits: dict[str, float],
                candidates: dict, details: dict) -> CheckResult | None:  # fmt: skip
    """The verdict of a failed update with the hint of the slip that fits best, when one fits
    (its Bonferroni-adjusted p-value at least :data:`ALPHA`); None when none does."""
    best = max(fits, key=fits.get) if fits else None
    if best is None or fits[best] < ALPHA:
        return None
    message = f"draw_{name} is not right{where}: {what}. Hint: {candidates[best][1]}"
    return CheckResult(name, False, message, "wrong", p, best, details)


def _shared_draw(x: np.ndarray, law: _Law) -> bool:
    """True when the schools' standardised draws within a call are (nearly) one number."""
    u = law.standardise(x)
    return float(np.mean(u.var(axis=1))) < 0.05


def check_all(
    updates: dict[str, Callable | None], prior=None, seed: Any = 0
) -> dict[str, CheckResult]:
    """:func:`check_update` for each ``{name: fn}``; prints one line per update."""
    results = {name: check_update(name, fn, prior=prior, seed=seed) for name, fn in updates.items()}
    for r in results.values():
        print(("✓ " if r.passed else "✗ ") + r.message)
    return results


# =========================================================================== whole samplers
SAMPLER_STATS = GroupStats(
    labels=np.arange(10),
    n=np.array([12, 25, 8, 40, 15, 30, 6, 20, 10, 35]),
    ybar=np.array([10.8, 14.2, 7.9, 12.6, 16.4, 11.1, 9.3, 13.8, 15.2, 12.0]),
    ss=np.array([400.0, 880.0, 250.0, 1400.0, 520.0, 1050.0, 170.0, 690.0, 330.0, 1250.0]),
)
"""The data set :func:`check_sampler` runs a sampler on: 10 schools, 201 students, scores on the
HSB scale (sigma about 6, tau about 2)."""

N_CHAINS = 4
"""Chains per sampler check, each with its own stream (``rng.spawn``)."""
N_SWEEPS = 4000
"""Sweeps asked of each chain; the first :data:`N_WARMUP` are dropped."""
N_WARMUP = 500
N_BATCHES = 20
"""Batches per chain for the batch-means standard errors."""
SAMPLER_TIME_BUDGET = 120.0
"""Seconds a :func:`check_sampler` may take."""
_QUANTILES = (0.1, 0.5, 0.9)
_PARAMS = ("mu", "sigma2", "tau2")


_MU_POINTS = 81  # where the exact P(mu <= x) is tabulated (each point: a sum over ~30,000 cells)


class _Marginals:
    """Exact marginal posteriors of (mu, log sigma2, log tau2) from a grid of (tau2, sigma2):
    ``weight`` the posterior mass of each cell (rows: ``log_t2``, columns: ``log_s2``),
    ``mu_hat``, ``mu_sd`` the moments of mu given each cell (mu's marginal is their mixture)."""

    def __init__(self, log_t2, log_s2, weight, mu_hat, mu_sd) -> None:
        self.log_t2, self.log_s2 = log_t2, log_s2
        order = np.argsort(weight, axis=None)
        keep = order[np.cumsum(weight.ravel()[order]) > 1e-10]  # the cells that carry mass
        self.weight = weight.ravel()[keep]
        self.mu_hat, self.mu_sd = mu_hat.ravel()[keep], mu_sd.ravel()[keep]
        self.weight_t2, self.weight_s2 = weight.sum(axis=1), weight.sum(axis=0)
        centre = float(self.weight @ self.mu_hat)
        spread = math.sqrt(float(self.weight @ (self.mu_sd**2 + self.mu_hat**2)) - centre**2)
        # P(mu <= x) between these points is interpolated (to about 1e-3: enough to tell the
        # columns apart); mu's quantiles get one Newton step on the exact mixture from there,
        # and at the thresholds (``below``) the mixture is computed exactly
        self._mu_x = np.linspace(centre - 8 * spread, centre + 8 * spread, _MU_POINTS)
        self._mu_cdf = self._mu_mixture(self._mu_x)
        self.thresholds = {
            (param, q): self.quantile(param, q) for param in _PARAMS for q in _QUANTILES
        }
        for q in _QUANTILES:
            t = self.thresholds[("mu", q)]
            z = (t - self.mu_hat) / self.mu_sd
            density = float(self.weight @ (np.exp(-0.5 * z * z) / self.mu_sd)) / math.sqrt(
                2 * math.pi
            )
            self.thresholds[("mu", q)] = t - (float(special.ndtr(z) @ self.weight) - q) / density
        self.below = {
            key: float(
                self._mu_mixture(np.array([t]))[0] if key[0] == "mu" else self.cdf(*key[:1], t)[0]
            )
            for key, t in self.thresholds.items()
        }

    def _mu_mixture(self, x: np.ndarray) -> np.ndarray:
        """The exact P(mu <= x): the mixture over the grid's cells."""
        return np.concatenate(
            [
                special.ndtr((part[:, None] - self.mu_hat) / self.mu_sd) @ self.weight
                for part in np.array_split(x, max(1, x.size // 50))
            ]
        )

    def cdf(self, param: str, x: Any) -> np.ndarray:
        """P(X <= x) for X = mu, log sigma2 or log tau2 ("mu", "sigma2", "tau2")."""
        x = np.atleast_1d(np.asarray(x, dtype=float))
        if param == "mu":
            return np.interp(x, self._mu_x, self._mu_cdf)
        grid, mass = (
            (self.log_t2, self.weight_t2) if param == "tau2" else (self.log_s2, self.weight_s2)
        )
        h = grid[1] - grid[0]
        frac = np.clip((x[:, None] - (grid[None, :] - h / 2)) / h, 0.0, 1.0)
        return frac @ mass

    def mean(self, param: str) -> float:
        """E[mu], E[log sigma2] or E[log tau2]."""
        if param == "mu":
            return float(self.weight @ self.mu_hat)
        if param == "tau2":
            return float(self.weight_t2 @ self.log_t2)
        return float(self.weight_s2 @ self.log_s2)

    def quantile(self, param: str, q: float) -> float:
        if param == "mu":
            lo, hi = float(self._mu_x[0]), float(self._mu_x[-1])
        else:
            grid = self.log_t2 if param == "tau2" else self.log_s2
            lo, hi = float(grid[0] - 1), float(grid[-1] + 1)
        return _bisect(lambda v: float(self.cdf(param, v)[0]) - q, lo, hi)


def _bisect(f: Callable[[float], float], lo: float, hi: float, steps: int = 60) -> float:
    """A root of an increasing ``f`` on [lo, hi] (bounded: ``steps`` halvings)."""
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
    return 0.5 * (lo + hi)


def _log_post_grid(stats: GroupStats, prior, log_t2: np.ndarray, log_s2: np.ndarray):
    """Log density of (log tau2, log sigma2) and mu's conditional moments on a grid."""
    mu0, p0, _, _, a_s, b_s = _hyper(prior)
    t2 = np.exp(log_t2)
    table = np.empty((t2.size, log_s2.size))
    mu_hat, mu_sd = np.empty_like(table), np.empty_like(table)
    for k, ls in enumerate(log_s2):
        s2 = math.exp(ls)
        table[:, k] = exact._log_lik(stats, t2, s2, mu0, p0)  # mu integrated out
        prec = (1.0 / (t2[:, None] + s2 / stats.n[None, :])).sum(axis=1) + p0
        mu_hat[:, k] = ((stats.ybar / (t2[:, None] + s2 / stats.n)).sum(axis=1) + p0 * mu0) / prec
        mu_sd[:, k] = 1 / np.sqrt(prec)
    log_prior = (
        exact._log_prior_tau2(prior, t2)[:, None]
        + exact._log_prior_variance(np.exp(log_s2), a_s, b_s)[None, :]
    )
    jacobian = log_t2[:, None] + log_s2[None, :]  # densities per unit of log tau2, log sigma2
    return table + log_prior + jacobian, mu_hat, mu_sd


@cache
def _marginals(prior, stats: GroupStats = SAMPLER_STATS) -> _Marginals:
    """Exact marginals on a grid: a coarse pass finds where the mass is (log density within
    30 of its peak), then a 600 x 100 grid covers that box."""
    s_within = float(stats.ss.sum() / (stats.n_total - stats.m))
    log_t2 = np.linspace(math.log(s_within) - 25, math.log(s_within) + 12, 300)
    log_s2 = np.linspace(math.log(s_within) - 3, math.log(s_within) + 3, 120)
    for size in ((300, 60), (600, 100)):
        lp, mu_hat, mu_sd = _log_post_grid(stats, prior, log_t2, log_s2)
        keep = lp > lp.max() - 30
        rows, cols = np.flatnonzero(keep.any(axis=1)), np.flatnonzero(keep.any(axis=0))
        if size[0] == 600:  # the fine pass
            break
        if rows[-1] == log_t2.size - 1 or cols[0] == 0 or cols[-1] == log_s2.size - 1:
            raise ValueError("the sampler check's posterior is not inside its grid")
        t_lo, t_hi = log_t2[max(rows[0] - 1, 0)], log_t2[rows[-1] + 1]
        s_lo, s_hi = log_s2[cols[0] - 1], log_s2[cols[-1] + 1]
        log_t2, log_s2 = np.linspace(t_lo, t_hi, 600), np.linspace(s_lo, s_hi, 100)
    weight = np.exp(lp - lp.max())
    return _Marginals(log_t2, log_s2, weight / weight.sum(), mu_hat, mu_sd)


def _sampler_prior(prior):
    if prior is None:
        return Default()
    if isinstance(prior, Default | SemiConjugate | HalfCauchy):
        prior.check_data(SAMPLER_STATS.m, SAMPLER_STATS.n_total, float(SAMPLER_STATS.ss.sum()))
        return prior
    raise TypeError(
        "prior must be None, a priors.Default, priors.SemiConjugate or priors.HalfCauchy; got "
        f"{type(prior).__name__}"
    )


def _read_only_stats() -> GroupStats:
    s = GroupStats(labels=SAMPLER_STATS.labels, n=SAMPLER_STATS.n, ybar=SAMPLER_STATS.ybar,
                   ss=SAMPLER_STATS.ss)  # fmt: skip
    for name in ("labels", "n", "ybar", "ss"):
        object.__setattr__(s, name, _guard.read_only(getattr(s, name)))
    return s


def _as_chain(out: Any, n_sweeps: int) -> np.ndarray:
    """A sampler's return value as an (n_sweeps, 3) float array (mu, sigma2, tau2)."""
    label = "your sampler"
    if isinstance(out, dict):
        missing = [k for k in _PARAMS if k not in out]
        if missing:
            raise _Stop(f"{label} returned a dict without {', '.join(map(repr, missing))}.")
        out = np.column_stack([_as_numbers(label, out[k]).reshape(-1) for k in _PARAMS])
    arr = _as_numbers(label, out)
    if arr.shape != (n_sweeps, 3):
        raise _Stop(
            f"{label} must return an array of shape (n_sweeps, 3) = ({n_sweeps}, 3), one row "
            f"(mu, sigma2, tau2) per sweep; yours has shape {arr.shape}."
        )
    if not np.isfinite(arr).all():
        raise _Stop(f"{label} returned NaN or infinite values (first in row "
                    f"{int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])}).")  # fmt: skip
    for col, what in ((1, "sigma2"), (2, "tau2")):
        if (arr[:, col] <= 0).any():
            raise _Stop(
                f"column {col + 1} of your sampler's draws ({what}) has values <= 0: a variance "
                "must be positive (columns: mu, sigma2, tau2)."
            )
    return arr


def _run_sampler(fn: Callable, seed: Any) -> tuple[np.ndarray, _guard.Guard]:
    """:data:`N_CHAINS` chains of :data:`N_SWEEPS` inside a guard, after a short trial run that
    times the sampler and checks it draws with the rng passed in."""
    rng = _as_rng(seed)
    stats = _read_only_stats()
    trial = 50
    clock = _Clock(SAMPLER_TIME_BUDGET, N_CHAINS * N_SWEEPS + 2 * trial)
    guard = _guard.Guard(clock.deadline)
    label = "your sampler"
    stop: _Stop | None = None
    chains = []
    with guard:
        try:
            t0 = time.monotonic()
            a = _as_chain(_call(label, fn, stats, (trial, _clone(rng))), trial)
            b = _as_chain(_call(label, fn, stats, (trial, _clone(rng))), trial)
            per = (time.monotonic() - t0) / (2 * trial)
            if not np.array_equal(a, b):
                raise _Stop(
                    f"{label} gives different draws from the same rng state: draw only with "
                    "the `rng` passed in."
                )
            if per * N_CHAINS * N_SWEEPS > SAMPLER_TIME_BUDGET:
                raise _Stop(
                    f"{label} is too slow for the check: about {per * 1e3:.2g} ms per sweep, "
                    f"and the check needs {N_CHAINS} x {N_SWEEPS} sweeps (about "
                    f"{per * N_CHAINS * N_SWEEPS:.0f} s; its budget is "
                    f"{SAMPLER_TIME_BUDGET:.0f} s)."
                )
            for child in rng.spawn(N_CHAINS):
                chains.append(_as_chain(_call(label, fn, stats, (N_SWEEPS, child)), N_SWEEPS))
        except _Stop as err:
            stop = err
        except _guard.Timeout:
            stop = _Stop(
                f"{label} did not finish {N_CHAINS} chains of {N_SWEEPS} sweeps within the "
                f"check's time budget of {SAMPLER_TIME_BUDGET:.0f} s: is there a loop that "
                "never ends?"
            )
    if guard.touched_global_rng and (stop is None or stop.status != "not written"):
        stop = _Stop(
            f"{label} uses numpy's global generator (np.random.seed, np.random.normal, ...) or "
            "Python's random module: draw only with the `rng` passed in."
        )
    original = SAMPLER_STATS
    if stop is None and not all(
        np.array_equal(getattr(stats, k), getattr(original, k)) for k in ("n", "ybar", "ss")
    ):
        stop = _Stop(f"{label} changed the data it was given: work on copies, never in place.")
    if stop is not None:
        raise _Stop(str(stop) + _printed_note(guard), stop.status)
    return np.stack(chains), guard


def _batch_means(g: np.ndarray) -> np.ndarray:
    """(chains, draws) -> (chains, N_BATCHES) means of consecutive batches."""
    c, k = g.shape
    size = k // N_BATCHES
    return g[:, : size * N_BATCHES].reshape(c, N_BATCHES, size).mean(axis=2)


def _lag_factor(bm: np.ndarray) -> float:
    """1 + 2 rho, rho >= 0 the lag-1 correlation of consecutive batch means within the chains:
    batches this long are nearly independent, and this corrects the rest (never shrinks)."""
    d = bm - bm.mean(axis=1, keepdims=True)
    den = float(np.sum(d * d))
    rho = float(np.sum(d[:, 1:] * d[:, :-1])) / den if den > 0 else 0.0
    return 1.0 + 2.0 * max(rho, 0.0)


def _sampler_stats(kept: np.ndarray, target: _Marginals) -> dict[tuple[str, str], float]:
    """Raw p-values: for each parameter, a batch-means t-test of its mean (mu, log sigma2,
    log tau2) and of the indicators at the exact 10%, 50%, 90% quantiles, and a one-way
    ANOVA F-test of the chains' batch means (do the chains agree?)."""
    p: dict[tuple[str, str], float] = {}
    values = {"mu": kept[..., 0], "sigma2": np.log(kept[..., 1]), "tau2": np.log(kept[..., 2])}
    for param, g in values.items():
        stats_ = {"mean": (g, target.mean(param))}
        for q in _QUANTILES:
            t = target.thresholds[(param, q)]
            stats_[f"q{int(q * 100)}"] = ((g <= t).astype(float), target.below[(param, q)])
        for key, (h, expected) in stats_.items():
            by_chain = _batch_means(h)
            bm = by_chain.ravel()
            se = bm.std(ddof=1) / math.sqrt(bm.size) * math.sqrt(_lag_factor(by_chain))
            diff = bm.mean() - expected
            if se == 0:
                p[(param, key)] = 1.0 if diff == 0 else 0.0
            else:
                p[(param, key)] = float(2 * sps.t.sf(abs(diff) / se, bm.size - 1))
        bm = _batch_means(g)
        within = bm.var(axis=1, ddof=1).mean() * _lag_factor(bm)
        between = N_BATCHES * bm.mean(axis=1).var(ddof=1)
        c = bm.shape[0]
        if within == 0:
            p[(param, "chains")] = 1.0 if between == 0 else 0.0
        else:
            p[(param, "chains")] = float(sps.f.sf(between / within, c - 1, c * (N_BATCHES - 1)))
    return p


def _sampler_candidates(target: _Marginals) -> dict[str, Callable[[np.ndarray], np.ndarray]]:
    """CDFs of the quantities a column could hold by mistake."""

    def of_log(param, sign=1.0, power=1.0):
        return lambda x: target.cdf(param, sign * power * np.log(x))

    return {
        "mu": lambda x: target.cdf("mu", x),
        "sigma2": of_log("sigma2"),
        "tau2": of_log("tau2"),
        "sigma": of_log("sigma2", power=2.0),
        "tau": of_log("tau2", power=2.0),
        "1/sigma2": lambda x: 1 - target.cdf("sigma2", -np.log(x)),
        "1/tau2": lambda x: 1 - target.cdf("tau2", -np.log(x)),
    }


def _column_guess(kept: np.ndarray, target: _Marginals) -> list[str]:
    """For each column, the quantity whose exact law its draws fit best (KS distance)."""
    cands = _sampler_candidates(target)
    out = []
    for col in range(3):
        x = np.sort(kept[..., col].ravel())[:: max(1, kept[..., col].size // 2000)]
        emp = (np.arange(x.size) + 0.5) / x.size
        best, dist = "?", math.inf
        for what, cdf in cands.items():
            if what != "mu" and (x <= 0).any():
                continue
            with np.errstate(all="ignore"):
                d = float(np.max(np.abs(cdf(x) - emp)))
            if d < dist:
                best, dist = what, d
        out.append(best if dist < 0.1 else "?")
    return out


_WORDS = {"mu": "μ", "sigma2": "σ", "tau2": "τ"}


def _describe_sampler(kept: np.ndarray, target: _Marginals, failed: set) -> str:
    """Words for what is off: a parameter that never moves, columns mixed up or sd for
    variance, chains that disagree, a marginal too high/low or too wide/narrow."""
    parts = []
    for col, param in enumerate(_PARAMS):
        moves = np.mean(np.diff(kept[..., col], axis=1) != 0)
        if moves < 0.01:
            parts.append(
                f"{param} never moves: it keeps the same value from sweep to sweep (is its "
                "update missing from the loop, or its new value not stored?)"
            )
    if parts:
        return "; ".join(parts)
    guess = _column_guess(kept, target)
    if guess != list(_PARAMS) and "?" not in guess:
        if sorted(guess) == sorted(_PARAMS):
            return (
                f"your columns hold ({', '.join(guess)}): return them in the order "
                "(mu, sigma2, tau2)"
            )
    for col, (g, param) in enumerate(zip(guess, _PARAMS, strict=True)):
        if g in ("sigma", "tau") and g[0] == param[0]:
            parts.append(f"column {col + 1} holds {g}, the sd: store the variance {param}")
        elif g.startswith("1/") and g[2:] == param:
            parts.append(f"column {col + 1} holds the precision {g}: store {param}, its inverse")
    if parts:
        return "; ".join(parts)
    for col, param in enumerate(_PARAMS):
        if not any(k[0] == param and k[1] != "chains" for k in failed):
            continue
        x = kept[..., col].ravel()
        tr = (lambda v: v) if param == "mu" else np.sqrt  # mu; sigma, tau as sds
        back = (lambda v: v) if param == "mu" else (lambda v: math.exp(v / 2))
        q = {p: back(target.thresholds[(param, p)]) for p in _QUANTILES}
        mine = np.quantile(tr(x), _QUANTILES)
        word = _WORDS[param]
        width, exact_width = mine[2] - mine[0], q[0.9] - q[0.1]
        shift = (mine[1] - q[0.5]) / exact_width
        said = []
        if abs(shift) > 0.05:
            said.append(
                f"{word} is too {'high' if shift > 0 else 'low'} (your median {mine[1]:.3g}, "
                f"the exact {q[0.5]:.3g})"
            )
        ratio = width / exact_width
        if abs(math.log(ratio)) > 0.05:
            said.append(
                f"{word} is too {'wide' if ratio > 1 else 'narrow'} (your 80% interval is "
                + _off(ratio).replace("large", "wide").replace("small", "narrow")
                + ")"
            )
        parts.append(" and ".join(said) if said else f"the distribution of {word} is off")
    apart = [param for param in _PARAMS if (param, "chains") in failed]
    if apart:
        parts.append(
            f"your chains do not forget their start: the {N_CHAINS} chains disagree about "
            f"{', '.join(apart)} by more than their Monte Carlo error allows (each chain must "
            "wander over the whole posterior, wherever it starts)"
        )
    return "; ".join(parts) if parts else "the draws do not follow the exact posterior"


def check_sampler(fn: Callable | None, prior=None, seed: Any = 0) -> CheckResult:
    """Check a student's whole Gibbs sampler against the exact posterior of a small data set.

    ``fn(stats, n_sweeps, rng)`` gets a :class:`hierlib.data.GroupStats` (read-only arrays
    ``n``, ``ybar``, ``ss``), a number of sweeps and a ``numpy.random.Generator``, and returns
    an array of shape ``(n_sweeps, 3)`` holding :math:`(\\mu, \\sigma^2, \\tau^2)` of every
    sweep from its first (a dict with those three keys also does). It samples model 1 under
    ``prior`` (for a semi-conjugate prior, the student's sampler carries it itself, e.g. a
    global ``PRIOR``).

    **The test.** ``fn`` runs :data:`N_CHAINS` = 4 chains of :data:`N_SWEEPS` = 4000 sweeps on
    :data:`SAMPLER_STATS`, each on its own stream (``default_rng(seed).spawn(4)``); the first
    :data:`N_WARMUP` = 500 sweeps are dropped. The exact marginal posteriors of
    :math:`\\mu`, :math:`\\log\\sigma^2`, :math:`\\log\\tau^2` come from a 600 x 100 grid over
    :math:`(\\tau^2, \\sigma^2)` with :math:`\\theta` and :math:`\\mu` integrated out in closed
    form (:mod:`hierlib.exact`). For each parameter, five statistics: the mean, the
    indicators at the exact 10%, 50% and 90% quantiles (a t-test each, with the standard error
    from batch means: 20 batches of 175 sweeps per chain, 80 in all, which accounts for the
    autocorrelation of the chain; the variance is multiplied by :math:`1 + 2\\hat\\rho`, the
    lag-1 correlation of consecutive batch means where positive), and the agreement of the
    chains (a one-way ANOVA F-test of the batch means by chain, with the same correction: the
    calibrated form of :math:`\\hat R`). 15 tests, Bonferroni:
    the sampler fails when an adjusted p-value is below :data:`ALPHA` = 2e-4.

    **False-alarm rate and power** (measured by simulation, 2026-12-02: chains with the law of
    the textbook sampler, correct or with a mistake, through the same tests): 0 false alarms in
    2000 runs of a correct sampler under the default prior and 0 in 2000 under a semi-conjugate
    prior (the bound is 2e-4; each test's rejection rate at 1%: 0.005 to 0.015, at 5%: 0.038
    to 0.055). Power, in 500 runs each: 1.000 against tau2 drawn 5% or 10% too large at every
    sweep, against mu with variance tau2/(m-1), mu that never moves, sigma stored for sigma2
    and the columns swapped; 0.998 against the shape m/2 instead of (m-2)/2 for tau2 (the
    reference prior's improper posterior: most such chains collapse towards tau = 0, the
    rest wander close to the right posterior for a while).

    **Diagnosis in words**: a parameter that never moves; the columns in the wrong order; the
    sd or the precision stored instead of the variance; chains that do not forget their start
    (they disagree with each other; visible when the chains start at different points); a
    marginal too high, too low, too wide or too narrow (the median and the 80% interval of
    :math:`\\mu`, :math:`\\sigma`, :math:`\\tau` against the exact ones).

    **Time**: at most :data:`SAMPLER_TIME_BUDGET` = 120 s; a trial of 50 sweeps first measures
    the sampler and stops it early when the check would take longer (and checks that the
    sampler draws only with the ``rng`` passed in). Hostile code is handled as in
    :func:`check_update`.

    Returns
    -------
    CheckResult
        ``name == "sampler"``.
    """
    prior = _sampler_prior(prior)
    _as_rng(seed if not isinstance(seed, np.random.Generator) else None)
    if fn is None:
        return CheckResult("sampler", False, "your sampler is not written yet.", "not written")
    try:
        _check_callable("your sampler", fn, (SAMPLER_STATS, 10), "fn(stats, n_sweeps, rng)")
        chains, guard = _run_sampler(fn, seed)
    except _Stop as stop:
        return CheckResult("sampler", False, str(stop), stop.status)
    target = _marginals(prior)
    kept = chains[:, N_WARMUP:, :]
    with np.errstate(all="ignore"):
        p = _sampler_stats(kept, target)
    k = len(p)
    adjusted = min(1.0, k * min(p.values()))
    note = _printed_note(guard)
    if adjusted >= ALPHA:
        return CheckResult(
            "sampler", True, f"your sampler passed: {N_CHAINS} chains x {N_SWEEPS - N_WARMUP} "
            f"draws fit the exact posterior of mu, sigma2 and tau2 ({k} tests of location, "
            f"quantiles and agreement of the chains; smallest p-value "
            f"{_fmt_p(min(p.values()))}).{note}", "passed", adjusted, None, {"p": p},
        )  # fmt: skip
    failed = {key for key, v in p.items() if v * k < ALPHA}
    what = _describe_sampler(kept, target, failed)
    return CheckResult(
        "sampler", False, f"your sampler is not right: {what} (adjusted p "
        f"{_eq(adjusted)}).{note}", "wrong", adjusted, None, {"p": p},
    )  # fmt: skip
