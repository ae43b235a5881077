"""Shared figure style: readable on a projector, the same in every notebook."""

from __future__ import annotations

import matplotlib as mpl
import seaborn as sns

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
