"""The shrinkage explorer of notebook 07 in the published page and its deck, offline.

Notebook 07 saves the explorer as a Vega-Lite output (hierlib.shrinkage_explorer); the site
draws it with Vega from ``_static/`` (tools/build_site.py, ``embed_charts``). In Debian's
headless Chromium, with every request other than ``file://`` aborted, the page and the deck
are opened, the slider is moved (the keyboard's Home and End: τ = 0.01 and τ = 1000, and
values in between) and the variance switch is flipped; after each move the positions Vega drew
(each school's mark, read from the view's scene graph and mapped back through the chart's own
scales) must equal ``hierlib.shrinkage.means_given_tau`` at that τ to 1e-6, and the μ̂(τ) rule
and the τ marker must sit at hierlib's μ̂(τ) and τ.
"""

import json
import shutil
from pathlib import Path

import build_site
import chromium
import nbformat
import numpy as np
import pandas as pd
import pytest

from hierlib import shrinkage, shrinkage_explorer
from hierlib.data import group_stats, load_hsb

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "notebooks" / "07_shrinkage.ipynb"
CHART_ID = "chart-07_shrinkage-1"
TOL = 1e-6
ARTIFACTS = REPO / "build" / "test-artifacts"


def committed_spec() -> dict:
    """The Vega-Lite specification notebook 07 saved (its one explorer output)."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    specs = [
        out.data[build_site.VEGALITE_MIME]
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if build_site.VEGALITE_MIME in out.get("data", {})
    ]
    assert len(specs) == 1, f"{NOTEBOOK.name} should hold one explorer output, has {len(specs)}"
    return specs[0]


def spec_table(spec: dict) -> pd.DataFrame:
    """The per-school table embedded in ``spec`` (the data set with a ``school`` column)."""
    tables = [rows for rows in spec["datasets"].values() if rows and "school" in rows[0]]
    assert len(tables) == 1
    return pd.DataFrame(tables[0])


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Notebook 07's published page and deck (students' edition), moved alone to a fresh
    folder, as when the site is copied to a web server."""
    if not (REPO / "node_modules" / "vega-embed").exists():
        pytest.fail("node_modules/ is missing vega-embed: run `make setup` (npm ci) first")
    built = tmp_path_factory.mktemp("build") / "site"
    build_site.build(built, REPO / "node_modules", [NOTEBOOK])
    out = tmp_path_factory.mktemp("copied") / "site"
    shutil.move(built, out)
    return out


def test_the_explorer_computes_from_hierlibs_hsb_numbers():
    spec = committed_spec()
    table = spec_table(spec)
    hsb = load_hsb()
    stats = group_stats(hsb["mathach"], hsb["school"])
    assert sorted(table.columns) == sorted(shrinkage_explorer.COLUMNS)
    assert table["school"].tolist() == [str(s) for s in stats.labels]
    np.testing.assert_array_equal(table["n"], stats.n)
    np.testing.assert_allclose(table["ybar"], stats.ybar, rtol=0, atol=1e-12)
    assert table["sigma2_model1"].nunique() == 1 and 38 < table["sigma2_model1"][0] < 40.5
    assert table["sigma2_model2"].nunique() == len(table)  # one variance per school
    assert [p["name"] for p in spec["params"]] == ["log_tau", "model"]
    # the saved output is exactly the figure hierlib builds from these numbers (rerun
    # notebook 07 after changing hierlib.shrinkage_explorer)
    (marks,) = [rows for rows in spec["datasets"].values() if rows and "model" in rows[0]]
    tau = {row["model"]: row["tau"] for row in marks}
    markers = shrinkage_explorer.TauMarkers(tau[0], tau[1], tau[2])
    rebuilt = shrinkage_explorer.explorer_chart(table[list(shrinkage_explorer.COLUMNS)], markers)
    assert rebuilt.to_dict() == spec


def expected(table: pd.DataFrame, log_tau: float, model: int) -> tuple[float, np.ndarray]:
    """hierlib's numbers for the slider at ``log_tau`` and the switch at ``model``."""
    tau2 = (10.0**log_tau) ** 2
    s2 = table[f"sigma2_model{model}"].to_numpy()
    return shrinkage.means_given_tau(table["ybar"], table["n"], tau2, s2)


MARKS = [*shrinkage_explorer.POINT_MARKS, *shrinkage_explorer.MU_RULES, shrinkage_explorer.TAU_MARK]

