"""Gibbs samplers for the hierarchical normal models (lecture: "Bayesian estimation").

- :func:`hierarchical_normal` -- :math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`,
  :math:`\\theta_j \\sim N(\\mu, \\tau^2)`, in three parameterisations:

  * ``"centered"``: the lecture's sampler, :math:`\\theta \\to \\sigma^2 \\to \\mu \\to \\tau^2`.
  * ``"offset"``: the lecture's mixed-effects form :math:`Y_{ij} = \\mu + \\delta_j +
    \\varepsilon_{ij}`, :math:`\\delta_j \\sim N(0, \\tau^2)`, with its own full conditionals
    (:math:`\\delta \\to \\sigma^2 \\to \\mu \\to \\tau^2`). It mixes poorly when the data are
    informative about each group (many students per school), well when they are not.
  * ``"interweaved"``: ancillarity-sufficiency interweaving (ASIS; Yu & Meng 2011). After the
    centered updates of :math:`\\theta, \\mu, \\tau^2` (the *sufficient* augmentation), it
    redraws :math:`\\mu` given :math:`\\delta = \\theta - \\mu` (offset form) and then
    :math:`\\tau` given :math:`\\eta = \\delta/\\tau` (the *ancillary* augmentation, fully
    non-centered; an exact slice-sampling step on :math:`\\log\\tau`), and maps back to
    :math:`\\theta = \\mu + \\tau\\eta`. Every step leaves the posterior invariant,
    and the sampler mixes well in both regimes.

- :func:`unequal_variances` -- :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)` with
  :math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` and
  :math:`\\nu_0` sampled by an exact slice-sampling step on :math:`\\log\\nu_0`.

The full conditionals and their derivations are in :mod:`hierlib.conditionals`. The sweeps
work on the group sufficient statistics only (O(m) per sweep, whatever the number of
students) and are compiled with numba (``engine="numba"``); ``engine="numpy"`` runs the
textbook vectorised loop instead (a slower reference implementation). Each chain gets its
own stream, ``numpy.random.default_rng(child)`` for ``child in
SeedSequence(seed).spawn(n_chains)``; the same seed gives bit-identical draws.

Chains run in parallel on threads (``cores=``, default: every core this process may use): the
compiled sweeps release the GIL (numba ``nogil=True``), and each thread drives its own chain
with its own ``Generator`` (numba reads and advances that generator's state directly, without
numpy's lock, which is safe because no other thread touches it). Each chain's draws depend only
on its own stream, so the draws are bit-identical to a sequential run (``cores=1``) of the same
seed. ``engine="numpy"`` runs its chains one after the other. ``Posterior.elapsed`` is
wall-clock time: chains that ran in parallel count once, together.

The data come either as rows ``(y, groups)`` or as their sufficient statistics
``stats=data.group_stats(y, groups)`` (or any :class:`hierlib.data.GroupStats`, e.g. built
from a table of summaries); both give the same draws. A :class:`Posterior` sampled from
``stats=`` holds no student rows (only ``stats``): what needs them (pointwise
log-likelihood, replicated data) cannot be computed from it.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import warnings
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from tqdm import tqdm

from hierlib import _kernels, _kernels_numpy
from hierlib._validate import RESCALE_HINT, positive_int
from hierlib.data import GroupStats, group_stats
from hierlib.priors import Default, HalfCauchy, SemiConjugate, UnequalVariances

_CHUNK = 1000  # sweeps per kernel call (progress-bar granularity)

MAX_POINTWISE_BYTES = 256 * 2**20
"""Default memory budget of :meth:`Posterior.to_arviz`'s pointwise groups (256 MiB)."""

MAX_DRAWS_BYTES = 2 * 1024**3
"""Largest memory (bytes) a sampler may allocate for the draws it keeps (2 GiB). A run that
would need more is refused before sampling, with a message naming ``keep_theta=``; change
it with ``hierlib.gibbs.MAX_DRAWS_BYTES = ...`` if the machine has the memory."""


class InfiniteMeanWarning(UserWarning):
    """A posterior mean the draws are summarised by does not exist (heavy tail)."""


