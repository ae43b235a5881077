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
# # 09 · Parameterisation and mixing
#
# **What you will learn**
#
# - the mixed-effects form $Y_{ij} = \mu + \delta_j + \varepsilon_{ij}$ and why $\mu$ and
#   $\delta_j$ are not identified by the likelihood alone;
# - how the same model, written two ways, gives Gibbs samplers that mix very differently:
#   **centered** ($\theta_j$) and **offset** ($\delta_j = \theta_j - \mu$);
# - the rule for which one wins: how informative each school's data are about $\theta_j$,
#   compared with $\tau^2$;
# - **interweaving** the two (Yu & Meng, 2011), which does well in both regimes.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. The lecture's last model slides say that the mixed-effects form "has very
# poor mixing". That is true on HSB, and this notebook measures it; but it is not a law:
# with few students per school the same form is the better one. We compare effective
# sample size per second, the fair currency for samplers (notebook 05 introduced ESS).
# All three samplers are in `hierlib.gibbs` (`parameterization=`); nothing is sampled here
# by hand.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np
from scipy import stats as sps

from hierlib import diagnostics, gibbs
from hierlib.data import group_stats, hsb_arrays
from hierlib.marginal import simulate_two_level
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)
PARAMS = ("centered", "offset", "interweaved")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The mixed-effects form
#
# Write each school mean as the overall mean plus a school effect, $\theta_j = \mu + \delta_j$:
#
# $$ Y_{ij} = \underbrace{\mu}_{\text{fixed effect}}
#   + \underbrace{\delta_j}_{\text{school effect}}
#   + \underbrace{\varepsilon_{ij}}_{\text{student}},
#   \qquad \delta_j \sim \mathcal N(0, \tau^2),\ \varepsilon_{ij}\sim\mathcal N(0,\sigma^2). $$
#
# The same model as before; only the unknowns we sample change: $(\mu, \delta_1, \dots,
# \delta_m)$ instead of $(\mu, \theta_1, \dots, \theta_m)$.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Not identified by the likelihood
#
# The likelihood sees only $\mu + \delta_j$: add 42 to $\mu$, subtract 42 from every
# $\delta_j$, and nothing changes. The prior $\delta_j \sim \mathcal N(0, \tau^2)$ is what pins
# the $\delta_j$ around 0, and with them $\mu$.

# %% slideshow={"slide_type": "skip"}
y, school = hsb_arrays()
stats = group_stats(y, school)
codes = np.unique(school, return_inverse=True)[1]
mu0, sigma, tau = 12.637, 6.257, 2.935  # REML estimates (notebook 04)
delta0 = stats.ybar - mu0  # a rough value of the school effects


def log_lik(mu, delta):  # log p(Y | mu, delta, sigma)
    return sps.norm.logpdf(y, (mu + delta)[codes], sigma).sum()


def log_prior(delta):  # log p(delta | tau)
    return sps.norm.logpdf(delta, 0.0, tau).sum()


# %% tags=["remove-input", "nbval-check-output"]
for shift in (0.0, 42.0):
    print(
        f"mu = {mu0 + shift:6.2f}: log-likelihood = {log_lik(mu0 + shift, delta0 - shift):.2f}, "
        f"log prior of delta = {log_prior(delta0 - shift):.1f}"
    )

# %% tags=["check"]
assert np.isclose(log_lik(mu0, delta0), log_lik(mu0 + 42, delta0 - 42))
assert log_prior(delta0 - 42) < log_prior(delta0) - 1e4

# %% [markdown] slideshow={"slide_type": "fragment"}
# The likelihood is flat along the line $(\mu + c, \delta - c)$: a ridge. The prior turns the
# ridge into a proper posterior. But a Gibbs sampler that updates $\mu$ given $\delta$ and
# then $\delta$ given $\mu$ moves along that ridge in small steps whenever each school's data
# pin $\mu + \delta_j$ much more tightly than the prior pins $\delta_j$.

