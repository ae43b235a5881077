"""The collapsed Metropolis-Hastings step on Sigma of gibbs.mixed_model is exact.

1. Its target: ``collapsed_log_target`` (log p(Sigma | beta, sigma2, y) in the log-Cholesky
   theta, every b_j integrated out) must equal, up to a Sigma-free constant, the basic
   marginal-likelihood identity log p(y | beta, Sigma, sigma2) + log p(Sigma) =
   log_joint_mixed(b*) - log p(b* | y, beta, Sigma, sigma2) (for any b*; here a new random b*
   at each Sigma), plus the log Jacobian of theta -> vech(Sigma) computed numerically by
   central differences -- at q = 1, 2 and 3, under the flat and the inverse-Wishart prior.
   Power: the same check rejects the target with each classic slip (a missing 1/2 on
   log|M_j| or on (m/2) log|Sigma|, the quadratic form's sign, the log's Jacobian left out).
2. Its q = 2 closed form (one log per 8 groups) equals the general loops, also for
   determinants far outside [1e-30, 1e30].
3. The kernel: the warm-up adapts the proposal, the kept sweeps do not; the whole sampler's
   posterior equals the blocked sampler's (each proven by its full conditionals) within
   Monte Carlo error, on small random data under both priors and on the R&B model.
"""

import numpy as np
import pytest
from log_joint_checks import assert_constant
from test_mixed_stats import random_frame

from hierlib import conditionals as cond
from hierlib import data, gibbs, priors
from hierlib.samplers import mixed_model as mm

PROPER_2 = priors.MixedProper(
    beta_mean=[0.0, 0.5], beta_cov=np.diag([9.0, 4.0]), nu0=2.0, sigma02=1.0,
    cov_re=priors.InverseWishart(4.0, [[1.0, 0.3], [0.3, 0.8]]),
)  # fmt: skip
PROPER_3 = priors.MixedProper(
    beta_mean=[0.0, 0.5, -0.2], beta_cov=np.diag([9.0, 4.0, 4.0]), nu0=2.0, sigma02=1.0,
    cov_re=priors.InverseWishart(6.0, [[1.0, 0.3, 0.0], [0.3, 0.8, 0.1], [0.0, 0.1, 0.5]]),
)  # fmt: skip
CASES = {  # formula, re_formula, prior
    "q1-default": ("y ~ x", "~1", None),
    "q2-default": ("y ~ x", "~x", None),
    "q2-proper": ("y ~ x", "~x", PROPER_2),
    "q3-proper": ("y ~ x + w", "~x + w", PROPER_3),
}


def case_stats(name):
    formula, re_formula, prior = CASES[name]
    return data.mixed_stats(formula, random_frame(21, m=8), "g", re_formula), prior


def low_of(theta, q):
    low = np.zeros((q, q))
    low[np.tril_indices(q)] = theta
    low[np.diag_indices(q)] = np.exp(np.diag(low))
    return low


def vech_sigma(theta, q):
    low = low_of(theta, q)
    return (low @ low.T)[np.tril_indices(q)]


def log_jacobian(theta, q, h=1e-5):
    """log |d vech(Sigma) / d theta| by central differences (no formula to share a slip)."""
    d = theta.size
    jac = np.empty((d, d))
    for k in range(d):
        e = np.zeros(d)
        e[k] = h
        jac[:, k] = (vech_sigma(theta + e, q) - vech_sigma(theta - e, q)) / (2 * h)
    return float(np.linalg.slogdet(jac)[1])


def target(stats, prior, theta, beta, sigma2):
    q = stats.q
    nu, s0 = (prior or priors.MixedDefault()).cov_terms(q)
    zr = stats.zty - np.einsum("jpq,p->jq", stats.xtz, beta)
    w = [np.empty((q, q)) for _ in range(4)]
    return mm.collapsed_log_target(theta, stats.ztz, zr, sigma2, nu, s0, w[0], w[1],
                                   np.empty(q), w[2], w[3])  # fmt: skip


def identity(stats, prior, theta, beta, sigma2, rng):
    """log p(y | beta, Sigma, sigma2) + log p(beta, sigma2, Sigma) by the marginal-likelihood
    identity at a random b*, plus the numerical log Jacobian of theta -> vech(Sigma)."""
    q = stats.q
    low = low_of(theta, q)
    cov = low @ low.T
    b_star = rng.normal(0, 1.0, (stats.m, q))
    zr = stats.zty - np.einsum("jpq,p->jq", stats.xtz, beta)
    log_post_b = sum(cond.b_mixed(stats.ztz[j], zr[j], sigma2, cov).logpdf(b_star[j])
                     for j in range(stats.m))  # fmt: skip
    lj = cond.log_joint_mixed(stats, beta, b_star, sigma2, cov, prior)
    return lj - log_post_b + log_jacobian(theta, q)


