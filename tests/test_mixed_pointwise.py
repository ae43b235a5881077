"""MixedPosterior.to_arviz's pointwise groups: the log-likelihood of every row is the normal
density at x'beta + z'b_j, the replicated data are draws from it, and PSIS-LOO works on both
the InferenceData and the posterior itself (hierlib.predictive.loo, az.loo)."""

import numpy as np
import pytest
from scipy import stats
from test_mixed_stats import random_frame

from hierlib import data, gibbs, predictive


@pytest.fixture(scope="module")
def frame():
    return random_frame(41, m=9)


@pytest.fixture(scope="module")
def post(frame):
    return gibbs.mixed_model("y ~ x + w", frame, "g", "~x", n_draws=300, n_warmup=100,
                             n_chains=2, seed=8)  # fmt: skip


def test_log_likelihood_is_the_rows_normal_density(frame, post):
    idata = post.to_arviz(log_likelihood=True, draws=20)
    keep = ((np.arange(20) + 0.5) * 300 / 20).astype(int)
    _, X, Z, y, idx = data._mixed_design("y ~ x + w", frame, "g", "~x")
    ll = idata.log_likelihood["y"].values
    assert ll.shape == (2, 20, len(frame))
    for c, k in ((0, 3), (1, 17)):
        d = keep[k]
        mean = X @ post.draws["fe"][c, d] + np.sum(Z * post.draws["b"][c, d][idx], axis=1)
        expected = stats.norm.logpdf(y, mean, np.sqrt(post.draws["sigma2"][c, d]))
        np.testing.assert_allclose(ll[c, k], expected, rtol=1e-12)
    np.testing.assert_array_equal(idata.observed_data["y"].values, frame["y"].to_numpy())
    np.testing.assert_array_equal(idata.log_likelihood["school"].values, frame["g"].to_numpy())


def test_replicated_data_are_draws_from_the_model(post):
    a = post.to_arviz(posterior_predictive=True, seed=3)
    b = post.to_arviz(posterior_predictive=True, seed=3)
    rep = a.posterior_predictive["y"].values
    np.testing.assert_array_equal(rep, b.posterior_predictive["y"].values)
    # standardised by each draw's mean and sd, the replicates are standard normal: over
    # 2 x 300 x 45 values the mean is within 4.5/sqrt(27000) = 0.03 of 0 and the variance
    # within 0.04 of 1 (false alarm below 1e-5 each); sigma instead of sigma2 would fail
    X, Z, _, idx = post.rows
    fe, bb, s2 = post.draws["fe"], post.draws["b"], post.draws["sigma2"]
    means = np.einsum("np,cdp->cdn", X, fe) + np.einsum("nq,cdnq->cdn", Z, bb[:, :, idx])
    z = (rep - means) / np.sqrt(s2)[..., None]
    assert abs(z.mean()) < 0.03 and abs(z.var() - 1) < 0.04


@pytest.mark.filterwarnings("ignore:Estimated shape parameter of Pareto")
def test_loo_from_the_posterior_is_arvizs(post):
    import arviz as az

    idata = post.to_arviz(log_likelihood=True)
    ours = predictive.loo(post)
    theirs = az.loo(idata, pointwise=True)
    np.testing.assert_allclose(ours.loo_i.values, theirs.loo_i.values, rtol=1e-8)
    assert predictive.loo(idata).elpd_loo == pytest.approx(theirs.elpd_loo, rel=1e-10)


def test_pointwise_groups_need_every_b_and_fit_in_memory(frame, post):
    part = gibbs.mixed_model("y ~ x", frame, "g", "~x", n_draws=20, keep_b=["g1"])
    with pytest.raises(ValueError, match="keep_b=None"):
        part.to_arviz(log_likelihood=True)
    assert "b" not in gibbs.mixed_model("y ~ x", frame, "g", "~x", n_draws=5,
                                        keep_b=[]).to_arviz().posterior  # fmt: skip
    with pytest.raises(ValueError, match="max_bytes.*draws="):
        post.to_arviz(log_likelihood=True, max_bytes=2**21)
