"""False-alarm rate and power of hierlib.checks, measured by simulation (prints a table).

    .venv/bin/python benchmarks/check_power.py [--sims 2000]

Not a speed benchmark: it measures how often the checks decide right. The draws are simulated
directly (vectorised numpy) with the law a correct or a wrong update or sampler gives, and go
through the same tests and the same Bonferroni decision as ``checks.check_update`` and
``checks.check_sampler`` (calling a student function adds nothing to the law of its draws).

- check_update: for each update, the exact law (false alarms) and each 5% error of
  ``checks.POWER_CASES``; per-test rejection rates at 1% and 5% show whether each p-value is
  uniform under the exact law (the Bonferroni bound needs no more).
- check_sampler: 4 chains of the textbook Gibbs sampler (4000 sweeps, 500 dropped, the
  sampler's own starting values) on ``checks.SAMPLER_STATS``, correct and with the mistakes
  named in the docstring, many replicates at once.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from scipy import optimize, special

from hierlib import checks, priors

SEMI = priors.SemiConjugate(mu0=10.0, g20=4.0, eta0=4.0, t20=9.0, nu0=10.0, s20=36.0)


# --------------------------------------------------------------------------- updates
def _draw(law, rng, n, error=None):
    """``n`` draws of ``law`` (calls x schools), with a 5% error applied."""
    kind, what, size = error if error else (None, None, 1.0)
    if isinstance(law, checks._MvLaw):
        return _draw_mv(law, rng, n, what, size)
    if law.kind == "normal":
        mean, sd = np.atleast_1d(law.a), np.atleast_1d(law.b)
        z = rng.standard_normal((n, mean.size))
        if what == "spread":
            z *= size
        x = mean + sd * z
        if what == "shift":
            x += size * sd
        if what == "shift_one":
            x[:, 0] += size * sd[0]
        return x
    a = law.a
    if what == "spread":  # the shape whose sd of log G is `size` times the exact one
        target = size**2 * special.polygamma(1, law.a)
        a = optimize.brentq(lambda v: special.polygamma(1, v) - target, 1e-3, 1e4)
    g = rng.standard_gamma(a, size=(n, 1))
    b = law.b * (a / law.a if what == "spread" else 1.0)  # keep the median about right
    x = b / g
    return x * size if what == "scale" else x


def _draw_mv(law, rng, n, what, size):
    """``n`` draws (calls x q) of a multivariate normal law, with an error in its whitened
    coordinates z: the first shifted by ``size`` ("shift_one"), its sd times ``size``
    ("spread"), or the first two correlated by ``size`` ("corr")."""
    z = rng.standard_normal((n, law.mean.size))
    if what == "shift_one":
        z[:, 0] += size
    if what == "spread":
        z[:, 0] *= size
    if what == "corr":
        z[:, 1] = size * z[:, 0] + math.sqrt(1 - size**2) * z[:, 1]
    return law.mean + z @ np.linalg.cholesky(law.cov).T


def _family_rejects(name, prior, rng, error=None, at=0):
    """One simulated check: (rejected, raw p-values); ``error`` applied at the ``at``-th prior
    tested (0: the prior given, 1: the stress prior)."""
    pvalues = []
    for k, s in enumerate(checks._condition_sets(name, prior)):
        x = _draw(s.law, rng, s.n_calls, error if k == at else None)
        pvalues.append(checks._tests(x, s.law))
    return checks._family(pvalues) < checks.ALPHA, pvalues


def _false_alarms(name, prior, label, rng, sims):
    """One row: ``sims`` simulated checks of a correct update, its false alarms and the range
    of each test's rejection rate at 1% and 5%."""
    t0 = time.process_time()
    alarms, raw = 0, []
    for _ in range(sims):
        rejected, pv = _family_rejects(name, prior, rng)
        alarms += rejected
        raw.append(np.concatenate([np.atleast_1d(v) for q in pv for v in q.values()]))
    raw = np.array(raw)
    at1, at5 = (raw < 0.01).mean(axis=0), (raw < 0.05).mean(axis=0)
    print(
        f"  {name:>6} {label:>14}: false alarms {alarms}/{sims}; per-test rejection "
        f"rate at 1%: {at1.min():.3f}..{at1.max():.3f}, at 5%: {at5.min():.3f}.."
        f"{at5.max():.3f} ({raw.shape[1]} tests; {time.process_time() - t0:.0f} s CPU)"
    )


