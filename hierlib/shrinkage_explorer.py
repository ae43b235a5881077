"""The shrinkage explorer: drag τ and watch 160 school means move (notebook 07).

An interactive figure, written in Vega-Lite (built here with Altair), that needs no kernel:
the few lines of arithmetic are Vega expressions on the schools' :math:`n_j`, :math:`\\bar y_j`
and within-school variances, run by the browser. For each τ on a log-scale slider, and for
the within-school variance of model 1 (one :math:`\\sigma^2`, its posterior mean) or of model 2
(each school's :math:`\\sigma_j^2`, their posterior means), it draws

.. math::

    E[\\theta_j \\mid \\tau, \\sigma^2, Y] = B_j\\,\\hat\\mu(\\tau) + (1 - B_j)\\,\\bar y_j,
    \\qquad B_j = \\frac{\\sigma_j^2}{\\sigma_j^2 + n_j\\tau^2},
    \\qquad \\hat\\mu(\\tau) = \\frac{\\sum_j w_j \\bar y_j}{\\sum_j w_j},
    \\quad w_j = \\frac{1}{\\tau^2 + \\sigma_j^2/n_j},

μ integrated out under its flat prior (the GLS mean at that τ):
exactly :func:`hierlib.shrinkage.means_given_tau`. Each school is drawn against its size and
against its own mean; a strip below marks the current τ, the REML estimate and the posterior
mean of τ under the chosen model.

Where it shows: JupyterLab draws the Vega-Lite output itself (its built-in renderer, offline,
Vega-Lite 5); the course's pages and decks load Vega from their ``_static/`` folder
(``tools/build_site.py``). :func:`shrinkage_explorer` returns an object that Jupyter displays
as that Vega-Lite output, whatever Altair renderer is enabled (Altair's default writes HTML
that loads Vega from the internet). Printed handouts cannot move a slider: notebook 07 shows
the same picture at one τ with :func:`plot_frame` (matplotlib) for them.

Altair is imported here and only here: ``hierlib.shrinkage`` does not import this module.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from hierlib._validate import as_finite_1d, positive, require_draws, same_length
from hierlib.data import GroupStats, require_stats
from hierlib.shrinkage import means_given_tau

if TYPE_CHECKING:
    from matplotlib.axes import Axes

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
"""The output's MIME type: Vega-Lite 5, which JupyterLab 4 renders without an extension."""

LOG10_TAU_RANGE = (-2.0, 3.0)
"""The slider's range in :math:`\\log_{10}\\tau`: τ from 0.01 (as good as complete pooling:
:math:`B_j > 0.999`) to 1000 points (no pooling: :math:`B_j < 10^{-5}`)."""
LOG10_TAU_STEP = 0.01

MODELS = {1: "model 1: one σ² for every school", 2: "model 2: each school its own σⱼ²"}
"""The variance toggle: its values and what it says."""

POINT_MARKS = ("by_size_points", "by_mean_points")
"""Names of the two point layers (one mark per school each), for scripts that read the view."""
MU_RULES = ("by_size_mu", "by_mean_mu")
"""Names of the two rules at :math:`\\hat\\mu(\\tau)`."""
TAU_MARK = "current_tau"
"""Name of the diamond at the current τ on the strip."""

COLUMNS = ("school", "n", "ybar", "sigma2_model1", "sigma2_model2")

EMBED_OPTIONS = {
    "renderer": "svg",
    "actions": {"export": True, "source": False, "compiled": False, "editor": False},
}
"""How JupyterLab's renderer draws it (the output's metadata): as SVG (crisp when zoomed, and
readable by the browser test), with the menu offering only the export to SVG or PNG (its
"open in the Vega editor" entry would go online)."""


@dataclass(frozen=True)
class TauMarkers:
    """The values of τ marked beside the slider (points, i.e. sd units)."""

    reml: float
    posterior_mean_model1: float
    posterior_mean_model2: float


