"""hierlib.shrinkage_explorer: the data behind notebook 07's explorer, its Vega-Lite output
(deterministic, the Vega-Lite 5 output JupyterLab draws), its printed frame. The figure in a
browser is tested in tests/course/test_explorer.py (page, deck and JupyterLab)."""

import json
import re
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")

import altair as alt
import matplotlib.pyplot as plt
import numpy as np
import pytest

from hierlib import shrinkage
from hierlib import shrinkage_explorer as se
from hierlib.data import group_stats


@pytest.fixture(scope="module")
def stats(small):
    return group_stats(*small)


@pytest.fixture(scope="module")
def fits(stats):
    """Stand-ins for the two posteriors: what the explorer reads from them."""
    rng = np.random.default_rng(3)
    model1 = SimpleNamespace(
        draws={"sigma2": rng.uniform(3.5, 4.5, (2, 50)), "tau2": rng.uniform(0.5, 1.5, (2, 50))},
        stats=stats,
        groups=stats.labels,
    )
    model2 = SimpleNamespace(
        draws={"tau2": rng.uniform(0.6, 1.6, (2, 50))},
        groups=stats.labels,
        sigma2_j_mean=rng.uniform(2.0, 6.0, stats.m),
    )
    return model1, model2


@pytest.fixture(scope="module")
def explorer(fits):
    return se.shrinkage_explorer(*fits, tau_reml=0.9)


def test_the_table_holds_each_schools_size_mean_and_both_variances(explorer, fits, stats):
    model1, model2 = fits
    table = explorer.table
    assert list(table.columns) == list(se.COLUMNS)
    assert table["school"].tolist() == [str(g) for g in stats.labels]
    np.testing.assert_array_equal(table["n"], stats.n)
    np.testing.assert_array_equal(table["ybar"], stats.ybar)
    assert (table["sigma2_model1"] == model1.draws["sigma2"].mean()).all()
    np.testing.assert_array_equal(table["sigma2_model2"], model2.sigma2_j_mean)
    marks = explorer.markers
    assert marks.reml == 0.9
    assert marks.posterior_mean_model1 == pytest.approx(np.sqrt(model1.draws["tau2"]).mean())
    assert marks.posterior_mean_model2 == pytest.approx(np.sqrt(model2.draws["tau2"]).mean())


def test_the_output_is_vega_lite_5_whatever_altair_renderer_is_on(explorer):
    with alt.renderers.enable("html"):  # Altair's default writes HTML that loads Vega online
        bundle, metadata = explorer._repr_mimebundle_()
    assert set(bundle) == {se.VEGALITE_MIME, "text/plain"}
    assert se.VEGALITE_MIME == "application/vnd.vegalite.v5+json"
    spec = bundle[se.VEGALITE_MIME]
    assert spec["$schema"].endswith("/vega-lite/v5.20.1.json")
    assert metadata[se.VEGALITE_MIME]["embed_options"]["renderer"] == "svg"
    assert metadata[se.VEGALITE_MIME]["embed_options"]["actions"]["editor"] is False
    assert "interactive" in bundle["text/plain"]


def test_the_specification_is_the_same_on_every_build(fits, explorer):
    again = se.shrinkage_explorer(*fits, tau_reml=0.9)
    assert again.to_json() == explorer.to_json()
    text = explorer.to_json()
    # no random ids: Altair names data sets by a hash of their content, the controls by name
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", text)
    assert "view_" not in text and "param_" not in text
    spec = explorer.spec()
    assert [p["name"] for p in spec["params"]] == ["log_tau", "model"]
    slider = spec["params"][0]
    assert (slider["bind"]["min"], slider["bind"]["max"]) == se.LOG10_TAU_RANGE
    assert slider["value"] == round(np.log10(0.9), 2)
    assert spec["params"][1]["bind"]["options"] == [1, 2]


def test_the_schools_are_embedded_exactly(explorer):
    rows = [r for r in explorer.spec()["datasets"].values() if r and "school" in r[0]]
    assert len(rows) == 1
    table = explorer.table
    assert rows[0] == [  # every digit: the browser computes from these numbers
        {"school": r.school, "n": int(r.n), "ybar": float(r.ybar),
         "sigma2_model1": float(r.sigma2_model1), "sigma2_model2": float(r.sigma2_model2)}
        for r in table.itertuples()
    ]  # fmt: skip


