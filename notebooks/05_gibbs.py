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
# # 05 · Gibbs sampling the hierarchical normal model
#
# **What you will learn**
#
# - the Bayesian hierarchical model with the lecture's default prior, and why the "reference"
#   prior $p(\tau^2) \propto 1/\tau^2$ would make the posterior improper;
# - the Gibbs sampler line by line, as twenty lines of numpy, and how to write and check its
#   four updates yourself;
# - how to derive every full conditional step by step (and where the slides have typos);
# - how to run four chains and judge them: traces, rank plots, ESS and $\hat R$;
# - the posterior of $\mu$, $\sigma$, $\tau$ and the ICC on the HSB data, next to REML;
# - how much the answer depends on the prior.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. Lecture slides "Bayesian Hierarchical Model" to "Estimates of group-specific
# effects". Notebook 04 gave REML point estimates (mu 12.64, tau 2.93, sigma 6.26); here we get
# a whole posterior for all 163 unknowns at once. The sampler lives in `hierlib.gibbs`, each
# conditional checked against the log joint density and the sampler by simulation-based
# calibration (Talts et al. 2018);
# this notebook shows a plain-numpy version of it and otherwise calls it. Budget: 30 minutes,
# half of it on the derivations and the textbook sampler.

# %% slideshow={"slide_type": "skip"}
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Code

from hierlib import (
    checks,
    conditionals,
    diagnostics,
    exact,
    gibbs,
    posterior,
    priors,
    propriety,
    textbook,
)
from hierlib.data import group_stats, hsb_arrays, subsample_groups
from hierlib.plots import use_course_style
from hierlib.reml import fit_random_intercept

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The model
#
# $$
# \begin{aligned}
# Y_{ij} \mid \theta_j, \sigma^2 &\sim \mathcal N(\theta_j, \sigma^2), && i = 1..n_j
#   \quad\text{(students within school } j\text{)}\\
# \theta_j \mid \mu, \tau^2 &\sim \mathcal N(\mu, \tau^2), && j = 1..m
#   \quad\text{(schools)}\\
# p(\mu, \sigma^2, \tau^2) &\propto 1/\sigma^2 && \text{(the lecture's default prior)}
# \end{aligned}
# $$
#
# The default prior is flat on $\mu$, flat on $\tau^2$ and $1/\sigma^2$ on $\sigma^2$.
# The unknowns: $\theta_1, \dots, \theta_{160}$, $\mu$, $\sigma^2$, $\tau^2$ — 163 of them.
# By Bayes' rule
#
# $$
# p(\theta, \mu, \sigma^2, \tau^2 \mid Y) \propto
# \prod_{j=1}^{m}\prod_{i=1}^{n_j} \mathcal N(y_{ij}; \theta_j, \sigma^2)
# \prod_{j=1}^{m} \mathcal N(\theta_j; \mu, \tau^2) \cdot \frac{1}{\sigma^2}.
# $$

# %% slideshow={"slide_type": "skip"}
y, groups = hsb_arrays()
stats = group_stats(y, groups)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why not $p(\tau^2) \propto 1/\tau^2$?
#
# Integrate $\theta$ and $\mu$ out: what remains of the likelihood as a function of $\tau^2$,
# $L(\tau^2) = \int p(y \mid \mu, \tau^2, \sigma^2)\,d\mu$, tends to a **positive constant**
# $L(0)$ as $\tau^2 \to 0$ — "all schools have the same mean" still fits the data. So near 0
# the posterior behaves like $L(0)\,p(\tau^2)$, and
#
# $$\int_0^{\varepsilon} \frac{d\tau^2}{\tau^2} = \infty \quad\text{(improper)}, \qquad
#   \int_0^{\varepsilon} 1\, d\tau^2 = \varepsilon \quad\text{(fine)}.$$
#
# At the other end $L(\tau^2)$ falls like $(\tau^2)^{-(m-1)/2}$, so the flat prior gives a
# proper posterior once there are $m \ge 4$ schools.
#
# <small>The lecture calls $p(\tau^2) \propto 1/\tau^2$ the "reference prior"; it is the
# log-uniform prior (flat on $\log\tau^2$, the Jeffreys-type prior for a scale). We keep the
# lecture's word.</small>

# %% slideshow={"slide_type": "subslide"} tags=["remove-input"]
reml = fit_random_intercept(y, groups)
ax = propriety.plot_tau2_tails(stats, sigma2=reml.sigma2)

# %% [markdown] slideshow={"slide_type": "fragment"}
# On the scale $\log\tau^2$ the reference prior is flat, so its posterior levels off at the
# height $L(0)$ forever to the left: infinite area. The flat prior adds a factor $\tau^2$, and
# the tail dies off like $e^{\log\tau^2}$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# The library refuses the reference prior with a `ValueError` that says why:

# %% tags=["nbval-check-output"]
try:
    priors.Default(tau2="reference")
except ValueError as err:
    print(f"ValueError: {err}")