def explorer_table(stats: GroupStats, sigma2: float, sigma2_j: ArrayLike) -> pd.DataFrame:
    """What the explorer computes from, one row per school (the order of ``stats``).

    Columns :data:`COLUMNS`: ``school`` (label, as text), ``n``, ``ybar``,
    ``sigma2_model1`` (the common σ², the same in every row) and ``sigma2_model2`` (the
    school's own :math:`\\sigma_j^2`).

    Raises
    ------
    ValueError
        A variance that is not finite and positive, or ``sigma2_j`` of the wrong length.
    """
    require_stats(stats)
    s2 = positive(sigma2, "sigma2")
    s2_j = as_finite_1d(sigma2_j, "sigma2_j")
    same_length(sigma2_j=s2_j, groups=stats.labels)
    if (s2_j <= 0).any():
        raise ValueError("sigma2_j must hold positive variances (one per school)")
    return pd.DataFrame(
        {
            "school": [str(g) for g in stats.labels],
            "n": stats.n.astype(np.int64),
            "ybar": stats.ybar.astype(np.float64),
            "sigma2_model1": np.full(stats.m, s2),
            "sigma2_model2": s2_j,
        }
    )


def table_from_posteriors(model1: Any, model2: Any) -> pd.DataFrame:
    """:func:`explorer_table` from the two fits: model 1's posterior mean of σ², model 2's
    posterior means of the :math:`\\sigma_j^2` (``gibbs.hierarchical_normal`` and
    ``gibbs.unequal_variances`` on the same data)."""
    require_draws(model1, "model1", keys=("sigma2", "tau2"))
    require_draws(model2, "model2", keys=("tau2",))
    stats = require_stats(getattr(model1, "stats", None), "model1.stats")
    if not np.array_equal(np.asarray(model2.groups), stats.labels):
        raise ValueError("model1 and model2 must be fitted to the same groups")
    return explorer_table(stats, float(np.mean(model1.draws["sigma2"])), model2.sigma2_j_mean)


def markers_from_posteriors(model1: Any, model2: Any, tau_reml: float) -> TauMarkers:
    """The REML τ̂ and the posterior means :math:`E[\\tau \\mid Y]` of both models."""
    require_draws(model1, "model1", keys=("tau2",))
    require_draws(model2, "model2", keys=("tau2",))
    return TauMarkers(
        reml=positive(tau_reml, "tau_reml"),
        posterior_mean_model1=float(np.mean(np.sqrt(model1.draws["tau2"]))),
        posterior_mean_model2=float(np.mean(np.sqrt(model2.draws["tau2"]))),
    )


def snap_log10_tau(tau: float) -> float:
    """:math:`\\log_{10}\\tau` on the slider's grid (steps of :data:`LOG10_TAU_STEP`), refusing
    a τ outside :data:`LOG10_TAU_RANGE`."""
    t = positive(tau, "tau")
    lo, hi = LOG10_TAU_RANGE
    if not 10**lo <= t <= 10**hi:
        raise ValueError(f"tau must lie in [{10**lo:g}, {10**hi:g}] (the slider); got {t}")
    return round(round(math.log10(t) / LOG10_TAU_STEP) * LOG10_TAU_STEP, 2)


# --------------------------------------------------------------------------- the figure
# Vega expressions, per school (datum) given the two controls (log_tau, model): the same
# arithmetic as hierlib.shrinkage.means_given_tau.
_PER_SCHOOL = {
    "tau": "pow(10, log_tau)",
    "tau2": "datum.tau * datum.tau",
    "s2": "model == 2 ? datum.sigma2_model2 : datum.sigma2_model1",
    "w": "1 / (datum.tau2 + datum.s2 / datum.n)",
    "wy": "datum.w * datum.ybar",
}
_AFTER_MU = {
    "mu": "datum.sum_wy / datum.sum_w",
    "B": "datum.s2 / (datum.s2 + datum.n * datum.tau2)",
    "theta": "datum.B * datum.mu + (1 - datum.B) * datum.ybar",
}

PANEL = {"width": 390, "height": 320}
"""Each panel's plotting area in px (with :func:`axis_limits`, a position in the drawing
gives the value it shows)."""
_STRIP_HEIGHT = 60
_TOOLTIP = [
    alt.Tooltip("school:N", title="school"),
    alt.Tooltip("n:Q", title="students"),
    alt.Tooltip("ybar:Q", title="own mean", format=".2f"),
    alt.Tooltip("theta:Q", title="mean at τ", format=".2f"),
    alt.Tooltip("B:Q", title="weight on μ", format=".3f"),
]


def axis_limits(table: pd.DataFrame) -> tuple[float, float]:
    """The panels' fixed limits (whole points, on both axes of the right panel and the y axis
    of both) holding every school mean, so that the axes never move with τ."""
    return float(np.floor(table["ybar"].min() - 0.5)), float(np.ceil(table["ybar"].max() + 0.5))


