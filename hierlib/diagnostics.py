"""MCMC diagnostics: readable ArviZ summaries, ESS per second, labelled trace/rank/ACF plots.

The numbers come from ArviZ 0.23 (0.x API); this module only converts the course's
posterior objects, picks the columns a student needs, and labels the axes.

* **Effective sample size** (bulk):
  :math:`\\widehat{\\mathrm{ESS}} = MN / \\hat\\tau`, with
  :math:`\\hat\\tau = -1 + 2\\sum_{t=0}^{K} (\\hat\\rho_{2t} + \\hat\\rho_{2t+1})`
  over :math:`M` chains of :math:`N` draws, computed on rank-normalised split chains
  (Vehtari et al. 2021). For an AR(1) chain with coefficient :math:`\\phi` it tends to
  :math:`MN(1-\\phi)/(1+\\phi)`.
* **R-hat**: rank-normalised split :math:`\\hat R`; values above 1.01 signal chains that
  disagree.
* **ESS per second**: bulk ESS divided by the seconds spent sampling, the fair way to compare
  samplers whose sweeps cost different amounts.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib import MatplotlibDeprecationWarning
from matplotlib.axes import Axes

from hierlib._arviz import az
from hierlib._validate import require_mapping
from hierlib.plots import new_axes

__all__ = [
    "to_inference_data",
    "scalar_var_names",
    "summary_table",
    "ess_per_second",
    "ess_table",
    "plot_trace",
    "plot_rank",
    "plot_autocorr",
    "plot_autocorr_compare",
]

_PRETTY = {
    "mu": "μ",
    "sigma": "σ",
    "sigma2": "σ²",
    "tau": "τ",
    "tau2": "τ²",
    "nu0": "ν₀",
    "sigma02": "σ₀²",
    "theta": "θ",
    "delta": "δ",
}


def to_inference_data(post: Any) -> az.InferenceData:
    """Return ``post`` as an :class:`arviz.InferenceData`.

    Parameters
    ----------
    post : object
        A course posterior (anything with a ``to_arviz()`` method, e.g. the result of
        :func:`hierlib.gibbs.hierarchical_normal`), an ``InferenceData``, or a mapping
        ``{name: array of shape (chains, draws, ...)}``.

    Raises
    ------
    TypeError
        If ``post`` is none of these.
    ValueError
        If a mapping is empty or holds an array with fewer than two axes.
    """
    if isinstance(post, az.InferenceData):
        return post
    if hasattr(post, "to_arviz"):
        idata = post.to_arviz()
        if not isinstance(idata, az.InferenceData):
            raise ValueError("post.to_arviz() did not return an arviz.InferenceData")
        return idata
    if isinstance(post, Mapping):
        if not post:
            raise ValueError("post is an empty mapping; expected {name: (chains, draws) array}")
        arrays = {}
        for name, value in post.items():
            arr = np.asarray(value, dtype=np.float64)
            if arr.ndim < 2:
                raise ValueError(
                    f"draws of {name!r} must have shape (chains, draws, ...); got {arr.shape}"
                )
            arrays[str(name)] = arr
        return az.from_dict(posterior=arrays)
    raise TypeError(
        "post must be a course posterior (with .to_arviz()), an arviz.InferenceData or a "
        f"mapping of (chains, draws) arrays; got {type(post).__name__}"
    )


def scalar_var_names(post: Any) -> list[str]:
    """Names of the scalar quantities of ``post`` (those with only ``chain``/``draw`` dims)."""
    posterior = to_inference_data(post).posterior
    return [
        str(name) for name, da in posterior.data_vars.items() if set(da.dims) <= {"chain", "draw"}
    ]


def _resolve_names(post: Any, var_names: Sequence[str] | str | None) -> list[str]:
    idata = to_inference_data(post)
    if var_names is None:
        names = scalar_var_names(idata)
    elif isinstance(var_names, str):
        names = [var_names]
    else:
        names = list(var_names)
    if not names:
        raise ValueError("no variables to summarise: var_names is empty")
    missing = [n for n in names if n not in idata.posterior.data_vars]
    if missing:
        have = ", ".join(map(str, idata.posterior.data_vars))
        raise ValueError(f"variable(s) {missing} not in the posterior; it has: {have}")
    return names


def summary_table(
    post: Any,
    var_names: Sequence[str] | str | None = None,
    *,
    prob: float = 0.95,
    interval: Literal["eti", "hdi"] = "eti",
    round_to: int | None = None,
) -> pd.DataFrame:
    """Posterior summary for a notebook: mean, sd, a credible interval, ESS and R-hat.

    Parameters
    ----------
    post : object
        Course posterior, ``InferenceData`` or mapping of ``(chains, draws, ...)`` arrays
        (see :func:`to_inference_data`).
    var_names : str or sequence of str, optional
        Quantities to show; default: every scalar quantity (e.g. ``mu``, ``sigma2``,
        ``tau2``, ``sigma``, ``tau``), leaving out vectors such as ``theta``.
    prob : float, default 0.95
        Probability mass of the interval.
    interval : {"eti", "hdi"}, default "eti"
        ``"eti"``: equal-tailed interval, the :math:`(1-p)/2` and :math:`(1+p)/2` quantiles
        of the pooled draws (what Hoff reports); ``"hdi"``: ArviZ's highest density interval.
    round_to : int, optional
        Round the statistics to this many decimals (MCSE to two more, ESS to whole numbers,
        R-hat to 3 decimals). Default: raw floats (use them for assertions).

    Returns
    -------
    pandas.DataFrame
        One row per scalar (vector quantities give one row per element, e.g. ``theta[3]``),
        columns ``mean``, ``sd``, the interval bounds (``2.5%``, ``97.5%`` for ``eti``;
        ``hdi_2.5%``, ``hdi_97.5%`` for ``hdi``), ``mcse_mean``, ``ess_bulk``, ``ess_tail``,
        ``r_hat`` (NaN with a single chain).

    Raises
    ------
    ValueError
        For an unknown variable, ``prob`` outside (0, 1) or an unknown ``interval``.
    """
    if not 0.0 < float(prob) < 1.0:
        raise ValueError(f"prob must lie strictly between 0 and 1; got {prob!r}")
    if interval not in ("eti", "hdi"):
        raise ValueError(f"interval must be 'eti' or 'hdi'; got {interval!r}")
    idata = to_inference_data(post)
    names = _resolve_names(idata, var_names)
    lo_q, hi_q = (1.0 - prob) / 2.0, (1.0 + prob) / 2.0
    lo_name, hi_name = f"{100 * lo_q:g}%", f"{100 * hi_q:g}%"
    if interval == "eti":
        stat_funcs = {
            "mean": np.mean,
            "sd": lambda x: np.std(x, ddof=1),
            lo_name: lambda x: np.quantile(x, lo_q),
            hi_name: lambda x: np.quantile(x, hi_q),
        }
        stats = az.summary(
            idata,
            var_names=names,
            kind="stats",
            stat_funcs=stat_funcs,
            extend=False,
            round_to="none",
        )
    else:
        stats = az.summary(idata, var_names=names, kind="stats", hdi_prob=prob, round_to="none")
    diag = _diagnostics(idata, names)
    table = stats.join(diag[["mcse_mean", "ess_bulk", "ess_tail", "r_hat"]])
    if round_to is not None:
        table = _round(table, int(round_to))
    return table


def _diagnostics(idata: az.InferenceData, names: list[str]) -> pd.DataFrame:
    """ArviZ's diagnostics columns; R-hat is NaN (not a logged warning) for a single chain."""
    if idata.posterior.sizes.get("chain", 1) >= 2:
        return az.summary(idata, var_names=names, kind="diagnostics", round_to="none")
    # One chain: R-hat is undefined, and az.summary would log a shape warning to stderr
    # (a red box under the cell) before returning NaN; compute the other columns directly.
    columns = {
        "mcse_mean": az.mcse(idata, var_names=names, method="mean"),
        "ess_bulk": az.ess(idata, var_names=names, method="bulk"),
        "ess_tail": az.ess(idata, var_names=names, method="tail"),
    }
    diag = pd.DataFrame({col: _flatten(ds, names) for col, ds in columns.items()})
    diag["r_hat"] = np.nan
    return diag


