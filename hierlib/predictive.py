"""Checking, predicting and comparing models with the posterior predictive distribution.

The lecture fits the hierarchical models; this module asks the three questions of the
Bayesian workflow (BDA ch. 6-7) about the fits:

- **Does the model fit?** Posterior predictive checks: replicate the data once per draw,
  :math:`y^{rep} \\sim p(y^{rep} \\mid \\vartheta^{(s)})`, compute a statistic :math:`T` on
  each replicate and on the data, and report :math:`p = P(T(y^{rep}) \\ge T(y) \\mid y)`
  (:func:`ppc`). The statistic the lecture's question is about is the spread across schools
  of the within-school variances :math:`s_j^2` (:func:`spread_of_variances`); the school
  means' extremes check the other level (:func:`smallest_mean`, :func:`largest_mean`).
  *Mixed* replicates (Marshall & Spiegelhalter 2003) draw new school means or variances
  from the fitted population instead of reusing those fitted to the same schools
  (:func:`ppc_new_means`, :func:`ppc_new_variances`); :func:`variance_spread_checks` runs
  both kinds for the variances from the group statistics
  (:func:`hierlib.unequal.variance_spread_by_nu0` repeats them with :math:`\\nu_0` held at
  chosen values: it refits model 2, so it lives with the unequal-variances model).
- **What will we see next?** Predictive draws for a new student of a known school,
  :math:`\\tilde y \\sim N(\\theta_j, \\sigma^2)`, and for the mean of a new school,
  :math:`\\tilde\\theta \\sim N(\\mu, \\tau^2)` (:func:`prediction_table`).
- **Which model predicts best?** The pointwise log-likelihood behind PSIS-LOO
  (:meth:`hierlib.gibbs.Posterior.to_arviz` with ``log_likelihood=True``; ``az.loo``) scores a
  new student in a known school. A new school is scored by the log-likelihood of a whole
  school with its :math:`\\theta_j` integrated out (:func:`school_log_likelihood`; PSIS over
  schools is leave-one-school-out), checked by refitting without the school
  (:func:`loso_refit`). :func:`elpd_difference` gives any pair's difference and its
  standard error; :func:`observation_pareto_k` shows how one observation's Pareto
  :math:`\\hat k` settles as the number of draws grows.

Reference: Marshall, E. C. and Spiegelhalter, D. J. (2003), "Approximate cross-validatory
predictive checks in disease mapping models", *Statistics in Medicine* 22, 1649-1660.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib import _memory
from hierlib._pointwise import draw_index, loglik_blocks, moment_bytes
from hierlib._pointwise import normal_logpdf as _normal_logpdf  # the unchecked fast path
from hierlib._psis import BLOCK_BYTES, psis_loo, psis_loo_blocks
from hierlib._validate import (
    RESCALE_HINT,
    HasDraws,
    as_finite_1d,
    as_labels,
    as_real_array,
    finite_result,
    positive,
    positive_int,
    probability,
    require_draws,
    require_mapping,
    require_type,
    same_length,
)
from hierlib.data import _sums_by_group
from hierlib.marginal import school_loglik  # a school with theta_j integrated out


def _log_mean_exp(ll: NDArray[np.float64]) -> float:
    """:math:`\\log \\frac1S \\sum_s e^{\\ell_s}`, computed without overflow."""
    top = ll.max()
    return float(top + np.log(np.mean(np.exp(ll - top))))


MODELS: dict[str, tuple[str, ...]] = {
    "predict_new_student": ("hierarchical_normal", "unequal_variances", "no_pooling"),
    "predict_new_school_mean": ("hierarchical_normal", "unequal_variances"),
    "prediction_table": ("hierarchical_normal",),
    "variance_removed_by_school": ("hierarchical_normal",),
    "loso_refit": ("hierarchical_normal", "complete_pooling"),
    "loo_refit": ("hierarchical_normal", "unequal_variances", "no_pooling"),
}
"""Which fits (``post.model``) each prediction helper takes: a new student needs each
school's :math:`\\theta_j` (not complete pooling), a new school the population
:math:`N(\\mu, \\tau^2)` (not the pooling fits), the table and the variance shares model 1's
one :math:`\\sigma^2`, and leaving a school out its likelihood with :math:`\\theta_j`
integrated out (:func:`school_log_likelihood`). Any other fit is refused with a
``ValueError`` that names the ones taken."""

_MODEL_NAMES = {
    "hierarchical_normal": "model 1 (gibbs.hierarchical_normal)",
    "unequal_variances": "model 2 (gibbs.unequal_variances)",
    "complete_pooling": "complete pooling (exact.complete_pooling)",
    "no_pooling": "no pooling (exact.no_pooling)",
}


def _require_model(post: Any, use: str, name: str = "post") -> Any:
    """``post`` if it is a posterior of a model :data:`MODELS` lists for ``use``, else a
    ``TypeError`` (not a posterior) or ``ValueError`` naming the models ``use`` takes."""
    require_draws(post, name)
    model = getattr(post, "model", None)
    if model not in MODELS[use]:
        takes = ", ".join(_MODEL_NAMES[m] for m in MODELS[use])
        raise ValueError(f"{use} takes a fit of {takes}; {name} is a fit of {model!r}")
    return post


def normal_logpdf(y: ArrayLike, mean: ArrayLike, var: ArrayLike) -> NDArray[np.float64]:
    """:math:`\\log N(y; \\text{mean}, \\text{var}) = -\\tfrac12[\\log(2\\pi\\,\\text{var}) +
    (y-\\text{mean})^2/\\text{var}]`, broadcast: the pointwise log-likelihood of
    :meth:`hierlib.gibbs.Posterior.to_arviz` for any arrays.

    Raises
    ------
    ValueError
        NaN or infinite entries, a variance that is not positive, or shapes that do not
        broadcast together (each named).
    TypeError
        Complex numbers, None, text containers.
    """
    arrays = {"y": y, "mean": mean, "var": var}
    checked = {name: as_real_array(v, name) for name, v in arrays.items()}
    for name, a in checked.items():
        if not np.isfinite(a).all():
            raise ValueError(f"{name} must be finite; got NaN or infinite entries")
    if not (checked["var"] > 0).all():
        low = float(checked["var"].min())
        raise ValueError(f"var must be > 0 (the variance of a normal); got entries as low as {low}")
    try:
        np.broadcast_shapes(*(a.shape for a in checked.values()))
    except ValueError as err:
        shapes = ", ".join(f"{k} {a.shape}" for k, a in checked.items())
        raise ValueError(f"y, mean and var must broadcast together; got {shapes}") from err
    return _normal_logpdf(checked["y"], checked["mean"], checked["var"])


def _require_rng(rng: Any) -> np.random.Generator:
    """``rng`` if it is a ``numpy.random.Generator``, else a ``TypeError`` naming it."""
    how = "np.random.default_rng(seed)"
    return require_type(rng, np.random.Generator, "rng", how, label="numpy.random.Generator")


# -------------------------------------------------------------------------- PSIS-LOO
def _quiet(call: Callable[[], Any]) -> Any:
    """Run an ArviZ call, keeping its Pareto-k warning out of stderr: that diagnostic is
    returned (``ELPDData.warning`` and ``pareto_k``; :func:`pareto_k_table`) and shown, not
    printed. ArviZ 0.23's own deprecated pandas call inside ``az.compare`` is silenced too.
    Every other warning is passed on."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = call()
    for w in caught:
        text = str(w.message)
        if text.startswith("Estimated shape parameter of Pareto") or text.startswith(
            "The inplace keyword in DataFrame.sort_values"
        ):
            continue
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return out