# %% [markdown] slideshow={"slide_type": "notes"}
# The figure is drawn at sigma2 = 39.15 (REML); the argument holds for every sigma2. The peak
# of the posterior of log tau2 is about 560 log-units above the L(0) level, so no run of any
# length would visit the bad tail: a Gibbs sampler under the reference prior runs happily and
# prints plausible numbers. Every one of its full conditionals is proper
# (1/tau2 | rest ~ Gamma(m/2, Q/2)) even though the joint posterior is not (Hobert and
# Casella 1996). That is why the library checks the prior, not the output.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Full conditionals, typos corrected
#
# Write $\phi = 1/\sigma^2$ and $\phi_\mu = 1/\tau^2$. The slide has
# $p(Y\mid\theta_j,\phi) \propto
#  \sum_j\sum_i \phi^{1/2}\exp\big(\tfrac12\phi(Y_{ij}-\theta_j)^2\big)$:
# independent observations **multiply** (not add), and the exponent needs a **minus** sign:
#
# $$
# p(Y \mid \theta, \phi) = \prod_{j=1}^m\prod_{i=1}^{n_j} \Big(\frac{\phi}{2\pi}\Big)^{1/2}
#   e^{-\frac12\phi(y_{ij}-\theta_j)^2}
# \propto \phi^{N/2} \exp\Big\{-\tfrac12\phi \sum_j \big[SS_j + n_j(\bar y_j-\theta_j)^2\big]\Big\},
# $$
#
# with $N = \sum_j n_j$ students and $SS_j = \sum_i (y_{ij} - \bar y_j)^2$ the sum of squares
# within school $j$, using $\sum_i (y_{ij}-\theta_j)^2 = SS_j + n_j(\bar y_j - \theta_j)^2$:
# the data enter only through $n_j$, $\bar y_j$, $SS_j$. Likewise
# $p(\theta \mid \mu, \phi_\mu) \propto
#  \phi_\mu^{m/2}\exp\{-\tfrac12\phi_\mu\sum_j(\theta_j-\mu)^2\}$.
#
# The priors on the precisions (change of variables, $|d\sigma^2/d\phi| = \phi^{-2}$):
# $p(\sigma^2)\propto 1/\sigma^2 \iff p(\phi) \propto \phi^{-1}$, and
# $p(\tau^2) \propto 1 \iff p(\phi_\mu) \propto \phi_\mu^{-2}$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### $\theta_j \mid \text{rest}$
#
# Keep the factors that contain $\theta_j$; everything else is a constant:
#
# $$
# p(\theta_j \mid \cdot) \propto \exp\Big\{-\tfrac12 n_j\phi(\bar y_j-\theta_j)^2
#   - \tfrac12\phi_\mu(\theta_j-\mu)^2\Big\}
# \propto \exp\Big\{-\tfrac12 (n_j\phi + \phi_\mu)\theta_j^2
#   + (n_j\phi\bar y_j + \phi_\mu\mu)\theta_j\Big\}.
# $$
#
# A quadratic in the exponent is a normal kernel: $-\frac12 a\theta^2 + b\theta$ is
# $\mathcal N(b/a, 1/a)$. So
#
# $$
# \theta_j \mid \mu, \sigma^2, \tau^2, Y \sim
# \mathcal N\Big(\frac{n_j\bar y_j/\sigma^2 + \mu/\tau^2}{n_j/\sigma^2 + 1/\tau^2},\;
#   \frac{1}{n_j/\sigma^2 + 1/\tau^2}\Big),
# $$
#
# independently over $j$: the precisions add, the mean is the precision-weighted average of
# $\bar y_j$ and $\mu$ — the shrinkage formula of notebook 07.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### $\mu \mid \text{rest}$
#
# $\mu$ appears only in $p(\theta\mid\mu,\phi_\mu)$ and in its flat prior $p(\mu) \propto 1$:
#
# $$
# p(\mu \mid \theta, \phi_\mu) \propto
#   \Big[\prod_{j=1}^m e^{-\frac12\phi_\mu(\theta_j-\mu)^2}\Big]\,p(\mu)
# \propto e^{-\frac12 m\phi_\mu(\mu-\bar\theta)^2}
# \quad\Longrightarrow\quad
# \mu \mid \theta, \tau^2 \sim \mathcal N\big(\bar\theta,\ \tau^2/m\big),
# \quad \bar\theta = \tfrac1m\textstyle\sum_j\theta_j .
# $$
#
# The slide's result $\mathcal N(\sum_j\theta_j/m,\ 1/(m\phi_\mu))$ is right, but its line
# $\propto \prod_j p(\theta_j\mid\mu,\phi_\mu)\,p(\mu) = \mathcal N(\dots)$ needs three fixes:
# condition on **all** of $\theta = (\theta_1..\theta_m)$, not "$\theta_j$"; $p(\mu)$ sits
# **outside** the product (inside it would be $p(\mu)^m$, harmless only because $p(\mu)\propto 1$);
# and "$\propto$ kernel, so $\mu \mid \cdot \sim \mathcal N$", not "$= \mathcal N$".
# (Under Hoff's prior $\mu \sim \mathcal N(\mu_0, \gamma_0^2)$: exercise 1.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### $\sigma^2 \mid \text{rest}$ and $\tau^2 \mid \text{rest}$
#
# With $S = \sum_j [SS_j + n_j(\bar y_j-\theta_j)^2]$, $Q = \sum_j (\theta_j - \mu)^2$ and
# $N = \sum_j n_j$ students:
#
# $$
# p(\phi\mid\cdot) \propto \phi^{N/2} e^{-\frac12\phi S}\cdot\phi^{-1}
# \;\Longrightarrow\; \frac1{\sigma^2}\,\Big|\,\theta, Y \sim
#   \text{Gamma}\Big(\frac{N}{2},\ \frac{S}{2}\Big),
# $$
# $$
# p(\phi_\mu\mid\cdot) \propto \phi_\mu^{m/2} e^{-\frac12\phi_\mu Q}\cdot\phi_\mu^{-2}
# \;\Longrightarrow\; \frac1{\tau^2}\,\Big|\,\theta, \mu \sim
#   \text{Gamma}\Big(\frac{m-2}{2},\ \frac{Q}{2}\Big)
# $$
#
# (Gamma with shape and **rate**: the $\frac12$ of the Gaussian exponent lands in the rate —
# the factor the slides drop in their Gamma conditionals for the unequal-variance model,
# notebook 06.) Under Hoff's semi-conjugate prior
# $1/\sigma^2 \sim \text{Gamma}(\nu_0/2, \nu_0\sigma_0^2/2)$,
# $1/\tau^2 \sim \text{Gamma}(\eta_0/2, \eta_0\tau_0^2/2)$ the prior's pseudo-data add:
# $\text{Gamma}\big(\frac{\nu_0+N}{2}, \frac{\nu_0\sigma_0^2 + S}{2}\big)$ and
# $\text{Gamma}\big(\frac{\eta_0+m}{2}, \frac{\eta_0\tau_0^2 + Q}{2}\big)$.
# Under the reference (log-uniform) prior the $\tau^2$ conditional would be
# $\text{Gamma}(m/2, Q/2)$: proper, although the joint posterior is not.

