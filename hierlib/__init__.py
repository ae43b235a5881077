"""hierlib: the helper library of a course on Bayesian hierarchical models.

Each module maps to one idea of the lecture:

- :mod:`hierlib.data` -- the HSB math scores and per-group sufficient statistics.
- :mod:`hierlib.explore` -- looking at grouped data: group means against size with the noise
  funnel, within-group spread, standard error of a group mean.
- :mod:`hierlib.plots` -- the shared figure style.
- :mod:`hierlib.anova` -- the one-way ANOVA table and F-test (fixed school means).
- :mod:`hierlib.marginal` -- the marginal model: block compound-symmetry covariance, the
  intraclass correlation, and a seeded simulator of the two-level model.
- :mod:`hierlib.reml` -- REML/ML fits of the random-intercept model (statsmodels ``MixedLM``)
  and the closed-form profile likelihood of the between-group variance.
- :mod:`hierlib.diagnostics` -- MCMC diagnostics (ArviZ): summary table with ESS and R-hat,
  ESS per second, labelled trace/rank/autocorrelation plots.
- :mod:`hierlib.textbook` -- the Gibbs sampler of model 1 as twenty readable lines of numpy
  (the same posterior as the compiled :mod:`hierlib.gibbs`).
- :mod:`hierlib.checks` -- checking a student's Gibbs update against its exact full
  conditional and a whole sampler against an exact posterior, with a hint in plain words for
  the classic slips.
- :mod:`hierlib.grade` -- grading submitted notebooks of exercise 05 (``make grade``).
- :mod:`hierlib.sbc` -- simulation-based calibration of the samplers (rank uniformity).
- :mod:`hierlib.exact` -- exact posteriors: :math:`p(\\tau^2 \\mid y)` on a grid, complete and
  no pooling.
- :mod:`hierlib.predictive` -- posterior predictive checks, prediction of a new student or
  school, PSIS-LOO and leave-one-school-out.
- :mod:`hierlib.propriety` -- why the reference prior on tau^2 gives an improper posterior.
- :mod:`hierlib.posterior` -- reading a posterior: sd and ICC draws, credible intervals,
  Bayes vs REML and prior-sensitivity tables, checking a derived full conditional.
- :mod:`hierlib.unequal` -- unequal variances: the t-like marginal, shrinkage of variances
  and of means.
- :mod:`hierlib.comparisons` -- all pairs of schools: raw tests vs the hierarchical model
  ("avoids multiple testing").
"""

__version__ = "0.1.0"
