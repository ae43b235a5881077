"""The sweep's closed forms at q = 2 (the R&B model's case) equal the general-q algebra.

At q = 2 the compiled sweep of ``gibbs.mixed_model`` writes out, per group, the Cholesky
factor and inverse of M_j = Z_j'Z_j + sigma2 Sigma^-1 (``_school_beta_q2``), the b_j draw
(``_school_b_q2``) and the interweaving step's normal equations (``asis_system``); every
other q runs the loops. Each closed form is checked here against dense numpy algebra (or
the general loops) on random inputs, to rounding (relative 1e-10): a wrong sign, index or
transpose shows up as an O(1) difference. Deterministic: no false alarms.
"""

import numpy as np
import pytest
from test_mixed_stats import random_frame

from hierlib import data
from hierlib.samplers import mixed_model as mm


@pytest.fixture(scope="module")
def stats():
    return data.mixed_stats("y ~ x * w", random_frame(5, m=9), "g", "~x")


def test_the_beta_step_share_of_each_group(stats):
    s, sigma2 = stats, 0.8
    cov = np.array([[1.3, -0.4], [-0.4, 0.6]])
    inv_cov = np.linalg.inv(cov)
    p = s.p
    rhs, prec = np.zeros(p), np.zeros((p, p))
    fac = np.empty((s.m, 6))
    for j in range(s.m):
        assert mm._school_beta_q2(s.ztz, s.xtz, s.zty, s.xty, inv_cov, sigma2, fac, j, rhs,
                                  prec, p)  # fmt: skip
    m_j = s.ztz + sigma2 * inv_cov
    m_inv = np.linalg.inv(m_j)
    want_rhs = np.sum(s.xty - (s.xtz @ m_inv @ s.zty[:, :, None])[:, :, 0], axis=0)
    want_prec = -np.sum(s.xtz @ m_inv @ np.swapaxes(s.xtz, 1, 2), axis=0)
    np.testing.assert_allclose(rhs, want_rhs, rtol=1e-10, atol=1e-10 * np.abs(want_rhs).max())
    low = np.tril_indices(p)
    np.testing.assert_allclose(prec[low], want_prec[low], rtol=1e-10,
                               atol=1e-10 * np.abs(want_prec).max())  # fmt: skip
    chol = np.linalg.cholesky(m_j)
    np.testing.assert_allclose(fac[:, 0], 1 / chol[:, 0, 0], rtol=1e-10)
    np.testing.assert_allclose(fac[:, 1], chol[:, 1, 0], rtol=1e-10)
    np.testing.assert_allclose(fac[:, 2], 1 / chol[:, 1, 1], rtol=1e-10)
    np.testing.assert_allclose(fac[:, 3:], m_inv[:, [0, 1, 1], [0, 0, 1]], rtol=1e-10)
    bad = np.array([[-1.0, 0.0], [0.0, 1.0]])  # M_j not positive definite: refused
    assert not mm._school_beta_q2(s.ztz * 0, s.xtz, s.zty, s.xty, bad, 1.0, fac, 0, rhs,
                                  prec, p)  # fmt: skip


def test_the_b_draw_of_each_group(stats):
    """b_j = M_j^-1 Z_j'(y_j - X_j beta) + sigma L_j'^-1 z, z the chain's next two normals
    (last entry first), and the sums the sweep adds to Sigma's scale and to R."""
    s, sigma2, p = stats, 0.8, stats.p
    inv_cov = np.linalg.inv(np.array([[1.3, -0.4], [-0.4, 0.6]]))
    fac = np.empty((s.m, 6))
    mm._school_beta_q2(s.ztz, s.xtz, s.zty, s.xty, inv_cov, sigma2, fac, 0, np.zeros(p),
                       np.zeros((p, p)), p)  # fmt: skip
    beta = np.linspace(-1.0, 2.0, p)
    r = s.zty[0] - s.xtz[0].T @ beta  # r_j = Z_j'(y_j - X_j beta), as the sweep computes it
    b, zr, sums = np.zeros((s.m, 2)), np.full((s.m, 2), np.nan), np.zeros(4)
    zr[0] = r
    mm._school_b_q2(np.random.default_rng(3), s.ztz, fac, np.sqrt(sigma2), b, zr, 0, sums)
    z = np.random.default_rng(3).standard_normal(2)[::-1]  # numba shares numpy's stream
    m_j = s.ztz[0] + sigma2 * inv_cov
    want = np.linalg.solve(m_j, r) + np.sqrt(sigma2) * np.linalg.solve(np.linalg.cholesky(m_j).T, z)
    np.testing.assert_array_equal(zr[0], r)  # read, not changed
    np.testing.assert_allclose(b[0], want, rtol=1e-10)
    bj = b[0]
    want_sums = [bj[0] ** 2, bj[0] * bj[1], bj[1] ** 2, bj @ s.ztz[0] @ bj - 2 * bj @ r]
    np.testing.assert_allclose(sums, want_sums, rtol=1e-10)
    zr[0] = r + 1.0  # and it is used: a different r_j moves the draw
    b2 = np.zeros((s.m, 2))
    mm._school_b_q2(np.random.default_rng(3), s.ztz, fac, np.sqrt(sigma2), b2, zr, 0, np.zeros(4))
    assert not np.allclose(b2[0], b[0])


def test_the_interweaving_system_at_q2_equals_the_general_loops(stats):
    rng = np.random.default_rng(11)
    eta, zr = rng.normal(size=(stats.m, 2)), rng.normal(size=(stats.m, 2))
    prec, rhs = np.full((3, 3), np.nan), np.full(3, np.nan)
    mm.asis_system(stats.ztz, zr, eta, prec, rhs, 2)
    prec_g, rhs_g = np.empty((3, 3)), np.empty(3)
    mm._asis_system_general(stats.ztz, zr, eta, prec_g, rhs_g, 2)
    np.testing.assert_allclose(prec, prec_g, rtol=1e-12)
    np.testing.assert_allclose(rhs, rhs_g, rtol=1e-12)
