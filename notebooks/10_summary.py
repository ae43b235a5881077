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
# # 10 · Summary: what a hierarchical model buys you
#
# **What you will learn**
#
# - the lecture's six summary points, each with the HSB number that shows it;
# - where in the course each point is shown (links to the notebook and its page);
# - one point no earlier notebook computed: why a hierarchical model "avoids multiple
#   testing", shown on all 12 720 pairs of schools;
# - comparing four models by leave-one-out prediction (PSIS-LOO), and when its shortcut can
#   be trusted (Pareto $\hat k$).
#
# Each point links to the notebook (`.ipynb`, for Jupyter) and to its rendered page
# (`.html`). The page links work only on the course site your instructor publishes (the
# student edition ships the notebooks, not the pages); the notebook links work in Jupyter.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Lecture slide "Summary". Ten minutes: read each point, show its number, and
# point to where it was shown. The multiple-testing slide is new material; give it the most
# time. The summary points' numbers are recomputed from one fit of model 1 (4 chains, default
# prior); the multiple-testing slide adds a simulation, the LOO slides fits of all four models.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hierlib import comparisons, exact, gibbs, posterior, predictive, shrinkage
from hierlib._arviz import az
from hierlib.data import group_stats, hsb_arrays
from hierlib.marginal import simulate_two_level
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% slideshow={"slide_type": "skip"}
y, groups = hsb_arrays()
stats = group_stats(y, groups)
post = gibbs.hierarchical_normal(y, groups, seed=SEED)
draws = posterior.derived_draws(post)
mu_hat, tau2_hat, sigma2_hat = (float(draws[k].mean()) for k in ("mu", "tau2", "sigma2"))
weight_mu = shrinkage.shrinkage_factor(stats.n, sigma2_hat, tau2_hat)  # B_j

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 1. Hierarchical models share information across groups
#
# The 160 schools are treated as draws from one population $\mathcal N(\mu, \tau^2)$, so
# what we learn about the population informs every school, and the schools' spreads inform
# each other too.

# %% tags=["nbval-check-output"]
print(
    f"ICC = tau^2 / (tau^2 + sigma^2) = {draws['icc'].mean():.2f}: "
    "the share of variance between schools"
)
sigma_bar, tau_bar = draws["sigma"].mean(), draws["tau"].mean()
print(f"sigma = {sigma_bar:.2f}, tau = {tau_bar:.2f} points")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Shown in:
# [03 · the intraclass correlation][03a]
# ([page][03a-page]) ·
# [05 · Bayesian vs REML][05a]
# ([page][05a-page]) ·
# [06 · shrinkage of variances][06a]
# ([page][06a-page]).
#
# [03a]: 03_marginal_model_icc.ipynb#The-intraclass-correlation
# [03a-page]: 03_marginal_model_icc.html#The-intraclass-correlation
# [05a]: 05_gibbs.ipynb#Bayesian-vs-REML,-side-by-side
# [05a-page]: 05_gibbs.html#Bayesian-vs-REML,-side-by-side
# [06a]: 06_unequal_variances.ipynb#Shrinkage-of-variances
# [06a-page]: 06_unequal_variances.html#Shrinkage-of-variances

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: ICC 0.18 (18% of the variance lies between schools), sigma 6.26 points
# within a school against tau 2.97 between school means. Sharing sharpens a 14-student
# school's estimate: it borrows the population's mean and spread.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 2. A posterior distribution for each group mean
#
# Every $\theta_j$ gets a full posterior, not just a point estimate: intervals, ranks and
# probabilities of any statement about the schools come with it.

