"""Simulation-based calibration of the mixed model's Gibbs sampler (hierlib.gibbs.mixed_model),
and the power of the same SBC against a sampler wrong in one line.

Each replication draws beta, sigma2, Sigma and the 12 schools' b_j from sbc.MIXED_PRIOR (a
proper prior), simulates 105 students on fixed covariates (a school-level predictor w and a
student-level x whose school means differ), fits "y ~ w + x" with a random intercept and slope
of x, and ranks the truth among 99 thinned draws (sbc.mixed_sbc).

False-alarm rate: the 8 quantities of one SBC run (every fixed effect, Sigma's diagonal and
off-diagonal, sigma2 and one school's slope) are one family: the run fails when the smallest
chi-square p-value times 8 is below ALPHA = 0.01, so a correct sampler fails with probability
at most 0.01 per run (Bonferroni), whatever the dependence between the quantities.

Power: the same SBC rejects the compiled sampler with Sigma | b drawn with one degree of
freedom too few; and a reference sampler built in numpy from hierlib.conditionals passes a
smaller SBC and fails it when one conditional is replaced by a classic slip (the Gamma rate of
1/sigma2 missing its 1/2; the inverse-Wishart's degrees of freedom without the prior's nu).
The SBC runs are marked ``sbc`` (about 90 s in all on one core of an idle machine).
"""

import types

import numpy as np
import pytest

from hierlib import conditionals as cond
from hierlib import data as hdata
from hierlib import gibbs, priors, sbc

ALPHA = 0.01
SEED = 630


def assert_calibrated(result, label, min_ess=0.85):
    """Bonferroni over the quantities of one run (module docstring)."""
    table = result.test()
    print(f"\n{label}: {result.n_reps} replications in {result.seconds:.1f} s\n{table.round(3)}")
    k = len(table)
    assert (table["p_value"] * k > ALPHA).all(), table
    if table["ess_over_L"].notna().all():
        assert (table["ess_over_L"] > min_ess).all(), table  # the thinning left ~iid draws
    return table


def _draw(law, rng):
    """One draw of a hierlib.conditionals.MultivariateNormal."""
    return law.mean + np.linalg.cholesky(law.cov) @ rng.standard_normal(len(law.mean))


def b_moments(stats, beta, sigma2, cov_re):
    """Every school's (mean, Cholesky factor of the precision) of b_j | rest at once: the law
    of hierlib.conditionals.b_mixed (test_b_moments_are_those_of_the_conditional), batched."""
    zt_resid = stats.zty - np.einsum("jpq,p->jq", stats.xtz, beta)
    m_j = stats.ztz + sigma2 * np.linalg.inv(cov_re)
    mean = np.linalg.solve(m_j, zt_resid[..., None])[..., 0]
    return mean, np.linalg.cholesky(m_j / sigma2)


def reference_mixed_model(formula, data, groups, re_formula, prior, n_draws, n_warmup,
                          n_chains, seed, parameterization="blocked"):  # fmt: skip
    """The blocked Gibbs sampler in numpy from hierlib.conditionals: beta with the b_j
    integrated out (beta_mixed), then the b_j given beta (b_mixed's law, batched), then
    Sigma | b (cov_re_mixed), then sigma2 | beta, b (sigma2_mixed): (beta, b) from their
    joint conditional, then the two variance blocks."""
    stats = hdata.mixed_stats(formula, data, groups, re_formula)
    rng = np.random.default_rng(seed)
    keep = {"fe": [], "cov_re": [], "sigma2": [], "b": []}
    for _ in range(n_chains):
        sigma2, cov_re = 1.0, np.eye(stats.q)
        chain = {k: [] for k in keep}
        for sweep in range(n_warmup + n_draws):
            beta = _draw(cond.beta_mixed(stats, sigma2, cov_re, prior), rng)
            mean, chol = b_moments(stats, beta, sigma2, cov_re)
            z = rng.standard_normal(mean.shape)[..., None]
            b = mean + np.linalg.solve(np.swapaxes(chol, 1, 2), z)[..., 0]
            cov_re = cond.cov_re_mixed(b, prior).sample(rng)
            g = cond.sigma2_mixed(stats, beta, b, prior)
            sigma2 = g.rate / rng.standard_gamma(g.shape)
            if sweep >= n_warmup:
                for k, v in zip(keep, (beta, cov_re, sigma2, b), strict=True):
                    chain[k].append(v)
        for k in keep:
            keep[k].append(np.array(chain[k]))
    return types.SimpleNamespace(draws={k: np.array(v) for k, v in keep.items()})