@dataclass(repr=False)
class Posterior:
    """Draws from a Gibbs sampler (after warm-up), and what produced them.

    Attributes
    ----------
    draws : dict of str to ndarray
        ``"mu"``, ``"sigma2"``, ``"tau2"`` of shape (chains, draws); ``"theta"`` of shape
        (chains, draws, len(theta_groups)). The unequal-variances model has ``"sigma2_j"``
        (chains, draws, len(theta_groups)), ``"nu0"`` and ``"sigma02"`` instead of
        ``"sigma2"``.
    groups : ndarray
        Every group label, sorted (as :func:`hierlib.data.group_stats`).
    theta_groups : ndarray
        The labels of the groups whose draws were kept (``keep_theta``), in order.
    theta_mean, theta_sd : ndarray, shape (m,)
        Posterior mean and sd of every :math:`\\theta_j` (accumulated while sampling, over all
        chains and draws, whether or not its draws were kept).
    stats : GroupStats
        The sufficient statistics the sampler ran on.
    elapsed : float
        Seconds spent sampling, warm-up included (compilation excluded): for ESS per second.
    prior, model, parameterization, seed, engine
        What produced the draws.
    extra : dict
        Model-specific summaries: ``sigma2_j_mean``/``sigma2_j_sd`` (unequal variances).
    y, obs_group : ndarray or None
        The observations in the order given and the index (into :attr:`groups`) of each one's
        group; needed by the pointwise groups of :meth:`to_arviz` (``None`` when the sampler
        saw only group statistics).
    """

    draws: dict[str, NDArray[np.float64]]
    groups: NDArray
    theta_groups: NDArray
    theta_mean: NDArray[np.float64]
    theta_sd: NDArray[np.float64]
    stats: GroupStats
    elapsed: float
    prior: Any
    model: str
    parameterization: str
    seed: int
    engine: str
    extra: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    y: NDArray[np.float64] | None = None
    obs_group: NDArray[np.int64] | None = None

    def __repr__(self) -> str:
        return (
            f"Posterior({self.model}, {self.parameterization}, {self.n_chains} chains x "
            f"{self.n_draws} draws, {self.stats.m} groups ({len(self.theta_groups)} theta kept), "
            f"{self.elapsed:.2f} s)"
        )

    @property
    def n_chains(self) -> int:
        """Number of chains."""
        return int(self.draws["sigma2" if "sigma2" in self.draws else "mu"].shape[0])

    @property
    def n_draws(self) -> int:
        """Draws per chain (after warm-up)."""
        return int(self.draws["sigma2" if "sigma2" in self.draws else "mu"].shape[1])

    @property
    def sigma2_j_mean(self) -> NDArray[np.float64]:
        """Posterior mean of every :math:`\\sigma_j^2` (unequal-variances model only)."""
        return self._extra("sigma2_j_mean")

    @property
    def sigma2_j_sd(self) -> NDArray[np.float64]:
        """Posterior sd of every :math:`\\sigma_j^2` (unequal-variances model only)."""
        return self._extra("sigma2_j_sd")

    def _extra(self, key: str) -> NDArray[np.float64]:
        if key not in self.extra:
            raise ValueError(f"{key} exists only for the unequal-variances model")
        return self.extra[key]

    def to_arviz(
        self,
        log_likelihood: bool = False,
        posterior_predictive: bool = False,
        *,
        thin: int = 1,
        draws: int | None = None,
        seed: int | None = None,
        max_bytes: int = MAX_POINTWISE_BYTES,
    ):
        """The draws as an ``arviz.InferenceData``.

        ``posterior``: scalars ``mu``, ``tau2``, ``tau`` and ``sigma2``, ``sigma`` (model 1)
        or ``sigma02``, ``sigma0``, ``nu0`` (model 2), those present for the pooling models of
        :mod:`hierlib.exact`; ``theta`` (and ``sigma2_j``) with dimension ``group`` whose
        coordinates are :attr:`theta_groups`.

        With ``log_likelihood=True`` or ``posterior_predictive=True`` (see
        :mod:`hierlib.predictive`) also ``observed_data["y"]`` (dimension ``obs``: the
        observations in the order given, with a ``school`` coordinate), and
        ``log_likelihood["y"]`` (chain, draw, obs) :math:`\\log p(y_{ij} \\mid \\theta_j,
        \\sigma^2)` (:math:`\\sigma_j^2` in model 2) and/or ``posterior_predictive["y"]``
        (chain, draw, obs), one replicated data set per draw. Then ``az.loo``,
        ``az.compare`` and ``az.plot_ppc`` work on the result.

        Parameters
        ----------
        log_likelihood, posterior_predictive : bool
            Add the pointwise groups. They need every group's :math:`\\theta_j` draws
            (``keep_theta=None``) and the observations (a sampler given ``y, groups``).
        thin : int
            Keep every ``thin``-th draw of each chain (all groups alike).
        draws : int, optional
            Keep this many draws per chain, equally spaced (overrides ``thin``).
        seed : int, optional
            Seed of the replicated data (default: the sampler's seed); the same seed gives
            the same replicated data.
        max_bytes : int
            Refuse (``ValueError``, before allocating) when the pointwise groups would take
            more: each takes chains x kept draws x observations x 8 bytes (HSB, 4 chains
            x 5000 draws: 1.15 GB each; ``draws=250``: 57 MB).
        """
        from hierlib._arviz import az

        keep = _draw_index(self.n_draws, thin, draws)
        d = {k: v[:, keep] for k, v in self.draws.items()}
        posterior = {"mu": d["mu"]} if "mu" in d else {}
        for name in ("tau2", "sigma2", "sigma02"):
            if name in d:
                posterior[name] = d[name]
                posterior[name[:-1]] = np.sqrt(d[name])
        if "nu0" in d:
            posterior["nu0"] = d["nu0"]
        dims: dict[str, list[str]] = {}
        for name in ("sigma2_j", "theta"):
            if name in d:
                posterior[name] = d[name]
                dims[name] = ["group"]
        coords: dict[str, Any] = {"group": np.asarray(self.theta_groups)}
        groups: dict[str, Any] = {}
        if log_likelihood or posterior_predictive:
            from hierlib import predictive

            y, obs_group = self._rows()
            n_groups = int(log_likelihood) + int(posterior_predictive)
            size = self.n_chains * keep.size * y.size * 8 * n_groups
            if size > max_bytes:
                per_draw = self.n_chains * y.size * 8 * n_groups
                raise ValueError(
                    f"the pointwise groups would take {size / 1e6:.0f} MB ({self.n_chains} "
                    f"chains x {keep.size} draws x {y.size} observations x 8 bytes x "
                    f"{n_groups}), more than max_bytes = {max_bytes / 1e6:.0f} MB; pass "
                    f"draws={max(1, max_bytes // per_draw)} or fewer (or a larger thin=)"
                )
            means, variances = predictive.observation_moments(self, keep)
            if log_likelihood:
                groups["log_likelihood"] = {"y": predictive.normal_logpdf(y, means, variances)}
            if posterior_predictive:
                rng = np.random.default_rng(self.seed if seed is None else seed)
                groups["posterior_predictive"] = {
                    "y": means + np.sqrt(variances) * rng.standard_normal(means.shape)
                }
            groups["observed_data"] = {"y": y}
            dims["y"] = ["obs"]
            coords["obs"] = np.arange(y.size)
        idata = az.from_dict(
            posterior=posterior,
            coords=coords,
            dims=dims,
            **groups,
        )
        for name in idata.groups():
            idata[name].attrs.update(model=self.model, parameterization=self.parameterization)
        if "observed_data" in groups:
            school = np.asarray(self.groups)[obs_group]
            for name in groups:
                idata[name].coords["school"] = ("obs", school)
        return idata

    def _rows(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if self.y is None or self.obs_group is None:
            raise ValueError(
                "this posterior has no observations (it was sampled from group statistics "
                "only): the pointwise log_likelihood/posterior_predictive groups need y and "
                "groups"
            )
        return self.y, self.obs_group


def _draw_index(n_draws: int, thin: int, draws: int | None) -> NDArray[np.int64]:
    """Positions of the kept draws in each chain: every ``thin``-th, or ``draws`` of them
    equally spaced."""
    if draws is None:
        return np.arange(0, n_draws, positive_int(thin, "thin"), dtype=np.int64)
    k = positive_int(draws, "draws")
    if k > n_draws:
        raise ValueError(f"draws = {k} is more than the {n_draws} draws per chain")
    return ((np.arange(k) + 0.5) * n_draws / k).astype(np.int64)


def _observation_rows(y: ArrayLike, groups: ArrayLike, stats: GroupStats):
    """The observations as floats and each one's group index into ``stats.labels``."""
    from hierlib._validate import as_labels

    g = as_labels(groups)
    return np.asarray(y, dtype=np.float64).copy(), np.searchsorted(stats.labels, g)


# ---------------------------------------------------------------------------------- checks
def _check_prior(prior, allowed: tuple[type, ...], default):
    if prior is None:
        return default
    if not isinstance(prior, allowed):
        names = " or ".join(f"priors.{c.__name__}" for c in allowed)
        raise ValueError(f"prior must be None or {names}; got {type(prior).__name__}")
    return prior


def _check_run(parameterization, n_draws, n_warmup, n_chains, seed, progress, engine) -> None:
    if parameterization not in _kernels.PARAMETERIZATIONS:
        raise ValueError(
            "parameterization must be 'centered', 'offset' or 'interweaved'; "
            f"got {parameterization!r}"
        )
    positive_int(n_draws, "n_draws")
    positive_int(n_warmup, "n_warmup", minimum=0)
    positive_int(n_chains, "n_chains")
    positive_int(seed, "seed", minimum=0)
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise ValueError(f"progress must be True, False or None; got {progress!r}")
    if engine not in ("numba", "numpy"):
        raise ValueError(f"engine must be 'numba' or 'numpy'; got {engine!r}")


def _data(y, groups, stats) -> tuple[Any, Any]:
    """The data as :func:`_prepare` takes them: the rows ``(y, groups)`` as given, or
    ``(stats, None)`` once ``stats`` is checked (exactly one of the two forms, else an error)."""
    if stats is None:
        if y is None or groups is None:
            missing = " and ".join(name for name, v in (("y", y), ("groups", groups)) if v is None)
            raise ValueError(
                f"no data: pass y and groups (the rows) or stats= (their group_stats); "
                f"{missing} missing"
            )
        return y, groups
    if y is not None or groups is not None:
        raise ValueError("pass the data once: either y and groups (the rows) or stats=, not both")
    return _check_stats(stats), None


def _check_stats(stats) -> GroupStats:
    """A user-supplied :class:`GroupStats` (which checks its own entries when built): its
    labels must also be sorted, as :func:`group_stats` gives them (groups are looked up by
    label)."""
    if not isinstance(stats, GroupStats):
        raise TypeError(
            "stats must be a hierlib.data.GroupStats (e.g. data.group_stats(y, groups)); "
            f"got {type(stats).__name__}"
        )
    try:
        ordered = bool(np.all(stats.labels[1:] > stats.labels[:-1]))
    except TypeError:
        ordered = False
    if not ordered:
        raise ValueError("stats.labels must be sorted (as group_stats gives them)")
    return stats


def _workers(cores: int | None, n_chains: int, engine: str) -> int:
    """Threads to run the chains on: ``cores`` (``None``: every core this process may use),
    at most one per chain; one for ``engine="numpy"`` (its sweeps hold the GIL)."""
    cores = available_cores() if cores is None else positive_int(cores, "cores")
    return 1 if engine == "numpy" else min(cores, n_chains)


def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity; ``os.cpu_count()``
    where the platform does not report one): the default ``cores=`` of the samplers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _prepare(
    y,
    groups,
    prior,
    allowed,
    parameterization,
    n_draws,
    n_warmup,
    n_chains,
    seed,
    progress,
    engine,
    keep_theta,
    min_size_for: str | None = None,
) -> tuple[GroupStats, Any, NDArray[np.int64], tuple[float, ...]]:
    """The samplers' shared checks, in order: data, prior (``None``: ``allowed[0]()``), run
    arguments, the prior's needs of the data, group sizes (``min_size_for``: at least two
    members each), ``keep_theta``. Returns ``(stats, prior, keep, hyper)``."""
    stats = y if isinstance(y, GroupStats) else group_stats(y, groups)  # see _data
    prior = _check_prior(prior, allowed, allowed[0]())
    _check_run(parameterization, n_draws, n_warmup, n_chains, seed, progress, engine)
    prior.check_data(stats.m, stats.n_total, float(stats.ss.sum()))
    if min_size_for is not None:
        stats.require_min_size(2, min_size_for)
    unequal = isinstance(prior, UnequalVariances)
    if unequal:
        from hierlib.propriety import check_unequal_variances

        check_unequal_variances(stats, prior)
    _check_magnitudes(stats)
    keep = _keep_indices(stats, keep_theta)
    # kept draws per sweep: 3 scalars (4 in model 2), theta (and sigma2_j) per kept group
    _check_memory(n_chains, n_draws, 3 + unequal, (1 + unequal) * keep.size)
    return stats, prior, keep, tuple(float(h) for h in prior.hyper())