def loo(fit: Any, *, draws: int | None = None, engine: str = "numpy"):
    """PSIS-LOO of every observation, ``az.loo(..., pointwise=True)``: an ``arviz.ELPDData``
    that ``az.compare`` (:func:`compare`) and ``az.plot_khat`` take.

    Parameters
    ----------
    fit : posterior or arviz.InferenceData
        A sampler's or :mod:`hierlib.exact`'s posterior (with its observations), using
        ``draws`` equally spaced draws per chain (``None``: all), or an ``InferenceData``
        with one ``log_likelihood`` variable (``post.to_arviz(log_likelihood=True)``,
        :func:`school_idata`).
    engine : {"numpy", "arviz"}
        ``"numpy"`` (default) runs ArviZ 0.23's PSIS with numpy on all observations at once
        (:mod:`hierlib._psis`: the same tail, generalized Pareto fit with ArviZ's prior,
        smoothing and truncation; equal to ``az.loo`` pointwise to 1e-8, a test checks it);
        from a posterior it computes the pointwise log-likelihood a block of students at a
        time, never the whole (chains, draws, students) array. ``"arviz"`` calls ``az.loo``
        itself (a Python loop over observations: on HSB with 4000 draws about 3 CPU s per
        model, against about 0.5 s).

    The relative efficiency of the draws is ArviZ's: the mean ESS of the posterior's
    parameters over the number of draws; 1 for one chain or independent draws (the exact
    posteriors). A Pareto :math:`\\hat k` above ArviZ's threshold :math:`\\min(1 - 1/\\log_{10}
    S, 0.7)` sets ``.warning`` in the result (show it with :func:`pareto_k_table`) instead of
    printing a warning.
    """
    from hierlib._arviz import az

    how = "a posterior, or post.to_arviz(log_likelihood=True)"
    label = "gibbs.Posterior or arviz.InferenceData"
    require_type(fit, (HasDraws, az.InferenceData), "fit", how, label=label)
    if engine not in ("numpy", "arviz"):
        raise ValueError(f'engine must be "numpy" or "arviz"; got {engine!r}')
    if isinstance(fit, az.InferenceData):
        if draws is not None:
            raise ValueError("draws applies to a posterior; an InferenceData is used whole")
        idata = fit
    else:  # the posterior alone: the pointwise groups only if ArviZ is to compute
        idata = require_draws(fit, "fit").to_arviz(log_likelihood=engine == "arviz", draws=draws)
    # independent draws (the exact posteriors of hierlib.exact): relative ESS is 1
    exact_draws = idata.posterior.attrs.get("parameterization") == "exact"
    reff = _relative_efficiency(idata.posterior, az) if not exact_draws else 1.0
    if engine == "arviz":
        return _quiet(lambda: az.loo(idata, pointwise=True, reff=reff))
    if isinstance(fit, az.InferenceData):
        log_lik = _log_likelihood(idata)
        n_samples = log_lik.sizes["chain"] * log_lik.sizes["draw"]
        values = log_lik.transpose("chain", "draw", ...).values.reshape(n_samples, -1)
        res = psis_loo(values, reff)
        template = log_lik.isel(chain=0, draw=0, drop=True)
    else:
        keep = draw_index(fit.n_draws, 1, draws)
        n_samples = fit.n_chains * keep.size
        y, obs_group = fit._rows()
        _check_loo_memory(fit, keep.size)
        blocks = loglik_blocks(fit, keep, BLOCK_BYTES)
        res = psis_loo_blocks(blocks, y.size, n_samples, reff)
        import xarray as xr

        school = ("obs", np.asarray(fit.groups)[obs_group])  # as to_arviz labels the rows
        coords = {"obs": np.arange(y.size), "school": school}
        template = xr.DataArray(y, dims=["obs"], coords=coords)
    return _elpd_data(res, template, n_samples, az)


def _loo_bytes(post: Any, n_kept: int) -> int:
    """Bytes :func:`loo` allocates from a posterior with ``n_kept`` draws per chain: the
    observations' mean and variance draws, copied three times (kept, by group, the variances'
    logarithms), the temporaries of one block of observations (at most twelve arrays of
    :data:`hierlib._psis.BLOCK_BYTES`, or of one observation's draws if larger), a few
    values per observation (the results and their coordinates), the copy of the kept draws
    the relative efficiency is computed from, and ArviZ's objects (4 MiB)."""
    n_samples = post.n_chains * n_kept
    n_obs = 0 if post.y is None else post.y.size
    block = 12 * max(BLOCK_BYTES, 8 * n_samples)
    draws = 8 * n_samples * sum(int(np.prod(v.shape[2:])) for v in post.draws.values())
    return 3 * moment_bytes(post, n_kept) + block + 8 * 16 * n_obs + 2 * draws + 2**22


def _check_loo_memory(post: Any, n_kept: int) -> None:
    """Refuse (before computing) a PSIS-LOO above the memory limit (:mod:`hierlib._memory`)."""
    _memory.check(
        _loo_bytes(post, n_kept),
        f"PSIS-LOO of {post.n_chains} chains x {n_kept} draws (the observations' parameters "
        "and one block of the pointwise log-likelihood)",
        "draws= fewer draws per chain",
    )


def _relative_efficiency(posterior: Any, az: Any) -> float:
    """ArviZ's ``reff`` of MCMC draws: the mean ESS over every parameter's draws, over the
    number of draws (1 for one chain)."""
    n_chains, n_draws = posterior.sizes["chain"], posterior.sizes["draw"]
    if n_chains == 1:
        return 1.0
    ess = az.ess(posterior, method="mean")
    return np.hstack([ess[v].values.ravel() for v in ess.data_vars]).mean() / (n_chains * n_draws)


def _log_likelihood(idata: Any):
    """The one variable of ``idata``'s ``log_likelihood`` group (a ``ValueError`` naming
    fit when there is none, or several)."""
    group = getattr(idata, "log_likelihood", None)
    names = [] if group is None else list(group.data_vars)
    if len(names) != 1:
        got = "none" if not names else ", ".join(names)
        raise ValueError(
            f"fit needs one log_likelihood variable (post.to_arviz(log_likelihood=True)); got {got}"
        )
    return group[names[0]]


def _elpd_data(res: Any, template: Any, n_samples: int, az: Any):
    """PSIS-LOO's pointwise results as ``az.loo(..., pointwise=True)`` returns them: the same
    fields, ``loo_i`` and ``pareto_k`` as DataArrays over the observations' dims and
    coordinates (``template``)."""
    loo_i = template.copy(data=res.elpd.reshape(template.shape)).rename("loo_i")
    pareto_k = template.copy(data=res.pareto_k.reshape(template.shape)).rename("pareto_shape")
    elpd = loo_i.values.sum()
    good_k = min(1 - 1 / np.log10(n_samples), 0.7)
    fields = {
        "elpd_loo": elpd,
        "se": (res.elpd.size * np.var(loo_i.values)) ** 0.5,
        "p_loo": np.sum(res.lppd) - elpd,
        "n_samples": n_samples,
        "n_data_points": np.prod(template.shape),  # as ArviZ: np.int64
        "warning": bool(np.any(res.pareto_k > good_k)),
        "loo_i": loo_i,
        "pareto_k": pareto_k,
        "scale": "log",
        "good_k": good_k,
    }
    return az.ELPDData(data=list(fields.values()), index=list(fields))