def _controls(log10_tau: float) -> tuple[alt.Parameter, alt.Parameter]:
    lo, hi = LOG10_TAU_RANGE
    log_tau = alt.param(
        name="log_tau",
        value=log10_tau,
        bind=alt.binding_range(min=lo, max=hi, step=LOG10_TAU_STEP, name="drag τ (its log₁₀): "),
    )
    model = alt.param(
        name="model",
        value=1,
        bind=alt.binding_radio(
            options=list(MODELS), labels=list(MODELS.values()), name="within-school variance: "
        ),
    )
    return log_tau, model


def _schools_at_tau(table: pd.DataFrame) -> alt.Chart:
    """The schools with every quantity of :data:`_PER_SCHOOL` and :data:`_AFTER_MU`."""
    return (
        alt.Chart(table)
        .transform_calculate(**_PER_SCHOOL)
        .transform_joinaggregate(sum_w="sum(w)", sum_wy="sum(wy)")
        .transform_calculate(**_AFTER_MU)
    )


def _panels(table: pd.DataFrame) -> alt.HConcatChart:
    lo, hi = axis_limits(table)
    base = _schools_at_tau(table)
    y = alt.Y(
        "theta:Q",
        title="school mean at this τ (points)",
        scale=alt.Scale(domain=[lo, hi], zero=False, nice=False),
    )
    color = alt.Color(
        "ybar:Q",
        scale=alt.Scale(scheme="blueorange", domainMid=float(table["ybar"].mean())),
        legend=None,
    )
    points = {"filled": True, "size": 45, "opacity": 0.8, "stroke": "#333", "strokeWidth": 0.4}
    by_size = base.mark_point(**points).encode(
        x=alt.X("n:Q", title="students in the school, nⱼ", scale=alt.Scale(zero=False)),
        y=y,
        color=color,
        tooltip=_TOOLTIP,
    )
    by_mean = base.mark_point(**points).encode(
        x=alt.X(
            "ybar:Q",
            title="school's own mean ȳⱼ (points)",
            scale=alt.Scale(domain=[lo, hi], zero=False, nice=False),
        ),
        y=y,
        color=color,
        tooltip=_TOOLTIP,
    )
    mu = base.transform_aggregate(mu="mean(mu)").transform_calculate(
        label="'μ̂(τ) = ' + format(datum.mu, '.2f')"
    )
    mu_rule = mu.mark_rule(color="#c03", strokeDash=[6, 3], strokeWidth=1.5).encode(y="mu:Q")
    mu_text = mu.mark_text(align="right", dx=-4, dy=-8, color="#c03", fontSize=13).encode(
        y="mu:Q", x=alt.value(PANEL["width"]), text="label:N"
    )
    diagonal = (
        alt.Chart(pd.DataFrame({"x": [lo, hi]}))
        .mark_line(color="#666", strokeDash=[3, 3])
        .encode(x="x:Q", y="x:Q")
    )
    left = alt.layer(
        mu_rule.properties(name=MU_RULES[0]), by_size.properties(name=POINT_MARKS[0]), mu_text
    ).properties(title="against school size: as τ falls, small schools move first", **PANEL)
    right = alt.layer(
        diagonal,
        mu_rule.properties(name=MU_RULES[1]),
        by_mean.properties(name=POINT_MARKS[1]),
        mu_text,
    ).properties(title="against their own mean: on the dashed line, no pooling", **PANEL)
    return alt.hconcat(left, right, spacing=40)