_BIG = 1e300  # the sweeps' sums must stay below this (doubles end near 1.8e308)


def _check_magnitudes(stats: GroupStats) -> None:
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


def _check_memory(n_chains: int, n_draws: int, n_scalars: int, n_vectors: int) -> None:
    """Refuse runs whose kept draws would need more than :data:`MAX_DRAWS_BYTES`."""
    need = 8 * n_chains * n_draws * (n_scalars + n_vectors)
    if need > MAX_DRAWS_BYTES:
        raise ValueError(
            f"keeping these draws needs {need / 1024**3:.1f} GiB ({n_chains} chains x {n_draws} "
            f"draws x {n_scalars + n_vectors} values x 8 bytes), above the limit of "
            f"{MAX_DRAWS_BYTES / 1024**3:.1f} GiB (hierlib.gibbs.MAX_DRAWS_BYTES): pass "
            "keep_theta= a few group labels (or [] for none; posterior means and sds of every "
            "theta_j are returned anyway), or fewer n_draws or n_chains"
        )


def _keep_indices(stats: GroupStats, keep_theta: ArrayLike | None) -> NDArray[np.int64]:
    """Indices (into ``stats.labels``) of the groups whose draws are kept, sorted.

    ``keep_theta`` is a list of group labels, or a boolean mask with one entry per group
    (in the sorted order of ``stats.labels``); a boolean array of another length is refused
    rather than read as the labels 0 and 1.
    """
    if keep_theta is None:
        return np.arange(stats.m, dtype=np.int64)
    if isinstance(keep_theta, str | bytes):
        keep_theta = [keep_theta]
    wanted = np.atleast_1d(np.asarray(keep_theta))
    if wanted.ndim != 1:
        raise ValueError(f"keep_theta must be a 1-d array of group labels; got {wanted.shape}")
    if wanted.dtype.kind == "b":
        if wanted.size != stats.m:
            raise ValueError(
                f"keep_theta is a boolean mask of length {wanted.size}, but there are {stats.m} "
                "groups: give one True/False per group (in sorted label order) or a list of "
                "group labels"
            )
        return np.flatnonzero(wanted).astype(np.int64)
    if wanted.size == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        pos = np.searchsorted(stats.labels, wanted)
    except TypeError as err:
        raise ValueError("keep_theta labels are not of the same type as the group labels") from err
    pos = np.clip(pos, 0, stats.m - 1)
    missing = stats.labels[pos] != wanted
    if np.any(missing):
        bad = ", ".join(map(repr, wanted[missing][:5].tolist()))
        raise ValueError(f"keep_theta names groups that are not in the data: {bad}")
    return np.unique(pos).astype(np.int64)


