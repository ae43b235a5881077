"""The Gibbs samplers: exact results, the lecture's and Hoff's numbers, reproducibility, bad input.

Monte Carlo tolerances come from ArviZ's MCSE of each posterior mean (which accounts for
autocorrelation): an estimate must lie within 4 MCSE (+ the rounding of a published number);
two samplers must agree within 4 x sqrt(MCSE_1^2 + MCSE_2^2).
"""

import itertools
import sys

import arviz as az
import numpy as np
import pytest

from hierlib import gibbs, priors

PARAMS = ["centered", "offset", "interweaved"]
HOFF_PRIOR = priors.SemiConjugate(mu0=50, g20=25, eta0=1, t20=100, nu0=1, s20=100)


def mean_and_mcse(x):
    """Posterior mean and its Monte Carlo standard error, from (chains, draws) draws."""
    return float(np.mean(x)), np.squeeze(az.mcse(np.asarray(x), method="mean")).item()


def sd_and_mcse(x):
    """Posterior sd and its MCSE by the delta method (ArviZ's formula; az.mcse(method="sd")
    itself fails under numpy 2.4 when numba is installed)."""
    dev2 = (np.asarray(x) - np.mean(x)) ** 2
    var = dev2.mean()
    var_of_var = (np.mean(dev2**2) - var**2) / ess(dev2)
    return float(np.sqrt(var)), float(np.sqrt(var_of_var / var / 4))


def ess(x):
    return np.squeeze(az.ess(np.asarray(x))).item()


def derived(post):
    d = post.draws
    return {"mu": d["mu"], "sigma": np.sqrt(d["sigma2"]), "tau": np.sqrt(d["tau2"])}


@pytest.fixture(scope="module")
def hsb_posts(hsb):
    """HSB with the default prior, each parameterisation (numba), 4 x 5000 draws."""
    return {
        p: gibbs.hierarchical_normal(hsb.mathach, hsb.school, parameterization=p, seed=630)
        for p in PARAMS
    }


# ------------------------------------------------------------------------- exact results
def exact_normal_posterior(y, groups, mu0, g20, tau2, sigma2):
    """Exact posterior of mu and theta when sigma2 and tau2 are known.

    ybar_j | mu ~ N(mu, tau2 + sigma2/n_j), so mu | y ~ N(m_mu, v_mu) with
    1/v_mu = 1/g20 + sum 1/(tau2 + sigma2/n_j), m_mu = v_mu (mu0/g20 + sum ybar_j/(...));
    theta_j | mu, y ~ N((n_j ybar_j/sigma2 + mu/tau2)/P_j, 1/P_j), P_j = n_j/sigma2 + 1/tau2.
    """
    _, idx = np.unique(groups, return_inverse=True)
    n = np.bincount(idx)
    ybar = np.bincount(idx, weights=y) / n
    w = 1.0 / (tau2 + sigma2 / n)
    v_mu = 1.0 / (1.0 / g20 + w.sum())
    m_mu = v_mu * (mu0 / g20 + w @ ybar)
    prec = n / sigma2 + 1.0 / tau2
    theta_mean = (n * ybar / sigma2 + m_mu / tau2) / prec
    theta_var = 1.0 / prec + v_mu / (tau2 * prec) ** 2
    return m_mu, np.sqrt(v_mu), theta_mean, np.sqrt(theta_var)


def check_against_exact(post, exact):
    m_mu, sd_mu, theta_mean, theta_sd = exact
    est, se = mean_and_mcse(post.draws["mu"])
    assert abs(est - m_mu) < 4 * se, (est, m_mu, se)
    est, se = sd_and_mcse(post.draws["mu"])
    assert abs(est - sd_mu) < 4 * se, (est, sd_mu, se)
    for j in range(theta_mean.size):
        th = post.draws["theta"][..., j]
        est, se = mean_and_mcse(th)
        assert abs(est - theta_mean[j]) < 4 * se, (j, est, theta_mean[j], se)
        est, se = sd_and_mcse(th)
        assert abs(est - theta_sd[j]) < 4 * se, (j, est, theta_sd[j], se)
    # the running moments of every theta_j agree with the kept draws
    np.testing.assert_allclose(post.theta_mean, post.draws["theta"].mean(axis=(0, 1)), rtol=1e-9)
    np.testing.assert_allclose(post.theta_sd, post.draws["theta"].std(axis=(0, 1)), rtol=1e-6)


