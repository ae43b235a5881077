"""The ArviZ contract of Posterior.to_arviz, posterior predictive checks, prediction and LOO.

The pointwise groups are checked against log densities computed here with scipy, the
ArviZ elpd against a plain importance-sampling estimate written in this file, and PSIS
leave-one-school-out against refitting without the school.
"""

import numpy as np
import pytest
from scipy import stats
from scipy.special import logsumexp

from hierlib import exact, gibbs, predictive
from hierlib._arviz import az
from hierlib.data import group_stats


@pytest.fixture(scope="module")
def hsb_fits(hsb):
    y, g = hsb["mathach"].to_numpy(), hsb["school"].to_numpy()
    m1 = gibbs.hierarchical_normal(y, g, n_draws=1000, n_warmup=500, seed=11)
    m2 = gibbs.unequal_variances(y, g, n_draws=1000, n_warmup=500, seed=12)
    return y, g, m1, m2


@pytest.fixture(scope="module")
def small():
    rng = np.random.default_rng(5)
    sizes = np.array([4, 6, 3, 8, 5, 7])
    labels = np.repeat(np.array(["e", "a", "f", "c", "b", "d"]), sizes)
    y = np.repeat(rng.normal(0, 2, sizes.size), sizes) + rng.normal(0, 1, sizes.sum())
    perm = rng.permutation(y.size)
    return y[perm], labels[perm]


def test_groups_have_the_documented_names_dims_and_coords(small):
    y, g = small
    post = gibbs.hierarchical_normal(y, g, n_draws=300, seed=3)
    idata = post.to_arviz(log_likelihood=True, posterior_predictive=True, thin=3)
    assert {"posterior", "log_likelihood", "posterior_predictive", "observed_data"} <= set(
        idata.groups()
    )
    obs = idata.observed_data["y"]
    assert obs.dims == ("obs",)
    np.testing.assert_array_equal(obs.values, y)  # the data, in the order given
    np.testing.assert_array_equal(obs["school"].values, g)
    for group in ("log_likelihood", "posterior_predictive"):
        da = idata[group]["y"]
        assert da.dims == ("chain", "draw", "obs")
        assert da.shape == (4, 100, y.size)
        np.testing.assert_array_equal(da["school"].values, g)
    assert idata.posterior["mu"].shape == (4, 100)  # thinned alike
    # log p(y_ij | theta_j, sigma2) by scipy, for one draw
    idx = np.searchsorted(post.groups, g)
    theta, s2 = post.draws["theta"][2, 9], post.draws["sigma2"][2, 9]
    expected = stats.norm.logpdf(y, theta[idx], np.sqrt(s2))
    np.testing.assert_allclose(idata.log_likelihood["y"].values[2, 3], expected, rtol=1e-12)


def test_model2_pointwise_uses_each_school_variance(small):
    y, g = small
    post = gibbs.unequal_variances(y, g, n_draws=50, seed=3)
    ll = post.to_arviz(log_likelihood=True).log_likelihood["y"].values
    idx = np.searchsorted(post.groups, g)
    th, s2 = post.draws["theta"][1, 7], post.draws["sigma2_j"][1, 7]
    np.testing.assert_allclose(ll[1, 7], stats.norm.logpdf(y, th[idx], np.sqrt(s2[idx])))


def test_replicated_data_are_reproducible_and_follow_the_model(small):
    y, g = small
    post = gibbs.hierarchical_normal(y, g, n_draws=2000, seed=3)
    a = post.to_arviz(posterior_predictive=True).posterior_predictive["y"].values
    b = post.to_arviz(posterior_predictive=True).posterior_predictive["y"].values
    c = post.to_arviz(posterior_predictive=True, seed=99).posterior_predictive["y"].values
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # standardised residuals of the replicates given their own draw are N(0, 1)
    idx = np.searchsorted(post.groups, g)
    z = (a - post.draws["theta"][..., idx]) / np.sqrt(post.draws["sigma2"])[..., None]
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


def test_memory_is_refused_before_allocating(hsb_fits):
    _, _, m1, _ = hsb_fits
    with pytest.raises(ValueError, match=r"needs 0\.4 GiB, above .* \(max_bytes\): pass draws="):
        m1.to_arviz(log_likelihood=True, posterior_predictive=True, max_bytes=10 * 2**20)
    with pytest.raises(ValueError, match="draws = 5000 is more"):
        m1.to_arviz(draws=5000)
    with pytest.raises(ValueError, match="thin"):
        m1.to_arviz(thin=0)


def test_pointwise_groups_need_all_theta_and_the_observations(small):
    y, g = small
    post = gibbs.hierarchical_normal(y, g, n_draws=50, keep_theta=["a"])
    with pytest.raises(ValueError, match="keep_theta=None"):
        post.to_arviz(log_likelihood=True)
    post.y = None  # as a posterior sampled from group statistics only
    with pytest.raises(ValueError, match="no observations"):
        post.to_arviz(posterior_predictive=True)
    assert "mu" in post.to_arviz().posterior  # the posterior group alone still works


