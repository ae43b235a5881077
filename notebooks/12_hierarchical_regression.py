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
# # 12 · Hierarchical regression: intercepts and slopes, the Bayesian way
#
# **What you will learn**
#
# - the intercepts-and-slopes-as-outcomes model written as a hierarchy (each school its
#   own line, the lines drawn from a population) and as a mixed model, side by side;
# - its four full conditionals (multivariate normal, inverse-Wishart, inverse-gamma), each
#   one line you can check;
# - the posterior of the Catholic schools' flatter SES slope next to REML, and why the
#   posterior of the slope SD sits above REML's estimate;
# - shrinkage of intercepts and slopes together, in two dimensions;
# - the workflow on a regression: a predictive check that one model fails and another
#   passes, leave-one-out comparison of three models, and predicting a new student.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Notebook 11 fitted these models by REML (R's `lme`); here the same model
# gets the treatment model 1 got in 05: derived full conditionals, a Gibbs sampler
# (`gibbs.mixed_model`, compiled, on per-school sums), then checks, LOO and prediction.
# Hoff ch. 11 is the textbook treatment; the notation of the first slide is Raudenbush &
# Bryk's (ch. 4). Budget: 30 minutes, a third on the conditionals.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hierlib import checks, conditionals, covariates, gibbs, posterior, predictive, priors, reml
from hierlib.data import hsb_arrays, load_hsb_covariates, mixed_stats
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The model as a hierarchy
#
# **Level 1**, students $i$ in school $j$: each school has its own line in `cses` (SES
# relative to the school mean),
# $\;y_{ij} = \beta_{0j} + \beta_{1j}\,\text{cses}_{ij} + e_{ij}$,
# $\;e_{ij} \sim \mathcal N(0, \sigma^2)$.
#
# **Level 2**, schools: the intercept and slope depend on school predictors
# $w_j = (1, \text{mses}_j, \text{Catholic}_j)^\top$,
#
# $$\begin{pmatrix}\beta_{0j}\\ \beta_{1j}\end{pmatrix} = \Gamma w_j + u_j, \qquad
#   \Gamma = \begin{pmatrix}\gamma_{00} & \gamma_{01} & \gamma_{02}\\
#   \gamma_{10} & \gamma_{11} & \gamma_{12}\end{pmatrix}, \qquad
#   u_j \sim \mathcal N_2(0, T).$$
#
# $T$ holds the variances of the intercepts and slopes *left over* after school SES and
# sector, and their covariance.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## ... and as a mixed model
#
# Substitute level 2 into level 1: with $z_{ij} = (1, \text{cses}_{ij})^\top$,
# $\;y_{ij} = x_{ij}^\top\beta + z_{ij}^\top b_j + e_{ij}$, $\;b_j \sim \mathcal N_q(0,
# \Sigma)$ with $q = 2$ random effects (intercept and slope), where $\beta$ stacks the six
# $\gamma$'s, $b_j = u_j$, $\Sigma = T$, and $x_{ij}$ is every product of a school predictor
# with a student one (careful: R&B's $\beta_{0j}, \beta_{1j}$ are one school's coefficients,
# the mixed model's $\beta$ is their $\Gamma$):
#
# | | $\times 1$ | $\times\,\text{mses}_j$ | $\times\,\text{Catholic}_j$ |
# |---|---|---|---|
# | $\beta_{0j}$ | $\gamma_{00}$ `Intercept` | $\gamma_{01}$ `mses` | $\gamma_{02}$ `C` |
# | $\beta_{1j}$ | $\gamma_{10}$ `cses` | $\gamma_{11}$ `mses:cses` | $\gamma_{12}$ `C:cses` |
#
# (`C` is `sector[T.Catholic]`, the formula's name for the Catholic indicator.)
# In formula terms: `mathach ~ mses * cses + sector * cses`, random `~cses` by school.