def _chain_rngs(seed: int, n_chains: int) -> list[np.random.Generator]:
    """One independent generator per chain: ``SeedSequence(seed).spawn(n_chains)``."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chains)]


def _start_values(stats: GroupStats, rng: np.random.Generator) -> tuple[float, float, float]:
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


def _run_chunks(step, n_warmup: int, n_draws: int, bar, stop=None) -> float:
    """Call ``step(n_iter, start)`` over warm-up then sampling in chunks; return seconds.

    ``bar.update(k)`` after each chunk; a set ``stop`` event ends the run between chunks."""
    elapsed = 0.0
    done = 0
    total = n_warmup + n_draws
    while done < total and not (stop is not None and stop.is_set()):
        k = min(_CHUNK, (n_warmup - done) if done < n_warmup else total - done)
        start = -1 if done < n_warmup else done - n_warmup
        t0 = time.perf_counter()
        step(k, start)
        elapsed += time.perf_counter() - t0
        done += k
        bar.update(k)
    return elapsed


class _Count:
    """Sweeps a chain's thread has done (read by the main thread to move the progress bar)."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, k: int) -> None:
        self.n += k


PROGRESS_DELAY = 2.0
"""Seconds a run lasts before ``progress=None`` shows its bar."""


def _progress_options(progress: bool | None) -> dict:
    """tqdm options: ``True`` shows the bar at once, ``False`` never, and ``None`` (default) only
    for runs longer than :data:`PROGRESS_DELAY` seconds and never inside a Jupyter kernel
    (a bar written to stderr shows as a red box under a notebook cell, and a student does not
    wait there:
    the course's runs take well under a second)."""
    if progress is None:
        return {"disable": "ipykernel" in sys.modules, "delay": PROGRESS_DELAY}
    return {"disable": not progress}


