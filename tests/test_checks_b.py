"""hierlib.checks.check_update("b", draw_b): the update of one school's b_j in the mixed model
(notebook 12). Correct updates pass however written, every slip fails with its hint, a wrong
shape gets a message, and the whitened tests are calibrated (each p-value uniform under the
exact law) with the power the module docstring states.

The exact law b_j | rest ~ N(M⁻¹ zt_resid, σ² M⁻¹), M = Z_j'Z_j + σ² Σ⁻¹, is computed here
independently of hierlib (numpy only) and compared with hierlib.conditionals.b_mixed."""

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats as sps

from hierlib import checks

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import check_power  # noqa: E402


def exact_moments(ztz, zt_resid, sigma2, cov_re):
    """The law of b_j | rest, by the textbook formula (independent of hierlib)."""
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    return np.linalg.solve(m, zt_resid), sigma2 * np.linalg.inv(m)


@pytest.fixture
def calls(monkeypatch):
    """Fewer calls per school, for the tests of what a check says rather than of its power
    (every slip is off by 0.5 sd or more somewhere: test_every_slip_is_a_large_error)."""

    def set_calls(n):
        monkeypatch.setattr(checks, "N_CALLS_B", n)

    return set_calls


# --------------------------------------------------------------------------- correct variants
def b_cholesky(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    chol = np.linalg.cholesky(sigma2 * np.linalg.inv(m))
    return np.linalg.solve(m, zt_resid) + chol @ rng.standard_normal(2)


def b_precision_form(rng, ztz, zt_resid, sigma2, cov_re):  # P = Z'Z/sigma2 + inv(Sigma)
    prec = ztz / sigma2 + np.linalg.inv(cov_re)
    chol = np.linalg.cholesky(prec)
    mean = np.linalg.solve(prec, zt_resid / sigma2)
    return mean + np.linalg.solve(chol.T, rng.standard_normal(2))


def b_multivariate_normal(rng, ztz, zt_resid, sigma2, cov_re):
    m_inv = np.linalg.inv(ztz + sigma2 * np.linalg.inv(cov_re))
    return rng.multivariate_normal(m_inv @ zt_resid, sigma2 * m_inv)


def b_scipy(rng, ztz, zt_resid, sigma2, cov_re):
    mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
    return sps.multivariate_normal(mean, cov).rvs(random_state=rng)


def b_one_coordinate_at_a_time(rng, ztz, zt_resid, sigma2, cov_re):  # intercept, then slope
    mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
    b0 = rng.normal(mean[0], np.sqrt(cov[0, 0]))
    slope_mean = mean[1] + cov[1, 0] / cov[0, 0] * (b0 - mean[0])
    return [b0, rng.normal(slope_mean, np.sqrt(cov[1, 1] - cov[1, 0] ** 2 / cov[0, 0]))]


@pytest.mark.parametrize("fn", [b_cholesky, b_precision_form], ids=lambda f: f.__name__)
def test_a_correct_update_passes_the_full_check(fn):
    r = checks.check_update("b", fn, seed=0)
    assert r.passed and r.status == "passed", r.message
    assert r.p_value >= checks.ALPHA and r.name == "b"
    assert "5,000 draws at each of 4 schools" in r.message and "36 tests" in r.message


@pytest.mark.parametrize(
    "fn", [b_multivariate_normal, b_scipy, b_one_coordinate_at_a_time], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("seed", [1, 630])
def test_correct_updates_written_otherwise_pass(fn, seed, calls):
    calls(2000)
    r = checks.check_update("b", fn, seed=seed)
    assert r.passed, r.message


def test_the_exact_law_is_the_textbook_one():
    for c, law in zip(checks.B_CONDITIONS, checks._b_laws(), strict=True):
        mean, cov = exact_moments(c["ztz"], c["zt_resid"], c["sigma2"], c["cov_re"])
        np.testing.assert_allclose(law.mean, mean, rtol=1e-10)
        np.testing.assert_allclose(law.cov, cov, rtol=1e-10)


def test_the_schools_cover_the_hard_cases():
    """A typical HSB school, a strongly correlated Σ, a Z_j'Z_j with off-diagonal terms and a
    nearly singular one; the posterior correlation of intercept and slope from 0.2 to -0.94."""
    c = checks.B_CONDITIONS
    sigma = c[1]["cov_re"]
    assert sigma[0, 1] / np.sqrt(sigma[0, 0] * sigma[1, 1]) == pytest.approx(0.95)
    assert c[2]["ztz"][0, 1] != 0 and np.linalg.det(c[3]["ztz"]) == pytest.approx(0.16)
    corr = [law.cov[0, 1] / np.sqrt(law.cov[0, 0] * law.cov[1, 1]) for law in checks._b_laws()]
    np.testing.assert_allclose(corr, [0.203, 0.883, 0.357, -0.943], atol=1e-3)


def test_the_alias_b_mixed_and_same_seed_same_verdict(calls):
    calls(2000)
    a = checks.check_update("b_mixed", b_cholesky, seed=5)
    b = checks.check_update("b", b_cholesky, seed=5)
    assert a.passed and a.name == "b" and a.p_value == b.p_value


# --------------------------------------------------------------------------- the slips
def b_sigma_not_inverted(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * cov_re
    return rng.multivariate_normal(np.linalg.solve(m, zt_resid), sigma2 * np.linalg.inv(m))


def b_sigma2_missing_in_m(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + np.linalg.inv(cov_re)
    return rng.multivariate_normal(np.linalg.solve(m, zt_resid), sigma2 * np.linalg.inv(m))


def b_cov_missing_sigma2(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    return rng.multivariate_normal(np.linalg.solve(m, zt_resid), np.linalg.inv(m))


def b_cov_sigma(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    return rng.multivariate_normal(np.linalg.solve(m, zt_resid), np.sqrt(sigma2) * np.linalg.inv(m))


def b_precision_mean_without_sigma2(rng, ztz, zt_resid, sigma2, cov_re):
    prec = ztz / sigma2 + np.linalg.inv(cov_re)
    return rng.multivariate_normal(np.linalg.solve(prec, zt_resid), np.linalg.inv(prec))


def b_mean_without_inverse(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    return rng.multivariate_normal(zt_resid, sigma2 * np.linalg.inv(m))


def b_from_the_prior(rng, ztz, zt_resid, sigma2, cov_re):
    return rng.multivariate_normal(np.zeros(2), cov_re)


def b_least_squares(rng, ztz, zt_resid, sigma2, cov_re):
    return rng.multivariate_normal(np.linalg.solve(ztz, zt_resid), sigma2 * np.linalg.inv(ztz))


def b_transposed_cholesky(rng, ztz, zt_resid, sigma2, cov_re):
    mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
    return mean + rng.standard_normal(2) @ np.linalg.cholesky(cov)


def b_upper_cholesky_of_scipy(rng, ztz, zt_resid, sigma2, cov_re):
    from scipy import linalg

    mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
    return mean + linalg.cholesky(cov) @ rng.standard_normal(2)  # upper factor by default


def b_precision_cholesky_not_transposed(rng, ztz, zt_resid, sigma2, cov_re):
    m = ztz + sigma2 * np.linalg.inv(cov_re)
    chol = np.linalg.cholesky(m)
    return np.linalg.solve(m, zt_resid) + np.sqrt(sigma2) * np.linalg.solve(
        chol, rng.standard_normal(2)
    )


def b_independent_coordinates(rng, ztz, zt_resid, sigma2, cov_re):
    mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
    return rng.normal(mean, np.sqrt(np.diag(cov)))


def b_slope_first(rng, ztz, zt_resid, sigma2, cov_re):
    return b_cholesky(rng, ztz, zt_resid, sigma2, cov_re)[::-1]


SLIPS = [
    (b_sigma_not_inverted, "sigma_not_inverted", "not ztz + sigma2 * cov_re"),
    (b_sigma2_missing_in_m, "sigma2_missing_in_m", "sigma2 in front of inv(cov_re)"),
    (b_cov_missing_sigma2, "cov_missing_sigma2", "multiply inv(M) by sigma2"),
    (b_cov_sigma, "cov_sigma_not_sigma2", "not its square root"),
    (b_precision_mean_without_sigma2, "mean_times_sigma2", "zt_resid / sigma2"),
    (b_mean_without_inverse, "mean_without_inverse", "not zt_resid itself"),
    (b_from_the_prior, "prior_draw", "follow the prior N(0, Σ)"),
    (b_least_squares, "prior_ignored", "least-squares"),
    (b_transposed_cholesky, "transposed_cholesky", "lower* Cholesky factor"),
    (b_upper_cholesky_of_scipy, "transposed_cholesky", "lower=True"),
    (b_precision_cholesky_not_transposed, "precision_cholesky_not_transposed", "solve(Lᵀ, z)"),
    (b_independent_coordinates, "independent_coordinates", "drawn independently"),
    (b_slope_first, "coordinates_swapped", "(slope, intercept)"),
]


@pytest.mark.parametrize("fn, slip, words", SLIPS, ids=[s[0].__name__ for s in SLIPS])
def test_every_slip_fails_with_its_hint(fn, slip, words, calls):
    calls(2000)
    r = checks.check_update("b", fn, seed=0)
    assert not r.passed and r.status == "wrong", r.message
    assert r.p_value < 1e-12, r.message  # far below the threshold: not a near miss
    assert r.slip == slip, r.message
    assert words in r.message and r.message.startswith("draw_b is not right at "), r.message


def test_every_slip_of_the_table_is_exercised_above():
    assert {s[1] for s in SLIPS} == set(checks.slips("b"))


def test_every_slip_is_a_large_error_somewhere():
    """At some school each slip shifts the whitened mean by 0.5 sd or more, or changes a
    whitened variance by 50% or more (an eigenvalue of L⁻¹ V_slip L⁻ᵀ off 1): far beyond the
    0.1 sd and 10% that N_CALLS_B calls catch with probability 0.99 (module docstring)."""
    laws = checks._b_laws()
    for key, (slip_laws, _) in checks.slips("b").items():
        effect = 0.0
        for law, exact in zip(slip_laws, laws, strict=True):
            shift = np.abs(exact.whiten(law.mean[None, :])[0]).max()
            chol = np.linalg.cholesky(exact.cov)
            w = np.linalg.solve(chol, np.linalg.solve(chol, law.cov).T)
            effect = max(effect, shift, np.abs(np.log(np.linalg.eigvalsh(w))).max())
        assert effect > np.log(1.5), key


def test_a_wrong_law_that_is_no_slip_is_described():
    def slope_too_wide(rng, ztz, zt_resid, sigma2, cov_re):
        mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
        return rng.multivariate_normal(mean, cov * np.array([[1.0, 1.3], [1.3, 1.69]]))

    r = checks.check_update("b", slope_too_wide, seed=0)
    assert not r.passed and r.slip is None, r.message
    assert "the spread of the slope b_j[1] is 30% too large" in r.message, r.message
    assert "adjusted p" in r.message

    def off_centre(rng, ztz, zt_resid, sigma2, cov_re):
        mean, cov = exact_moments(ztz, zt_resid, sigma2, cov_re)
        return rng.multivariate_normal(mean + 0.2 * np.sqrt(np.diag(cov)), cov)

    r = checks.check_update("b", off_centre, seed=0)
    assert "is centred 0.2" in r.message and "sds above its exact mean" in r.message, r.message


# --------------------------------------------------------------------------- broken updates
@pytest.mark.parametrize(
    "fn, words",
    [
        (lambda rng, ztz, zt_resid, sigma2, cov_re: rng.standard_normal(3), "shape (2,)"),
        (lambda rng, ztz, zt_resid, sigma2, cov_re: rng.standard_normal((2, 1)), "column"),
        (
            lambda rng, ztz, zt_resid, sigma2, cov_re: np.linalg.inv(ztz) * zt_resid,
            "* where @ belongs",
        ),
        (lambda rng, ztz, zt_resid, sigma2, cov_re: rng.normal(), "shape ()"),
        (lambda rng, ztz, zt_resid, sigma2, cov_re: None, "forget `return`"),
        (lambda rng, ztz, zt_resid, sigma2, cov_re: zt_resid * np.nan, "not a finite number"),
        (lambda rng, ztz, zt_resid, sigma2: zt_resid, "draw_b(rng, ztz, zt_resid, sigma2, cov_re)"),
        (lambda rng, *a: np.random.default_rng().standard_normal(2), "`rng`"),
    ],
    ids=["three", "column", "matrix", "scalar", "none", "nan", "signature", "own-rng"],
)
def test_bad_returns_get_a_clear_message(fn, words):
    r = checks.check_update("b", fn)
    assert not r.passed and r.status == "error" and words in r.message, r.message
    assert r.message.startswith("draw_b") and "Traceback" not in r.message


def test_the_mean_only_is_named():
    def mean_only(rng, ztz, zt_resid, sigma2, cov_re):
        return exact_moments(ztz, zt_resid, sigma2, cov_re)[0]

    r = checks.check_update("b", mean_only)
    assert r.status == "wrong" and "same value at every call" in r.message


def test_changing_an_input_in_place_is_caught(calls):
    calls(1000)

    def in_place(rng, ztz, zt_resid, sigma2, cov_re):
        ztz += sigma2 * np.linalg.inv(cov_re)  # the caller's array
        return rng.multivariate_normal(np.linalg.solve(ztz, zt_resid), sigma2 * np.linalg.inv(ztz))

    r = checks.check_update("b", in_place)
    assert r.status == "error" and "in place" in r.message, r.message


def test_not_written_and_a_prior_is_refused():
    def draw_b(rng, ztz, zt_resid, sigma2, cov_re):
        raise NotImplementedError

    for fn in (None, draw_b):
        assert checks.check_update("b", fn).status == "not written"
    with pytest.raises(ValueError, match="takes no prior"):
        checks.check_update("b", b_cholesky, prior=checks.STRESS_PRIOR)
    with pytest.raises(ValueError, match="one of"):
        checks.check_update("b_j", b_cholesky)


# --------------------------------------------------------------------------- calibration, power
def test_the_p_values_are_uniform_under_the_exact_law():
    """Each of the 36 tests rejects at 5% and 20% as often as it should (at most 4.5 binomial
    sds too often), so the Bonferroni bound ALPHA on false alarms holds (the full measurement,
    2000 simulated checks: benchmarks/check_power.py; figures in the module docstring)."""
    rng = np.random.default_rng(24)
    sims = 150
    raw = []
    for _ in range(sims):
        _, pv = check_power._family_rejects("b", None, rng)
        raw.append(np.concatenate([np.atleast_1d(v) for q in pv for v in q.values()]))
    raw = np.array(raw)
    assert raw.shape[1] == 36
    for level in (0.05, 0.2):
        rates = (raw < level).mean(axis=0)
        sd = np.sqrt(level * (1 - level) / sims)
        assert rates.max() < level + 4.5 * sd, (level, rates)
        assert abs(rates.mean() - level) < 4 * sd, (level, rates.mean())


@pytest.mark.parametrize("error", [("shift_one", 0.1), ("corr", 0.1)], ids=str)
def test_a_small_error_at_one_school_is_caught(error):
    """0.1 sd off in one whitened coordinate, or a whitened correlation of 0.1, at one
    school: power 0.994 (module docstring); 46 or fewer hits in 50 has probability < 2e-4."""
    rng = np.random.default_rng(25)
    hits = sum(check_power._family_rejects("b", None, rng, (None, *error))[0] for _ in range(50))
    assert hits >= 47


@pytest.mark.parametrize(
    "value",
    [None, np.nan, [1.0, np.inf], "ab", [], [1.0, 2.0, 3.0], True, {"a": 1}, object(),
     [1e308, -1e308], np.eye(2), 1 + 2j],
)  # fmt: skip
def test_any_return_value_gives_a_verdict_never_a_traceback(value, calls):
    calls(200)
    r = checks.check_update("b", lambda rng, ztz, zt_resid, sigma2, cov_re: value)
    assert isinstance(r, checks.CheckResult) and not r.passed
    assert r.message.startswith("draw_b") and "Traceback" not in r.message


@settings(max_examples=50, deadline=None, database=None, derandomize=True)
@given(
    mean=hnp.arrays(np.float64, 2, elements=st.floats(-1e3, 1e3)),
    sds=hnp.arrays(np.float64, 2, elements=st.floats(1e-2, 1e2)),
    corr=st.floats(-0.99, 0.99),
    z=hnp.arrays(np.float64, (5, 2), elements=st.floats(-5, 5)),
)
def test_whitening_undoes_the_cholesky_map(mean, sds, corr, z):
    """u = L⁻¹(x - m) for x = m + L z gives back z, for any mean and covariance: the tests
    see iid N(0, 1) coordinates exactly when the draws follow the law."""
    cov = np.outer(sds, sds) * np.array([[1.0, corr], [corr, 1.0]])
    law = checks._MvLaw(mean, cov)
    x = mean + z @ np.linalg.cholesky(cov).T
    np.testing.assert_allclose(law.whiten(x), z, atol=1e-6 * (1 + np.abs(mean).max() / sds.min()))
