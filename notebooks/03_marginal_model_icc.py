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
# # 03 · The marginal model and the intraclass correlation
#
# **What you will learn**
#
# - the random-effects model: school means drawn from a population, $\theta_j \sim \mathcal
#   N(\mu, \tau^2)$;
# - its marginal form: every score $\sim \mathcal N(\mu, \tau^2 + \sigma^2)$, correlated
#   within a school and independent across schools;
# - the intraclass correlation (ICC) $\tau^2/(\tau^2 + \sigma^2)$, checked by simulation;
# - what "about 18% of the variation lies between schools" means for HSB, and the limits
#   ICC $\to 0$ and ICC $\to 1$.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Lecture slides "Random Effect Model", "Marginal model" and "Intraclass
# Correlation". Notebook 02 left us with two extremes; here the school means become random
# draws from a population, which costs 2 parameters ($\tau^2$, plus $\mu$ replacing 160
# means) instead of 160. Integrating them out gives the marginal model we estimate in 04.

# %% slideshow={"slide_type": "skip"}
import numpy as np

from hierlib.data import group_stats, load_hsb
from hierlib.marginal import (
    icc,
    marginal_cov,
    plot_correlation_check,
    plot_covariance,
    plot_icc_limits,
    simulate_two_level,
    within_group_correlation,
)
from hierlib.plots import use_course_style
from hierlib.reml import fit_random_intercept

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The random-effects model
#
# $$Y_{ij} = \theta_j + \varepsilon_{ij}, \quad \varepsilon_{ij} \overset{iid}{\sim}
#   \mathcal N(0, \sigma^2) \qquad \text{(students within a school)}$$
# $$\theta_j \overset{iid}{\sim} \mathcal N(\mu, \tau^2) \qquad \text{(schools in the
#   population of US high schools)}$$
#
# - $\mu$: overall mean, a fixed effect;
# - $\sigma^2$: within-school variance; $\tau^2$: between-school variance -- how much US high
#   schools vary in mean math achievement.
# - Three parameters $(\mu, \tau^2, \sigma^2)$ instead of the $m + 1 = 161$ of the
#   fixed-effects model.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The marginal model
#
# Write $\theta_j = \mu + b_j$ with $b_j \sim \mathcal N(0, \tau^2)$, so
# $Y_{ij} = \mu + b_j + \varepsilon_{ij}$: a sum of independent normals. Hence
#
# $$Y_{ij} \sim \mathcal N(\mu,\ \tau^2 + \sigma^2), \qquad
#   \operatorname{Cov}(Y_{ij}, Y_{i'j}) = \operatorname{Var}(b_j) = \tau^2, \qquad
#   \operatorname{Cov}(Y_{ij}, Y_{i'j'}) = 0 \ \ (j \neq j').$$
#
# Students in a school are exchangeable; schools are independent.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The covariance of all the scores: block compound symmetry
#
# Three schools of 4, 3 and 5 students, at the HSB estimates $\hat\tau^2 = 8.61$,
# $\hat\sigma^2 = 39.15$ (notebook 04):

# %%
ax = plot_covariance(marginal_cov([4, 3, 5], tau2=8.61, sigma2=39.15))

# %% [markdown] slideshow={"slide_type": "subslide"}
# For all of HSB the matrix is $7185 \times 7185$ (413 MB of zeros, mostly).
# `hierlib.marginal` never builds it: each block has only two eigenvalues, $\sigma^2$ and
# $\sigma^2 + n_j\tau^2$, so products, solves and $\log|V|$ cost O(n).

# %% tags=["nbval-check-output"]
hsb = load_hsb()
stats = group_stats(hsb["mathach"], hsb["school"])
V = marginal_cov(stats.n, tau2=8.61, sigma2=39.15)
print(f"V is {V.shape[0]} x {V.shape[1]}: dense would take {V.n**2 * 8 / 1e6:.0f} MB")
print(f"stored as {V.m} block sizes; log|V| = {V.logdet():.2f}")