def _run_chains(init_chain, n_acc, m, n_chains, n_warmup, n_draws, seed, progress, workers=1):
    """Run the chains, each on its own stream (:func:`_chain_rngs`), on ``workers`` threads.

    ``init_chain(c, rng, acc_c)`` sets chain ``c`` up (starting values from ``rng``) and
    returns its ``step(n_iter, start)``, which sweeps, writes the kept draws and adds the
    running sums of the chain's ``n_acc`` moment rows to ``acc_c`` (shape ``(n_acc, m)``).
    A chain touches only its own stream, state and rows of the output, so running chains on
    threads (the numba sweeps release the GIL) gives the same draws as one after the other;
    the sums are added up in chain order either way. The progress bar is moved from this
    (the calling) thread. Returns the sums over all chains and the seconds spent sampling
    (wall clock: with parallel chains, the time they took together).
    """
    accs = [np.zeros((n_acc, m)) for _ in range(n_chains)]
    steps = [init_chain(c, rng, accs[c]) for c, rng in enumerate(_chain_rngs(seed, n_chains))]
    for step in steps:
        step(0, -1)  # compile or load from cache outside the timed region
    total = n_chains * (n_warmup + n_draws)
    with tqdm(total=total, desc="Gibbs", **_progress_options(progress)) as bar:
        if workers <= 1:
            elapsed = sum(_run_chunks(step, n_warmup, n_draws, bar) for step in steps)
        else:
            elapsed = _run_threads(steps, n_warmup, n_draws, bar, workers)
    acc = np.zeros((n_acc, m))
    for acc_c in accs:
        acc += acc_c
    return acc, elapsed


def _run_threads(steps, n_warmup: int, n_draws: int, bar, workers: int) -> float:
    """Run every chain's ``step`` on a pool of ``workers`` threads; poll their counts to
    move ``bar`` from this thread. On an error or Ctrl-C the other chains stop after their
    current chunk. Returns the wall-clock seconds."""
    counts = [_Count() for _ in steps]
    stop = threading.Event()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hierlib-chain") as pool:
        futures = [
            pool.submit(_run_chunks, step, n_warmup, n_draws, count, stop)
            for step, count in zip(steps, counts, strict=True)
        ]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                bar.update(sum(c.n for c in counts) - bar.n)
                for f in done:
                    f.result()  # re-raise a chain's error here
        except BaseException:
            stop.set()
            raise
    return time.perf_counter() - t0


def _guarded(sweeps, model: str):
    """``sweeps`` with its errors explained: a kernel that stops (a named ``ValueError`` from
    a bounded loop, or a division by a variance that underflowed to 0) raises a
    ``ValueError`` that says which sampler, what happened and what to do."""

    def run(*args):
        try:
            return sweeps(*args)
        except (ValueError, ZeroDivisionError) as err:
            what = (
                "a variance or precision reached 0 (underflow)"
                if isinstance(err, ZeroDivisionError)
                else str(err)
            )
            raise ValueError(
                f"{model}: the sampler stopped: {what}. The data are probably (nearly) "
                "constant within or between groups, or extreme in scale, or the prior puts "
                f"its mass at extreme values; check the data, {RESCALE_HINT}, or use a "
                "proper prior"
            ) from err

    return run