@pytest.mark.parametrize("tau2", [0.04, 4.0], ids=["tau2-small", "tau2-large"])
@pytest.mark.parametrize("parameterization", PARAMS)
def test_known_variances_give_the_exact_gaussian_posterior(small, parameterization, tau2):
    """A prior with eta0 = nu0 = 1e9 pins tau2 and sigma2 (to ~1e-4 relative); mu and theta
    then have an exact Gaussian posterior. Small tau2 (strong pooling) and large tau2 (little
    pooling) both covered, in every parameterisation."""
    y, groups = small
    prior = priors.SemiConjugate(mu0=3.0, g20=4.0, eta0=1e9, t20=tau2, nu0=1e9, s20=4.0)
    post = gibbs.hierarchical_normal(
        y, groups, prior, parameterization, n_draws=10_000, n_warmup=500, seed=5
    )
    assert np.allclose(post.draws["tau2"], tau2, rtol=1e-3)
    assert np.allclose(post.draws["sigma2"], 4.0, rtol=1e-3)
    check_against_exact(post, exact_normal_posterior(y, groups, 3.0, 4.0, tau2, 4.0))


def test_textbook_numpy_engine_gives_the_exact_gaussian_posterior(small):
    y, groups = small
    prior = priors.SemiConjugate(mu0=3.0, g20=4.0, eta0=1e9, t20=0.5, nu0=1e9, s20=4.0)
    post = gibbs.hierarchical_normal(
        y, groups, prior, "interweaved", n_draws=3000, n_warmup=200, seed=5, engine="numpy"
    )
    check_against_exact(post, exact_normal_posterior(y, groups, 3.0, 4.0, 0.5, 4.0))


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_unequal_variances_with_pinned_hyperparameters_is_exact(small, engine):
    """nu0 ~ 1e7 (prior Gamma(1e9, rate 100)) and sigma02 ~ 4 (a = 2e9) force every sigma_j^2
    to 4 (relative sd 5e-4): the model is then the known-variance model above."""
    y, groups = small
    prior = priors.UnequalVariances(
        mu0=3.0, g20=4.0, eta0=1e9, t20=0.5, a=2e9, b=5e8, nu0_shape=1e9, nu0_rate=100.0
    )
    n_draws = 10_000 if engine == "numba" else 1500
    post = gibbs.unequal_variances(
        y, groups, prior, n_draws=n_draws, n_warmup=200, seed=9, engine=engine
    )
    assert np.allclose(post.draws["sigma2_j"], 4.0, rtol=1e-2)
    np.testing.assert_allclose(post.sigma2_j_mean, 4.0, rtol=1e-3)
    check_against_exact(post, exact_normal_posterior(y, groups, 3.0, 4.0, 0.5, 4.0))


# ---------------------------------------------------------------------- published numbers
def test_hoff_table(hoff):
    """Hoff (2009, section 8.4): posterior means mu 48.12, sigma 9.21, tau 4.97."""
    post = gibbs.hierarchical_normal(hoff.mathscore, hoff.school, HOFF_PRIOR, seed=8)
    assert post.stats.m == 100
    for name, ref in {"mu": 48.12, "sigma": 9.21, "tau": 4.97}.items():
        est, se = mean_and_mcse(derived(post)[name])
        assert se < 0.02, (name, se)
        assert abs(est - ref) < 4 * se + 0.005, (name, est, ref, se)


@pytest.mark.parametrize("parameterization", PARAMS)
def test_hsb_default_prior(hsb_posts, parameterization):
    """HSB, default prior: mu 12.64, sigma 6.26, tau 2.97 (lecture/REML-like values)."""
    post = hsb_posts[parameterization]
    assert post.stats.m == 160
    for name, ref in {"mu": 12.64, "sigma": 6.26, "tau": 2.97}.items():
        est, se = mean_and_mcse(derived(post)[name])
        assert abs(est - ref) < 4 * se + 0.005, (name, est, ref, se)


def test_hsb_parameterisations_agree(hsb_posts):
    draws = {p: derived(post) for p, post in hsb_posts.items()}
    for name in ("mu", "sigma", "tau"):
        for a, b in itertools.combinations(PARAMS, 2):
            ea, sa = mean_and_mcse(draws[a][name])
            eb, sb = mean_and_mcse(draws[b][name])
            assert abs(ea - eb) < 4 * np.hypot(sa, sb), (name, a, b, ea, eb)
    theta = {p: post.theta_mean for p, post in hsb_posts.items()}
    np.testing.assert_allclose(theta["centered"], theta["interweaved"], atol=0.05)


def test_interweaving_mixes_better_than_offset_on_hsb(hsb_posts):
    """Many students per school: the offset form mixes poorly for mu (the lecture), ASIS
    does not."""
    e = {p: ess(post.draws["mu"]) for p, post in hsb_posts.items()}
    assert e["offset"] < 0.5 * e["centered"], e
    assert e["interweaved"] > e["centered"], e


