"""What the normal-model samplers are given, checked once for all of them.

The samplers of :mod:`hierlib.samplers.hierarchical_normal` and
:mod:`hierlib.samplers.unequal_variances` take the same data and arguments: the rows ``(y,
groups)`` or their group sufficient statistics ``stats=`` (exactly one; :func:`data`), a prior
of the allowed types (:func:`check_prior`), the run arguments
(:func:`hierlib.samplers._chains.check_run`), ``keep_theta`` (:func:`keep_indices`), and data
whose scale the sweeps can hold in floating point (:func:`check_magnitudes`). :func:`prepare`
runs these checks in order; :func:`start_values` gives each chain dispersed starting values.

Private: the error messages name the public arguments of :mod:`hierlib.gibbs`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import RESCALE_HINT
from hierlib.data import GroupStats, _stats_and_rows, require_stats
from hierlib.samplers import _chains


def data(y, groups, stats) -> tuple[GroupStats, tuple[Any, Any]]:
    """The group sufficient statistics of the data given, and the rows ``(y, obs_group)``
    the :class:`~hierlib.samplers._posterior.Posterior` keeps: from the rows ``(y, groups)``
    (``y`` as floats, copied, and each one's group index into ``stats.labels``), or ``stats``
    itself once checked, with no rows ``(None, None)`` (exactly one of the two forms, else an
    error)."""
    if stats is None:
        if y is None or groups is None:
            missing = " and ".join(name for name, v in (("y", y), ("groups", groups)) if v is None)
            raise ValueError(
                f"no data: pass y and groups (the rows) or stats= (their group_stats); "
                f"{missing} missing"
            )
        stats, y_arr, obs_group = _stats_and_rows(y, groups)
        return stats, (y_arr.copy(), obs_group)
    if y is not None or groups is not None:
        raise ValueError("pass the data once: either y and groups (the rows) or stats=, not both")
    return check_stats(stats), (None, None)


def check_stats(stats) -> GroupStats:
    """A user-supplied :class:`GroupStats` (which checks its own entries when built): its
    labels must also be sorted, as :func:`group_stats` gives them (groups are looked up by
    label)."""
    require_stats(stats)
    try:
        ordered = bool(np.all(stats.labels[1:] > stats.labels[:-1]))
    except TypeError:
        ordered = False
    if not ordered:
        raise ValueError("stats.labels must be sorted (as group_stats gives them)")
    return stats


def prepare(
    stats: GroupStats,
    prior: Any,
    allowed: tuple[type, ...],
    n_draws: int,
    n_warmup: int,
    n_chains: int,
    seed: int,
    progress: bool | None,
    engine: str,
    keep_theta: ArrayLike | None,
    kept: tuple[int, int, int],
    model_check: Callable[[GroupStats, Any], None] | None = None,
) -> tuple[Any, NDArray[np.int64], tuple[float, ...]]:
    """The samplers' shared checks, in order: the prior (``None``: ``allowed[0]()``), the run
    arguments, the prior's needs of the data, the model's own ``model_check(stats, prior)``,
    the scale of the data, ``keep_theta``, and the memory the run needs (``kept``: scalars
    per draw, values per draw of each kept group, and each chain's work arrays of one value
    per group; :func:`hierlib.samplers._chains.check_memory`). Returns ``(prior, keep,
    hyper)``, ``hyper`` the prior's Gamma pseudo-counts as floats."""
    prior = check_prior(prior, allowed, allowed[0]())
    _chains.check_run(n_draws, n_warmup, n_chains, seed, progress, engine)
    prior.check_data(stats.m, stats.n_total, float(stats.ss.sum()))
    if model_check is not None:
        model_check(stats, prior)
    check_magnitudes(stats)
    keep = keep_indices(stats, keep_theta)
    _chains.check_memory(n_chains, n_draws, kept[0], kept[1] * keep.size, stats.m, kept[2])
    return prior, keep, tuple(float(h) for h in prior.hyper())


def check_prior(prior, allowed: tuple[type, ...], default):
    if prior is None:
        return default
    if not isinstance(prior, allowed):
        names = " or ".join(f"priors.{c.__name__}" for c in allowed)
        raise ValueError(f"prior must be None or {names}; got {type(prior).__name__}")
    return prior


_BIG = 1e300  # the sweeps' sums must stay below this (doubles end near 1.8e308)


def check_magnitudes(stats: GroupStats) -> None:
    r"""Refuse data whose scale the sweeps cannot hold in floating point.

    A sweep forms sums such as :math:`\sum_j n_j(\bar y_j - \theta_j)^2` and precisions
    such as :math:`n_j\bar y_j/\sigma^2`: with :math:`M` the largest :math:`|y|` and
    :math:`v` the variance of ``y``, it needs :math:`nM^2` and :math:`nM/v` below about
    1e300 and :math:`v` above 1e-300 (|y| up to about 1e148 at unit spread, spreads down to
    about 1e-150). Outside that range a ``ValueError`` names ``y`` (rescaling it is exact).
    """
    n = float(stats.n_total)
    with np.errstate(over="ignore", invalid="ignore"):
        big = float(np.max(np.abs(stats.ybar)) + np.sqrt(np.max(stats.ss)))
        between = np.sum(stats.n * (stats.ybar - np.dot(stats.n, stats.ybar) / n) ** 2)
        spread = float(stats.ss.sum() + between) / n
    too_big = not np.isfinite(spread) or n * big * big > _BIG
    if too_big or (spread > 0 and (spread < 1 / _BIG or n * big / spread > _BIG)):
        raise ValueError(
            f"y is out of the range the samplers can compute with in floating point (|y| up "
            f"to {big:.3g}, variance {spread:.3g}); {RESCALE_HINT}"
        )


def keep_indices(
    stats: Any, keep_theta: ArrayLike | None, name: str = "keep_theta"
) -> NDArray[np.int64]:
    """Indices (into ``stats.labels``, or ``stats.groups`` of a
    :class:`hierlib.data.MixedStats`) of the groups whose draws are kept, sorted.

    ``keep_theta`` (the argument ``name``) is a list of group labels, or a boolean mask with
    one entry per group (in the sorted order of the labels); a boolean array of another
    length is refused rather than read as the labels 0 and 1.
    """
    labels = stats.labels if hasattr(stats, "labels") else stats.groups
    if keep_theta is None:
        return np.arange(stats.m, dtype=np.int64)
    if isinstance(keep_theta, str | bytes):
        keep_theta = [keep_theta]
    wanted = np.atleast_1d(np.asarray(keep_theta))
    if wanted.ndim != 1:
        raise ValueError(f"{name} must be a 1-d array of group labels; got {wanted.shape}")
    if wanted.dtype.kind == "b":
        if wanted.size != stats.m:
            raise ValueError(
                f"{name} is a boolean mask of length {wanted.size}, but there are {stats.m} "
                "groups: give one True/False per group (in sorted label order) or a list of "
                "group labels"
            )
        return np.flatnonzero(wanted).astype(np.int64)
    if wanted.size == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        pos = np.searchsorted(labels, wanted)
    except TypeError as err:
        raise ValueError(f"{name} labels are not of the same type as the group labels") from err
    pos = np.clip(pos, 0, stats.m - 1)
    missing = labels[pos] != wanted
    if np.any(missing):
        bad = ", ".join(map(repr, wanted[missing][:5].tolist()))
        raise ValueError(f"{name} names groups that are not in the data: {bad}")
    return np.unique(pos).astype(np.int64)


def start_values(stats: GroupStats, rng: np.random.Generator) -> tuple[float, float, float]:
    """Dispersed starting values of (mu, sigma2, tau2) around moment estimates, drawn from
    the chain's own stream (so that R-hat compares chains that started apart)."""
    df_within = stats.n_total - stats.m
    ss_within = float(stats.ss.sum())
    spread = float(np.var(stats.ybar, ddof=1))
    sigma2 = ss_within / df_within if df_within > 0 and ss_within > 0 else max(spread, 1.0)
    tau2 = spread if spread > 0 else sigma2
    z = rng.standard_normal(3)
    mu = float(stats.ybar.mean() + 2.0 * np.sqrt(tau2 / stats.m) * z[0])
    return mu, sigma2 * float(np.exp(0.1 * z[1])), tau2 * float(np.exp(z[2]))
