"""hierlib: the helper library of a course on Bayesian hierarchical models.

Each module maps to one idea of the lecture:

- :mod:`hierlib.data` -- the HSB math scores and per-group sufficient statistics.
"""

__version__ = "0.1.0"
