"""The mixed predictive checks, the checks of the spread of variances at fixed nu0, the pairwise
elpd difference, the variance a known school removes and the single-observation Pareto k.

Each function is checked against what it must equal: the law of the replicated statistic
(computed here from the posterior draws), the row-by-row replication of :func:`ppc`, ArviZ's
own ``az.compare`` and ``az.psislw``. Monte Carlo tolerances are stated where they apply: a
mean of R independent replicates is within 4 standard errors of its expectation (false alarm
about 6e-5 per comparison).
"""

import warnings

import matplotlib
import numpy as np
import pytest
from scipy import stats

from hierlib import exact, gibbs, predictive, priors, unequal
from hierlib._arviz import az
from hierlib._pointwise import draw_index, normal_logpdf
from hierlib.data import group_stats

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sim():
    """30 schools of 4..20 students with unequal variances (nu0 = 10), model 1 and 2 fits."""
    rng = np.random.default_rng(21)
    sizes = rng.integers(4, 21, 30)
    groups = np.repeat(np.arange(30), sizes)
    theta = rng.normal(10.0, 2.0, 30)
    sigma2 = 9.0 * 10 / rng.chisquare(10, 30)
    y = theta[groups] + np.sqrt(sigma2[groups]) * rng.standard_normal(groups.size)
    m1 = gibbs.hierarchical_normal(y, groups, n_draws=2000, n_warmup=500, seed=3)
    m2 = gibbs.unequal_variances(y, groups, n_draws=2000, n_warmup=500, seed=4)
    return y, groups, m1, m2


def test_mixed_means_follow_the_population_law(sim):
    """With fresh theta_j ~ N(mu, tau2), school 0's replicated mean is N(mu, tau2 + sigma2/n_0)
    mixed over the draws: mean E[mu], variance E[tau2 + sigma2/n_0] + Var(mu)."""
    y, groups, m1, _ = sim
    n0 = int(np.sum(groups == 0))

    def first_mean(y_, g_, m):
        return predictive.group_means(y_, g_, m)[..., 0]

    check = predictive.ppc_new_means(m1, first_mean, draws=2000, seed=5)
    rep = check["replicated"]
    assert rep.shape == (8000,)
    keep = draw_index(m1.n_draws, 1, 2000)
    mu, tau2, s2 = (m1.draws[k][:, keep].ravel() for k in ("mu", "tau2", "sigma2"))
    var = np.mean(tau2 + s2 / n0) + np.var(mu)
    assert abs(rep.mean() - mu.mean()) < 4 * np.sqrt(var / rep.size)
    # the variance of R normal-mixture draws: se about var * sqrt(2 / R) (a little more for
    # the heavier tails of the mixture: allow 6 se)
    assert abs(rep.var() - var) < 6 * var * np.sqrt(2 / rep.size)
    # reusing the fitted theta_0 instead gives a far narrower law: the data's mean dominates
    reuse = predictive.ppc(m1.to_arviz(posterior_predictive=True, draws=2000), first_mean)
    assert reuse["replicated"].var() < 0.6 * rep.var()


def test_mixed_means_of_model_2_use_each_school_variance(sim):
    y, groups, _, m2 = sim
    n = np.bincount(groups)
    j = int(np.argmax(m2.sigma2_j_mean / n))  # the school whose mean is noisiest

    def mean_j(y_, g_, m):
        return predictive.group_means(y_, g_, m)[..., j]

    rep = predictive.ppc_new_means(m2, mean_j, draws=2000, seed=6)["replicated"]
    keep = draw_index(m2.n_draws, 1, 2000)
    tau2 = m2.draws["tau2"][:, keep].ravel()
    s2j = m2.draws["sigma2_j"][:, keep, j].ravel()
    var = np.mean(tau2 + s2j / n[j]) + np.var(m2.draws["mu"][:, keep])
    assert abs(rep.var() - var) < 6 * var * np.sqrt(2 / rep.size)