def _require_idata(idata: Any, az: Any) -> None:
    """``TypeError`` naming ``idata`` unless it is an ``arviz.InferenceData``."""
    how = "from post.to_arviz(log_likelihood=True, posterior_predictive=True)"
    require_type(idata, az.InferenceData, "idata", how, label="arviz.InferenceData")


def compare(idatas: dict[str, Any]):
    """``az.compare(idatas)`` (PSIS-LOO, stacking weights), Pareto-k warnings returned in
    the ``warning`` column rather than printed. Each value is a :func:`loo` result or an
    ``InferenceData`` (passed through :func:`loo` first)."""
    from hierlib._arviz import az

    loos = {
        name: loo(v) if isinstance(v, az.InferenceData) else v
        for name, v in require_mapping(idatas, "idatas", "one loo result per model").items()
    }
    return _quiet(lambda: az.compare(loos))


def elpd_difference(loo_a: Any, loo_b: Any) -> dict[str, float]:
    """The difference in expected log predictive density of two fits to the same data, and
    its standard error, from their pointwise leave-one-out values (``az.loo(...,
    pointwise=True)``, :func:`loo`):

    .. math::
        \\Delta = \\sum_i (\\text{elpd}_{a,i} - \\text{elpd}_{b,i}), \\qquad
        \\text{se}(\\Delta) = \\sqrt{n\\,\\operatorname{Var}_i(\\text{elpd}_{a,i} -
        \\text{elpd}_{b,i})},

    as ``az.compare`` computes ``dse``, but for any pair (``az.compare`` gives each model
    against the best one only). Positive: ``a`` predicts better.

    Returns
    -------
    dict
        ``diff``, ``se`` and ``z`` (``diff / se``).
    """
    a, b = _pointwise_elpd(loo_a, "loo_a"), _pointwise_elpd(loo_b, "loo_b")
    if a.shape != b.shape:
        raise ValueError(
            f"loo_a scores {a.size} observations and loo_b {b.size}: compare fits to the same data"
        )
    diff = a - b
    with np.errstate(over="ignore", invalid="ignore"):
        se = float(np.sqrt(diff.size * np.var(diff)))
        total = float(diff.sum())
    finite_result([se, total], "the difference of loo_a and loo_b or its se")
    if se == 0:
        raise ValueError(
            "loo_a and loo_b differ by the same amount at every observation (identical, or one "
            "observation): the difference has no standard error"
        )
    return {"diff": total, "se": se, "z": total / se}


def _pointwise_elpd(res: Any, name: str) -> NDArray[np.float64]:
    """The pointwise ``loo_i`` of a leave-one-out result (``TypeError`` naming ``name`` for
    anything but one, ``ValueError`` when it was computed without the pointwise values)."""
    require_type(res, pd.Series, name, "from predictive.loo(idata)", label="arviz.ELPDData")
    if "loo_i" not in res.index:
        raise ValueError(f"{name} has no pointwise values: compute it with predictive.loo(idata)")
    return as_finite_1d(np.ravel(res["loo_i"]), f"{name}['loo_i']")


def observation_pareto_k(post: Any, i: int, draws: int | None = None, reff: float = 1.0) -> float:
    """Pareto :math:`\\hat k` of PSIS for leaving out observation ``i`` alone, from ``draws``
    equally spaced draws per chain (``None``: every draw kept), without the pointwise
    log-likelihood of the other observations.

    :math:`\\hat k` is estimated from the largest importance ratios
    :math:`1/p(y_i \\mid \\vartheta^{(s)})`, about :math:`\\min(S/5, 3\\sqrt S)` of the
    :math:`S` draws, so it is noisy when :math:`S` is small; this shows how the estimate
    settles as :math:`S` grows, at the cost of one column of the log-likelihood. ``reff``
    is the relative efficiency of the draws, which sets how many enter the tail fit: 1 for
    independent draws (``az.loo`` estimates it from the effective sample size of MCMC draws,
    so its :math:`\\hat k` can differ a little).
    """
    from hierlib._arviz import az

    y, obs_group = require_draws(post)._rows()
    i = positive_int(i, "i", minimum=0)
    if i >= y.size:
        raise ValueError(f"i = {i} is not an observation index (0..{y.size - 1})")
    keep = draw_index(post.n_draws, 1, draws)
    j, d = int(obs_group[i]), post.draws
    if "theta" in d and post.model != "complete_pooling":
        mean = d["theta"][:, keep, j]
    else:
        mean = d["mu"][:, keep]
    var = d["sigma2_j"][:, keep, j] if "sigma2_j" in d else d["sigma2"][:, keep]
    ll = _normal_logpdf(y[i], mean, var).ravel()
    _, k = _quiet(lambda: az.psislw(-ll[None, :], reff=positive(reff, "reff")))
    k = float(np.asarray(k).ravel()[0])
    if not np.isfinite(k):  # ArviZ: too few ratios above the tail's cutoff to fit a Pareto
        raise ValueError(
            f"at most 4 of observation {i}'s {ll.size} importance ratios (one per draws) lie "
            "above the tail's cutoff (a few draws dominate, or ties): Pareto k cannot be "
            "estimated (az.loo reports inf: do not trust PSIS there); refit without it "
            "(loo_refit)"
        )
    return k


