"""Shared figure style: readable on a projector, the same in every notebook."""

from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.axes import Axes

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
    """Apply the course's matplotlib style: seaborn's ``whitegrid``, large fonts, 9x5 in figures.

    Figures are sized for slides (1280x720 at 100 dpi leaves room for a title).
    """
    sns.set_theme(style="whitegrid", palette="colorblind")
    mpl.rcParams.update(COURSE_RC)


def new_axes(ax: Axes | None) -> Axes:
    """Return ``ax``, or the axes of a new figure in the course size when ``ax`` is None."""
    if ax is None:
        _, ax = plt.subplots()
    return ax


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
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    if legend:
        ax.legend(loc=legend)
    return ax