def test_mixed_checks_refuse_what_they_cannot_do(sim):
    y, groups, m1, m2 = sim
    with pytest.raises(ValueError, match="unequal-variances"):
        predictive.ppc_new_variances(m1)
    with pytest.raises(ValueError, match="tau2"):
        predictive.ppc_new_means(exact.no_pooling(y, groups, n_draws=50, seed=1))
    with pytest.raises(TypeError, match="post"):
        predictive.ppc_new_means({"mu": 1.0})
    # model 1 needs no fitted theta_j (fresh ones replace them); model 2 needs every sigma_j^2
    subset = gibbs.hierarchical_normal(y, groups, n_draws=100, seed=1, keep_theta=[0, 1])
    assert 0 <= predictive.ppc_new_means(subset, draws=50)["p_value"] <= 1
    subset2 = gibbs.unequal_variances(y, groups, n_draws=100, seed=1, keep_theta=[0, 1])
    with pytest.raises(ValueError, match="keep_theta=None"):
        predictive.ppc_new_means(subset2, draws=50)
    with pytest.raises(ValueError, match="keep_theta=None"):
        predictive.ppc_new_variances(subset2, draws=50)
    from_stats = gibbs.hierarchical_normal(stats=group_stats(y, groups), n_draws=100, seed=1)
    with pytest.raises(ValueError, match="no observations"):
        predictive.ppc_new_means(from_stats, draws=50)


def test_variance_spread_checks_equal_the_row_by_row_replicates(sim):
    """The chi-square shortcut s2_rep = sigma2 chi2_{n-1}/(n-1) against replicating every row
    (ppc / ppc_new_variances): the same law of T. Two-sample Kolmogorov-Smirnov at the 0.1%
    level; the two sets share the posterior draws, which makes them alike beyond chance, so
    the test is conservative. Its power: a shortcut with n_j instead of n_j - 1 degrees of
    freedom moves T by several percent and fails it."""
    _, _, _, m2 = sim
    fast = predictive.variance_spread_checks(m2, draws=2000, seed=7)
    rows = predictive.ppc(m2.to_arviz(posterior_predictive=True, draws=2000, seed=8))
    mixed_rows = predictive.ppc_new_variances(m2, draws=2000, seed=9)
    for shortcut, by_rows in ((fast["standard"], rows), (fast["mixed"], mixed_rows)):
        assert shortcut["observed"] == pytest.approx(by_rows["observed"], rel=1e-12)
        assert shortcut["replicated"].shape == by_rows["replicated"].shape == (8000,)
        assert stats.ks_2samp(shortcut["replicated"], by_rows["replicated"]).pvalue > 1e-3
    # the fresh variances spread more than the fitted ones on these data (nu0 = 10 is weak
    # pooling: the fitted sigma_j^2 follow each school's s_j^2)
    assert fast["mixed"]["replicated"].mean() > fast["standard"]["replicated"].mean()


def test_variance_spread_checks_work_from_group_statistics(sim):
    y, groups, _, _ = sim
    post = gibbs.unequal_variances(stats=group_stats(y, groups), n_draws=300, seed=2)
    out = predictive.variance_spread_checks(post, draws=100, seed=1)
    assert set(out) == {"standard", "mixed"}
    assert all(0 <= c["p_value"] <= 1 and c["replicated"].shape == (400,) for c in out.values())
    again = predictive.variance_spread_checks(post, draws=100, seed=1)
    np.testing.assert_array_equal(out["mixed"]["replicated"], again["mixed"]["replicated"])
    with pytest.raises(ValueError, match="nu0"):
        predictive.variance_spread_checks(gibbs.hierarchical_normal(y, groups, n_draws=50))
    with pytest.raises(ValueError, match="draws"):
        predictive.variance_spread_checks(post, draws=0)