# %% [markdown] slideshow={"slide_type": "notes"}
# Derivation recipe for every conditional: (1) write the joint, (2) drop every factor without
# the parameter, (3) recognise the kernel (quadratic in the exponent: normal; power times
# exp(-rate x): Gamma). Typos to point at on the slides: sum instead of product in p(Y|theta),
# exp(+1/2 ...) instead of exp(-1/2 ...) twice, p(mu) inside the product (and, on the
# unequal-variance slide, notebook 06, Gamma rates missing the 1/2). With N = 7185 and
# m = 160, the sigma2 conditional is very tight (shape 3592.5) and the tau2 conditional is
# Gamma(79, Q/2).

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Checking the algebra against the joint density
#
# A full conditional must differ from the log joint density only by a constant. Hold
# everything else fixed, move one parameter along a grid, and look at the difference
# (`hierlib.conditionals` computes the joint from the raw 7185 scores with `scipy.stats`):

# %% tags=["remove-input", "nbval-check-output"]
theta0, mu0, s20, t20 = stats.ybar, stats.grand_mean, 39.0, 8.6
prior = priors.Default()
grid = np.linspace(0.5, 1.5, 7)  # multiples of the current value
gap = posterior.conditional_gap

gaps = {
    "sigma2": gap(
        lambda v: conditionals.log_joint(y, groups, theta0, mu0, v * s20, t20, prior),
        lambda v: conditionals.sigma_precision(stats, theta0).logpdf_of_inverse(v * s20),
        grid,
    ),
    "tau2": gap(
        lambda v: conditionals.log_joint(y, groups, theta0, mu0, s20, v * t20, prior),
        lambda v: conditionals.tau_precision(theta0 - mu0).logpdf_of_inverse(v * t20),
        grid,
    ),
    "mu": gap(
        lambda v: conditionals.log_joint(y, groups, theta0, v * mu0, s20, t20, prior),
        lambda v: conditionals.mu_centered(theta0, t20).logpdf(v * mu0),
        grid,
    ),
    "tau2, wrong shape m/2": gap(
        lambda v: conditionals.log_joint(y, groups, theta0, mu0, s20, v * t20, prior),
        lambda v: conditionals.tau_precision(theta0 - mu0, a_tau=0).logpdf_of_inverse(v * t20),
        grid,
    ),
}
for name, value in gaps.items():
    print(f"{name:>21}: log joint - log conditional varies by {value:.1e} over the grid")

# %% tags=["check"]
wrong = gaps.pop("tau2, wrong shape m/2")
assert max(gaps.values()) < 1e-6
assert wrong > 0.5  # a wrong conditional shows: the reference prior's leaves a gap

# %% [markdown] slideshow={"slide_type": "fragment"}
# The three derived conditionals match to rounding error. The last line is the control: the
# $\tau^2$ conditional of the *reference* prior, $\text{Gamma}(m/2, Q/2)$, is the wrong one
# for our prior, and the check says so.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Running the sampler: four chains
#
# One sweep draws $\theta \mid \cdot$, then $\sigma^2 \mid \cdot$, then $\mu \mid \cdot$ and
# $\tau^2 \mid \cdot$, each from the distribution just derived, using only the 160 schools'
# $(n_j, \bar y_j, SS_j)$. (Any fixed order works: each step leaves the posterior unchanged,
# so the chain converges to the same posterior whichever order the sweep uses.) Four chains
# with independent random streams, 1000 warm-up sweeps each thrown away, 5000 kept.

# %%
post = gibbs.hierarchical_normal(
    y,
    groups,
    prior=priors.Default(),
    n_draws=5000,
    n_warmup=1000,
    n_chains=4,
    seed=SEED,
)
draws = posterior.derived_draws(post)
print(f"{post.n_chains} chains x {post.n_draws} draws")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The sampler, line by line
#
# `gibbs.hierarchical_normal` runs compiled code. Here is the same sampler written the way a
# textbook writes it (`hierlib.textbook.gibbs_sampler`): one sweep is four draws, one per
# full conditional, in the order above.

# %% slideshow={"slide_type": "-"} tags=["remove-input"]
Code(textbook.source_without_docstring(textbook.gibbs_sampler), language="python")

# %% [markdown] slideshow={"slide_type": "notes"}
# Read it line by line against the derivations: precision then mean for theta; S, then a
# Gamma draw inverted for sigma2; mu from the mean of the theta's; Q, then a Gamma draw
# inverted for tau2. Point at `scale=2 / S`: numpy's gamma takes the scale, 1/rate. The
# docstring is cut off here; `textbook.gibbs_sampler?` shows it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Textbook and compiled: the same posterior?
#
# Four chains of the textbook sampler (500 warm-up sweeps, 1500 kept), next to the compiled
# run above. Each posterior mean comes with its Monte Carlo standard error (MCSE): two runs
# agree when they differ by no more than a few MCSEs.

# %% tags=["remove-input"]
t0 = time.perf_counter()
tb_draws = textbook.run_chains(stats, n_draws=1500, n_warmup=500, n_chains=4, seed=SEED)
tb_seconds = time.perf_counter() - t0
tb_table = diagnostics.summary_table(tb_draws, ["mu", "sigma", "tau"])
compiled_table = diagnostics.summary_table(post, ["mu", "sigma", "tau"])

# %% tags=["nbval-check-output"]
print("        textbook (MCSE)   compiled (MCSE)   difference / combined MCSE")
for name in ("mu", "sigma", "tau"):
    a, b = tb_table.loc[name], compiled_table.loc[name]
    z = (a["mean"] - b["mean"]) / np.hypot(a["mcse_mean"], b["mcse_mean"])
    print(
        f"{name:>5}:  {a['mean']:6.3f} ({a['mcse_mean']:.3f})   {b['mean']:6.3f} "
        f"({b['mcse_mean']:.3f})    {z:+.1f}"
    )

# %% tags=["check"]
z = (tb_table["mean"] - compiled_table["mean"]) / np.hypot(
    tb_table["mcse_mean"], compiled_table["mcse_mean"]
)
assert (z.abs() < 4).all()  # the two runs agree within 4 combined Monte Carlo errors

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How much faster is the compiled sampler?
#
# Both runs were timed above. Run the next cell to see the ratio per sweep on your machine
# (its output is not kept in the notebook: it changes with the machine and its load).

# %% tags=["timing"]
per_sweep_tb = tb_seconds / (4 * 2000)
per_sweep_compiled = post.elapsed / (post.n_chains * (post.n_draws + 1000))
ratio = per_sweep_tb / per_sweep_compiled  # depends on the machine and its load
print(f"The compiled sampler is about {ratio:.0f} times faster per sweep on this machine.")

