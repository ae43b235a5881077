"""The numbers behind what notebooks 05, 06, 07, 10 and 12 conclude, recomputed from hierlib.

Each test quotes the statement it holds up. The fits use other seeds than the notebooks, so a
statement that held only for the notebook's seed fails here. Monte Carlo tolerances: a
p-value from R replicates has a binomial sd of at most 0.5/sqrt(R) (0.016 for R = 1000,
0.008 for R = 4000), and each bound below leaves at least 4 of those sd around the value the
notebook prints (the fit's own Monte Carlo error comes on top: the file also passes with
seeds 1 to 6 in place of its own).
"""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from hierlib import exact, gibbs, posterior, predictive, priors, reml, unequal
from hierlib.data import group_stats, load_hsb_covariates, subsample_groups

SEED = 17  # not the notebooks' 630


@pytest.fixture(scope="module")
def data(hsb):
    y, g = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
    return y, g, group_stats(y, g)


@pytest.fixture(scope="module")
def model2(data):
    y, g, _ = data
    return gibbs.unequal_variances(y, g, seed=SEED)


# ------------------------------------------------------------------------------ notebook 06
def test_both_checks_depend_on_nu0_and_agree_once_the_variances_are_pooled(data):
    """06: "Both depend strongly on nu0 ... each tells a bad nu0 from a good one"; "where
    the pooling is strong (nu0 >= 60) the two checks agree; where it is weak (nu0 = 15) the
    reused variances follow each school's own s_j^2"; "typical ... from about 45 to 150"."""
    _, _, s = data
    table = unequal.variance_spread_by_nu0([15, 31, 60, 100, 300], s, seed=SEED)
    np.testing.assert_allclose(table["nu0_mean"], table.index, rtol=0.01)  # nu0 was held
    for name in ("standard", "mixed"):
        p = table[f"p_{name}"]
        assert p[15] > 0.99 and p[31] > 0.95  # too much spread
        assert 0.5 < p[60] < 0.85 and 0.1 < p[100] < 0.4  # HSB's spread is typical
        assert p[300] < 0.03  # too little: the standard check fails too
    gap = (table["p_standard"] - table["p_mixed"]).abs()
    assert gap[[31, 60, 100, 300]].max() < 0.09  # two independent p's: 4 sd of a difference
    # weak pooling: the standard replicates stay near the data, the mixed ones do not
    assert table.loc[15, "upper_standard"] < table.loc[15, "upper_mixed"] - 5
    assert table.loc[15, "lower_standard"] < table.loc[15, "lower_mixed"] - 2


def test_the_fitted_variances_are_heavily_pooled_at_nu0_31():
    """06: "at nu0 = 31 they put two thirds (14 students) to 30% (67 students) of their
    weight on the population's centre" (so they are no copies of the s_j^2)."""
    w14, w67 = unequal.variance_shrinkage_weight(np.array([14, 67]), 31.0)
    assert w14 == pytest.approx(29 / 43) and w67 == pytest.approx(29 / 96)
    assert 0.65 < w14 < 0.69 and 0.29 < w67 < 0.32


def test_model_2_overshoots_under_the_lecture_prior_and_fits_under_the_vague_one(data, model2):
    """06: "HSB's spread, 11.1, lies below the central 95% of model 2's replicates ... only 2%
    of them spread less (0.4% with new variances)"; exercise 2: under the vague prior nu0
    rises to about 60 and both checks pass."""
    y, g, s = data
    assert 27 < model2.draws["nu0"].mean() < 35
    checks = predictive.variance_spread_checks(model2, draws=1000, seed=SEED)  # R = 4000
    assert checks["standard"]["observed"] == pytest.approx(11.14, abs=0.01)
    below_standard = 1 - checks["standard"]["p_value"]
    below_mixed = 1 - checks["mixed"]["p_value"]
    assert 0.005 < below_standard < 0.045
    assert below_mixed < 0.015 and below_mixed < below_standard
    vague = gibbs.unequal_variances(
        y, g, prior=priors.UnequalVariances(nu0_shape=1, nu0_rate=0.05), seed=SEED
    )
    assert 50 < vague.draws["nu0"].mean() < 70
    for check in predictive.variance_spread_checks(vague, draws=1000, seed=SEED).values():
        assert 0.45 < check["p_value"] < 0.9


