"""The mixed model's priors: InverseWishart, MixedDefault and MixedProper (their checks, their
densities against scipy, their draws against their known moments)."""

import numpy as np
import pytest
from scipy import stats

from hierlib import priors

S = np.array([[2.0, 0.5], [0.5, 1.0]])


def proper(p=2, q=2):
    return priors.MixedProper(
        beta_mean=np.arange(p, dtype=float), beta_cov=np.eye(p), nu0=4.0, sigma02=2.0,
        cov_re=priors.InverseWishart(q + 4.0, np.eye(q)),
    )  # fmt: skip


def test_inverse_wishart_density_is_scipys():
    w = priors.InverseWishart(5.0, S)
    c = np.array([[1.0, 0.1], [0.1, 0.4]])
    assert w.logpdf(c) == pytest.approx(stats.invwishart.logpdf(c, 5.0, S), rel=1e-12)
    assert w.logpdf([[1.0, 2.0], [2.0, 1.0]]) == -np.inf  # not positive definite
    with pytest.raises(ValueError, match="NaN"):
        w.logpdf([[np.nan, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="2 x 2"):
        w.logpdf(np.eye(3))


def test_inverse_wishart_draws_have_its_mean():
    # E[Sigma] = S/(nu - q - 1) = S/3; 20000 draws: the entries' sd of the mean is below
    # 0.01 here (Var of IW entries at nu = 6), so 0.04 is a 4-sd band (false alarm < 1e-4
    # per entry); a Bartlett slip (chi2 with nu - i instead of nu - i + 1 degrees) moves
    # the mean by about 30%
    w = priors.InverseWishart(6.0, S)
    rng = np.random.default_rng(0)
    draws = np.array([w.sample(rng) for _ in range(20000)])
    np.testing.assert_allclose(draws.mean(axis=0), S / 3, atol=0.04)
    assert np.all(np.linalg.eigvalsh(draws) > 0)


@pytest.mark.parametrize(
    ("df", "scale", "message"),
    [
        (1.0, S, "df must be above q - 1 = 1"),
        (np.nan, S, "df must be finite"),
        (5.0, [[1.0, 2.0], [2.0, 1.0]], "positive definite"),
        (5.0, [[1.0, 0.2], [0.0, 1.0]], "symmetric"),
        (5.0, np.ones((2, 3)), "square"),
        (5.0, [[np.inf, 0], [0, 1]], "NaN or infinite"),
    ],
)
def test_inverse_wishart_refuses_improper_settings(df, scale, message):
    with pytest.raises(ValueError, match=message):
        priors.InverseWishart(df, scale)


def test_default_prior_is_improper_and_checks_the_data():
    d = priors.MixedDefault()
    assert not d.proper
    assert d.logpdf([1.0, 2.0], 2.0, S) == pytest.approx(-np.log(2.0))
    assert d.logpdf([1.0], -1.0, S) == -np.inf
    assert d.logpdf([1.0], 1.0, -S) == -np.inf
    assert d.cov_terms(2)[0] == -3.0
    with pytest.raises(ValueError, match="improper"):
        d.sample(np.random.default_rng(0), 2, 2)
    d.check_data(m=11, q=2, absorbed=6, residual=0.3)
    with pytest.raises(ValueError, match="2q \\+ k \\+ 1 = 11 groups"):
        d.check_data(m=10, q=2, absorbed=6, residual=0.3)
    with pytest.raises(ValueError, match="at least 2q \\+ k \\+ 1 = 4"):  # model 1's m >= 4
        d.check_data(m=3, q=1, absorbed=1, residual=0.3)
    with pytest.raises(ValueError, match="residual spread"):
        d.check_data(m=50, q=1, absorbed=1, residual=0.0)


def test_proper_prior_density_and_draws():
    pr = proper()
    beta, s2, c = np.array([0.1, 0.9]), 1.7, np.array([[0.5, 0.1], [0.1, 0.3]])
    expected = (
        stats.multivariate_normal.logpdf(beta, [0.0, 1.0], np.eye(2))
        + stats.invgamma.logpdf(s2, 2.0, scale=4.0)
        + stats.invwishart.logpdf(c, 6.0, np.eye(2))
    )
    assert pr.logpdf(beta, s2, c) == pytest.approx(expected, rel=1e-12)
    assert pr.logpdf(beta, 0.0, c) == -np.inf
    rng = np.random.default_rng(1)
    draws = [pr.sample(rng, 2, 2, m=3) for _ in range(4000)]
    assert draws[0]["b"].shape == (3, 2) and draws[0]["cov_re"].shape == (2, 2)
    # E[sigma2] = nu0 s0^2/(nu0 - 2) = 4 (inverse gamma (2, 4): infinite variance, so the
    # median is checked: 4/Gamma(2,1) median 4/1.678 = 2.384, sd of the median about 0.03)
    assert np.median([d["sigma2"] for d in draws]) == pytest.approx(4 / 1.67835, abs=0.12)
    np.testing.assert_allclose(np.mean([d["beta"] for d in draws], axis=0), [0, 1], atol=0.07)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"beta_cov": np.eye(3)}, ValueError, "beta_cov must be 2 x 2"),
        ({"nu0": 0.0}, ValueError, "nu0 must be a finite positive"),
        ({"sigma02": np.nan}, ValueError, "sigma02"),
        ({"cov_re": np.eye(2)}, TypeError, "InverseWishart"),
        ({"beta_mean": [np.nan, 1.0]}, ValueError, "beta has NaN"),
    ],
)
def test_proper_prior_refuses_bad_settings(kwargs, error, message):
    base = {"beta_mean": [0.0, 1.0], "beta_cov": np.eye(2), "nu0": 4.0, "sigma02": 2.0,
            "cov_re": priors.InverseWishart(6.0, np.eye(2))}  # fmt: skip
    with pytest.raises(error, match=message):
        priors.MixedProper(**{**base, **kwargs})