# %% [markdown] slideshow={"slide_type": "notes"}
# Say: the diagonal is $\tau^2 + \sigma^2 = 47.8$, every pair inside a school has covariance
# $\tau^2 = 8.6$, pairs in different schools 0. The log-determinant is
# $\sum_j [(n_j - 1)\log\sigma^2 + \log(\sigma^2 + n_j\tau^2)]$; the REML fit in 04 uses the
# same structure through the per-school summaries.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The intraclass correlation
#
# $$\rho = \operatorname{Corr}(Y_{ij}, Y_{i'j}) = \frac{\tau^2}{\tau^2 + \sigma^2}$$
#
# - the correlation of two students of the same school;
# - the share of the total variance $\tau^2 + \sigma^2$ that lies **between** schools;
# - $\rho = 0$ when $\tau^2 = 0$ (schools alike), $\rho = 1$ when $\sigma^2 = 0$ (students
#   within a school alike).

# %% [markdown] slideshow={"slide_type": "subslide"}
# At the REML estimates (fitted here, explained in notebook 04):

# %% tags=["nbval-check-output"]
fit = fit_random_intercept(hsb["mathach"], hsb["school"], method="REML")
rho = icc(fit.tau2, fit.sigma2)
total = fit.tau2 + fit.sigma2
print(f"tau2 = {fit.tau2:.2f}, sigma2 = {fit.sigma2:.2f}, total = {total:.2f}")
print(f"ICC = {fit.tau2:.2f} / ({fit.tau2:.2f} + {fit.sigma2:.2f}) = {rho:.3f}")

# %% tags=["check"]
# The lecture: rho = 8.61 / (8.61 + 39.14) = 0.18 ("roughly 20%")
assert round(fit.tau2, 2) == 8.61
assert abs(fit.sigma2 - 39.15) < 0.01
assert round(rho, 2) == 0.18
assert abs(rho - 2.934966**2 / (2.934966**2 + 6.256862**2)) < 1e-3 * rho

# %% [markdown] slideshow={"slide_type": "fragment"}
# **About 18% of the variation in math scores lies between schools**; the other 82% is
# between students of the same school. The lecture rounds it to "roughly 20%":
# $8.61/(8.61 + 39.15) = 0.180$.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: $\hat\tau^2 = 8.61$ ($\hat\tau = 2.93$), $\hat\sigma^2 = 39.15$
# ($\hat\sigma = 6.26$), total 47.76, ICC 0.180. The slide writes 39.14, but
# $6.256862^2 = 39.148$ rounds to 39.15 (39.14 is the ANOVA's within mean square). Either
# way the ICC is 0.18, not 0.20.
# Interpretation: knowing a student's school explains 18% of the variance of his or her
# score; two students of one school have correlation 0.18.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Checking the ICC by simulation
#
# Simulate 500 data sets from the two-level model, with the HSB school sizes and the REML
# estimates. In each, correlate every pair of students of the same school
# (`within_group_correlation`). Compare with $\tau^2/(\tau^2 + \sigma^2)$:

# %% slideshow={"slide_type": "skip"}
sims = [simulate_two_level(rng, stats.n, fit.mu_hat, fit.tau2, fit.sigma2) for _ in range(500)]
r_sim = np.array([within_group_correlation(y_k, g_k) for y_k, g_k in sims])
r_hsb = within_group_correlation(hsb["mathach"], hsb["school"])

# %%
ax = plot_correlation_check(r_sim, rho, observed=r_hsb)

# %% [markdown] slideshow={"slide_type": "subslide"}
# Pooling the same-school pairs of all 500 data sets (80,000 schools) pins the correlation
# down:

