"""Checking a student's Gibbs updates against the exact full conditionals (lecture: Gibbs).

A student writes the four updates of model 1 under the lecture's default prior
:math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2`, on group sufficient statistics::

    def draw_theta(rng, mu, sigma2, tau2, n, ybar): ...  # -> array, one draw of every theta_j
    def draw_sigma2(rng, theta, n, ybar, ss): ...        # -> float (ss: within-group SS_j)
    def draw_mu(rng, theta, tau2): ...                   # -> float
    def draw_tau2(rng, theta, mu): ...                   # -> float

and :func:`check_update` says in plain words whether one is right::

    r = check_update("tau2", draw_tau2, seed=0)
    r.passed, r.message

**How the check decides.** The update is called :data:`N_CALLS` = 2000 times at fixed
conditioning values (:data:`CONDITIONS`: m = 5 schools of 2 to 9 students, chosen so that
every slip below changes the distribution a lot), each call with the generator of
``numpy.random.default_rng(seed)``. Its draws are compared with the exact full conditional
(:mod:`hierlib.conditionals`) by a Kolmogorov-Smirnov test (for ``theta`` on the 10,000
standardised draws :math:`(\\theta_j - E\\theta_j)/\\mathrm{sd}\\,\\theta_j`). The update
fails when the KS p-value is below :data:`ALPHA` = 1e-4: a correct update fails with
probability 1e-4 (below 1e-3), whatever the seed. Each slip listed in :data:`SLIPS` moves
the distribution by a KS distance of at least 0.18 at these values, against a critical
distance of :math:`\\sqrt{\\ln(2/\\alpha)/(2N)} = 0.050`; by the Dvoretzky-Kiefer-Wolfowitz
inequality the chance that a slip passes is below :math:`2e^{-2N(0.18-0.05)^2} < 10^{-29}`.

**How it explains.** A failing update is compared with each slip of :data:`SLIPS` (a KS test
against the distribution that slip produces); when one fits (p above :data:`ALPHA`), the
message names it. Otherwise the message says how far the draws are off: their location
(mean in sds, or the median ratio for variances) and their spread (sd ratio, or the ratio of
the interquartile ranges of the log for variances). The slips recognised:

- ``theta``: precision :math:`n_j/\\sigma^2 + \\tau^2`; a mean without the :math:`\\mu/\\tau^2`
  term; a mean at :math:`\\bar y_j` (no shrinkage); the variance passed as the sd.
- ``mu``: variance :math:`\\tau^2` instead of :math:`\\tau^2/m`; the variance passed as the
  sd; the sum of the :math:`\\theta_j` instead of their mean.
- ``sigma2``: rate :math:`S` instead of :math:`S/2`; shape :math:`n` instead of :math:`n/2`;
  the rate passed as numpy's scale; the precision returned; :math:`S` without the
  :math:`n_j(\\bar y_j-\\theta_j)^2` terms.
- ``tau2``: rate :math:`Q` instead of :math:`Q/2`; the reference prior's shape :math:`m/2`
  instead of :math:`(m-2)/2`; the rate passed as numpy's scale; the precision returned.

Before any statistics: ``None`` or an update raising ``NotImplementedError`` is "not written
yet"; a wrong number of arguments, an exception inside the update, a return of the wrong shape,
a NaN or infinite value, or draws that ignore the ``rng`` passed in each get a message saying so
(never a traceback).
"""

from __future__ import annotations

import inspect
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from hierlib import conditionals
from hierlib.data import GroupStats

__all__ = ["CheckResult", "check_update", "check_all", "CONDITIONS", "SLIPS", "ALPHA", "N_CALLS"]

ALPHA = 1e-4
"""KS p-value below which an update fails (the false-alarm probability of a correct one)."""
N_CALLS = 2000
"""Calls of the update per check."""

_N = np.array([2, 3, 4, 6, 9])
_YBAR = np.array([2.0, 18.0, 17.0, 4.0, 16.0])
_SS = np.array([20.0, 35.0, 60.0, 90.0, 140.0])
_THETA = np.array([8.0, 12.0, 13.0, 9.0, 13.0])

