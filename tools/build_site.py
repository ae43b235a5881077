"""Render ``build/site/`` from the committed, executed notebooks; everything works offline.

For each ``notebooks/NN_topic.ipynb`` (lecture order = file name order, found by glob):

- ``NN_topic.html``: the page (cells tagged ``remove-cell`` dropped, ``remove-input`` cells
  shown without their code);
- ``NN_topic.slides.html``: a reveal.js deck (``solution``, ``check`` and ``remove-cell``
  cells dropped, ``remove-input`` code hidden, ``notes`` cells as speaker notes: press ``s``);

plus ``index.html`` linking both in lecture order. reveal.js, MathJax 2, require.js and jQuery
are copied from ``node_modules/`` (``npm ci`` from the committed ``package-lock.json``) into
``build/site/_static/``; the templates in ``tools/templates/`` drop nbconvert's CDN-only
extras (mermaid, the widget manager), so no page asks the network for anything.

Usage: ``python tools/build_site.py [--out build/site] [--node-modules node_modules]``.
"""

from __future__ import annotations

import argparse
import html
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from traitlets.config import Config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"
TEMPLATES = REPO / "tools" / "templates"
STATIC = "_static"

PAGE_DROP_TAGS = ("remove-cell",)
SLIDE_DROP_TAGS = ("solution", "check", "remove-cell")
HIDE_INPUT_TAGS = ("remove-input",)
NBVAL_MARKER = "# NBVAL_CHECK_OUTPUT"

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
}


@dataclass(frozen=True)
class Rendered:
    """One notebook's outputs in the site."""

    stem: str
    title: str
    page: str
    slides: str


def notebooks_in_order(folder: Path = NOTEBOOKS) -> list[Path]:
    """The executed notebooks ``NN_topic.ipynb`` in ``folder``, in lecture order."""
    return sorted(folder.glob("[0-9][0-9]_*.ipynb"))


def notebook_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The first level-1 markdown heading of ``nb`` (``# 01 · The data``), else ``fallback``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*$", cell.source, flags=re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


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


def page_exporter() -> HTMLExporter:
    """Exporter for a notebook's HTML page (``tools/templates/course_lab``)."""
    c = _tag_config(PAGE_DROP_TAGS)
    c.HTMLExporter.template_name = "course_lab"
    return HTMLExporter(config=c)


def slides_exporter() -> SlidesExporter:
    """Exporter for a notebook's reveal.js deck (``tools/templates/course_reveal``)."""
    c = _tag_config(SLIDE_DROP_TAGS)
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


def strip_test_markers(nb: nbformat.NotebookNode) -> None:
    """Remove the ``# NBVAL_CHECK_OUTPUT`` first lines (for nbval, not for readers) in place."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(NBVAL_MARKER):
            cell.source = cell.source[len(NBVAL_MARKER) :].lstrip("\n")


def render(ipynb: Path, out: Path) -> Rendered:
    """Write ``ipynb``'s page and deck into ``out``; return their names and the title."""
    nb = nbformat.read(ipynb, as_version=4)
    stem = ipynb.stem
    rendered = Rendered(stem, notebook_title(nb, stem), f"{stem}.html", f"{stem}.slides.html")
    nb.metadata["title"] = rendered.title
    strip_test_markers(nb)
    for exporter, name in ((page_exporter(), rendered.page), (slides_exporter(), rendered.slides)):
        body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": stem}})
        (out / name).write_text(body, encoding="utf-8")
    return rendered


INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>Bayesian hierarchical models: course notebooks</title>
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
<h1>Bayesian hierarchical models</h1>
<p>The notebooks of the course (STA 630, chapter 6: hierarchical normal models, the HSB math
scores), in lecture order. Each has a page to read and a slide deck (press <kbd>s</kbd> in a
deck for the speaker notes).</p>
<ol>
{items}
</ol>
<h2>Editions</h2>
<p>Built next to this site by <code>make all</code> (<code>tools/editions.py</code>):</p>
<ul>
<li>Instructors: the <em>slides</em> above, with speaker notes (<kbd>s</kbd>).</li>
<li>Students: <a class="edition" href="../student.zip">the student edition</a> (notebooks with
the solutions left out and no outputs, with <code>hierlib</code> and the data; also unzipped in
<a class="edition" href="../student/">build/student/</a>).</li>
<li>Print: <a class="edition" href="../handouts/course.pdf">the whole course as one PDF</a>;
each notebook's handout is its <em>PDF</em> link above.</li>
</ul>
</body>
</html>
"""


def write_index(entries: list[Rendered], out: Path) -> Path:
    """Write ``out/index.html`` linking every page and deck in the given (lecture) order."""
    items = "\n".join(
        f'<li><a class="page" href="{e.page}">{html.escape(e.title)}</a>'
        f'<a class="deck" href="{e.slides}">[slides]</a>'
        f'<a class="deck" href="../handouts/{e.stem}.pdf">[PDF]</a></li>'
        for e in entries
    )
    index = out / "index.html"
    index.write_text(INDEX_TEMPLATE.format(items=items, mathjax_url=MATHJAX_URL), encoding="utf-8")
    return index


def build(out: Path, node_modules: Path, notebooks: list[Path]) -> list[Rendered]:
    """Render the whole site into a fresh ``out``."""
    if not notebooks:
        raise FileNotFoundError(f"no notebooks NN_topic.ipynb found in {NOTEBOOKS}")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    copy_assets(node_modules, out / STATIC)
    entries = []
    for ipynb in notebooks:
        print(f"rendering {ipynb.name}", flush=True)
        entries.append(render(ipynb, out))
    write_index(entries, out)
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "site")
    parser.add_argument("--node-modules", type=Path, default=REPO / "node_modules")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook")
    args = parser.parse_args(argv)
    entries = build(args.out, args.node_modules, args.notebooks or notebooks_in_order())
    print(f"wrote {args.out / 'index.html'} ({len(entries)} notebooks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
