"""Checking the instructor decks: does every slide fit a 1280x720 screen?

The reveal.js decks of ``build/instructor/`` (``tools/build_site.py --edition instructor``;
their speaker notes are the notebook cells of slide type ``notes``, press ``S`` in a deck) are
opened offline in Debian's Chromium (:mod:`chromium`); every slide is shown with all its
fragments and measured (:func:`deck_slides`), and a slide taller than the window is reported
(:func:`overflowing`). :func:`speaker_view` opens a deck's speaker view and reads its notes.

Usage: ``python tools/decks.py [--site build/instructor] [--shots DIR]`` (exit status 1 if a
slide is too tall; ``--shots`` saves a screenshot of every slide).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# tools/ is on sys.path when this runs as a script
from chromium import offline_browser, offline_page, open_offline
from course_notebooks import BUILD

DECK_VIEWPORT = (1280, 720)

# Visit every slide (vertical ones too) with transitions off and measure the laid-out slide in
# screen pixels: reveal.js scales the logical slide to the window, and a slide whose content is
# taller than the window is cut off at the bottom (or pushed above the top).
# The decks load reveal.js through require.js (no global): take it from require's registry.
REVEAL_JS = """window.Reveal || require(Object.keys(require.s.contexts._.defined)
  .find((k) => k.endsWith('dist/reveal.js')))"""
SLIDE_INDICES_JS = (
    "() => { const Reveal = " + REVEAL_JS + ";"
    " Reveal.configure({transition: 'none', backgroundTransition: 'none'});"
    " return Reveal.getSlides().map((s) => { const i = Reveal.getIndices(s);"
    " return [i.h, i.v || 0]; }); }"
)
MEASURE_SLIDE_JS = (
    "async ([h, v]) => { const Reveal = " + REVEAL_JS + ";"
    """
  Reveal.slide(h, v);
  while (Reveal.nextFragment()) { /* show every fragment: the slide's final state */ }
  const s = Reveal.getCurrentSlide();
  // the deck re-renders a slide's math on arrival: wait until every formula shows again
  const shown = (el) => !el.closest('aside.notes');
  const hiddenMath = () => {
    const scripts = [...s.querySelectorAll('script[type^="math/tex"]')].filter(shown);
    const frames = [...s.querySelectorAll('.MathJax_CHTML')].filter(shown)
      .filter((m) => m.getBoundingClientRect().width > 0
                     && getComputedStyle(m).visibility !== 'hidden');
    return scripts.length - frames.length;
  };
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 10));
    if (hiddenMath() === 0 && MathJax.Hub.queue.pending === 0) break;
  }
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const scale = Reveal.getScale();
  const r = s.getBoundingClientRect();
  const head = s.querySelector('h1, h2, h3, h4');
  const text = (head ? head.innerText : s.innerText).replace(/[\\s\u00b6]+/g, ' ').trim();
  // code, tables, figures or formulas wider than the window (cut off, or scrolled in a box)
  const wide = [...s.querySelectorAll('pre, table, img, .MathJax_CHTML')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                   || (e.tagName === 'PRE' && e.scrollWidth > e.clientWidth + 1)).length;
  return {h: h, v: v, heading: text.slice(0, 80), top: Math.round(r.top),
          bottom: Math.round(r.top + s.scrollHeight * scale),
          height: Math.round(s.scrollHeight * scale),
          notes: !!s.querySelector('aside.notes'), math_hidden: hiddenMath(), wide: wide};
}"""
)


def deck_slides(page, deck: Path, shots: Path | None = None) -> list[dict]:
    """Open ``deck`` offline and measure every slide at the page's viewport.

    Returns one dict per slide: ``h``, ``v`` (reveal indices), ``heading``, ``top``/``bottom``
    (screen px of the slide's content), ``height``, ``notes`` (has speaker notes),
    ``math_hidden`` (formulas not shown; 0 once typeset) and ``wide`` (code boxes, tables or
    figures wider than the window). With ``shots``, also save a
    screenshot of every slide there as ``<deck>-<h>-<v>.png``.
    """
    open_offline(page, deck)
    page.wait_for_selector(".reveal.ready", state="attached", timeout=30_000)
    stem = Path(deck).name.removesuffix(".slides.html")
    if shots is not None:
        shots.mkdir(parents=True, exist_ok=True)
    slides = []
    for h, v in page.evaluate(SLIDE_INDICES_JS):
        slides.append(page.evaluate(MEASURE_SLIDE_JS, [h, v]))
        if shots is not None:
            page.screenshot(path=str(shots / f"{stem}-{h:02d}-{v:02d}.png"))
    return slides


def overflowing(slides: list[dict], height: int = DECK_VIEWPORT[1]) -> list[dict]:
    """The slides whose content runs below the window or above its top."""
    return [s for s in slides if s["bottom"] > height + 1 or s["top"] < -1]


SPEAKER_NOTES_JS = """() => {
  const n = document.querySelector('.speaker-controls-notes .value');
  const shown = (e) => e.getBoundingClientRect().width > 0;
  return {text: n.innerText,
          math: [...n.querySelectorAll('math')].filter(shown).length,
          mathjax: n.querySelectorAll('.MathJax_CHTML, .MJX_Assistive_MathML, script').length};
}"""


def speaker_view(page) -> dict:
    """Open the speaker view (key ``s``) of the deck shown in ``page``; describe its notes.

    Returns ``text`` (the notes as shown), ``math`` (formulas shown, as MathML) and
    ``mathjax`` (MathJax output or TeX scripts left in the notes: 0 when each formula shows
    once).
    """
    with page.context.expect_page(timeout=15_000) as popup_info:
        page.keyboard.press("s")
    popup = popup_info.value
    try:
        popup.wait_for_function(
            "() => { const n = document.querySelector('.speaker-controls-notes .value');"
            " return n && n.textContent.trim().length > 0; }",
            timeout=15_000,
        )
        return popup.evaluate(SPEAKER_NOTES_JS)
    finally:
        popup.close()


def speaker_view_notes(page) -> str:
    """Open the speaker view (key ``s``) of the deck shown in ``page``; return its notes text."""
    return speaker_view(page)["text"]


def contact_sheet(pngs: list[Path], out: Path, cols: int = 4) -> Path:
    """Tile screenshots into one image (for looking at a whole deck at once)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = max(1, -(-len(pngs) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.4 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, png in zip(axes.flat, pngs, strict=False):
        ax.imshow(plt.imread(png))
        ax.set_title(png.stem, fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def check_decks(site: Path, shots: Path | None = None, browser=None) -> dict[str, list[dict]]:
    """Measure every deck of ``site`` at 1280x720 offline; return ``{deck name: slides}``.

    Raises ``ValueError`` if there is no deck or a deck fetched anything from the network.
    """
    decks = sorted(Path(site).glob("[0-9][0-9]_*.slides.html"))
    if not decks:
        raise ValueError(f"no decks NN_topic.slides.html in {site}: run `make site` first")
    if browser is None:
        with offline_browser() as browser:
            return check_decks(site, shots, browser)
    page, blocked = offline_page(browser, *DECK_VIEWPORT)
    try:
        result = {}
        for deck in decks:
            result[deck.name] = deck_slides(page, deck, shots)
            if blocked:
                raise ValueError(f"{deck.name} fetched from the network: {blocked[:3]}")
        return result
    finally:
        page.context.close()


def report_decks(decks: dict[str, list[dict]]) -> int:
    """Print each deck's slides, notes and overflowing slides; return 1 if any is too tall."""
    bad = 0
    for name, slides in decks.items():
        over = overflowing(slides)
        bad += len(over)
        n_notes = sum(s["notes"] for s in slides)
        print(f"{name}: {len(slides)} slides, {n_notes} with speaker notes, {len(over)} too tall")
        for s in over:
            print(
                f"  TOO TALL slide {s['h']}.{s['v']} '{s['heading']}': {s['height']} px "
                f"(bottom at {s['bottom']} px in a {DECK_VIEWPORT[1]} px window)"
            )
        for s in slides:
            if s["wide"] or s["math_hidden"]:
                print(
                    f"  note: slide {s['h']}.{s['v']} '{s['heading']}': {s['wide']} wide "
                    f"code/table/figure(s), {s['math_hidden']} formula(s) not shown"
                )
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=BUILD / "instructor", help="the built decks")
    parser.add_argument("--shots", type=Path, default=None, help="save slide screenshots here")
    args = parser.parse_args(argv)
    return report_decks(check_decks(args.site, args.shots))


if __name__ == "__main__":
    sys.exit(main())
