"""Render the course site from the committed, executed notebooks; everything works offline.

The course's notebooks are the paired sources ``notebooks/NN_topic.py`` (lecture order = file
name order); stray files such as ``05_gibbs.nbconvert.ipynb`` are never picked up. Two
editions, each a self-contained folder (every local link resolves inside it):

- **students** (``build/site/``, the published site): for each notebook a page
  ``NN_topic.html`` and a reveal.js deck ``NN_topic.slides.html`` with no ``solution`` cells and
  no speaker notes, and ``NN_topic.ipynb``, the student notebook (solutions emptied, no
  outputs); the index also links the student edition ``student.zip`` and the PDF handouts
  (``handouts/``) when they have been built (``make all`` builds them first and copies them in);
- **instructor** (``build/instructor/``): pages with the solutions, decks with speaker notes
  (``notes`` cells; press ``s``), and the executed notebooks.

Both: cells tagged ``remove-cell`` or ``print-only`` (a printable still of an interactive
figure) dropped, ``remove-input`` cells shown without their code; decks also drop ``solution``
and ``check`` cells. reveal.js, MathJax 2, require.js, jQuery and Vega (Vega, Vega-Lite,
vega-embed) are copied from ``node_modules/`` (``npm ci`` from the committed
``package-lock.json``) into ``_static/``; a Vega-Lite output (the shrinkage explorer of 07) is
drawn from there (:func:`embed_charts`), and only pages that have one load Vega. The templates
in ``tools/templates/`` drop nbconvert's CDN-only extras (mermaid, the widget manager), so no
page asks the network for anything.

Usage: ``python tools/build_site.py [--edition students|instructor] [--out DIR]
[--editions build] [--node-modules node_modules]``.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

# tools/ is on sys.path when this runs as a script
from course_notebooks import (
    NOTEBOOKS,
    PRINT_ONLY_TAG,
    REPO,
    SOLUTION_TAG,
    clear_answer_outputs,
    drop_test_tags,
    is_speaker_note,
    notebook_title,
    notebooks_in_order,
)
from nbconvert import HTMLExporter, SlidesExporter
from student_edition import student_notebook
from traitlets.config import Config

TEMPLATES = REPO / "tools" / "templates"
STATIC = "_static"

PAGE_DROP_TAGS = ("remove-cell", PRINT_ONLY_TAG)
SLIDE_DROP_TAGS = ("solution", "check", "remove-cell", PRINT_ONLY_TAG)
HIDE_INPUT_TAGS = ("remove-input",)

MATHJAX_URL = f"{STATIC}/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
REQUIRE_URL = f"{STATIC}/requirejs/require.js"
JQUERY_URL = f"{STATIC}/jquery/dist/jquery.min.js"
REVEAL_PREFIX = f"{STATIC}/reveal.js"

# (npm package, paths inside it to copy). MathJax is 73 MB whole; the CommonHTML output with
# the TeX fonts as woff, the TeX input and the extensions are all the pages use (7 MB).
# The browser test fails if a page asks for a file left out here.
ASSETS: dict[str, tuple[str, ...]] = {
    # only the white theme: the others @import web fonts from Google
    "reveal.js": (
        "dist/reveal.js",
        "dist/reveal.css",
        "dist/reset.css",
        "dist/theme/white.css",
        "dist/theme/fonts/source-sans-pro",
        "plugin/notes/notes.js",
        "LICENSE",
    ),
    "mathjax": (
        "MathJax.js",
        "LICENSE",
        "config/TeX-AMS_CHTML-full.js",
        "config/Safe.js",
        "extensions",
        "jax/input/TeX",
        "jax/element",
        "jax/output/CommonHTML",
        "fonts/HTML-CSS/TeX/woff",
        "localization/en",
    ),
    "requirejs": ("require.js",),
    "jquery": ("dist/jquery.min.js", "LICENSE.txt"),
    # the interactive figures (Vega-Lite outputs): 0.8 MB, loaded only by pages that have one
    "vega": ("build/vega.min.js",),
    "vega-lite": ("build/vega-lite.min.js", "LICENSE"),
    "vega-embed": ("build/vega-embed.min.js", "LICENSE"),
}

# --------------------------------------------------------------------------- interactive figures
# A notebook output of this MIME type (hierlib.shrinkage_explorer) is a Vega-Lite specification:
# JupyterLab draws it with its own Vega; a page or deck gets a <div> and a script that draws it
# with Vega, Vega-Lite and vega-embed from _static/. Their UMD builds register as AMD modules
# when require.js is on the page (every page and deck loads it), so they are loaded through
# require.js rather than with <script> tags (which would fail with "mismatched anonymous
# define"). The views are kept in window.courseCharts[id], for scripts and the browser tests.
VEGALITE_MIME = "application/vnd.vegalite.v5+json"
VEGA_MODULES = {
    "vega": f"{STATIC}/vega/build/vega.min",
    "vega-lite": f"{STATIC}/vega-lite/build/vega-lite.min",
    "vega-embed": f"{STATIC}/vega-embed/build/vega-embed.min",
}
CHART_HTML = """<style>
.course-chart {{ font-size: 15px; line-height: 1.4; }}
.course-chart .vega-bind {{ margin: 0.3em 0; }}
.course-chart .vega-bind input[type=range] {{ width: 22em; vertical-align: middle; }}
</style>
<div class="course-chart" id="{id}"></div>
<script type="application/json" id="{id}-spec">{spec}</script>
<script>
(function () {{
  var id = "{id}", el = document.getElementById(id);
  var spec = JSON.parse(document.getElementById(id + "-spec").textContent);
  function failed(err) {{
    el.textContent = "The interactive figure could not be drawn: " + err;
    throw err;
  }}
  require.config({{paths: {paths}}});
  require(["vega-embed"], function (vegaEmbed) {{
    vegaEmbed(el, spec, {{actions: false, renderer: "svg"}}).then(function (result) {{
      (window.courseCharts = window.courseCharts || {{}})[id] = result.view;
    }}, failed);
  }}, failed);
}})();
</script>"""


def chart_html(spec: dict, chart_id: str) -> str:
    """The HTML that draws the Vega-Lite ``spec`` in a page or deck (:data:`CHART_HTML`)."""
    text = json.dumps(spec, sort_keys=True, ensure_ascii=False).replace("</", "<\\/")
    return CHART_HTML.format(id=chart_id, spec=text, paths=json.dumps(VEGA_MODULES))


def embed_charts(nb: nbformat.NotebookNode, stem: str) -> int:
    """Replace every Vega-Lite output of ``nb`` by :func:`chart_html` in place (ids
    ``chart-<stem>-<k>``, numbered in order: the same on every build); return how many."""
    k = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            spec = out.get("data", {}).get(VEGALITE_MIME)
            if spec is not None:
                k += 1
                out.data = {"text/html": chart_html(spec, f"chart-{stem}-{k}")}
    return k


@dataclass(frozen=True)
class Edition:
    """Who a rendered site is for: which cells its pages and decks leave out."""

    name: str
    page_drop: tuple[str, ...]
    slide_drop: tuple[str, ...]
    speaker_notes: bool


STUDENTS = Edition("students", PAGE_DROP_TAGS + ("solution",), SLIDE_DROP_TAGS, False)
INSTRUCTOR = Edition("instructor", PAGE_DROP_TAGS, SLIDE_DROP_TAGS, True)
EDITIONS = {e.name: e for e in (STUDENTS, INSTRUCTOR)}


@dataclass(frozen=True)
class Rendered:
    """One notebook's outputs in the site."""

    stem: str
    title: str
    page: str
    slides: str


