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
# # 08 · Ranking schools, with honest uncertainty
#
# **What you will learn**
#
# - how to get the posterior distribution of each school's **rank**: rank the $\theta_j$ at
#   every Gibbs draw;
# - rank intervals: which schools can be ranked, and which cannot;
# - the lecture's figure: the top 10 schools by sample mean and their posterior ranks;
# - $P(\text{school } j \text{ is in the top 10} \mid Y)$, and how many "top 10" schools are
#   credibly top 10.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. League tables of schools (or hospitals, or teachers) rank sample means and
# publish the order as if it were known. The lecture's slide "Ranking schools" shows the
# Bayesian alternative: a rank is a function of the parameters, so it has a posterior
# distribution, and we get it for free from the Gibbs draws. Message: the extremes can be
# ranked, the middle cannot, and even the top 10 is fuzzy.

# %% slideshow={"slide_type": "skip"}
import matplotlib.pyplot as plt
import numpy as np

from hierlib import gibbs, ranking
from hierlib.data import group_stats, hsb_arrays
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Ranks have a posterior distribution
#
# At draw $s$ of the sampler we have $(\theta_1^{(s)}, \dots, \theta_{160}^{(s)})$. Rank them
# (1 = highest mean score):
#
# $$ r_j^{(s)} = 1 + \#\{k : \theta_k^{(s)} > \theta_j^{(s)}\}. $$
#
# The $r_j^{(1)}, r_j^{(2)}, \dots$ are draws from $p(r_j \mid Y)$: rank intervals and
# $P(r_j \le 10 \mid Y)$ follow by counting.

# %%
y, groups = hsb_arrays()
stats = group_stats(y, groups)
post = gibbs.hierarchical_normal(y, groups, n_draws=2500, n_warmup=500, n_chains=4, seed=SEED)
theta = post.draws["theta"]  # (chains, draws, schools), schools in the order of post.groups
table = ranking.rank_summary(theta, post.groups, sample_mean=stats.ybar, k=10)

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## The rank table: the 12 best schools by posterior mean rank

# %%
table.head(12).round(2)

# %% tags=["check"]
assert np.array_equal(post.groups, stats.labels)
assert theta.shape == (4, 2500, 160)
# exactly ten schools are in the top 10 at every draw
assert abs(table["p_top10"].sum() - 10) < 1e-9

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Three schools' rank distributions