# %% tags=["nbval-check-output"]
j = int(np.flatnonzero(post.groups == "8367")[0])
lo_j, hi_j = np.quantile(post.draws["theta"][:, :, j], [0.025, 0.975])
print(f"school 8367 (n = {stats.n[j]}): sample mean {stats.ybar[j]:.2f}")
print(f"posterior mean {post.theta_mean[j]:.2f}, 95% [{lo_j:.2f}, {hi_j:.2f}]")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Shown in:
# [07 · the posterior means][07a]
# ([page][07a-page]) ·
# [08 · ranks have a posterior][08a]
# ([page][08a-page]) ·
# [08 · probability of a top-10 place][08b]
# ([page][08b-page]).
#
# [07a]: 07_shrinkage.ipynb#The-posterior-means-from-the-Gibbs-sampler
# [07a-page]: 07_shrinkage.html#The-posterior-means-from-the-Gibbs-sampler
# [08a]: 08_ranking.ipynb#Ranks-have-a-posterior-distribution
# [08a-page]: 08_ranking.html#Ranks-have-a-posterior-distribution
# [08b]: 08_ranking.ipynb#Probability-of-being-in-the-top-10
# [08b-page]: 08_ranking.html#Probability-of-being-in-the-top-10

# %% [markdown] slideshow={"slide_type": "notes"}
# School 8367, the smallest (14 students): sample mean 4.55, posterior mean 6.50 with a 95%
# interval of about [3.6, 9.4]. The interval, not just the point, is what the model adds;
# notebook 08 turns such draws into ranks.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 3. Each posterior mean is a convex combination of $\bar y_j$ and $\mu$
#
# $$
# E[\theta_j \mid \mu, \tau^2, \sigma^2, Y]
# = \frac{n_j\bar y_j/\sigma^2 + \mu/\tau^2}{n_j/\sigma^2 + 1/\tau^2}
# = (1 - B_j)\,\bar y_j + B_j\,\mu, \qquad B_j = \frac{\sigma^2}{\sigma^2 + n_j\tau^2}.
# $$

# %% tags=["nbval-check-output"]
# allow each posterior mean its Monte Carlo error: 4 sd / sqrt(draws)
mc_tol = 4 * post.theta_sd / np.sqrt(post.n_chains * post.n_draws)
lower = np.minimum(stats.ybar, mu_hat) - mc_tol
upper = np.maximum(stats.ybar, mu_hat) + mc_tol
between = (post.theta_mean >= lower) & (post.theta_mean <= upper)
print(f"posterior means between ybar_j and mu: {between.sum()} of {stats.m}")

# %% tags=["check"]
# the conditional mean is exactly a convex combination; the full posterior mean (which also
# averages over mu, tau2, sigma2) lies between ybar_j and E[mu|Y] for every HSB school
assert ((weight_mu > 0) & (weight_mu < 1)).all()
assert between.all()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Shown in:
# [05 · the full conditionals][05a]
# ([page][05a-page]) ·
# [07 · the shrinkage formula][07a]
# ([page][07a-page]).
#
# [05a]: 05_gibbs.ipynb#Full-conditionals,-typos-corrected
# [05a-page]: 05_gibbs.html#Full-conditionals,-typos-corrected
# [07a]: 07_shrinkage.ipynb#The-shrinkage-formula
# [07a-page]: 07_shrinkage.html#The-shrinkage-formula

# %% [markdown] slideshow={"slide_type": "notes"}
# All 160 posterior means lie between their school's sample mean and mu (within Monte Carlo
# error). The conditional mean is exactly a convex combination; the full posterior mean also
# averages over mu, tau2, sigma2, but here stays inside.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 4. Means are shrunk towards $\mu$, by an amount set by the variance components
#
# The weight $B_j$ on $\mu$ depends on $\sigma^2$, $\tau^2$ and $n_j$: small schools, noisy
# schools and a small $\tau^2$ all mean more shrinkage.

# %% tags=["nbval-check-output"]
for k in (int(np.argmin(stats.n)), int(np.argmax(stats.n))):
    print(f"n_j = {stats.n[k]:>2}: weight on mu B_j = {weight_mu[k]:.2f}")
print(
    f"a school's own mean gets half the weight at n_j = sigma^2/tau^2 = "
    f"{sigma2_hat / tau2_hat:.1f} students"
)

# %% tags=["check"]
assert weight_mu[np.argmin(stats.n)] > weight_mu[np.argmax(stats.n)]