def slips(stats, theta, beta, sigma2):
    """The terms a slipped target would add to the right one (numpy, from the formula)."""
    q, m = stats.q, stats.m
    low = low_of(theta, q)
    cov = low @ low.T
    mj = stats.ztz + sigma2 * np.linalg.inv(cov)
    zr = stats.zty - np.einsum("jpq,p->jq", stats.xtz, beta)
    log_det_m = float(np.sum(np.linalg.slogdet(mj)[1]))
    quad = float(np.einsum("jq,jq->", zr, np.linalg.solve(mj, zr[..., None])[..., 0]))
    log_det_s = float(np.linalg.slogdet(cov)[1])
    return {
        "log|M_j| without its 1/2": -0.5 * log_det_m,
        "(m/2) log|Sigma| without its 1/2": -0.5 * m * log_det_s,
        "quadratic form with the wrong sign": -quad / sigma2,
        "no Jacobian of the log": -float(np.sum(np.log(np.diag(low)))),
    }


def thetas(rng, q, k=8):
    out = []
    for _ in range(k):
        low = np.tril(rng.normal(0, 0.5, (q, q)))
        low[np.diag_indices(q)] = rng.uniform(-1.2, 0.5, q)  # log L_ii
        out.append(low[np.tril_indices(q)])
    return out


@pytest.mark.parametrize("case", CASES)
def test_the_target_is_the_marginal_likelihood_identity(case):
    stats, prior = case_stats(case)
    rng = np.random.default_rng(17)
    beta = rng.normal(0, 0.5, stats.p)
    sigma2 = 1.3
    points = thetas(rng, stats.q)
    right = [target(stats, prior, t, beta, sigma2) for t in points]
    want = [identity(stats, prior, t, beta, sigma2, rng) for t in points]
    diff = np.subtract(want, right)
    assert_constant(diff, tol=1e-7)
    # power: each slip moves the difference by far more than the tolerance
    for slip in slips(stats, points[0], beta, sigma2):
        wrong = [
            r + slips(stats, t, beta, sigma2)[slip] for r, t in zip(right, points, strict=True)
        ]
        assert np.ptp(np.subtract(want, wrong)) > 0.1, slip


def test_the_target_is_minus_infinity_off_floating_point():
    stats, prior = case_stats("q2-default")
    beta = np.zeros(stats.p)
    assert target(stats, prior, np.array([400.0, 0.0, 0.0]), beta, 1.0) == -np.inf
    assert target(stats, prior, np.array([0.0, 0.0, -np.inf]), beta, 1.0) == -np.inf
    assert target(stats, prior, np.array([0.0, 0.0, np.nan]), beta, 1.0) == -np.inf


@pytest.mark.parametrize("scale", [1.0, 1e-40, 1e40])
def test_the_q2_closed_form_equals_the_general_loops(scale):
    """Scaled cross-products put every |M_j| far outside [1e-30, 1e30] (logged one by one)."""
    stats, _ = case_stats("q2-default")
    rng = np.random.default_rng(5)
    ztz = stats.ztz * scale
    zr = rng.normal(size=(stats.m, 2)) * np.sqrt(scale)
    w = [np.empty((2, 2)) for _ in range(4)]
    for theta in thetas(rng, 2):
        low = low_of(theta, 2) * np.sqrt(scale)
        sigma2 = 0.7 * scale
        closed = mm._collapsed_loglik_q2(low, ztz, zr, sigma2)
        loops = mm._collapsed_loglik_general(low, ztz, zr, sigma2, w[0], np.empty(2), w[1], w[2])
        assert closed == pytest.approx(loops, rel=1e-11, abs=1e-9)


def test_the_warm_up_adapts_and_the_kept_sweeps_do_not():
    stats, prior = case_stats("q2-default")
    zr = stats.zty - np.einsum("jpq,p->jq", stats.xtz, np.array([1.0, 1.0]))
    cov = np.array([[0.8, 0.1], [0.1, 0.5]])
    mh = mm.mh_state(cov, n_warmup=50)
    assert mh.size == mm.mh_size(2) and mh[0] == mm.RANDOM_WALK_STEPS
    nu, s0 = priors.MixedDefault().cov_terms(2)
    rng = np.random.default_rng(0)
    w = [np.empty((2, 2)) for _ in range(4)]

    def step(adapt, counts):
        return mm._collapsed_step(rng, stats.ztz, zr, cov, 1.0, nu, s0, mh, adapt, counts,
                                  np.empty(3), np.empty(6), np.empty(1), w[0], w[1],
                                  np.empty(2), w[2], w[3])  # fmt: skip

    counts = np.zeros(2)
    for _ in range(50):
        assert step(True, counts) >= 0
    assert mh[2] == 50 and mh[4] == 40  # every sweep tuned the scale, the last 4/5 summed
    assert counts[0] > 0 and counts[1] > 0  # both kinds of proposal moved
    frozen = mh.copy()
    for _ in range(20):
        step(False, counts)
    np.testing.assert_array_equal(mh, frozen)
    assert np.all(np.linalg.eigvalsh(cov) > 0)
    with pytest.raises(ValueError, match="at least one random-walk step"):
        mm.mh_state(cov, 10, n_walk=0)


