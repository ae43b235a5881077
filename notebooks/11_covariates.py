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
# # 11 · Covariates: who scores higher, and why
#
# **What you will learn**
#
# - one least-squares line of math on SES per school, and why the small schools' slopes
#   cannot be trusted on their own;
# - group-centring: splitting SES into a within-school part and a between-school part, and
#   the **contextual effect** of a school's SES;
# - **means as outcomes**: how much of the between-school variance $\tau^2$ school SES and
#   sector explain, and the intraclass correlation that is left;
# - **intercepts and slopes as outcomes**: Catholic schools have higher means and flatter SES
#   slopes; testing a random slope, with the correction its boundary needs;
# - the BLUPs of intercepts *and* slopes: shrinkage, now in two dimensions.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Beyond the slides: the lecture says "additional covariates are collected on
# each student"; HSB was collected to ask what this notebook asks. It follows Raudenbush &
# Bryk, *Hierarchical Linear Models* (2nd ed.), chapter 4 (also Hoff ch. 11). Everything is
# classical (REML, as R's `lme`); the next notebook fits the same models by Gibbs sampling.
# Every estimate here agrees with R's nlme to about 1e-5 or better.

# %% slideshow={"slide_type": "skip"}
import numpy as np
import pandas as pd

from hierlib import covariates
from hierlib.data import load_hsb_covariates
from hierlib.plots import use_course_style
from hierlib.reml import fit_mixed, fixed_effects_cov

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data: SES and sector
#
# Each student has a socio-economic status `ses` (a composite of parents' education,
# occupation and income, standardised in the national HS&B survey: one unit is about one SD
# of SES among US high-school students; in these 160 schools the SD of `ses` is 0.78, and
# the school means vary with SD 0.41). Each school is **Public** (90) or
# **Catholic** (70). From `ses` we build `mses`, the school's mean SES, and
# `cses = ses - mses`, SES relative to the student's own school.