CONDITIONS: dict[str, dict[str, Any]] = {
    "theta": {"mu": 10.0, "sigma2": 64.0, "tau2": 16.0, "n": _N, "ybar": _YBAR},
    "sigma2": {"theta": _THETA, "n": _N, "ybar": _YBAR, "ss": _SS},
    "mu": {"theta": _THETA, "tau2": 125.0},
    "tau2": {"theta": _THETA, "mu": 10.0},
}
"""The conditioning values each update is called with (arguments in the contract's order)."""

_ARGS = {name: tuple(values.values()) for name, values in CONDITIONS.items()}
_STATS = GroupStats(labels=np.arange(_N.size), n=_N, ybar=_YBAR, ss=_SS)


@dataclass(frozen=True)
class CheckResult:
    """What :func:`check_update` found.

    Attributes
    ----------
    name : str
        The update checked (``"theta"``, ``"mu"``, ``"sigma2"``, ``"tau2"``).
    passed : bool
        True when the draws fit the exact full conditional.
    message : str
        What is off, in plain words, with a hint where one fits.
    status : str
        ``"passed"``, ``"wrong"`` (draws from another distribution), ``"error"`` (the update
        could not be run), or ``"not written"``.
    p_value : float or None
        KS p-value against the exact conditional (None when the update could not be run).
    slip : str or None
        The key of the recognised slip in :data:`SLIPS`, if any.
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


# --------------------------------------------------------------------------- exact laws
def _inverse_of_gamma(shape: float, rate: float):
    """The law of a variance :math:`v = 1/\\lambda` when :math:`\\lambda \\sim`
    Gamma(shape, rate)."""
    return sps.invgamma(shape, scale=rate)


def _exact(name: str):
    """The exact full conditional: (mean, sd) arrays for theta, a frozen scipy law otherwise."""
    if name == "theta":
        c = CONDITIONS["theta"]
        d = conditionals.theta_centered(_STATS, c["mu"], c["sigma2"], c["tau2"])
        return np.asarray(d.mean), np.sqrt(np.asarray(d.var))
    if name == "mu":
        d = conditionals.mu_centered(_THETA, CONDITIONS["mu"]["tau2"])
        return sps.norm(d.mean, math.sqrt(d.var))
    if name == "sigma2":
        g = conditionals.sigma_precision(_STATS, _THETA)
        return _inverse_of_gamma(g.shape, g.rate)
    g = conditionals.tau_precision(_THETA - CONDITIONS["tau2"]["mu"])
    return _inverse_of_gamma(g.shape, g.rate)


_M = _N.size
_S = float(np.sum(_SS + _N * (_YBAR - _THETA) ** 2))
_Q = float(np.sum((_THETA - CONDITIONS["tau2"]["mu"]) ** 2))


def _theta_slip(prec_term: Callable, mean_has_mu: bool = True, sd_as_var: bool = False):
    c = CONDITIONS["theta"]
    n, ybar, mu, s2, t2 = c["n"], c["ybar"], c["mu"], c["sigma2"], c["tau2"]
    prec = n / s2 + prec_term(t2)
    mean = (n * ybar / s2 + (mu / t2 if mean_has_mu else 0.0)) / prec
    sd = 1 / prec if sd_as_var else 1 / np.sqrt(prec)
    return mean, sd


def _slips() -> dict[str, dict[str, tuple[Any, str]]]:
    """Known slips: per update, key -> (the law the slip draws from, the hint)."""
    tb = CONDITIONS["mu"]["tau2"]
    n_tot = float(_N.sum())
    return {
        "theta": {
            "precision_tau2": (
                _theta_slip(lambda t2: t2),
                "is the precision of theta_j n_j/sigma2 + tau2? The prior's precision is "
                "1/tau2: use n_j/sigma2 + 1/tau2.",
            ),
            "mean_ignores_mu": (
                _theta_slip(lambda t2: 1 / t2, mean_has_mu=False),
                "the mean of theta_j must pull towards mu: (n_j ybar_j/sigma2 + mu/tau2) / "
                "(n_j/sigma2 + 1/tau2). Is the mu/tau2 term missing?",
            ),
            "no_shrinkage": (
                (_YBAR, _theta_slip(lambda t2: 1 / t2)[1]),
                "your theta_j are centred at ybar_j: the mean is the precision-weighted average "
                "of ybar_j and mu, (n_j ybar_j/sigma2 + mu/tau2) / (n_j/sigma2 + 1/tau2).",
            ),
            "sd_as_variance": (
                _theta_slip(lambda t2: 1 / t2, sd_as_var=True),
                "rng.normal takes the standard deviation: pass sqrt(1/P_j), not the variance "
                "1/P_j.",
            ),
        },
        "mu": {
            "variance_tau2": (
                sps.norm(_THETA.mean(), math.sqrt(tb)),
                "Var(mu | rest) is tau2/m, not tau2: the mean of m school means is m times as "
                "precise as one of them.",
            ),
            "sd_as_variance": (
                sps.norm(_THETA.mean(), tb / _M),
                "rng.normal takes the standard deviation: pass sqrt(tau2/m), not the variance "
                "tau2/m.",
            ),
            "sum_not_mean": (
                sps.norm(_THETA.sum(), math.sqrt(tb / _M)),
                "the centre of mu | rest is the average of the theta_j, not their sum.",
            ),
        },
        "sigma2": {
            "rate_missing_half": (
                _inverse_of_gamma(n_tot / 2, _S),
                "is the 1/2 in the Gamma rate missing? 1/sigma2 | rest ~ Gamma(n/2, rate S/2).",
            ),
            "shape_n": (
                _inverse_of_gamma(n_tot, _S / 2),
                "the Gamma shape of 1/sigma2 is n/2 (each student brings a factor "
                "phi^(1/2)), not n.",
            ),
            "rate_as_scale": (
                _inverse_of_gamma(n_tot / 2, 2 / _S),
                "numpy's rng.gamma(shape, scale) takes the scale = 1/rate: use "
                "rng.gamma(n/2, 2/S), not rng.gamma(n/2, S/2).",
            ),
            "returned_precision": (
                sps.gamma(n_tot / 2, scale=2 / _S),
                "you return the precision 1/sigma2: return its inverse, sigma2.",
            ),
            "ss_only": (
                _inverse_of_gamma(n_tot / 2, float(_SS.sum()) / 2),
                "S must be the squared distances to theta_j: sum_j SS_j + n_j (ybar_j - "
                "theta_j)^2. Is the n_j (ybar_j - theta_j)^2 term missing?",
            ),
        },
        "tau2": {
            "rate_missing_half": (
                _inverse_of_gamma((_M - 2) / 2, _Q),
                "is the 1/2 in the Gamma rate missing? 1/tau2 | rest ~ Gamma((m-2)/2, rate Q/2).",
            ),
            "shape_reference": (
                _inverse_of_gamma(_M / 2, _Q / 2),
                "shape m/2 belongs to the log-uniform prior p(tau2) ∝ 1/tau2 (the lecture's "
                "'reference prior'); the default flat prior on tau2 gives shape (m-2)/2.",
            ),
            "rate_as_scale": (
                _inverse_of_gamma((_M - 2) / 2, 2 / _Q),
                "numpy's rng.gamma(shape, scale) takes the scale = 1/rate: use "
                "rng.gamma((m-2)/2, 2/Q), not rng.gamma((m-2)/2, Q/2).",
            ),
            "returned_precision": (
                sps.gamma((_M - 2) / 2, scale=2 / _Q),
                "you return the precision 1/tau2: return its inverse, tau2.",
            ),
        },
    }


SLIPS = _slips()
"""Known slips: ``SLIPS[name][key] = (law, hint)``; a theta law is a (mean, sd) pair."""

_SIGNATURES = {
    "theta": "draw_theta(rng, mu, sigma2, tau2, n, ybar)",
    "sigma2": "draw_sigma2(rng, theta, n, ybar, ss)",
    "mu": "draw_mu(rng, theta, tau2)",
    "tau2": "draw_tau2(rng, theta, mu)",
}


# --------------------------------------------------------------------------- running the update
class _Stop(Exception):
    """The update could not be run; ``args[0]`` is the message, ``status`` the kind."""

    def __init__(self, message: str, status: str = "error"):
        super().__init__(message)
        self.status = status


def _where(err: BaseException) -> str:
    """' (line N of your function: `code`)' for the innermost frame outside hierlib."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename != __file__]
    if not frames:
        return ""
    f = frames[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" (in {f.name}, line {f.lineno}:{code})"


def _call(name: str, fn: Callable, rng: np.random.Generator) -> np.ndarray:
    args = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in _ARGS[name])
    try:
        out = fn(rng, *args)
    except NotImplementedError:
        raise _Stop(f"draw_{name} is not written yet.", "not written") from None
    except Exception as err:  # the student's code: report it, never re-raise
        raise _Stop(
            f"draw_{name} raised {type(err).__name__}: {err}{_where(err)}", "error"
        ) from None
    if out is None:
        raise _Stop(f"draw_{name} returned None: did you forget `return`?")
    try:
        arr = np.asarray(out, dtype=float)
    except (TypeError, ValueError):
        raise _Stop(f"draw_{name} returned {type(out).__name__}, not numbers.") from None
    if name == "theta":
        if arr.shape != (_M,):
            raise _Stop(
                f"draw_theta must return one draw of every theta_j, an array of shape "
                f"({_M},) for {_M} schools; yours has shape {arr.shape}."
            )
    elif arr.size != 1:
        raise _Stop(f"draw_{name} must return one number; yours returned shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise _Stop(
            f"draw_{name} returned {arr.ravel()[~np.isfinite(arr.ravel())][0]} (not a finite "
            "number): look for a division by zero, a log or sqrt of a negative number, or an "
            "uninitialised value."
        )
    return arr.reshape(-1) if name == "theta" else arr.reshape(())