def _flatten(ds: Any, names: list[str]) -> pd.Series:
    """Flatten an xarray Dataset of per-element values into a Series labelled like ArviZ
    (``mu``, ``theta[8367]``, ``x[0, 1]``)."""
    out: dict[str, float] = {}
    for name in names:
        da = ds[name]
        if da.ndim == 0:
            out[name] = float(da)
            continue
        coords = [da.coords[d].values for d in da.dims]
        for idx in np.ndindex(da.shape):
            label = ", ".join(str(c[i]) for c, i in zip(coords, idx, strict=True))
            out[f"{name}[{label}]"] = float(da.values[idx])
    return pd.Series(out)


def _round(table: pd.DataFrame, digits: int) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if col.startswith("ess"):
            out[col] = out[col].round(0)
        elif col == "r_hat":
            out[col] = out[col].round(3)
        elif col.startswith("mcse"):  # small by design: two more decimals than the stats
            out[col] = out[col].round(digits + 2)
        else:
            out[col] = out[col].round(digits)
    return out


def _elapsed(post: Any, elapsed: float | None) -> float:
    seconds = getattr(post, "elapsed", None) if elapsed is None else elapsed
    if seconds is None:
        raise ValueError(
            "ESS per second needs the sampling time: pass elapsed=... (seconds) or a course "
            "posterior with an .elapsed attribute"
        )
    seconds = float(seconds)
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"elapsed must be a positive number of seconds; got {seconds!r}")
    return seconds