def ess(x):
    import arviz as az

    return float(az.ess(np.asarray(x)))


def assert_agree(a, b, sigmas=4.5):
    """Posterior means of every fixed effect, Sigma's entries and sigma2: |difference| <
    ``sigmas`` Monte Carlo standard errors of the difference (each from its bulk ESS)."""
    p, q = a.draws["fe"].shape[2], a.draws["cov_re"].shape[2]
    pairs = [(a.draws["fe"][..., k], b.draws["fe"][..., k]) for k in range(p)]
    pairs += [(a.draws["cov_re"][..., i, j], b.draws["cov_re"][..., i, j])
              for i in range(q) for j in range(i + 1)]  # fmt: skip
    pairs += [(a.draws["sigma2"], b.draws["sigma2"])]
    worst = 0.0
    for k, (x, y) in enumerate(pairs):
        se = np.hypot(x.std() / np.sqrt(ess(x)), y.std() / np.sqrt(ess(y)))
        worst = max(worst, abs(x.mean() - y.mean()) / se)
        assert abs(x.mean() - y.mean()) < sigmas * se, (k, x.mean(), y.mean(), se)
    return len(pairs), worst


@pytest.mark.parametrize(("m", "prior"), [(8, PROPER_2), (30, None)], ids=["proper", "default"])
def test_collapsed_and_blocked_samplers_agree(m, prior):
    """As test_mixed_interweaving's check of the interweaved sampler: 4.5 standard errors, a
    false alarm of 7e-6 per comparison (1e-4 for the 12 here)."""
    df = random_frame(31 + m, m=m)
    run = dict(n_draws=20000, n_warmup=1000, n_chains=4, seed=4, keep_b=[])
    a = gibbs.mixed_model("y ~ x", df, "g", "~x", prior=prior, parameterization="collapsed",
                          **run)  # fmt: skip
    b = gibbs.mixed_model("y ~ x", df, "g", "~x", prior=prior, parameterization="blocked",
                          **run)  # fmt: skip
    assert all(0.05 < r < 1.0 for r in a.collapsed_acceptance), a.collapsed_acceptance
    assert 0.05 < a.acceptance <= 1.0 and np.all(np.isnan(b.collapsed_acceptance))
    assert_agree(a, b)


def test_collapsed_and_blocked_samplers_agree_on_rb():
    """The R&B model (6 fixed effects, 160 schools): 10 comparisons at 4.5 standard errors
    (a false alarm of 7e-5 for them all). The blocked sampler's slope variance mixes slowly
    (ESS about 0.01 per draw), so 4 x 20000 draws."""
    df = data.load_hsb_covariates()
    f, re = "mathach ~ mses * cses + sector * cses", "~cses"
    run = dict(n_draws=20000, n_warmup=1000, n_chains=4, seed=12, keep_b=[])
    a = gibbs.mixed_model(f, df, "school", re, parameterization="collapsed", **run)
    b = gibbs.mixed_model(f, df, "school", re, parameterization="blocked", **run)
    n, worst = assert_agree(a, b)
    print(f"\nR&B collapsed vs blocked: {n} means, largest |difference| {worst:.2f} se; "
          f"acceptance {a.collapsed_acceptance}")  # fmt: skip
    # and the point of the step: the slope variance mixes far better than interweaved's 0.15
    assert ess(a.draws["cov_re"][..., 1, 1]) > 0.4 * a.draws["sigma2"].size


def test_no_warm_up_runs_the_initial_random_walk():
    """With n_warmup=0 nothing is tuned: the kernel is the initial random walk (no
    independence proposal yet), still a valid one."""
    df = random_frame(40, m=12)
    post = gibbs.mixed_model("y ~ x", df, "g", "~x", n_draws=200, n_warmup=0, seed=1)
    assert post.parameterization == "collapsed"
    assert np.isnan(post.collapsed_acceptance[0]) or post.collapsed_acceptance[0] == 0.0
    assert 0.0 < post.collapsed_acceptance[1] < 1.0
    assert np.all(np.isfinite(post.draws["cov_re"]))