def pareto_k_table(loos: dict[str, Any]) -> pd.DataFrame:
    """How many observations of each fit fall in each Pareto :math:`\\hat k` band.

    Below ArviZ's threshold (``good_k``: 0.7, or :math:`1 - 1/\\log_{10} S` for fewer than
    2200 draws :math:`S`) importance sampling from the full posterior to the leave-one-out
    posterior is reliable; between it and 1 unreliable (an influential observation); above 1
    useless. Either way, refit without the observation (:func:`loo_refit`).
    """
    rows = {}
    for name, res in loos.items():
        k = np.asarray(res["pareto_k"]).ravel()
        good = float(res["good_k"]) if "good_k" in res else 0.7
        rows[name] = {
            "threshold": good,
            "good": int(np.sum(k <= good)),
            "bad (up to 1)": int(np.sum((k > good) & (k <= 1))),
            "very bad (> 1)": int(np.sum(k > 1)),
            "max k": float(k.max()),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


# ---------------------------------------------------------------------- predictive checks
def _group_sums(flat: NDArray, idx: NDArray[np.int64], m: int) -> tuple[NDArray, NDArray]:
    """Per-group sums along the last axis of ``flat`` (rows: data sets), and group sizes
    (float): :func:`hierlib.data._sums_by_group` along axis 1."""
    sums, n = _sums_by_group(flat, idx, m, axis=1)
    return sums, n.astype(np.float64)


def _replicates(y_rep: ArrayLike, obs_group: ArrayLike, m: int) -> tuple[NDArray, NDArray]:
    """``y_rep`` as finite floats (one data set per leading index) and ``obs_group`` as the
    integer group index (0..m-1) of each of its last axis' entries, else a ``ValueError``
    naming the argument (a float index would be truncated: refused)."""
    m = positive_int(m, "m")
    yr = as_real_array(y_rep, "y_rep")
    if yr.ndim == 0 or not np.isfinite(yr).all():
        raise ValueError("y_rep must be an array of finite numbers, one data set per row")
    idx = np.asarray(obs_group)
    if idx.dtype.kind not in "iu":
        raise ValueError(
            "obs_group must hold integer group indices 0..m-1 (e.g. np.unique(labels, "
            f"return_inverse=True)[1]); got dtype {idx.dtype}"
        )
    if idx.shape != yr.shape[-1:]:
        raise ValueError(
            f"obs_group needs one entry per observation ({yr.shape[-1]}); got shape {idx.shape}"
        )
    if idx.size and (idx.min() < 0 or idx.max() >= m):
        raise ValueError(f"obs_group must lie in 0..{m - 1}; got {idx.min()}..{idx.max()}")
    return yr, idx.astype(np.int64, copy=False)


def group_variances(y_rep: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """Within-group sample variances :math:`s_j^2` of every replicate.

    Parameters
    ----------
    y_rep : array_like, shape (..., n)
        One data set per leading index (e.g. ``posterior_predictive["y"].values``).
    obs_group : array_like of int, shape (n,)
        Group index (0..m-1) of each observation; every group needs two members.
    m : int
        Number of groups.

    Returns
    -------
    ndarray, shape (..., m)
    """
    yr, idx = _replicates(y_rep, obs_group, m)
    if (np.bincount(idx, minlength=m) < 2).any():
        raise ValueError("every group needs at least two members for a sample variance")
    flat = yr.reshape(-1, yr.shape[-1])
    sums, n = _group_sums(flat, idx, m)
    means = sums / n
    squares, _ = _group_sums((flat - means[:, idx]) ** 2, idx, m)
    return (squares / (n - 1.0)).reshape(yr.shape[:-1] + (m,))


def group_means(y_rep: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """Group means :math:`\\bar y_j` of every replicate, shape (..., m)."""
    yr, idx = _replicates(y_rep, obs_group, m)
    sums, n = _group_sums(yr.reshape(-1, yr.shape[-1]), idx, m)
    return (sums / n).reshape(yr.shape[:-1] + (m,))


def spread_of_variances(y: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """:math:`T(y) = \\operatorname{sd}_j(s_j^2)`, the spread across schools of the
    within-school variances (points²), for each data set of shape (..., n)."""
    return group_variances(y, obs_group, m).std(axis=-1, ddof=1)


def smallest_mean(y: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """:math:`T(y) = \\min_j \\bar y_j` for each data set."""
    return group_means(y, obs_group, m).min(axis=-1)


def largest_mean(y: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """:math:`T(y) = \\max_j \\bar y_j` for each data set."""
    return group_means(y, obs_group, m).max(axis=-1)


def slope_heterogeneity(x: ArrayLike) -> Callable[..., NDArray[np.float64]]:
    """The statistic "how much the within-school slopes on ``x`` differ", as a function
    ``T(y, obs_group, m)`` that :func:`ppc` takes.

    In each school :math:`j` the least-squares slope of :math:`y` on :math:`x` is
    :math:`\\hat b_j = S_{xy,j}/S_{xx,j}` (:func:`hierlib.covariates.ols_by_group`), with
    sampling variance :math:`s^2/S_{xx,j}`, :math:`s^2` the pooled within-school residual
    variance :math:`\\sum_j (S_{yy,j} - \\hat b_j S_{xy,j})/(N - 2m)`. The statistic is their
    spread, each slope measured in its own standard errors (Raudenbush & Bryk's test of
    homogeneous slopes):

    .. math::
        T(y) = \\sum_j \\frac{(\\hat b_j - \\bar b)^2}{s^2/S_{xx,j}}, \\qquad
        \\bar b = \\frac{\\sum_j S_{xx,j}\\hat b_j}{\\sum_j S_{xx,j}} .

    If every school has the same slope (normal errors) :math:`T \\approx \\chi^2_{m-1}`,
    about :math:`m - 1`; slopes that really differ make it larger. The plain standard
    deviation of the :math:`\\hat b_j` would be dominated by the noisiest (smallest) schools.

    Parameters
    ----------
    x : array_like of float, shape (n,)
        The predictor, one value per observation, in the order of the data (e.g. ``cses``);
        it must vary within every school of at least 3 students.

    Returns
    -------
    callable
        ``T(y, obs_group, m)`` for data sets ``y`` of shape (..., n): one value per data set.
    """
    x_arr = as_finite_1d(x, "x")

    def slope_spread(y: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
        yr, idx = _replicates(y, obs_group, m)
        if idx.size != x_arr.size:
            raise ValueError(f"x has {x_arr.size} values for {idx.size} observations")
        counts = np.bincount(idx, minlength=m)
        xbar = np.bincount(idx, weights=x_arr, minlength=m) / np.maximum(counts, 1)
        dx = x_arr - xbar[idx]
        sxx = np.bincount(idx, weights=dx * dx, minlength=m)
        if (counts < 3).any() or not (sxx > 1e-12 * max(float(np.sum(x_arr**2)), 1e-300)).all():
            raise ValueError("every school needs at least 3 members and some spread in x")
        flat = yr.reshape(-1, yr.shape[-1])
        with np.errstate(all="ignore"):  # overflow and 0/0 are caught below, by name
            sums, n = _group_sums(flat, idx, m)
            resid = flat - (sums / n)[:, idx]  # centred in each school: no cancellation
            sxy = _group_sums(resid * dx, idx, m)[0]
            syy = _group_sums(resid * resid, idx, m)[0]
            slope = sxy / sxx
            rss = np.maximum(syy - slope * sxy, 0.0)
            s2 = rss.sum(axis=1, keepdims=True) / (idx.size - 2 * m)
            pooled = sxy.sum(axis=1, keepdims=True) / sxx.sum()
            out = np.sum(sxx * (slope - pooled) ** 2 / s2, axis=1)
        finite_result(s2, "the residual variance around the schools' lines", RESCALE_HINT)
        if not (s2 > 0).all():
            raise ValueError(
                "y lies exactly on each school's line in x (residual variance 0): the slopes "
                "have no standard errors to measure their spread in"
            )
        return finite_result(out, "the spread of the slopes", RESCALE_HINT).reshape(yr.shape[:-1])

    return slope_spread


STATISTICS: dict[str, Callable[..., NDArray[np.float64]]] = {
    "sd of s_j^2": spread_of_variances,
    "smallest school mean": smallest_mean,
    "largest school mean": largest_mean,
}
"""The course's test statistics, by name."""


def ppc(idata: Any, statistic: str | Callable = "sd of s_j^2") -> dict[str, Any]:
    """Posterior predictive check of one statistic.

    .. math::
        p = P\\big(T(y^{rep}) \\ge T(y) \\mid y\\big)
          \\approx \\frac1S\\sum_s \\mathbf 1\\{T(y^{rep(s)}) \\ge T(y)\\},

    with :math:`y^{rep(s)}` the replicated data of draw :math:`s`. A p-value near 0 or 1 says
    the model rarely produces data like ours in this respect. The data are used twice (to fit
    and to check), so the p-values are conservative: a small one is a real misfit, a
    moderate one is no proof of fit.

    Parameters
    ----------
    idata : arviz.InferenceData
        With ``observed_data["y"]`` and ``posterior_predictive["y"]`` carrying the ``school``
        coordinate (:meth:`hierlib.gibbs.Posterior.to_arviz`).
    statistic : str or callable
        A name of :data:`STATISTICS` or ``f(y, obs_group, m)`` acting on the last axis.

    Returns
    -------
    dict
        ``observed`` (float), ``replicated`` (ndarray, one per draw, chains pooled),
        ``p_value``.
    """
    from hierlib._arviz import az

    _require_idata(idata, az)
    school = np.asarray(idata.observed_data["school"].values)
    labels, obs_group = np.unique(school, return_inverse=True)
    y = idata.observed_data["y"].values
    y_rep = idata.posterior_predictive["y"].values.reshape(-1, y.size)
    return _check(statistic, y, y_rep, obs_group, labels.size)


def _statistic(statistic: str | Callable) -> tuple[Callable, str]:
    """The function of ``statistic`` (a name of :data:`STATISTICS` or a function) and its
    name, else a ``ValueError`` listing the names (``TypeError`` for neither)."""
    if isinstance(statistic, str):
        if statistic not in STATISTICS:
            known = ", ".join(map(repr, STATISTICS))
            raise ValueError(
                f"statistic {statistic!r} is not one of the course's ({known}); or pass a "
                "function f(y, obs_group, m)"
            )
        return STATISTICS[statistic], repr(statistic)
    if not callable(statistic):
        raise TypeError(
            "statistic must be a name of predictive.STATISTICS or a function f(y, obs_group, m); "
            f"got {type(statistic).__name__}"
        )
    return statistic, getattr(statistic, "__name__", repr(statistic))


def _check(statistic: str | Callable, y, y_rep, obs_group, m: int) -> dict[str, Any]:
    """:math:`T(y)`, :math:`T(y^{rep})` per replicate and the p-value :math:`P(T^{rep} \\ge T)`;
    a ``ValueError`` naming the statistic when it is not one finite number per data set."""
    fn, name = _statistic(statistic)
    observed = np.asarray(fn(y, obs_group, m), dtype=np.float64)
    replicated = np.asarray(fn(y_rep, obs_group, m), dtype=np.float64)
    if observed.size != 1 or replicated.shape != y_rep.shape[:1]:
        raise ValueError(
            f"statistic {name} must give one number per data set: got shape {observed.shape} "
            f"for the data and {replicated.shape} for {y_rep.shape[0]} replicates"
        )
    bad = int(np.sum(~np.isfinite(replicated)))
    if not np.isfinite(observed).all() or bad:
        where = "the observed data" if bad == 0 else f"{bad} of the {replicated.size} replicates"
        raise ValueError(
            f"statistic {name} is NaN or infinite on {where}: a p-value needs a number for "
            "every data set"
        )
    return _result(float(observed.ravel()[0]), replicated)


def _result(observed: float, replicated: NDArray) -> dict[str, Any]:
    """A check's dict: ``observed``, ``replicated`` and ``p_value`` :math:`P(T^{rep} \\ge T)`."""
    return {
        "observed": observed,
        "replicated": replicated,
        "p_value": float(np.mean(replicated >= observed)),
    }


def ppc_new_variances(
    post: Any, statistic: str | Callable = "sd of s_j^2", draws: int = 250, seed: int = 0
) -> dict[str, Any]:
    """A *mixed* predictive check of model 2's variances (Marshall & Spiegelhalter 2003):
    each replicate draws fresh school variances, :math:`\\sigma_j^{2,rep} \\sim
    \\text{Inv-Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` at the posterior draw of
    :math:`(\\nu_0, \\sigma_0^2)`, instead of reusing the :math:`\\sigma_j^2` fitted to the
    same schools' :math:`s_j^2`; then :math:`y^{rep}_{ij} \\sim N(\\theta_j,
    \\sigma_j^{2,rep})`. It asks whether the population of variances, not each fitted
    variance, reproduces the data. Returns as :func:`ppc`.
    """
    if "nu0" not in require_draws(post).draws:
        raise ValueError("the mixed check of the variances needs an unequal-variances fit")

    def fresh(keep, rng):
        return _flat_draws(post, keep, "theta")[0], _new_school_variances(post, keep, rng)

    return _mixed_check(post, statistic, draws, seed, fresh)


def ppc_new_means(
    post: Any, statistic: str | Callable = "smallest school mean", draws: int = 250, seed: int = 0
) -> dict[str, Any]:
    """A *mixed* predictive check of the school means (Marshall & Spiegelhalter 2003): each
    replicate draws fresh school means, :math:`\\theta_j^{rep} \\sim N(\\mu, \\tau^2)` at the
    posterior draw of :math:`(\\mu, \\tau^2)`, instead of reusing the :math:`\\theta_j` fitted
    to the same schools' :math:`\\bar y_j`; then :math:`y^{rep}_{ij} \\sim N(\\theta_j^{rep},
    \\sigma^2)` (the fitted :math:`\\sigma_j^2` in model 2).

    A check that reuses the fitted :math:`\\theta_j` (:func:`ppc`) replicates school means
    close to the observed ones (each :math:`\\theta_j` leans on its own :math:`\\bar y_j`),
    so it tests :math:`\\theta_j \\sim N(\\mu, \\tau^2)` only weakly; this one asks whether the
    population of school means reproduces, e.g., the smallest and largest :math:`\\bar y_j`.
    Model 1 or 2 (a fit with ``tau2`` draws; model 2 needs every school's ``sigma2_j``).
    Returns as :func:`ppc`.
    """
    require_draws(post, "post", ["mu", "tau2"])

    def fresh(keep, rng):
        mu, tau2 = _flat_draws(post, keep, "mu", "tau2")
        theta_rep = mu + np.sqrt(tau2) * rng.standard_normal((mu.size, post.stats.m))
        name = "sigma2_j" if "sigma2_j" in post.draws else "sigma2"
        return theta_rep, _flat_draws(post, keep, name)[0]

    return _mixed_check(post, statistic, draws, seed, fresh)


def _flat_draws(post: Any, keep: NDArray[np.int64], *names: str) -> list[NDArray]:
    """The kept draws of each named parameter, chains pooled: shape (draws, groups) for
    ``theta``/``sigma2_j`` (every group needed), (draws, 1) for a scalar."""
    out = []
    for name in names:
        d = post.draws[name][:, keep]
        if d.ndim == 3 and d.shape[-1] != post.stats.m:
            raise ValueError(
                f"the check needs the {name} draws of every group: sample with keep_theta=None"
            )
        out.append(d.reshape(-1, d.shape[-1] if d.ndim == 3 else 1))
    return out


def _new_school_variances(
    post: Any, keep: NDArray[np.int64], rng: np.random.Generator
) -> NDArray[np.float64]:
    """New schools' variances, :math:`\\sigma_j^{2,rep} \\sim \\text{Inv-Gamma}(\\nu_0/2,
    \\nu_0\\sigma_0^2/2)` at each kept draw of :math:`(\\nu_0, \\sigma_0^2)`: shape
    (draws, groups), chains pooled. A ``ValueError`` when a draw leaves floating point (a
    :math:`\\nu_0` draw so small that the Gamma draw underflows to 0)."""
    nu0, sigma02 = _flat_draws(post, keep, "nu0", "sigma02")
    with np.errstate(divide="ignore", over="ignore"):
        out = nu0 * sigma02 / 2 / rng.standard_gamma(nu0 / 2, size=(nu0.size, post.stats.m))
    if not np.isfinite(out).all():
        raise ValueError(
            "a new school's variance sigma_j^2 ~ Inv-Gamma(nu0/2, nu0 sigma02/2) is infinite "
            f"at nu0 draws as small as {float(nu0.min()):.3g}: the fitted population of "
            "variances has no finite spread (give nu0 a prior that keeps it away from 0)"
        )
    return out


def _mixed_check(post: Any, statistic, draws: int, seed: int, fresh: Callable) -> dict:
    """Replicate the rows from group means and variances of shape (draws, m) given by
    ``fresh(keep, rng)``, :math:`y^{rep}_{ij} \\sim N(\\text{mean}_j, \\text{var}_j)`, and check
    ``statistic`` as :func:`ppc` does."""
    y, obs_group = post._rows()
    keep = draw_index(post.n_draws, 1, draws)
    rng = np.random.default_rng(positive_int(seed, "seed", minimum=0))
    means, variances = fresh(keep, rng)
    noise = rng.standard_normal((means.shape[0], y.size))
    var_rows = variances if variances.shape[1] == 1 else variances[:, obs_group]
    y_rep = means[:, obs_group] + np.sqrt(var_rows) * noise
    return _check(statistic, y, y_rep, obs_group, post.stats.m)


def variance_spread_checks(post: Any, draws: int = 250, seed: int = 0) -> dict[str, dict]:
    """Both checks of :math:`T = \\operatorname{sd}_j(s_j^2)` for model 2, from the group
    statistics alone.

    Given a school's variance, the replicated sample variance of normal data has an exact
    law, :math:`s_j^{2,rep} = \\sigma_j^2\\,\\chi^2_{n_j-1}/(n_j-1)`, so no rows are replicated:

    - ``"standard"``: :math:`\\sigma_j^2` is the posterior draw :math:`\\sigma_j^{2(s)}`, fitted to
      the school's own :math:`s_j^2` (the check of :func:`ppc`);
    - ``"mixed"``: :math:`\\sigma_j^2 \\sim \\text{Inv-Gamma}(\\nu_0/2, \\nu_0\\sigma_0^2/2)` at the
      draw of :math:`(\\nu_0, \\sigma_0^2)`, a new school's variance (:func:`ppc_new_variances`).

    The two differ only in that: the standard check lets each school's data in twice (to
    fit :math:`\\sigma_j^2`, then to check it), by the weight :math:`1 - w_j` that
    :math:`E[\\sigma_j^2 \\mid \\cdot]` puts on :math:`s_j^2`
    (:func:`hierlib.unequal.variance_shrinkage_weight`). Works on a posterior sampled from
    ``stats=`` too.

    Returns
    -------
    dict
        ``{"standard": check, "mixed": check}``, each as :func:`ppc` returns it
        (``draws`` per chain, chains pooled).
    """
    require_draws(post, "post", ["nu0", "sigma02", "sigma2_j"])
    stats_ = post.stats
    keep = draw_index(post.n_draws, 1, positive_int(draws, "draws"))
    rng = np.random.default_rng(positive_int(seed, "seed", minimum=0))
    fitted = _flat_draws(post, keep, "sigma2_j")[0]
    fresh = _new_school_variances(post, keep, rng)
    df = stats_.n - 1.0
    observed = float(np.std(stats_.s2, ddof=1))
    out = {}
    for name, sigma2 in (("standard", fitted), ("mixed", fresh)):
        s2_rep = sigma2 * 2.0 * rng.standard_gamma(df / 2, size=fitted.shape) / df
        out[name] = _result(observed, s2_rep.std(axis=1, ddof=1))
    return out


def format_p(check: dict[str, Any]) -> str:
    """The p-value as text, three decimals; a p-value of 0 from ``S`` replicates is written
    ``< 1/S`` (no replicate reached :math:`T(y)`: p is below the resolution, not zero)."""
    p, n_rep = check["p_value"], len(check["replicated"])
    return f"< {1 / n_rep:.2g}" if p == 0 else f"= {p:.3f}"


def describe_ppc(check: dict[str, Any], unit: str = "", prob: float = 0.95) -> str:
    """Three lines: the observed statistic, the central ``prob`` range of the replicated ones,
    and the posterior predictive p-value (one decimal for the statistic, three for p)."""
    prob = probability(prob)
    lo, hi = np.quantile(check["replicated"], [(1 - prob) / 2, (1 + prob) / 2])
    return (
        f"observed T(y) = {check['observed']:.1f} {unit}\n"
        f"replicated T: {100 * prob:g}% between {lo:.1f} and {hi:.1f}\n"
        f"posterior predictive p-value {format_p(check)}"
    )


def plot_ppc_statistic(check: dict[str, Any], ax=None, *, xlabel: str, title: str):
    """Histogram of :math:`T(y^{rep})` with :math:`T(y)` as a vertical line and the p-value."""
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax, (9, 4.5))
    rep, obs = check["replicated"], check["observed"]
    ax.hist(rep, bins=40, color="C0", alpha=0.6, label="replicated data $T(y^{rep})$")
    ax.axvline(obs, color="C3", lw=2.5,
               label=f"observed $T(y)$ = {obs:.1f}; p {format_p(check)}")  # fmt: skip
    ax.set_ylim(top=ax.get_ylim()[1] * 1.35)  # headroom for the legend
    ax.set_xlabel(xlabel)
    ax.set_ylabel("replicated data sets")
    ax.set_title(title)
    ax.legend(loc="upper right", fontsize=11)
    return ax


# ---------------------------------------------------------------------------- prediction
def _interval(x: NDArray, prob: float) -> dict[str, float]:
    lo, hi = np.quantile(x, [(1 - prob) / 2, (1 + prob) / 2])
    return {"mean": float(x.mean()), "lower": float(lo), "upper": float(hi)}


def _theta_index(post: Any, school: Any) -> int:
    """Position of ``school`` (one group label) among the groups whose theta draws were kept."""
    if np.ndim(school) != 0:
        raise ValueError(f"school must be one group label; got {school!r}")
    hit = np.flatnonzero(np.asarray(post.theta_groups) == school)
    if hit.size == 0:
        raise ValueError(f"school {school!r} has no kept theta draws")
    return int(hit[0])


def predict_new_student(post: Any, school: Any, rng: np.random.Generator) -> NDArray:
    """Draws of :math:`\\tilde y \\sim N(\\theta_j, \\sigma^2)` (:math:`\\sigma_j^2` in model 2):
    a new student of school ``school``, one per posterior draw (chains pooled)."""
    j = _theta_index(_require_model(post, "predict_new_student"), school)
    _require_rng(rng)
    theta = post.draws["theta"][..., j].ravel()
    var = post.draws["sigma2_j"][..., j] if "sigma2_j" in post.draws else post.draws["sigma2"]
    return theta + np.sqrt(np.ravel(var)) * rng.standard_normal(theta.size)


def predict_new_school_mean(post: Any, rng: np.random.Generator) -> NDArray:
    """Draws of :math:`\\tilde\\theta \\sim N(\\mu, \\tau^2)`: the mean of a school not in the
    data, one per posterior draw."""
    _require_model(post, "predict_new_school_mean")
    _require_rng(rng)
    mu, tau2 = post.draws["mu"].ravel(), post.draws["tau2"].ravel()
    return mu + np.sqrt(tau2) * rng.standard_normal(mu.size)


def _require_schools(schools: Any) -> Mapping:
    """``schools`` if it is a mapping of row names to school labels, else a ``TypeError``."""
    return require_type(schools, Mapping, "schools", 'e.g. {"small school": "8367"}', label="dict")


def prediction_table(
    post: Any, schools: dict[str, Any], rng: np.random.Generator, prob: float = 0.95
) -> pd.DataFrame:
    """Posterior predictive mean and ``prob`` interval of: a new student in each named school,
    that school's mean :math:`\\theta_j`, a new school's mean :math:`\\tilde\\theta`, and a
    new student of a new school, :math:`\\tilde\\theta + \\varepsilon` (model 1).

    Parameters
    ----------
    schools : dict of row name -> school label
        E.g. ``{"small school (n = 14)": "8367"}``.

    Returns
    -------
    pandas.DataFrame
        Rows per quantity; columns ``mean``, ``lower``, ``upper``, ``width``.
    """
    _require_model(post, "prediction_table")
    _require_schools(schools)
    _require_rng(rng)
    prob = probability(prob)
    rows = {}
    for name, label in schools.items():
        j = _theta_index(post, label)
        rows[f"θ_j, {name}"] = _interval(post.draws["theta"][..., j].ravel(), prob)
        rows[f"new student, {name}"] = _interval(predict_new_student(post, label, rng), prob)
    new_school = predict_new_school_mean(post, rng)
    rows["mean of a new school θ̃"] = _interval(new_school, prob)
    sigma = np.sqrt(post.draws["sigma2"].ravel())
    rows["new student, new school"] = _interval(
        new_school + sigma * rng.standard_normal(sigma.size), prob
    )
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["width"] = out["upper"] - out["lower"]
    return out


def _design_rows(rows: Any, names: tuple[str, ...], name: str) -> tuple[NDArray, list[str]]:
    """``rows`` (a DataFrame with the columns ``names``, or an array of shape (k, len(names))
    or (len(names),)) as a float array (k, len(names)) and the rows' labels."""
    if isinstance(rows, pd.DataFrame):
        if list(rows.columns) != list(names):
            raise ValueError(f"{name} must have the columns {list(names)} (reml.design_matrices); "
                             f"got {list(rows.columns)}")  # fmt: skip
        labels = [str(i) for i in rows.index]
        arr = rows.to_numpy(dtype=np.float64)
    else:
        arr = np.atleast_2d(as_real_array(rows, name))
        labels = [str(i) for i in range(arr.shape[0])]
    if arr.ndim != 2 or arr.shape[1] != len(names) or arr.shape[0] == 0:
        raise ValueError(f"{name} needs one row of {len(names)} values per prediction ({names}); "
                         f"got shape {arr.shape}")  # fmt: skip
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite; got NaN or infinite entries")
    return arr, labels


def mixed_school_index(post: Any, school: Any) -> int:
    """Position of ``school`` (one group label) among the groups of a mixed-model posterior
    whose :math:`b_j` draws were kept (``post.b_groups`` where only some were, else
    ``post.groups``)."""
    require_draws(post, "post", ["b"])
    if np.ndim(school) != 0:
        raise ValueError(f"school must be one group label; got {school!r}")
    kept = getattr(post, "b_groups", None)
    kept = np.asarray(post.groups if kept is None else kept)
    hit = np.flatnonzero(kept.astype(str) == str(school))
    if hit.size == 0:
        raise ValueError(f"school {school!r} has no kept b draws (sample it with keep_b=None)")
    return int(hit[0])


def predict_new_student_mixed(
    post: Any, school: Any, x_new: Any, z_new: Any, rng: np.random.Generator
) -> tuple[NDArray, NDArray]:
    """Draws of a new student of school ``school`` under a mixed-model posterior
    (:func:`hierlib.gibbs.mixed_model`), one per posterior draw (chains pooled):

    .. math::
        \\eta^{(s)} = \\tilde x^\\top\\beta^{(s)} + \\tilde z^\\top b_j^{(s)}, \\qquad
        \\tilde y^{(s)} = \\eta^{(s)} + \\sigma^{(s)}\\varepsilon^{(s)}, \\quad
        \\varepsilon^{(s)} \\sim N(0, 1):

    :math:`\\eta` is the school's expected score for a student with predictors
    :math:`(\\tilde x, \\tilde z)` (its line, uncertain through :math:`\\beta` and
    :math:`b_j`), :math:`\\tilde y` one new student's score (plus the within-school spread).

    Parameters
    ----------
    post : mixed-model posterior
        With draws ``fe`` (chains, draws, p), ``b`` (chains, draws, m, q), ``sigma2``.
    school : group label
    x_new, z_new : pandas.DataFrame or array_like
        The new students' fixed- and random-effect rows, (k, p) and (k, q), e.g. from
        :func:`hierlib.reml.design_matrices` (as DataFrames their columns must be
        ``post.fe_names`` and ``post.re_names``).
    rng : numpy.random.Generator

    Returns
    -------
    (ndarray, ndarray)
        :math:`\\eta` and :math:`\\tilde y`, each of shape (chains x draws, k).
    """
    require_draws(post, "post", ["fe", "b", "sigma2"])
    j = mixed_school_index(post, school)
    _require_rng(rng)
    x, _ = _design_rows(x_new, tuple(post.fe_names), "x_new")
    z, _ = _design_rows(z_new, tuple(post.re_names), "z_new")
    if x.shape[0] != z.shape[0]:
        raise ValueError(f"x_new has {x.shape[0]} rows and z_new {z.shape[0]}: one each")
    fe = np.asarray(post.draws["fe"], dtype=np.float64)
    fe = fe.reshape(-1, fe.shape[-1])
    b = np.asarray(post.draws["b"], dtype=np.float64)[:, :, j]
    b = b.reshape(-1, b.shape[-1])
    sigma = np.sqrt(np.asarray(post.draws["sigma2"], dtype=np.float64).ravel())
    eta = fe @ x.T + b @ z.T
    y_new = eta + sigma[:, None] * rng.standard_normal(eta.shape)
    return eta, y_new


def mixed_prediction_table(
    post: Any, school: Any, x_new: Any, z_new: Any, rng: np.random.Generator,
    prob: float = 0.95,
) -> pd.DataFrame:  # fmt: skip
    """Posterior mean and ``prob`` interval of :func:`predict_new_student_mixed`: for each new
    student (a row of ``x_new``), the school's expected score at those predictors and one new
    student's score.

    Returns
    -------
    pandas.DataFrame
        Two rows per student (``"<label>: school's line"`` and ``"<label>: new student"``,
        labels from ``x_new``'s index), columns ``mean``, ``lower``, ``upper``, ``width``.
    """
    prob = probability(prob)
    eta, y_new = predict_new_student_mixed(post, school, x_new, z_new, rng)
    _, labels = _design_rows(x_new, tuple(post.fe_names), "x_new")
    rows = {}
    for k, label in enumerate(labels):
        rows[f"{label}: school's line"] = _interval(eta[:, k], prob)
        rows[f"{label}: new student"] = _interval(y_new[:, k], prob)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["width"] = out["upper"] - out["lower"]
    return out


def variance_removed_by_school(post: Any, schools: dict[str, Any]) -> pd.Series:
    """Share of a new student's predictive variance that knowing the school's data removes.

    A new student of a new school has :math:`\\operatorname{Var}(\\tilde y) = E[\\tau^2 +
    \\sigma^2 \\mid Y] + \\operatorname{Var}(\\mu \\mid Y)`; a new student of school :math:`j`
    (law of total variance over the draws) :math:`E[\\sigma^2 \\mid Y] +
    \\operatorname{Var}(\\theta_j \\mid Y)`. The share removed is one minus their ratio. Were
    :math:`\\theta_j` known exactly, it would be about :math:`\\tau^2/(\\tau^2+\\sigma^2)`, the
    ICC; the uncertainty of :math:`\\theta_j` (largest for a small school) keeps it below that.

    Parameters
    ----------
    post : model-1 posterior
        With ``mu``, ``tau2``, ``sigma2`` and the ``theta`` draws of the named schools.
    schools : dict of row name -> school label

    Returns
    -------
    pandas.Series
        One share (between 0 and 1) per named school, plus ``"θ_j known exactly"``
        (:math:`1 - E[\\sigma^2 \\mid Y]/\\operatorname{Var}(\\tilde y)`, the ICC up to
        :math:`\\operatorname{Var}(\\mu \\mid Y)`).
    """
    d = _require_model(post, "variance_removed_by_school").draws
    new_school = float(np.mean(d["tau2"] + d["sigma2"]) + np.var(d["mu"]))
    rows = {}
    for name, label in _require_schools(schools).items():
        known = float(np.mean(d["sigma2"]) + np.var(d["theta"][..., _theta_index(post, label)]))
        rows[name] = 1.0 - known / new_school
    rows["θ_j known exactly"] = 1.0 - float(np.mean(d["sigma2"])) / new_school
    return pd.Series(rows, name="share of a new student's variance removed")


def plot_prediction_table(table: pd.DataFrame, ax=None, *, title: str = ""):
    """The intervals of :func:`prediction_table` as horizontal bars (mean marked), one row
    per quantity, top to bottom in the table's order."""
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    ax = new_axes(ax, (10, 4.2))
    rows = np.arange(len(table))[::-1]
    for r, (name, row) in zip(rows, table.iterrows(), strict=True):
        color = "C1" if "new student" in name else "C0"
        ax.plot([row["lower"], row["upper"]], [r, r], color=color, lw=6, alpha=0.7)
        ax.plot(row["mean"], r, "o", color="k", ms=6)
    ax.set_yticks(rows, list(table.index))
    ax.set_xlabel("math achievement (score points); bars: 95% predictive intervals")
    ax.set_title(title)
    return ax


# ------------------------------------------------------------- leave one school out


def school_log_likelihood(post: Any) -> NDArray[np.float64]:
    """:func:`school_loglik` of every school at every draw, shape (chains, draws, m): the
    pointwise log-likelihood for leave-one-school-out (a new school, not a new student).

    Model 1 and complete pooling (:math:`\\tau^2 = 0`) only: no pooling cannot predict a
    school it has not seen, and in model 2 the school's own :math:`\\sigma_j^2` would need a
    second integral.
    """
    require_draws(post)
    if post.model not in ("hierarchical_normal", "complete_pooling"):
        raise ValueError(
            f"leave-one-school-out is available for model 1 and complete pooling, not {post.model}"
        )
    d, s = post.draws, post.stats
    tau2 = d["tau2"] if "tau2" in d else np.zeros_like(d["mu"])
    return school_loglik(
        s.n, s.ybar, s.ss, d["mu"][..., None], tau2[..., None], d["sigma2"][..., None]
    )


def school_idata(post: Any):
    """An ``InferenceData`` whose ``log_likelihood["school"]`` (chain, draw, school) is
    :func:`school_log_likelihood`, so that ``az.loo`` gives PSIS leave-one-school-out."""
    from hierlib._arviz import az

    require_draws(post, keys=["mu"])
    out = az.from_dict(
        posterior={"mu": post.draws["mu"]},
        log_likelihood={"school": school_log_likelihood(post)},
        observed_data={"school": post.stats.ybar},
        coords={"school_id": np.asarray(post.stats.labels)},
        dims={"school": ["school_id"]},
    )
    for group in out.groups():
        out[group].attrs.update(model=post.model, parameterization=post.parameterization)
    return out


def loso_refit(
    y: ArrayLike, groups: ArrayLike, school: Any, fit: Callable[[NDArray, NDArray], Any]
) -> float:
    """Exact leave-one-school-out by refitting: :math:`\\log p(y_j \\mid y_{-j})`.

    Fit the model without school ``school`` (``fit(y_minus, groups_minus)`` returns a
    posterior with ``mu``, ``sigma2`` and, for model 1, ``tau2`` draws), then average the
    school's likelihood with :math:`\\theta_j` integrated out over the draws:
    :math:`\\log \\frac1S\\sum_s p(y_j \\mid \\mu^{(s)}, \\tau^{2(s)}, \\sigma^{2(s)})`.
    """
    y_arr = as_finite_1d(y, "y")
    g = as_labels(groups)
    same_length(y=y_arr, groups=g)
    out = g == school
    if not out.any():
        raise ValueError(f"school {school!r} is not in the data")
    post = _require_model(fit(y_arr[~out], g[~out]), "loso_refit", "fit(y, groups)")
    yj = y_arr[out]
    d = post.draws
    tau2 = d["tau2"] if "tau2" in d else np.zeros_like(d["mu"])
    ss = float(np.sum((yj - yj.mean()) ** 2))
    ll = school_loglik(yj.size, yj.mean(), ss, d["mu"], tau2, d["sigma2"]).ravel()
    return _log_mean_exp(ll)


def loo_refit(
    y: ArrayLike, groups: ArrayLike, i: int, fit: Callable[[NDArray, NDArray], Any]
) -> float:
    """Exact leave-one-out for observation ``i`` by refitting: :math:`\\log p(y_i \\mid
    y_{-i}) \\approx \\log\\frac1S\\sum_s N(y_i; \\theta_j^{(s)}, \\sigma^{2(s)})` (or
    :math:`\\sigma_j^{2(s)}`) over the draws of ``fit(y_minus_i, groups_minus_i)``. For the
    observations whose Pareto :math:`\\hat k` says PSIS cannot be trusted."""
    y_arr = as_finite_1d(y, "y")
    g = as_labels(groups)
    same_length(y=y_arr, groups=g)
    i = positive_int(i, "i", minimum=0)
    if i >= y_arr.size:
        raise ValueError(f"i = {i} is not an observation index (0..{y_arr.size - 1})")
    keep = np.arange(y_arr.size) != i
    post = _require_model(fit(y_arr[keep], g[keep]), "loo_refit", "fit(y, groups)")
    j = _theta_index(post, g[i])
    d = post.draws
    var = d["sigma2_j"][..., j] if "sigma2_j" in d else d["sigma2"]
    ll = _normal_logpdf(y_arr[i], d["theta"][..., j], var).ravel()
    return _log_mean_exp(ll)