# %% [markdown] slideshow={"slide_type": "fragment"}
# So: the same posterior (previous slide), for a fraction of the time. The textbook sampler
# is the one to read; the
# compiled one is the one to run when a model is refitted many times (notebook 07 refits it
# on 20 held-out splits; simulation-based calibration refits it hundreds of times).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Trace plots: do the chains mix?
#
# Left, each chain's density; right, each chain's draws in order (one colour per chain, the
# first 500 draws of each). Good chains overlap and look like "hairy caterpillars" with no
# trends.

# %% tags=["remove-input"]
first = {name: draws[name][:, :500] for name in ("mu", "sigma", "tau")}
axes = diagnostics.plot_trace(first, figsize=(9.5, 6.2))
axes[0, 1].figure.suptitle("Four chains overlap and show no trend: the sampler mixes", y=1.02)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Rank plots
#
# Rank the draws of all chains together, then histogram each chain's ranks. If the chains
# sample the same distribution each histogram is flat; a chain stuck high or low shows up as
# a slope. Left: $\mu$ from our sampler; right: from the offset sampler of notebook 09,
# which mixes badly on HSB (4 chains of 500 draws each).

# %% tags=["remove-input"]
post_offset = gibbs.hierarchical_normal(
    y, groups, parameterization="offset", n_draws=500, n_warmup=100, seed=SEED, keep_theta=[]
)
fig, axes = plt.subplots(1, 2, figsize=(9.5, 4), sharey=True)
diagnostics.plot_rank({"mu": draws["mu"][:, :500]}, "mu", ax=axes[0])
diagnostics.plot_rank(post_offset, "mu", ax=axes[1])
axes[0].set_title("μ, centered: flat, chains agree")
axes[1].set_title("μ, offset: sloped, chains disagree")
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The ArviZ summary
#
# Posterior mean and sd, equal-tailed 95% interval, Monte Carlo standard error of the mean,
# bulk and tail effective sample size, and rank-normalised split $\hat R$.

# %%
names = ["mu", "sigma", "tau", "sigma2", "tau2", "icc"]
table = diagnostics.summary_table(draws, names)
diagnostics.summary_table(draws, names, round_to=3)

# %% [markdown] slideshow={"slide_type": "notes"}
# How to read it: ESS of 13,000 to 19,000 means the posterior means are known to a few
# thousandths (mcse_mean); R-hat at 1.00 means the four chains agree. Tail ESS is about the
# 5% and 95% quantiles: those need more draws than the mean. The centered sampler mixes
# well here because each school has 14 to 67 students (notebook 09 shows when it does not).

# %% slideshow={"slide_type": "skip"} tags=["nbval-check-output"]
for name in ("mu", "sigma", "tau", "icc"):
    row = table.loc[name]
    print(
        f"{name:>5}: mean {row['mean']:.2f}, 95% interval [{row['2.5%']:.2f}, "
        f"{row['97.5%']:.2f}], R-hat {row['r_hat']:.2f}"
    )

# %% tags=["check"]
# Expected on HSB with the default prior: mu 12.64, sigma 6.26, tau 2.97. The
# expected values are rounded to 0.01 (error <= 0.005); the Monte Carlo error of each mean is
# mcse_mean, so allow the rounding plus 4 Monte Carlo errors: 0.005 + 4 * mcse.
expected = {"mu": 12.64, "sigma": 6.26, "tau": 2.97}
for name, value in expected.items():
    tol = 0.005 + 4 * table.loc[name, "mcse_mean"]
    assert abs(table.loc[name, "mean"] - value) < tol, (name, table.loc[name, "mean"], tol)
assert (table["r_hat"] < 1.01).all()
assert (table["ess_bulk"] > 1000).all()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The sampler, seen to be right: the exact posterior of $\tau$
#
# In this model $\theta$ and $\mu$ integrate out in closed form (normal integrals) and
# $\sigma^2$ by one-dimensional quadrature, so $p(\tau \mid Y)$ can be computed on a grid
# with no sampling at all (`hierlib.exact.marginal_tau2`). The Gibbs draws must follow it.

# %% tags=["remove-input"]
exact_tau = exact.marginal_tau2(y, groups, n_grid=401)
ax = exact.plot_tau_posteriors(
    {"flat p(τ²)": exact_tau},
    {"flat p(τ²)": draws["tau"]},
    title="20 000 Gibbs draws of τ follow the exact posterior p(τ | Y)",
)
plt.show()

# %% slideshow={"slide_type": "skip"} tags=["nbval-check-output"]
exact_mean = exact.tau_summary(exact_tau)["mean"]
mcse_tau = table.loc["tau", "mcse_mean"]
print(f"E[tau | Y]: exact {exact_mean:.2f}, Gibbs {draws['tau'].mean():.2f}")
print(f"difference {abs(exact_mean - draws['tau'].mean()):.3f}, Monte Carlo s.e. {mcse_tau:.3f}")

# %% tags=["check"]
assert abs(exact_mean - draws["tau"].mean()) < 4 * mcse_tau + 1e-3

# %% [markdown] slideshow={"slide_type": "notes"}
# The exact curve needs no sampler: with theta and mu integrated out, the likelihood of
# (tau2, sigma2) is a product of normal densities of the school means (variance
# tau2 + sigma2/n_j) and a chi-square term for the within-school sums of squares; one
# quadrature over sigma2 remains. This is the strongest check of the sampler the course
# has: the whole distribution, not one number, and on the real data. Numbers to say: the
# exact posterior mean of tau is 2.97, the Gibbs mean 2.97, a difference of a few
# thousandths, within the Monte Carlo standard error.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The posterior of $\mu$, $\sigma$, $\tau$ and the ICC
#
# The ICC $\rho = \tau^2/(\tau^2+\sigma^2)$ is a function of the parameters, so its posterior
# comes for free: compute it at every draw.