def test_offset_and_interweaving_mix_better_with_few_students_per_school():
    """Two students per school and small tau2: the centered mu mixes slowly; offset and ASIS
    do better (the regime notebook 09 shows)."""
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(200), 2)
    y = rng.normal(0, 0.3, 200)[groups] + rng.normal(0, 2.0, groups.size)
    prior = priors.SemiConjugate(mu0=0, g20=100, eta0=1, t20=0.1, nu0=1, s20=4)
    e = {p: ess(gibbs.hierarchical_normal(y, groups, prior, p, seed=3).draws["mu"]) for p in PARAMS}
    assert e["offset"] > 2 * e["centered"], e
    assert e["interweaved"] > 2 * e["centered"], e


def test_engines_agree_on_hsb_unequal_variances(hsb):
    """The compiled and the textbook numpy sweeps (different streams) agree within MC error,
    including nu0 (slice step) and sigma02."""
    fast = gibbs.unequal_variances(hsb.mathach, hsb.school, n_draws=4000, seed=2)
    slow = gibbs.unequal_variances(
        hsb.mathach, hsb.school, n_draws=1500, n_warmup=300, seed=2, engine="numpy"
    )
    for name in ("mu", "tau2", "sigma02", "nu0"):
        ea, sa = mean_and_mcse(fast.draws[name])
        eb, sb = mean_and_mcse(slow.draws[name])
        assert abs(ea - eb) < 4 * np.hypot(sa, sb), (name, ea, eb, sa, sb)
    np.testing.assert_allclose(fast.theta_mean, slow.theta_mean, atol=0.15)
    np.testing.assert_allclose(fast.sigma2_j_mean, slow.sigma2_j_mean, rtol=0.1)
    # shrinkage of variances: posterior means of sigma_j^2 lie between s_j^2 and sigma02
    s2 = fast.stats.s2
    s02 = fast.draws["sigma02"].mean()
    lo, hi = np.minimum(s2, s02), np.maximum(s2, s02)
    assert np.mean((fast.sigma2_j_mean > lo - 1) & (fast.sigma2_j_mean < hi + 1)) > 0.95


@pytest.mark.parametrize("parameterization", PARAMS)
def test_shifting_the_data_shifts_mu_and_theta_only(hsb, parameterization):
    """Adding 10^6 to every score (same seed, so the same random numbers): mu and theta move
    by 10^6, sigma2 and tau2 do not -- to ~1e-8, so no sum inside a sweep loses precision
    to a large mean."""
    a = gibbs.hierarchical_normal(hsb.mathach, hsb.school, None, parameterization, n_draws=500)
    b = gibbs.hierarchical_normal(
        hsb.mathach + 1e6, hsb.school, None, parameterization, n_draws=500
    )
    np.testing.assert_allclose(b.draws["mu"] - 1e6, a.draws["mu"], atol=1e-6)
    np.testing.assert_allclose(b.draws["theta"] - 1e6, a.draws["theta"], atol=1e-6)
    for name in ("sigma2", "tau2"):
        np.testing.assert_allclose(b.draws[name], a.draws[name], rtol=1e-7)


# ----------------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("parameterization", PARAMS)
def test_same_seed_bit_identical(small, parameterization):
    y, groups = small
    a = gibbs.hierarchical_normal(y, groups, None, parameterization, n_draws=300, seed=42)
    b = gibbs.hierarchical_normal(y, groups, None, parameterization, n_draws=300, seed=42)
    c = gibbs.hierarchical_normal(y, groups, None, parameterization, n_draws=300, seed=43)
    for k in a.draws:
        assert np.array_equal(a.draws[k], b.draws[k])
        assert not np.array_equal(a.draws[k], c.draws[k])
    assert np.array_equal(a.theta_mean, b.theta_mean)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
def test_unequal_same_seed_bit_identical(small, engine):
    y, groups = small
    runs = [gibbs.unequal_variances(y, groups, n_draws=200, seed=1, engine=engine) for _ in "ab"]
    for k in runs[0].draws:
        assert np.array_equal(runs[0].draws[k], runs[1].draws[k])


def test_chains_have_their_own_streams(small):
    """Chain c's draws depend only on SeedSequence(seed).spawn(...)[c]: a 2-chain run repeats
    the first two chains of a 4-chain run, and chains differ from one another and are
    uncorrelated."""
    y, groups = small
    four = gibbs.hierarchical_normal(y, groups, n_chains=4, n_draws=2000, seed=3)
    two = gibbs.hierarchical_normal(y, groups, n_chains=2, n_draws=2000, seed=3)
    assert np.array_equal(four.draws["theta"][:2], two.draws["theta"])
    mu = four.draws["mu"]
    corr = np.corrcoef(mu)[np.triu_indices(4, 1)]
    assert np.all(np.abs(corr) < 0.1), corr
    assert len({float(x) for x in mu[:, 0]}) == 4


