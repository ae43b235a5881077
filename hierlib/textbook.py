"""The textbook Gibbs sampler for model 1, in plain numpy (lecture: "Bayesian estimation").

:func:`gibbs_sampler` is the lecture's sampler written to be read: one sweep is four lines,
one per full conditional, in the order
:math:`\\theta \\to \\sigma^2 \\to \\mu \\to \\tau^2`, under the lecture's default prior
:math:`p(\\mu, \\sigma^2, \\tau^2) \\propto 1/\\sigma^2` and on the group sufficient statistics
:math:`n_j, \\bar y_j, SS_j` only. The full conditionals and their derivations are in
:mod:`hierlib.conditionals`:

.. math::
    \\theta_j \\mid \\cdot &\\sim N\\Big(\\frac{n_j\\bar y_j/\\sigma^2 + \\mu/\\tau^2}{P_j},
        \\frac{1}{P_j}\\Big), \\quad P_j = n_j/\\sigma^2 + 1/\\tau^2,\\\\
    1/\\sigma^2 \\mid \\cdot &\\sim \\text{Gamma}\\big(N/2,\\ S/2\\big), \\quad
        S = \\textstyle\\sum_j SS_j + n_j(\\bar y_j - \\theta_j)^2,\\\\
    \\mu \\mid \\cdot &\\sim N(\\bar\\theta, \\tau^2/m),\\\\
    1/\\tau^2 \\mid \\cdot &\\sim \\text{Gamma}\\big((m-2)/2,\\ Q/2\\big), \\quad
        Q = \\textstyle\\sum_j (\\theta_j - \\mu)^2

(:math:`N = \\sum_j n_j` the number of students; Gamma with shape and rate; numpy's
``rng.gamma`` takes shape and **scale** = 1/rate).

It draws the same posterior as the compiled :func:`hierlib.gibbs.hierarchical_normal`
(the two agree within Monte Carlo error), only more slowly: every sweep makes a few numpy
calls from Python.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np
from numpy.typing import NDArray

from hierlib import _memory
from hierlib._validate import positive_int
from hierlib.data import GroupStats, require_stats

__all__ = ["gibbs_sampler", "run_chains", "source_without_docstring"]


def gibbs_sampler(stats: GroupStats, n_sweeps: int, rng: np.random.Generator) -> dict:
    """``n_sweeps`` Gibbs sweeps of model 1 under the default prior, from moment estimates.

    Parameters
    ----------
    stats : GroupStats
        :math:`n_j, \\bar y_j, SS_j` of every group (:func:`hierlib.data.group_stats`);
        at least 4 groups (the default prior needs them) and some spread within groups.
    n_sweeps : int
        Number of sweeps; every one is returned (discard a warm-up yourself).
    rng : numpy.random.Generator
        The only source of randomness.

    No input checks in the code, to keep it readable: :func:`run_chains` checks its input and
    calls this (only the memory the draws need is checked, before sampling).

    Returns
    -------
    dict
        ``"mu"``, ``"sigma2"``, ``"tau2"`` of shape (n_sweeps,), ``"theta"`` of shape
        (n_sweeps, m).
    """
    n, ybar, ss, m = stats.n.astype(float), stats.ybar, stats.ss, stats.m
    mu, sigma2, tau2 = ybar.mean(), ss.sum() / (n.sum() - m), ybar.var()
    draws = {"theta": np.empty((n_sweeps, m))}
    draws |= {name: np.empty(n_sweeps) for name in ("mu", "sigma2", "tau2")}
    for s in range(n_sweeps):
        # theta_j | rest ~ N((n_j ybar_j / sigma2 + mu / tau2) / P_j, 1 / P_j)
        precision = n / sigma2 + 1 / tau2
        mean = (n * ybar / sigma2 + mu / tau2) / precision
        theta = rng.normal(mean, np.sqrt(1 / precision))
        # 1/sigma2 | rest ~ Gamma(N/2, rate S/2), N = n.sum();  numpy wants the scale 1/rate
        S = np.sum(ss + n * (ybar - theta) ** 2)
        sigma2 = 1 / rng.gamma(n.sum() / 2, scale=2 / S)
        # mu | rest ~ N(mean of theta, tau2 / m)
        mu = rng.normal(theta.mean(), np.sqrt(tau2 / m))
        # 1/tau2 | rest ~ Gamma((m - 2)/2, rate Q/2)
        Q = np.sum((theta - mu) ** 2)
        tau2 = 1 / rng.gamma((m - 2) / 2, scale=2 / Q)
        draws["theta"][s], draws["mu"][s] = theta, mu
        draws["sigma2"][s], draws["tau2"][s] = sigma2, tau2
    return draws


def _memory_bytes(m: int, n_chains: int, n_sweeps: int, n_kept: int) -> int:
    """Bytes :func:`run_chains` allocates: every chain's ``n_sweeps`` draws of
    :math:`(\\theta, \\mu, \\sigma^2, \\tau^2)`, the ``n_kept`` of them stacked into the result
    with :math:`\\sigma, \\tau`, and a sweep's temporaries (a few arrays of m values)."""
    return 8 * (n_chains * (n_sweeps * (m + 3) + n_kept * (m + 5)) + 32 * m) + 2**16


