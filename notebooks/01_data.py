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
# # 01 · The data: 7185 students in 160 schools
#
# **What you will learn**
#
# - what the High School and Beyond (HSB) math scores are: students nested in schools;
# - how much school means differ, and how much students differ within a school;
# - why the mean of a small school is a noisy estimate of that school's quality;
# - the question the rest of the course answers: how to estimate every school's mean at once.

# %% [markdown] slideshow={"slide_type": "notes"}
# Speaker notes. The lecture's running example (STA 630, ch. 6, "High school math
# achievement"): a representative sample of 160 US public and Catholic high schools, 14 to 67
# students from each, 7185 students in all. Outcome $Y_{ij}$: math achievement of student $i$
# in school $j$. Everything in the course is about these numbers, so spend five minutes
# looking at them before any model.

# %% slideshow={"slide_type": "skip"}
import numpy as np

from hierlib import explore
from hierlib.data import group_stats, load_hsb
from hierlib.plots import use_course_style

use_course_style()

# %% slideshow={"slide_type": "skip"}
SEED = 630
rng = np.random.default_rng(SEED)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## The data: one row per student
#
# `hierlib.data.load_hsb()` reads the copy shipped in `data/` (R's `nlme::MathAchieve`;
# `data/README.md` gives the source and checksums). `mathach` is the outcome $Y_{ij}$.

# %%
hsb = load_hsb()
hsb.head()

# %% [markdown] slideshow={"slide_type": "subslide"}
# Every model in the course sees the data only through per-school summaries: the size
# $n_j$, the mean $\bar y_j$ and the within-school sum of squares
# $SS_j = \sum_i (y_{ij} - \bar y_j)^2$.

# %% tags=["nbval-check-output"]
stats = group_stats(hsb["mathach"], hsb["school"])
print(f"schools m = {stats.m}, students n = {stats.n_total}")
sizes = stats.n
print(f"students per school: {sizes.min()} to {sizes.max()} (median {np.median(sizes):.0f})")
print(f"grand mean = {stats.grand_mean:.3f}")

# %% tags=["check"]
# The lecture's facts: 160 schools, 14 to 67 students each, 7185 students in all.
assert stats.m == 160
assert stats.n_total == 7185
assert (stats.n.min(), stats.n.max()) == (14, 67)
assert round(stats.grand_mean, 3) == 12.748

# %% [markdown] slideshow={"slide_type": "notes"}
# Numbers to say: 160 schools, 7185 students, 14 to 67 students per school (median 47),
# overall mean score 12.75 points. The school sizes are the number of students *sampled*,
# not the enrolment (that is `size` in the school table).

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How much do schools differ?
#
# The lecture's figure: the mean math score of each school against its number of students.
# The grey band is where 95% of the school means would fall if **every school had the same
# true mean** and only the sampling of students differed:
# $\bar y \pm 1.96\, s_w/\sqrt{n}$, with $s_w$ the pooled within-school standard deviation.

# %%
ax = explore.plot_means_vs_size(stats)
# %% [markdown] slideshow={"slide_type": "subslide"}
# ## What the figure shows

# %% tags=["nbval-check-output"]
s_w = explore.pooled_within_sd(stats)
half = explore.Z95 * explore.standard_errors(stats)
outside = np.abs(stats.ybar - stats.grand_mean) > half
print(f"school means range from {stats.ybar.min():.2f} to {stats.ybar.max():.2f}")
print(f"pooled within-school sd s_w = {s_w:.2f} (variance {s_w**2:.2f})")
print(f"sd of the 160 school means = {stats.ybar.std(ddof=1):.2f}")
print(f"schools outside the 95% band of pure noise: {outside.sum()} of {stats.m}")
print(f"correlation of n_j and school mean: {np.corrcoef(stats.n, stats.ybar)[0, 1]:.2f}")

# %% tags=["check"]
# The pooled within-school variance is the ANOVA's within mean square, 274970 / 7025 = 39.14
# in the lecture's table; with equal means only about 8 of 160 schools would leave the band.
assert round(s_w**2, 2) == 39.14
assert outside.sum() == 89

# %% [markdown] slideshow={"slide_type": "fragment"}
# - School means run from 4.2 to 19.7 points: a spread of 15 points.
# - **89 of the 160** schools lie outside the band that pure sampling noise would fill
#   (about 8 would if all schools were alike): schools really do differ.
# - Larger samples come with slightly higher means (correlation 0.16), but the extreme
#   schools at both ends are of every size.

# %% [markdown] slideshow={"slide_type": "notes"}
# The band is the "funnel" of pure noise; under $H_0:\theta_1=\dots=\theta_{160}$ we expect
# 5% of 160 = 8 schools outside it, and we see 89. This is the one-way ANOVA's F-test
# (F = 10.4 in the lecture) in a picture. Do not over-read the size trend: the correlation
# is 0.16. Ask the room: which school is "the worst"? Keep the answer for the next slides.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Students differ more within a school than schools do
#
# Every student as a grey dot, the 160 schools side by side, ordered by their mean (red).