def _check_finite(draws: dict[str, NDArray[np.float64]], model: str) -> None:
    """``ValueError`` naming the first quantity with a NaN or infinite draw."""
    for name, arr in draws.items():
        if not np.isfinite(arr).all():
            raise ValueError(
                f"{model}: the draws of {name} are not all finite (overflow or underflow in "
                f"floating point); {RESCALE_HINT}"
            )


def _warn_infinite_means(m: int, hyper: tuple[float, ...]) -> None:
    r"""Warn when :math:`E[\tau^2 \mid y]` (or :math:`E[\tau \mid y]`) is infinite.

    With :math:`\theta` and :math:`\mu` integrated out, the likelihood of :math:`\tau^2`
    falls like :math:`(\tau^2)^{-(m-1)/2}` (:mod:`hierlib.propriety`); a prior
    :math:`p(\tau^2) \propto (\tau^2)^{-a-1}` for large :math:`\tau^2` (``a = a_tau``:
    -1 for the flat prior, :math:`\eta_0/2` for the inverse gamma) gives a posterior tail
    :math:`(\tau^2)^{-(m-1)/2 - a - 1}`. So :math:`E[\tau^2 \mid y] < \infty` iff
    :math:`m > 3 - 2a` and :math:`E[\tau \mid y] < \infty` iff :math:`m > 2 - 2a`: under
    the flat prior, :math:`m \ge 6` and :math:`m \ge 5` (the posterior itself needs
    :math:`m \ge 4`).
    """
    a_tau = hyper[2]
    if m > 3 - 2 * a_tau:
        return
    which = "E[tau2 | y]" + (" and E[tau | y] are" if m <= 2 - 2 * a_tau else " is")
    warnings.warn(
        f"tau2: with m = {m} groups and this prior on tau2, {which} infinite (the mean of "
        f"tau2 needs m > {3 - 2 * a_tau:g}): the mean of the tau2 draws never settles however "
        "many draws are taken. Summarise tau2 (and tau) by the posterior median and quantiles, "
        "or use a proper prior on tau2",
        InfiniteMeanWarning,
        stacklevel=3,
    )


def _moments(acc: NDArray[np.float64], count: int, shift: NDArray[np.float64]):
    """Mean and sd from sums of ``x - shift`` and of its squares."""
    mean = acc[0] / count
    var = np.maximum(acc[1] / count - mean**2, 0.0)
    return shift + mean, np.sqrt(var)


