"""What every sampler returns: :class:`Posterior`, the draws after warm-up and what produced
them, as an ``arviz.InferenceData`` on request; and the warning for a posterior mean that does
not exist (:class:`InfiniteMeanWarning`).

Private: :class:`hierlib.gibbs.Posterior` is the public name. :mod:`hierlib.exact` returns
the same class for its exact pooling posteriors, so every model of the course is compared
alike.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from hierlib import _memory
from hierlib._memory import MAX_POINTWISE_BYTES
from hierlib._pointwise import draw_index, moment_blocks, moment_bytes, pointwise_groups
from hierlib._validate import positive_int
from hierlib.data import GroupStats

POINTWISE_BLOCK = 2**18
"""Bytes of one block of draws x observations :meth:`Posterior.to_arviz` fills at a time."""

ARVIZ_MARGIN = 2 * 2**20
"""Bytes :meth:`Posterior.to_arviz` counts for ArviZ's and xarray's own objects (measured:
well under 1 MiB for HSB)."""


def pointwise_bytes(
    post: Any, n_kept: int, copied: bool, pointwise: tuple[bool, bool], n_obs: int
) -> int:
    """Bytes :meth:`Posterior.to_arviz` allocates for ``n_kept`` draws per chain: the
    posterior group's new arrays (the square roots of the variances; every kept draw when
    ``copied``, ``draws=`` picking them), and with the pointwise groups (``pointwise``: log
    likelihood, replicated data) chains x ``n_kept`` x ``n_obs`` x 8 bytes each, the copies of
    the observations' mean and variance draws, the temporaries of one block (at most eight
    arrays of :data:`POINTWISE_BLOCK` bytes, or of one draw's row if larger), the coordinates
    (each observation's index and school label), plus :data:`ARVIZ_MARGIN`."""
    rows = post.n_chains * n_kept
    sqrt = sum(name in post.draws for name in ("tau2", "sigma2", "sigma02"))
    values = sum(int(np.prod(v.shape[2:])) for v in post.draws.values()) if copied else 0
    need = 8 * rows * (sqrt + values) + ARVIZ_MARGIN
    if any(pointwise):
        need += 8 * rows * n_obs * sum(pointwise) + moment_bytes(post, n_kept)
        need += 8 * max(POINTWISE_BLOCK, 8 * n_obs) + n_obs * (8 + np.asarray(post.groups).itemsize)
    return need


def inference_data(
    post: Any,
    posterior: dict,
    coords: dict,
    dims: dict,
    blocks,
    keep: NDArray[np.int64],
    pointwise: tuple[bool, bool],
    seed: int | None,
):
    """``to_arviz``'s ``arviz.InferenceData``, for every model: the ``posterior`` group (with
    ``coords`` and ``dims``) and, with ``pointwise`` = (log likelihood, replicated data),
    those groups filled from ``blocks()`` (an iterator of ``(chain, rows, means,
    variances)``, :func:`hierlib._pointwise.pointwise_groups`; the replicated data from
    ``default_rng(seed)``, the sampler's seed by default), ``observed_data["y"]`` and the
    ``obs`` dimension with each observation's ``school``; every group's attributes name the
    model and parameterization."""
    from hierlib._arviz import az

    groups: dict[str, Any] = {}
    if any(pointwise):
        y, obs_group = post._rows()
        rng = np.random.default_rng(positive_int(post.seed if seed is None else seed, "seed", 0))
        shape = (post.n_chains, keep.size, y.size)
        groups = pointwise_groups(shape, blocks(), y, pointwise[0], rng if pointwise[1] else None)
        groups["observed_data"] = {"y": y}
        dims["y"] = ["obs"]
        coords["obs"] = np.arange(y.size)
    idata = az.from_dict(posterior=posterior, coords=coords, dims=dims, **groups)
    for name in idata.groups():
        idata[name].attrs.update(model=post.model, parameterization=post.parameterization)
    if "observed_data" in groups:
        school = np.asarray(post.groups)[obs_group]
        for name in groups:
            idata[name].coords["school"] = ("obs", school)
    return idata


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

    @classmethod
    def from_run(
        cls,
        draws: dict[str, NDArray[np.float64]],
        stats: GroupStats,
        keep: NDArray[np.int64],
        theta_moments: tuple[NDArray[np.float64], NDArray[np.float64]],
        rows: tuple[Any, Any],
        **run: Any,
    ) -> Posterior:
        """A sampler's posterior: its kept ``draws``, every group of ``stats`` with the
        ``keep`` ones' theta draws, the running ``(theta_mean, theta_sd)`` of every group, the
        ``rows`` ``(y, obs_group)`` (``(None, None)`` from ``stats=``) and the ``run``'s
        fields (``elapsed``, ``prior``, ``model``, ``parameterization``, ``seed``,
        ``engine``, optionally ``extra``)."""
        return cls(
            draws=draws,
            groups=stats.labels,
            theta_groups=stats.labels[keep],
            theta_mean=theta_moments[0],
            theta_sd=theta_moments[1],
            stats=stats,
            y=rows[0],
            obs_group=rows[1],
            **run,
        )

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
            The most memory (bytes) this call may allocate; refused (``ValueError``, before
            allocating, naming ``draws=`` and ``thin=``) when it would take more. The
            pointwise groups take chains x kept draws x observations x 8 bytes each (HSB,
            4 chains x 5000 draws: 1.15 GB each; ``draws=250``: 57 MB); they are built a
            block of draws at a time, so their temporaries stay near 2 MiB.
            Counted too: the copies of the kept draws (``draws=``) and of the observations'
            parameters, and a margin for ArviZ's own objects (:func:`pointwise_bytes`).
        """

        max_bytes = _memory.budget(max_bytes)
        keep = draw_index(self.n_draws, thin, draws)
        pointwise = (log_likelihood, posterior_predictive)
        y, obs_group = self._rows() if any(pointwise) else (None, None)
        self._check_memory(keep, draws is not None, pointwise, max_bytes)
        # every thin-th draw is a view of the draws; draws= equally spaced ones a copy
        d = {k: v[:, ::thin] if draws is None else v[:, keep] for k, v in self.draws.items()}
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
        return inference_data(
            self, posterior, coords, dims, lambda: moment_blocks(self, keep, POINTWISE_BLOCK),
            keep, pointwise, seed,
        )  # fmt: skip

    def _check_memory(
        self, keep: NDArray[np.int64], copied: bool, pointwise: tuple[bool, bool], max_bytes: float
    ) -> None:
        """Refuse a :meth:`to_arviz` call whose allocation (:func:`pointwise_bytes`) would be
        above ``max_bytes``, saying how many draws fit."""
        n_obs = 0 if self.y is None else self.y.size
        need = pointwise_bytes(self, keep.size, copied, pointwise, n_obs)
        if need <= max_bytes:
            return
        per_draw = pointwise_bytes(self, 1, True, pointwise, n_obs) - pointwise_bytes(
            self, 0, True, pointwise, n_obs
        )
        fit = int((max_bytes - pointwise_bytes(self, 0, True, pointwise, n_obs)) // per_draw)
        n_groups = sum(pointwise)
        what = (
            f"{n_groups} pointwise group(s) of {self.n_chains} chains x {keep.size} draws x "
            f"{n_obs} observations x 8 bytes, with their temporaries"
            if n_groups
            else f"the posterior group of {self.n_chains} chains x {keep.size} draws"
        )
        instead = (
            f"draws={fit} or fewer (or a larger thin=)"
            if fit >= 1
            else "a larger max_bytes= (even one draw per chain does not fit)"
        )
        _memory.check(need, what, instead, limit=max_bytes, setting="max_bytes")

    def _rows(self) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
        if self.y is None or self.obs_group is None:
            raise ValueError(
                "this posterior has no observations (it was sampled from group statistics "
                "only): the pointwise log_likelihood/posterior_predictive groups need y and "
                "groups"
            )
        return self.y, self.obs_group


def infinite_means(m: int, a_tau: float) -> tuple[bool, bool]:
    """Whether :math:`E[\\tau^2 \\mid y]` and :math:`E[\\tau \\mid y]` are infinite with
    ``m`` groups and a prior on :math:`\\tau^2` whose tail has Gamma pseudo-count ``a_tau``
    (:func:`warn_infinite_means` derives the rule): ``(m <= 3 - 2a, m <= 2 - 2a)``."""
    return m <= 3 - 2 * a_tau, m <= 2 - 2 * a_tau


def warn_infinite_means(m: int, hyper: tuple[float, ...]) -> None:
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
    tau2_infinite, tau_infinite = infinite_means(m, a_tau)
    if not tau2_infinite:
        return
    which = "E[tau2 | y]" + (" and E[tau | y] are" if tau_infinite else " is")
    warnings.warn(
        f"tau2: with m = {m} groups and this prior on tau2, {which} infinite (the mean of "
        f"tau2 needs m > {3 - 2 * a_tau:g}): the mean of the tau2 draws never settles however "
        "many draws are taken. Summarise tau2 (and tau) by the posterior median and quantiles, "
        "or use a proper prior on tau2",
        InfiniteMeanWarning,
        stacklevel=3,
    )
