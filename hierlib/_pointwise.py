"""The per-observation quantities of a posterior's draws, below both the samplers and
:mod:`hierlib.predictive`.

What the pointwise log-likelihood (PSIS-LOO) and the replicated data are built from:

- :func:`draw_index` -- which draws of each chain to keep (every ``thin``-th, or ``draws``
  of them equally spaced);
- :func:`observation_moments` -- each observation's mean and variance given each kept draw:
  :math:`(\\theta_j, \\sigma^2)` (model 1, no pooling), :math:`(\\theta_j, \\sigma_j^2)`
  (model 2), :math:`(\\mu, \\sigma^2)` (complete pooling);
- :func:`normal_logpdf` -- :math:`\\log N(y; m, v)`, broadcast;
- :func:`loglik_blocks` -- the same pointwise log-likelihood, a block of observations at a
  time and observation by observation (what PSIS-LOO, :mod:`hierlib._psis`, works along),
  without the (chains, draws, observations) array.

Private: :meth:`hierlib.gibbs.Posterior.to_arviz` and :mod:`hierlib.predictive` are the public
faces. The posterior is duck-typed (``draws``, ``obs_group``, ``theta_groups``, ``groups``,
``model``, ``n_chains``), so this module imports no other hierlib module but the input checks.
"""

from __future__ import annotations

from collections.abc import Iterator
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


def _draw_positions(keep: Any, n_draws: int) -> NDArray[np.int64]:
    """``keep`` if it is a 1-d array of integer positions 0..n_draws-1 (as :func:`draw_index`
    gives), else a ``ValueError`` naming it (a negative or float position would be read as
    another draw)."""
    arr = np.asarray(keep)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise ValueError(
            f"keep must be a 1-d array of integer draw positions; got {arr.dtype} of shape "
            f"{arr.shape}"
        )
    if arr.size and (arr.min() < 0 or arr.max() >= n_draws):
        raise ValueError(
            f"keep must hold draw positions 0..{n_draws - 1}; got {arr.min()}..{arr.max()}"
        )
    return arr.astype(np.int64, copy=False)