def test_the_extreme_school_means_fit_with_new_school_means(data):
    """06: reusing the fitted theta_j "cannot ask it well ... their school means sit near
    HSB's"; with new theta_j ~ N(mu, tau2) the extremes are typical too (p 0.56, 0.83)."""
    y, g, s = data
    m1 = gibbs.hierarchical_normal(y, g, seed=SEED)
    idata = m1.to_arviz(posterior_predictive=True, draws=250)
    weight_own = 1 - (m1.draws["sigma2"].mean() / s.n) / (
        m1.draws["sigma2"].mean() / s.n + m1.draws["tau2"].mean()
    )
    assert 0.74 < weight_own.min() < 0.78 and 0.93 < weight_own.max() < 0.95  # 76% to 94%
    bounds = {"smallest school mean": (0.45, 0.7), "largest school mean": (0.7, 0.95)}
    for name, (lo, hi) in bounds.items():
        assert lo < predictive.ppc_new_means(m1, name, seed=SEED)["p_value"] < hi
        assert 0.05 < predictive.ppc(idata, name)["p_value"] < 0.95


def test_only_new_school_means_see_a_non_normal_population(data):
    """06: replicates that reuse the fitted theta_j "sit near HSB's whatever the population
    looks like". Power check: HSB's school sizes, normal school means but three schools 5 tau
    below mu. The mixed check sees the too-small smallest mean (p near 1), the check with the
    fitted theta_j does not (p well inside (0.05, 0.95))."""
    _, _, s = data
    rng = np.random.default_rng(SEED)
    theta = 12.6 + 2.9 * rng.standard_normal(s.m)
    theta[:3] = 12.6 - 5 * 2.9
    groups = np.repeat(np.arange(s.m), s.n)
    y = theta[groups] + 6.26 * rng.standard_normal(groups.size)
    fit = gibbs.hierarchical_normal(y, groups, n_draws=1000, seed=SEED)
    mixed = predictive.ppc_new_means(fit, "smallest school mean", seed=SEED)
    reuse = predictive.ppc(
        fit.to_arviz(posterior_predictive=True, draws=250), "smallest school mean"
    )
    assert mixed["p_value"] > 0.98
    assert 0.05 < reuse["p_value"] < 0.95


def test_scores_are_flatter_than_normal_and_means_and_variances_correlate(data):
    """06: "excess kurtosis -0.59"; "schools that score higher vary less (correlation
    -0.24)"; and flat data make s_j^2 vary less than normal data (Var s^2 = sigma^4 (2/(n-1)
    + kurtosis/n))."""
    y, g, s = data
    residuals = y - s.ybar[np.searchsorted(s.labels, g)]
    assert sps.kurtosis(residuals) == pytest.approx(-0.59, abs=0.005)
    assert np.corrcoef(s.ybar, s.s2)[0, 1] == pytest.approx(-0.24, abs=0.005)
    rng = np.random.default_rng(SEED)
    flat = rng.uniform(-1, 1, (20000, 30))  # excess kurtosis -1.2
    normal = rng.normal(0, np.sqrt(1 / 3), (20000, 30))  # same variance
    assert flat.var(axis=1, ddof=1).std() < 0.8 * normal.var(axis=1, ddof=1).std()


# ------------------------------------------------------------------------------ notebook 05
def test_half_cauchy_is_weakly_informative_with_eight_schools(data):
    """05: half-Cauchy(0, 5) "at tau = A it is half its value at 0"; with the notebook's 8
    schools (printed there) E[tau | y] is 4.97 (flat tau2), 4.33 (p(tau) = 1), 3.93
    (half-Cauchy), upper limits 10.5, 8.5, 7.1; which 8 schools moves E[tau | y] by more."""
    y, g, _ = data
    assert sps.halfcauchy.pdf(5, scale=5) / sps.halfcauchy.pdf(0, scale=5) == pytest.approx(0.5)
    y8, g8 = subsample_groups(y, g, 8, np.random.default_rng(630))
    assert list(np.unique(g8)) == ["1288", "1942", "2639", "3610", "3657", "3716", "5783", "7364"]
    summaries = {
        name: exact.tau_summary(exact.marginal_tau2(y8, g8, p))
        for name, p in {
            "flat": priors.Default(),
            "uniform": priors.Default(tau2="uniform-tau"),
            "half-Cauchy": priors.HalfCauchy(scale=5.0),
        }.items()
    }
    expected = {"flat": (4.97, 10.47), "uniform": (4.33, 8.50), "half-Cauchy": (3.93, 7.13)}
    for name, (mean, upper) in expected.items():  # exact quadrature: 0.01 is rounding
        assert summaries[name]["mean"] == pytest.approx(mean, abs=0.01)
        assert summaries[name]["upper"] == pytest.approx(upper, abs=0.01)
    rng = np.random.default_rng(SEED)
    means = [
        exact.tau_summary(exact.marginal_tau2(*subsample_groups(y, g, 8, rng)))["mean"]
        for _ in range(20)
    ]
    assert max(means) - min(means) > 3 * (
        summaries["flat"]["mean"] - summaries["half-Cauchy"]["mean"]
    )


