"""Shared figure style: readable on a projector, the same in every notebook."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb

from hierlib._validate import require_type

COLORBLIND = ["#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC",
              "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9"]  # fmt: skip
"""seaborn's ``colorblind`` palette (the colour cycle of every course figure)."""

WHITEGRID_RC = {
    "axes.axisbelow": True,
    "axes.edgecolor": ".8",
    "axes.grid": True,
    "axes.labelcolor": ".15",
    "axes.linewidth": 1.25,
    "axes.prop_cycle": cycler(color=[to_rgb(c) for c in COLORBLIND]),
    "font.sans-serif": [
        "Arial",
        "DejaVu Sans",
        "Liberation Sans",
        "Bitstream Vera Sans",
        "sans-serif",
    ],  # fmt: skip
    "grid.color": ".8",
    "grid.linewidth": 1.0,
    "legend.title_fontsize": 12.0,
    "lines.solid_capstyle": "round",
    "patch.edgecolor": "w",
    "patch.force_edgecolor": True,
    "text.color": ".15",
    "xtick.bottom": False,
    "xtick.color": ".15",
    "xtick.major.size": 6.0,
    "xtick.major.width": 1.25,
    "xtick.minor.size": 4.0,
    "xtick.minor.width": 1.0,
    "ytick.color": ".15",
    "ytick.left": False,
    "ytick.major.size": 6.0,
    "ytick.major.width": 1.25,
    "ytick.minor.size": 4.0,
    "ytick.minor.width": 1.0,
}
"""What ``seaborn.set_theme(style="whitegrid", palette="colorblind")`` sets (seaborn 0.13),
written out so that the style costs no seaborn import (about 1 s). Font sizes are the
course's own (:data:`COURSE_RC`). One setting is left out: the default colour map (seaborn's
``rocket`` exists only once seaborn is imported); every course figure with a colour map names
its own."""

COLOR_CODES = {
    **dict(zip("bgrmyc", [to_rgb(COLORBLIND[i]) for i in (0, 2, 3, 4, 8, 9)], strict=True)),
    "k": (0.1, 0.1, 0.1),
}
"""matplotlib's one-letter colours as seaborn's ``set_theme`` remaps them (``"k"`` is a dark
grey, ``"b"`` the palette's blue, ...)."""

COURSE_RC = {
    "figure.figsize": (9.0, 5.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 14,
    "axes.titlesize": 15,
    "axes.labelsize": 14,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def use_course_style() -> None:
    """Apply the course's matplotlib style: seaborn's ``whitegrid`` with its colorblind
    palette (:data:`WHITEGRID_RC`, :data:`COLOR_CODES`), large fonts, 9x5 in figures.

    Figures are sized for slides (1280x720 at 100 dpi leaves room for a title).
    """
    mpl.rcParams.update(WHITEGRID_RC)
    for code, rgb in COLOR_CODES.items():
        mpl.colors.colorConverter.colors[code] = rgb
    mpl.rcParams.update(COURSE_RC)


def new_axes(
    ax: Axes | None, figsize: tuple[float, float] | None = None, *, name: str = "ax"
) -> Axes:
    """Return ``ax``, or the axes of a new figure (the course size, or ``figsize`` inches)
    when ``ax`` is None: what every plot helper of hierlib draws on. Anything else (a dict,
    a list, a figure) is a ``TypeError`` naming ``name``."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
        return ax
    return require_type(ax, Axes, name, AXES_HOW)


AXES_HOW = "e.g. fig, ax = plt.subplots(); or None for a new figure"
"""How to get the axes a plot helper takes (the ``TypeError`` of :func:`new_axes`)."""


def finish_axes(
    ax: Axes,
    xlabel: str,
    ylabel: str,
    title: str | None = None,
    legend: str | None = None,
) -> Axes:
    """Label a figure's axes (give units), set a title that says what to see, place a legend.

    ``legend`` is a matplotlib location (``"upper left"``, ...) or None for no legend.
    """
    require_type(ax, Axes, "ax", AXES_HOW)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc=legend)
    return ax
