# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown] slideshow={"slide_type": "slide"}
# # 04 · Classical estimation: REML
#
# **What you will learn**
#
# - why the variance components are estimated by REML rather than plain maximum likelihood
#   (ML underestimates them);
# - how to fit the random-intercept model with statsmodels' `MixedLM`, and that it reproduces
#   the lecture's R `lme()` output: $\hat\mu = 12.637$, $\hat\tau = 2.935$, $\hat\sigma = 6.257$;
# - the REML profile log-likelihood of $\tau^2$ and a likelihood-based interval for it;
# - the predicted school effects (BLUPs) and how they pull small schools towards the mean --
#   the first sight of shrinkage.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Lecture slides "Parameter Estimation: Classical estimation" (three slides)
# and the `random.effects()` slide. The lecture fits `lme(MathAch ~ 1, random = ~ 1 | School)`
# in R; we get the same numbers in Python. The last slide (BLUPs) is the bridge to the
# Bayesian half: the frequentist "prediction" of a random effect is already a shrunken mean.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hierlib.data import group_stats, load_hsb
from hierlib.marginal import simulate_two_level
from hierlib.plots import use_course_style
from hierlib.reml import (
    fit_random_intercept,
    maximize_profile,
    plot_profile,
    profile_interval,
)
from hierlib.shrinkage import plot_shrinkage

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Estimating $\mu$, $\tau^2$, $\sigma^2$
#
# The marginal model (notebook 03): $Y_{ij} \sim \mathcal N(\mu, \tau^2 + \sigma^2)$,
# covariance $\tau^2$ within a school, 0 across.
#
# - **ML**: maximise the marginal likelihood over $(\mu, \tau^2, \sigma^2)$ together.
# - **REML** (residual / restricted ML): fit the fixed effect $\mu$ by (generalised) least
#   squares, then estimate the variance components by ML **on the residuals** -- the
#   $n - 1$ contrasts whose distribution does not involve $\mu$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why REML: ML variances are too small
#
# The simplest case: one sample, $\hat\sigma^2_{ML} = \frac1n\sum (y_i - \bar y)^2$ has mean
# $\frac{n-1}{n}\sigma^2$, because $\bar y$ was fitted to the same data. REML divides by
# $n - 1$. With groups, ML ignores that $\mu$ was estimated from only $m$ school means, and
# $\hat\tau^2_{ML}$ is too small by roughly the factor $(m-1)/m$ -- serious with few schools.
#
# Simulate 200 data sets of **8 schools of 20 students** at the HSB values
# ($\tau^2 = 8.61$, $\sigma^2 = 39.15$) and estimate $\tau^2$ both ways:

# %%
estimates = []
for _ in range(200):
    sim = group_stats(*simulate_two_level(rng, [20] * 8, 12.64, 8.61, 39.15))
    estimates.append([maximize_profile(sim, m)[0] for m in ("ML", "REML")])
estimates = pd.DataFrame(estimates, columns=["ML", "REML"])

# %% tags=["nbval-check-output"]
print("true tau2 = 8.61; mean of the estimates over 200 data sets:")
print(estimates.mean().round(2).to_string())