# %% tags=["nbval-check-output"]
y_all = np.concatenate([y_k for y_k, _ in sims])
g_all = np.concatenate([g_k + k * stats.m for k, (_, g_k) in enumerate(sims)])
r_pooled = within_group_correlation(y_all, g_all)
se = r_sim.std(ddof=1) / np.sqrt(r_sim.size)
print(f"ICC tau2/(tau2 + sigma2)  = {rho:.3f}")
print(f"pooled simulated pairs    = {r_pooled:.3f} (Monte Carlo SE {se:.3f})")
print(f"one data set: mean (sd)   = {r_sim.mean():.3f} ({r_sim.std(ddof=1):.3f})")
print(f"HSB's same-school pairs   = {r_hsb:.3f}")

# %% tags=["check"]
assert abs(r_pooled - rho) < 4 * se  # the simulation reproduces the ICC
assert abs(r_hsb - rho) < 2 * r_sim.std(ddof=1)  # the data are typical of the fitted model

# %% [markdown] slideshow={"slide_type": "notes"}
# The pooled pairs give 0.179 against the ICC 0.180: equal within the Monte Carlo SE of
# 0.001. One data set of 160 schools
# gives the correlation only to about $\pm 0.02$, and on average a little low (0.177): the
# centre of the pairs is estimated from the same 160 schools, a small-sample bias of order
# $1/m$ -- the same kind of bias that makes ML variance estimates too small (notebook 04).
# The real HSB pairs give 0.167, well inside the spread: the fitted ICC fits the data.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The two limits
#
# Same $\tau^2 + \sigma^2 = 47.8$, 20 schools of 25 students, three ICCs:

# %%
axes = plot_icc_limits(rng, iccs=[0.01, rho, 0.95], total=total, mu=fit.mu_hat)

# %% [markdown] slideshow={"slide_type": "fragment"}
# - **ICC → 0** ($\tau^2 \to 0$): school means (red) all sit near $\mu$; knowing the school
#   tells nothing -- complete pooling is right.
# - **ICC → 1** ($\sigma^2 \to 0$): students of a school are near copies; each school mean is
#   known exactly -- no pooling is right.
# - HSB (0.18) sits in between: the case for partial pooling.

# %% [markdown] slideshow={"slide_type": "notes"}
# These are the two extremes of notebook 02 again, now as the two ends of one parameter.
# The hierarchical model lets the data choose where between them to sit, through
# $\tau^2$ and $\sigma^2$: that is what REML (04) and the Gibbs sampler (05) estimate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. Use `marginal_cov` to build the covariance of 2 schools of 3 students with
#    $\tau^2 = 2$, $\sigma^2 = 6$, print it with `to_dense()`, and turn it into a
#    correlation matrix. Which entries equal the ICC?
# 2. The average of $n_j$ students of one school has variance $\tau^2 + \sigma^2/n_j$
#    under the marginal model. For HSB's smallest (14) and largest (67) school, what share
#    of that variance is $\tau^2$? (This share returns in notebook 07 as the shrinkage
#    weight.)
# 3. Simulate one data set with 160 schools of 45 students and $\tau^2 = 0$. What
#    within-school correlation do you get? Can it be negative?

# %% tags=["solution"]
small = marginal_cov([3, 3], tau2=2.0, sigma2=6.0).to_dense()
sd = np.sqrt(np.diag(small))
print(small)
print(np.round(small / np.outer(sd, sd), 3))  # off-diagonal within a block: 2/8 = 0.25

# %% tags=["solution"]
for n_j in (14, 67):
    share = fit.tau2 / (fit.tau2 + fit.sigma2 / n_j)
    print(f"n_j = {n_j}: tau2 share of Var(school mean) = {share:.2f}")

# %% tags=["solution"]
y0, g0 = simulate_two_level(rng, [45] * 160, mu=12.6, tau2=0.0, sigma2=47.8)
print(f"within-school correlation with tau2 = 0: {within_group_correlation(y0, g0):.4f}")
# It scatters around 0 and can be negative: it is a sample correlation, while the ICC of
# the model, tau2 / (tau2 + sigma2), can never be below 0.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