# %% tags=["remove-input"]
order = table.index.to_numpy()  # by posterior mean rank
picks = [order[0], order[len(order) // 2], "8367"]  # the best, a middle school, the smallest
ax = ranking.plot_rank_distribution(
    theta,
    post.groups,
    picks,
    title="The best school's rank is sharp; a middle school's spreads over 80 places",
)
handles, names = ax.get_legend_handles_labels()
roles = ("best", "middle", "smallest")
ax.legend(handles, [f"{n} ({r})" for n, r in zip(names, roles, strict=True)], loc="upper center")
plt.show()

# %% [markdown] slideshow={"slide_type": "notes"}
# The three histograms are $p(r_j \mid Y)$ for the school with the best posterior mean rank,
# the school in the middle of the table, and school 8367 (the smallest, 14 students, near
# the bottom). A middle school's rank is spread over most of the middle of the table; the
# extremes are sharp because few schools compete with them.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The rank of every school

# %% tags=["remove-input"]
fig, ax = plt.subplots(figsize=(10, 5.5))
ranking.plot_rank_intervals(table, k=10, ax=ax)
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How wide are the rank intervals?

# %% tags=["remove-input", "nbval-check-output"]
width = table["rank_hi"] - table["rank_lo"]
print(f"median width of a 95% rank interval: {width.median():.0f} places (of 160)")
print(f"narrowest: {width.min()} places, widest: {width.max()} places")
ranked = table.sort_values("mean_rank")
print(
    f"top school {ranked.index[0]}: 95% interval {ranked['rank_lo'].iloc[0]}-"
    f"{ranked['rank_hi'].iloc[0]}"
)

# %% [markdown] slideshow={"slide_type": "fragment"}
# - Half of the schools have a 95% rank interval at least 60 places wide: a school in the
#   middle of the table could be almost anywhere in the middle third.
# - Only near the ends are intervals narrow: there, few schools compete for each place.

# %% [markdown] slideshow={"slide_type": "notes"}
# Read the printed numbers: the median 95% rank interval covers most of half the league
# table. Ask the room what a newspaper's "school #73" means. The intervals are wide although
# every school has at least 14 students and the school means are estimated to within about
# ±1.5-3 points: ranks amplify small differences among many similar schools.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The lecture's figure: the top 10 by sample mean

# %% tags=["remove-input"]
fig, ax = plt.subplots(figsize=(10, 5.8))
ranking.plot_top_k_ranks(
    theta,
    post.groups,
    stats.ybar,
    k=10,
    ax=ax,
    title="Top 10 by sample mean: posterior ranks spread well past 10",
)
plt.show()

# %% [markdown] slideshow={"slide_type": "fragment"}
# Crosses mark where each school stands by its sample mean; bars show where the posterior
# puts it (thick: 50%, thin: 95%). Only two of the ten 95% bars stay left of the dashed line
# at rank 10; the tenth school's reaches rank 60.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Probability of being in the top 10

# %% tags=["remove-input"]
top20 = table.sort_values("p_top10", ascending=False).head(20)
fig, ax = plt.subplots(figsize=(10, 5))
colors = ["C0" if r <= 10 else "C7" for r in top20["sample_rank"]]
ax.bar(range(20), top20["p_top10"], color=colors)
ax.set_xticks(range(20), top20.index, rotation=60)
ax.set_xlabel("school (blue: in the top 10 by sample mean)")
ax.set_ylabel("P(school in top 10 | Y)")
ax.set_ylim(0, 1)
ax.set_title("P(top 10): a few near-certain schools, then a long tail of contenders")
plt.show()

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## How many of the sample top 10 are really top 10?

# %% slideshow={"slide_type": "skip"}
top10 = table[table["sample_rank"] <= 10].sort_values("sample_rank")
credible = int((top10["rank_hi"] <= 10).sum())  # whole 95% interval inside 1-10
likely = int((top10["p_top10"] > 0.5).sum())  # more likely than not
expected = top10["p_top10"].sum()  # expected number of true top-10 schools among them

# %% tags=["remove-input"]
print(top10[["ybar", "sample_rank", "rank_lo", "rank_hi", "p_top10"]].round(2).to_string())

# %% tags=["remove-input", "nbval-check-output"]
print(f"credibly top 10 (95% rank interval within 1-10): {credible} of 10")
print(f"more likely than not top 10: {likely} of 10")
print(f"expected number of true top 10 among them: {expected:.1f}")
print(f"schools with P(top 10) > 5%: {(table['p_top10'] > 0.05).sum()}")

# %% tags=["check"]
assert credible <= likely <= 10
assert 3 < expected < 9
# what the slides say: 2 credibly, 8 likely, between 7 and 8 expected (Monte Carlo error ~0.05)
assert credible == 2 and likely == 8 and 7.0 < expected < 8.0
# the sum over all schools is 10, so the rest of the probability sits outside the sample top 10
assert abs(expected + table.loc[table["sample_rank"] > 10, "p_top10"].sum() - 10) < 1e-9

# %% [markdown] slideshow={"slide_type": "subslide"}
# ## Reading the top-10 numbers
#
# - Summing $P(\text{top } 10)$ over the ten schools with the highest sample means gives
#   the number of them we expect to be truly top 10: between 7 and 8, so a league table by
#   sample means gets two or three of its "top 10" wrong.
# - Eight of the ten are more likely than not top 10; 23 schools have at least a 5% chance.
# - "Credibly top 10" (the whole 95% interval inside 1-10) is a much stricter bar.

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to mention are printed above: how many of the sample top 10 are credibly top 10,
# how many are more likely than not, and the expected number of true top-10 schools among
# them. The probability the model does not give to these ten schools is spread over dozens
# of other schools (count printed: P > 5%). This is the lecture's point that the
# hierarchical model "avoids multiple testing": we make one joint statement about all ranks
# instead of 160 separate comparisons.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. Rank the other way round: which schools are most probably in the **bottom 10**? Is
#    school 8367 (the smallest school, third-lowest sample mean) credibly bottom 10?
# 2. Compute $P(\text{rank} = 1 \mid Y)$ for every school. Which school is most probably the
#    best, and how probable is it?
# 3. **Predict, then compute.** Does ranking by posterior mean $E[\theta_j \mid Y]$ give the
#    same order as ranking by sample mean? Notebook 07 found that only 77 of the 12,720 pairs
#    of schools swap. Before counting, predict how many of the 160 schools change position;
#    then count them, and explain the gap between the two numbers.

# %% tags=["solution"]
low = ranking.rank_summary(-theta, post.groups, k=10)  # ranks of -theta: 1 = lowest mean
low = low.rename(columns={"p_top10": "p_bottom10"})  # top 10 of -theta = bottom 10
print(low.head(10)[["rank_lo", "rank_hi", "p_bottom10"]].round(2).to_string())
print("8367:", low.loc["8367", ["rank_lo", "rank_hi", "p_bottom10"]].to_dict())

# %% tags=["solution"]
p_best = ranking.prob_top_k(theta, k=1)
best = int(np.argmax(p_best))
print(f"most probably the best: school {post.groups[best]}, P = {p_best[best]:.2f}")

# %% tags=["solution"]
by_post = ranking.rank_draws(post.theta_mean[None, :])[0]
by_sample = ranking.rank_draws(stats.ybar[None, :])[0]
moved = np.abs(by_post - by_sample)
print(f"schools whose position changes: {(moved > 0).sum()} of {stats.m}")
print(f"by how many places: median {np.median(moved[moved > 0]):.0f}, largest {moved.max()}")
# A small school with a slightly higher mean is shrunk more than a large school just below
# it, so the two swap places. One swapped pair moves two schools, and a school that passes
# one neighbour moves one place: few swapped pairs, but many schools moving a place or two.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions

# %%
from hierlib.versions import show_versions

show_versions()