def _check_memory(stats: GroupStats, n_chains: int, n_sweeps: int, n_kept: int, name: str):
    """Refuse (``ValueError``, before sampling) a run above the memory limit."""
    _memory.check(
        _memory_bytes(stats.m, n_chains, n_sweeps, n_kept),
        f"the textbook sampler ({n_chains} chains x {n_sweeps} sweeps x {stats.m + 3} values x "
        "8 bytes, with the result)",
        f"fewer {name} or n_chains",
    )


def _memory_checked(sampler):
    """``sampler`` (:func:`gibbs_sampler`) refusing a run whose draws exceed the memory
    limit; the sampler's own code, which the slides show, stays free of checks."""

    @functools.wraps(sampler)
    def checked(stats: GroupStats, n_sweeps: int, rng: np.random.Generator) -> dict:
        require_stats(stats)
        _check_memory(stats, 1, positive_int(n_sweeps, "n_sweeps"), 0, "n_sweeps")
        return sampler(stats, n_sweeps, rng)

    return checked


gibbs_sampler = _memory_checked(gibbs_sampler)


def source_without_docstring(func=None) -> str:
    """The source code of ``func`` (default :func:`gibbs_sampler`) without its docstring: the
    code alone, short enough for a slide."""
    head, _, body = inspect.getsource(func or gibbs_sampler).split('"""', 2)
    return head.rstrip() + body


def run_chains(
    stats: GroupStats, n_draws: int = 2000, n_warmup: int = 500, n_chains: int = 4, seed: int = 1
) -> dict[str, NDArray[np.float64]]:
    """Run :func:`gibbs_sampler` ``n_chains`` times, each on its own stream
    (``SeedSequence(seed).spawn(n_chains)``), and drop the first ``n_warmup`` sweeps.

    Returns
    -------
    dict
        ``"mu"``, ``"sigma2"``, ``"tau2"``, ``"sigma"``, ``"tau"`` of shape (chains, draws) and
        ``"theta"`` of shape (chains, draws, m): ready for
        :func:`hierlib.diagnostics.summary_table`.

    Raises
    ------
    ValueError
        A count that is not a positive integer, fewer than 4 groups, no spread within
        groups, or group means that are all equal (the sampler's start for tau2 is their
        variance).
    """
    positive_int(n_draws, "n_draws")
    positive_int(n_warmup, "n_warmup", minimum=0)
    positive_int(n_chains, "n_chains")
    positive_int(seed, "seed", minimum=0)
    require_stats(stats)
    if stats.m < 4:
        raise ValueError(f"the default prior needs at least 4 groups; got {stats.m}")
    if not float(stats.ss.sum()) > 0 or stats.n_total <= stats.m:
        raise ValueError("no spread within groups: sigma2 cannot be estimated")
    if not np.var(stats.ybar) > 1 / np.finfo(float).max:  # 1/var would overflow
        raise ValueError(
            "every group has the same mean (their variance is 0): the textbook sampler starts "
            "tau2 at that variance and would divide by it. Use "
            "hierlib.gibbs.hierarchical_normal, which starts tau2 elsewhere"
        )
    _check_memory(stats, n_chains, n_warmup + n_draws, n_draws, "n_draws")
    chains = [
        gibbs_sampler(stats, n_warmup + n_draws, np.random.default_rng(child))
        for child in np.random.SeedSequence(seed).spawn(n_chains)
    ]
    out = {k: np.stack([c[k][n_warmup:] for c in chains]) for k in chains[0]}
    out["sigma"], out["tau"] = np.sqrt(out["sigma2"]), np.sqrt(out["tau2"])
    return out