def ess_per_second(
    post: Any,
    var_names: Sequence[str] | str | None = None,
    *,
    elapsed: float | None = None,
    method: Literal["bulk", "tail"] = "bulk",
) -> pd.Series:
    """Effective sample size per second of sampling, :math:`\\widehat{\\mathrm{ESS}}/t`.

    Parameters
    ----------
    post : object
        Course posterior (its ``.elapsed`` seconds are used), ``InferenceData`` or mapping.
    var_names : str or sequence of str, optional
        Default: every scalar quantity.
    elapsed : float, optional
        Seconds spent sampling; overrides ``post.elapsed`` (required for an
        ``InferenceData`` or a mapping).
    method : {"bulk", "tail"}, default "bulk"
        Which ArviZ ESS to divide.

    Returns
    -------
    pandas.Series
        ESS per second indexed like :func:`summary_table`'s rows, named ``ess_<method>_per_s``.
    """
    if method not in ("bulk", "tail"):
        raise ValueError(f"method must be 'bulk' or 'tail'; got {method!r}")
    seconds = _elapsed(post, elapsed)
    idata = to_inference_data(post)
    names = _resolve_names(idata, var_names)
    diag = _diagnostics(idata, names)
    return (diag[f"ess_{method}"] / seconds).rename(f"ess_{method}_per_s")


_POSTS_WHAT = "one posterior per sampler, e.g. {'centered': post_c, 'offset': post_o}"