def _tau_strip(markers: TauMarkers) -> alt.LayerChart:
    lo, hi = (10**v for v in LOG10_TAU_RANGE)
    x = alt.X(
        "tau:Q",
        scale=alt.Scale(type="log", domain=[lo, hi]),
        axis=alt.Axis(title="τ (points, log scale)", values=[0.01, 0.1, 1, 10, 100, 1000]),
    )
    marks = pd.DataFrame(
        {
            "tau": [
                markers.reml,
                markers.posterior_mean_model1,
                markers.posterior_mean_model2,
            ],
            "model": [0, 1, 2],
            "label": [
                f"REML τ̂ = {markers.reml:.2f}",
                f"E[τ | Y] = {markers.posterior_mean_model1:.2f}",
                f"E[τ | Y] = {markers.posterior_mean_model2:.2f}",
            ],
        }
    )
    shown = alt.Chart(marks).transform_filter("datum.model == 0 || datum.model == model")
    # three rows, so that no two labels meet: the current τ above the line, the ticks on it,
    # their labels (either side: the REML and posterior-mean values are close) and the ends
    # below it
    row = {"top": alt.value(10), "line": alt.value(_STRIP_HEIGHT / 2), "low": alt.value(50)}
    ticks = shown.mark_tick(thickness=2, size=18, color="#555").encode(x=x, y=row["line"])
    text = {"fontSize": 12, "color": "#555"}
    reml = (
        shown.transform_filter("datum.model == 0")
        .mark_text(align="right", dx=-3, **text)
        .encode(x=x, y=row["low"], text="label:N")
    )
    post = (
        shown.transform_filter("datum.model != 0")
        .mark_text(align="left", dx=3, **text)
        .encode(x=x, y=row["low"], text="label:N")
    )
    current = alt.Chart(pd.DataFrame({"at": ["now"]})).transform_calculate(
        tau="pow(10, log_tau)", label="'τ = ' + format(pow(10, log_tau), '.3~g')"
    )
    red = "#c03"
    dot = (
        current.mark_point(filled=True, size=150, color=red, shape="diamond")
        .encode(x=x, y=row["line"])
        .properties(name=TAU_MARK)
    )
    dot_text = current.mark_text(fontSize=14, fontWeight="bold", color=red).encode(
        x=x, y=row["top"], text="label:N"
    )
    ends = [
        alt.Chart(pd.DataFrame({"tau": [at], "label": [label]}))
        .mark_text(align=align, fontStyle="italic", **text)
        .encode(x=x, y=row["low"], text="label:N")
        for at, label, align in ((lo, "← complete pooling", "left"), (hi, "no pooling →", "right"))
    ]
    return alt.layer(ticks, reml, post, *ends, dot, dot_text).properties(
        width=2 * PANEL["width"] + 40, height=_STRIP_HEIGHT
    )


def explorer_chart(
    table: pd.DataFrame, markers: TauMarkers, tau_start: float | None = None
) -> alt.VConcatChart:
    """The Altair chart of the explorer (the two panels above the τ strip, both controls).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`explorer_table` (one row per school).
    markers : TauMarkers
        The τ values marked on the strip.
    tau_start : float, optional
        The τ the slider starts at (default: the REML estimate), snapped to the slider's grid.
    """
    missing = [c for c in COLUMNS if c not in getattr(table, "columns", ())]
    if missing:
        raise ValueError(f"table needs the columns {list(COLUMNS)} (explorer_table); "
                         f"missing {missing}")  # fmt: skip
    start = snap_log10_tau(markers.reml if tau_start is None else tau_start)
    log_tau, model = _controls(start)
    chart = alt.vconcat(_panels(table), _tau_strip(markers), spacing=16)
    return chart.add_params(log_tau, model).properties(
        title=alt.Title(
            "Each school's mean E[θⱼ | τ, σ², Y] as τ moves: from one mean (τ → 0) "
            "to 160 own means (τ → ∞)",
            fontSize=15,
        )
    )


@dataclass(frozen=True)
class ShrinkageExplorer:
    """The explorer as Jupyter shows it: a Vega-Lite 5 output (:data:`VEGALITE_MIME`) that
    JupyterLab draws with its own Vega, offline, whatever Altair renderer is enabled.

    Attributes
    ----------
    chart : altair.VConcatChart
        The Altair chart (``chart.to_dict()`` is the Vega-Lite specification).
    table : pandas.DataFrame
        :func:`explorer_table`, the numbers the figure computes from.
    markers : TauMarkers
        The τ values marked on the strip.
    """

    chart: alt.VConcatChart
    table: pd.DataFrame
    markers: TauMarkers

    def spec(self) -> dict:
        """The Vega-Lite specification (JSON-ready dict; the same on every run)."""
        return self.chart.to_dict()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]:
        text = (
            f"Shrinkage explorer for {len(self.table)} schools: an interactive Vega-Lite "
            "figure (it shows in JupyterLab and in the course's pages and slides)"
        )
        return {VEGALITE_MIME: self.spec(), "text/plain": text}, {
            VEGALITE_MIME: {"embed_options": EMBED_OPTIONS}
        }

    def to_json(self) -> str:
        """The specification as JSON text."""
        return json.dumps(self.spec(), sort_keys=True)


