"""The mixed model's full conditionals against its log joint density.

For each conditional, with the other parameters fixed, ``log_joint_mixed(value) -
conditional.logpdf(value)`` must be the same constant at several values (log_joint_checks'
rule). ``log_joint_mixed`` is itself checked against the rows with scipy's univariate normal
density, and ``beta_mixed`` (b integrated out by Woodbury on the cross-products) against the
dense marginal N(X beta, sigma2 I + Z Sigma Z'). Each conditional also has a deliberate typo
(a missing 1/2, a sign, Sigma for its inverse, a wrong degree of freedom) that the same check
must reject: the check has power against the slips it is there for.
"""

import numpy as np
import pytest
from log_joint_checks import assert_constant
from scipy import stats
from test_mixed_stats import random_frame

from hierlib import conditionals as cond
from hierlib import data, priors

PRIORS = {
    "default": None,
    "proper": priors.MixedProper(
        beta_mean=[0.5, -1.0, 0.2], beta_cov=np.diag([4.0, 2.0, 1.0]) + 0.3, nu0=3.0,
        sigma02=1.5, cov_re=priors.InverseWishart(5.0, [[1.0, 0.2], [0.2, 0.5]]),
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def design():
    """7 groups, p = 3 (Intercept, x, w), q = 2 (Intercept, x): stats and the rows."""
    return data._mixed_design("y ~ x + w", random_frame(11), "g", "~x")


@pytest.fixture(scope="module")
def point(design):
    s = design[0]
    rng = np.random.default_rng(5)
    return {
        "beta": np.array([0.8, 1.3, -0.4]),
        "b": rng.normal(0, 0.7, (s.m, s.q)),
        "sigma2": 1.4,
        "cov_re": np.array([[0.9, 0.25], [0.25, 0.6]]),
    }


def joint(s, pt, prior, **change):
    v = {**pt, **change}
    return cond.log_joint_mixed(s, v["beta"], v["b"], v["sigma2"], v["cov_re"], prior)


def random_covariances(rng, k=8):
    out = []
    for _ in range(k):
        a = rng.normal(size=(2, 2))
        out.append(a @ a.T + 0.3 * np.eye(2))
    return out


def differences(values, joint_at, logpdf):
    return np.array([joint_at(v) - logpdf(v) for v in values])


@pytest.mark.parametrize("prior_name", PRIORS)
def test_log_joint_is_the_row_by_row_density(design, point, prior_name):
    s, X, Z, y, idx = design
    prior = PRIORS[prior_name]
    pt = point
    mean = X @ pt["beta"] + np.sum(Z * pt["b"][idx], axis=1)
    expected = (
        stats.norm.logpdf(y, mean, np.sqrt(pt["sigma2"])).sum()
        + stats.multivariate_normal.logpdf(pt["b"], np.zeros(2), pt["cov_re"]).sum()
        + (prior or priors.MixedDefault()).logpdf(pt["beta"], pt["sigma2"], pt["cov_re"])
    )
    assert joint(s, pt, prior) == pytest.approx(expected, rel=1e-12)
    if prior_name == "default":
        assert prior is None and np.isclose(expected - joint(s, pt, None), 0.0)


@pytest.mark.parametrize("prior_name", PRIORS)
def test_b_conditional_is_the_log_joint_in_each_b_j(design, point, prior_name):
    s, prior, pt = design[0], PRIORS[prior_name], point
    rng = np.random.default_rng(1)
    for j in range(s.m):
        zr = s.zty[j] - s.xtz[j].T @ pt["beta"]
        d = cond.b_mixed(s.ztz[j], zr, pt["sigma2"], pt["cov_re"])
        values = d.mean + rng.normal(0, 1.5, (9, 2))

        def at(v, j=j):
            return joint(s, pt, prior, b=np.where(np.arange(s.m)[:, None] == j, v, pt["b"]))

        assert_constant(differences(values, at, d.logpdf))
        # typos: Sigma in M instead of its inverse; the covariance without sigma2
        wrong = cond.b_mixed(s.ztz[j], zr, pt["sigma2"], np.linalg.inv(pt["cov_re"]))
        assert np.ptp(differences(values, at, wrong.logpdf)) > 0.1
        no_s2 = cond.MultivariateNormal(d.mean, d.cov / pt["sigma2"])
        assert np.ptp(differences(values, at, no_s2.logpdf)) > 0.1


@pytest.mark.parametrize("prior_name", PRIORS)
def test_beta_given_b_is_the_log_joint_in_beta(design, point, prior_name):
    s, prior, pt = design[0], PRIORS[prior_name], point
    d = cond.beta_given_b(s, pt["b"], pt["sigma2"], prior)
    values = d.mean + np.random.default_rng(2).normal(0, 0.5, (9, 3))
    at = lambda v: joint(s, pt, prior, beta=v)  # noqa: E731
    assert_constant(differences(values, at, d.logpdf))
    # typo: + C_j b_j (the sign of the random effects' part)
    wrong = cond.beta_given_b(s, -pt["b"], pt["sigma2"], prior)
    assert np.ptp(differences(values, at, wrong.logpdf)) > 0.1


def dense_marginal(design, beta, sigma2, cov_re):
    """log N(y; X beta, sigma2 I + Z Sigma Z') with the dense block-diagonal covariance."""
    s, X, Z, y, idx = design
    v = sigma2 * np.eye(y.size) + (idx[:, None] == idx[None, :]) * (Z @ cov_re @ Z.T)
    return stats.multivariate_normal.logpdf(y, X @ beta, v)


@pytest.mark.parametrize("prior_name", PRIORS)
def test_beta_marginal_is_the_dense_marginal_likelihood_in_beta(design, point, prior_name):
    s, X, Z, y, idx = design
    prior, pt = PRIORS[prior_name], point
    d = cond.beta_mixed(s, pt["sigma2"], pt["cov_re"], prior)
    values = d.mean + np.random.default_rng(3).normal(0, 0.5, (9, 3))
    prior_obj = prior or priors.MixedDefault()

    def at(v):
        return dense_marginal(design, v, pt["sigma2"], pt["cov_re"]) + prior_obj.logpdf(
            v, pt["sigma2"], pt["cov_re"]
        )

    assert_constant(differences(values, at, d.logpdf))
    if prior is None:  # flat: the GLS estimate and its covariance, from the dense V
        vinv = np.linalg.inv(
            pt["sigma2"] * np.eye(y.size)
            + (idx[:, None] == idx[None, :]) * (Z @ pt["cov_re"] @ Z.T)
        )
        cov = np.linalg.inv(X.T @ vinv @ X)
        np.testing.assert_allclose(d.cov, cov, rtol=1e-9)
        np.testing.assert_allclose(d.mean, cov @ X.T @ vinv @ y, rtol=1e-9)
    # typo: b_j left at 0 instead of integrated out (no Woodbury correction)
    wrong = cond.beta_given_b(s, np.zeros((s.m, s.q)), pt["sigma2"], prior)
    assert np.ptp(differences(values, at, wrong.logpdf)) > 0.1


@pytest.mark.parametrize("prior_name", PRIORS)
def test_sigma2_conditional_is_the_log_joint_in_sigma2(design, point, prior_name):
    s, prior, pt = design[0], PRIORS[prior_name], point
    g = cond.sigma2_mixed(s, pt["beta"], pt["b"], prior)
    grid = np.linspace(0.3, 5.0, 15)
    at = lambda v: joint(s, pt, prior, sigma2=v)  # noqa: E731
    assert_constant(differences(grid, at, g.logpdf_of_inverse))
    # typo: the rate without its 1/2 (b + R instead of b + R/2)
    a, b0 = (prior or priors.MixedDefault()).sigma_terms()
    wrong = cond.Gamma(g.shape, 2 * g.rate - b0)
    assert np.ptp(differences(grid, at, wrong.logpdf_of_inverse)) > 0.1


@pytest.mark.parametrize("prior_name", PRIORS)
def test_cov_re_conditional_is_the_log_joint_in_sigma(design, point, prior_name):
    s, prior, pt = design[0], PRIORS[prior_name], point
    w = cond.cov_re_mixed(pt["b"], prior)
    nu, scale = (prior or priors.MixedDefault()).cov_terms(2)
    assert w.df == pytest.approx(nu + s.m)  # default: m - q - 1
    np.testing.assert_allclose(w.scale, scale + pt["b"].T @ pt["b"])
    values = random_covariances(np.random.default_rng(4))
    at = lambda v: joint(s, pt, prior, cov_re=v)  # noqa: E731
    assert_constant(differences(values, at, w.logpdf))
    # typos: the degrees of freedom off by q + 1 = 3 (the flat prior's -(q + 1) forgotten:
    # IW(m, S) instead of IW(m - q - 1, S)); and the inverse of the scale
    for wrong in (priors.InverseWishart(w.df + 3, w.scale),
                  priors.InverseWishart(w.df, np.linalg.inv(w.scale))):  # fmt: skip
        assert np.ptp(differences(values, at, wrong.logpdf)) > 0.1


def test_the_default_cov_conditional_is_refused_with_too_few_groups():
    b = np.random.default_rng(0).normal(size=(4, 2))  # m = 4 = 2q: IW(1, S) does not exist
    with pytest.raises(ValueError, match="df must be above q - 1"):
        cond.cov_re_mixed(b)
    assert cond.cov_re_mixed(np.vstack([b, b[:1] + 1])).df == 2.0


def test_residual_ss_is_the_rows_sum_of_squares(design, point):
    s, X, Z, y, idx = design
    r = y - X @ point["beta"] - np.sum(Z * point["b"][idx], axis=1)
    assert cond.residual_ss(s, point["beta"], point["b"]) == pytest.approx(r @ r, rel=1e-12)


def test_a_wrong_prior_kind_is_a_type_error(design, point):
    with pytest.raises(TypeError, match="MixedDefault or priors.MixedProper"):
        cond.beta_mixed(design[0], 1.0, point["cov_re"], priors.Default())
    with pytest.raises(TypeError, match="MixedStats"):
        cond.beta_given_b({"n": 3}, point["b"], 1.0)