# %% tags=["check"]
mean_est = estimates.mean()
assert mean_est["ML"] < mean_est["REML"] < 8.61 + 1.0  # ML biased down; REML much less
assert (estimates["ML"] <= estimates["REML"] + 1e-8).all()

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: with 8 schools ML averages about 7.4 against the true 8.61 (roughly
# 7/8 of it), REML about 8.7. REML is not exactly unbiased either (estimates are cut off at
# 0), but the bias shrinks from "one school's worth" to little. With 160 schools (HSB) the
# two differ by under 1%, as the next slide shows; REML is still the default in R and
# statsmodels.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The fit: REML and ML side by side
#
# `hierlib.reml.fit_random_intercept` wraps statsmodels `MixedLM` (the model
# `mathach ~ 1` with a random intercept per school) and returns the numbers we need:

# %% tags=["nbval-check-output"]
hsb = load_hsb()
fit = fit_random_intercept(hsb["mathach"], hsb["school"], method="REML")
fit_ml = fit_random_intercept(hsb["mathach"], hsb["school"], method="ML")
side_by_side = pd.concat([fit.summary(), fit_ml.summary()], axis=1)
print(side_by_side.round(4).to_string())
print(f"converged: REML {fit.converged}, ML {fit_ml.converged}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# ML's $\hat\tau^2$ is 8.55, REML's 8.61: smaller, as promised, but with 160 schools only by
# 0.7%. $\hat\sigma^2$ (estimated from 7025 within-school degrees of freedom) is the same.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Next to the lecture's R output
#
# ```
# Linear mixed-effects model fit by REML
# Random effects:
#  Formula: ~1 | School
#         (Intercept) Residual
# StdDev:    2.934966 6.256862
# Fixed effects: MathAch ~ 1
#                Value Std.Error   DF  t-value p-value
# (Intercept) 12.63697 0.2443936 7025 51.70747       0
# ```

# %% [markdown] slideshow={"slide_type": "subslide"}
# Our fit against those numbers:

# %% tags=["nbval-check-output"]
lecture = pd.Series(
    {"mu_hat": 12.63697, "se_mu": 0.2443936, "tau": 2.934966, "sigma": 6.256862},
    name="R lme (lecture)",
)
ours = pd.Series({k: getattr(fit, k) for k in lecture.index}, name="MixedLM")
comparison = pd.concat([lecture, ours], axis=1)
comparison["rel. diff"] = (ours - lecture) / lecture
print(comparison.to_string(formatters={"rel. diff": "{:.0e}".format}))
print(f"t = {fit.mu_hat / fit.se_mu:.2f}; tau2 = {fit.tau2:.2f}, sigma2 = {fit.sigma2:.2f}")

# %% tags=["check"]
assert (comparison["rel. diff"].abs() < 1e-3).all()
assert fit.converged and fit.messages == ()
assert (round(fit.tau2, 2), round(fit.sigma2, 2), round(fit.icc, 2)) == (8.61, 39.15, 0.18)

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: $\hat\mu = 12.637$ (SE 0.244), $\hat\tau = 2.935$ ($\hat\tau^2 = 8.61$),
# $\hat\sigma = 6.257$ ($\hat\sigma^2 = 39.15$), ICC 0.18. Python and R agree to about
# 5e-5 relative: two optimisers stopping at slightly different points of a flat maximum.
# The slide's "$\hat\sigma^2 = 39.14$" should read 39.15 ($6.256862^2 = 39.148$); 39.14 is
# the ANOVA's within mean square.
# Note $\hat\mu = 12.637$ is not the student average 12.748: GLS weights schools by
# $n_j/(\sigma^2 + n_j\tau^2)$, so big schools count less per student.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## statsmodels' own summary
#
# The same fit as statsmodels prints it ("Group Var" is $\hat\tau^2$, "Scale" is
# $\hat\sigma^2$):

# %%
print(fit.result.summary())

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the summary against R's: statsmodels reports the variance $\hat\tau^2 = 8.615$ where
# R reports the standard deviation $2.935 = \sqrt{8.615}$, and "Scale" 39.148 where R
# reports $6.257 = \sqrt{39.148}$. statsmodels' z = 51.704 against R's t = 51.707: its
# Std.Err. comes from the Hessian (0.24441), R's from the GLS formula (0.24440, which
# `fit.se_mu` reproduces); with 7025 df the t and z tails coincide.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The REML profile log-likelihood of $\tau^2$
#
# For each $\tau^2$: the REML log-likelihood maximised over $\sigma^2$ ($\mu$ at its GLS
# value), from the 160 school summaries. Right: 8 random HSB schools.

# %% slideshow={"slide_type": "skip"}
stats = group_stats(hsb["mathach"], hsb["school"])
few = rng.choice(stats.labels, size=8, replace=False)  # 8 schools at random
small = hsb[hsb["school"].isin(few)]
stats_small = group_stats(small["mathach"], small["school"])

# %%
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
plot_profile(stats, (4.0, 14.0), ax=axes[0], title="160 schools: REML and ML agree")
plot_profile(stats_small, (0.0, 30.0), ax=axes[1], title="8 schools: ML peaks lower")
fig.tight_layout()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The maximum, and a 95% interval for $\tau^2$
#
# The closed-form maximiser against MixedLM, and the $\tau^2$ values within 1.92 of the
# maximum (the dotted line):

# %% tags=["nbval-check-output"]
tau2_hat, sigma2_hat, ll_max = maximize_profile(stats, "REML")
lo, hi = profile_interval(stats, 0.95)
print(f"closed-form REML maximum: tau2 = {tau2_hat:.3f}, sigma2 = {sigma2_hat:.3f}")
print(f"log-likelihood {ll_max:.3f} (MixedLM {fit.loglik:.3f})")
print(f"95% profile interval for tau2: {lo:.2f} to {hi:.2f}")
print(f"                  and for tau:  {lo**0.5:.2f} to {hi**0.5:.2f}")

# %% tags=["check"]
assert abs(tau2_hat - fit.tau2) < 1e-3 * fit.tau2  # the closed form agrees with MixedLM
assert abs(ll_max - fit.loglik) < 1e-3

# %% [markdown] slideshow={"slide_type": "notes"}
# The curve is the REML log-likelihood minus its maximum; the dotted line at -1.92
# ($\chi^2_1$ 95% point / 2) cuts out the profile interval, $\tau^2 \in [6.78, 11.08]$,
# i.e. $\tau \in [2.60, 3.33]$: asymmetric, as variance intervals should be. The closed-form
# maximiser matches MixedLM to 1e-4 and the log-likelihood to 1e-6. On the right, with 8
# schools the likelihood is flat and skewed, and ML's maximum is visibly below REML's.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Random effects: BLUPs against raw school means
#
# The lecture's `random.effects(fit.lme)` are best linear unbiased predictions (BLUPs):
# the raw deviation times a factor below 1 that grows with $n_j$,
# $\ \hat b_j = \frac{n_j\hat\tau^2}{\hat\sigma^2 + n_j\hat\tau^2}\,(\bar y_j - \hat\mu)$.

# %% slideshow={"slide_type": "skip"}
predicted = fit.mu_hat + fit.random_effects
labels = {
    "xlabel": r"school sample mean $\bar y_j$ (points)",
    "ylabel": r"REML prediction $\hat\mu + \hat b_j$ (points)",
    "title": r"Predicted school means are pulled towards $\hat\mu$",
}

# %%
ax = plot_shrinkage(stats.ybar, predicted, stats.n, pooled=fit.mu_hat, **labels)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The lecture's five schools

# %% tags=["nbval-check-output"]
lecture_re = pd.Series(  # R: random.effects(fit.lme)
    [-6.10301, -7.35291, -6.23522, -7.40282, -6.13418],
    index=["8367", "8854", "4458", "5762", "6990"],
)
schools = stats.to_frame().loc[lecture_re.index]
table = pd.DataFrame(
    {
        "n_j": schools["n"],
        "ybar_j - mu_hat": schools["ybar"] - fit.mu_hat,
        "BLUP b_j": fit.random_effects[lecture_re.index],
        "R (lecture)": lecture_re,
    }
)
print(table.round(3).to_string())

# %% tags=["check"]
assert (table["BLUP b_j"] - table["R (lecture)"]).abs().max() < 1e-3

# %% [markdown] slideshow={"slide_type": "fragment"}
# - School 8367 (14 students) is 8.09 points below $\hat\mu$; its BLUP is -6.10: pulled
#   2 points (25%) back towards the mean.
# - School 8854 (32 students, the lowest mean) moves from -8.40 to -7.35, only 12%: more
#   students, more trust in its own mean.
# - The Bayesian half (from notebook 05) gets the same shrinkage, with uncertainty about
#   $\mu$, $\tau^2$ and $\sigma^2$ carried along (notebook 07).

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: the five schools of the lecture's `random.effects()` output: 8367
# -6.103, 8854 -7.353, 4458 -6.235, 5762 -7.403, 6990 -6.134, matched to 1e-4. The lecture
# says frequentist estimation of random effects "is not immediate": a BLUP is a
# prediction of a random quantity, with the variance components plugged in as if known.
# Ask: what would the factor be for a school of 1 student? ($8.61/(39.15 + 8.61) = 0.18$,
# the ICC!)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. Compute school 8367's BLUP by hand from the formula above, using `stats.to_frame()` and
#    `fit.tau2`, `fit.sigma2`, `fit.mu_hat`. Check it against `fit.random_effects["8367"]`.
# 2. Redo the ML-vs-REML simulation with 4, 16 and 64 schools of 20 students (60 data
#    sets each). How does the ratio of the mean ML to the mean REML estimate change with
#    the number of schools?
# 3. Compare the REML and ML predictions: which schools' random effects differ most
#    between the two fits, and why are the differences so small here?

# %% tags=["solution"]
row = stats.to_frame().loc["8367"]
factor = row["n"] * fit.tau2 / (fit.sigma2 + row["n"] * fit.tau2)
by_hand = factor * (row["ybar"] - fit.mu_hat)
print(f"factor = {factor:.3f}, BLUP by hand = {by_hand:.5f}")
print(f"MixedLM: {fit.random_effects['8367']:.5f}")

# %% tags=["solution"]
for m in (4, 16, 64):
    est = []
    for _ in range(60):
        sim = group_stats(*simulate_two_level(rng, [20] * m, 12.64, 8.61, 39.15))
        est.append([maximize_profile(sim, k)[0] for k in ("ML", "REML")])
    ml, reml = np.mean(est, axis=0)
    print(f"m = {m:2d}: mean ML {ml:5.2f}, REML {reml:5.2f}, ratio {ml / reml:.3f}")

# %% tags=["solution"]
diff = (fit.random_effects - fit_ml.random_effects).sort_values()
print(diff.round(4).iloc[[0, 1, -2, -1]].to_string())
# The largest differences are for the most extreme, smallest schools; with 160 schools
# tau2 moves by only 0.7%, so each shrinkage factor moves by less than that.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