# %% [markdown] slideshow={"slide_type": "fragment"}
# Shown in:
# [04 · BLUPs against raw means][04a]
# ([page][04a-page]) ·
# [07 · how far each school moves][07a]
# ([page][07a-page]) ·
# [06 · with unequal variances][06a]
# ([page][06a-page]).
#
# [04a]: 04_reml.ipynb#Random-effects:-BLUPs-against-raw-school-means
# [04a-page]: 04_reml.html#Random-effects:-BLUPs-against-raw-school-means
# [07a]: 07_shrinkage.ipynb#How-far-each-school-moves,-against-its-size
# [07a-page]: 07_shrinkage.html#How-far-each-school-moves,-against-its-size
# [06a]: 06_unequal_variances.ipynb#Shrinkage-of-means:-equal-vs-unequal-variances
# [06a-page]: 06_unequal_variances.html#Shrinkage-of-means:-equal-vs-unequal-variances

# %% [markdown] slideshow={"slide_type": "notes"}
# B_j is 0.24 for the 14-student school and 0.06 for a 67-student school; sigma2/tau2 = 4.4
# students is where a school's own mean gets half the weight. Every HSB school is far above
# that, so shrinkage is mild here (notebook 07 quantifies it); with 2 students per school it
# would dominate (notebook 09's simulated regime).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 5. A compromise between the two fixed-effects extremes
#
# - **no pooling**: each school its own mean, $\hat\theta_j = \bar y_j$ (160 parameters);
# - **complete pooling**: one common mean, $\hat\theta_1 = \dots = \hat\theta_m = \bar y$;
# - **partial pooling**: the posterior mean, between the two, with the data choosing where.

