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
# # 02 · One-way ANOVA: are the 160 schools alike?
#
# **What you will learn**
#
# - the classical one-way ANOVA model, with each school's mean as a fixed effect;
# - how the ANOVA table is built from per-school sufficient statistics, and that it matches
#   R's `anova(aov(y ~ school))` and statsmodels' `anova_lm`;
# - what the F-test says about the HSB schools (F = 10.43 on 159 and 7025 df);
# - why its answer leaves us with two extremes, and the case for a model in between.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. This is the lecture's "Classical estimation" block, first half. The point
# is not the F-test itself (everyone has seen one) but where it leaves us: either 160
# separate school means or one mean for all. The random-effects model of notebooks 03-04
# and the Bayesian model of 05 onwards are the compromise. Budget 10 minutes.

# %% slideshow={"slide_type": "skip"}
import numpy as np

from hierlib.anova import anova_from_stats, plot_f_test, plot_two_extremes
from hierlib.data import group_stats, load_hsb
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The fixed-effects model
#
# $$Y_{ij} = \theta_j + \varepsilon_{ij}, \qquad
#   \varepsilon_{ij} \overset{iid}{\sim} \mathcal N(0, \sigma^2),
#   \qquad i = 1, \dots, n_j,\ j = 1, \dots, 160.$$
#
# - $\theta_j$, the mean of school $j$, is a **fixed effect**: 160 unknown constants.
# - $\sigma^2$: how much a student deviates from the school mean.
# - The question: $H_0: \theta_1 = \theta_2 = \dots = \theta_{160}$ against
#   $H_1$: the means are not all equal.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The ANOVA table, from the formulas
#
# | source | df | SS | MS |
# |---|---|---|---|
# | between schools | $m - 1$ | $\sum_j n_j(\bar Y_j - \bar Y)^2$ | $SS_B/(m-1)$ |
# | within schools | $n - m$ | $\sum_j\sum_i (Y_{ij} - \bar Y_j)^2$ | $SS_W/(n-m)$ |
# | total | $n - 1$ | $\sum_j\sum_i (Y_{ij} - \bar Y)^2$ | $SS_T/(n-1)$ |
#
# and $F = MS_B / MS_W$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# First straight from the student rows, one sum per line:

# %%
hsb = load_hsb()
y = hsb["mathach"]
school_mean = y.groupby(hsb["school"]).transform("mean")  # ybar_j on each row
ss_between = ((school_mean - y.mean()) ** 2).sum()
ss_within = ((y - school_mean) ** 2).sum()
ss_total = ((y - y.mean()) ** 2).sum()
print(f"SS between = {ss_between:,.0f}, within = {ss_within:,.0f}, total = {ss_total:,.0f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# `hierlib.anova` computes the same table from the 160 per-school summaries
# $(n_j, \bar y_j, SS_j)$ alone, laid out like the slide:

# %% tags=["nbval-check-output"]
stats = group_stats(hsb["mathach"], hsb["school"])
anova = anova_from_stats(stats)
print(anova.to_text())

# %% tags=["check"]
# The lecture's R output: school 159 64907 408 10.429 <2.2e-16; Residuals 7025 274970 39
t = anova.table
assert (t.loc["between groups", "df"], t.loc["within groups", "df"]) == (159, 7025)
assert round(t.loc["between groups", "SS"]) == 64907
assert round(t.loc["within groups", "SS"], -1) == 274970
assert round(t.loc["between groups", "MS"], 1) == 408.2
assert round(t.loc["within groups", "MS"], 2) == 39.14
assert round(anova.f, 2) == 10.43
assert anova.p_value < 2.2e-16
assert np.isclose(ss_between, anova.ss_between) and np.isclose(ss_within, anova.ss_within)
assert np.isclose(ss_total, t.loc["total", "SS"])

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: between schools 159 df, SS 64,907, MS 408.2; within schools 7025 df,
# SS 274,970, MS 39.14; total 7184 df, SS 339,877. F = 408.2 / 39.14 = 10.43. The two sums of
# squares add up to the total. The within mean square 39.14 is the pooled estimate of
# $\sigma^2$; REML in notebook 04 gives 39.15.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Next to R and statsmodels
#
# The lecture's R output (`anova(aov(y ~ school))`):
#
# ```
#             Df Sum Sq Mean Sq F value    Pr(>F)
# school     159  64907     408  10.429 < 2.2e-16 ***
# Residuals 7025 274970      39
# ```
#
# statsmodels fits the 160-mean regression and gives the same table:

# %% tags=["nbval-check-output"]
import statsmodels.api as sm
import statsmodels.formula.api as smf

ols = smf.ols("mathach ~ C(school)", data=hsb).fit()
reference = sm.stats.anova_lm(ols)
print(reference.round({"sum_sq": 0, "mean_sq": 2, "F": 3}).to_string(na_rep=""))

# %% tags=["check"]
np.testing.assert_allclose(t["SS"].iloc[:2], reference["sum_sq"], rtol=1e-10)
np.testing.assert_allclose(anova.f, reference["F"].iloc[0], rtol=1e-10)
np.testing.assert_allclose(anova.p_value, reference["PR(>F)"].iloc[0], rtol=1e-8)

# %% [markdown] slideshow={"slide_type": "notes"}
# R prints the p-value as "< 2.2e-16" because that is machine epsilon for doubles, not
# because the p-value is that size: the actual tail probability is about 1e-217. Both R and
# statsmodels regress on 159 school dummies; `hierlib` needs only 160 means, sizes and
# within sums of squares.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The F-test
#
# Under $H_0$, both mean squares estimate $\sigma^2$, so $F = MS_B/MS_W$ is near 1 and
# follows an $F_{159,\,7025}$ distribution.

# %%
ax = plot_f_test(anova)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The decision, and a typo on the slide
#
# The slide says: reject $H_0$ "if the ratio of between to within mean
# squares is significantly **< 1**". It should read **> 1**: differences between schools
# inflate $MS_B$, never $MS_W$, so evidence against equal means is a *large* F.

# %% tags=["nbval-check-output"]
print(anova.decision(alpha=0.05))

# %% [markdown] slideshow={"slide_type": "notes"}
# Under $H_0$ the 95th percentile of $F_{159,7025}$ is 1.19; we observe 10.43, nine times
# the typical value. The p-value is about $10^{-217}$. The rule on the slide: p <= 0.05 ->
# separate estimates $\hat\theta_j = \bar Y_j$; p > 0.05 -> pool, $\hat\theta_j = \bar Y$.
# Point out the "< 1" typo explicitly and ask why it must be "> 1".

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Two extremes
#
# The F-test picks one of two estimates for every school:
#
# - **reject $H_0$** (as here): 160 separate means $\hat\theta_j = \bar y_j$ -- each school on
#   its own, however few students it has;
# - **do not reject**: one pooled mean $\hat\theta_j = \bar y = 12.75$ for all.

# %%
ax = plot_two_extremes(stats)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## A model in between
#
# Neither is right. The schools do differ (F = 10.4), but the mean of a school of 14 students
# carries a $\pm 3.3$-point 95% interval: part of its distance from 12.75 is luck. A model in
# between should **pull each school mean towards the overall mean, more for small schools**.
# That is the random-effects model (notebooks 03-04) and the hierarchical model (05 onwards).

# %% [markdown] slideshow={"slide_type": "notes"}
# The lecture: "So we either treat all the means as equal or all different. Two extremes."
# Separate means: 160 + 1 parameters, noisy for small schools (overfit). Pooled mean: 2
# parameters, ignores real differences (underfit). The random-effects model has 3
# parameters ($\mu$, $\tau^2$, $\sigma^2$) and still predicts every school's mean.
# Also: 160 separate means invite 160 x 159 / 2 = 12,720 pairwise comparisons; the
# hierarchical model avoids that multiple-testing problem (lecture summary).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. The ANOVA mean squares also estimate the variance components: $E[MS_W] = \sigma^2$ and
#    $E[MS_B] = \sigma^2 + n_0\tau^2$ with $n_0 = (n - \sum_j n_j^2/n)/(m - 1)$. Compute the
#    moment estimate $\hat\tau^2 = (MS_B - MS_W)/n_0$ from the table above. How close is it to
#    the REML value 8.61 of the lecture?
# 2. Simulate 200 data sets with the HSB school sizes and **no** school differences
#    ($\tau^2 = 0$, $\sigma^2 = 39.14$) using `hierlib.marginal.simulate_two_level` and `rng`.
#    In what fraction does the F-test reject at 5%? What should it be?
# 3. Repeat exercise 2 with small school differences, $\tau^2 = 0.5$ (an ICC of about 1%).
#    How often is $H_0$ rejected now?

# %% tags=["solution"]
n0 = (stats.n_total - np.sum(stats.n**2) / stats.n_total) / (stats.m - 1)
tau2_moment = (anova.ms_between - anova.ms_within) / n0
print(f"n0 = {n0:.2f}, moment estimate tau2 = {tau2_moment:.2f} (REML: 8.61)")

# %% tags=["solution"]
from hierlib.marginal import simulate_two_level


def rejection_rate(tau2, n_sets=200):
    """Fraction of simulated HSB-sized data sets in which the F-test rejects at 5%."""
    hits = 0
    for _ in range(n_sets):
        y_sim, g_sim = simulate_two_level(rng, stats.n, mu=12.75, tau2=tau2, sigma2=39.14)
        hits += anova_from_stats(group_stats(y_sim, g_sim)).reject(0.05)
    return hits / n_sets


print(f"tau2 = 0:   rejected in {rejection_rate(0.0):.1%} of data sets (expected about 5%)")

# %% tags=["solution"]
print(f"tau2 = 0.5: rejected in {rejection_rate(0.5):.1%} of data sets")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
