"""ArviZ 0.23, imported on first use and without its once-a-day notice.

``az`` stands in for the ``arviz`` module: the first attribute read (``az.summary``,
``az.InferenceData``, ...) imports ArviZ, so importing a hierlib module costs nothing until a
diagnostic is asked for (ArviZ alone takes about 3 s to import).

ArviZ 0.23 warns (``FutureWarning``, on stderr) at the first import of each calendar day on a
machine, announcing its 1.x refactor: a red box under a notebook cell, shown on every fresh
machine, about a version the course does not use. Only that one message is silenced,
only around the import; every other warning still shows. The course pins ArviZ 0.23.x
(ArviZ 1.x needs Python 3.12), so the notice does not apply to it.

ArviZ's diagnostics (ESS, R-hat) run their variances through numba when it is installed,
compiled in memory (no cache) at the first call in each process: about 0.6 s here, spent in
every notebook, on arrays of a few thousand draws that numpy handles in milliseconds. Loading
ArviZ through :func:`load` switches that off (``arviz.Numba.disable_numba()``; the numbers
are the same, to 1e-15; ``arviz.Numba.enable_numba()`` switches it back on). One ufunc ArviZ
compiles at import itself (its ECDF bands' binomial pmf, 0.3 s a process); :func:`load`
turns numba's on-disk cache on for that import (:func:`_cached_vectorize`), so it is compiled
once (``make setup``) and loaded after.
"""

import contextlib
import functools
import warnings
from types import ModuleType


@functools.cache
def load() -> ModuleType:
    """Import ArviZ (once; later calls return the loaded module)."""
    with warnings.catch_warnings(), _cached_vectorize():
        warnings.filterwarnings(
            "ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning
        )
        import arviz

    arviz.Numba.disable_numba()
    return arviz


@contextlib.contextmanager
def _cached_vectorize():
    """``numba.vectorize`` with numba's on-disk cache on, while ArviZ is imported: ArviZ's
    ECDF bands compile a ufunc (``@vectorize`` with a signature, so at import, uncached),
    0.3 s in every process that imports ArviZ, used only by ECDF plots. Cached, the first
    import compiles and stores it (``make setup`` does) and later ones load it."""
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; ArviZ works without it
        yield
        return
    plain = numba.vectorize

    def vectorize(*args, **kwargs):
        kwargs.setdefault("cache", True)
        return plain(*args, **kwargs)

    numba.vectorize = vectorize
    try:
        yield
    finally:
        numba.vectorize = plain


class _Lazy:
    """``arviz``, imported by :func:`load` when one of its attributes is first read."""

    def __getattr__(self, name: str):
        return getattr(load(), name)

    def __repr__(self) -> str:
        return "<arviz, imported on first use>"


az = _Lazy()

__all__ = ["az", "load"]