# %% tags=["nbval-check-output"]
spread = pd.Series(
    {
        "no pooling (sample means)": stats.ybar.std(ddof=1),
        "partial pooling (posterior means)": post.theta_mean.std(ddof=1),
        "complete pooling (grand mean)": 0.0,
    },
    name="sd of the 160 school estimates (points)",
)
print(spread.round(2).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# Shown in:
# [02 · two extremes][02a]
# ([page][02a-page]) ·
# [07 · the held-out test][07a]
# ([page][07a-page]).
#
# [02a]: 02_one_way_anova.ipynb#Two-extremes
# [02a-page]: 02_one_way_anova.html#Two-extremes
# [07a]: 07_shrinkage.ipynb#Does-shrinkage-predict-better?-A-held-out-test
# [07a-page]: 07_shrinkage.html#Does-shrinkage-predict-better?-A-held-out-test

# %% [markdown] slideshow={"slide_type": "notes"}
# The spread of the school estimates: sd 3.12 for the raw means, 2.79 for the posterior
# means, 0 for complete pooling. Notebook 07's held-out test shows partial pooling predicts
# new students' school means better than either extreme.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## 6. It avoids multiple testing
#
# Compare all $160 \times 159 / 2 = 12\,720$ pairs of schools. Unadjusted 5% t-tests on the raw
# means claim about 5% of the pairs different **even when no school differs**. The
# hierarchical model claims "$\theta_a > \theta_b$" only when
# $P(\theta_a > \theta_b \mid Y) > 0.975$. Test both on data simulated with HSB's school
# sizes and **no** school differences ($\tau^2 = 0$), and on the real data.

# %%
y_null, groups_null = simulate_two_level(rng, stats.n, mu_hat, 0.0, sigma2_hat)
post_null = gibbs.hierarchical_normal(y_null, groups_null, seed=SEED + 1)
thin = slice(None, None, 5)  # every 5th draw: 4 x 1000 are plenty
claims = pd.DataFrame(
    {
        "raw t-tests": [
            comparisons.raw_pairwise_claims(group_stats(y_null, groups_null)),
            comparisons.raw_pairwise_claims(stats),
        ],
        "hierarchical model": [
            comparisons.posterior_pairwise_claims(fit.draws["theta"][:, thin])
            for fit in (post_null, post)
        ],
    },
    index=["no differences\n(simulated, τ² = 0)", "HSB data"],
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Pairs of schools declared different

# %% tags=["remove-input"]
n_pairs = stats.m * (stats.m - 1) // 2
ax = comparisons.plot_claims(claims, n_pairs)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the multiple-testing figure

# %% tags=["nbval-check-output"]
print(claims.rename(index=lambda s: s.split("\n")[0]).to_string())
tau_null = np.sqrt(post_null.draws["tau2"]).mean()
print(f"E[tau | Y] with no true differences: {tau_null:.2f}")

# %% tags=["check"]
assert 0.03 * n_pairs < claims.iloc[0, 0] < 0.07 * n_pairs  # raw tests: about 5% false claims
assert claims.iloc[0, 1] == 0  # the hierarchical model: none
assert claims.iloc[1, 1] > 0.4 * n_pairs  # and it still finds the real HSB differences

# %% [markdown] slideshow={"slide_type": "fragment"}
# - With no real differences, raw tests "find" hundreds of different pairs; the
#   hierarchical model finds none. The posterior mean of $\tau$ is 0.37 points (2.97 on
#   HSB), every $\theta_j$ is pulled to $\mu$, and no Bonferroni correction was needed here:
#   the shrinkage did its work (Gelman, Hill & Yajima 2012). This is one simulation in which
#   the model is right and all schools are alike; what partial pooling keeps small in
#   general is claims of the wrong sign (type S errors), not the family-wise error rate.
# - On HSB, where schools really differ (ANOVA F = 10.4, ICC 0.18), the model still declares
#   about half of the pairs different — slightly fewer than the raw tests.

# %% [markdown] slideshow={"slide_type": "notes"}
# The raw count with no differences is about 700 (5% of 12 720 = 636, give or take
# sampling). Stress that the hierarchical model did not "know" tau2 = 0: it learnt it from
# the data. Related: notebook 08's question "how many of the sample top 10 are really top 10"
# is the same idea for rankings.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Comparing models by leave-one-out prediction (PSIS-LOO)
#
# Notebook 07's held-out test split each school's students at random into a part to fit and
# a part to predict, 200 times. Leave-one-out asks, for every
# student, how well the model fitted to **all other students** predicts that student:
# $\text{elpd}_{loo} = \sum_i \log p(y_i \mid y_{-i})$. Pareto-smoothed importance sampling
# (`predictive.loo`: ArviZ's `az.loo`, for all students at once) gets all 7185 leave-one-out
# fits from one posterior, here from 4000 draws of each model. Four models: complete pooling,
# no pooling (both exact posteriors), model 1, and model 2 (notebook 06).

# %%
fits = {
    "complete pooling": exact.complete_pooling(y, groups, n_draws=1000, seed=SEED),
    "no pooling": exact.no_pooling(y, groups, n_draws=1000, seed=SEED),
    "model 1 (partial pooling)": post,
    "model 2 (own variances)": gibbs.unequal_variances(y, groups, seed=SEED),
}
loos = {name: predictive.loo(fit, draws=1000) for name, fit in fits.items()}  # per chain
comparison = predictive.compare(loos)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-check-output"]
columns = ["elpd_loo", "se", "p_loo", "elpd_diff", "dse", "weight"]
print(comparison[columns].astype(float).round(1).to_string())
gap = predictive.elpd_difference(loos["model 1 (partial pooling)"], loos["no pooling"])
print(
    f"\nmodel 1 against no pooling: {gap['diff']:.1f} ± {gap['se']:.1f} "
    f"({gap['z']:.1f} standard errors)"
)

# %% tags=["check"]
assert list(comparison.index[:2]) == ["model 2 (own variances)", "model 1 (partial pooling)"]
assert comparison.index[-1] == "complete pooling"
p_loo = comparison["p_loo"]
assert 120 < p_loo["model 1 (partial pooling)"] < p_loo["no pooling"] < 175
assert 1.5 < gap["z"] < 2.6  # partial pooling ahead of no pooling by about two se

# %% [markdown] slideshow={"slide_type": "fragment"}
# - `elpd_diff` is each model's log predictive density below the best, model 2, and `dse`
#   the standard error of that difference. Model 2 predicts a new student best; complete
#   pooling loses by hundreds.
# - The lecture's comparison, partial against no pooling, is not a row of the table (each row
#   is against model 2): model 1 predicts better by 7.4 ± 3.7, about two standard errors:
#   probably a real edge, and a small one; with 14 to 67 students a school's own mean is
#   already a good guess for its next student.
# - `se` is the standard error of each `elpd_loo`; `weight` is ArviZ's stacking weight, the
#   mix of the models that predicts best (not the probability that a model is true).
# - `p_loo`, the effective number of parameters: about 146 for model 1 against 162 for no
#   pooling. Shrinkage spends fewer than one parameter per school.
# - The same order as notebook 07's held-out split, now from the whole data set and with
#   standard errors.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Can we trust the importance sampling? Pareto $\hat k$

# %%
predictive.pareto_k_table(loos).round(2)

# %% [markdown] slideshow={"slide_type": "fragment"}
# PSIS fits a generalised Pareto distribution to the largest importance weights of each
# student; its shape $\hat k$ says how heavy their tail is. Below 0.7 the leave-one-out
# estimate is reliable; above it, leaving that student out moves the posterior so much that
# the shortcut may fail. No student of any model is above 0.7.

# %% slideshow={"slide_type": "subslide"} tags=["remove-input"]
k2 = np.asarray(loos["model 2 (own variances)"]["pareto_k"])
top = int(np.argmax(k2))
j_top = int(np.flatnonzero(stats.labels == groups[top])[0])
z_top = (y[top] - stats.ybar[j_top]) / np.sqrt(stats.s2[j_top])
ax = az.plot_khat(loos["model 2 (own variances)"], show_hlines=True, figsize=(10, 3.6))
ax.set_xlabel("student (in data order, school by school)")
ax.set_ylabel("Pareto shape $\\hat k$")
side = "below" if z_top < 0 else "above"
ax.set_title(
    f"Model 2: every $\\hat k$ below 0.7\nthe largest, {k2[top]:.2f}: a student "
    f"{abs(z_top):.1f} school sds {side} the school's mean"
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## $\hat k$ is an estimate too
#
# $\hat k$ is fitted to the largest importance weights only, about $3\sqrt S$ of $S$ draws:
# 60 of 400, 190 of 4000. With few draws it is noisy, and among 7185 students some land
# above 0.7 by chance. The same student's $\hat k$ from more and more of model 2's draws:

# %% tags=["nbval-check-output"]
post2 = fits["model 2 (own variances)"]
for per_chain in (100, 1000, None):
    k_s = predictive.observation_pareto_k(post2, top, draws=per_chain)
    n_s = post2.n_chains * (per_chain or post2.n_draws)
    print(f"student {top}, k from {n_s:>6,} draws: {k_s:.2f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# From 400 draws this student would have been flagged (above 0.62, the threshold for so few
# draws); from 4000 and 20 000 it keeps falling, well below 0.7. This student was picked as
# the largest $\hat k$ of 7185, which biases its value upwards too. Enough draws come first:
# with a few hundred, a flag may be noise in $\hat k$ rather than an influential student.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The most influential students, refitted exactly
#
# Where $\hat k$ is largest, check the shortcut the slow, exact way: refit without the
# student. For the student with the largest $\hat k$ in no pooling and in model 2:


# %% tags=["nbval-check-output"]
def refit_no_pooling(y_, g_):
    return exact.no_pooling(y_, g_, n_draws=1000, seed=SEED)


def refit_model_2(y_, g_):
    return gibbs.unequal_variances(y_, g_, n_draws=1000, n_warmup=500, seed=SEED)


refitters = {"no pooling": refit_no_pooling, "model 2 (own variances)": refit_model_2}
for name, refit in refitters.items():
    k = np.asarray(loos[name]["pareto_k"])
    i = int(np.argmax(k))
    exact_i = predictive.loo_refit(y, groups, i, refit)
    psis_i = float(loos[name]["loo_i"][i])
    print(f"{name}, student {i} (school {groups[i]}): k = {k[i]:.2f}")
    print(f"    PSIS {psis_i:.2f}, exact refit {exact_i:.2f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Model 2's largest $\hat k$ belong to students far from their school's mean (the top one
# here 3.8 school sds below it): leaving such a student out shrinks the school's own
# $\sigma_j^2$, which changes the student's own predictive density most. Even so, PSIS and
# the exact refit agree within 0.1 for both; with every $\hat k$ below 0.7 as well, the
# comparison stands.

# %% [markdown] slideshow={"slide_type": "notes"}
# LOO scores a new student of a known school. For a new school, notebook 07 leaves out whole
# schools (its last slides): partial pooling wins there too, and no pooling cannot play.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Beyond the lecture's summary
#
# - **Check the sampler, not just the answer**: traces, rank plots, ESS and $\hat R$ —
#   [05 · the ArviZ summary][05a]
#   ([page][05a-page]).
# - **Know which quantities are prior-sensitive**: $\tau$ and $\nu_0$ (model 2's spread of
#   the school variances), which describe how 160 schools differ, more than $\mu$ or
#   $\sigma$ — [05 · does the prior matter?][05b]
#   ([page][05b-page]).
# - **Parameterise for mixing**: centered when groups are informative, offset when not,
#   interweaved for both — [09 · when each wins][09a]
#   ([page][09a-page]).
# - **Relax assumptions hierarchically**: unequal variances —
#   [06 · the model][06a]
#   ([page][06a-page]).
# - **Add predictors**: [11 · SES and sector](11_covariates.ipynb) ([page](11_covariates.html)).
#
# [05a]: 05_gibbs.ipynb#The-ArviZ-summary
# [05a-page]: 05_gibbs.html#The-ArviZ-summary
# [05b]: 05_gibbs.ipynb#Does-the-prior-matter?
# [05b-page]: 05_gibbs.html#Does-the-prior-matter?
# [09a]: 09_parameterisation.ipynb#When-each-wins
# [09a-page]: 09_parameterisation.html#When-each-wins
# [06a]: 06_unequal_variances.ipynb#The-model
# [06a-page]: 06_unequal_variances.html#The-model

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. Redo the simulation of point 6 with small but real differences, $\tau^2 = 1$. How many
#    pairs does each method claim now?
# 2. **Predict, then compute.** Keep a random quarter of each school's students (at least 3).
#    Before refitting, predict: will the hierarchical model declare more or fewer pairs of
#    schools different than on the full data, and will the raw t-tests? Then refit and count.
# 3. If $\tau^2$ were **known** to be 0 (fixed in the model, not estimated), which of the six
#    summary points would still hold? (Point 6's simulation is the other reading: a true
#    $\tau^2$ of 0 that the model still has to learn.)

# %% tags=["solution"]
rng_ex = np.random.default_rng(SEED + 2)
y_small, groups_small = simulate_two_level(rng_ex, stats.n, mu_hat, 1.0, sigma2_hat)
fit_small = gibbs.hierarchical_normal(y_small, groups_small, seed=SEED + 3)
print("raw t-tests:", comparisons.raw_pairwise_claims(group_stats(y_small, groups_small)))
print("hierarchical:", comparisons.posterior_pairwise_claims(fit_small.draws["theta"][:, thin]))

# %% tags=["solution"]
rng_q = np.random.default_rng(SEED + 4)
quarter = np.concatenate(
    [
        rng_q.choice(np.flatnonzero(groups == g), max(3, n_j // 4), replace=False)
        for g, n_j in zip(stats.labels, stats.n, strict=True)
    ]
)
y_q, groups_q = y[quarter], groups[quarter]
fit_q = gibbs.hierarchical_normal(y_q, groups_q, seed=SEED + 5)
print("raw t-tests:", comparisons.raw_pairwise_claims(group_stats(y_q, groups_q)))
print("hierarchical:", comparisons.posterior_pairwise_claims(fit_q.draws["theta"][:, thin]))
# Fewer for both: each school mean is twice as noisy (a quarter of the students), so fewer
# differences are clear. The model loses more claims than the raw tests: it also shrinks
# the noisier means harder towards mu.

# %% [markdown] tags=["solution"]
# With $\tau^2 = 0$ every $B_j = 1$: all posterior means equal $\mu$ (complete pooling).
# Points 1-4 hold in the degenerate sense (full sharing, full shrinkage), point 5's
# compromise collapses onto one extreme, and point 6 holds most strongly: no pair differs.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions

# %%
from hierlib.versions import show_versions

show_versions()
