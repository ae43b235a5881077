"""The textbook numpy Gibbs loop: the baseline the compiled samplers are compared with.

Written the way a course or a textbook (Hoff 2009, ch. 8) writes it: one vectorised
``rng.normal`` / ``rng.gamma`` call with array arguments per full conditional, on the group
sufficient statistics (so it is already O(m) per sweep, not O(n)). Centered and offset
parameterisations of the hierarchical normal model under the lecture's default prior
p(mu, sigma2, tau2) ∝ 1/sigma2, and the unequal-variances model with nu0 drawn on a fine grid
(the textbook's way around its non-conjugate conditional).

Benchmark code only (not part of hierlib): ``bench_gibbs.py`` times it in the same process as
the compiled sweeps.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln

from hierlib.data import GroupStats

NU0_GRID = np.linspace(0.05, 60.0, 1200)


def normal_gibbs(
    stats: GroupStats, n_iter: int, rng: np.random.Generator, offset: bool = False
) -> np.ndarray:
    """``n_iter`` sweeps of model 1 under the default prior; returns draws (n_iter, 3) of
    (mu, sigma2, tau2).

    Centered: theta_j | . ~ N((n_j ybar_j/s2 + mu/t2)/P_j, 1/P_j), P_j = n_j/s2 + 1/t2;
    mu | . ~ N(mean(theta), t2/m); 1/t2 | . ~ Gamma((m-2)/2, sum (theta-mu)^2 / 2);
    1/s2 | . ~ Gamma(n/2, sum_j [SS_j + n_j (ybar_j - theta_j)^2] / 2).
    Offset (theta = mu + delta): delta_j | . ~ N(n_j (ybar_j - mu)/s2 / P_j, 1/P_j);
    mu | . ~ N(sum n_j (ybar_j - delta_j) / n, s2/n); 1/t2 | . ~ Gamma((m-2)/2, sum delta^2/2).
    """
    n, ybar, ss = stats.n.astype(float), stats.ybar, stats.ss
    m, n_total = stats.m, float(stats.n.sum())
    mu, s2, t2 = float(ybar.mean()), float(ss.sum() / (n_total - m)), float(ybar.var())
    out = np.empty((n_iter, 3))
    for it in range(n_iter):
        prec = n / s2 + 1.0 / t2
        if offset:
            delta = rng.normal(n * (ybar - mu) / s2 / prec, 1.0 / np.sqrt(prec))
            mu = rng.normal(np.dot(n, ybar - delta) / n_total, np.sqrt(s2 / n_total))
            t2 = 1.0 / rng.gamma((m - 2) / 2, 2.0 / np.dot(delta, delta))
            theta = mu + delta
        else:
            theta = rng.normal((n * ybar / s2 + mu / t2) / prec, 1.0 / np.sqrt(prec))
            mu = rng.normal(theta.mean(), np.sqrt(t2 / m))
            t2 = 1.0 / rng.gamma((m - 2) / 2, 2.0 / np.sum((theta - mu) ** 2))
        s2 = 1.0 / rng.gamma(n_total / 2, 2.0 / np.sum(ss + n * (ybar - theta) ** 2))
        out[it] = mu, s2, t2
    return out


def unequal_gibbs(stats: GroupStats, n_iter: int, rng: np.random.Generator) -> np.ndarray:
    """``n_iter`` sweeps of the unequal-variances model under the lecture's prior (flat mu and
    tau2, p(sigma02) ∝ 1/sigma02, nu0 ~ Gamma(2, rate 1/2)); returns draws (n_iter, 4) of
    (mu, tau2, sigma02, nu0). nu0 is drawn from its conditional evaluated on ``NU0_GRID``.
    """
    n, ybar, ss = stats.n.astype(float), stats.ybar, stats.ss
    m = stats.m
    mu, t2 = float(ybar.mean()), float(ybar.var())
    s2j = ss / (n - 1)
    s02, nu0 = float(s2j.mean()), 4.0
    out = np.empty((n_iter, 4))
    for it in range(n_iter):
        prec = n / s2j + 1.0 / t2
        theta = rng.normal((n * ybar / s2j + mu / t2) / prec, 1.0 / np.sqrt(prec))
        s2j = 1.0 / rng.gamma((nu0 + n) / 2, 2.0 / (nu0 * s02 + ss + n * (ybar - theta) ** 2))
        mu = rng.normal(theta.mean(), np.sqrt(t2 / m))
        t2 = 1.0 / rng.gamma((m - 2) / 2, 2.0 / np.sum((theta - mu) ** 2))
        phi = 1.0 / s2j
        s02 = rng.gamma(m * nu0 / 2, 2.0 / (nu0 * phi.sum()))
        v = NU0_GRID
        logp = (
            np.log(v)
            - 0.5 * v
            + m * v / 2 * np.log(v * s02 / 2)
            - m * gammaln(v / 2)
            + v / 2 * np.log(phi).sum()
            - v * s02 / 2 * phi.sum()
        )
        p = np.exp(logp - logp.max())
        nu0 = float(rng.choice(v, p=p / p.sum()))
        out[it] = mu, t2, s02, nu0
    return out
