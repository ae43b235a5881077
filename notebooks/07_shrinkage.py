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
# # 07 · Shrinkage: borrowing strength across schools
#
# **What you will learn**
#
# - why a school's posterior mean is a precision-weighted average of its own mean $\bar y_j$
#   and the overall mean $\mu$;
# - the shrinkage factor $B_j = \sigma^2/(\sigma^2 + n_j\tau^2)$, and why small schools are
#   pulled the most;
# - how the Gibbs posterior means of the 160 HSB schools compare with their sample means;
# - that partial pooling predicts held-out students' school means, and a new school, better
#   than either extreme (no pooling, complete pooling).

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. This is the lecture's "Shrinkage effect" slide made concrete. Notebook 05
# fitted the model by Gibbs sampling; here we look at the 160 school means it produces. The
# punchline of the lecture's summary: each posterior mean is a convex combination of the
# school's own mean and the overall mean, and the weight depends on $n_j$ and on the two
# variance components. End on the held-out experiment: it is the honest reason to use the
# model, not just a pretty picture.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hierlib import exact, gibbs, predictive, reml, shrinkage, shrinkage_explorer
from hierlib.data import group_stats, load_hsb
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The shrinkage formula
#
# Given $(\mu, \tau^2, \sigma^2)$, school $j$'s data enter only through
# $\bar y_j \mid \theta_j \sim \mathcal N(\theta_j, \sigma^2/n_j)$, and the prior is
# $\theta_j \sim \mathcal N(\mu, \tau^2)$. Multiplying the two normal densities and completing
# the square in $\theta_j$:
#
# $$
# -\tfrac12\Big[\tfrac{n_j}{\sigma^2}(\theta_j-\bar y_j)^2 + \tfrac{1}{\tau^2}(\theta_j-\mu)^2\Big]
# = -\tfrac12\Big(\tfrac{n_j}{\sigma^2} + \tfrac1{\tau^2}\Big)
#   \Big(\theta_j - \tfrac{n_j\bar y_j/\sigma^2 + \mu/\tau^2}{n_j/\sigma^2 + 1/\tau^2}\Big)^2
#   + \text{const},
# $$
#
# so
#
# $$
# E[\theta_j \mid \mu, \tau^2, \sigma^2, Y]
#  = \frac{n_j\bar y_j/\sigma^2 + \mu/\tau^2}{n_j/\sigma^2 + 1/\tau^2}
#  = B_j\,\mu + (1 - B_j)\,\bar y_j,
# \qquad B_j = \frac{\sigma^2}{\sigma^2 + n_j\tau^2}.
# $$

# %% [markdown] slideshow={"slide_type": "fragment"}
# - **Precision-weighted**: each source gets weight proportional to its precision,
#   $n_j/\sigma^2$ for the school's data and $1/\tau^2$ for the population.
# - $B_j \to 0$ as $n_j \to \infty$ (trust the school), $B_j \to 1$ as $\tau^2 \to 0$
#   (all schools alike: complete pooling).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The shrinkage factor at the HSB estimates
#
# At the REML estimates of the lecture, $\hat\sigma^2 = 39.15$ and $\hat\tau^2 = 8.61$:

# %% tags=["nbval-check-output"]
SIGMA2_REML, TAU2_REML = 6.256862**2, 2.934966**2  # the lecture's lme() output
sizes = np.array([14, 47, 67])
b = shrinkage.shrinkage_factor(sizes, SIGMA2_REML, TAU2_REML)
for n_j, b_j in zip(sizes, b, strict=True):
    print(f"n_j = {n_j:2d}: B_j = {b_j:.3f} ({100 * b_j:.1f}% weight on mu)")

# %% tags=["check"]
# By hand: 39.148 / (39.148 + 14 * 8.614) = 0.245; with 67 students 0.064.
assert abs(b[0] - 39.148 / (39.148 + 14 * 8.6140)) < 1e-3
assert round(b[0], 3) == 0.245 and round(b[2], 3) == 0.064

# %% [markdown] slideshow={"slide_type": "fragment"}
# Even the smallest HSB school (14 students) keeps three quarters of the weight on its own
# mean: with $\tau^2/\sigma^2 \approx 0.22$ and $n_j \ge 14$, the data of every school are
# informative. Shrinkage here is real but modest.