# %% tags=["remove-input"]
reml_values = {
    "mu": reml.mu_hat,
    "sigma": np.sqrt(reml.sigma2),
    "tau": np.sqrt(reml.tau2),
    "icc": reml.tau2 / (reml.tau2 + reml.sigma2),
}
axes = posterior.plot_marginals(draws, reference=reml_values)
axes[0, 0].figure.suptitle(
    "Posterior of each quantity (shaded: 95% interval); REML sits near the posterior mean", y=1.02
)
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Bayesian vs REML, side by side

# %%
comparison = posterior.bayes_vs_reml(post, reml)
comparison.round(3)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-check-output"]
lo, hi = reml.mu_hat - 1.96 * reml.se_mu, reml.mu_hat + 1.96 * reml.se_mu
m = comparison.iloc[0]
print(f"REML  mu: {reml.mu_hat:.2f}, Wald 95% [{lo:.2f}, {hi:.2f}]")
print(f"Bayes mu: {m['posterior mean']:.2f}, 95% [{m['lower']:.2f}, {m['upper']:.2f}]")
print(f"P(ICC > 0.18 | Y) = {(draws['icc'] > 0.18).mean():.2f}")

# %% [markdown] slideshow={"slide_type": "fragment"}
# - $\mu$ and $\sigma$: the two answers agree to the second decimal; the Bayesian interval for
#   $\mu$ is the REML Wald interval, give or take a hundredth.
# - $\tau$: the posterior mean is a little **above** REML's estimate. $\tau$ is learnt from 160
#   noisy school means, $\sigma$ from 7185 students: the posterior of $\tau$ is wider and
#   skewed to the right, so its mean lies above a mode-like point such as REML's estimate.
# - What the Bayesian fit adds: a full distribution for every quantity (the ICC included)
#   without a delta method, and the uncertainty in $\tau^2$ carried into every $\theta_j$.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: Bayes mu 12.64 vs REML 12.637; sigma 6.26 vs 6.257; tau 2.97 vs 2.935; ICC
# about 0.18 both ways (about 18% of the variance lies between schools). The lecture's slide
# gives the Bayesian posterior means 48.12, 9.21^2, 4.97^2: those are Hoff's ELS 2002 data
# (100 schools, scores around 50), not HSB -- do not compare them with the REML numbers.
# And "posterior mean of sigma^2 = 9.21^2" is the square of the posterior mean of sigma,
# E[sigma | Y]^2, which is a little below E[sigma^2 | Y] (Jensen); likewise 4.97^2.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Reading $\sigma$ and $\tau$ as ranges of scores
#
# About 95% of a normal population lies within $\pm 2$ sd of its mean, an interval 4 sd wide:
#
# - about 95% of the scores **within a school** lie in a band $4\sigma$ wide around the
#   school's mean;
# - about 95% of the **school means** lie in a band $4\tau$ wide around $\mu$.

# %% tags=["nbval-check-output"]
reading = posterior.spread_reading(draws["sigma"].mean(), draws["tau"].mean())
print(reading.round(1).to_string())

# %% [markdown] slideshow={"slide_type": "fragment"}
# On HSB: about 95% of the students of one school lie in a band **25 points** wide, and
# about 95% of school means in a band **12 points** wide. The lecture's
# "$4\times 9.21 = 37$" and "$4\times 4.97 = 20$" points, with $\mu = 48.12$, come from
# Hoff's ELS data (a different test, on a scale around 50), not from HSB.

# %% tags=["check"]
# the lecture's reading (Hoff's ELS numbers) and ours (HSB)
hoff = posterior.spread_reading(9.21, 4.97)
assert round(hoff.loc["scores within a school", "4 x sd"]) == 37
assert round(hoff.loc["school means", "4 x sd"]) == 20
assert round(reading.loc["scores within a school", "4 x sd"]) == 25
assert round(reading.loc["school means", "4 x sd"]) == 12

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Does the prior matter?
#
# Refit with three proper semi-conjugate priors (Hoff's form):
#
# | prior | $\mu_0$, $\gamma_0^2$ | $\eta_0$, $\tau_0^2$ | $\nu_0$, $\sigma_0^2$ | idea |
# |---|---|---|---|---|
# | weak, HSB scale | 12, 100 | 1, 9 | 1, 36 | a vague guess on the right scale |
# | Hoff's ELS prior | 50, 25 | 1, 100 | 1, 100 | from another data set: $\mu_0$ far off |
# | dogmatic $\tau$ | 12, 100 | 100, 1 | 1, 36 | "worth 100 schools with $\tau = 1$" |
#
# A prior on $\mu$ with variance $\gamma_0^2$ is worth $\tau^2/\gamma_0^2$ schools (one school
# mean $\theta_j$ tells us about $\mu$ with variance $\tau^2$); $\eta_0$ and $\nu_0$ count
# pseudo-schools and pseudo-students directly.

# %%
SC = priors.SemiConjugate
prior_choices = {
    "default": priors.Default(),
    "weak, HSB scale": SC(mu0=12, g20=100, eta0=1, t20=9, nu0=1, s20=36),
    "Hoff's ELS prior": SC(mu0=50, g20=25, eta0=1, t20=100, nu0=1, s20=100),
    "dogmatic tau": SC(mu0=12, g20=100, eta0=100, t20=1, nu0=1, s20=36),
}

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Posterior means under each prior
#
# Same data, same seed, one fit per prior (`posterior.prior_sensitivity` also keeps the 95%
# intervals).

# %% tags=["nbval-check-output"]
fits = {"default": post}
for name, p in list(prior_choices.items())[1:]:
    fits[name] = gibbs.hierarchical_normal(y, groups, prior=p, seed=SEED)
sensitivity = posterior.prior_sensitivity(fits)
means = sensitivity.xs("mean", axis=1, level=1)
short = {posterior.LABELS[k]: k for k in ("mu", "sigma", "tau", "icc")}
print(means.T.rename(columns=short).round(2).to_string())

# %% tags=["check"]
# 160 schools swamp a vague prior; a prior on tau2 worth 100 schools does not.
tau_means = means.loc[posterior.LABELS["tau"]]
assert abs(tau_means["weak, HSB scale"] - tau_means["default"]) < 0.05
assert abs(means.loc[posterior.LABELS["mu"], "Hoff's ELS prior"] - 12.64) < 0.2
assert tau_means["dogmatic tau"] < tau_means["default"] - 0.3

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Where the prior shows: $\tau$