# ------------------------------------------------------------------------------ notebook 07
def test_knowing_the_school_removes_less_than_the_icc(data):
    """07: knowing a school's students removes 0.17 of a new student's variance (67 students)
    and 0.14 (14 students), less than the ICC share a known theta_j would remove."""
    y, g, s = data
    m1 = gibbs.hierarchical_normal(y, g, seed=SEED)
    small, large = str(s.labels[np.argmin(s.n)]), str(s.labels[np.argmax(s.n)])
    share = predictive.variance_removed_by_school(m1, {"small": small, "large": large})
    icc = float(np.mean(m1.draws["tau2"] / (m1.draws["tau2"] + m1.draws["sigma2"])))
    assert 0.12 < share["small"] < 0.16 and 0.16 < share["large"] < 0.185
    assert share["small"] < share["large"] < share["θ_j known exactly"]
    assert share["θ_j known exactly"] == pytest.approx(icc, abs=0.005)


# ------------------------------------------------------------------------------ notebook 10
@pytest.fixture(scope="module")
def loos(data, model2):
    """PSIS-LOO of the notebook's four models from 1000 draws per chain, other seeds."""
    y, g, _ = data
    fits = {
        "complete pooling": exact.complete_pooling(y, g, n_draws=1000, seed=SEED),
        "no pooling": exact.no_pooling(y, g, n_draws=1000, seed=SEED),
        "model 1": gibbs.hierarchical_normal(y, g, seed=SEED),
        "model 2": model2,
    }
    return fits, {k: predictive.loo(f, draws=1000) for k, f in fits.items()}


def test_partial_pooling_beats_no_pooling_by_about_two_standard_errors(loos):
    """10: "model 1 predicts better by 7.4 +- 3.7, about two standard errors" (the se is a
    property of the data; the difference has a Monte Carlo error of about 0.5 at 4000
    draws)."""
    _, res = loos
    gap = predictive.elpd_difference(res["model 1"], res["no pooling"])
    assert 5.5 < gap["diff"] < 9.5 and 3.3 < gap["se"] < 4.2
    assert 1.5 < gap["z"] < 2.6
    table = predictive.compare(res)
    assert list(table.index[:2]) == ["model 2", "model 1"]
    assert "no pooling" in table.index[2:]  # the table's dse is against model 2, not model 1


def test_pareto_k_flags_from_400_draws_are_noise(data, loos):
    """10: "No student of any model is above 0.7" (4000 draws); from 400 draws k-hat is
    noisy and flags students by chance; the largest k-hat of model 2 is a student far below
    the school mean, below 0.7 once enough draws are used."""
    y, g, s = data
    fits, res = loos
    for name, r in res.items():
        assert float(r["good_k"]) == pytest.approx(0.7)
        assert np.max(r["pareto_k"]) < 0.7, name
    # no pooling: exact, independent draws. From 400 of them the largest of 7185 k-hats is
    # far above what 4000 give; that student's k-hat from 20 000 draws is small
    few = predictive.loo(fits["no pooling"], draws=100)
    k_few = np.asarray(few["pareto_k"])
    assert k_few.max() > np.max(res["no pooling"]["pareto_k"]) + 0.15
    big = exact.no_pooling(y, g, n_draws=5000, seed=SEED + 1)
    assert predictive.observation_pareto_k(big, int(np.argmax(k_few))) < 0.3
    # model 2's largest k-hats belong to students far from their school's mean (|z| about
    # 0.8 on average): leaving one out moves the school's sigma_j^2
    k2 = np.asarray(res["model 2"]["pareto_k"])
    idx = np.searchsorted(s.labels, g)
    z = np.abs(y - s.ybar[idx]) / np.sqrt(s.s2[idx])
    top = np.argsort(k2)[::-1][:10]
    assert z[top[0]] > 2 and z[top].mean() > 1.8 and np.corrcoef(z, k2)[0, 1] > 0.4
    assert predictive.observation_pareto_k(fits["model 2"], int(top[0])) < 0.6  # 20 000 draws


# ------------------------------------------------------------------------------ notebook 12
RB = "mathach ~ mses * cses + sector * cses"