def measure_updates(sims: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    print(f"check_update: {sims} simulated checks per row, ALPHA = {checks.ALPHA}")
    for name in ("theta", "mu", "sigma2", "tau2"):
        for label, prior in (("default", None), ("semi-conjugate", SEMI)):
            if name == "theta" and prior is not None:
                continue
            _false_alarms(name, checks._as_prior(prior), label, rng, sims)
    for label, (name, what, size) in checks.POWER_CASES.items():
        hits = sum(
            _family_rejects(name, checks._as_prior(None), rng, (None, what, size))[0]
            for _ in range(sims)
        )
        print(f"  power, {label} ({name}): {hits}/{sims} = {hits / sims:.4f}")
    for label, (name, what, size) in checks.STRESS_POWER_CASES.items():
        hits = sum(_family_rejects(name, SEMI, rng, (None, what, size), at=1)[0]
                   for _ in range(sims))  # fmt: skip
        print(f"  power at the stress prior only, {label} ({name}): {hits}/{sims} = "
              f"{hits / sims:.4f}")  # fmt: skip


def measure_b(sims: int, seed: int = 3) -> None:
    """The multivariate check of ``draw_b``: false alarms and per-test calibration at the
    four schools of ``checks.B_CONDITIONS``, then the power against
    ``checks.B_POWER_CASES`` (each an error at one school)."""
    rng = np.random.default_rng(seed)
    print(f"check_update('b'): {sims} simulated checks per row, ALPHA = {checks.ALPHA}")
    _false_alarms("b", None, "(4 schools)", rng, sims)
    for label, (what, size, at) in checks.B_POWER_CASES.items():
        hits = sum(_family_rejects("b", None, rng, (None, what, size), at=at)[0]
                   for _ in range(sims))  # fmt: skip
        print(f"  power, {label} (b): {hits}/{sims} = {hits / sims:.4f}")


# --------------------------------------------------------------------------- samplers
def batched_gibbs(stats, prior, n_sweeps, rng, reps, mistake=None):
    """``reps`` independent chains of the textbook sampler at once: (reps, n_sweeps, 3)."""
    with np.errstate(all="ignore"):  # a wrong sampler's chain may collapse to tau2 = 0
        return _batched_gibbs(stats, prior, n_sweeps, rng, reps, mistake)


def _batched_gibbs(stats, prior, n_sweeps, rng, reps, mistake):
    mu0, p0, a_tau, b_tau, a_s, b_s = prior.hyper()[:6]
    n, ybar, ss, m = stats.n.astype(float), stats.ybar, stats.ss, stats.m
    mu = np.full(reps, ybar.mean())
    sigma2 = np.full(reps, ss.sum() / (n.sum() - m))
    tau2 = np.full(reps, ybar.var())
    out = np.empty((reps, n_sweeps, 3))
    shape_tau = a_tau + m / 2 + (1.0 if mistake == "tau2 shape m/2" else 0.0)
    mu_m = m - 1 if mistake == "mu variance tau2/(m-1)" else m
    for s in range(n_sweeps):
        prec = n / sigma2[:, None] + 1 / tau2[:, None]
        mean = (n * ybar / sigma2[:, None] + mu[:, None] / tau2[:, None]) / prec
        theta = mean + rng.standard_normal((reps, m)) / np.sqrt(prec)
        big_s = np.sum(ss + n * (ybar - theta) ** 2, axis=1)
        sigma2 = (b_s + big_s / 2) / rng.standard_gamma(a_s + n.sum() / 2, size=reps)
        if mistake != "mu never moves":
            pm = mu_m / tau2 + p0
            mu = (theta.sum(axis=1) / tau2 + p0 * mu0) / pm + rng.standard_normal(reps) / np.sqrt(
                pm
            )
        q = np.sum((theta - mu[:, None]) ** 2, axis=1)
        tau2 = (b_tau + q / 2) / rng.standard_gamma(shape_tau, size=reps)
        if mistake in ("tau2 10% too large", "tau2 5% too large"):
            tau2 = (1.1 if mistake.startswith("tau2 10") else 1.05) * tau2
        out[:, s] = np.column_stack([mu, sigma2, tau2])
    if mistake == "sigma instead of sigma2":
        out[..., 1] = np.sqrt(out[..., 1])
    if mistake == "columns (sigma2, mu, tau2)":
        out = out[..., [1, 0, 2]]
    return out


def _sampler_rejects(kept, target):
    p = checks._sampler_stats(kept, target)
    return min(1.0, len(p) * min(p.values())) < checks.ALPHA, np.array(list(p.values()))


def measure_samplers(sims: int, power_sims: int, seed: int = 2, block: int = 100) -> None:
    rng = np.random.default_rng(seed)
    stats, c = checks.SAMPLER_STATS, checks.N_CHAINS
    print(f"check_sampler: {c} chains x {checks.N_SWEEPS} sweeps ({checks.N_WARMUP} dropped)")
    rows = [(None, "default", priors.Default(), sims), (None, "semi-conjugate", SEMI, sims)]
    mistakes = ("tau2 shape m/2", "tau2 10% too large", "tau2 5% too large",
                "mu variance tau2/(m-1)", "mu never moves", "sigma instead of sigma2",
                "columns (sigma2, mu, tau2)")  # fmt: skip
    rows += [(mk, "default", priors.Default(), power_sims) for mk in mistakes]
    for mistake, label, prior, n_sims in rows:
        target = checks._marginals(prior)
        t0 = time.process_time()
        hits, raw = 0, []
        for start in range(0, n_sims, block):
            reps = min(block, n_sims - start)
            draws = batched_gibbs(stats, prior, checks.N_SWEEPS, rng, reps * c, mistake)
            draws = draws.reshape(reps, c, checks.N_SWEEPS, 3)[:, :, checks.N_WARMUP :]
            for r in range(reps):
                with np.errstate(all="ignore"):
                    rejected, pv = _sampler_rejects(draws[r], target)
                hits += rejected
                raw.append(pv)
        what = "false alarms" if mistake is None else f"power against {mistake}"
        line = f"  {label:>14}, {what}: {hits}/{n_sims} = {hits / n_sims:.4f}"
        if mistake is None:
            raw = np.array(raw)
            at1, at5 = (raw < 0.01).mean(axis=0), (raw < 0.05).mean(axis=0)
            line += (
                f"; per-test rejection rate at 1%: {at1.min():.3f}..{at1.max():.3f}, at 5%: "
                f"{at5.min():.3f}..{at5.max():.3f}"
            )
        print(line + f" ({time.process_time() - t0:.0f} s CPU)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=2000, help="simulations per row")
    parser.add_argument("--power-sims", type=int, default=500, help="sampler power runs")
    parser.add_argument("--only", choices=["updates", "b", "samplers"], default=None)
    args = parser.parse_args()
    binom = 3 * math.sqrt(0.05 * 0.95 / args.sims)
    print(f"(3 binomial sds of a 5% rate over {args.sims} runs: {binom:.3f})")
    if args.only in (None, "updates"):
        measure_updates(args.sims)
    if args.only in (None, "updates", "b"):
        measure_b(args.sims)
    if args.only in (None, "samplers"):
        measure_samplers(args.sims, args.power_sims)


if __name__ == "__main__":
    main()