def _check_signature(name: str, fn: Callable) -> None:
    if not callable(fn):
        raise _Stop(f"draw_{name} must be a function; got {type(fn).__name__}.")
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return  # a builtin or C function: just call it
    try:
        sig.bind(None, *_ARGS[name])
    except TypeError:
        raise _Stop(
            f"draw_{name} must take {len(_ARGS[name]) + 1} arguments, "
            f"{_SIGNATURES[name]}; yours takes {sig}."
        ) from None


def _draws(name: str, fn: Callable, seed: int) -> np.ndarray:
    _check_signature(name, fn)
    rng = np.random.default_rng(seed)
    first = _call(name, fn, rng)
    again = _call(name, fn, np.random.default_rng(seed))
    if not np.array_equal(first, again):
        raise _Stop(
            f"draw_{name} gives different draws from the same rng state: draw with the `rng` "
            "passed in (e.g. rng.normal, rng.gamma), not with np.random or another generator."
        )
    out = np.asarray([first] + [_call(name, fn, rng) for _ in range(N_CALLS - 1)])
    if np.all(out == out[0]):
        raise _Stop(
            f"draw_{name} returns the same value at every call: a Gibbs update must draw at "
            "random from the full conditional (with rng), not return its mean.",
            "wrong",
        )
    if name in ("sigma2", "tau2") and np.any(out <= 0):
        raise _Stop(
            f"draw_{name} returned {np.sum(out <= 0)} values <= 0 in {N_CALLS} calls: a variance "
            "must be positive (is it a normal draw where a Gamma belongs?).",
            "wrong",
        )
    return out


