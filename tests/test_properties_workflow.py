"""Property-based tests (Hypothesis) of the workflow API: the exact marginal of tau2, the
exact pooling posteriors, the ArviZ groups and the predictive functions of a posterior, on the
random data sets of ``test_properties`` (any scale, labels, constant groups); the difference of
two leave-one-out results on any pointwise values. Each call returns finite results of
the right shape, or raises a ValueError/TypeError naming the problem."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_properties import FAST, call, check_loo, datasets, finite

from hierlib import exact, predictive, priors
from hierlib._arviz import az

PRIORS = [None, priors.Default(tau2="uniform-tau"), priors.HalfCauchy(scale=2.0)]


@FAST
@given(datasets(), st.sampled_from(PRIORS))
def test_marginal_tau2_is_a_density_or_a_named_error(data, prior):
    table = call(exact.marginal_tau2, *data, prior, 101)
    if table is None:
        return
    assert finite(table.to_numpy()) and (table["density"] >= 0).all()
    assert (
        np.trapezoid(table["density"], table["tau2"]) == np.float64(1.0)
        or abs(np.trapezoid(table["density"], table["tau2"]) - 1.0) < 1e-6
    )
    assert (np.diff(table["tau2"]) > 0).all()


@FAST
@given(datasets(), st.sampled_from(["complete", "none"]))
def test_pooling_posteriors_are_finite_or_refused(data, which):
    fn = exact.complete_pooling if which == "complete" else exact.no_pooling
    post = call(fn, *data, 20, 2, 1)
    if post is None:
        return
    assert all(finite(v) for v in post.draws.values())
    idata = call(lambda: post.to_arviz(log_likelihood=True, posterior_predictive=True))
    if idata is not None:
        assert idata.log_likelihood["y"].shape == (2, 20, np.asarray(data[0]).size)
        assert finite(idata.posterior_predictive["y"].values)
    k = call(predictive.observation_pareto_k, post, 0)
    assert k is None or finite(k)
    check_loo(call(lambda: predictive.loo(post)), np.asarray(data[0]).size)
    # the pooling posteriors have no tau2: the mixed check of the means says so
    assert call(predictive.ppc_new_means, post) is None


POINTWISE = st.lists(
    st.one_of(st.floats(-1e6, 0.0), st.sampled_from([-1e300, -np.inf, np.nan, 0.0])),
    min_size=0,
    max_size=6,
)


@FAST
@given(POINTWISE, POINTWISE)
def test_elpd_difference_is_finite_or_refused(a, b):
    loo_a, loo_b = (az.ELPDData(data=[np.array(v)], index=["loo_i"]) for v in (a, b))
    gap = call(predictive.elpd_difference, loo_a, loo_b)
    if gap is None:
        return
    assert finite(gap["diff"], gap["se"], gap["z"]) and gap["se"] > 0
    assert gap["diff"] == np.float64(np.sum(np.subtract(a, b)))
    back = predictive.elpd_difference(loo_b, loo_a)
    assert back["diff"] == -gap["diff"] and back["se"] == gap["se"]


@FAST
@given(
    st.integers(1, 40),
    st.floats(-1e3, 1e3),
    st.floats(0.0, 1e4),
    st.floats(-1e3, 1e3),
    st.floats(0.0, 1e3),
    st.floats(1e-3, 1e3),
)
def test_school_loglik_is_finite_and_largest_at_the_school_mean(n, ybar, ss, mu, tau2, sigma2):
    ll = predictive.school_loglik(n, ybar, ss, mu, tau2, sigma2)
    assert np.isfinite(ll)
    assert predictive.school_loglik(n, ybar, ss, ybar, tau2, sigma2) >= ll