# %% [markdown] slideshow={"slide_type": "notes"}
# The two forms are one model. The hierarchy says what the parameters mean (a school's line,
# a population of lines); the mixed form is what software and the sampler use: one design
# matrix X for the fixed effects and one Z for the random effects. A cross-level interaction
# (mses:cses) is a school predictor of a slope. The notation clash is on the slide: R&B's
# beta_j are the school coefficients, the mixed model's beta the fixed effects (R&B's
# gammas).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The prior and the posterior
#
# The default prior extends the lecture's: flat on $\beta$, $p(\sigma^2) \propto
# 1/\sigma^2$, and flat on the covariance matrix, $p(\Sigma) \propto 1$. By Bayes' rule, with
# $N = 7185$ students and $m = 160$ schools,
#
# $$p(\beta, b, \Sigma, \sigma^2 \mid y) \propto \prod_{j=1}^{m} \Big[\mathcal N_{n_j}(y_j;
#   X_j\beta + Z_j b_j, \sigma^2 I)\, \mathcal N_q(b_j; 0, \Sigma)\Big] \cdot
#   \frac{1}{\sigma^2},$$
#
# $y_j$, $X_j$, $Z_j$ being school $j$'s rows. With $q = 1$ random effect and formula
# `mathach ~ 1` this is exactly model 1 with the lecture's prior (notebook 05). Here
# $q = 2$ random effects (intercept and `cses` slope) and $p = 6$ fixed effects. The
# posterior needs enough schools. The next slide shows that the conditional of $\Sigma$ is
# proper only for $m > 2q$; a proper conditional is not yet a proper posterior (notebook 05),
# and each fixed effect the school effects could absorb (the intercept, the school
# predictors and their products with `cses`: all $k = 6$ here) costs one school more:
# `hierlib` asks for $m > 2q + k$, a safe sufficient condition, far below our 160 schools.

# %% slideshow={"slide_type": "skip"}
hsb = load_hsb_covariates()
schools = hsb.groupby("school").agg(sector=("sector", "first"), mses=("mses", "first"))
formula = "mathach ~ mses * cses + sector * cses"
fit = reml.fit_mixed(formula, hsb, groups="school", re_formula="~cses")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The full conditionals
#
# Each is read off the joint as in 05: keep the factors with the parameter, recognise the
# kernel. Write $r_j = y_j - X_j\beta$ and $S_b = \sum_j b_j b_j^\top$.
#
# - $b_j \mid \cdot \;\sim\; \mathcal N_q\big(M_j^{-1} Z_j^\top r_j,\ \sigma^2 M_j^{-1}\big)$,
#   $\; M_j = Z_j^\top Z_j + \sigma^2\Sigma^{-1}$, independently over schools;
# - $\beta \mid b, \sigma^2 \;\sim\; \mathcal N_p\big((X^\top X)^{-1}\textstyle\sum_j
#   X_j^\top(y_j - Z_j b_j),\ \sigma^2 (X^\top X)^{-1}\big)$;
# - $\Sigma \mid b \;\sim\; \text{Inv-Wishart}(m - q - 1,\ S_b)$, from
#   $|\Sigma|^{-m/2} e^{-\frac12\operatorname{tr}(\Sigma^{-1} S_b)}$;
# - $\sigma^2 \mid \cdot \;\sim\; \text{Inv-Gamma}\big(\tfrac N2,\ \tfrac12\sum_j
#   \lVert y_j - X_j\beta - Z_j b_j\rVert^2\big)$.
#
# Inv-Wishart$(\nu, S)$ has density $\propto |\Sigma|^{-(\nu+q+1)/2}
# e^{-\frac12\operatorname{tr}(S\Sigma^{-1})}$, proper for $\nu > q - 1$: hence
# $m - q - 1 > q - 1$, i.e. $m > 2q$ schools. For $q = 1$ it is Inv-Gamma$(\nu/2, S/2)$:
# $1/\tau^2 \mid \theta \sim \text{Gamma}\big(\frac{m-2}{2}, \frac Q2\big)$, as in 05.

