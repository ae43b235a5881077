"""10_summary links every lecture point to a notebook heading: each link must resolve.

A link ``NN_topic.ipynb#Anchor`` (Jupyter) or ``NN_topic.html#Anchor`` (course site) is
checked against the headings of ``notebooks/NN_topic.py``: nbconvert and Jupyter both turn a
heading into an anchor by replacing spaces with hyphens. Renaming a heading that the summary
points to fails here, not silently in a student's browser.
"""

import re
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SUMMARY = NOTEBOOKS / "10_summary.py"
LINK = re.compile(r"(?:\]\(|\]: )(\d\d_[a-z_]+)\.(ipynb|html)#([^)\s]+)")


def anchors(stem: str) -> set[str]:
    text = (NOTEBOOKS / f"{stem}.py").read_text(encoding="utf-8")
    return {m.group(1).strip().replace(" ", "-") for m in re.finditer(r"(?m)^# #+ (.+)$", text)}


def links() -> list[tuple[str, str, str]]:
    return LINK.findall(SUMMARY.read_text(encoding="utf-8"))


def test_summary_links_every_point():
    found = links()
    stems = {stem for stem, _, _ in found}
    # the lecture's six points plus the extras are shown across notebooks 02-09
    assert {"02_one_way_anova", "05_gibbs", "06_unequal_variances", "07_shrinkage"} <= stems
    assert {"08_ranking", "09_parameterisation"} <= stems
    # every notebook link comes with its page link
    assert sorted((s, a) for s, k, a in found if k == "ipynb") == sorted(
        (s, a) for s, k, a in found if k == "html"
    )


@pytest.mark.parametrize(("stem", "kind", "anchor"), links())
def test_summary_link_resolves(stem, kind, anchor):
    assert (NOTEBOOKS / f"{stem}.py").exists(), f"{stem}.py does not exist"
    assert anchor in anchors(stem), f"{stem} has no heading for #{anchor}"