def _moment_draws(post: Any, keep: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """The kept draws of the observations' mean and variance parameters: (chains, kept,
    groups) when each group has its own (:math:`\\theta_j`; :math:`\\sigma_j^2`), (chains,
    kept) when all share one (:math:`\\mu` in complete pooling; :math:`\\sigma^2`)."""
    d = post.draws
    if "theta" in d and post.model != "complete_pooling":
        if len(post.theta_groups) != len(post.groups):
            raise ValueError(
                "the pointwise groups need the theta draws of every group: sample with "
                "keep_theta=None"
            )
        means = d["theta"][:, keep]
    else:
        means = d["mu"][:, keep]
    variances = d["sigma2_j"][:, keep] if "sigma2_j" in d else d["sigma2"][:, keep]
    return means, variances


def observation_moments(post: Any, keep: NDArray[np.int64]) -> tuple[NDArray, NDArray]:
    """Mean and variance of each observation given each kept draw, shape (chains, kept, n).

    Model 1 and no pooling: :math:`(\\theta_j, \\sigma^2)`; model 2:
    :math:`(\\theta_j, \\sigma_j^2)`; complete pooling: :math:`(\\mu, \\sigma^2)`. A shared
    parameter is a broadcast view, not a copy.
    """
    keep = _draw_positions(keep, post.n_draws)
    idx = post.obs_group
    shape = (post.n_chains, keep.size, idx.size)

    def per_observation(a: NDArray) -> NDArray:
        return np.take(a, idx, axis=-1) if a.ndim == 3 else np.broadcast_to(a[..., None], shape)

    means, variances = _moment_draws(post, keep)
    return per_observation(means), per_observation(variances)


def moment_blocks(
    post: Any, keep: NDArray[np.int64], block_bytes: int
) -> Iterator[tuple[int, slice, NDArray, NDArray]]:
    """:func:`observation_moments` a block of draws at a time: ``(chain, rows, means,
    variances)`` with ``means`` and ``variances`` of shape (kept draws in ``rows``, n), the
    rows of chain ``chain``, about ``block_bytes`` each, chain after chain and draw after
    draw (the order of the full array's rows: replicated data drawn block by block consume
    the stream as one draw of the whole array would)."""
    idx = post.obs_group
    means, variances = _moment_draws(post, keep)
    step = max(1, block_bytes // (8 * max(idx.size, 1)))

    def per_observation(a: NDArray) -> NDArray:
        if a.ndim == 2:
            return np.take(a, idx, axis=-1)
        return np.broadcast_to(a[:, None], (a.shape[0], idx.size))

    for c in range(means.shape[0]):
        for start in range(0, keep.size, step):
            rows = slice(start, min(start + step, keep.size))
            yield c, rows, per_observation(means[c, rows]), per_observation(variances[c, rows])


def pointwise_groups(
    shape: tuple[int, int, int], blocks, y: NDArray[np.float64], log_likelihood: bool, rng
) -> dict[str, Any]:
    """The ``log_likelihood`` and (with ``rng``) ``posterior_predictive`` groups of
    ``to_arviz``, arrays of ``shape`` (chains, kept draws, observations) filled from
    ``blocks`` of ``(chain, rows, means, variances)`` (:func:`moment_blocks`, or a model's
    own), chain after chain and draw after draw: :math:`\\log N(y; m, v)` and
    :math:`m + \\sqrt v\\, z`."""
    ll = np.empty(shape) if log_likelihood else None
    rep = np.empty(shape) if rng is not None else None
    for c, rows, means, variances in blocks:
        if ll is not None:
            ll[c, rows] = normal_logpdf(y, means, variances)
        if rep is not None:
            rep[c, rows] = means + np.sqrt(variances) * rng.standard_normal(means.shape)
    groups: dict[str, Any] = {}
    if ll is not None:
        groups["log_likelihood"] = {"y": ll}
    if rep is not None:
        groups["posterior_predictive"] = {"y": rep}
    return groups


def moment_bytes(post: Any, n_kept: int) -> int:
    """Bytes :func:`moment_blocks` and :func:`loglik_blocks` copy out of the draws: the kept
    draws of each observation's mean and variance parameters (one per group or shared; a
    posterior with its own ``moment_bytes``, the mixed model's, says)."""
    own = getattr(post, "moment_bytes", None)
    if own is not None:
        return own(n_kept)
    d = post.draws
    per_draw = 1 if "sigma2_j" not in d else d["sigma2_j"].shape[-1]
    if "theta" in d and post.model != "complete_pooling":
        per_draw += d["theta"].shape[-1]
    else:
        per_draw += 1
    return 8 * post.n_chains * n_kept * per_draw


def loglik_blocks(
    post: Any, keep: NDArray[np.int64], block_bytes: int
) -> Iterator[tuple[slice, NDArray[np.float64]]]:
    """The pointwise log-likelihood, :math:`\\log N(y_i; m_i^{(s)}, v_i^{(s)})`, in blocks of
    observations: ``(rows, ll)`` with ``ll`` of shape (observations in ``rows``, chains x
    kept), the draws chain after chain (as ArviZ stacks them), about ``block_bytes`` each.

    The same numbers, bit for bit, as :func:`normal_logpdf` of :func:`observation_moments`
    (and so as ``post.to_arviz(log_likelihood=True)``), computed from the draws by group:
    the logarithm of each variance draw is taken once per group, not once per observation,
    and no array of every observation's draws is made. A posterior with its own
    ``loglik_blocks`` (the mixed model's: a mean per observation) gives them itself.
    """
    own = getattr(post, "loglik_blocks", None)
    if own is not None:
        yield from own(keep, block_bytes)
        return
    y, obs_group = post._rows()
    means, variances = _moment_draws(post, keep)
    n_samples = means.shape[0] * means.shape[1]

    def by_group(a: NDArray) -> tuple[NDArray, bool]:
        """(groups, draws) for a parameter per group, (1, draws) for a shared one."""
        if a.ndim == 2:
            return a.reshape(1, n_samples), False
        return np.ascontiguousarray(a.reshape(n_samples, -1).T), True

    (mean_g, mean_per_group), (var_g, var_per_group) = by_group(means), by_group(variances)
    log_var_g = np.log(var_g) + _LOG_2PI
    step = max(1, block_bytes // (8 * n_samples))
    for start in range(0, y.size, step):
        rows = slice(start, min(start + step, y.size))
        g = obs_group[rows]
        out = np.subtract(y[rows, None], mean_g[g] if mean_per_group else mean_g)
        np.square(out, out=out)
        if var_per_group:
            out /= var_g[g]
            out += log_var_g[g]
        else:
            out /= var_g
            out += log_var_g
        out *= -0.5
        yield rows, out


def _distinct(a: NDArray) -> NDArray:
    """``a`` without the repeats of its broadcast axes (stride 0: length 1 there), so that
    an elementwise function of ``a`` is computed once per distinct value and broadcast."""
    return a[tuple(slice(0, 1) if st == 0 else slice(None) for st in a.strides)]


def normal_logpdf(y: ArrayLike, mean: ArrayLike, var: ArrayLike) -> NDArray[np.float64]:
    """:math:`\\log N(y; \\text{mean}, \\text{var}) = -\\tfrac12[\\log(2\\pi\\,\\text{var}) +
    (y-\\text{mean})^2/\\text{var}]`, broadcast.

    Computed in place in one array of the broadcast shape (for HSB's pointwise
    log-likelihood, chains x draws x 7185), with the logarithm taken once per distinct
    variance (``var`` from :func:`observation_moments` is a broadcast view in model 1).
    """
    v = np.asarray(var, dtype=np.float64)
    out = np.asarray(np.subtract(y, mean, dtype=np.float64))
    np.square(out, out=out)
    np.divide(out, v, out=out)
    out += np.log(_distinct(v)) + _LOG_2PI
    out *= -0.5
    return out[()] if out.ndim == 0 else out