def copy_assets(node_modules: Path, static: Path) -> None:
    """Copy the front-end files listed in :data:`ASSETS` from ``node_modules`` to ``static``.

    Raises
    ------
    FileNotFoundError
        If a package is missing (run ``npm ci`` first), naming the missing path.
    """
    for package, paths in ASSETS.items():
        for rel in paths:
            src = node_modules / package / rel
            dest = static / package / rel
            if not src.exists():
                raise FileNotFoundError(f"{src} is missing: run `npm ci` in {REPO} first")
            dest.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dest, dirs_exist_ok=True)
            else:
                shutil.copy2(src, dest)


def _tag_config(drop: tuple[str, ...]) -> Config:
    """nbconvert config shared by pages and slides: local assets, tag filtering."""
    c = Config()
    c.TemplateExporter.extra_template_basedirs = [str(TEMPLATES)]
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(drop)
    c.TagRemovePreprocessor.remove_input_tags = set(HIDE_INPUT_TAGS)
    c.HTMLExporter.mathjax_url = MATHJAX_URL
    c.HTMLExporter.require_js_url = REQUIRE_URL
    c.HTMLExporter.mermaid_js_url = ""
    c.HTMLExporter.widget_renderer_url = ""
    c.HTMLExporter.jupyter_widgets_base_url = ""
    return c