def shrinkage_explorer(
    model1: Any, model2: Any, tau_reml: float, *, tau_start: float | None = None
) -> ShrinkageExplorer:
    """The explorer of notebook 07 from the two fits and the REML estimate of τ.

    Parameters
    ----------
    model1 : gibbs.Posterior
        Model 1 (``gibbs.hierarchical_normal``): its posterior mean of σ² is the common
        within-school variance; its :math:`E[\\tau \\mid Y]` is marked.
    model2 : gibbs.Posterior
        Model 2 (``gibbs.unequal_variances``) on the same data: the posterior means of the
        :math:`\\sigma_j^2`; its :math:`E[\\tau \\mid Y]` is marked.
    tau_reml : float
        The REML estimate of τ (``sqrt`` of ``reml.maximize_profile(stats)[0]``), marked and
        the slider's start unless ``tau_start`` is given.
    tau_start : float, optional
        Where the slider starts (snapped to its grid of 0.01 in :math:`\\log_{10}\\tau`).

    Returns
    -------
    ShrinkageExplorer
        Displays itself in Jupyter; ``.spec()`` is the Vega-Lite specification.
    """
    table = table_from_posteriors(model1, model2)
    markers = markers_from_posteriors(model1, model2, tau_reml)
    return ShrinkageExplorer(explorer_chart(table, markers, tau_start), table, markers)


# --------------------------------------------------------------------------- printed frame
def frame(table: pd.DataFrame, tau: float, model: int = 1) -> tuple[float, np.ndarray]:
    """What the explorer shows at ``tau`` under ``model`` (1 or 2): ``(mu, theta)`` from
    :func:`hierlib.shrinkage.means_given_tau`."""
    if model not in MODELS:
        raise ValueError(f"model must be 1 or 2; got {model!r}")
    s2 = table[f"sigma2_model{model}"].to_numpy()
    return means_given_tau(table["ybar"], table["n"], positive(tau, "tau") ** 2, s2)


def plot_frame(
    table: pd.DataFrame,
    tau: float,
    model: int = 1,
    axes: tuple[Axes, Axes] | None = None,
    *,
    title_note: str | None = None,
) -> tuple[Axes, Axes]:
    """The explorer at one τ, drawn with matplotlib (for print): the two panels.

    Left, each school's mean at τ against its size; right, against its own mean (dashed:
    the 45° line of no pooling); the dotted line is :math:`\\hat\\mu(\\tau)`. Colours follow
    the school's own mean, as in the explorer. The title states τ and the model (and
    ``title_note``, e.g. ``"REML estimate"``, after τ).
    """
    import matplotlib.pyplot as plt

    from hierlib.plots import finish_axes, new_axes

    mu, theta = frame(table, tau, model)
    if axes is None:
        axes = tuple(plt.subplots(1, 2, figsize=(11, 4.8), sharey=True, layout="constrained")[1])
    if not isinstance(axes, tuple | list) or len(axes) != 2:
        raise TypeError("axes must be a pair of matplotlib Axes (left, right), or None")
    left, right = (new_axes(a, name="axes") for a in axes)
    lo, hi = axis_limits(table)
    ybar, n = table["ybar"].to_numpy(), table["n"].to_numpy()
    style = {"c": ybar, "cmap": "coolwarm", "s": 30, "edgecolor": "0.2", "linewidth": 0.4}
    for ax, x in ((left, n), (right, ybar)):
        ax.scatter(x, theta, **style, zorder=3)
        ax.axhline(mu, color="C3", ls=":", lw=1.5, label=f"μ̂(τ) = {mu:.2f}")
        ax.set_ylim(lo, hi)
    right.plot([lo, hi], [lo, hi], "--", color="0.4", lw=1, label="45° line (no pooling)")
    right.set_xlim(lo, hi)
    finish_axes(left, "students in the school, $n_j$", "school mean at this τ (points)",
                "against school size", legend="lower right")  # fmt: skip
    finish_axes(right, r"school's own mean $\bar y_j$ (points)", "", "against their own mean",
                legend="upper left")  # fmt: skip
    note = f" ({title_note})" if title_note else ""
    what = {1: "one σ² for every school", 2: r"each school its own $\sigma_j^2$"}[model]
    left.figure.suptitle(f"Each school's mean at τ = {tau:.2f}{note}; {what}")
    return left, right
