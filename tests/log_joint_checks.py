"""Checks shared by the tests that compare a sampler's conditional (or slice target) with the
log joint density (test_conditionals.py, test_tau_priors.py). Not a test file: imported."""

import math

import numpy as np

from hierlib import conditionals as cond
from hierlib.data import group_stats
from hierlib.samplers import _kernels


def six_groups():
    """Six small groups of unequal sizes with labels out of order (raw y and groups)."""
    rng = np.random.default_rng(2024)
    sizes = [3, 7, 4, 9, 2, 5]
    labels = np.repeat(np.array(["f", "b", "e", "a", "d", "c"]), sizes)
    theta = rng.normal(2.0, 1.5, size=len(sizes))
    y = np.repeat(theta, sizes) + rng.normal(0.0, 1.2, size=sum(sizes))
    perm = rng.permutation(y.size)
    return y[perm], labels[perm]


def point_away_from_the_mode(data):
    """A parameter point away from the mode, for the conditionals to be checked at."""
    s = group_stats(*data)
    return {"theta": s.ybar + np.linspace(-0.4, 0.5, s.m), "mu": 1.7, "sigma2": 1.9, "tau2": 0.8}


def assert_constant(diff, tol=1e-8):
    """``diff`` (log joint minus a log density, over a grid) is finite and constant."""
    diff = np.asarray(diff, dtype=float)
    assert np.all(np.isfinite(diff))
    assert np.ptp(diff) < tol * max(1.0, np.abs(diff).max()), np.ptp(diff)


def assert_interweaving_target(data, point, tau2, prior, kind, prior_terms):
    """The ancillary step's slice target for u = log tau given eta = (theta - mu)/tau.

    Changing variables (theta, tau2) -> (eta, u) multiplies the joint density by
    |d theta/d eta| * |d tau2/du| = tau^m * 2 tau^2, so the target ``kind`` (with the prior's
    two ``prior_terms`` in its constants) must equal log_joint(mu + e^u eta, tau2 = e^{2u})
    + (m + 2) u up to a constant.
    """
    s = group_stats(*data)
    mu, sigma2 = point["mu"], point["sigma2"]
    eta = (point["theta"] - mu) / math.sqrt(tau2)
    c = np.array([s.n @ eta**2 / sigma2, s.n @ (eta * (s.ybar - mu)) / sigma2, *prior_terms])
    grid = np.linspace(-2.0, 1.5, 15)
    target = [_kernels._log_target(kind, u, c) for u in grid]
    joint = [
        cond.log_joint(*data, mu + math.exp(u) * eta, mu, sigma2, math.exp(2 * u), prior)
        + (s.m + 2) * u
        for u in grid
    ]
    assert_constant(np.array(joint) - np.array(target))
