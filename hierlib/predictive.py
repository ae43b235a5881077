"""Checking, predicting and comparing models with the posterior predictive distribution.

The lecture fits the hierarchical models; this module asks the three questions of the
Bayesian workflow (BDA ch. 6-7) about the fits:

- **Does the model fit?** Posterior predictive checks: replicate the data once per draw,
  :math:`y^{rep} \\sim p(y^{rep} \\mid \\vartheta^{(s)})`, compute a statistic :math:`T` on
  each replicate and on the data, and report :math:`p = P(T(y^{rep}) \\ge T(y) \\mid y)`
  (:func:`ppc`). The statistic the lecture's question is about is the spread across schools
  of the within-school variances :math:`s_j^2` (:func:`spread_of_variances`); the school
  means' extremes check the other level (:func:`smallest_mean`, :func:`largest_mean`).
- **What will we see next?** Predictive draws for a new student of a known school,
  :math:`\\tilde y \\sim N(\\theta_j, \\sigma^2)`, and for the mean of a new school,
  :math:`\\tilde\\theta \\sim N(\\mu, \\tau^2)` (:func:`prediction_table`).
- **Which model predicts best?** The pointwise log-likelihood behind PSIS-LOO
  (:meth:`hierlib.gibbs.Posterior.to_arviz` with ``log_likelihood=True``; ``az.loo``) scores a
  new student in a known school. A new school is scored by the log-likelihood of a whole
  school with its :math:`\\theta_j` integrated out (:func:`school_log_likelihood`; PSIS over
  schools is leave-one-school-out), checked by refitting without the school
  (:func:`loso_refit`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from hierlib._pointwise import draw_index, normal_logpdf, observation_moments
from hierlib._validate import as_finite_1d, as_labels, require_draws, require_type, same_length
from hierlib.marginal import school_loglik  # a school with theta_j integrated out


def _log_mean_exp(ll: NDArray[np.float64]) -> float:
    """:math:`\\log \\frac1S \\sum_s e^{\\ell_s}`, computed without overflow."""
    top = ll.max()
    return float(top + np.log(np.mean(np.exp(ll - top))))


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


def loo(idata: Any):
    """``az.loo(idata, pointwise=True)`` (``reff=1`` for independent draws). A Pareto
    :math:`\\hat k` above ArviZ's threshold sets ``.warning`` in the result (show it with
    :func:`pareto_k_table`) instead of printing a warning."""
    from hierlib._arviz import az

    _require_idata(idata, az)
    # independent draws (the exact posteriors of hierlib.exact): relative ESS is 1
    exact_draws = idata.posterior.attrs.get("parameterization") == "exact"
    reff = 1.0 if exact_draws else None
    return _quiet(lambda: az.loo(idata, pointwise=True, reff=reff))


def _require_idata(idata: Any, az: Any) -> None:
    """``TypeError`` naming ``idata`` unless it is an ``arviz.InferenceData``."""
    how = "from post.to_arviz(log_likelihood=True, posterior_predictive=True)"
    require_type(idata, az.InferenceData, "idata", how, label="arviz.InferenceData")


def compare(idatas: dict[str, Any]):
    """``az.compare(idatas)`` (PSIS-LOO, stacking weights), Pareto-k warnings returned in
    the ``warning`` column rather than printed."""
    from hierlib._arviz import az

    return _quiet(lambda: az.compare(idatas))


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
    """Per-group sums along the last axis of ``flat`` (rows: data sets), and group sizes."""
    n = np.bincount(idx, minlength=m)
    if (n == 0).any():
        raise ValueError("every group index 0..m-1 needs at least one observation")
    order = np.argsort(idx, kind="stable")
    starts = np.concatenate(([0], np.cumsum(n)[:-1]))
    return np.add.reduceat(flat[:, order], starts, axis=1), n.astype(np.float64)


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
    yr = np.asarray(y_rep, dtype=np.float64)
    idx = np.asarray(obs_group, dtype=np.int64)
    if (np.bincount(idx, minlength=m) < 2).any():
        raise ValueError("every group needs at least two members for a sample variance")
    flat = yr.reshape(-1, yr.shape[-1])
    sums, n = _group_sums(flat, idx, m)
    means = sums / n
    squares, _ = _group_sums((flat - means[:, idx]) ** 2, idx, m)
    return (squares / (n - 1.0)).reshape(yr.shape[:-1] + (m,))


def group_means(y_rep: ArrayLike, obs_group: ArrayLike, m: int) -> NDArray[np.float64]:
    """Group means :math:`\\bar y_j` of every replicate, shape (..., m)."""
    yr = np.asarray(y_rep, dtype=np.float64)
    sums, n = _group_sums(yr.reshape(-1, yr.shape[-1]), np.asarray(obs_group, np.int64), m)
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


def _check(statistic: str | Callable, y, y_rep, obs_group, m: int) -> dict[str, Any]:
    """:math:`T(y)`, :math:`T(y^{rep})` per replicate and the p-value :math:`P(T^{rep} \\ge T)`."""
    fn = STATISTICS[statistic] if isinstance(statistic, str) else statistic
    observed = float(fn(y, obs_group, m))
    replicated = np.asarray(fn(y_rep, obs_group, m))
    return {
        "observed": observed,
        "replicated": replicated,
        "p_value": float(np.mean(replicated >= observed)),
    }


def ppc_new_variances(
    post: Any, statistic: str | Callable = "sd of s_j^2", draws: int = 250, seed: int = 0
) -> dict[str, Any]:
    """A *mixed* predictive check of model 2 (Gelman, Meng & Stern 1996): each replicate
    draws fresh school variances, :math:`\\sigma_j^{2,rep} \\sim \\text{Inv-Gamma}(\\nu_0/2,
    \\nu_0\\sigma_0^2/2)` at the posterior draw of :math:`(\\nu_0, \\sigma_0^2)`, instead of
    reusing the :math:`\\sigma_j^2` fitted to the same schools' :math:`s_j^2`; then
    :math:`y^{rep}_{ij} \\sim N(\\theta_j, \\sigma_j^{2,rep})`. It asks whether the population
    of variances, not each fitted variance, reproduces the data. Returns as :func:`ppc`.
    """
    if "nu0" not in require_draws(post).draws:
        raise ValueError("the mixed check of the variances needs an unequal-variances fit")
    y, obs_group = post._rows()
    keep = draw_index(post.n_draws, 1, draws)
    rng = np.random.default_rng(seed)
    nu0 = post.draws["nu0"][:, keep].reshape(-1, 1)
    rate = nu0 * post.draws["sigma02"][:, keep].reshape(-1, 1) / 2
    sigma2_rep = rate / rng.standard_gamma(nu0 / 2, size=(nu0.size, post.stats.m))
    means, _ = observation_moments(post, keep)
    means = means.reshape(-1, y.size)
    y_rep = means + np.sqrt(sigma2_rep[:, obs_group]) * rng.standard_normal(means.shape)
    return _check(statistic, y, y_rep, obs_group, post.stats.m)


def format_p(check: dict[str, Any]) -> str:
    """The p-value as text, three decimals; a p-value of 0 from ``S`` replicates is written
    ``< 1/S`` (no replicate reached :math:`T(y)`: p is below the resolution, not zero)."""
    p, n_rep = check["p_value"], len(check["replicated"])
    return f"< {1 / n_rep:.2g}" if p == 0 else f"= {p:.3f}"


def describe_ppc(check: dict[str, Any], unit: str = "", prob: float = 0.95) -> str:
    """Three lines: the observed statistic, the central ``prob`` range of the replicated ones,
    and the posterior predictive p-value (one decimal for the statistic, three for p)."""
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
    j = _theta_index(require_draws(post, keys=["theta"]), school)
    theta = post.draws["theta"][..., j].ravel()
    var = post.draws["sigma2_j"][..., j] if "sigma2_j" in post.draws else post.draws["sigma2"]
    return theta + np.sqrt(np.ravel(var)) * rng.standard_normal(theta.size)


def predict_new_school_mean(post: Any, rng: np.random.Generator) -> NDArray:
    """Draws of :math:`\\tilde\\theta \\sim N(\\mu, \\tau^2)`: the mean of a school not in the
    data, one per posterior draw."""
    require_draws(post, keys=["mu", "tau2"])
    mu, tau2 = post.draws["mu"].ravel(), post.draws["tau2"].ravel()
    return mu + np.sqrt(tau2) * rng.standard_normal(mu.size)


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
    require_draws(post, keys=["theta", "sigma2"])
    require_type(schools, Mapping, "schools", 'e.g. {"small school": "8367"}', label="dict")
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
    post = fit(y_arr[~out], g[~out])
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
    if not 0 <= int(i) < y_arr.size:
        raise ValueError(f"i = {i} is not an observation index (0..{y_arr.size - 1})")
    keep = np.arange(y_arr.size) != int(i)
    post = fit(y_arr[keep], g[keep])
    j = int(np.flatnonzero(np.asarray(post.theta_groups) == g[int(i)])[0])
    d = post.draws
    var = d["sigma2_j"][..., j] if "sigma2_j" in d else d["sigma2"]
    ll = normal_logpdf(y_arr[int(i)], d["theta"][..., j], var).ravel()
    return _log_mean_exp(ll)
