"""Driving Debian's headless Chromium offline (playwright), for the handouts and the tests.

:func:`offline_browser` starts Debian's ``chromium`` (never a downloaded one; ``make
chromium`` installs it); :func:`offline_page` opens a page whose every request other than
``file://`` and ``data:`` is aborted and recorded; :func:`open_offline` loads a file and waits
until MathJax has typeset it. The handouts (:mod:`handouts`) print with it, the deck checks
(:mod:`decks`) measure with it, and the browser tests use it.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def chromium_path() -> str | None:
    """Debian's Chromium (``/usr/bin/chromium``) or ``None`` where it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def offline_browser():
    """Headless Chromium (Debian's, never a downloaded one) driven by playwright."""
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    if exe is None:
        raise ValueError(
            "Debian's chromium is not installed: `make chromium` installs it "
            "(apt-get install chromium, as root or with sudo)"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def offline_page(browser, width: int = 1280, height: int = 720):
    """A page whose every request other than ``file://`` and ``data:`` is aborted.

    Returns ``(page, blocked)``: ``blocked`` collects the URLs the page tried to fetch.
    """
    context = browser.new_context(viewport={"width": width, "height": height})
    blocked: list[str] = []

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:", "blob:", "about:")):
            r.continue_()
        else:
            blocked.append(url)
            r.abort()

    context.route("**/*", route)
    return context.new_page(), blocked


# Resolves once MathJax has typeset the page (its hub queue runs callbacks after the startup
# typeset), or with "timeout" so that a broken page fails instead of hanging.
WAIT_MATHJAX_JS = """(ms) => new Promise((resolve) => {
  if (!window.MathJax || !window.MathJax.Hub) { resolve("no MathJax"); return; }
  setTimeout(() => resolve("timeout"), ms);
  MathJax.Hub.Queue(() => resolve("done"));
})"""

MATH_STATE_JS = """() => ({
  typeset: document.querySelectorAll('.MathJax_CHTML, .MathJax, .MathJax_Display').length,
  errors: document.querySelectorAll('.MathJax_Error, merror').length,
})"""


def open_offline(page, path: Path, timeout_ms: int = 30_000) -> dict:
    """Open ``path`` as ``file://``, wait for MathJax and fonts; return the math state."""
    page.goto(Path(path).resolve().as_uri(), wait_until="load", timeout=timeout_ms)
    page.wait_for_function("() => !!window.MathJax && !!window.MathJax.Hub", timeout=timeout_ms)
    status = page.evaluate(WAIT_MATHJAX_JS, timeout_ms)
    if status != "done":
        raise ValueError(f"{path}: MathJax did not finish typesetting ({status})")
    page.evaluate("() => document.fonts.ready.then(() => true)")
    return page.evaluate(MATH_STATE_JS)