# %% [markdown] slideshow={"slide_type": "notes"}
# Explain the geometry: in the offset form, $\mu \mid \delta, Y$ is centred at
# $\bar y - \sum_j n_j\delta_j/n$ with a tiny variance $\sigma^2/n$ (7185 students), so
# given $\delta$ it barely moves; then $\delta \mid \mu$ follows $\mu$ back. In the centered
# form, $\mu \mid \theta$ has variance $\tau^2/m$ and the $\theta_j$ are pinned by their own
# data, not by $\mu$: the two blocks are nearly independent. Conversely, when the data say
# little about each $\theta_j$, the centered $\theta_j$ stick to $\mu$ and $\tau^2$, and the
# offset form decouples them (for μ; τ² needs the fully non-centered η = δ/τ, see the
# simulated regime). This is the sufficiency/ancillarity pair of Yu and Meng.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Three samplers on HSB
#
# Same model, same default prior, same number of draws; `parameterization=` picks the
# updates:
#
# - **centered**: $\theta \mid \mu,\tau^2,\sigma^2$; $\sigma^2 \mid \theta$; $\mu \mid
#   \theta,\tau^2$; $\tau^2 \mid \theta,\mu$;
# - **offset**: $\delta \mid \mu,\tau^2,\sigma^2$; $\sigma^2 \mid \mu, \delta$; $\mu \mid
#   \delta,\sigma^2$; $\tau^2 \mid \delta$;
# - **interweaved**: a centered sweep, then $\mu$ redrawn given $\delta$ and $\tau$ given
#   $\eta = \delta/\tau$, the ancillary coordinates (ASIS, Yu & Meng 2011).


# %% slideshow={"slide_type": "skip"}
def fit_all(y, groups, n_draws, seed):
    """The three samplers on the same data, seed and settings (theta draws not kept)."""
    return {
        p: gibbs.hierarchical_normal(
            y,
            groups,
            parameterization=p,
            n_draws=n_draws,
            n_warmup=1000,
            n_chains=4,
            seed=seed,
            keep_theta=[],
        )
        for p in PARAMS
    }


def show_ess(table, posts):
    """Bulk ESS and ESS per sweep kept (4 chains x draws): both exact for a given seed."""
    ess = table[["ess_bulk[mu]", "ess_bulk[tau2]"]].rename(
        columns={"ess_bulk[mu]": "ESS μ", "ess_bulk[tau2]": "ESS τ²"}
    )
    sweeps = np.array([posts[p].draws["mu"].size for p in ess.index])
    per_sweep = ess.div(sweeps, axis=0).add_suffix(" per sweep")
    return ess.map("{:,.0f}".format).join(per_sweep.map("{:.3f}".format))


def show_timing(table):
    """Seconds and ESS per second: they depend on the machine and the run."""
    short = {"seconds": "seconds", "ess_per_s[mu]": "ESS/s μ", "ess_per_s[tau2]": "ESS/s τ²"}
    shown = table[list(short)].rename(columns=short)
    return shown.map("{:,.0f}".format).assign(seconds=table["seconds"].map("{:.3f}".format))


# %%
hsb_posts = fit_all(y, school, n_draws=5000, seed=SEED)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Traces: the offset sampler crawls on HSB


# %% tags=["remove-input"]
def plot_traces(posts, n_show=400, title=""):
    """First draws of chain 0 of mu and tau2, one column per sampler."""
    fig, axes = plt.subplots(2, 3, figsize=(10, 5.2), sharey="row", sharex=True)
    for col, (name, post) in enumerate(posts.items()):
        for row, (var, label) in enumerate((("mu", "μ (points)"), ("tau2", "τ² (points²)"))):
            ax = axes[row, col]
            ax.plot(post.draws[var][0, :n_show], lw=0.8, color=f"C{col}")
            ax.set_ylabel(label if col == 0 else "")
        axes[0, col].set_title(name)
        axes[1, col].set_xlabel("iteration (after warm-up)")
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


plot_traces(hsb_posts, title="HSB: μ and τ² over 400 iterations of one chain")

# %% [markdown] slideshow={"slide_type": "fragment"}
# Centered and interweaved look like white noise; the offset trace of $\mu$ wanders slowly:
# successive draws are strongly correlated.

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Autocorrelation

# %% tags=["remove-input"]
fig, axes = plt.subplots(1, 2, figsize=(11, 4.5))
for ax, var, name in zip(axes, ("mu", "tau2"), ("μ", "τ²"), strict=True):
    diagnostics.plot_autocorr_compare(hsb_posts, var, max_lag=40, ax=ax)
    ax.set_title(name)
fig.suptitle("Autocorrelation on HSB: faster decay = better mixing")
fig.tight_layout()
plt.show()

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Effective sample size on HSB (and per second, when you run it)

# %%
hsb_speed = diagnostics.ess_table(hsb_posts, ["mu", "tau2"])
show_ess(hsb_speed, hsb_posts)

# %% tags=["timing"]
show_timing(hsb_speed)  # seconds on this machine, in this run

# %% slideshow={"slide_type": "skip"} tags=["nbval-check-output"]
ESS_COLS = ["ess_bulk[mu]", "ess_bulk[tau2]"]
print("bulk ESS out of 4 x 5000 draws (HSB), two significant digits:")
print(hsb_speed[ESS_COLS].map(lambda v: int(float(f"{v:.2g}"))).to_string())