# %% tags=["nbval-check-output"]
hsb = load_hsb_covariates()
schools = hsb.groupby("school").agg(sector=("sector", "first"), mses=("mses", "first"))
columns = ["school", "mathach", "ses", "sector", "mses", "cses"]
print(hsb[columns].head(3).round(3).to_string())
table = hsb.groupby("sector", observed=True).agg(
    schools=("school", "nunique"),
    students=("school", "size"),
    mean_math=("mathach", "mean"),
    mean_ses=("ses", "mean"),
)
print(table.round(2).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# Catholic schools score 2.8 points higher on average, but their students also have higher
# SES. How much of the gap is SES? That is the question of this notebook.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## One line per school
#
# No pooling: fit $\text{math}_{ij} = a_j + b_j\,\text{ses}_{ij}$ by least squares in each
# school separately (`covariates.ols_by_group`), and draw the 160 lines.

# %%
ols_ses = covariates.ols_by_group(hsb["mathach"], hsb["ses"], hsb["school"])
title = "160 schools, 160 lines: the Catholic ones are flatter"
ax = covariates.plot_school_lines(ols_ses, hue=schools["sector"], title=title)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How noisy are the slopes?
#
# A school's slope is estimated from the spread of SES *within* it, 14 to 67 students:

# %%
ax = covariates.plot_slopes_by_size(ols_ses)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How much of the spread is noise?
#
# The variance of the OLS slopes is the variance of the true slopes *plus* their sampling
# variance, $SE_j^2$ on average:

# %% tags=["nbval-check-output"]
spread = ols_ses["slope"].var()
noise = (ols_ses["se_slope"] ** 2).mean()
print(f"variance of the 160 OLS slopes: {spread:.2f}  (SD {np.sqrt(spread):.2f})")
print(f"average squared standard error: {noise:.2f}")
left = spread - noise
print(f"what is left for real differences: {left:.2f}  (SD {np.sqrt(left):.2f})")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Most of the spread of the OLS slopes is noise: less than a fifth of their variance is left
# once the sampling variance is taken off. The slopes need pooling even more than the means.

# %% [markdown] slideshow={"slide_type": "notes"}
# The moment estimate "variance of the slopes minus mean squared SE" is crude (it can go
# negative), but it previews the random-slope SD the mixed model finds later: 0.68 here,
# 0.83 by REML (`fit_rc` in "Shrinkage of intercepts and slopes" prints it). Point at the
# widest bars: the smallest schools.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A random intercept and SES
#
# $\text{math}_{ij} = \gamma_0 + \gamma_1\,\text{ses}_{ij} + u_j + \varepsilon_{ij}$,
# $u_j \sim \mathcal N(0, \tau^2)$, $\varepsilon_{ij} \sim \mathcal N(0, \sigma^2)$, fitted
# by REML with `hierlib.reml.fit_mixed` (statsmodels' `MixedLM`, started and checked at the
# maximum; its formulas are R's):

# %% tags=["nbval-check-output"]
fit_null = fit_mixed("mathach ~ 1", hsb, groups="school")
fit_ses = fit_mixed("mathach ~ ses", hsb, groups="school")


def variances(fit):
    """tau (SD of the random intercepts) and sigma (residual SD) of a fit."""
    tau, sigma = np.sqrt(fit.cov_re.iloc[0, 0]), np.sqrt(fit.scale)
    return f"tau = {tau:.3f}, sigma = {sigma:.3f}"


print(f"mathach ~ 1:   mu = {fit_null.fe_params['Intercept']:.3f}; {variances(fit_null)}")
print(f"mathach ~ ses: slope = {fit_ses.fe_params['ses']:.3f}; {variances(fit_ses)}")

# %% tags=["check"]
# R, nlme 3.1.162: lme(mathach ~ ses, random = ~ 1 | school)
assert abs(fit_ses.fe_params["ses"] / 2.390196 - 1) < 1e-3
assert abs(np.sqrt(fit_ses.cov_re.iloc[0, 0]) / 2.183615 - 1) < 5e-3
assert abs(np.sqrt(fit_ses.scale) / 6.085589 - 1) < 1e-3

# %% [markdown] slideshow={"slide_type": "fragment"}
# SES explains part of the differences between schools ($\hat\tau$ falls from 2.93 to
# 2.18). But the slope 2.39 mixes two different comparisons.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Group-centring: within and between
#
# Write $\text{ses}_{ij} = \overline{\text{ses}}_j + (\text{ses}_{ij} -
# \overline{\text{ses}}_j)$ = `mses` + `cses`, and give each part its own slope:
#
# $$\text{math}_{ij} = \gamma_0 + \gamma_w\,\text{cses}_{ij} + \gamma_b\,\text{mses}_j + u_j
#   + \varepsilon_{ij}.$$
#
# - $\gamma_w$, **within**: two students *of the same school* whose SES differs by 1;
# - $\gamma_b$, **between**: two *schools* whose mean SES differs by 1.
#
# `cses` is SES measured from the student's own school mean: it compares students within
# a school.

# %% tags=["nbval-check-output"]
fit_centred = fit_mixed("mathach ~ cses + mses", hsb, groups="school")
fe = fit_centred.fe_params
print(f"within-school slope  (cses): {fe['cses']:.3f}")
print(f"between-school slope (mses): {fe['mses']:.3f}")
print(variances(fit_centred))

# %% tags=["check"]
# R: lme(mathach ~ cses + mses, random = ~ 1 | school)
assert abs(fe["cses"] / 2.191172 - 1) < 1e-3
assert abs(fe["mses"] / 5.866174 - 1) < 1e-3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The two slopes in one picture

# %%
ols_cses = covariates.ols_by_group(hsb["mathach"], hsb["cses"], hsb["school"])
ax = covariates.plot_within_between(
    ols_cses, schools["mses"], fe["cses"], (fe["Intercept"], fe["mses"])
)

# %% [markdown] slideshow={"slide_type": "notes"}
# Each dot is a school (its mean score at its mean SES); the red line runs through them
# with slope 5.87. The short green segments through each dot have the within-school slope
# 2.19. The single slope of `mathach ~ ses`, 2.39, is a weighted blend of the two, which is
# why it describes neither comparison.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The contextual effect
#
# $\gamma_b - \gamma_w$: the expected difference between two students **with the same SES**
# in schools whose mean SES differs by 1. Its standard error comes from the covariance of
# the two estimates ($V_{bb} + V_{ww} - 2V_{bw}$), `covariates.contextual_effect`:

# %% tags=["nbval-check-output"]
context = covariates.contextual_effect(fit_centred, between="mses", within="cses")
lo, hi = context.interval(0.95)
print(f"contextual effect: {context.estimate:.3f} (SE {context.se:.3f})")
print(f"95% interval: {lo:.2f} to {hi:.2f}")
fit_context = fit_mixed("mathach ~ ses + mses", hsb, groups="school")
b_mses = fit_context.fe_params["mses"]
se_mses = np.sqrt(fixed_effects_cov(fit_context).loc["mses", "mses"])
print(f"mses slope of mathach ~ ses + mses: {b_mses:.3f} (SE {se_mses:.3f})")

# %% tags=["check"]
# R: lme(mathach ~ ses + mses, random = ~ 1 | school): mses 3.675002, SE 0.3776705
assert abs(context.estimate / 3.675002 - 1) < 1e-3
assert abs(context.se / 0.3776705 - 1) < 1e-3
assert abs(fit_context.fe_params["mses"] - context.estimate) < 1e-6

# %% [markdown] slideshow={"slide_type": "fragment"}
# In words: of two students with the same own SES, the one in a school whose mean SES is one
# unit higher (a wide gap: the school means have SD 0.41) scores about 3.7 points more on
# average, **at the same own SES**. School SES goes with achievement beyond what it says
# about the student; these are observational data, so this is an association, not what
# moving a student to a richer school would do.

# %% [markdown] slideshow={"slide_type": "notes"}
# In `mathach ~ ses + mses`, the coefficient of `mses` *is* the contextual effect (holding
# `ses` fixed while `mses` moves is exactly the contextual comparison). The two fits are one
# model in two parameterisations: same likelihood, and R's standard error 0.378 either way.
# The standard errors are the GLS ones R reports (`fixed_effects_cov`); statsmodels'
# `summary()` prints slightly different ones (observed information of all parameters).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Means as outcomes
#
# Model the school means with school-level predictors:
# $\text{math}_{ij} = \gamma_{00} + \gamma_{01}\,\text{mses}_j + \gamma_{02}\,\text{Catholic}_j
# + u_{j} + \varepsilon_{ij}$, where $\text{Catholic}_j$ is 1 for a Catholic school and 0
# for a Public one (`sector[T.Catholic]` in the output).

# %% tags=["nbval-check-output"]
fit_means = fit_mixed("mathach ~ mses + sector", hsb, groups="school")
print(fit_means.fe_params.round(3).to_string())
print(variances(fit_means))

# %% tags=["check"]
# R: lme(mathach ~ mses + sector, random = ~ 1 | school)
ref = {"Intercept": 12.128236, "mses": 5.332838, "sector[T.Catholic]": 1.225400}
assert all(abs(fit_means.fe_params[k] / v - 1) < 1e-3 for k, v in ref.items())
assert abs(np.sqrt(fit_means.cov_re.iloc[0, 0]) / 1.521180 - 1) < 5e-3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How much of $\tau^2$ is explained?
#
# Explained (R&B): $(\hat\tau^2_{\text{null}} - \hat\tau^2)/\hat\tau^2_{\text{null}}$, the
# null model's against this one's; likewise for $\sigma^2$. **Conditional ICC**
# $\hat\tau^2/(\hat\tau^2 + \hat\sigma^2)$: two students of one school *with the same predictors*.

# %% tags=["nbval-check-output"]
models = {
    "mathach ~ 1": fit_null,
    "mathach ~ ses": fit_ses,
    "mathach ~ cses + mses": fit_centred,
    "mathach ~ mses + sector": fit_means,
}
explained = covariates.variance_explained
rows = {
    name: {
        "tau2": fit.cov_re.iloc[0, 0],
        "sigma2": fit.scale,
        "% tau2 explained": 100 * explained(fit_null, fit, "between"),
        "% sigma2 explained": 100 * explained(fit_null, fit, "within"),
        "ICC": covariates.conditional_icc(fit),
    }
    for name, fit in models.items()
}
print(pd.DataFrame(rows).T.round(3).to_string())

# %% tags=["check"]
assert round(rows["mathach ~ mses + sector"]["% tau2 explained"]) == 73
assert round(rows["mathach ~ 1"]["ICC"], 2) == 0.18

# %% [markdown] slideshow={"slide_type": "fragment"}
# School SES and sector explain 73% of the between-school variance; the ICC falls from 0.18
# to 0.06. A student's own SES explains 5% of the within-school variance $\sigma^2$. Raw
# `ses` explains 45% of $\tau^2$ because it carries school SES; `cses + mses` 69%, all
# of it school SES (`cses` averages 0 in every school).

# %% [markdown] slideshow={"slide_type": "notes"}
# "Explained" compares two estimates, not shares of a fixed total, so it can be negative:
# the school-level predictors of the last row leave $\hat\sigma^2$ slightly *larger*
# (39.161 against 39.148). R&B warn that adding a student-level predictor can likewise raise
# $\hat\tau^2$. Say this before students over-read the column.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Intercepts and slopes as outcomes
#
# Now each school has its own intercept **and** SES slope, both modelled by school SES and
# sector:
#
# $$\beta_{0j} = \gamma_{00} + \gamma_{01}\,\text{mses}_j + \gamma_{02}\,\text{Catholic}_j +
#   u_{0j}, \qquad \beta_{1j} = \gamma_{10} + \gamma_{11}\,\text{mses}_j +
#   \gamma_{12}\,\text{Catholic}_j + u_{1j},$$
#
# $\text{math}_{ij} = \beta_{0j} + \beta_{1j}\,\text{cses}_{ij} + \varepsilon_{ij}$, with
# $(u_{0j}, u_{1j})$ bivariate normal: variances $\tau_{00}, \tau_{11}$, covariance
# $\tau_{01}$. As a formula: `mathach ~ mses * cses + sector * cses`, `re_formula="~cses"`.

# %% tags=["nbval-check-output"]
formula = "mathach ~ mses * cses + sector * cses"
fit_full = fit_mixed(formula, hsb, groups="school", re_formula="~cses")
se = np.sqrt(np.diag(fixed_effects_cov(fit_full)))
estimates = pd.DataFrame({"estimate": fit_full.fe_params, "SE": se})
print(estimates.round(3).to_string())

# %% tags=["check"]
# R: lme(mathach ~ mses * cses + sector * cses, random = ~ cses | school)
ref = {
    "Intercept": 12.127931,
    "mses": 5.332874,
    "cses": 2.945040,
    "sector[T.Catholic]": 1.226579,
    "mses:cses": 1.039230,
    "sector[T.Catholic]:cses": -1.642674,
}
assert all(abs(fit_full.fe_params[k] / v - 1) < 1e-3 for k, v in ref.items())

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What the fixed effects say
#
# - Catholic schools: 1.23 points higher at the same school SES, and an SES slope **1.64
#   flatter** (2.95 in a Public school of average SES, 1.30 in a Catholic one);
# - richer schools: higher means (5.33 per unit of mean SES) and *steeper* slopes (+1.04).
#
# Drawn for schools one unit of mean SES apart (`mses` -0.5 and +0.5: about the 10th and
# 90th percentiles of the 160 school means), the fixed part only, over the `cses` of 98% of
# the students (-1.5 to 1.5):

# %% slideshow={"slide_type": "subslide"}
sectors = pd.Categorical(["Public", "Catholic"] * 2, categories=["Public", "Catholic"])
kinds = pd.DataFrame({"sector": sectors, "mses": [-0.5, -0.5, 0.5, 0.5]})
title = "Catholic schools: higher, and flatter in SES"
ax = covariates.plot_fixed_lines(fit_full, "cses", kinds, x_range=(-1.5, 1.5), title=title)

# %% [markdown] slideshow={"slide_type": "notes"}
# Solid lines: schools of low mean SES; dashed: high. The lines are the fixed part of the
# model only: no school's own deviation $(u_{0j}, u_{1j})$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The random intercepts and slopes
#
# What school SES and sector leave over: how much do the intercepts still vary, and do the
# slopes still vary at all?

# %% tags=["nbval-check-output"]
cov = fit_full.cov_re.to_numpy()
sd = np.sqrt(np.diag(cov))
corr, sigma = cov[0, 1] / (sd[0] * sd[1]), np.sqrt(fit_full.scale)
print(f"tau00 = {cov[0, 0]:.3f} (SD {sd[0]:.3f})")
print(f"tau11 = {cov[1, 1]:.3f} (SD {sd[1]:.3f})")
print(f"tau01 = {cov[0, 1]:.3f} (correlation {corr:.2f})")
print(f"sigma = {sigma:.3f}")

# %% tags=["check"]
# R: StdDev 1.542582 (Intercept), 0.318169 (cses), Corr 0.391, Residual 6.059798
assert abs(sd[0] / 1.542582 - 1) < 5e-3 and abs(sd[1] / 0.318169 - 1) < 5e-3
assert abs(np.sqrt(fit_full.scale) / 6.059798 - 1) < 1e-3

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Testing a random slope
#
# Likelihood ratio: fit the model with and without the random slope (same fixed effects, so
# REML likelihoods compare), $LR = 2(\ell_{\text{slope}} - \ell_{\text{no slope}})$.
#
# **The boundary correction, said plainly.** "No random slope" means $\tau_{11} = 0$ (so
# $\tau_{01} = 0$), and a variance cannot go below 0: the null sits on the edge of what is
# possible. Near it the covariance may move either way, the variance only up: $LR$ gets a
# $\chi^2_1$ from the covariance always, and a second from the variance only when the data
# push it up, half the time under the null (the other half $\hat\tau_{11}$ stops at 0).
# So the null distribution is the 50:50 mixture
# $\tfrac12\chi^2_1 + \tfrac12\chi^2_2$, and
# $p = \tfrac12 P(\chi^2_1 > LR) + \tfrac12 P(\chi^2_2 > LR)$, smaller than the naive
# $\chi^2_2$ p-value.

# %% tags=["nbval-check-output"]
fit_rc = fit_mixed("mathach ~ cses", hsb, groups="school", re_formula="~cses")
fit_rc0 = fit_mixed("mathach ~ cses", hsb, groups="school")
fit_full0 = fit_mixed(formula, hsb, groups="school")
pairs = {
    "no school predictors": (fit_rc0, fit_rc),
    "with mses and sector": (fit_full0, fit_full),
}
for name, (without, with_slope) in pairs.items():
    test = covariates.lr_test_random_effect(without, with_slope)
    p_naive, p_mix = test.p_value_naive, test.p_value
    print(f"{name}: LR = {test.statistic:.2f}, p naive {p_naive:.4f}, mixture {p_mix:.4f}")

# %% tags=["check"]
# R: anova(...) gives L.Ratio 9.761657 (p 0.0076) and 1.124098 (p 0.5700), naive chi2(2)
t_rc = covariates.lr_test_random_effect(fit_rc0, fit_rc)
assert abs(t_rc.statistic - 9.761657) < 1e-3
assert abs(t_rc.p_value_naive - 0.007591) < 1e-4

# %% [markdown] slideshow={"slide_type": "fragment"}
# Without school predictors, slopes clearly vary ($p = 0.005$). Once school SES and sector
# are in the model, the data show no evidence of slope variance left over ($p = 0.43$):
# the estimate (SD 0.32) is small and this test has little power against it, so "small",
# not "zero". The two school variables account for much of how the slopes differ.

# %% [markdown] slideshow={"slide_type": "notes"}
# R's `anova()` prints the naive $\chi^2_2$ p-values (0.0076 and 0.57). The mixture is
# Self & Liang (1987), Stram & Lee (1994); on data simulated without a random slope, the
# statistics of hierlib's fits follow it. R&B's own test (a chi-square on the OLS
# slopes) reaches the same conclusion. Keeping the random slope anyway is common: it costs
# little and guards the fixed effects' standard errors.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Shrinkage of intercepts and slopes
#
# The random-coefficients model (`mathach ~ cses`, random intercept and slope) predicts each
# school's line: fixed effects plus its BLUPs $(\hat u_{0j}, \hat u_{1j})$. Against the
# school's own OLS line (on `cses`):

# %%
blup_lines = covariates.fitted_lines(fit_rc, "cses")
pooled = (fit_rc.fe_params["Intercept"], fit_rc.fe_params["cses"])
axes = covariates.plot_coefficient_shrinkage(ols_cses, blup_lines, pooled=pooled)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How much each is pulled in

# %% tags=["nbval-check-output"]
both = ["intercept", "slope"]
model_sd = pd.Series(np.sqrt(np.diag(fit_rc.cov_re)), index=both)
sds = pd.DataFrame({"OLS": ols_cses[both].std(), "BLUP": blup_lines[both].std()})
sds["model (REML)"] = model_sd
print("SD across the 160 schools:")
print(sds.round(2).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# The intercepts (school means) move a little; the slopes are pulled in hard, to a spread
# of 0.43 from 1.63, and the small schools the most: a slope is estimated from the spread
# of SES within one school, so it is far noisier than a mean. The model's own SD of the
# slopes (0.83) lies between the two: the OLS slopes add their noise to it, and the BLUPs,
# pulled towards the common line, spread less than the true slopes do. Next,
# [12 · hierarchical regression](12_hierarchical_regression.ipynb)
# ([page](12_hierarchical_regression.html)) fits these models by Gibbs sampling.

# %% [markdown] slideshow={"slide_type": "notes"}
# Same logic as notebook 07's shrinkage of means: the BLUP is a precision-weighted average
# of the school's own OLS line and the line the model predicts for it, now for two
# coefficients at once (through the 2x2 covariance). With school predictors, each school is
# pulled towards *its own* predicted line (sector, mses), not towards one common line.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Derive.** Show that $\sum_i \text{cses}_{ij} = 0$ in every school, and conclude that
#    `cses` is exactly uncorrelated (over all students) with anything that is constant
#    within schools: `mses`, `sector`, the random intercept $u_{0j}$. Why does that make
#    $\gamma_w$ a pure within-school slope, and why is `ses` not uncorrelated with $u_{0j}$?
#    Check both correlations numerically with the BLUPs of `fit_ses` (its
#    `random_effects`: one Series per school, the intercept's BLUP first).
# 2. **Predict, then fit.** Drop school SES from the slopes-as-outcomes model:
#    `mathach ~ sector * cses` with `re_formula="~cses"`. Catholic schools have higher mean
#    SES (first table), and richer schools have steeper slopes. Before fitting, write down
#    whether the coefficient of `sector[T.Catholic]:cses` will be larger or smaller in size
#    than in the full model, and why. Then fit it.
# 3. **Interpret.** Take a Public and a Catholic school, both with `mses = 0`. From
#    `fit_full.fe_params`, compute the expected score of a student at `cses = -1` and at
#    `cses = +1` in each. For which students is the Catholic advantage largest? Say in one
#    sentence what the flatter slope means for students within a Catholic school.

# %% [markdown] tags=["solution"]
# 1. $\sum_i \text{cses}_{ij} = \sum_i \text{ses}_{ij} - n_j\overline{\text{ses}}_j = 0$.
#    For any $c_j$ constant within schools,
#    $\sum_{ij} \text{cses}_{ij} c_j = \sum_j c_j \sum_i \text{cses}_{ij} = 0$, and `cses`
#    has mean 0, so its sample covariance with $c_j$ is exactly 0. Hence the coefficient of
#    `cses` is estimated from within-school comparisons only, whatever the school effects
#    are. `ses` = `mses` + `cses` carries `mses`, which differs between schools and is
#    correlated with $u_{0j}$ when `mses` is not in the model (richer schools score higher).

# %% tags=["solution"]
u0 = pd.Series({k: v.iloc[0] for k, v in fit_ses.random_effects.items()})
u0_student = hsb["school"].map(u0)
print(f"corr(cses, u0) = {np.corrcoef(hsb['cses'], u0_student)[0, 1]:.1e}")
print(f"corr(ses,  u0) = {np.corrcoef(hsb['ses'], u0_student)[0, 1]:.3f}")

# %% tags=["solution"]
fit_no_mses = fit_mixed("mathach ~ sector * cses", hsb, "school", re_formula="~cses")
print(fit_no_mses.fe_params.round(3).to_string())
# Smaller in size (-1.34 against -1.64): Catholic schools are richer on average, and richer
# schools have steeper slopes; without mses:cses, the sector term absorbs part of that
# steepening, so the Catholic slope looks less flat.

# %% tags=["solution"]
fe_full = fit_full.fe_params
for sector_name, catholic in (("Public", 0.0), ("Catholic", 1.0)):
    for c in (-1.0, 1.0):
        level = fe_full["Intercept"] + fe_full["sector[T.Catholic]"] * catholic
        slope = fe_full["cses"] + fe_full["sector[T.Catholic]:cses"] * catholic
        score = level + slope * c
        print(f"{sector_name:8s} cses = {c:+.0f}: {score:.2f}")
# The Catholic advantage is 1.23 - 1.64 * cses: about 2.9 points for a student one unit of
# SES below the school's mean, zero at cses = 0.75, and 0.4 points the other way (Public
# higher) one unit above. Within a Catholic school, a student's SES goes with a smaller
# difference in score: the SES gap is narrower (an association; sector is not assigned at
# random).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