def test_progress_bar_only_when_asked(small, capfd):
    y, groups = small
    gibbs.hierarchical_normal(y, groups, n_draws=100)
    gibbs.unequal_variances(y, groups, n_draws=100)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    gibbs.hierarchical_normal(y, groups, n_draws=100, progress=True)
    assert "Gibbs" in capfd.readouterr().err
    gibbs.hierarchical_normal(y, groups, n_draws=100, progress=False)
    assert capfd.readouterr().err == ""


def test_default_progress_shows_for_long_runs_outside_notebooks(small, capfd, monkeypatch):
    y, groups = small
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    monkeypatch.setattr(gibbs, "PROGRESS_DELAY", 0.0)  # every run counts as long
    gibbs.hierarchical_normal(y, groups, n_draws=100)
    assert "Gibbs" in capfd.readouterr().err
    monkeypatch.setitem(sys.modules, "ipykernel", sys)  # as inside a Jupyter kernel
    gibbs.hierarchical_normal(y, groups, n_draws=100)
    assert capfd.readouterr().err == ""


def test_keep_theta_subset_keeps_running_moments_of_all(hsb):
    full = gibbs.hierarchical_normal(hsb.mathach, hsb.school, n_draws=500, seed=6)
    keep = ["8367", "1224"]
    sub = gibbs.hierarchical_normal(hsb.mathach, hsb.school, n_draws=500, seed=6, keep_theta=keep)
    assert list(sub.theta_groups) == ["1224", "8367"]
    assert sub.draws["theta"].shape == (4, 500, 2)
    idx = np.searchsorted(full.groups, sub.theta_groups)
    assert np.array_equal(sub.draws["theta"], full.draws["theta"][..., idx])
    assert np.array_equal(sub.theta_mean, full.theta_mean)
    assert sub.theta_mean.shape == sub.theta_sd.shape == (160,)
    none = gibbs.hierarchical_normal(hsb.mathach, hsb.school, n_draws=50, keep_theta=[])
    assert none.draws["theta"].shape == (4, 50, 0)


def test_to_arviz_has_named_dims_and_derived_sds(small):
    y, groups = small
    post = gibbs.hierarchical_normal(y, groups, n_draws=200, keep_theta=[1, 5])
    idata = post.to_arviz()
    p = idata.posterior
    assert p["theta"].dims == ("chain", "draw", "group")
    assert list(p["group"].values) == [1, 5]
    np.testing.assert_allclose(p["sigma"].values, np.sqrt(post.draws["sigma2"]))
    np.testing.assert_allclose(p["tau"].values, np.sqrt(post.draws["tau2"]))
    summary = az.summary(idata, var_names=["mu", "tau", "sigma"])
    assert list(summary.index) == ["mu", "tau", "sigma"]
    assert post.elapsed > 0
    assert "4 chains x 200 draws, 8 groups (2 theta kept)" in repr(post)
    uq = gibbs.unequal_variances(y, groups, n_draws=200).to_arviz().posterior
    assert uq["sigma2_j"].dims == ("chain", "draw", "group")
    assert {"nu0", "sigma02", "sigma0", "tau", "mu"} <= set(uq.data_vars)


# ------------------------------------------------------------------------------ priors
def test_prior_sampling_is_seeded_and_proper_only():
    draw = HOFF_PRIOR.sample(np.random.default_rng(1), m=5)
    again = HOFF_PRIOR.sample(np.random.default_rng(1), m=5)
    assert set(draw) == {"mu", "tau2", "sigma2", "theta"}
    assert draw["theta"].shape == (5,) and np.array_equal(draw["theta"], again["theta"])
    many = [HOFF_PRIOR.sample(np.random.default_rng(i)) for i in range(2000)]
    mu = np.array([d["mu"] for d in many])
    assert abs(mu.mean() - 50) < 4 * 5 / np.sqrt(2000)
    # 1/sigma2 ~ Gamma(1/2, rate 50): mean 0.01
    prec = np.array([1 / d["sigma2"] for d in many])
    assert abs(prec.mean() - 0.01) < 4 * np.sqrt(0.5) / 50 / np.sqrt(2000)
    uv = priors.UnequalVariances(mu0=0, g20=1, eta0=2, t20=1, a=4, b=4)
    d = uv.sample(np.random.default_rng(2), m=3)
    assert set(d) == {"mu", "tau2", "sigma02", "nu0", "theta", "sigma2_j"}
    with pytest.raises(ValueError, match="improper"):
        priors.Default().sample(np.random.default_rng(0))
    with pytest.raises(ValueError, match="improper"):
        priors.UnequalVariances().sample(np.random.default_rng(0))