def test_b_moments_are_those_of_the_conditional():
    design = sbc.mixed_design((4, 5, 6))
    df = design.assign(y=np.random.default_rng(3).standard_normal(len(design)))
    stats = hdata.mixed_stats("y ~ w + x", df, "school", "~x")
    beta, sigma2, cov_re = np.array([0.5, -1.0, 0.3]), 2.0, np.array([[1.0, 0.4], [0.4, 0.5]])
    mean, chol = b_moments(stats, beta, sigma2, cov_re)
    for j in range(stats.m):
        zt_resid = stats.zty[j] - stats.xtz[j].T @ beta
        law = cond.b_mixed(stats.ztz[j], zt_resid, sigma2, cov_re)
        np.testing.assert_allclose(mean[j], law.mean, rtol=1e-10)
        np.testing.assert_allclose(np.linalg.inv(chol[j] @ chol[j].T), law.cov, rtol=1e-10)


# --------------------------------------------------------------------------- the sampler
# 500 replications per parameterization: each costs ~40 ms, most of it the formula turned
# into X and Z by statsmodels (the sampler itself: 1290 sweeps of ~4 us); 50 ranks per bin.
N_REPS = 500
N_BINS = 10
THIN = 10  # sweeps between kept draws: the 99 kept draws are nearly independent (ESS above 0.93 L)


@pytest.mark.sbc
@pytest.mark.parametrize("parameterization", ["collapsed", "interweaved", "blocked"])
def test_mixed_model_is_calibrated(parameterization):
    result = sbc.mixed_sbc(
        parameterization=parameterization, n_reps=N_REPS, n_bins=N_BINS, thin_by=THIN,
        seed=SEED, check_ess=True,
    )  # fmt: skip
    table = assert_calibrated(result, f"mixed_model, {parameterization}")
    assert result.n_reps == N_REPS and list(table.index) == list(sbc.MIXED_QUANTITIES)


def with_prior(chosen):
    """gibbs.mixed_model run under ``chosen``, whatever prior the SBC simulates from."""

    def sampler(*args, prior=None, **kwargs):
        return gibbs.mixed_model(*args, prior=chosen, **kwargs)

    return sampler


@pytest.mark.sbc
def test_the_same_sbc_rejects_sigma_drawn_with_one_degree_of_freedom_too_few():
    """The compiled sweep cannot be patched; run under an inverse-Wishart prior with df
    nu - 1 while the data come from nu, its Sigma | b is IW(nu + m - 1, S + sum b b'): the
    conditional with its degrees of freedom one too small, the other conditionals right (the
    Sigma prior enters no other). The SBC of test_mixed_model_is_calibrated rejects it
    (smallest p-value 1.5e-7 at this seed, 1.2e-6 after Bonferroni)."""
    p = sbc.MIXED_PRIOR
    fewer = priors.InverseWishart(p.cov_re.df - 1, p.cov_re.scale)
    wrong = priors.MixedProper(p.beta_mean, p.beta_cov, p.nu0, p.sigma02, cov_re=fewer)
    result = sbc.mixed_sbc(sampler=with_prior(wrong), n_reps=N_REPS, n_bins=N_BINS,
                           thin_by=THIN, seed=SEED)  # fmt: skip
    table = result.test()
    print(f"\nSigma | b with df nu + m - 1:\n{table.round(8)}")
    assert table["p_value"].min() * len(table) < ALPHA
    assert table["p_value"].idxmin() in ("cov_re[0,0]", "cov_re[1,1]")


# Reference runs: fewer replications (the numpy sampler takes ~0.4 ms a sweep, 100 times the
# compiled one), and slips far larger than SBC's resolution at 60 replications (the right
# sampler's smallest p-value there is 0.30; the slips' about 1e-110 and 1e-32).
REFERENCE_RUN = {"n_reps": 60, "thin_by": 2, "n_warmup": 100, "seed": SEED}


def sigma2_rate_missing_half(real):
    def broken(stats, beta, b, prior=None):
        right = real(stats, beta, b, prior)  # Gamma(a + n/2, b0 + R/2)
        prior_rate = prior.sigma_terms()[1]
        return cond.Gamma(right.shape, prior_rate + 2 * (right.rate - prior_rate))  # b0 + R

    return broken


def cov_re_df_without_prior(real):
    def broken(b, prior=None):
        right = real(b, prior)  # IW(nu + m, S + sum b b')
        return priors.InverseWishart(right.df - prior.cov_re.df, right.scale)  # IW(m, ...)

    return broken