def test_ppc_of_variance_spread_rejects_model_1_on_hsb(hsb_fits):
    y, g, m1, m2 = hsb_fits
    check1 = predictive.ppc(m1.to_arviz(posterior_predictive=True, draws=250))
    s = group_stats(y, g)
    assert check1["observed"] == pytest.approx(np.std(s.s2, ddof=1))
    assert check1["replicated"].shape == (1000,)
    assert check1["p_value"] < 0.01
    # model 2 gives each school its variance: the spread is no longer too small (the
    # replicates even spread more: the lecture's prior holds nu0 near 31, which spreads the
    # school variances more than HSB's; tests/test_claims.py holds the numbers)
    check2 = predictive.ppc(m2.to_arviz(posterior_predictive=True, draws=250))
    assert check2["p_value"] > 0.05
    assert check2["replicated"].mean() > check1["replicated"].max()


def test_mixed_check_of_model_2_sees_the_nu0_prior(hsb_fits):
    """Fresh sigma_j^2 from the fitted population: under the lecture's nu0 prior (which holds
    nu0 near 31) they spread more than HSB's s_j^2; with a vague nu0 prior they do not."""
    from hierlib import priors

    y, g, m1, m2 = hsb_fits
    lecture = predictive.ppc_new_variances(m2, seed=1)
    assert lecture["replicated"].shape == (1000,)
    assert lecture["p_value"] > 0.95
    vague = gibbs.unequal_variances(
        y, g, prior=priors.UnequalVariances(nu0_shape=1, nu0_rate=0.05), n_draws=1000, seed=2
    )
    assert 0.1 < predictive.ppc_new_variances(vague, seed=1)["p_value"] < 0.9
    with pytest.raises(ValueError, match="unequal-variances"):
        predictive.ppc_new_variances(m1)


def test_group_statistics_of_replicates_by_hand():
    y = np.array([[1.0, 3.0, 2.0, 2.0, 6.0], [0.0, 0.0, 1.0, 5.0, 5.0]])
    idx = np.array([0, 0, 1, 1, 1])
    np.testing.assert_allclose(predictive.group_variances(y, idx, 2), [[2.0, 16 / 3], [0, 16 / 3]])
    np.testing.assert_allclose(predictive.smallest_mean(y, idx, 2), [2.0, 0.0])
    np.testing.assert_allclose(predictive.largest_mean(y, idx, 2), [10 / 3, 11 / 3])
    with pytest.raises(ValueError, match="two members"):
        predictive.group_variances(y, np.array([0, 1, 1, 1, 1]), 2)


def test_loo_and_compare_run_on_both_models(hsb_fits):
    _, _, m1, m2 = hsb_fits
    i1 = m1.to_arviz(log_likelihood=True, draws=250)
    i2 = m2.to_arviz(log_likelihood=True, draws=250)
    table = predictive.compare({"model 1": i1, "model 2": i2})
    assert set(table.index) == {"model 1", "model 2"}
    assert np.isfinite(table["elpd_loo"]).all()
    for idata in (i1, i2):
        loo = az.loo(idata, pointwise=True)
        assert loo["pareto_k"].shape == (7185,)
        assert float(loo["pareto_k"].max()) < 0.7


def test_arviz_elpd_agrees_with_plain_importance_sampling(hsb_fits):
    """Raw importance sampling with the posterior as proposal: p(y_i | y_-i) =
    1 / E_post[1 / p(y_i | theta, sigma2)], computed here from the draws with scipy."""
    y, g, m1, _ = hsb_fits
    keep = np.arange(0, 1000, 4)
    idx = np.searchsorted(m1.groups, g)
    theta = m1.draws["theta"][:, keep].reshape(-1, m1.stats.m)
    sigma = np.sqrt(m1.draws["sigma2"][:, keep].ravel())
    ll = stats.norm.logpdf(y[None, :], theta[:, idx], sigma[:, None])
    elpd_is = float(np.sum(np.log(ll.shape[0]) - logsumexp(-ll, axis=0)))
    loo = az.loo(m1.to_arviz(log_likelihood=True, thin=4))
    assert loo["elpd_loo"] == pytest.approx(elpd_is, abs=1.0)
    # and LOO is below the in-sample fit by about the effective number of parameters
    lppd = float(np.sum(logsumexp(ll, axis=0) - np.log(ll.shape[0])))
    assert 100 < lppd - elpd_is < 200


def test_pooling_models_enter_the_comparison(hsb_fits):
    y, g, m1, _ = hsb_fits
    fits = {
        "complete": exact.complete_pooling(y, g, n_draws=250, seed=1),
        "none": exact.no_pooling(y, g, n_draws=250, seed=1),
        "model 1": m1,
    }
    table = predictive.compare(
        {k: f.to_arviz(log_likelihood=True, draws=250) for k, f in fits.items()}
    )
    assert table.index[0] == "model 1"  # partial pooling predicts a new student best
    assert table.index[-1] == "complete"