@pytest.fixture(scope="module")
def mixed():
    """Notebook 12's fits with another seed: the R&B model, the random intercept with a
    common slope, model 1 (1000 draws per chain after 500 warm-up, as the notebook), and
    their replicates (125 draws per chain) and PSIS-LOO (250), as the notebook."""
    hsb = load_hsb_covariates()
    run = {"n_draws": 1000, "n_warmup": 500, "seed": SEED}
    rb = gibbs.mixed_model(RB, hsb, groups="school", re_formula="~cses", **run)
    ri = gibbs.mixed_model("mathach ~ mses + sector + cses", hsb, groups="school", **run)
    m1 = gibbs.hierarchical_normal(hsb["mathach"].to_numpy(), hsb["school"].to_numpy(), **run)
    return hsb, rb, {"model 1": m1, "random intercept": ri, "R&B": rb}


def _replicates(fit):
    return fit.to_arviz(posterior_predictive=True, draws=125, seed=SEED)


def test_catholic_slopes_are_flatter_and_the_slope_sd_sits_above_reml(mixed):
    """12: "Catholic schools' slopes are flatter with posterior probability essentially 1";
    the fixed effects agree with REML; "the slope SD is where the prior shows": its
    posterior median lies above REML's 0.32, with most of the posterior above it."""
    hsb, rb, _ = mixed
    fit = reml.fit_mixed(RB, hsb, groups="school", re_formula="~cses")
    table = posterior.mixed_vs_reml(rb, fit)
    fe = table.iloc[:6]
    assert ((fe["posterior mean"] - fe["REML"]).abs() < 0.5 * fe["posterior sd"]).all()
    np.testing.assert_allclose(fe["posterior sd"], fe["REML SE"], rtol=0.15)
    draws = posterior.mixed_draws(rb)
    assert np.mean(draws["sector[T.Catholic]:cses"] < 0) > 0.999
    sd = draws["sd(cses)"]
    assert table.loc["sd(cses)", "REML"] == pytest.approx(0.318, abs=0.002)
    assert np.median(sd) > 0.4 and np.mean(sd > 0.318) > 0.7


def test_a_common_slope_fails_the_slope_check_and_random_slopes_pass(mixed):
    """12: the random-intercept model "replicates the spread a common slope gives, about
    160; the data's is larger" (p near 0) and the R&B model "reproduces it". From 500
    replicates a p-value has a binomial sd of at most 0.022: the bounds leave 3 to 10 of
    them around the notebook's values (0.002 and 0.70; the fit's own Monte Carlo error
    comes on top)."""
    hsb, _, fits = mixed
    stat = predictive.slope_heterogeneity(hsb["cses"])
    ri = predictive.ppc(_replicates(fits["random intercept"]), stat)
    rb = predictive.ppc(_replicates(fits["R&B"]), stat)
    assert ri["observed"] == pytest.approx(213.34, abs=0.01)
    assert 145 < np.median(ri["replicated"]) < 175  # about m - 1 = 159
    assert ri["p_value"] < 0.07
    assert 0.2 < rb["p_value"] < 0.95


def test_loo_ranks_rb_over_a_common_slope_over_model_1(mixed):
    """12: "student and school predictors buy far more than one mean per school; the slopes
    as outcomes add a smaller but clear gain. Every Pareto k is below 0.7" (1000 draws)."""
    _, _, fits = mixed
    loos = {name: predictive.loo(fit, draws=250) for name, fit in fits.items()}
    assert list(predictive.compare(loos).index) == ["R&B", "random intercept", "model 1"]
    gain = predictive.elpd_difference(loos["R&B"], loos["random intercept"])
    assert 10 < gain["diff"] < 40 and gain["z"] > 2
    assert predictive.elpd_difference(loos["random intercept"], loos["model 1"])["diff"] > 150
    k = predictive.pareto_k_table(loos)
    assert (k["max k"] < k["threshold"]).all() and k["max k"].max() < 0.6


def test_a_new_students_interval_is_sigma_wide_the_schools_line_is_not(mixed):
    """12: "the school's line is known to a few points; one new student's score is not:
    the within-school spread sigma of about 6 dominates" (school 8367, the smallest), and
    exercise 3: at cses = +2 the student's interval is barely wider than at 0."""
    hsb, rb, _ = mixed
    row = hsb[hsb["school"] == "8367"].iloc[[0]]
    new = pd.concat([row.assign(cses=0.0), row.assign(cses=2.0)]).set_axis(["at 0", "at +2"])
    x, z = reml.design_matrices(RB, hsb, new, re_formula="~cses")
    table = predictive.mixed_prediction_table(rb, "8367", x, z, np.random.default_rng(SEED))
    width = table["width"]
    assert 23.0 < width["at 0: new student"] < 25.5  # 2 x 1.96 x 6.06 = 23.8, plus the line
    assert width["at 0: school's line"] < 6.5
    assert width["at +2: school's line"] > 1.2 * width["at 0: school's line"]
    assert width["at +2: new student"] < 1.05 * width["at 0: new student"]