# %%
ax = explore.plot_within_spread(hsb["mathach"], hsb["school"])
# %% [markdown] slideshow={"slide_type": "fragment"}
# - Within one school, scores spread over about 24 points (median range); the pooled
#   within-school sd is 6.26 points, twice the sd of the school means (3.12).
# - The best and the worst schools' students overlap: a school mean says little about a
#   single student.

# %% [markdown] slideshow={"slide_type": "notes"}
# Two sources of variation, the two variance components of the course: $\sigma^2$ (students
# within a school, about $6.26^2 = 39.1$) and $\tau^2$ (true school means; the sd of the
# observed means, 3.12, overstates it because each mean carries noise; REML will give
# $\hat\tau = 2.93$ in notebook 04). Scores run from -2.8 to 25.0 points.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## How noisy is a school mean?
#
# The standard error of a school mean is $\sigma/\sqrt{n_j}$: it depends on how many students
# the school contributed.

# %%
ax = explore.plot_standard_errors(stats)

# %% slideshow={"slide_type": "subslide"} tags=["nbval-check-output"]
se = explore.standard_errors(stats)
print(
    f"SE of a school mean: {se.max():.2f} points at n = {stats.n.min()}, "
    f"{se.min():.2f} points at n = {stats.n.max()}"
)

# %% [markdown] slideshow={"slide_type": "fragment"}
# - A school of 14 students gives its mean to within about $\pm 1.96 \times 1.67 = \pm 3.3$
#   points; a school of 67, to within $\pm 1.5$ points.
# - The schools' own standard deviations $s_j$ differ too (3.5 to 8.5 points): notebook 06
#   lets each school have its own variance.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Why this matters: the smallest school
#
# School 8367 has **14 students**, the fewest of all, and the third-lowest mean.

# %% tags=["nbval-check-output"]
j = int(np.flatnonzero(stats.labels == "8367")[0])
rank = int((stats.ybar < stats.ybar[j]).sum()) + 1
print(
    f"school 8367: n = {stats.n[j]}, mean = {stats.ybar[j]:.2f}, SE = {se[j]:.2f}, "
    f"rank {rank} of {stats.m} (1 = lowest)"
)

# %% [markdown] slideshow={"slide_type": "fragment"}
# - Its mean is 8.2 points below the grand mean; with only 14 students, a good part of that
#   could be bad luck.
# - Two extremes: trust each school's own mean ($\hat\theta_j = \bar y_j$), or pool all
#   schools ($\hat\theta_j = \bar y$). A hierarchical model does something in between:
#   it pulls a noisy mean towards the others, the more so the smaller the school
#   (**shrinkage**, notebook 07).

# %% [markdown] slideshow={"slide_type": "notes"}
# Preview: in the lecture's `random.effects(fit.lme)` output, school 8367's estimated effect
# is -6.10, while its raw deviation from $\hat\mu = 12.64$ is $4.55 - 12.64 = -8.09$: REML
# pulled it two points towards the middle. School 8854 (32 students, the lowest mean,
# -8.4 raw) gets -7.35: a bigger school is pulled less. This is the whole course in one line.

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Exercises
#
# 1. Which school has the largest within-school standard deviation $s_j$, and how many
#    students does it have? The smallest?
# 2. Simulate: draw 14 students from $\mathcal N(12.75, 6.26^2)$ 2000 times (use `rng`).
#    What is the standard deviation of their means? Compare it with the SE above.
# 3. `load_hsb(with_school_columns=True)` adds each school's `sector` (Public/Catholic).
#    How many schools of each sector are there, and what is the mean of their school means?

# %% tags=["solution"]
s_j = np.sqrt(stats.s2)
for k in (np.argmax(s_j), np.argmin(s_j)):
    print(f"school {stats.labels[k]}: s_j = {s_j[k]:.2f} with n_j = {stats.n[k]}")

# %% tags=["solution"]
means = rng.normal(12.75, 6.26, size=(2000, 14)).mean(axis=1)
print(
    f"sd of simulated means = {means.std(ddof=1):.2f}; formula 6.26/sqrt(14) = "
    f"{6.26 / np.sqrt(14):.2f}"
)

# %% tags=["solution"]
by_school = load_hsb(with_school_columns=True).groupby("school")
per_school = by_school.agg(sector=("sector", "first"), mean=("mathach", "mean"))
per_school.groupby("sector")["mean"].agg(["count", "mean"]).round(2)

# %% [markdown] slideshow={"slide_type": "slide"}
# ## Versions
#
# The numbers above were produced with:

# %%
from hierlib.versions import show_versions

show_versions()