# %% [markdown] slideshow={"slide_type": "notes"}
# Where each comes from, for the board. beta: the likelihood in beta is a least-squares
# kernel exp(-||y - Zb - X beta||^2 / (2 sigma2)), minimised at the OLS of y - Zb on X. Sigma:
# the m normal densities of the b_j give |Sigma|^(-m/2) exp(-tr(Sigma^-1 S_b)/2); matching
# the exponent of |Sigma| with (nu + q + 1)/2 gives nu = m - q - 1. sigma2: power
# (sigma2)^(-N/2) from the likelihood times 1/sigma2 from the prior, the residual sum of
# squares over 2 in the rate. The b_j line is exercise 1. The sampler draws beta from
# p(beta | Sigma, sigma2, y), every b_j integrated out (generalised least squares with
# V_j = sigma2 I + Z_j Sigma Z_j'): beta and the b_j are strongly correlated here (school
# predictors, centred intercepts), and the draw given b (the line above) would mix slowly.
# Likewise Sigma: given b its conditional is the inverse-Wishart above, but the b_j pin it
# down, so it is moved with them integrated out (random-walk and independence proposals).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Checking the algebra against the joint density
#
# As in 05: hold everything else fixed (here at the REML estimates and BLUPs), move one
# parameter along a line, and the log joint density minus the log conditional must stay
# constant (`hierlib.conditionals`; the joint from the 160 schools' sums):

# %% tags=["remove-input", "nbval-check-output"]
stats = mixed_stats(formula, hsb, "school", "~cses")
beta0, s20, cov0 = fit.fe_params.to_numpy(), float(fit.scale), fit.cov_re.to_numpy()
b0 = np.stack([np.asarray(fit.random_effects[g]) for g in stats.groups])
j, grid = 0, np.linspace(0.5, 1.5, 7)  # school 0; multiples of the current value
in_j = np.arange(stats.m)[:, None] == j


def joint(beta=beta0, b=b0, sigma2=s20, cov=cov0):
    return conditionals.log_joint_mixed(stats, beta, b, sigma2, cov)


b_j = conditionals.b_mixed(stats.ztz[j], stats.zty[j] - stats.xtz[j].T @ beta0, s20, cov0)
wrong_df = priors.InverseWishart(stats.m, b0.T @ b0)  # m degrees of freedom, not m - q - 1
gap = posterior.conditional_gap
gaps = {
    "b_j": gap(
        lambda v: joint(b=np.where(in_j, v * b0, b0)), lambda v: b_j.logpdf(v * b0[j]), grid
    ),
    "beta": gap(
        lambda v: joint(beta=v * beta0),
        lambda v: conditionals.beta_given_b(stats, b0, s20).logpdf(v * beta0),
        grid,
    ),
    "Sigma": gap(
        lambda v: joint(cov=v * cov0),
        lambda v: conditionals.cov_re_mixed(b0).logpdf(v * cov0),
        grid,
    ),
    "sigma2": gap(
        lambda v: joint(sigma2=v * s20),
        lambda v: conditionals.sigma2_mixed(stats, beta0, b0).logpdf_of_inverse(v * s20),
        grid,
    ),
    "Sigma, wrong df m": gap(
        lambda v: joint(cov=v * cov0), lambda v: wrong_df.logpdf(v * cov0), grid
    ),
}
for name, value in gaps.items():
    print(f"{name:>17}: log joint - log conditional varies by {value:.1e} over the line")

# %% tags=["check"]
wrong = gaps.pop("Sigma, wrong df m")
assert max(gaps.values()) < 1e-6
assert wrong > 0.5  # a wrong conditional shows: IW(m, S_b) is not this prior's

# %% [markdown] slideshow={"slide_type": "fragment"}
# The four conditionals match to rounding error; the control, an inverse-Wishart with $m$
# degrees of freedom (what the prior $p(\Sigma) \propto |\Sigma|^{-(q+1)/2}$ would give), is
# caught.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Fitting the model
#
# `gibbs.mixed_model` works on each school's sums ($X_j^\top X_j$, $X_j^\top Z_j$,
# $Z_j^\top Z_j$, $X_j^\top y_j$, $Z_j^\top y_j$, $y_j^\top y_j$), so the cost of a sweep
# does not grow with the number of students. Its $b_j$ and $\sigma^2$ steps are the
# conditionals above; two steps go further, as notebook 09 did for model 1: $\beta$ is drawn
# with every $b_j$ integrated out, and $\Sigma$ is moved with the $b_j$ integrated out (a
# Metropolis–Hastings step), followed by an interweaving step (09's ASIS). Every step leaves
# the same posterior in place. Four chains, 500 warm-up sweeps, 1000 kept each.

# %%
post = gibbs.mixed_model(
    formula, hsb, groups="school", re_formula="~cses", n_draws=1000, n_warmup=500, seed=SEED
)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Bayes next to REML