# -------------------------------------------------------------------------------- samplers
def hierarchical_normal(
    y: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    prior: Default | SemiConjugate | HalfCauchy | None = None,
    parameterization: str = "centered",
    n_draws: int = 5000,
    n_warmup: int = 1000,
    n_chains: int = 4,
    seed: int = 1,
    keep_theta: ArrayLike | None = None,
    progress: bool | None = None,
    engine: str = "numba",
    *,
    stats: GroupStats | None = None,
    cores: int | None = None,
) -> Posterior:
    """Gibbs sampler for the hierarchical normal model with equal variances.

    .. math::
        Y_{ij} \\sim N(\\theta_j, \\sigma^2), \\quad \\theta_j \\sim N(\\mu, \\tau^2), \\quad
        (\\mu, \\sigma^2, \\tau^2) \\sim \\text{prior}

    Parameters
    ----------
    y : array_like of float, shape (n,)
        Responses (finite). Give either ``y`` and ``groups`` or ``stats``.
    groups : array_like, shape (n,)
        Group label of every response (any sortable labels).
    prior : priors.Default, priors.SemiConjugate or priors.HalfCauchy, optional
        ``None`` is the lecture's default :math:`p \\propto 1/\\sigma^2` (needs >= 4 groups;
        ``Default(tau2="uniform-tau")`` needs 3). Under ``HalfCauchy`` the sweep also draws
        the auxiliary variable of its inverse-gamma mixture (not returned).
    parameterization : {"centered", "offset", "interweaved"}
        See the module docstring.
    n_draws, n_warmup : int
        Draws kept per chain, and sweeps discarded first.
    n_chains : int
        Number of chains, each with its own stream (run in parallel, see ``cores``).
    seed : int
        Non-negative; the same seed gives bit-identical draws.
    keep_theta : array_like of group labels, or boolean mask, optional
        Keep the :math:`\\theta_j` draws of these groups only (``None``: all groups; ``[]``:
        none; a boolean array with one entry per group, in sorted label order, is a mask).
        Posterior means and sds of every :math:`\\theta_j` are returned regardless.
        Keeping all draws needs chains x draws x m x 8 bytes: runs above
        :data:`MAX_DRAWS_BYTES` (2 GiB) are refused with a message naming ``keep_theta``.
    progress : bool or None
        A tqdm progress bar on stderr: ``True`` always, ``False`` never, ``None`` (default)
        only once a run has lasted 2 s, and never inside a Jupyter kernel (notebooks stay
        clean).
    engine : {"numba", "numpy"}
        Compiled sweeps (default) or the textbook numpy loop (slower, same law; its chains
        run one after the other).
    stats : hierlib.data.GroupStats, optional
        The data as group sufficient statistics instead of rows:
        ``stats=data.group_stats(y, groups)`` gives the same draws as ``y, groups``, and
        needs only :math:`n_j, \\bar y_j, SS_j` per group (a table of summaries will do: labels
        sorted and distinct). The :class:`Posterior` then holds no rows.
    cores : int, optional
        Threads the chains run on (``None``, default: every core this process may use, see
        :func:`available_cores`; at most one per chain). The draws do not depend on it:
        ``cores=1`` runs the chains one after the other and gives the same draws.

    Returns
    -------
    Posterior

    Raises
    ------
    ValueError
        Bad data (NaN/inf, mismatched lengths, empty, text, a scale beyond floating point),
        fewer than two groups (four under the default prior), no within-group spread under
        the default prior, an argument of the wrong value, kept draws above
        :data:`MAX_DRAWS_BYTES`, a sampler that stopped because a quantity left floating
        point (the message names it), no data or both rows and ``stats``.
    TypeError
        ``y`` or ``groups`` of the wrong kind (a DataFrame, None, complex numbers), or
        ``stats`` that is not a :class:`hierlib.data.GroupStats`.

    Warns
    -----
    InfiniteMeanWarning
        When the prior and the number of groups make :math:`E[\\tau^2 \\mid y]` infinite
        (the default prior with m = 4 or 5 groups): summarise :math:`\\tau^2` by quantiles.
    """
    data = _data(y, groups, stats)  # (y, groups), or (stats, None): no rows were given
    stats, prior, keep, hyper = _prepare(
        *data, prior, (Default, SemiConjugate, HalfCauchy), parameterization, n_draws,
        n_warmup, n_chains, seed, progress, engine, keep_theta,
    )  # fmt: skip
    workers = _workers(cores, n_chains, engine)
    hyper = hyper[:6] + (hyper[6] if len(hyper) > 6 else 0.0,)  # A^2 (0: no half-Cauchy)
    param = _kernels.PARAMETERIZATIONS[parameterization]
    sweeps = _kernels.normal_sweeps if engine == "numba" else _kernels_numpy.normal_sweeps
    sweeps = _guarded(sweeps, "hierarchical_normal")
    n = stats.n.astype(np.float64)
    ybar, ss = stats.ybar, stats.ss
    out = np.empty((n_chains, n_draws, 3))
    out_theta = np.empty((n_chains, n_draws, keep.size))

    def init_chain(c, rng, acc_c):
        mu, sigma2, tau2 = _start_values(stats, rng)
        inv_a = 1.0 / (1.0 / hyper[6] + 1.0 / tau2) if hyper[6] > 0 else 0.0  # E[1/a | tau2]
        state = np.array([mu, sigma2, tau2, inv_a])
        x = ybar.copy() if param != _kernels.OFFSET else ybar - state[0]
        return lambda k, start: sweeps(
            rng, param, n, ybar, ss, hyper, state, x, k, start, keep, out[c], out_theta[c], acc_c
        )

    acc, elapsed = _run_chains(
        init_chain, 2, stats.m, n_chains, n_warmup, n_draws, seed, progress, workers
    )
    _check_finite({"mu, sigma2 or tau2": out, "theta": out_theta}, "hierarchical_normal")
    _warn_infinite_means(stats.m, hyper)
    theta_mean, theta_sd = _moments(acc, n_chains * n_draws, ybar)
    rows = (None, None) if y is None else _observation_rows(y, groups, stats)  # stats=: no rows
    return Posterior(
        draws={
            "mu": out[..., 0],
            "sigma2": out[..., 1],
            "tau2": out[..., 2],
            "theta": out_theta,
        },
        groups=stats.labels,
        theta_groups=stats.labels[keep],
        theta_mean=theta_mean,
        theta_sd=theta_sd,
        stats=stats,
        elapsed=elapsed,
        prior=prior,
        model="hierarchical_normal",
        parameterization=parameterization,
        seed=seed,
        engine=engine,
        y=rows[0],
        obs_group=rows[1],
    )