def test_nu0_sweep_holds_nu0_and_refuses_bad_values(sim):
    y, groups, _, _ = sim
    s = group_stats(y, groups)
    table = unequal.variance_spread_by_nu0([5, 50], s, draws=100, n_draws=300, seed=1)
    assert list(table.index) == [5.0, 50.0]
    np.testing.assert_allclose(table["nu0_mean"], table.index, rtol=0.01)
    for name in ("standard", "mixed"):
        assert (table[f"lower_{name}"] < table[f"upper_{name}"]).all()
        # more pooling (larger nu0), less spread of the replicated variances
        assert table.loc[50, f"upper_{name}"] < table.loc[5, f"upper_{name}"]
    with pytest.raises(ValueError, match="nu0_values"):
        unequal.variance_spread_by_nu0([10, -1], s)
    with pytest.raises(ValueError, match="nu0_values"):
        unequal.variance_spread_by_nu0([], s)
    with pytest.raises(ValueError, match="concentration"):
        unequal.variance_spread_by_nu0([10], s, concentration=0)
    with pytest.raises(ValueError, match="prob"):
        unequal.variance_spread_by_nu0([10], s, prob=1.5)
    with pytest.raises(ValueError, match="prob must be a number"):
        unequal.variance_spread_by_nu0([10], s, prob="high")
    with pytest.raises(TypeError, match="stats"):
        unequal.variance_spread_by_nu0([10], {"n": [1, 2]})


def test_nu0_sweep_plot_marks_the_observed_and_fitted_values(sim):
    y, groups, _, _ = sim
    table = unequal.variance_spread_by_nu0(
        [5, 20, 80], group_stats(y, groups), draws=50, n_draws=200, n_warmup=100, seed=1
    )
    ax = unequal.plot_variance_spread_by_nu0(table, fitted_nu0=12.0)
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("observed" in t for t in labels) and any("ν₀ ≈ 12" in t for t in labels)
    assert any(t.startswith("95% of replicates") for t in labels)
    assert ax.get_xlabel()
    with pytest.raises(ValueError, match="no column upper_mixed"):
        unequal.plot_variance_spread_by_nu0(table.drop(columns="upper_mixed"))
    with pytest.raises(ValueError, match="no rows"):
        unequal.plot_variance_spread_by_nu0(table.iloc[:0])
    with pytest.raises(ValueError, match="fitted_nu0"):
        unequal.plot_variance_spread_by_nu0(table, fitted_nu0=-3.0)


def test_elpd_difference_is_az_compare_for_any_pair(sim):
    y, groups, m1, m2 = sim
    loos = {
        "m1": predictive.loo(m1.to_arviz(log_likelihood=True, draws=500)),
        "m2": predictive.loo(m2.to_arviz(log_likelihood=True, draws=500)),
        "none": predictive.loo(
            exact.no_pooling(y, groups, n_draws=500, seed=2).to_arviz(log_likelihood=True)
        ),
    }
    table = predictive.compare(loos)
    best = table.index[0]
    for other in table.index[1:]:
        gap = predictive.elpd_difference(loos[best], loos[other])
        assert gap["diff"] == pytest.approx(table.loc[other, "elpd_diff"], rel=1e-9)
        assert gap["se"] == pytest.approx(table.loc[other, "dse"], rel=1e-9)
        assert gap["z"] == pytest.approx(gap["diff"] / gap["se"])
    back = predictive.elpd_difference(loos["none"], loos["m1"])
    forth = predictive.elpd_difference(loos["m1"], loos["none"])
    assert back["diff"] == pytest.approx(-forth["diff"]) and back["se"] == forth["se"]
    with pytest.raises(ValueError, match="identical"):
        predictive.elpd_difference(loos["m1"], loos["m1"])
    short = predictive.loo(
        gibbs.hierarchical_normal(y[:-5], groups[:-5], n_draws=200, seed=1).to_arviz(
            log_likelihood=True
        )
    )
    with pytest.raises(ValueError, match="same data"):
        predictive.elpd_difference(loos["m1"], short)
    with warnings.catch_warnings():  # ArviZ's Pareto-k warning: beside the point here
        warnings.simplefilter("ignore")
        totals_only = az.loo(m1.to_arviz(log_likelihood=True, draws=100), pointwise=False)
    with pytest.raises(ValueError, match="loo_b has no pointwise values"):
        predictive.elpd_difference(loos["m1"], totals_only)