def test_the_figure_computes_with_hierlibs_formula(explorer):
    """The Vega expressions are the arithmetic of shrinkage.means_given_tau, term by term
    (the browser test checks the numbers the browser draws)."""
    text = explorer.to_json()
    for expr in ("pow(10, log_tau)", "1 / (datum.tau2 + datum.s2 / datum.n)",
                 "datum.sum_wy / datum.sum_w", "datum.s2 / (datum.s2 + datum.n * datum.tau2)",
                 "datum.B * datum.mu + (1 - datum.B) * datum.ybar",
                 "model == 2 ? datum.sigma2_model2 : datum.sigma2_model1"):  # fmt: skip
        assert json.dumps(expr)[1:-1] in text, expr
    for name in (*se.POINT_MARKS, *se.MU_RULES, se.TAU_MARK):
        assert f'"name": "{name}"' in text, name


def test_frame_is_means_given_tau_for_either_model(explorer):
    table = explorer.table
    for model in (1, 2):
        mu, theta = se.frame(table, 2.0, model)
        s2 = table[f"sigma2_model{model}"].to_numpy()
        want = shrinkage.means_given_tau(table["ybar"], table["n"], 4.0, s2)
        assert mu == want[0]
        np.testing.assert_array_equal(theta, want[1])
    assert not np.allclose(se.frame(table, 2.0, 1)[1], se.frame(table, 2.0, 2)[1])


def test_plot_frame_draws_each_school_where_frame_puts_it(explorer):
    table = explorer.table
    try:
        left, right = se.plot_frame(table, 0.5, 2, title_note="a note")
        mu, theta = se.frame(table, 0.5, 2)
        for ax, x in ((left, table["n"]), (right, table["ybar"])):
            points = ax.collections[0].get_offsets()
            np.testing.assert_allclose(points[:, 0], x)
            np.testing.assert_allclose(points[:, 1], theta)
            assert ax.lines[0].get_ydata()[0] == pytest.approx(mu)
        title = left.figure._suptitle.get_text()
        assert "τ = 0.50 (a note)" in title and "sigma_j^2" in title
        assert left.get_ylim() == se.axis_limits(table) == right.get_xlim()
    finally:
        plt.close("all")


def test_snap_log10_tau_is_on_the_sliders_grid():
    assert se.snap_log10_tau(2.934966) == 0.47
    assert se.snap_log10_tau(0.01) == -2.0 and se.snap_log10_tau(1000) == 3.0
    for bad in (0.001, 5000.0, 0.0, -1.0, np.nan):
        with pytest.raises(ValueError, match="tau"):
            se.snap_log10_tau(bad)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s, f: se.explorer_table(s, -1.0, np.ones(s.m)), ValueError, "sigma2 must be"),
        (lambda s, f: se.explorer_table(s, 1.0, np.ones(s.m + 1)), ValueError, "lengths differ"),
        (lambda s, f: se.explorer_table(s, 1.0, -np.ones(s.m)), ValueError, "sigma2_j must"),
        (lambda s, f: se.explorer_table(s, 1.0, [np.nan] * s.m), ValueError, "sigma2_j has"),
        (lambda s, f: se.explorer_table({"n": [1]}, 1.0, [1.0]), TypeError, "stats must be"),
        (lambda s, f: se.shrinkage_explorer({}, f[1], 1.0), TypeError, "model1 must be"),
        (lambda s, f: se.shrinkage_explorer(f[0], f[1], -1.0), ValueError, "tau_reml must"),
        (lambda s, f: se.shrinkage_explorer(f[0], f[1], 1.0, tau_start=1e4), ValueError, "tau"),
        (
            lambda s, f: se.shrinkage_explorer(
                f[0], SimpleNamespace(**{**vars(f[1]), "groups": f[1].groups[:-1]}), 1.0
            ),  # fmt: skip
            ValueError,
            "same groups",
        ),
        (
            lambda s, f: se.frame(se.explorer_table(s, 1.0, np.ones(s.m)), 1.0, 3),
            ValueError,
            "model must be 1 or 2",
        ),  # fmt: skip
        (
            lambda s, f: se.explorer_chart(
                se.explorer_table(s, 1.0, np.ones(s.m)).drop(columns="n"), se.TauMarkers(1, 1, 1)
            ),
            ValueError,
            "missing \\['n'\\]",
        ),  # fmt: skip
        (
            lambda s, f: se.plot_frame(se.explorer_table(s, 1.0, np.ones(s.m)), 1.0, axes="ax"),
            TypeError,
            "axes must be a pair",
        ),  # fmt: skip
    ],
)
def test_bad_input_is_refused_by_name(stats, fits, call, error, match):
    with pytest.raises(error, match=match):
        call(stats, fits)
