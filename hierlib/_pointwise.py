"""The per-observation quantities of a posterior's draws, below both the samplers and
:mod:`hierlib.predictive`.

What the pointwise log-likelihood (PSIS-LOO) and the replicated data are built from:

- :func:`draw_index` -- which draws of each chain to keep (every ``thin``-th, or ``draws``
  of them equally spaced);
- :func:`observation_moments` -- each observation's mean and variance given each kept draw:
  :math:`(\\theta_j, \\sigma^2)` (model 1, no pooling), :math:`(\\theta_j, \\sigma_j^2)`
  (model 2), :math:`(\\mu, \\sigma^2)` (complete pooling);
- :func:`normal_logpdf` -- :math:`\\log N(y; m, v)`, broadcast.

Private: :meth:`hierlib.gibbs.Posterior.to_arviz` and :mod:`hierlib.predictive` are the public
faces. The posterior is duck-typed (``draws``, ``obs_group``, ``theta_groups``, ``groups``,
``model``, ``n_chains``), so this module imports no other hierlib module but the input checks.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import positive_int

_LOG_2PI = float(np.log(2.0 * np.pi))


def draw_index(n_draws: int, thin: int, draws: int | None) -> NDArray[np.int64]:
    """Positions of the kept draws in each chain: every ``thin``-th, or ``draws`` of them
    equally spaced."""
    if draws is None:
        return np.arange(0, n_draws, positive_int(thin, "thin"), dtype=np.int64)
    k = positive_int(draws, "draws")
    if k > n_draws:
        raise ValueError(f"draws = {k} is more than the {n_draws} draws per chain")
    return ((np.arange(k) + 0.5) * n_draws / k).astype(np.int64)


def observation_moments(post: Any, keep: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """Mean and variance of each observation given each kept draw, shape (chains, kept, n).

    Model 1 and no pooling: :math:`(\\theta_j, \\sigma^2)`; model 2:
    :math:`(\\theta_j, \\sigma_j^2)`; complete pooling: :math:`(\\mu, \\sigma^2)`.
    """
    idx = post.obs_group
    d = post.draws
    if "theta" in d and post.model != "complete_pooling":
        if len(post.theta_groups) != len(post.groups):
            raise ValueError(
                "the pointwise groups need the theta draws of every group: sample with "
                "keep_theta=None"
            )
        means = d["theta"][:, keep][..., idx]
    else:
        means = np.broadcast_to(d["mu"][:, keep, None], (post.n_chains, keep.size, idx.size))
    if "sigma2_j" in d:
        variances = d["sigma2_j"][:, keep][..., idx]
    else:
        variances = np.broadcast_to(d["sigma2"][:, keep, None], means.shape)
    return means, variances


def normal_logpdf(y: ArrayLike, mean: ArrayLike, var: ArrayLike) -> NDArray[np.float64]:
    """:math:`\\log N(y; \\text{mean}, \\text{var}) = -\\tfrac12[\\log(2\\pi\\,\\text{var}) +
    (y-\\text{mean})^2/\\text{var}]`, broadcast."""
    v = np.asarray(var, dtype=np.float64)
    return -0.5 * (_LOG_2PI + np.log(v) + (np.asarray(y) - mean) ** 2 / v)
