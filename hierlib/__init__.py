"""hierlib: the helper library of a course on Bayesian hierarchical models.

Each module maps to one idea of the lecture:

- :mod:`hierlib.data` -- the HSB math scores and per-group sufficient statistics (of the
  normal models, and the cross-products of the mixed model).
- :mod:`hierlib.explore` -- looking at grouped data: group means against size with the noise
  funnel, within-group spread, standard error of a group mean.
- :mod:`hierlib.plots` -- the shared figure style.
- :mod:`hierlib.anova` -- the one-way ANOVA table and F-test (fixed school means).
- :mod:`hierlib.marginal` -- the marginal model: block compound-symmetry covariance, the
  intraclass correlation, and a seeded simulator of the two-level model.
- :mod:`hierlib.reml` -- REML/ML fits of the random-intercept model (statsmodels ``MixedLM``)
  and the closed-form profile likelihood of the between-group variance; ``fit_mixed``, random
  intercepts and slopes with predictors, certified at the maximum.
- :mod:`hierlib.covariates` -- predictors at both levels (student SES, school SES, sector):
  one OLS line per school, the contextual effect, variance explained and the conditional ICC,
  the random-slope likelihood-ratio test with its boundary correction, shrinkage of
  intercepts and slopes.
- :mod:`hierlib.priors` -- the priors of both models (the lecture's default, flat on tau,
  half-Cauchy, semi-conjugate, unequal variances), as Gamma pseudo-counts for the samplers;
  the mixed model's (flat, or normal, inverse gamma and inverse Wishart).
- :mod:`hierlib.gibbs` -- the Gibbs samplers of model 1 (three parameterisations), model
  2 (unequal variances) and the mixed model (varying intercepts and slopes with predictors,
  ``mixed_model``), and the :class:`~hierlib.gibbs.Posterior` they return. Built in
  :mod:`hierlib.samplers`: one module per model (``hierarchical_normal``,
  ``unequal_variances``, ``mixed_model``: its prepare step, its sweeps, its posterior) over
  one shared chain machinery (``_chains``: streams, threads, memory guard, warm-up,
  progress); that package says how a new model plugs in.
- :mod:`hierlib.conditionals` -- the full conditionals of both models and of the mixed model,
  derived, as the distributions the sweeps draw from.
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
- :mod:`hierlib.shrinkage` -- posterior means pulled towards the overall mean, more for small
  schools; empirical Bayes; the means at a given tau with mu integrated out.
- :mod:`hierlib.shrinkage_explorer` -- the interactive figure of notebook 07: drag tau and
  watch the school means move (Vega-Lite, built with Altair; imports Altair, which nothing
  else does), and its printable frame.
- :mod:`hierlib.ranking` -- the posterior distribution of each school's rank.
- :mod:`hierlib.unequal` -- unequal variances: the t-like marginal, shrinkage of variances
  and of means, and the predictive checks of the variances' spread with :math:`\\nu_0` held
  at chosen values (which :math:`\\nu_0` reproduces the data).
- :mod:`hierlib.comparisons` -- all pairs of schools: raw tests vs the hierarchical model
  ("avoids multiple testing").
- :mod:`hierlib.versions` -- the package versions each notebook prints last.

Below them, imported by the modules above and never importing them back: ``_validate`` (the
input checks: the bottom, importing no other hierlib module), ``_memory`` (the one limit
on what a call allocates, ``gibbs.MAX_DRAWS_BYTES``, and its check), ``_pointwise`` (each
observation's mean, variance and log density under a posterior's draws: below both the
samplers and :mod:`hierlib.predictive`), ``_psis`` (PSIS-LOO of every observation at once, as
ArviZ computes it one observation at a time), ``_arviz`` (ArviZ, imported on first use),
``_guard`` (running a student's function under a time limit with its prints hidden and the
global random state restored: below :mod:`hierlib.checks`), ``_design`` (the design of a
mixed model from formulas, and its checks: below :mod:`hierlib.reml` and :mod:`hierlib.data`).
"""

__version__ = "0.1.0"
