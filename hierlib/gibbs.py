"""Gibbs samplers for the hierarchical normal models (lecture: "Bayesian estimation").

- :func:`hierarchical_normal` -- model 1, :math:`Y_{ij} \\sim N(\\theta_j, \\sigma^2)`,
  :math:`\\theta_j \\sim N(\\mu, \\tau^2)`, in three parameterisations: ``"centered"`` (the
  lecture's sampler), ``"offset"`` (the mixed-effects form :math:`\\mu + \\delta_j`) and
  ``"interweaved"`` (ASIS; Yu & Meng 2011), described in
  :mod:`hierlib.samplers.hierarchical_normal`.
- :func:`unequal_variances` -- model 2, :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)` with
  :math:`1/\\sigma_j^2 \\sim \\text{Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)`
  (:mod:`hierlib.samplers.unequal_variances`).
- :func:`mixed_model` -- the linear mixed model :math:`y_j = X_j\\beta + Z_j b_j + e_j`,
  :math:`b_j \\sim N_q(0, \\Sigma)`: varying intercepts and slopes with predictors at both
  levels, from formulas (:mod:`hierlib.samplers.mixed_model`), returning a
  :class:`MixedPosterior`.

The full conditionals and their derivations are in :mod:`hierlib.conditionals`. The sweeps
work on the group sufficient statistics only (O(m) per sweep, whatever the number of
students) and are compiled with numba (``engine="numba"``); ``engine="numpy"`` runs the
textbook vectorised loop instead (a slower reference implementation). Each chain gets its
own stream, ``numpy.random.default_rng(child)`` for ``child in
SeedSequence(seed).spawn(n_chains)``; the same seed gives bit-identical draws. Chains run in
parallel on threads (``cores=``, default: every core this process may use), and the draws
are bit-identical to a sequential run (``cores=1``) of the same seed
(:mod:`hierlib.samplers._chains` says why); ``engine="numpy"`` runs its chains one after the
other. ``Posterior.elapsed`` is wall-clock time: chains that ran in parallel count once.

The data come either as rows ``(y, groups)`` or as their sufficient statistics
``stats=data.group_stats(y, groups)`` (or any :class:`hierlib.data.GroupStats`, e.g. built
from a table of summaries); both give the same draws. A :class:`Posterior` sampled from
``stats=`` holds no student rows (only ``stats``): what needs them (pointwise
log-likelihood, replicated data) cannot be computed from it.

This module is the public face of :mod:`hierlib.samplers`, where each model has its own
module (its prepare step, its sweeps and its posterior) over one shared chain machinery
(streams, threads, memory guard, warm-up, progress); that package's docstring says how a new
model plugs in. Two settings are read at each call: :data:`MAX_DRAWS_BYTES` (the largest
memory one call may allocate -- a sampler's kept draws and its chains' work arrays, the
exact pooling draws, the textbook sampler's chains, an exact grid, PSIS-LOO's blocks --,
2 GiB; ``hierlib.gibbs.MAX_DRAWS_BYTES = 8 * 1024**3`` if the machine has the memory;
a call that would need more is refused before it allocates, with a message saying what to
pass instead) and :data:`PROGRESS_DELAY` (seconds a run lasts before ``progress=None``
shows its bar, 2 s).
"""

from __future__ import annotations

import sys
import types

from hierlib import _memory
from hierlib.samplers import _chains
from hierlib.samplers import hierarchical_normal as _equal_variances
from hierlib.samplers import mixed_model as _mixed_model
from hierlib.samplers import unequal_variances as _unequal_variances
from hierlib.samplers._chains import available_cores
from hierlib.samplers._posterior import MAX_POINTWISE_BYTES, InfiniteMeanWarning, Posterior
from hierlib.samplers.hierarchical_normal import hierarchical_normal
from hierlib.samplers.mixed_model import MixedPosterior, mixed_model
from hierlib.samplers.unequal_variances import unequal_variances

__all__ = [
    "MAX_DRAWS_BYTES",  # noqa: F822 -- a property of the module (_Settings below)
    "MAX_POINTWISE_BYTES",
    "PROGRESS_DELAY",  # noqa: F822
    "InfiniteMeanWarning",
    "MixedPosterior",
    "Posterior",
    "available_cores",
    "hierarchical_normal",
    "mixed_model",
    "unequal_variances",
    "warm_up",
]

MODELS = (_equal_variances, _unequal_variances, _mixed_model)
"""The model modules of :mod:`hierlib.samplers`, each with its sampler and ``warm_up()``."""


def warm_up() -> None:
    """Compile the numba sweeps now (or load them from numba's on-disk cache).

    ``make setup`` calls this once, so the first notebook that samples does not spend
    several seconds compiling. Runs every model on a tiny fixed data set for one draw.
    """
    for model in MODELS:
        model.warm_up()


class _Settings(types.ModuleType):
    """This module, with its two settings kept where the calls read them
    (:mod:`hierlib._memory`, :mod:`hierlib.samplers._chains`): reading or setting
    ``gibbs.MAX_DRAWS_BYTES`` reads or sets that one value."""

    @property
    def MAX_DRAWS_BYTES(self) -> int:  # noqa: N802 -- the module constant's name
        """Largest memory (bytes) one call of hierlib may allocate (2 GiB)."""
        return _memory.MAX_BYTES

    @MAX_DRAWS_BYTES.setter
    def MAX_DRAWS_BYTES(self, value: int) -> None:  # noqa: N802
        _memory.budget(value, "hierlib.gibbs.MAX_DRAWS_BYTES")
        _memory.MAX_BYTES = value

    @property
    def PROGRESS_DELAY(self) -> float:  # noqa: N802
        """Seconds a run lasts before ``progress=None`` shows its bar."""
        return _chains.PROGRESS_DELAY

    @PROGRESS_DELAY.setter
    def PROGRESS_DELAY(self, value: float) -> None:  # noqa: N802
        _chains.PROGRESS_DELAY = value


sys.modules[__name__].__class__ = _Settings


if __name__ == "__main__":
    warm_up()