# Each named mark's items, mapped back to data units through the scales its encoding names in
# the compiled Vega specification (compiled in the page by its own Vega-Lite), after the view
# has run: what is drawn, not only what was computed.
READ_JS = """async ([id, names]) => {
  const view = window.courseCharts[id];
  await view.runAsync();
  const spec = JSON.parse(document.getElementById(id + "-spec").textContent);
  const compiled = require("vega-lite").compile(spec).spec;
  const defs = {};
  (function walk(node) { (node.marks || []).forEach((m) => { defs[m.name] = m; walk(m); }); })(
    compiled);
  const drawn = {};
  (function walk(node) {
    if (node.marktype && node.name) drawn[node.name] = node;
    (node.items || []).forEach(walk);
  })(view.scenegraph().root);
  const out = {log_tau: view.signal("log_tau"), model: view.signal("model"), marks: {}};
  for (const name of names) {
    const key = name + "_marks";
    const enc = defs[key].encode.update;
    const scale = (ch) => (enc[ch] && enc[ch].scale ? view.scale(enc[ch].scale) : null);
    const sx = scale("x"), sy = scale("y");
    out.marks[name] = drawn[key].items.map((it) => ({
      school: it.datum.school === undefined ? null : String(it.datum.school),
      x: sx ? sx.invert(it.x) : null,
      y: sy ? sy.invert(it.y) : null,
      theta: it.datum.theta === undefined ? null : it.datum.theta,
    }));
  }
  return out;
}"""

SET_SLIDER_JS = """([id, value]) => {
  const el = document.querySelector("#" + id + " input[type=range]");
  el.value = String(value);
  el.dispatchEvent(new Event("input", {bubbles: true}));
  return Number(el.value);
}"""


def check_drawn(state: dict, table: pd.DataFrame, model: int) -> None:
    """Every mark of ``state`` (READ_JS) sits where hierlib puts it, to :data:`TOL`."""
    assert int(state["model"]) == model
    log_tau = float(state["log_tau"])
    mu, theta = expected(table, log_tau, model)
    by_school = dict(zip(table["school"], theta, strict=True))
    size = dict(zip(table["school"], table["n"], strict=True))
    own = dict(zip(table["school"], table["ybar"], strict=True))
    x_of = {"by_size_points": size, "by_mean_points": own}
    for name, x_expected in x_of.items():
        items = state["marks"][name]
        assert sorted(i["school"] for i in items) == sorted(table["school"]), name
        for it in items:
            want = by_school[it["school"]]
            assert abs(it["theta"] - want) < TOL, (name, it, want)
            assert abs(it["y"] - want) < TOL, (name, it, want)  # where it is drawn
            assert abs(it["x"] - x_expected[it["school"]]) < TOL, (name, it)
    for name in shrinkage_explorer.MU_RULES:
        (rule,) = state["marks"][name]
        assert abs(rule["y"] - mu) < TOL, (name, rule, mu)
    (diamond,) = state["marks"][shrinkage_explorer.TAU_MARK]
    assert abs(diamond["x"] / 10.0**log_tau - 1) < TOL


def open_explorer(browser, path: Path):
    """``path`` opened offline at 1280x720 with the explorer drawn (and, in a deck, its slide
    shown); failed requests and script errors recorded."""
    page, blocked = chromium.offline_page(browser, 1280, 720)
    page.blocked, page.failed, page.errors = blocked, [], []
    page.on("requestfailed", lambda r: page.failed.append(r.url))
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_function(
        "(id) => window.courseCharts && window.courseCharts[id]", arg=CHART_ID, timeout=30_000
    )
    if path.name.endswith(".slides.html"):
        page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
        page.evaluate(GO_TO_CHART_JS, CHART_ID)
    else:
        page.locator(f"#{CHART_ID}").scroll_into_view_if_needed()
    return page


REVEAL_JS = """(window.Reveal || require(Object.keys(require.s.contexts._.defined)
  .find((k) => k.endsWith('dist/reveal.js'))))"""