# %% tags=["nbval-check-output"]
table = posterior.mixed_vs_reml(post, fit)
shown = table.rename(columns={"lower": "95% lower", "upper": "95% upper"}).round(2)
print(shown.to_string(na_rep="–"))  # REML gives no standard errors for the variances

# %% tags=["check"]
# every fixed effect within half a posterior sd of REML's (notebook 11: R's nlme to 1e-3)
for name, value in fit.fe_params.items():
    assert abs(table.loc[name, "posterior mean"] - value) < 0.5 * table.loc[name, "posterior sd"]

# %% [markdown] slideshow={"slide_type": "fragment"}
# The fixed effects agree with REML, and their posterior sds with REML's standard errors
# (REML gives none for the variance parameters: –). The variance parameters do not quite
# agree: the slope SD is where the prior shows.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: the Catholic slope difference is -1.64 with posterior sd 0.25, REML -1.64
# with SE 0.24; sigma 6.05 against 6.06; the intercept SD 1.58 against 1.54. The slope SD:
# posterior mean 0.49, 95% interval 0.16 to 0.85, against REML's 0.32; the
# correlation of intercepts and slopes is very uncertain (interval from -0.4 to 0.9).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The question of notebook 11: are Catholic schools flatter in SES?

# %% tags=["remove-input"]
draws = posterior.mixed_draws(post)
gap = "sector[T.Catholic]:cses"
reference = {gap: fit.fe_params[gap], "sd(cses)": table.loc["sd(cses)", "REML"]}
axes = posterior.plot_marginals(draws, [gap, "sd(cses)"], reference=reference)
axes[0, 0].set_xlabel("Catholic minus Public SES slope (points per unit of SES)")
axes[0, 1].set_xlabel("SD of the school slopes left over (points per unit of SES)")
axes[0, 0].figure.suptitle(
    "Catholic slopes are flatter beyond doubt; the slope SD sits above REML's estimate", y=1.03
)
plt.show()

# %% tags=["nbval-check-output"]
flatter = np.mean(draws["sector[T.Catholic]:cses"] < 0)
shown = f"= {flatter:.3f}" if flatter < 0.999 else "> 0.999"
print(f"P(Catholic slope flatter | y) {shown}")
sd_slope, sd_reml = draws["sd(cses)"], table.loc["sd(cses)", "REML"]
print(f"slope SD: posterior median {np.median(sd_slope):.2f}, mean {sd_slope.mean():.2f}")
print(f"slope SD, REML's estimate: {sd_reml:.2f}")
above = np.mean(sd_slope > sd_reml)
print(f"P(slope SD > REML's estimate | y) = {above:.2f}")

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why the slope SD sits above REML's 0.32
#
# - The data say little about the slopes left over: notebook 11's likelihood-ratio test could
#   not tell their variance from 0. A wide likelihood lets the prior show, as with 8
#   schools in notebook 05.
# - $p(\Sigma) \propto 1$ is flat on the **variances and the covariance**; written in the
#   two SDs and the correlation it is $p(s_1, s_2, \rho) \propto s_1^2 s_2^2$ (the
#   Jacobian of $\Sigma_{11} = s_1^2$, $\Sigma_{22} = s_2^2$, $\Sigma_{12} = \rho s_1 s_2$):
#   it leans towards larger SDs, even more than the flat $p(\tau^2)$ did with 8 schools.
# - So the whole posterior sits higher, not only its mean: median and mean agree, and
#   most of the posterior mass lies above REML's 0.32.
#
# The fixed effects, estimated from all 7185 students, hardly notice.

# %% [markdown] slideshow={"slide_type": "notes"}
# The same story as 05's few-schools slides: the quantity describing how schools differ is
# the prior-sensitive one, and it is most sensitive where the data say least (here: slope
# differences after sector and school SES, which are small). A proper inverse-Wishart prior
# (Hoff's choice, priors.InverseWishart) pulls it down again. Catholic schools' slopes are
# flatter with posterior probability essentially 1, whichever way it is fitted.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Shrinkage in two dimensions
#
# Each school's own OLS line in `cses` (notebook 11), minus the line its sector and school
# SES predict: an estimate of its $u_j$ from its own students alone. The arrow goes to the
# posterior mean $E[b_j \mid y]$; the ellipses hold 50% and 95% of $\mathcal N(0, \Sigma)$,
# $\Sigma$ at its posterior mean.