def test_prediction_intervals_widen_from_school_mean_to_new_student_to_new_school(hsb_fits):
    _, _, m1, _ = hsb_fits
    rng = np.random.default_rng(1)
    table = predictive.prediction_table(m1, {"small": "8367", "large": "2305"}, rng)
    sigma = np.sqrt(m1.draws["sigma2"].mean())
    new_student = table.loc["new student, small", "width"]
    assert new_student == pytest.approx(2 * 1.96 * np.sqrt(sigma**2 + 1.6**2 + 0.3), rel=0.1)
    assert table.loc["θ_j, small", "width"] > table.loc["θ_j, large", "width"]
    tau = np.sqrt(m1.draws["tau2"].mean())
    new_school = table.loc["mean of a new school θ̃", "width"]
    assert new_school == pytest.approx(2 * 1.96 * tau, rel=0.05)
    with pytest.raises(ValueError, match="no kept theta"):
        predictive.predict_new_student(m1, "nope", rng)


def test_school_loglik_is_the_multivariate_normal_density():
    rng = np.random.default_rng(2)
    yj = rng.normal(3, 2, size=5)
    mu, tau2, sigma2 = 2.5, 1.7, 3.1
    cov = sigma2 * np.eye(5) + tau2
    expected = stats.multivariate_normal.logpdf(yj, np.full(5, mu), cov)
    ss = np.sum((yj - yj.mean()) ** 2)
    assert predictive.school_loglik(5, yj.mean(), ss, mu, tau2, sigma2) == pytest.approx(expected)


def test_psis_leave_one_school_out_agrees_with_refits(hsb_fits):
    y, g, m1, _ = hsb_fits
    loo = az.loo(predictive.school_idata(m1), pointwise=True)
    labels = np.asarray(m1.stats.labels)
    assert loo["loo_i"].shape == (160,)

    def fit(y_, g_):
        return gibbs.hierarchical_normal(y_, g_, n_draws=1000, seed=4)

    for school in ("8367", "2305", "4530"):
        j = int(np.flatnonzero(labels == school)[0])
        refit = predictive.loso_refit(y, g, school, fit)
        assert float(loo["loo_i"][j]) == pytest.approx(refit, abs=0.1), school
    with pytest.raises(ValueError, match="not in the data"):
        predictive.loso_refit(y, g, "nope", fit)
    with pytest.raises(ValueError, match="leave-one-school-out"):
        predictive.school_log_likelihood(exact.no_pooling(y, g, n_draws=10))


def test_describe_ppc_reads_the_check():
    check = {"observed": 11.14, "replicated": np.linspace(7.0, 10.0, 1001), "p_value": 0.0}
    text = predictive.describe_ppc(check, "points²")
    assert text.splitlines() == [
        "observed T(y) = 11.1 points²",
        "replicated T: 95% between 7.1 and 9.9",
        "posterior predictive p-value < 0.001",  # no replicate reached T(y): below 1/1001
    ]
    check["p_value"] = 0.25
    assert predictive.describe_ppc(check).endswith("posterior predictive p-value = 0.250")


def test_plot_ppc_runs_quietly_on_the_library_groups(small, recwarn):
    import matplotlib

    matplotlib.use("Agg")
    y, g = small
    idata = gibbs.hierarchical_normal(y, g, n_draws=100, seed=3).to_arviz(posterior_predictive=True)
    ax = az.plot_ppc(idata, num_pp_samples=20, random_seed=1)
    assert len(ax.get_lines()) >= 22  # 20 replicates, their mean, the data
    assert not [w for w in recwarn if "ppc" in str(w.message).lower()]


def test_pooling_posteriors_have_pointwise_groups(small):
    y, g = small
    idx = np.searchsorted(np.unique(g), g)
    cp = exact.complete_pooling(y, g, n_draws=50, seed=2)
    ll = cp.to_arviz(log_likelihood=True).log_likelihood["y"].values
    mu, s2 = cp.draws["mu"][1, 4], cp.draws["sigma2"][1, 4]
    np.testing.assert_allclose(ll[1, 4], stats.norm.logpdf(y, mu, np.sqrt(s2)))
    npool = exact.no_pooling(y, g, n_draws=50, seed=2)
    ll = npool.to_arviz(log_likelihood=True).log_likelihood["y"].values
    th, s2 = npool.draws["theta"][0, 7], npool.draws["sigma2"][0, 7]
    np.testing.assert_allclose(ll[0, 7], stats.norm.logpdf(y, th[idx], np.sqrt(s2)))
    assert set(cp.to_arviz().posterior.data_vars) == {"mu", "sigma2", "sigma"}


def test_prediction_plot_has_one_bar_per_row(hsb_fits):
    import matplotlib

    matplotlib.use("Agg")
    _, _, m1, _ = hsb_fits
    table = predictive.prediction_table(m1, {"small": "8367"}, np.random.default_rng(3))
    ax = predictive.plot_prediction_table(table, title="t")
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(table.index)  # the first row at the top
    assert len(ax.get_lines()) == 2 * len(table)
    assert ax.get_yticks()[0] == len(table) - 1