# --------------------------------------------------------------------------- statistics
def _ks(name: str, draws: np.ndarray, law) -> float:
    if name == "theta":
        mean, sd = law
        z = ((draws - mean) / sd).ravel()
        return float(sps.kstest(z, "norm", method="asymp").pvalue)
    return float(sps.kstest(draws, law.cdf, method="asymp").pvalue)


def _times(r: float) -> str:
    """'about 2.0 times too large' in words."""
    if not (r > 0 and math.isfinite(r)):
        return "far off"
    if r >= 1:
        return f"about {r:.1f} times too large" if r < 100 else f"about {r:.0e} times too large"
    return (
        f"about {1 / r:.1f} times too small" if r > 0.01 else f"about {1 / r:.0e} times too small"
    )


def _safe_log(r: float) -> float:
    return math.log(r) if r > 0 and math.isfinite(r) else math.inf


def _describe(name: str, draws: np.ndarray, law) -> str:
    """Location and spread of the draws against the exact conditional, in words."""
    parts = []
    if name == "theta":
        mean, sd = law
        off = (draws.mean(axis=0) - mean) / sd
        ratio = draws.std(axis=0) / sd
        worst = int(np.argmax(np.abs(off)))
        if np.max(np.abs(off)) > 0.1:
            side = "above" if off[worst] > 0 else "below"
            parts.append(
                f"your theta_j are centred off: school {worst + 1}'s by "
                f"{abs(off[worst]):.1f} sds {side} its exact mean"
            )
        r = float(np.median(ratio))
        if abs(_safe_log(r)) > 0.1:
            parts.append(f"their spread is {_times(r)}")
    elif name == "mu":
        off = (draws.mean() - law.mean()) / law.std()
        if abs(off) > 0.1:
            parts.append(f"your mu is centred {abs(off):.1f} sds {'above' if off > 0 else 'below'}"
                         " where it should be")  # fmt: skip
        r = draws.std() / law.std()
        if abs(_safe_log(r)) > 0.1:
            parts.append(f"its spread is {_times(r)}")
    else:
        r = float(np.median(draws) / law.median())
        if abs(_safe_log(r)) > 0.1:
            parts.append(f"your draws of {name} are {_times(r)}")
        q = np.log(law.ppf([0.25, 0.75]))
        spread = float(np.subtract(*np.quantile(np.log(draws), [0.75, 0.25])) / (q[1] - q[0]))
        if abs(_safe_log(spread)) > 0.15:
            parts.append(f"their relative spread is {_times(spread)} (is the Gamma shape right?)")
    if not parts:
        return "their shape is off (location and spread are about right)"
    return "; ".join(parts)