# %%
ols = covariates.ols_by_group(hsb["mathach"], hsb["cses"], hsb["school"])
X, _ = reml.design_matrices(formula, hsb, re_formula="~cses")
beta_mean = post.draws["fe"].mean(axis=(0, 1))
predicted = covariates.ols_by_group(X.to_numpy() @ beta_mean, hsb["cses"], hsb["school"])
own = ols[["intercept", "slope"]] - predicted[["intercept", "slope"]]
shrunk = post.draws["b"].mean(axis=(0, 1))
cov_mean = post.draws["cov_re"].mean(axis=(0, 1))

# %% slideshow={"slide_type": "subslide"} tags=["remove-input"]
ax = covariates.plot_shrinkage_2d(
    own,
    shrunk,
    cov_mean,
    n=ols["n"],
    xlabel="intercept minus predicted (points)",
    ylabel="slope minus predicted (points per unit of SES)",
    title="Slopes are pulled in far harder than intercepts",
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How far each is pulled in

# %% tags=["nbval-check-output"]
spread = pd.DataFrame(
    {
        "own (OLS)": own.std(),
        "posterior mean": shrunk.std(axis=0, ddof=1),
        "model, √E[Σ|y]": np.sqrt(np.diag(cov_mean)),
    }
)
print("SD across the 160 schools of what sector and school SES leave over:")
print(spread.round(2).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# The arrows run mostly vertically: each school's own slope is estimated from the spread of
# SES within it, so it is noisy, and the model has learnt that the slopes left over barely
# vary; they are pulled almost all the way to the line sector and school SES predict. The
# intercepts keep most of their spread (1.85 to 1.32), though schools far out on the
# intercept move well inward too. The last column is the model's own SD, the square root of
# the diagonal of $E[\Sigma \mid y]$: 0.52 for the slopes, above the posterior mean 0.49 of
# the slope SD, as the root of a mean variance is above the mean of the roots.

# %% [markdown] slideshow={"slide_type": "notes"}
# Same logic as 07's shrinkage of means, now in two coordinates with correlated effects:
# the posterior mean is M_j^-1 Z_j' r_j, a matrix-weighted compromise between the school's
# own OLS coefficients and 0 (its predicted line). Small schools (small circles) move most.
# The posterior means spread less than the model's SD: they are shrunk estimates, each
# with its own posterior uncertainty on top.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Does the model reproduce how the slopes differ?
#
# A posterior predictive check (notebook 06) of a statistic that a model with **one common
# slope** should get wrong: the spread of the 160 within-school OLS slopes, each slope
# measured in its own standard errors (Raudenbush & Bryk's homogeneity statistic),
#
# $$T(y) = \sum_j \frac{(\hat b_j - \bar b)^2}{s^2/S_{xx,j}} ,$$
#
# $\hat b_j$ school $j$'s own OLS slope on `cses`, $S_{xx,j} = \sum_i \text{cses}_{ij}^2$,
# $s^2$ the pooled within-school residual variance, so $s^2/S_{xx,j}$ is the slope's squared
# standard error, and $\bar b$ the mean of the $\hat b_j$ weighted by $S_{xx,j}$.
#
# Why weighted: the plain SD of the $\hat b_j$ is dominated by the small schools, whose
# slopes are mostly noise. If every school had the same slope, $T \approx \chi^2_{159}$.
# Two models: a random intercept with school SES, sector and `cses` (one slope for all), and
# the model above; 500 replicated data sets each (125 draws of each chain). ($T$ here is the
# statistic, not R&B's $T$ of the first slide.)

# %%
formula_ri = "mathach ~ mses + sector + cses"  # a random intercept only (re_formula="~1")
post_ri = gibbs.mixed_model(formula_ri, hsb, groups="school", n_draws=1000, seed=SEED)
fits = {"random intercept": post_ri, "random slopes (R&B)": post}
slope_spread = predictive.slope_heterogeneity(hsb["cses"])
replicates = {
    name: fit.to_arviz(posterior_predictive=True, draws=125, seed=SEED)
    for name, fit in fits.items()
}
ppcs = {name: predictive.ppc(idata, slope_spread) for name, idata in replicates.items()}

# %% slideshow={"slide_type": "subslide"} tags=["remove-input"]
fig, axes = plt.subplots(1, 2, figsize=(13, 4.6), sharex=True)
for ax, (name, check) in zip(axes, ppcs.items(), strict=True):
    predictive.plot_ppc_statistic(
        check, ax, xlabel="T: weighted spread of the OLS slopes", title=name
    )
fig.suptitle("One common slope cannot produce the slopes' spread; the R&B model can", y=1.02)
plt.show()

# %% tags=["nbval-check-output"]
for name, check in ppcs.items():
    print(f"{name}: T(y) = {check['observed']:.1f}, p {predictive.format_p(check)}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# The random-intercept model replicates the spread a common slope gives, about 160; the
# data's is larger (p = 0.004: 2 of 500 replicates reach it). The model with sector and
# school SES in the slopes and a random slope reproduces it. The check does not say which of
# the two does the work: notebook 11 could not tell the slopes' leftover variance from 0, and
# the fixed terms alone (sector and school SES in the slopes) already spread the slopes.

# %% [markdown] slideshow={"slide_type": "notes"}
# The plain SD of the OLS slopes (no weights) tells the two models apart far less clearly:
# most of it is the sampling noise of the small schools, which both models reproduce. A
# check is only as good as its statistic: choose one the model's assumption (here, one
# slope for all schools) would get wrong, and that is not dominated by noise.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Which model predicts a new student best? PSIS-LOO
#
# Model 1 (one mean per school, no predictors), the random intercept with predictors, and
# the R&B model, each scored on leaving out every one of the 7185 students (notebook 10),
# from 1000 draws of each (250 per chain):

# %%
post_1 = gibbs.hierarchical_normal(*hsb_arrays(), n_draws=1000, n_warmup=500, seed=SEED)
three = {"model 1": post_1, **fits}
loos = {name: predictive.loo(fit, draws=250) for name, fit in three.items()}
comparison = predictive.compare(loos)

# %% tags=["nbval-check-output"]
columns = ["elpd_loo", "se", "p_loo", "elpd_diff", "dse"]
print(comparison[columns].astype(float).round(1).to_string())
k_hat = predictive.pareto_k_table(loos)
top, limit = k_hat["max k"].max(), k_hat["threshold"].min()
print(f"largest Pareto k: {top:.2f} (reliable below {limit:.2f})")

# %% tags=["check"]
assert comparison.index[0] == "random slopes (R&B)"
assert (k_hat["max k"] < k_hat["threshold"]).all() and k_hat["max k"].max() < 0.7

# %% [markdown] slideshow={"slide_type": "fragment"}
# Student and school predictors buy far more than one mean per school: model 1 is 236.5 log
# units behind the R&B model, the random intercept with predictors 22.7 (so the predictors
# alone gain about 214); the slopes as outcomes add that smaller but clear 22.7 (dse 7.5,
# three standard errors). `p_loo`, the effective number of parameters, is smallest for the
# random intercept: with school predictors the school effects left over are small and shrunk
# hard, so they count as fewer parameters than model 1's 160 means. Every Pareto $\hat k$ is
# below its threshold (0.67 for 1000 draws; 0.7 from about 2150 on): the importance-sampling
# shortcut holds for every student.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Predicting a new student
#
# A new student of school 8367 (the smallest, Public), one unit of SES below, at, and above
# the school's mean (`cses` = −1, 0, +1; a unit is about 1.3 of this school's SDs of SES):
# $\tilde y = \tilde x^\top\beta + \tilde z^\top b_j + e$, one draw per posterior draw. The
# school's line is uncertain through $\beta$ and $b_j$; a student adds $\sigma$.

# %% tags=["nbval-check-output"]
school = "8367"
at = schools.loc[school]
new = pd.DataFrame(
    {"mses": at["mses"], "sector": at["sector"], "cses": [-1.0, 0.0, 1.0]},
    index=["cses = -1", "cses = 0", "cses = +1"],
)
x_new, z_new = reml.design_matrices(formula, hsb, new, re_formula="~cses")
prediction = predictive.mixed_prediction_table(post, school, x_new, z_new, rng)
print(prediction.round(1).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# The school's line is known to within a few points; one new student's score is known far
# less well.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Derive** $b_j \mid \beta, \Sigma, \sigma^2, y$ from the joint density (keep the
#    factors with $b_j$, complete the square in $q$ dimensions), and check that with $q = 1$
#    and $Z_j = \mathbf 1$ it is 05's $\theta_j$ conditional.
# 2. **Write the $b_j$ update** `draw_b(rng, ztz, zt_resid, sigma2, cov_re)`: one draw of
#    $b_j$ given $Z_j^\top Z_j$ (`ztz`, $q \times q$), $Z_j^\top(y_j - X_j\beta)$
#    (`zt_resid`, length $q$), $\sigma^2$ and $\Sigma$ (`cov_re`). `checks.check_update`
#    compares 5,000 of your draws at each of four schools with the exact conditional
#    (`conditionals.b_mixed` is that law: write the draw without it).
#    Hint: a multivariate normal draw is mean $+\ L\varepsilon$, $LL^\top$ the covariance
#    (`np.linalg.cholesky`).
# 3. **Predict, then compute.** Before you run anything: for a new student of school 8367 at
#    `cses = +2`, will the 95% predictive interval be much wider than at `cses = 0`? By
#    roughly how much, given the table above? Then compute it.

# %% slideshow={"slide_type": "subslide"}
draw_b = None  # your update: draw_b(rng, ztz, zt_resid, sigma2, cov_re) -> array of length q

# %% [markdown] tags=["solution"]
# Keep the two factors with $b_j$:
# $\exp\{-\frac{1}{2\sigma^2}\lVert r_j - Z_j b_j\rVert^2 - \frac12 b_j^\top\Sigma^{-1}b_j\}
# \propto \exp\{-\frac12 b_j^\top(Z_j^\top Z_j/\sigma^2 + \Sigma^{-1})b_j +
# b_j^\top Z_j^\top r_j/\sigma^2\}$. A kernel $\exp\{-\frac12 b^\top A b + b^\top c\}$ is
# $\mathcal N(A^{-1}c, A^{-1})$, so with $A = M_j/\sigma^2$, $M_j = Z_j^\top Z_j +
# \sigma^2\Sigma^{-1}$: $b_j \mid \cdot \sim \mathcal N(M_j^{-1}Z_j^\top r_j, \sigma^2
# M_j^{-1})$. With $q = 1$, $Z_j = \mathbf 1$: $M_j = n_j + \sigma^2/\tau^2$, mean
# $n_j(\bar y_j - \mu)/(n_j + \sigma^2/\tau^2)$ and variance $1/(n_j/\sigma^2 +
# 1/\tau^2)$: 05's $\theta_j - \mu$.


# %% tags=["solution"]
def draw_b(rng, ztz, zt_resid, sigma2, cov_re):  # noqa: F811 - replaces the placeholder
    precision = ztz / sigma2 + np.linalg.inv(cov_re)  # M_j / sigma2
    cov = np.linalg.inv(precision)
    mean = cov @ zt_resid / sigma2
    return mean + np.linalg.cholesky(cov) @ rng.standard_normal(len(zt_resid))


# %% tags=["answer-output"]
result = checks.check_update("b_mixed", draw_b, seed=SEED)
print(("✓ " if result.passed else "✗ ") + result.message)

# %% [markdown] tags=["solution"]
# Prediction: barely wider. The predictive variance is $\sigma^2 \approx 37$ plus the
# variance of the school's line at that SES. `cses` = +2 is 2.6 of this school's SDs of SES
# above its mean, beyond its largest value (+1.44): the line is extrapolated, and the
# slope's variance enters four times over, so the line's own interval widens by about half
# (4.6 to 6.9 points; its variance from about 1.4 to 3.1 points²). Against $\sigma^2$ that is
# small: the student's interval should widen from about 24.2 to 24.7 points (2%), about the
# Monte Carlo noise of its ends (24.3 here). The `cses` = 0 rows differ a little from the
# table above: each prediction draws its new students afresh.

# %% tags=["solution"]
far = new.iloc[[1]].assign(cses=2.0).rename(index=lambda _: "cses = +2")
x_far, z_far = reml.design_matrices(
    formula, hsb, pd.concat([new.iloc[[1]], far]), re_formula="~cses"
)
print(predictive.mixed_prediction_table(post, school, x_far, z_far, rng).round(1).to_string())

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