GO_TO_CHART_JS = (
    "(id) => { const R = " + REVEAL_JS + "; R.configure({transition: 'none'});"
    " const i = R.getIndices(document.getElementById(id).closest('section'));"
    " R.slide(i.h, i.v); return [i.h, i.v]; }"
)
SLIDE_JS = "() => { const i = " + REVEAL_JS + ".getIndices(); return [i.h, i.v]; }"


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["page", "deck"])
def test_the_explorer_draws_hierlibs_shrinkage_for_every_tau_offline(site, browser, kind):
    spec = committed_spec()
    table = spec_table(spec)
    path = site / ("07_shrinkage.html" if kind == "page" else "07_shrinkage.slides.html")
    page = open_explorer(browser, path)
    try:
        shown = json.loads(page.evaluate(f"document.getElementById('{CHART_ID}-spec').textContent"))
        assert shown == spec  # the page draws exactly what the notebook saved
        # as it opens: the slider at the REML estimate, model 1
        state = page.evaluate(READ_JS, [CHART_ID, MARKS])
        assert abs(10 ** state["log_tau"] - 2.934966) < 0.02
        check_drawn(state, table, 1)
        slider = page.locator(f"#{CHART_ID} input[type=range]")
        slide = page.evaluate(SLIDE_JS) if kind == "deck" else None
        moves = [("key", "Home", 1), ("set", 0.0, 1), ("set", 0.47, 2), ("key", "End", 2),
                 ("set", 1.25, 1), ("key", "Home", 2)]  # fmt: skip
        seen = set()
        for how, where, model in moves:
            page.locator(f"#{CHART_ID} input[type=radio][value='{model}']").check()
            if how == "key":  # a person's keyboard: Home is tau = 0.01, End tau = 1000
                slider.focus()
                page.keyboard.press(where)
            else:
                page.evaluate(SET_SLIDER_JS, [CHART_ID, where])
            state = page.evaluate(READ_JS, [CHART_ID, MARKS])
            check_drawn(state, table, model)
            seen.add(round(state["log_tau"], 2))
            if kind == "deck":  # the keys moved the slider, not the deck
                assert page.evaluate(SLIDE_JS) == slide
        assert {-2.0, 3.0, 0.0, 0.47, 1.25} <= seen
        # the ends are complete and no pooling: one mean, and the schools' own means
        page.evaluate(SET_SLIDER_JS, [CHART_ID, -2])
        low = page.evaluate(READ_JS, [CHART_ID, MARKS])["marks"]["by_mean_points"]
        assert np.ptp([i["y"] for i in low]) < 0.01
        page.wait_for_function("MathJax.Hub.queue.pending === 0", timeout=30_000)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"07_explorer_{kind}.png"))
        assert page.blocked == [] and page.failed == [] and page.errors == []
    finally:
        page.close()


def test_only_pages_with_an_explorer_load_vega(site):
    page = (site / "07_shrinkage.html").read_text()
    for name in ("vega/build/vega.min", "vega-lite/build/vega-lite.min", "vega-embed"):
        assert f"_static/{name}" in page
    for rel in ("vega/build/vega.min.js", "vega-lite/build/vega-lite.min.js",
                "vega-embed/build/vega-embed.min.js"):  # fmt: skip
        assert (site / "_static" / rel).stat().st_size > 50_000, rel
    assert build_site.VEGALITE_MIME == shrinkage_explorer.VEGALITE_MIME
    # the page carries the specification (33 kB), never Vega itself (0.8 MB)
    vega = (site / "_static/vega/build/vega.min.js").read_text()
    assert vega[1000:1200] not in page and page.count(f'id="{CHART_ID}-spec"') == 1


# --------------------------------------------------------------------------- JupyterLab
# JupyterLab draws the saved Vega-Lite output with its own Vega (no kernel, no extension, not
# even a trusted notebook: its Vega renderer is a safe one), offline. Its view is not reachable
# from the page, so the positions are read from the SVG it draws (each school's path, its
# "school: ..." label and its translate(x, y)) and mapped back through the panels' fixed
# geometry (shrinkage_explorer.PANEL and axis_limits).
LAB_READ_JS = """() => {
  const root = document.querySelector(".jp-RenderedVegaCommon5");
  const read = (name) => [...root.querySelectorAll("g." + name + "_marks > path")].map((p) => {
    const at = /translate\\(([^,]+),([^)]+)\\)/.exec(p.getAttribute("transform"));
    const school = /school: ([^;]+)/.exec(p.getAttribute("aria-label"));
    return {school: school && school[1], x: Number(at[1]), y: Number(at[2])};
  });
  const checked = root.querySelector("input[type=radio]:checked");
  return {log_tau: Number(root.querySelector("input[type=range]").value),
          model: checked ? Number(checked.value) : null,
          by_size_points: read("by_size_points"), by_mean_points: read("by_mean_points")};
}"""