@pytest.mark.sbc
def test_sbc_has_power_against_one_wrong_conditional(monkeypatch):
    good = sbc.mixed_sbc(sampler=reference_mixed_model, **REFERENCE_RUN)
    assert_calibrated(good, "reference sampler")
    monkeypatch.setattr(cond, "sigma2_mixed", sigma2_rate_missing_half(cond.sigma2_mixed))
    bad = sbc.mixed_sbc(sampler=reference_mixed_model, **REFERENCE_RUN)
    table = bad.test()
    print(f"\nsigma2 rate missing its 1/2:\n{table.round(6)}")
    assert table.loc["sigma2", "p_value"] < 1e-6
    assert bad.ranks["sigma2"].mean() < 0.15 * 99  # sigma2 drawn twice too large: ranks low
    monkeypatch.undo()
    monkeypatch.setattr(cond, "cov_re_mixed", cov_re_df_without_prior(cond.cov_re_mixed))
    bad = sbc.mixed_sbc(sampler=reference_mixed_model, **REFERENCE_RUN)
    table = bad.test()
    print(f"\nSigma | b with df m instead of nu + m:\n{table.round(6)}")
    assert table.loc[["cov_re[0,0]", "cov_re[1,1]"], "p_value"].max() < 1e-4


# --------------------------------------------------------------------------- harness, fast
def test_a_prior_draw_and_its_simulated_data():
    rng = np.random.default_rng(0)
    draw = sbc._mixed_prior_draw(sbc.MIXED_PRIOR, rng, 3, 2, 12)
    assert draw["fe"].shape == (3,) and draw["b"].shape == (12, 2)
    assert draw["cov_re"].shape == (2, 2) and draw["sigma2"] > 0
    design = sbc.mixed_design((4, 5, 6))
    assert list(design.columns) == ["school", "w", "x"] and len(design) == 15
    assert (design.groupby("school")["w"].nunique() == 1).all()  # w is school-level
    y = sbc.simulate_mixed(np.random.default_rng(1), design, draw)
    # the same y by hand, student by student
    e = np.sqrt(draw["sigma2"]) * np.random.default_rng(1).standard_normal(15)
    by_hand = [
        draw["fe"] @ [1, row.w, row.x] + draw["b"][row.school] @ [1, row.x] + e[i]
        for i, row in enumerate(design.itertuples())
    ]
    np.testing.assert_allclose(y, by_hand, rtol=1e-12)


def test_a_matrix_element_can_be_ranked():
    params = {"cov_re": np.array([[1.0, 0.3], [0.3, 2.0]])}
    draws = {"cov_re": np.arange(40.0).reshape(1, 10, 2, 2)}
    assert sbc._parse("cov_re[0, 1]") == ("cov_re", (0, 1))
    assert sbc._pick(params, "cov_re", (0, 1), "prior", scalar=True) == 0.3
    np.testing.assert_array_equal(
        sbc._pick(draws, "cov_re", (1, 0), "draws", scalar=False), np.arange(2.0, 40, 4)[None]
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"quantities": ["cov_re[0]"]}, ValueError, "needs 2 indices"),
        ({"quantities": ["cov_re[2,0]"]}, ValueError, "does not exist"),
        ({"quantities": ["cov_re"]}, ValueError, "e.g. 'cov_re\\[0,0\\]'"),
        ({"quantities": ["sigma2[0]"]}, ValueError, "is a scalar"),
        ({"quantities": ["tau2"]}, ValueError, "has no 'tau2'"),
        ({"quantities": []}, ValueError, "non-empty"),
        ({"prior": priors.MixedDefault()}, TypeError, "MixedProper"),
        ({"group_sizes": [5]}, ValueError, "at least two"),
        ({"thin_by": 0}, ValueError, "thin_by"),
    ],
)
def test_bad_input_is_named_before_any_sampling(kwargs, error, message):
    def never(*args, **kw):
        raise AssertionError("sampled")

    with pytest.raises(error, match=message):
        sbc.mixed_sbc(n_reps=2, sampler=never, **kwargs)


def test_the_reference_sampler_runs_and_ranks(monkeypatch):
    result = sbc.mixed_sbc(sampler=reference_mixed_model, n_reps=3, n_posterior=9, thin_by=1,
                           n_warmup=5)  # fmt: skip
    assert list(result.ranks.columns) == list(sbc.MIXED_QUANTITIES)
    assert result.ranks.to_numpy().min() >= 0 and result.ranks.to_numpy().max() <= 9