# %% tags=["remove-input"]
ax = posterior.plot_by_prior(fits, "tau")
ax.set_title("τ follows the data unless the prior is worth about as many schools (η₀ = 100)")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the prior comparison
#
# - A vague prior on the right scale changes nothing visible: the data dominate.
# - Even Hoff's prior, centred at $\mu_0 = 50$ for a test scored around 50, moves $\mu$ by
#   only a tenth of a point. What we learn about $\mu$ comes from the **160 schools**, not
#   from the 7185 students: each school mean $\bar y_j$ varies around $\mu$ with variance
#   $\tau^2 + \sigma^2/n_j$, so $\mathrm{Var}(\mu \mid Y) \approx
#   1/\sum_j (\tau^2 + \sigma^2/n_j)^{-1}$, an sd of about 0.25. The prior sd of 5 is worth
#   $\tau^2/\gamma_0^2 \approx 8.8/25 \approx 0.35$ of a school against 160. Its guess
#   $\tau_0 = 10$, worth one school ($\eta_0 = 1$), lifts $\tau$ by a tenth too.
# - A prior on $\tau^2$ worth 100 pseudo-schools pulls $\tau$ down visibly. $\tau$ is learnt
#   from only 160 schools, so it is the quantity to watch when choosing a prior.

# %% [markdown] slideshow={"slide_type": "notes"}
# The rule of thumb: a prior matters when its "prior sample size" (eta0 for tau2, nu0 for
# sigma2, tau^2/gamma0^2 for mu) is comparable to the data's (m = 160 schools for tau2 and
# for mu, n = 7185 students for sigma2). For mu: Var(mu | Y) is about
# 1 / sum_j 1/(tau^2 + sigma^2/n_j) = 0.25^2, the information of 160 school means, each
# noisy by tau^2 + sigma^2/n_j; Hoff's gamma0^2 = 25 is worth 8.8/25 = 0.35 of a school,
# hence the shift of about a tenth of a point towards 50.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The prior on $\tau$ when there are few schools
#
# With 160 schools the data pin $\tau$ down. Keep 8 schools, drawn at random, and compare
# three default priors (Gelman 2006):
#
# - the lecture's flat $p(\tau^2) \propto 1$, that is $p(\tau) \propto \tau$ (needs
#   $m \ge 4$ schools);
# - $p(\tau) \propto 1$, that is $p(\tau^2) \propto 1/\tau$ (BDA 5.7; needs $m \ge 3$);
# - $\tau \sim$ half-Cauchy$(0, A)$, $A = 5$ points: *weakly informative*. Its density falls
#   steadily from $\tau = 0$ (at $\tau = A$ it is half its value at 0), so it leans
#   gently towards small $\tau$, and its heavy tail rules no large $\tau$ out (proper: any
#   number of schools).
#
# $p(\tau^2) \propto 1/\tau^2$ stays refused: improper for every number of schools.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The two new priors in the Gibbs sampler
#
# **$p(\tau) \propto 1$.** $p(\tau^2) \propto (\tau^2)^{-1/2}$; with $\phi_\mu = 1/\tau^2$ and
# $|d\tau^2/d\phi_\mu| = \phi_\mu^{-2}$: $p(\phi_\mu) \propto \phi_\mu^{1/2}\phi_\mu^{-2} =
# \phi_\mu^{-3/2}$, so $\frac{1}{\tau^2} \mid \theta, \mu \sim
# \text{Gamma}\big(\frac{m-1}{2}, \frac{Q}{2}\big)$ (flat $p(\tau^2)$ gave $\frac{m-2}{2}$).
#
# **Half-Cauchy$(0, A)$** is not conjugate, but it is a mixture with an extra unknown $a$:
# $\tau^2 \mid a \sim \text{Inv-Gamma}(\frac12, \frac1a)$,
# $a \sim \text{Inv-Gamma}(\frac12, \frac{1}{A^2})$. Given $a$ the precision prior is
# $\text{Gamma}(\frac12, \frac1a)$, and as a function of $a$
#
# $$
# p(a \mid \tau^2) \propto a^{-1/2}e^{-1/(a\tau^2)}\cdot a^{-3/2}e^{-1/(aA^2)}
# = a^{-2}e^{-(1/A^2 + 1/\tau^2)/a},
# $$
#
# so each sweep adds two conjugate draws:
# $\frac{1}{\tau^2} \mid \theta, \mu, a \sim \text{Gamma}\big(\frac{m+1}{2}, \frac1a +
# \frac{Q}{2}\big)$ and $\frac1a \mid \tau^2 \sim \text{Gamma}\big(1, \frac{1}{A^2} +
# \frac{1}{\tau^2}\big)$.

# %% tags=["nbval-check-output"]
y8, groups8 = subsample_groups(y, groups, 8, rng)
print("the 8 schools kept:", ", ".join(np.unique(groups8)))
tau_priors = {
    "flat p(τ²)": priors.Default(),
    "p(τ) ∝ 1": priors.Default(tau2="uniform-tau"),
    "half-Cauchy(0, 5)": priors.HalfCauchy(scale=5.0),
}
exact8 = {name: exact.marginal_tau2(y8, groups8, p) for name, p in tau_priors.items()}
tau8 = {
    name: np.sqrt(
        gibbs.hierarchical_normal(
            y8, groups8, prior=p, parameterization="interweaved", n_draws=2500, seed=SEED
        ).draws["tau2"]
    )
    for name, p in tau_priors.items()
}

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Eight schools: the prior shapes the posterior of $\tau$

# %% tags=["remove-input"]
ax = exact.plot_tau_posteriors(
    exact8, tau8, title="With 8 schools, the flat prior on τ² drags τ to larger values"
)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Eight schools against 160: posterior mean and 95% interval of $\tau$ (exact)

# %% tags=["nbval-check-output"]
for name, p in tau_priors.items():
    few = exact.tau_summary(exact8[name])
    many = exact.tau_summary(exact.marginal_tau2(y, groups, p, n_grid=401))
    print(
        f"{name:>17}: 8 schools {few['mean']:.2f} [{few['lower']:.2f}, {few['upper']:.2f}]"
        f" | 160 schools {many['mean']:.2f} [{many['lower']:.2f}, {many['upper']:.2f}]"
    )