# %% [markdown] slideshow={"slide_type": "notes"}
# Say: $B_j$ is 0.245 for 14 students, 0.088 at the median school size (47), 0.064 for 67.
# The ratio that matters is $n_j\tau^2/\sigma^2$: the data's precision about $\theta_j$
# relative to the prior's. For HSB it runs from 3 to 15: the data dominate. Notebook 09
# comes back to exactly this ratio when it explains why one sampler mixes better.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The posterior means from the Gibbs sampler
#
# The full posterior also averages over the uncertainty in $(\mu, \tau^2, \sigma^2)$:
# $E[\theta_j \mid Y] = E\big[\,E[\theta_j \mid \mu, \tau^2, \sigma^2, Y] \,\big|\, Y\big]$.
# We fit the model of notebook 05 (default prior, 4 chains) and read off $E[\theta_j\mid Y]$.

# %% slideshow={"slide_type": "skip"}
hsb = load_hsb()
stats = group_stats(hsb["mathach"], hsb["school"])
post = gibbs.hierarchical_normal(
    hsb["mathach"], hsb["school"], n_draws=2000, n_warmup=500, n_chains=4, seed=SEED
)
mu_hat = post.draws["mu"].mean()
sigma2_hat, tau2_hat = post.draws["sigma2"].mean(), post.draws["tau2"].mean()
plug_in = shrinkage.conditional_mean(stats.ybar, stats.n, mu_hat, tau2_hat, sigma2_hat)

# %% tags=["remove-input", "nbval-check-output"]
print(f"posterior means: mu = {mu_hat:.2f}, sigma2 = {sigma2_hat:.1f}, tau2 = {tau2_hat:.1f}")
gap = np.abs(plug_in - post.theta_mean).max()
print(f"largest |formula at posterior means - E[theta_j | Y]| = {gap:.2f} points")

# %% tags=["check"]
# Same school order, HSB posterior close to REML (notebook 05: mu 12.64, sigma 6.26, tau 2.97).
assert np.array_equal(post.groups, stats.labels)
assert abs(mu_hat - 12.64) < 0.05 and abs(sigma2_hat - 39.2) < 0.5 and abs(tau2_hat - 8.8) < 0.5
assert gap < 0.1

# %% [markdown] slideshow={"slide_type": "fragment"}
# The formula evaluated at the posterior means of $(\mu, \tau^2, \sigma^2)$ gives almost the
# same school means as the full posterior: with 160 schools the hyperparameters are well
# determined, so averaging over them changes little.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Posterior mean against sample mean

# %% tags=["remove-input"]
fig, ax = plt.subplots(figsize=(9, 5.5))
shrinkage.plot_shrinkage(
    stats.ybar,
    post.theta_mean,
    stats.n,
    ax=ax,
    pooled=mu_hat,
    xlabel=r"school sample mean $\bar y_j$ (math score points)",
    ylabel=r"posterior mean $E[\theta_j \mid Y]$ (points)",
    title="Extreme schools are pulled towards μ; the cloud is flatter than 45°",
)
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# - Points above the dashed line at the left, below it at the right: every school moves
#   towards $\hat\mu \approx 12.6$, so the spread of the estimates shrinks.
# - Order is almost kept: shrinkage pulls, and pairs of schools rarely swap (printed below).
#   A swap needs a small school and a larger one with nearly equal means.