# %% tags=["check"]
ess = hsb_speed[ESS_COLS]
assert ess.loc["offset", "ess_bulk[mu]"] < 0.1 * ess.loc["centered", "ess_bulk[mu]"]
assert ess.loc["interweaved", "ess_bulk[mu]"] >= ess.loc["centered", "ess_bulk[mu]"]
# for tau2 the two classic forms are alike on HSB: offset is poor for mu only
assert 0.7 < ess.loc["offset", "ess_bulk[tau2]"] / ess.loc["centered", "ess_bulk[tau2]"] < 1.4
# the three samplers agree on the posterior (notebook 05: mu 12.64, tau 2.97, within MC error)
for post in hsb_posts.values():
    assert abs(post.draws["mu"].mean() - 12.64) < 0.05
    assert abs(np.sqrt(post.draws["tau2"]).mean() - 2.97) < 0.05

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## On HSB, offset is poor for the mean only
#
# - For $\mu$ the lecture is right: the offset sampler's ESS is about 18 times smaller than
#   the centered one's. Every school has 14-67 students, so its data pin $\theta_j$ far more
#   tightly (variance $\sigma^2/n_j \approx 0.6$-$2.8$) than the prior does
#   ($\tau^2 \approx 9$): $\theta_j$ hardly depends on $\mu$, while $\mu$ and the
#   $n_j$-weighted average of the $\delta_j = \theta_j - \mu$ are almost perfectly
#   anti-correlated (with every $\theta_j$ pinned, a move of $\mu$ must move all the
#   $\delta_j$ the other way).
# - For $\tau^2$ the two forms are alike: "very poor" is about $\mu$, not the whole model.
# - Interweaving is at least as good as centered for both.

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the table: bulk ESS of μ out of 20,000 draws (printed above: about 17,000 centered,
# 900 offset, 20,000 interweaved) and ESS per second (machine-dependent; measured on the
# machine that executed the notebook; each sampler takes a few hundredths of a second).
# Why τ² is not hurt: its update sees only Σ_j δ_j² in both forms, and the slow moves of μ
# along its ridge barely change that sum (160 × 0.25² ≈ 10 against Σ δ_j² ≈ 160 × 9 ≈ 1400),
# so τ² mixes alike; only the μ step differs. The measure of data informativeness is
# $n_j\tau^2/\sigma^2$: 3 to 15 on HSB.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## A regime where offset wins: two students per school
#
# Simulate 160 schools with $n_j = 2$ students, a small between-school variance
# $\tau^2 = 1$ and the HSB within-school variance $\sigma^2 = 39$: now
# $n_j\tau^2/\sigma^2 = 0.05$. Each school's two students say almost nothing about its
# $\theta_j$ compared with what the population (the prior) says.

# %%
y_sim, g_sim = simulate_two_level(rng, np.full(160, 2), mu=12.6, tau2=1.0, sigma2=39.0)
sim_posts = fit_all(y_sim, g_sim, n_draws=5000, seed=SEED + 1)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Traces with two students per school

# %% tags=["remove-input"]
plot_traces(
    sim_posts, title="Two students per school: centered μ crawls, τ² crawls in both classic forms"
)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Effective sample size with two students per school

# %%
sim_speed = diagnostics.ess_table(sim_posts, ["mu", "tau2"])
show_ess(sim_speed, sim_posts)

# %% tags=["timing"]
show_timing(sim_speed)  # seconds on this machine, in this run

# %% tags=["remove-input", "nbval-check-output"]
print("bulk ESS out of 4 x 5000 draws (n_j = 2, tau2 = 1, sigma2 = 39):")
print(sim_speed[ESS_COLS].map(lambda v: int(float(f"{v:.2g}"))).to_string())
r_hat = {p: diagnostics.summary_table(sim_posts[p], ["tau2"])["r_hat"].iloc[0] for p in PARAMS}
print("R-hat of tau2:", ", ".join(f"{p} {r:.2f}" for p, r in r_hat.items()))

# %% tags=["check"]
ess = sim_speed[ESS_COLS]
assert ess.loc["offset", "ess_bulk[mu]"] > 10 * ess.loc["centered", "ess_bulk[mu]"]
# neither classic form mixes tau2 here; the interweaved sampler's ancillary tau step does
assert ess.loc["interweaved", "ess_bulk[tau2]"] > 20 * ess.loc["centered", "ess_bulk[tau2]"]
assert ess.loc["interweaved", "ess_bulk[tau2]"] > 20 * ess.loc["offset", "ess_bulk[tau2]"]

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Why the roles swap
#
# - For $\mu$ the roles swap: now the offset sampler's ESS is dozens of times larger. The
#   centered $\theta_j$ are held by the prior, so $\theta$ and $\mu$ move together in small
#   steps; the offset $\delta_j$ hardly depend on $\mu$ when the data are weak.
# - $\tau^2$ mixes badly in **both** classic forms (ESS of order 100 out of 20,000, R-hat
#   above 1.01): $\delta_j \sim N(0, \tau^2)$ still ties the size of the effects to $\tau$ (the
#   "funnel"). Only the interweaved sampler, whose $\tau$ step works on
#   $\eta_j = \delta_j/\tau$, mixes it well. (The centered and offset $\tau^2$ traces look
#   alike: both samplers use the same seed, and $\tau^2$'s update is the same in both.)
# - An ESS above the number of draws (interweaved $\mu$) means successive draws are
#   negatively correlated: the chain overshoots and comes back, so its average settles
#   faster than that of independent draws.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## When each wins
#
# | regime | $n_j\tau^2/\sigma^2$ (data vs prior about $\theta_j$) | $\mu$ mixes best | $\tau^2$ |
# |---|---|---|---|
# | many students per school (HSB) | large (3-15) | centered | both alike, fine |
# | few students, small $\tau^2$ | small (0.05) | offset | both poor |
# | either | — | interweaved | interweaved |
#
# Roughly, the crossover for $\mu$ is at $n_j\tau^2/\sigma^2 = 1$, where the shrinkage
# factor $B_j = 1/(1 + n_j\tau^2/\sigma^2)$ of notebook 07 is ½: more shrinkage favours
# offset, less favours centered.
#
# Write the model in the coordinates in which the blocks a Gibbs sampler alternates are
# nearly independent a posteriori; if you cannot know in advance, interweave.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to mention: the two ESS tables above (bulk ESS out of 20,000 draws). Be precise
# about the claim: the offset form "wins" in the simulated regime for μ (about 17,000 vs
# 500); for τ² neither classic form works there, which is why interweaving with the fully
# non-centered η = δ/τ matters. Every sweep is O(m) work on group sufficient statistics, a
# few hundredths of a second for 24,000 sweeps, so the seconds column is short and noisy; the
# interweaved sweep does a little more (an extra μ draw and a slice step for τ). ESS per
# second differs between samplers mainly through ESS. Link back: the same ratio
# $n_j\tau^2/\sigma^2$ set the shrinkage factor in notebook 07:
# $B_j = 1/(1 + n_j\tau^2/\sigma^2)$. Heavy shrinkage (B near 1) favours offset for μ;
# light shrinkage (B near 0) favours centered.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. **Predict, then compute.** Rerun the simulated regime with $n_j = 20$ students per
#    school (keep $\tau^2 = 1$). Compute $n_j\tau^2/\sigma^2$ first and predict which
#    sampler wins for $\mu$; then run the three samplers and compare their ESS.
# 2. In the offset form, $\mathrm{Var}(\mu \mid \delta, \sigma^2, Y) = \sigma^2/n$. Compare the
#    sds: $\sigma/\sqrt n$ against the posterior sd of $\mu$ on HSB (from any of the
#    samplers). How many times smaller is the step than the distance the chain must travel?

# %% tags=["solution"]
rng_ex = np.random.default_rng(SEED + 20)  # its own stream: the same data however you got here
y20, g20 = simulate_two_level(rng_ex, np.full(160, 20), mu=12.6, tau2=1.0, sigma2=39.0)
print(f"n_j tau2 / sigma2 = {20 * 1.0 / 39.0:.2f}")
ess20 = diagnostics.ess_table(fit_all(y20, g20, n_draws=2000, seed=SEED + 2), ["mu", "tau2"])
print(ess20[ESS_COLS].round(0))

# %% [markdown] tags=["solution"]
# $n_j\tau^2/\sigma^2 \approx 0.5$ lies between HSB (3-15) and the two-student regime
# (0.05), below the crossover at 1: $B_j = 1/1.51 \approx 0.66$, more shrinkage than not, so
# offset should win for $\mu$, by less than with two students. It does: bulk ESS about
# 3,800 against 1,100 out of 8,000 draws (17,000 against 470 with two students). Both
# classic forms mix $\tau^2$ poorly (about 250). The interweaved sampler is far ahead on
# both (about 8,100 for $\mu$, 2,200 for $\tau^2$): near the crossover, where you cannot be
# sure in advance which classic form wins, interweave.

# %% tags=["solution"]
step_sd = sigma / np.sqrt(stats.n_total)
post_sd = hsb_posts["centered"].draws["mu"].std()
print(f"conditional sd {step_sd:.3f} vs posterior sd {post_sd:.3f}: {post_sd / step_sd:.1f}x")

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions

# %%
from hierlib.versions import show_versions

show_versions()