# --------------------------------------------------------------------------- public
def check_update(name: str, fn: Callable | None, seed: int = 0) -> CheckResult:
    """Check a student's Gibbs update for ``name`` against its exact full conditional.

    Parameters
    ----------
    name : {"theta", "mu", "sigma2", "tau2"}
        Which update ``fn`` is (signatures in the module docstring).
    fn : callable or None
        The student's update; ``None`` (or one raising ``NotImplementedError``) counts as
        not written yet.
    seed : int
        Seed of the generator passed to ``fn``: the same seed gives the same verdict.

    Returns
    -------
    CheckResult
        ``passed`` and a plain-words ``message``. A correct update fails with probability
        :data:`ALPHA` = 1e-4 (KS test on :data:`N_CALLS` calls at :data:`CONDITIONS`); every
        slip of :data:`SLIPS` fails with probability above 1 - 1e-29 (module docstring).

    Raises
    ------
    ValueError
        ``name`` is not one of the four updates.
    """
    if name not in CONDITIONS:
        raise ValueError(f"name must be one of {sorted(CONDITIONS)}; got {name!r}")
    if fn is None:
        return CheckResult(name, False, f"draw_{name} is not written yet.", "not written")
    try:
        draws = _draws(name, fn, seed)
    except _Stop as stop:
        return CheckResult(name, False, str(stop), stop.status)
    with np.errstate(all="ignore"):  # huge draws: their statistics may overflow
        return _verdict(name, draws)


def _verdict(name: str, draws: np.ndarray) -> CheckResult:
    """The KS test and, when it fails, the slip that fits and a description of the draws."""
    law = _exact(name)
    p = _ks(name, draws, law)
    if p >= ALPHA:
        return CheckResult(
            name, True, f"draw_{name} passed: {N_CALLS} draws fit the exact full conditional "
            f"(KS test p = {p:.2f}).", "passed", p,
        )  # fmt: skip
    fits = {key: _ks(name, draws, slip_law) for key, (slip_law, _) in SLIPS[name].items()}
    best = max(fits, key=fits.get)
    what = _describe(name, draws, law)
    if fits[best] >= ALPHA:
        hint = SLIPS[name][best][1]
        message = f"draw_{name} is not right: {what}. Hint: {hint}"
        return CheckResult(name, False, message, "wrong", p, best, {"slip_p": fits})
    return CheckResult(
        name, False, f"draw_{name} is not right: {what} (KS test p = {p:.0e}).", "wrong", p,
        None, {"slip_p": fits},
    )  # fmt: skip


def check_all(updates: dict[str, Callable | None], seed: int = 0) -> dict[str, CheckResult]:
    """:func:`check_update` for each ``{name: fn}``; prints one line per update."""
    results = {name: check_update(name, fn, seed) for name, fn in updates.items()}
    for r in results.values():
        print(("✓ " if r.passed else "✗ ") + r.message)
    return results