def page_exporter(drop: tuple[str, ...] = PAGE_DROP_TAGS) -> HTMLExporter:
    """Exporter for a notebook's HTML page (``tools/templates/course_lab``)."""
    c = _tag_config(drop)
    c.HTMLExporter.template_name = "course_lab"
    return HTMLExporter(config=c)


def slides_exporter(drop: tuple[str, ...] = SLIDE_DROP_TAGS) -> SlidesExporter:
    """Exporter for a notebook's reveal.js deck (``tools/templates/course_reveal``)."""
    c = _tag_config(drop)
    c.SlidesExporter.template_name = "course_reveal"
    c.SlidesExporter.reveal_url_prefix = REVEAL_PREFIX
    c.SlidesExporter.jquery_url = JQUERY_URL
    c.SlidesExporter.reveal_theme = "white"
    c.SlidesExporter.exclude_input_prompt = True  # "In [6]:" only costs width on a slide
    c.SlidesExporter.exclude_output_prompt = True
    c.SlidesExporter.reveal_transition = "none"
    c.SlidesExporter.reveal_number = "c/t"
    # nbconvert's scroll mode fixes tall slides at 95vh, which clips them at this slide size
    c.SlidesExporter.reveal_scroll = False
    # a slide's logical size; reveal scales it to the screen. 1100x860 holds a heading, two
    # lines of prose, one code line and a 9x5 in figure (the course style) without overflow.
    c.SlidesExporter.reveal_width = "1100"
    c.SlidesExporter.reveal_height = "860"
    return SlidesExporter(config=c)


def render(ipynb: Path, out: Path, edition: Edition = STUDENTS) -> Rendered:
    """Write ``ipynb``'s page, deck and notebook into ``out``; return their names and title.

    The notebook written next to the page is the student notebook (solutions emptied, no
    outputs) in the students' edition and the executed notebook in the instructor's.
    """
    nb = nbformat.read(ipynb, as_version=4)
    stem = ipynb.stem
    rendered = Rendered(stem, notebook_title(nb, stem), f"{stem}.html", f"{stem}.slides.html")
    if edition.speaker_notes:
        shutil.copy2(ipynb, out / ipynb.name)
    else:
        nbformat.write(student_notebook(nb), out / ipynb.name)
        nb.cells = [c for c in nb.cells if not is_speaker_note(c)]
    nb.metadata["title"] = rendered.title
    drop_test_tags(nb)
    embed_charts(nb, stem)
    exporters = (
        (page_exporter(edition.page_drop), edition.page_drop, rendered.page),
        (slides_exporter(edition.slide_drop), edition.slide_drop, rendered.slides),
    )
    for exporter, drop, name in exporters:
        shown = nb
        if SOLUTION_TAG in drop:  # no solutions, so no output they produced
            shown = copy.deepcopy(nb)
            clear_answer_outputs(shown)
        body, _ = exporter.from_notebook_node(shown, resources={"metadata": {"name": stem}})
        (out / name).write_text(body, encoding="utf-8")
    return rendered


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 46em; margin: 2em auto;
       padding: 0 1em; line-height: 1.5; color: #222; }}
li {{ margin: 0.4em 0; }}
a.deck {{ margin-left: 0.6em; font-size: 0.9em; }}
</style>
<script type="text/x-mathjax-config">
MathJax.Hub.Config({{tex2jax: {{inlineMath: [["$", "$"]], processEscapes: true}},
                    messageStyle: "none"}});