def unequal_variances(
    y: ArrayLike | None = None,
    groups: ArrayLike | None = None,
    prior: UnequalVariances | None = None,
    n_draws: int = 5000,
    n_warmup: int = 1000,
    n_chains: int = 4,
    seed: int = 1,
    keep_theta: ArrayLike | None = None,
    progress: bool | None = None,
    engine: str = "numba",
    *,
    stats: GroupStats | None = None,
    cores: int | None = None,
) -> Posterior:
    """Gibbs sampler for the hierarchical normal model with unequal variances (centered).

    .. math::
        Y_{ij} \\sim N(\\theta_j, \\sigma_j^2), \\quad \\theta_j \\sim N(\\mu, \\tau^2), \\quad
        1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2),

    with the prior :class:`hierlib.priors.UnequalVariances` on :math:`(\\mu, \\tau^2,
    \\sigma_0^2, \\nu_0)` (``None``: the lecture's -- flat :math:`\\mu, \\tau^2`,
    :math:`p(\\sigma_0^2) \\propto 1/\\sigma_0^2`, :math:`\\nu_0 \\sim \\text{Gamma}(2, 1/2)`).
    A sweep draws :math:`\\theta_j`, :math:`1/\\sigma_j^2`, :math:`\\mu`, :math:`\\tau^2`,
    :math:`\\sigma_0^2` from their full conditionals (:mod:`hierlib.conditionals`) and
    :math:`\\nu_0` by an exact slice-sampling update on :math:`\\log\\nu_0` (no closed form).

    Parameters and returns as :func:`hierarchical_normal` (``stats=`` instead of rows,
    ``cores=`` for parallel chains); ``keep_theta`` selects the groups
    whose ``theta`` and ``sigma2_j`` draws are kept; ``post.sigma2_j_mean`` and
    ``post.sigma2_j_sd`` cover every group.

    Raises
    ------
    ValueError
        As :func:`hierarchical_normal`, for any group with a single member (its
        :math:`\\sigma_j^2` would be sampled from one observation), and when groups with no
        spread (:math:`SS_j = 0`) make the posterior improper (the condition is derived in
        :func:`hierlib.propriety.check_unequal_variances`).
    """
    data = _data(y, groups, stats)  # (y, groups), or (stats, None): no rows were given
    stats, prior, keep, hyper = _prepare(
        *data, prior, (UnequalVariances,), "centered", n_draws, n_warmup, n_chains, seed,
        progress, engine, keep_theta, "the unequal-variances model (sigma_j^2 per group)",
    )  # fmt: skip
    workers = _workers(cores, n_chains, engine)
    sweeps = _kernels.unequal_sweeps if engine == "numba" else _kernels_numpy.unequal_sweeps
    sweeps = _guarded(sweeps, "unequal_variances")
    n = stats.n.astype(np.float64)
    ybar, ss = stats.ybar, stats.ss
    s2 = ss / (n - 1.0)
    pooled = float(ss.sum() / (n.sum() - stats.m))
    s2_start = np.where(s2 > 0, s2, pooled if pooled > 0 else 1.0)
    out = np.empty((n_chains, n_draws, 4))
    out_theta = np.empty((n_chains, n_draws, keep.size))
    out_s2 = np.empty((n_chains, n_draws, keep.size))

    def init_chain(c, rng, acc_c):
        mu, _, tau2 = _start_values(stats, rng)
        sigma02 = float(np.mean(s2_start))
        state = np.array([mu, tau2, sigma02, prior.nu0_shape / prior.nu0_rate])
        theta = ybar.copy()
        phi = 1.0 / s2_start
        return lambda k, start: sweeps(
            rng, n, ybar, ss, hyper, state, theta, phi, k, start, keep, out[c], out_theta[c],
            out_s2[c], acc_c,
        )  # fmt: skip

    acc, elapsed = _run_chains(
        init_chain, 4, stats.m, n_chains, n_warmup, n_draws, seed, progress, workers
    )
    _check_finite({"mu, tau2, sigma02 or nu0": out, "theta": out_theta, "sigma2_j": out_s2},
                  "unequal_variances")  # fmt: skip
    _warn_infinite_means(stats.m, hyper)
    count = n_chains * n_draws
    rows = (None, None) if y is None else _observation_rows(y, groups, stats)  # stats=: no rows
    theta_mean, theta_sd = _moments(acc[:2], count, ybar)
    s2_mean, s2_sd = _moments(acc[2:], count, s2)
    return Posterior(
        draws={
            "mu": out[..., 0],
            "tau2": out[..., 1],
            "sigma02": out[..., 2],
            "nu0": out[..., 3],
            "theta": out_theta,
            "sigma2_j": out_s2,
        },
        groups=stats.labels,
        theta_groups=stats.labels[keep],
        theta_mean=theta_mean,
        theta_sd=theta_sd,
        stats=stats,
        elapsed=elapsed,
        prior=prior,
        model="unequal_variances",
        parameterization="centered",
        seed=seed,
        engine=engine,
        extra={"sigma2_j_mean": s2_mean, "sigma2_j_sd": s2_sd},
        y=rows[0],
        obs_group=rows[1],
    )


def warm_up() -> None:
    """Compile the numba sweeps now (or load them from numba's on-disk cache).

    ``make setup`` calls this once, so the first notebook that samples does not spend
    several seconds compiling. Runs both models on a tiny fixed data set for one draw.
    """
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0])
    groups = np.repeat(np.arange(6), 2)  # 6 groups: E[tau2 | y] is finite (no warning)
    hierarchical_normal(y, groups, n_draws=1, n_warmup=0, n_chains=1)
    unequal_variances(y, groups, n_draws=1, n_warmup=0, n_chains=1)


if __name__ == "__main__":
    warm_up()
