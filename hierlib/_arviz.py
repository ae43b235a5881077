"""ArviZ 0.23, imported without its once-a-day notice.

ArviZ 0.23 warns (``FutureWarning``, on stderr) at the first import of each calendar day on a
machine, announcing its 1.x refactor. A notebook cell that writes to stderr fails nbval, and a
fresh CI machine always sees "the first import of the day". Only that one message is silenced,
only around the import; every other warning still shows. The course pins ArviZ 0.23.x
(ArviZ 1.x needs Python 3.12), so the notice does not apply to it.
"""

import warnings

with warnings.catch_warnings():
    warnings.filterwarnings(
        "ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning
    )
    import arviz as az

__all__ = ["az"]