</script>
<script src="{mathjax_url}"></script>
</head>
<body>
<h1>{title}</h1>
<p>The notebooks of the course (STA 630, chapter 6: hierarchical normal models, the HSB math
scores), in lecture order. {intro}</p>
<ol>
{items}
</ol>
{extras}
</body>
</html>
"""

INTRO = {
    "students": "Each has a page to read, a slide deck and the notebook to run yourself "
    "(the exercises are left for you to solve).",
    "instructor": "Instructor edition: the pages include the exercise solutions; in a deck, "
    "press <kbd>s</kbd> for the speaker notes. Do not publish this folder.",
}


def write_index(entries: list[Rendered], out: Path, edition: Edition = STUDENTS) -> Path:
    """Write ``out/index.html`` linking every page, deck and notebook in lecture order.

    A handout ``handouts/NN_topic.pdf``, ``handouts/course.pdf`` and ``student.zip`` are
    linked where they are in ``out`` (:func:`copy_editions`), so that no link leads outside.
    """

    def link(href: str, text: str, cls: str = "deck") -> str:
        return f'<a class="{cls}" href="{href}">{text}</a>' if (out / href).is_file() else ""

    items = "\n".join(
        f'<li><a class="page" href="{e.page}">{html.escape(e.title)}</a>'
        f'<a class="deck" href="{e.slides}">[slides]</a>'
        f'<a class="deck" href="{e.stem}.ipynb">[notebook]</a>'
        + link(f"handouts/{e.stem}.pdf", "[PDF]")
        + "</li>"
        for e in entries
    )
    extras = [
        link("student.zip", "The student edition", "edition")
        + " (every notebook, the library <code>hierlib</code>, the data and the set-up"
        " instructions, in one zip)",
        link("handouts/course.pdf", "The whole course as one PDF", "edition"),
    ]
    extras = [e for e in extras if e.startswith("<a")]
    extras_html = (
        "<h2>Downloads</h2>\n<ul>\n" + "\n".join(f"<li>{e}</li>" for e in extras) + "\n</ul>"
        if extras
        else ""
    )
    title = "Bayesian hierarchical models" + (
        " (instructor edition)" if edition.speaker_notes else ""
    )
    index = out / "index.html"
    index.write_text(
        INDEX_TEMPLATE.format(
            title=title,
            intro=INTRO[edition.name],
            items=items,
            extras=extras_html,
            mathjax_url=MATHJAX_URL,
        ),
        encoding="utf-8",
    )
    return index


def copy_editions(editions_dir: Path, out: Path) -> list[Path]:
    """Copy the student edition's zip and the handouts from ``editions_dir`` into ``out``.

    Copies ``student.zip`` and ``handouts/*.pdf`` where they exist (``make all`` builds them
    before the site); returns the files copied.
    """
    copied = []
    sources = [editions_dir / "student.zip", *sorted((editions_dir / "handouts").glob("*.pdf"))]
    for src in sources:
        if src.is_file():
            dest = out / src.relative_to(editions_dir)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            copied.append(dest)
    return copied


def build(
    out: Path,
    node_modules: Path,
    notebooks: list[Path],
    edition: Edition = STUDENTS,
    editions_dir: Path | None = None,
) -> list[Rendered]:
    """Render the whole site of ``edition`` into a fresh ``out``.

    With ``editions_dir`` (students' edition only), copy the built student edition and
    handouts from there into the site first (:func:`copy_editions`).
    """
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN_topic.ipynb found in {NOTEBOOKS}")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    copy_assets(node_modules, out / STATIC)
    if editions_dir is not None and not edition.speaker_notes:
        copy_editions(Path(editions_dir), out)
    entries = []
    for ipynb in notebooks:
        print(f"rendering {ipynb.name} ({edition.name})", flush=True)
        entries.append(render(ipynb, out, edition))
    write_index(entries, out, edition)
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=sorted(EDITIONS), default=STUDENTS.name)
    parser.add_argument("--out", type=Path, default=None, help="default: build/site (students)")
    parser.add_argument(
        "--editions", type=Path, default=REPO / "build", help="student.zip and handouts/ from"
    )
    parser.add_argument("--node-modules", type=Path, default=REPO / "node_modules")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    args = parser.parse_args(argv)
    edition = EDITIONS[args.edition]
    args.out = args.out or REPO / "build" / ("site" if edition is STUDENTS else edition.name)
    entries = build(
        args.out,
        args.node_modules,
        args.notebooks or notebooks_in_order(),
        edition,
        args.editions,
    )
    print(f"wrote {args.out / 'index.html'} ({len(entries)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