def ess_table(
    posts: Mapping[str, Any],
    var_names: Sequence[str],
    *,
    elapsed: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Compare samplers side by side: bulk ESS and ESS per second of each quantity.

    Parameters
    ----------
    posts : mapping of str to posterior
        E.g. ``{"centered": post_c, "offset": post_o, "interweaved": post_i}``.
    var_names : sequence of str
        Scalar quantities to compare, e.g. ``["mu", "tau", "sigma"]``.
    elapsed : mapping of str to float, optional
        Sampling seconds per entry when the posteriors carry no ``.elapsed``.

    Returns
    -------
    pandas.DataFrame
        One row per sampler; a ``seconds`` column, then ``ess_bulk[<name>]`` and
        ``ess_per_s[<name>]`` for each quantity.
    """
    require_mapping(posts, "posts", _POSTS_WHAT)
    rows = {}
    for label, post in posts.items():
        seconds = _elapsed(post, None if elapsed is None else elapsed.get(label))
        idata = to_inference_data(post)
        names = _resolve_names(idata, var_names)
        diag = _diagnostics(idata, names)
        row: dict[str, float] = {"seconds": seconds}
        for name in diag.index:
            row[f"ess_bulk[{name}]"] = float(diag.loc[name, "ess_bulk"])
        for name in diag.index:
            row[f"ess_per_s[{name}]"] = float(diag.loc[name, "ess_bulk"]) / seconds
        rows[label] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def _pretty(name: str) -> str:
    base, _, rest = name.partition("[")
    pretty = _PRETTY.get(base, base)
    return pretty + ("[" + rest if rest else "")


_TITLE_SIZE = 14


def _readable(axes: np.ndarray) -> None:
    """Course font sizes on ArviZ axes (ArviZ shrinks text to fit its own figure size,
    down to 8-9 px: unreadable on a slide)."""
    for ax in np.ravel(axes):
        ax.tick_params(labelsize=12)
        ax.xaxis.label.set_size(13)
        ax.yaxis.label.set_size(13)
        ax.title.set_size(_TITLE_SIZE)


def plot_trace(
    post: Any, var_names: Sequence[str] | str | None = None, **kwargs: Any
) -> np.ndarray:
    """ArviZ trace plot with labelled axes: density per chain (left), draws by iteration (right).

    Extra keyword arguments go to :func:`arviz.plot_trace`. Returns the array of axes.
    """
    idata = to_inference_data(post)
    names = _resolve_names(idata, var_names)
    with warnings.catch_warnings():
        # ArviZ 0.23.4's trace plot calls a matplotlib 3.11 API deprecated for 3.13; the
        # warning is about ArviZ internals, not the figure, so hide exactly that one.
        warnings.filterwarnings(
            "ignore",
            message="Passing a dict or None as alias_mapping",
            category=MatplotlibDeprecationWarning,
        )
        n_chains = idata.posterior.sizes.get("chain", 1)
        kwargs.setdefault("chain_prop", {"color": [f"C{i}" for i in range(n_chains)]})
        axes = np.atleast_2d(az.plot_trace(idata, var_names=names, **kwargs))
    for row in axes:
        left, right = row[0], row[-1]
        label = _pretty(left.get_title().split("\n")[0]) if left.get_title() else ""
        left.set_xlabel(label or "value")
        left.set_ylabel("posterior density")
        right.set_xlabel("iteration (after warm-up)")
        right.set_ylabel(label or "value")
        for ax in (left, right):
            ax.set_title(label, fontsize=_TITLE_SIZE)
    _readable(axes)
    fig = axes.flat[0].figure
    fig.tight_layout()
    return axes


def plot_rank(post: Any, var_names: Sequence[str] | str | None = None, **kwargs: Any) -> np.ndarray:
    """ArviZ rank plot: per-chain histograms of the pooled ranks, flat when chains agree.

    Extra keyword arguments go to :func:`arviz.plot_rank`. Returns the array of axes.
    """
    idata = to_inference_data(post)
    names = _resolve_names(idata, var_names)
    axes = np.atleast_1d(az.plot_rank(idata, var_names=names, **kwargs))
    for ax in axes.flat:
        ax.set_xlabel("rank of draw among all chains")
        ax.set_ylabel("chain")
        if ax.get_title():
            ax.set_title(f"{_pretty(ax.get_title())}: flat bars = chains agree")
    _readable(axes)
    axes.flat[0].figure.tight_layout()
    return axes


def plot_autocorr(
    post: Any,
    var_names: Sequence[str] | str | None = None,
    *,
    max_lag: int = 50,
    **kwargs: Any,
) -> np.ndarray:
    """ArviZ autocorrelation plot (chains combined) with labelled axes.

    Extra keyword arguments go to :func:`arviz.plot_autocorr`. Returns the array of axes.
    """
    idata = to_inference_data(post)
    names = _resolve_names(idata, var_names)
    n_draws = int(idata.posterior.sizes.get("draw", 0))
    if isinstance(max_lag, bool) or not isinstance(max_lag, int | np.integer):
        raise TypeError(f"max_lag must be an integer; got {max_lag!r}")
    if not 0 < max_lag < n_draws:
        raise ValueError(
            f"max_lag must be between 1 and {n_draws - 1} (the draws per chain minus one); "
            f"got {max_lag}"
        )
    kwargs.setdefault("combined", True)
    axes = np.atleast_1d(az.plot_autocorr(idata, var_names=names, max_lag=max_lag, **kwargs))
    for ax in axes.flat:
        ax.set_xlabel("lag (iterations)")
        ax.set_ylabel("autocorrelation")
        if ax.get_title():
            ax.set_title(_pretty(ax.get_title()))
    axes.flat[0].figure.tight_layout()
    return axes


def autocorrelation(draws: np.ndarray, max_lag: int) -> np.ndarray:
    """Autocorrelation :math:`\\hat\\rho_t`, :math:`t = 0..` ``max_lag``, averaged over chains.

    Parameters
    ----------
    draws : ndarray, shape (chains, draws) or (draws,)
    max_lag : int
        Largest lag (less than the number of draws).
    """
    arr = np.atleast_2d(np.asarray(draws, dtype=np.float64))
    if arr.ndim != 2:
        raise ValueError(f"draws must have shape (chains, draws); got {arr.shape}")
    if not 0 < int(max_lag) < arr.shape[1]:
        raise ValueError(f"max_lag must be between 1 and {arr.shape[1] - 1}; got {max_lag}")
    acf = az.autocorr(arr, axis=-1)
    return acf[:, : int(max_lag) + 1].mean(axis=0)


def plot_autocorr_compare(
    posts: Mapping[str, Any],
    var_name: str,
    *,
    max_lag: int = 50,
    ax: Axes | None = None,
) -> Axes:
    """Autocorrelation of one quantity under several samplers, on one set of axes.

    Parameters
    ----------
    posts : mapping of str to posterior
        E.g. ``{"centered": post_c, "offset": post_o, "interweaved": post_i}``.
    var_name : str
        A scalar quantity, e.g. ``"mu"`` or ``"tau2"``.
    max_lag : int, default 50
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    require_mapping(posts, "posts", _POSTS_WHAT)
    ax = new_axes(ax)
    lags = np.arange(int(max_lag) + 1)
    for label, post in posts.items():
        idata = to_inference_data(post)
        _resolve_names(idata, [var_name])
        da = idata.posterior[var_name]
        if set(da.dims) - {"chain", "draw"}:
            raise ValueError(f"{var_name!r} is not a scalar quantity; pick one element first")
        ax.plot(lags, autocorrelation(da.values, max_lag), marker="o", ms=3, label=label)
    ax.axhline(0.0, color="grey", lw=1)
    ax.set_xlabel("lag (iterations)")
    ax.set_ylabel(f"autocorrelation of {_pretty(var_name)}")
    ax.set_title(f"Autocorrelation of {_pretty(var_name)}: faster decay = better mixing")
    ax.legend(title="sampler")
    return ax