def test_proper_prior_of_the_wrong_size_is_refused():
    with pytest.raises(ValueError, match="for 2 fixed and 2 random effects"):
        proper().beta_terms(3)
    with pytest.raises(ValueError, match="the model has 2 and 1"):
        proper().sample(np.random.default_rng(0), 2, 1)


def test_the_compiled_inverse_wishart_draw_has_the_law_of_the_prior_class():
    """The sweep's Bartlett draw (numba) against the moments of IW(nu, S), q = 3: the mean
    S/(nu - q - 1) and the variance of each entry (Press 1982: Var(Sigma_ab) =
    ((nu - q + 1) S_ab^2 + (nu - q - 1) S_aa S_bb) / ((nu - q)(nu - q - 1)^2 (nu - q - 3))).
    20000 draws at nu = 12: 4.5 standard errors per entry for the means (false alarm 7e-6
    each), 15% for the variances (their standard error is about 3%); a chi-square with one
    degree of freedom too few (nu - i - 1) moves the mean by 10%."""
    from hierlib.samplers import mixed_model as mm

    q, nu = 3, 12.0
    scale = np.array([[2.0, 0.5, -0.3], [0.5, 1.0, 0.2], [-0.3, 0.2, 0.7]])
    rng = np.random.default_rng(5)
    work = [np.empty((q, q)) for _ in range(4)]
    draws = np.empty((20000, q, q))
    for k in range(draws.shape[0]):
        mm._draw_iw(rng, nu, scale, work[0], work[1], work[2], work[3], q)
        draws[k] = work[0]
    mean = scale / (nu - q - 1)
    d = np.diag(scale)
    var = ((nu - q + 1) * scale**2 + (nu - q - 1) * np.outer(d, d)) / (
        (nu - q) * (nu - q - 1) ** 2 * (nu - q - 3)
    )
    se = np.sqrt(var / draws.shape[0])
    assert np.all(np.abs(draws.mean(axis=0) - mean) < 4.5 * se)
    np.testing.assert_allclose(draws.var(axis=0), var, rtol=0.15)
    np.testing.assert_allclose(draws, np.swapaxes(draws, 1, 2))