# %% tags=["check"]
flat8 = exact.tau_summary(exact8["flat p(τ²)"])
unif8 = exact.tau_summary(exact8["p(τ) ∝ 1"])
assert flat8["mean"] > unif8["mean"] and flat8["upper"] > unif8["upper"]
for name in tau_priors:  # the Gibbs draws follow each exact marginal
    assert abs(tau8[name].mean() - exact.tau_summary(exact8[name])["mean"]) < 0.1

# %% [markdown] slideshow={"slide_type": "fragment"}
# - With 8 schools the likelihood of $\tau$ is wide, so the prior's factor matters. The flat
#   $p(\tau^2)$ is $p(\tau) \propto \tau$ and pushes mass to large $\tau$ (mean 4.97);
#   $p(\tau) \propto 1$ adds nothing to the likelihood (4.33); the half-Cauchy pulls $\tau$
#   down a little further (3.93, upper limit 7.1 against 8.5). Weakly informative is not
#   noninformative: with few schools it shows.
# - With 160 schools the three agree to a few hundredths: the likelihood of $\tau$ is then
#   so narrow that any smooth prior is nearly constant across it.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Which 8 schools matters as much as the prior
#
# The same exact posterior mean of $\tau$, flat $p(\tau^2)$, for 20 other random sets of 8
# schools:

# %% tags=["nbval-check-output"]
rng_sets = np.random.default_rng(SEED + 8)
means8 = [
    exact.tau_summary(exact.marginal_tau2(*subsample_groups(y, groups, 8, rng_sets)))["mean"]
    for _ in range(20)
]
print(
    f"E[tau | y] over 20 sets of 8 schools: {min(means8):.2f} to {max(means8):.2f} "
    f"(median {np.median(means8):.2f})"
)

# %% [markdown] slideshow={"slide_type": "fragment"}
# Eight schools say little about how schools differ: depending on which eight, $E[\tau \mid
# y]$ moves by far more than any of the three priors moves it. The priors' differences
# above are real, but they are differences in a very uncertain answer.

# %% [markdown] slideshow={"slide_type": "notes"}
# Gelman (2006) recommends the uniform on tau when there are enough groups (m >= 3 for
# propriety, and more for a stable answer) and a half-Cauchy with a scale a bit above the
# plausible tau when there are few. The inverse-gamma(eps, eps) on tau2 is the refused
# reference prior in disguise: for small eps its answer depends on eps. The sampler draws
# the half-Cauchy through an auxiliary variable: tau2 | a ~ Inv-Gamma(1/2, 1/a),
# a ~ Inv-Gamma(1/2, 1/A^2), both conditionals conjugate.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Derive** $\mu \mid \theta, \tau^2$ under Hoff's prior $\mu \sim \mathcal N(\mu_0,
#    \gamma_0^2)$ (the recipe: keep the factors with $\mu$, recognise the kernel). What does it
#    become as $\gamma_0^2 \to \infty$?
# 2. **Write the four updates under Hoff's semi-conjugate prior** (below: `PRIOR`), from the
#    derivations: $\mu$ from exercise 1, $\sigma^2$ and $\tau^2$ from the slide on their
#    conditionals, where the prior's pseudo-data add to the shape and the rate. First
#    **predict**: which of the four updates does the prior change, and why not the fourth?
#    (Answer before reading the table of arguments below: it gives the answer away.)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Exercises, continued
#
# 3. **Assemble** your four updates into a whole sampler, `my_gibbs(stats, n_sweeps, rng)`,
#    returning an array of shape `(n_sweeps, 3)`: $(\mu, \sigma^2, \tau^2)$ of every sweep
#    under `PRIOR`. `checks.check_sampler` runs it on a small data set whose exact posterior
#    it knows and says what is off; then run it on HSB and compare with
#    `gibbs.hierarchical_normal(y, groups, prior=PRIOR)`.
# 4. **Predict, then compute.** A confident prior $\mu \sim \mathcal N(15, 0.5^2)$: before
#    you run anything, use your answer to exercise 1 and $\mathrm{Var}(\mu \mid Y) \approx
#    0.25^2$ to predict the posterior mean of $\mu$, and say how many schools the prior is
#    worth. Then fit it
#    (`priors.SemiConjugate(mu0=15, g20=0.25, eta0=1, t20=9, nu0=1, s20=36)`) and compare.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ### Writing the updates: what the check expects
#
# Each update gets numpy's `rng` first and returns one draw. With
# $N = \sum_j n_j$ the number of students (the `n` passed in is the array of the $n_j$), the
# arguments are:
#
# | update | arguments after `rng` | returns |
# |---|---|---|
# | `draw_theta` | `mu, sigma2, tau2, n, ybar` | an array: one draw of every $\theta_j$ |
# | `draw_sigma2` | `theta, n, ybar, ss, prior` (`ss`: the within-school $SS_j$) | a float |
# | `draw_mu` | `theta, tau2, prior` | a float |
# | `draw_tau2` | `theta, mu, prior` | a float |
#
# An update that uses the prior takes it as its last argument, `prior`: `prior.mu0` and
# `prior.g20` ($\mu_0$, $\gamma_0^2$), `prior.eta0` and `prior.t20` ($\eta_0$, $\tau_0^2$),
# `prior.nu0` and `prior.s20` ($\nu_0$, $\sigma_0^2$).
#
# Hints: numpy's `rng.gamma(shape, scale)` takes the **scale**, 1/rate; a Gamma rate
# collects the prior's part ($\nu_0\sigma_0^2$: a count times a guess) and the data's, then
# halves the sum; the mean of $\mu \mid$ rest weights $\bar\theta$ and $\mu_0$ by their
# **precisions**. `checks.check_all` calls each update 20,000 times at fixed values (and 5,000
# times at a second, stronger prior) and compares the draws with the exact full conditional;
# when they differ it says how, and names the slip where it recognises one.

# %% slideshow={"slide_type": "subslide"}
PRIOR = priors.SemiConjugate(mu0=10, g20=4, eta0=4, t20=9, nu0=10, s20=36)
# Put your functions into `updates` (e.g. updates["mu"] = draw_mu) and define my_gibbs.
updates = {"theta": None, "sigma2": None, "mu": None, "tau2": None}  # none written yet
my_gibbs = None