# %% slideshow={"slide_type": "skip"} tags=["nbval-check-output"]
above = np.subtract.outer(stats.ybar, stats.ybar) > 0  # school j above school k by sample mean
swapped = above & (np.subtract.outer(post.theta_mean, post.theta_mean) < 0)
n_pairs = stats.m * (stats.m - 1) // 2
print(f"pairs of schools whose order flips: {swapped.sum()} of {n_pairs}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How far each school moves, against its size

# %% tags=["remove-input"]
shrinkage.plot_shrinkage_vs_n(
    stats.n,
    stats.ybar,
    post.theta_mean,
    ylabel=r"$\bar y_j - E[\theta_j \mid Y]$ (points)",
    title="Small, extreme schools move the most",
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The share of the gap closed is the shrinkage factor

# %% tags=["remove-input"]
shrinkage.plot_shrinkage_factor(
    stats.n,
    sigma2_hat,
    tau2_hat,
    observed=(stats.ybar, post.theta_mean, mu_hat),
    title="Each school's share of the gap to μ closed follows B(n)",
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Who moves, and by how much

# %% tags=["remove-input", "nbval-check-output"]
moved = stats.ybar - post.theta_mean
j = int(np.argmax(np.abs(moved)))
print(
    f"largest move: school {stats.labels[j]} (n = {stats.n[j]}), "
    f"{stats.ybar[j]:.2f} -> {post.theta_mean[j]:.1f} points"
)
small, large = stats.n <= 25, stats.n >= 55
print(f"mean |move|: n_j <= 25: {np.abs(moved[small]).mean():.2f}, ", end="")
print(f"n_j >= 55: {np.abs(moved[large]).mean():.2f} points")
tau_hat = np.sqrt(post.draws["tau2"]).mean()
print(f"sd of the school means: sample {stats.ybar.std(ddof=1):.2f}, ", end="")
print(f"posterior {post.theta_mean.std(ddof=1):.2f}; posterior mean of tau {tau_hat:.2f}")

# %% tags=["check"]
# School 8367 (14 students, mean 4.55) moves most; REML's BLUP puts it at 12.637 - 6.103 = 6.53.
assert stats.labels[j] == "8367"
assert abs(post.theta_mean[j] - (12.63697 - 6.10301)) < 0.1
# and the formula at the REML estimates is exactly lme's random effect (BLUP) of 8367
blup = shrinkage.conditional_mean(stats.ybar, stats.n, 12.63697, TAU2_REML, SIGMA2_REML)
assert abs(blup[j] - 12.63697 - (-6.10301)) < 1e-3
assert np.abs(moved[small]).mean() > 2 * np.abs(moved[large]).mean()
# sample means over-disperse (noise added), posterior means under-disperse (shrunk) around tau
assert post.theta_mean.std(ddof=1) < tau_hat < stats.ybar.std(ddof=1)

# %% [markdown] slideshow={"slide_type": "fragment"}
# - The move $\bar y_j - E[\theta_j\mid Y]$ is large only where a school is both small
#   *and* far from $\mu$. School 8367 (14 students) moves two points, from 4.55 to 6.5.
# - Divided by the distance to $\mu$, the move is each school's shrinkage factor, and it
#   sits on the curve $B(n) = \sigma^2/(\sigma^2 + n\tau^2)$.

# %% [markdown] slideshow={"slide_type": "notes"}
# School 8367 is the one the lecture's `random.effects()` prints first: its BLUP is -6.10,
# i.e. 12.637 - 6.103 = 6.53, which matches the Bayesian posterior mean to within Monte Carlo
# error. The BLUP *is* this notebook's formula evaluated at the REML estimates (the check
# cell reproduces -6.10301 to 1e-3): classical random effects are plug-in shrinkage. Small
# schools (n <= 25) move on average about four times as far as large ones (n >= 55): read
# off the printed numbers (0.58 vs 0.15 points). The dots of the factor plot lie on the
# curve because, with well-determined hyperparameters, the posterior mean is essentially the
# plug-in formula.
# Last printed line: the sample means spread more than the true school means (sd 3.12 vs
# τ ≈ 2.97: each carries noise σ²/n_j), the posterior means spread less (they are shrunk).
# Neither set of point estimates has the spread of the θ_j; the posterior draws do.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Shrinkage you can move: from one mean to 160
#
# Drag τ (a log scale) and every school moves to
# $E[\theta_j \mid \tau, \sigma^2, Y] = B_j\,\hat\mu(\tau) + (1 - B_j)\,\bar y_j$, with
# $\hat\mu(\tau)$ the GLS mean at that τ; the switch puts model 2's $\sigma_j^2$ (notebook 06)
# in place of model 1's one $\sigma^2$. (On paper: the picture at the REML estimate $\hat\tau$.)

# %% slideshow={"slide_type": "skip"} tags=["nbval-check-output"]
post_u = gibbs.unequal_variances(hsb["mathach"], hsb["school"], seed=SEED)  # model 2
tau_reml = float(np.sqrt(reml.maximize_profile(stats)[0]))
explorer = shrinkage_explorer.shrinkage_explorer(post, post_u, tau_reml)
marks = explorer.markers
print(f"REML tau = {marks.reml:.2f}; posterior mean of tau: model 1 ", end="")
print(f"{marks.posterior_mean_model1:.2f}, model 2 {marks.posterior_mean_model2:.2f}")

# %% tags=["remove-input", "screen-only"]
explorer

# %% tags=["remove-input", "print-only"]
# the explorer at the REML estimate of tau, for print
shrinkage_explorer.plot_frame(explorer.table, tau_reml, title_note="REML estimate")
plt.show()

# %% tags=["check"]
# The slider's ends: complete pooling at tau = 0.01 (every school at one mean: under model 1 the
# mean of all students, under model 2 the mean weighted by n_j / sigma2_j), no pooling at
# tau = 1000 (every school at its own mean).
table = explorer.table
for model, weight in ((1, stats.n), (2, stats.n / table["sigma2_model2"])):
    mu_0, theta_0 = shrinkage_explorer.frame(table, 0.01, model)
    assert abs(mu_0 - np.average(stats.ybar, weights=weight)) < 1e-3 and np.ptp(theta_0) < 0.01
    assert np.abs(shrinkage_explorer.frame(table, 1000, model)[1] - stats.ybar).max() < 1e-3
assert abs(marks.reml - 2.934966) < 1e-5  # the lecture's lme(): tau = 2.934966
assert abs(marks.posterior_mean_model2 - marks.posterior_mean_model1) < 0.1

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the explorer
#
# - **τ near 0**: one mean for all, $\hat\mu(0)$ (complete pooling; under model 1 the mean of
#   all 7185 students). **τ large**: every school on the dashed line, at its own $\bar y_j$
#   (no pooling).
# - **Coming down from large τ**, the small schools are pulled in first: their $B_j$ is the
#   first to grow. At the estimates (the marks near τ ≈ 3) the pull is the modest one of the
#   previous slides.
# - **Model 2** pulls a school with a large $\sigma_j^2$ (noisy students) harder, and a
#   quiet one less, than one common $\sigma^2$ does: a school's weight depends on its own
#   noise $\sigma_j^2/n_j$, not only on its size.

# %% [markdown] slideshow={"slide_type": "notes"}
# Drag slowly from the right end (no pooling) to the left end (complete pooling): the
# 14-student school 8367 leaves the 45° line first. Then park at the REML mark and switch
# models: most points barely move, a few noisy schools jump towards μ. The mean line moves
# too: at τ = 0 it is the student-weighted mean 12.75, at the estimates 12.64, and for large τ
# the plain mean of the 160 school means.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Does shrinkage predict better? A held-out test
#
# For each school, split its students at random into two halves. Fit on one half, then
# predict the **other half's school mean** with
#
# - **no pooling**: $\hat\theta_j = \bar y_j$ (the ANOVA's separate means),
# - **complete pooling**: $\hat\theta_j = \bar y$ (one mean for all schools),
# - **partial pooling**: the shrinkage estimate.
#
# Score: the mean squared error over the 160 schools; repeat over many random splits.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Two ways to compute partial pooling
#
# - **Gibbs**: refit the sampler on every training half and use $E[\theta_j\mid Y_{train}]$.
# - **Empirical Bayes plug-in**: the formula at method-of-moments estimates
#   ($\hat\sigma^2 = MS_W$, $\hat\tau^2 = (MS_B - MS_W)/n_0$, GLS $\hat\mu$); closed form,
#   a few milliseconds per split, many times faster than refitting the Gibbs sampler.
#
# We use the plug-in for 200 splits (speed), and check it against the Gibbs version on the
# first 20 splits: at well-determined hyperparameters the formula is close to the posterior
# mean (slide "The posterior means from the Gibbs sampler"), so the two should agree.

# %%
y, school = hsb["mathach"], hsb["school"]
eb = shrinkage.heldout_comparison(y, school, n_splits=200, seed=SEED)
both = shrinkage.heldout_comparison(
    y,
    school,
    n_splits=20,
    seed=SEED,
    estimators=("no_pooling", "complete_pooling", "partial_eb", "partial_gibbs"),
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Held-out mean squared errors (points²)

# %% tags=["remove-input", "nbval-check-output"]
names = {
    "no_pooling": "no pooling (ybar_j)",
    "complete_pooling": "complete pooling (ybar)",
    "partial_eb": "partial pooling, EB plug-in",
    "partial_gibbs": "partial pooling, Gibbs",
    "noise_floor": "noise in the held-out mean",
}
table = pd.DataFrame(
    {
        "MSE, 200 splits": eb.mean(),
        "MC s.e. over splits": eb.std(ddof=1) / np.sqrt(len(eb)),
        "MSE, first 20 splits": both.mean(),
    }
).loc[list(names)]
print(table.rename(index=names).round(2).to_string(na_rep="-"))
wins = (eb["partial_eb"] < eb["no_pooling"]).mean()
print(f"partial pooling beats no pooling in {100 * wins:.0f}% of the 200 splits")

# %% tags=["check"]
m = eb.mean()
assert m["partial_eb"] < m["no_pooling"] < m["complete_pooling"]
assert abs(both["partial_gibbs"].mean() - both["partial_eb"].mean()) < 0.05
assert wins > 0.8

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the held-out errors

# %% tags=["remove-input"]
floor = eb["noise_floor"]
labels = {
    "no_pooling": r"no pooling $\bar y_j$",
    "partial_eb": "partial pooling",
    "complete_pooling": r"complete pooling $\bar y$",
}
excess = pd.DataFrame({labels[k]: eb[k] - floor for k in labels})
fig, ax = plt.subplots(figsize=(9, 4.5))
ax.boxplot(excess.to_numpy(), orientation="horizontal", widths=0.6)
ax.set_yticks([1, 2, 3], excess.columns)
ax.set_xlabel("MSE minus the held-out noise $\\hat\\sigma^2/n_j^{test}$ (points²)")
ax.set_title("200 random splits: partial pooling predicts held-out school means best")
ax.invert_yaxis()
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# - Part of every error is the noise in the held-out mean itself ($\sigma^2/n_j^{test}$, about
#   1.9 points²), which no estimator can remove. Subtract it: no pooling misses the true
#   school means by about 2.0 points², partial pooling by about 1.7 (16% less), complete
#   pooling by 8.8. (On the raw MSEs of the table, noise included, partial pooling's is 8%
#   less: 3.59 against 3.91.)
# - Complete pooling ignores real differences between schools; no pooling chases noise from
#   only 7-33 students. Partial pooling trades a little bias for a larger cut in variance.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say (from the table): MSE no pooling 3.91, partial pooling 3.59, complete
# pooling 10.69 points², over 200 random half-splits; partial pooling wins in about 90% of
# the splits. The EB plug-in and the Gibbs posterior mean give MSEs within 0.01 points² of
# each other (3.58 and 3.57) on the 20 splits where both were run. Why the EB plug-in at
# all: a Gibbs refit (2 chains x 2000 draws) costs far more per split, and the plug-in is
# what the posterior mean reduces to here (0.04 points apart, slide "posterior means from
# the Gibbs sampler"). Exercise 1 asks the students to predict what happens with fewer
# students per school.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Predicting a new student, and a new school
#
# The posterior predictive distribution averages the model over the posterior:
#
# - a new student of school $j$: $\tilde y \sim \mathcal N(\theta_j, \sigma^2)$, one draw per
#   posterior draw of $(\theta_j, \sigma^2)$;
# - the mean of a school not in the data: $\tilde\theta \sim \mathcal N(\mu, \tau^2)$;
# - a new student of a new school: $\tilde\theta + \varepsilon$, variance
#   $\tau^2 + \sigma^2$ (the marginal model of notebook 03).

# %% tags=["nbval-check-output"]
large = str(stats.labels[np.argmax(stats.n)])
pred = predictive.prediction_table(
    post, {"small school 8367 (n = 14)": "8367", f"large school {large} (n = 67)": large}, rng
)
print(pred.round(1).to_string())

# %% tags=["check"]
assert (
    pred.loc["θ_j, small school 8367 (n = 14)", "width"]
    > 1.5 * pred.loc[f"θ_j, large school {large} (n = 67)", "width"]
)
tau_post, sigma_post = np.sqrt(post.draws["tau2"]).mean(), np.sqrt(post.draws["sigma2"]).mean()
assert abs(pred.loc["mean of a new school θ̃", "width"] - 2 * 1.96 * tau_post) < 0.6
new_student_new_school = pred.loc["new student, new school", "width"]
assert abs(new_student_new_school - 2 * 1.96 * np.hypot(tau_post, sigma_post)) < 0.6

# %% slideshow={"slide_type": "subslide"} tags=["remove-input"]
ax = predictive.plot_prediction_table(
    pred, title="School means are known to ±1.5 to 3 points, a new student only to ±12 to 13.5"
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the predictions
#
# - A school's mean is known to about ±3 points (14 students) or ±1.5 (67); a new student of
#   that school is uncertain by about ±12.5: the student's own $\sigma = 6.3$ dominates.
# - A new school's mean is uncertain by about $\pm 2\tau \approx \pm 6$ points: that is the
#   spread of school means, notebook 03's $\tau^2$.
# - Knowing the school narrows a new student's interval only from about ±13.5 (new school,
#   sd $\sqrt{\tau^2+\sigma^2}$) to ±12.5. Knowing a school's true mean $\theta_j$ would
#   remove about the ICC's share of a new student's variance, 0.18 (0.19 with the
#   uncertainty of $\mu$, next slide); knowing only its
#   students' scores removes less, because $\theta_j$ is itself uncertain (next slide).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How much of a new student's variance knowing the school removes

# %% tags=["nbval-check-output"]
removed = predictive.variance_removed_by_school(
    post, {"small school 8367 (n = 14)": "8367", f"large school {large} (n = 67)": large}
)
print(removed.round(3).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# A new student's variance is $\sigma^2 + \operatorname{Var}(\theta_j \mid Y)$ in a known
# school and $\tau^2 + \sigma^2 + \operatorname{Var}(\mu \mid Y)$ in a new one (posterior
# means of $\sigma^2$ and $\tau^2$). The 67 students of the large school pin its mean down
# well: 0.17 of the variance goes, nearly the 0.19 a known $\theta_j$ would remove (the ICC
# plus the small uncertainty of $\mu$). The 14 students of the small one leave $\theta_j$
# uncertain by about ±3 points: only 0.14 goes.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A new school: leave one school out
#
# The held-out split above keeps the other half of each school, and so does leave-one-out
# (notebook 10 compares the models that way): both score **a new student in a known
# school**. A **new school** needs leaving out a whole school,
# $\log p(y_j \mid y_{-j})$ with $\theta_j$ integrated out:
#
# $$p(y_j \mid \mu, \tau^2, \sigma^2) = \mathcal N\big(y_j;\ \mu\mathbf 1,\
#   \sigma^2 I + \tau^2 \mathbf 1\mathbf 1^T\big).$$
#
# Pareto-smoothed importance sampling (PSIS, `az.loo`) over the 160 schools gives all 160
# leave-one-school-out (LOSO) fits from one posterior: their sum is the elpd (expected log
# predictive density; higher predicts better). Its check, the Pareto shape $\hat k$ of each
# school, should stay below 0.7 (notebook 10 explains both). No pooling cannot take part: it
# has nothing to say about a school it has not seen.

# %%
y_all, school_all = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
loso_fits = {
    "complete pooling": exact.complete_pooling(y_all, school_all, n_draws=500, seed=SEED),
    "model 1 (partial pooling)": post,
}
loso = {k: predictive.loo(predictive.school_idata(f)) for k, f in loso_fits.items()}
m1_loso = loso["model 1 (partial pooling)"]
worst = str(stats.labels[np.argmax(np.asarray(m1_loso["pareto_k"]))])


def refit_model_1(y_, g_):
    return gibbs.hierarchical_normal(y_, g_, n_draws=1000, n_warmup=300, seed=SEED)


refits = {
    school: predictive.loso_refit(y_all, school_all, school, refit_model_1)
    for school in (worst, "8367", large)
}

# %% slideshow={"slide_type": "subslide"} tags=["nbval-check-output"]
for name, res in loso.items():
    k_max = float(np.max(res["pareto_k"]))
    print(f"{name}: elpd {res['elpd_loo']:.0f} (se {res['se']:.0f}), max k {k_max:.2f}")
for school, refit in refits.items():
    j = int(np.flatnonzero(stats.labels == school)[0])
    psis, k_j = float(m1_loso["loo_i"][j]), float(m1_loso["pareto_k"][j])
    k_j = round(k_j, 2) + 0.0  # shows 0.00, not -0.00
    print(f"school {school}: PSIS {psis:.2f}, refit {refit:.2f}, k = {k_j:.2f}")
gap = predictive.elpd_difference(m1_loso, loso["complete pooling"])
print(f"model 1 minus complete pooling: {gap['diff']:.0f} (se {gap['se']:.0f})")

# %% tags=["check"]
for school, exact_elpd in refits.items():
    j = int(np.flatnonzero(stats.labels == school)[0])
    assert abs(float(m1_loso["loo_i"][j]) - exact_elpd) < 0.15
assert m1_loso["elpd_loo"] > loso["complete pooling"]["elpd_loo"]

# %% [markdown] slideshow={"slide_type": "fragment"}
# - For a new school, partial pooling beats complete pooling too, by far more than the
#   difference's standard error (each elpd's own se is large, but both models score the
#   same schools): knowing that schools differ ($\tau^2$) makes a whole school's scores,
#   correlated through $\theta_j$, likelier.
# - Refitting without a school (exact) agrees with PSIS to a few
#   hundredths, also for the school with the largest $\hat k$ (all $\hat k$ are small: no
#   one school moves $\mu, \tau^2, \sigma^2$ much).

# %% [markdown] slideshow={"slide_type": "notes"}
# LOO and the held-out split answer the same question (a new student of a known school);
# LOSO answers the question of a school district that is about to add a school. The LOSO
# elpd is a sum over 160 schools, so its standard error (about 480) is large; the
# difference between the two models is estimated far more precisely, because the same
# schools are scored by both.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Predict, then compute.** Keep only 6 students per school, at random. Before
#    you run anything, predict: does partial pooling's advantage over no pooling grow or
#    shrink, and why (think of $B_j$ at $n_j = 3$ training students)? Then rerun the held-out
#    comparison with 100 splits (draw the 6 with `np.random.default_rng(SEED + 1)`).
# 2. For which $\tau^2$ would the smallest school keep only half the weight on its own mean
#    ($B_j = 0.5$ at $n_j = 14$, $\sigma^2 = 39.15$)? What would that mean for the ICC?

# %% [markdown] tags=["solution"]
# Prediction: with 3 training students per school, $B_j = \sigma^2/(\sigma^2 + 3\tau^2)
# \approx 0.6$: each school's own mean is so noisy that borrowing from the others helps far
# more, so the advantage grows.

# %% tags=["solution"]
rng_ex = np.random.default_rng(SEED + 1)  # its own stream: the same answer in any run order
keep = hsb.iloc[rng_ex.permutation(len(hsb))].groupby("school").head(6)  # 6 per school
few = shrinkage.heldout_comparison(keep["mathach"], keep["school"], n_splits=100, seed=SEED)
gain = 1 - few["partial_eb"].mean() / few["no_pooling"].mean()
print(few.mean().round(2).to_string())
gain_all = 1 - eb["partial_eb"].mean() / eb["no_pooling"].mean()
print(f"partial pooling's MSE is {100 * gain:.0f}% below no pooling's ", end="")
print(f"(with all students: {100 * gain_all:.0f}%)")
# With 3 training students a school's own mean is so noisy that even one mean for all
# (complete pooling) beats it; partial pooling beats both.

# %% tags=["solution"]
# B = sigma2 / (sigma2 + 14 tau2) = 0.5  <=>  tau2 = sigma2 / 14
tau2_half = SIGMA2_REML / 14
print(f"tau2 = {tau2_half:.2f}; ICC = {tau2_half / (tau2_half + SIGMA2_REML):.3f}")
# ICC = 1 / (n_j + 1) = 1/15: a third of HSB's 0.18. In general B_j = 1/2 at n_j students
# exactly when the ICC is 1 / (n_j + 1).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions

# %%
from hierlib.versions import show_versions

show_versions()