def lab_mismatch(state: dict, table: pd.DataFrame, model: int) -> str | None:
    """What in the SVG JupyterLab drew differs from hierlib by more than 1e-6 (None: nothing)."""
    if state["model"] != model:
        return f"model switch at {state['model']}"
    _, theta = expected(table, state["log_tau"], model)
    want = dict(zip(table["school"], theta, strict=True))
    own = dict(zip(table["school"], table["ybar"], strict=True))
    lo, hi = shrinkage_explorer.axis_limits(table)
    width, height = shrinkage_explorer.PANEL["width"], shrinkage_explorer.PANEL["height"]
    for name in shrinkage_explorer.POINT_MARKS:
        items = state[name]
        if sorted(i["school"] for i in items) != sorted(table["school"]):
            return f"{name}: {len(items)} schools drawn"
        for it in items:
            shown = hi - it["y"] / height * (hi - lo)
            if abs(shown - want[it["school"]]) > TOL:
                return f"{name}: school {it['school']} at {shown}, hierlib {want[it['school']]}"
            if name == "by_mean_points":
                x = lo + it["x"] / width * (hi - lo)
                if abs(x - own[it["school"]]) > TOL:
                    return f"{name}: school {it['school']} at x = {x}"
    return None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab (the course's, from .venv) serving a copy of notebook 07 on 127.0.0.1, with
    its own settings and runtime folders; ``(url of the notebook, origin)``."""
    import os
    import secrets
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    root = tmp_path_factory.mktemp("lab")
    (root / "work").mkdir()
    news = root / "config/lab/user-settings/@jupyterlab/apputils-extension"
    news.mkdir(parents=True)  # no "get notified about Jupyter news?" pop-up
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    shutil.copy2(NOTEBOOK, root / "work" / NOTEBOOK.name)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(root / "config"),
               JUPYTER_RUNTIME_DIR=str(root / "runtime"))  # fmt: skip
    jupyter = Path(sys.executable).parent / "jupyter"  # the venv's (the tests run in it)
    proc = subprocess.Popen(
        [str(jupyter), "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root / 'work'}", "--LabApp.news_url="],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    origin = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):  # at most 60 s for the server to answer
            try:
                urllib.request.urlopen(f"{origin}/api/status?token={token}", timeout=1)
                break
            except OSError:
                if proc.poll() is not None:
                    pytest.fail(f"jupyter lab exited with status {proc.returncode}")
                time.sleep(0.2)
        else:
            pytest.fail("jupyter lab did not answer within 60 s")
        yield f"{origin}/lab/tree/{NOTEBOOK.name}?token={token}", origin
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.mark.browser
def test_the_explorer_works_in_jupyterlab_offline(lab, browser):
    url, origin = lab
    table = spec_table(committed_spec())
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    blocked, errors = [], []

    def route(r):  # JupyterLab's own server only: nothing else, and nothing from the internet
        if r.request.url.startswith((origin + "/", "data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(url)
        chart = page.locator(".jp-RenderedVegaCommon5").first
        chart.wait_for(timeout=120_000)
        chart.scroll_into_view_if_needed()
        page.wait_for_function(
            "() => document.querySelectorAll('.jp-RenderedVegaCommon5 g.by_mean_points_marks"
            " > path').length === 160",
            timeout=60_000,
        )
        slider = chart.locator("input[type=range]")
        for key, model in (("Home", 2), ("End", 1), ("ArrowLeft", 1), ("Home", 1)):
            chart.locator(f"input[type=radio][value='{model}']").check()
            slider.focus()
            page.keyboard.press(key)
            for _ in range(100):  # Vega redraws on its next frame: up to 10 s
                state = page.evaluate(LAB_READ_JS)
                problem = lab_mismatch(state, table, model)
                if problem is None:
                    break
                page.wait_for_timeout(100)
            assert problem is None, (key, model, problem)
        assert state["log_tau"] == -2.0  # Home: tau = 0.01, complete pooling
        assert np.ptp([i["y"] for i in state["by_mean_points"]]) < 1  # one mean (in px)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "07_explorer_lab.png"))
        assert blocked == [] and errors == []
    finally:
        context.close()