def test_reference_prior_on_tau2_is_refused():
    with pytest.raises(ValueError, match="improper posterior"):
        priors.Default(tau2="reference")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"g20": 0}, "g20"),
        ({"eta0": -1}, "eta0"),
        ({"t20": float("nan")}, "t20"),
        ({"nu0": 0}, "nu0"),
        ({"s20": "a"}, "s20"),
        ({"mu0": float("inf")}, "mu0"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    good = {"mu0": 0, "g20": 1, "eta0": 1, "t20": 1, "nu0": 1, "s20": 1}
    with pytest.raises(ValueError, match=match):
        priors.SemiConjugate(**(good | kwargs))


def test_bad_unequal_prior():
    with pytest.raises(ValueError, match="nu0_shape"):
        priors.UnequalVariances(nu0_shape=0)
    with pytest.raises(ValueError, match="both a and b"):
        priors.UnequalVariances(a=2)
    with pytest.raises(ValueError, match="g20"):
        priors.UnequalVariances(mu0=0, g20=-1)


def _call(sampler, y, groups, **kw):
    fn = gibbs.hierarchical_normal if sampler == "normal" else gibbs.unequal_variances
    return fn(y, groups, **({"n_draws": 10, "n_warmup": 0} | kw))


@pytest.mark.parametrize("sampler", ["normal", "unequal"])
@pytest.mark.parametrize(
    "change,match",
    [
        ({"y": [1.0, np.nan, 2.0, 3.0, 1.0, 2.0, 0.5, 1.5]}, "NaN"),
        ({"y": [1.0, np.inf, 2.0, 3.0, 1.0, 2.0, 0.5, 1.5]}, "infinite"),
        ({"y": [1.0, 2.0]}, "lengths differ"),
        ({"y": ["a"] * 8}, "numeric"),
        ({"groups": [0] * 8}, "groups"),
        ({"n_draws": 0}, "n_draws"),
        ({"n_draws": 2.5}, "n_draws"),
        ({"n_chains": 0}, "n_chains"),
        ({"n_warmup": -1}, "n_warmup"),
        ({"seed": -3}, "seed"),
        ({"seed": "x"}, "seed"),
        ({"progress": "yes"}, "progress"),
        ({"engine": "cuda"}, "engine"),
        ({"keep_theta": [9]}, "keep_theta"),
        ({"prior": "default"}, "prior"),
    ],
)
def test_bad_input_raises_naming_it(sampler, change, match):
    base = {
        "y": [1.0, 2.0, 2.5, 3.0, 1.0, 2.0, 0.5, 1.5],
        "groups": [0, 0, 1, 1, 2, 2, 3, 3],
        "prior": None,
    }
    kw = base | change
    with pytest.raises(ValueError, match=match):
        _call(sampler, kw.pop("y"), kw.pop("groups"), **kw)


def test_model_specific_bad_input():
    y = [1.0, 2.0, 2.5, 3.0, 1.0, 2.0, 0.5]
    with pytest.raises(ValueError, match="at least 2 members"):
        _call("unequal", y, [0, 0, 1, 1, 2, 2, 3])  # group 3 has one student
    with pytest.raises(ValueError, match="parameterization"):
        _call("normal", y, [0, 0, 1, 1, 2, 2, 3], parameterization="noncentred")
    with pytest.raises(ValueError, match="at least 4 groups"):
        _call("normal", [1.0, 2.0, 2.5, 3.0, 1.0, 2.0], [0, 0, 1, 1, 2, 2])  # default prior
    with pytest.raises(ValueError, match="at least 2 groups"):
        _call("normal", [1.0, 2.0, 3.0], [0, 0, 0], prior=HOFF_PRIOR)
    with pytest.raises(ValueError, match="within-group spread"):
        _call("normal", [1.0, 2.0, 3.0, 4.0], [0, 1, 2, 3])
    with pytest.raises(ValueError, match="prior must be"):
        _call("normal", y, [0, 0, 1, 1, 2, 2, 3], prior=priors.UnequalVariances())
    # a proper prior lets a single-member group through in model 1
    post = _call("normal", y, [0, 0, 1, 1, 2, 2, 3], prior=HOFF_PRIOR)
    assert np.all(np.isfinite(post.draws["theta"]))