# %% [markdown] tags=["solution"]
# Keep the factors with $\mu$: $\prod_j e^{-(\theta_j-\mu)^2/(2\tau^2)} \cdot
# e^{-(\mu-\mu_0)^2/(2\gamma_0^2)} \propto \exp\{-\tfrac12(m/\tau^2 + 1/\gamma_0^2)\mu^2 +
# (m\bar\theta/\tau^2 + \mu_0/\gamma_0^2)\mu\}$, a normal kernel:
#
# $$\mu \mid \theta, \tau^2 \sim \mathcal N\Big(\frac{m\bar\theta/\tau^2 + \mu_0/\gamma_0^2}
#   {m/\tau^2 + 1/\gamma_0^2},\ \frac{1}{m/\tau^2 + 1/\gamma_0^2}\Big).$$
#
# The precisions add; the prior acts as $\tau^2/\gamma_0^2$ extra schools with mean $\mu_0$.
# As $\gamma_0^2 \to \infty$ it becomes $\mathcal N(\bar\theta, \tau^2/m)$, the flat-prior
# conditional.
#
# Exercise 2's prediction: the prior is a prior on $(\mu, \sigma^2, \tau^2)$ only, so it
# changes their three conditionals; $\theta_j \mid$ rest keeps only the factors with
# $\theta_j$, the likelihood and $\mathcal N(\theta_j; \mu, \tau^2)$, in which the prior
# does not appear.


# %% tags=["solution"]
def draw_theta(rng, mu, sigma2, tau2, n, ybar):
    # shrinkage form: theta_j | rest ~ N(ybar_j + B_j (mu - ybar_j), B_j tau2)
    shrink = sigma2 / (sigma2 + n * tau2)
    return ybar + shrink * (mu - ybar) + np.sqrt(shrink * tau2) * rng.standard_normal(len(n))


def draw_sigma2(rng, theta, n, ybar, ss, prior):
    rate = (prior.nu0 * prior.s20 + (ss + n * (ybar - theta) ** 2).sum()) / 2
    return 1 / rng.gamma((prior.nu0 + n.sum()) / 2, 1 / rate)  # numpy: scale = 1/rate


def draw_mu(rng, theta, tau2, prior):
    w_data, w_prior = len(theta) / tau2, 1 / prior.g20  # the two precisions
    centre = (w_data * theta.mean() + w_prior * prior.mu0) / (w_data + w_prior)
    return rng.normal(centre, 1 / np.sqrt(w_data + w_prior))


def draw_tau2(rng, theta, mu, prior):
    rate = (prior.eta0 * prior.t20 + ((theta - mu) ** 2).sum()) / 2
    return 1 / rng.gamma((prior.eta0 + len(theta)) / 2, 1 / rate)


updates = {"theta": draw_theta, "sigma2": draw_sigma2, "mu": draw_mu, "tau2": draw_tau2}

# %% tags=["answer-output"]
results = checks.check_all(updates, prior=PRIOR, seed=SEED)


# %% tags=["solution"]
def my_gibbs(stats, n_sweeps, rng):  # replaces the placeholder above
    n, ybar, ss = stats.n, stats.ybar, stats.ss
    mu, sigma2, tau2 = np.mean(ybar), np.sum(ss) / (np.sum(n) - len(n)), np.var(ybar)
    kept = np.empty((n_sweeps, 3))
    for sweep in range(n_sweeps):
        theta = draw_theta(rng, mu, sigma2, tau2, n, ybar)
        sigma2 = draw_sigma2(rng, theta, n, ybar, ss, PRIOR)
        mu = draw_mu(rng, theta, tau2, PRIOR)
        tau2 = draw_tau2(rng, theta, mu, PRIOR)
        kept[sweep] = mu, sigma2, tau2
    return kept


# %% slideshow={"slide_type": "subslide"} tags=["answer-output"]
sampler_result = checks.check_sampler(my_gibbs, prior=PRIOR, seed=SEED)
print(("✓ " if sampler_result.passed else "✗ ") + sampler_result.message)

# %% tags=["solution"]
# On HSB: four chains of 1000 sweeps (250 dropped) against the compiled sampler, same prior
children = np.random.SeedSequence(SEED + 5).spawn(4)
mine = np.stack([my_gibbs(stats, 1000, np.random.default_rng(c))[250:] for c in children])
my_draws = {"mu": mine[..., 0], "sigma": np.sqrt(mine[..., 1]), "tau": np.sqrt(mine[..., 2])}
hoff = gibbs.hierarchical_normal(y, groups, prior=PRIOR, seed=SEED)
hoff_table = diagnostics.summary_table(hoff, ["mu", "sigma", "tau"])
my_table = diagnostics.summary_table(my_draws)
for quantity in my_draws:
    a, b = my_table.loc[quantity], hoff_table.loc[quantity]
    print(
        f"{quantity:>5}: mine {a['mean']:.3f} ± {a['mcse_mean']:.3f}, "
        f"hierlib {b['mean']:.3f} ± {b['mcse_mean']:.3f}"
    )

# %% [markdown] tags=["solution"]
# Prediction for exercise 4: the data say $\mu \approx 12.64$ with variance $0.25^2 = 1/16$;
# the prior says 15 with variance $1/4$. Precisions add, means are precision-weighted:
# $(16 \cdot 12.64 + 4 \cdot 15)/20 \approx 13.1$. The prior is worth
# $\tau^2/\gamma_0^2 \approx 8.9/0.25 \approx 35$ schools whose $\theta_j$ were known; the
# data's precision 16 is worth $16\tau^2 \approx 140$ such schools (fewer than 160: each
# $\theta_j$ is seen only through a noisy $\bar y_j$). The prior is a quarter of the data,
# a fifth of the total precision (4 of 20).

# %% tags=["solution"]
tight = gibbs.hierarchical_normal(
    y, groups, prior=priors.SemiConjugate(mu0=15, g20=0.25, eta0=1, t20=9, nu0=1, s20=36), seed=SEED
)
predicted = (16 * 12.64 + 4 * 15) / 20
print(f"predicted {predicted:.2f}, posterior mean of mu {tight.draws['mu'].mean():.2f}")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions

# %%
from hierlib.versions import show_versions

show_versions()