def test_variance_removed_by_school_is_the_law_of_total_variance(sim):
    """Against the variance of predictive draws: a new student of school j, theta_j + e, and
    of a new school, mu + tau z + e (4 x 2000 draws each, repeated 10 times: the shares'
    Monte Carlo sd is about 0.01, the tolerance 0.03)."""
    y, groups, m1, _ = sim
    n = np.bincount(groups)
    small, large = int(np.argmin(n)), int(np.argmax(n))
    share = predictive.variance_removed_by_school(m1, {"small": small, "large": large})
    assert list(share.index) == ["small", "large", "θ_j known exactly"]
    assert 0 < share["small"] < share["large"] < share["θ_j known exactly"] < 1
    rng = np.random.default_rng(3)
    d = m1.draws
    sims = []
    for _ in range(10):
        new = d["mu"] + np.sqrt(d["tau2"]) * rng.standard_normal(d["mu"].shape)
        new = new + np.sqrt(d["sigma2"]) * rng.standard_normal(new.shape)
        row = {}
        for name, j in (("small", small), ("large", large)):
            known = d["theta"][..., j] + np.sqrt(d["sigma2"]) * rng.standard_normal(new.shape)
            row[name] = 1 - known.var() / new.var()
        sims.append(row)
    for name in ("small", "large"):
        assert abs(np.mean([r[name] for r in sims]) - share[name]) < 0.03
    with pytest.raises(ValueError, match="no kept theta"):
        predictive.variance_removed_by_school(m1, {"x": 999})
    with pytest.raises(ValueError, match=r"takes a fit of model 1 .*a fit of .no_pooling."):
        predictive.variance_removed_by_school(exact.no_pooling(y, groups, n_draws=50), {"a": 0})


def test_observation_pareto_k_is_psis_on_one_column(sim):
    y, groups, _, m2 = sim
    idata = m2.to_arviz(log_likelihood=True, draws=500)
    ll = idata.log_likelihood["y"].values.reshape(-1, y.size)
    for i in (0, int(np.argmax(np.abs(y - y.mean())))):
        _, k = az.psislw(-ll[:, i][None, :], reff=1.0)
        assert predictive.observation_pareto_k(m2, i, draws=500) == pytest.approx(float(k[0]))
    pooled = exact.complete_pooling(y, groups, n_draws=400, seed=1)
    assert predictive.observation_pareto_k(pooled, 3) < 0.5  # two parameters: tiny k
    with pytest.raises(ValueError, match="observation index"):
        predictive.observation_pareto_k(m2, y.size)
    with pytest.raises(ValueError, match="i must be at least 0"):
        predictive.observation_pareto_k(m2, -1)  # not the last observation
    with pytest.raises(ValueError, match="i must be an integer"):
        predictive.observation_pareto_k(m2, 2.5)
    with pytest.raises(ValueError, match="reff"):
        predictive.observation_pareto_k(m2, 0, reff=0)


def test_normal_logpdf_in_place_matches_scipy():
    rng = np.random.default_rng(1)
    y = rng.normal(size=7)
    mean = rng.normal(size=(3, 4, 7))
    var = np.broadcast_to(rng.gamma(2.0, size=(3, 4, 1)), mean.shape)  # as model 1 gives
    expected = stats.norm.logpdf(y, mean, np.sqrt(var))
    np.testing.assert_allclose(normal_logpdf(y, mean, var), expected, rtol=1e-13)
    full = rng.gamma(2.0, size=mean.shape)  # as model 2 gives
    np.testing.assert_allclose(
        normal_logpdf(y, mean, full),
        stats.norm.logpdf(y, mean, np.sqrt(full)),
        rtol=1e-13,
    )
    one = normal_logpdf(1.0, 2.0, 3.0)
    assert np.ndim(one) == 0 and one == pytest.approx(stats.norm.logpdf(1, 2, np.sqrt(3)))
    assert normal_logpdf(0.5, np.zeros(3), 2.0).shape == (3,)


def test_nu0_prior_as_fixed_is_what_the_sweep_uses():
    """The sweep's 'fixed' nu0 is a Gamma(k, rate k/nu) prior: mean nu, sd nu/sqrt(k)."""
    k, nu = 1e6, 31.0
    p = priors.UnequalVariances(nu0_shape=k, nu0_rate=k / nu)
    law = stats.gamma(p.nu0_shape, scale=1 / p.nu0_rate)
    assert law.mean() == pytest.approx(nu) and law.std() == pytest.approx(nu / 1e3)
