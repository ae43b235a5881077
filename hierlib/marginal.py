"""The marginal model of the two-level normal model, and the intraclass correlation (ICC).

Integrating the school means :math:`\\theta_j \\sim N(\\mu, \\tau^2)` out of
:math:`Y_{ij} \\mid \\theta_j \\sim N(\\theta_j, \\sigma^2)` gives

.. math::

    Y_{ij} \\sim N(\\mu, \\tau^2 + \\sigma^2), \\quad
    \\operatorname{Cov}(Y_{ij}, Y_{i'j}) = \\tau^2, \\quad
    \\operatorname{Cov}(Y_{ij}, Y_{i'j'}) = 0 \\ (j \\ne j'),

so :math:`\\operatorname{Cov}(Y)` is block diagonal with one compound-symmetry block
:math:`V_j = \\sigma^2 I_{n_j} + \\tau^2 \\mathbf{1}\\mathbf{1}^\\top` per group. Each block has
just two eigenvalues: :math:`\\sigma^2` (multiplicity :math:`n_j - 1`, contrasts within the
group) and :math:`\\sigma^2 + n_j\\tau^2` (eigenvector :math:`\\mathbf{1}/\\sqrt{n_j}`). Everything
here (products, solves, log-determinant, log-likelihood) uses that structure, so it costs
O(n) time and O(m) memory; the dense :math:`n \\times n` matrix is built only on request for
small n (:meth:`BlockCompoundSymmetry.to_dense`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from hierlib._validate import (
    RESCALE_HINT,
    as_finite_1d,
    at_least_groups,
    finite_result,
    finite_scalar,
    nonnegative,
    require_type,
)
from hierlib.data import GroupStats, group_stats, require_stats
from hierlib.explore import plot_within_spread

if TYPE_CHECKING:
    from matplotlib.axes import Axes

DENSE_LIMIT = 5000
"""Largest n for which :meth:`BlockCompoundSymmetry.to_dense` builds the n x n matrix."""


def _group_variances(sigma2: float | ArrayLike, m: int) -> NDArray[np.float64]:
    """``sigma2`` as an array of m within-group variances (a scalar is broadcast)."""
    if np.ndim(sigma2) == 0:
        return np.full(m, nonnegative(sigma2, "sigma2"))  # type: ignore[arg-type]
    arr = as_finite_1d(sigma2, "sigma2")
    if arr.size != m:
        raise ValueError(f"sigma2 has {arr.size} entries but there are {m} groups")
    if (arr < 0).any():
        raise ValueError(f"sigma2 is a variance component and must be >= 0; got min {arr.min()}")
    return arr


def _group_sizes(group_sizes: ArrayLike) -> NDArray[np.int64]:
    """Group sizes as positive integers, else ``ValueError`` naming the problem."""
    sizes = np.asarray(group_sizes)
    if sizes.ndim != 1 or sizes.size == 0:
        raise ValueError(f"group_sizes must be a non-empty 1-d array; got shape {sizes.shape}")
    if sizes.dtype.kind not in "iu":
        as_float = as_finite_1d(sizes, "group_sizes")
        if not np.array_equal(as_float, np.round(as_float)):
            raise ValueError("group_sizes must be whole numbers")
        sizes = as_float
    if (sizes < 1).any():
        raise ValueError(f"group_sizes must all be >= 1; got min {sizes.min()}")
    return sizes.astype(np.int64)


def icc(tau2: float, sigma2: float) -> float:
    """Intraclass correlation :math:`\\rho = \\tau^2 / (\\tau^2 + \\sigma^2)`.

    The correlation of two observations in the same group under the marginal model, and the
    share of the total variance :math:`\\tau^2 + \\sigma^2` that lies between groups: 0 when
    the groups do not differ (:math:`\\tau^2 = 0`), 1 when the members of a group are
    identical (:math:`\\sigma^2 = 0`).

    Raises
    ------
    ValueError
        If a variance is negative, not finite, or both are zero.
    """
    t2, s2 = nonnegative(tau2, "tau2"), nonnegative(sigma2, "sigma2")
    if t2 + s2 == 0:
        raise ValueError("tau2 and sigma2 are both 0: the ICC is undefined")
    if not np.isfinite(t2 + s2):  # both near 1e308: the sum overflows, the ratio does not
        big = max(t2, s2)
        return (t2 / big) / (t2 / big + s2 / big)
    return t2 / (t2 + s2)


@dataclass(frozen=True)
class BlockCompoundSymmetry:
    """Marginal covariance of Y: block diagonal, one compound-symmetry block per group.

    Block j is :math:`V_j = \\sigma_j^2 I_{n_j} + \\tau^2 \\mathbf{1}\\mathbf{1}^\\top`
    (observations ordered group by group, as :func:`simulate_two_level` returns them). Stored
    as ``m`` sizes and variances, never as an n x n matrix.

    Build it with :func:`marginal_cov`.
    """

    sizes: NDArray[np.int64]
    tau2: float
    sigma2: NDArray[np.float64]

    @property
    def m(self) -> int:
        """Number of groups (blocks)."""
        return int(self.sizes.size)

    @property
    def n(self) -> int:
        """Number of observations (the matrix is n x n)."""
        return int(self.sizes.sum())

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``."""
        return (self.n, self.n)

    @property
    def _big(self) -> NDArray[np.float64]:
        """Per-block eigenvalue :math:`\\sigma_j^2 + n_j\\tau^2` (eigenvector all-ones)."""
        return self.sigma2 + self.sizes * self.tau2

    @property
    def _index(self) -> NDArray[np.int64]:
        return np.repeat(np.arange(self.m), self.sizes)

    def block(self, j: int) -> NDArray[np.float64]:
        """The dense :math:`n_j \\times n_j` block of group ``j``."""
        nj = int(self.sizes[j])
        return self.sigma2[j] * np.eye(nj) + self.tau2 * np.ones((nj, nj))

    def diagonal(self) -> NDArray[np.float64]:
        """The n variances :math:`\\tau^2 + \\sigma_j^2`."""
        return (self.tau2 + self.sigma2)[self._index]

    def to_dense(self) -> NDArray[np.float64]:
        """The full n x n matrix (for teaching and tests; refused above ``DENSE_LIMIT``)."""
        if self.n > DENSE_LIMIT:
            raise ValueError(
                f"n = {self.n} is too large for a dense {self.n}x{self.n} matrix "
                f"(limit {DENSE_LIMIT}); use matvec/solve/logdet or block(j)"
            )
        out = np.zeros(self.shape)
        start = 0
        for j, nj in enumerate(self.sizes):
            out[start : start + nj, start : start + nj] = self.block(j)
            start += nj
        return out

    def _check_vector(self, x: ArrayLike) -> NDArray[np.float64]:
        arr = as_finite_1d(x, "x")
        if arr.size != self.n:
            raise ValueError(f"x has length {arr.size} but the covariance is {self.n}x{self.n}")
        return arr

    def matvec(self, x: ArrayLike) -> NDArray[np.float64]:
        """:math:`Vx`: per block,
        :math:`\\sigma_j^2 x_j + \\tau^2 (\\mathbf{1}^\\top x_j)\\mathbf{1}`."""
        arr = self._check_vector(x)
        idx = self._index
        sums = np.bincount(idx, weights=arr, minlength=self.m)
        return self.sigma2[idx] * arr + self.tau2 * sums[idx]

    def solve(self, x: ArrayLike) -> NDArray[np.float64]:
        """:math:`V^{-1}x` by Sherman-Morrison per block:
        :math:`V_j^{-1} = \\sigma_j^{-2}\\,(I - \\frac{\\tau^2}{\\sigma_j^2 + n_j\\tau^2}
        \\mathbf{1}\\mathbf{1}^\\top)`.

        Raises
        ------
        ValueError
            If a block is singular (:math:`\\sigma_j^2 = 0`).
        """
        if (self.sigma2 <= 0).any():
            raise ValueError("the covariance is singular: some sigma2 is 0")
        arr = self._check_vector(x)
        idx = self._index
        sums = np.bincount(idx, weights=arr, minlength=self.m)
        return (arr - (self.tau2 / self._big)[idx] * sums[idx]) / self.sigma2[idx]

    def logdet(self) -> float:
        """Log-determinant,
        :math:`\\log|V| = \\sum_j [(n_j - 1)\\log\\sigma_j^2 + \\log(\\sigma_j^2 + n_j\\tau^2)]`."""
        if (self.sigma2 <= 0).any():
            raise ValueError("the covariance is singular: some sigma2 is 0")
        return float(np.sum((self.sizes - 1) * np.log(self.sigma2) + np.log(self._big)))


def marginal_cov(
    group_sizes: ArrayLike, tau2: float, sigma2: float | ArrayLike
) -> BlockCompoundSymmetry:
    """Marginal covariance of Y in the two-level normal model, for the given group sizes.

    Parameters
    ----------
    group_sizes : array_like of int, shape (m,)
        :math:`n_1, \\dots, n_m` (observations ordered group by group).
    tau2 : float
        Between-group variance :math:`\\tau^2 \\ge 0` (the covariance within a group).
    sigma2 : float or array_like, shape (m,)
        Within-group variance :math:`\\sigma^2 \\ge 0`, or one :math:`\\sigma_j^2` per group.

    Returns
    -------
    BlockCompoundSymmetry
        :math:`\\tau^2 + \\sigma_j^2` on the diagonal, :math:`\\tau^2` within a group, 0 across.
    """
    sizes = _group_sizes(group_sizes)
    t2, s2 = nonnegative(tau2, "tau2"), _group_variances(sigma2, sizes.size)
    with np.errstate(over="ignore"):
        finite_result(s2 + sizes * t2, "a marginal variance (sigma2 + n_j tau2)", RESCALE_HINT)
    return BlockCompoundSymmetry(sizes=sizes, tau2=t2, sigma2=s2)


def school_loglik(
    n: ArrayLike, ybar: ArrayLike, ss: ArrayLike, mu: ArrayLike, tau2: ArrayLike, sigma2: ArrayLike
) -> NDArray[np.float64]:
    """:math:`\\log p(y_{1j}, \\dots, y_{n_j j} \\mid \\mu, \\tau^2, \\sigma^2)`, the whole
    school with its :math:`\\theta_j` integrated out (broadcast over draws and schools).

    :math:`y_j \\sim N(\\mu 1, \\sigma^2 I + \\tau^2 11^T)`, whose determinant is
    :math:`\\sigma^{2(n_j-1)}(\\sigma^2 + n_j\\tau^2)` and whose quadratic form is
    :math:`SS_j/\\sigma^2 + n_j(\\bar y_j-\\mu)^2/(\\sigma^2 + n_j\\tau^2)`:

    .. math::
        -\\tfrac{n_j}{2}\\log 2\\pi - \\tfrac{n_j-1}{2}\\log\\sigma^2
        - \\tfrac12\\log(\\sigma^2+n_j\\tau^2) - \\frac{SS_j}{2\\sigma^2}
        - \\frac{n_j(\\bar y_j-\\mu)^2}{2(\\sigma^2+n_j\\tau^2)}.

    ``tau2 = 0`` is complete pooling.
    """
    n, ybar, ss = (np.asarray(a, dtype=np.float64) for a in (n, ybar, ss))
    mu, tau2, sigma2 = (np.asarray(a, dtype=np.float64) for a in (mu, tau2, sigma2))
    big = sigma2 + n * tau2
    return (
        -0.5 * n * np.log(2.0 * np.pi)
        - 0.5 * (n - 1) * np.log(sigma2)
        - 0.5 * np.log(big)
        - 0.5 * ss / sigma2
        - 0.5 * n * (ybar - mu) ** 2 / big
    )


def marginal_loglik(stats: GroupStats, mu: float, tau2: float, sigma2: float) -> float:
    """Log-likelihood of the marginal model from the group sufficient statistics alone.

    With :math:`w_j = n_j / (\\sigma^2 + n_j\\tau^2)` (the precision of :math:`\\bar y_j`),

    .. math::

        \\ell(\\mu, \\tau^2, \\sigma^2) = -\\tfrac12 \\Big[ n\\log 2\\pi
        + (n - m)\\log\\sigma^2 + \\sum_j \\log(\\sigma^2 + n_j\\tau^2)
        + \\frac{\\sum_j SS_j}{\\sigma^2} + \\sum_j w_j (\\bar y_j - \\mu)^2 \\Big],

    which equals the multivariate normal log density of y with covariance
    :func:`marginal_cov` (the within-group contrasts see variance :math:`\\sigma^2`, the group
    means variance :math:`\\sigma^2/n_j + \\tau^2`).

    Raises
    ------
    ValueError
        If ``sigma2 <= 0``, ``tau2 < 0`` or a value is not finite.
    """
    require_stats(stats)
    t2, s2 = nonnegative(tau2, "tau2"), nonnegative(sigma2, "sigma2")
    if s2 == 0:
        raise ValueError("sigma2 must be > 0 for the likelihood to exist")
    mu = finite_scalar(mu, "mu")
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        value = float(school_loglik(stats.n, stats.ybar, stats.ss, mu, t2, s2).sum())
    return finite_result(value, "the marginal log-likelihood", RESCALE_HINT)


def simulate_two_level(
    rng: np.random.Generator,
    group_sizes: ArrayLike,
    mu: float,
    tau2: float,
    sigma2: float | ArrayLike,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Draw one data set from the two-level normal model.

    .. math::

        \\theta_j \\sim N(\\mu, \\tau^2), \\qquad
        Y_{ij} \\mid \\theta_j \\sim N(\\theta_j, \\sigma_j^2),
        \\quad i = 1..n_j,\\ j = 1..m.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness (``numpy.random.default_rng(seed)``). Draws, in order:
        m standard normals for the group means, then n for the observations.
    group_sizes : array_like of int, shape (m,)
        :math:`n_j \\ge 1`.
    mu : float
        Population mean of the group means.
    tau2 : float
        Between-group variance :math:`\\tau^2 \\ge 0`.
    sigma2 : float or array_like, shape (m,)
        Within-group variance, one for all groups or one per group (unequal variances).

    Returns
    -------
    y : ndarray of float, shape (n,)
        Observations, ordered group by group.
    groups : ndarray of int, shape (n,)
        Group label of each observation, integers ``0..m-1``.
    """
    if not isinstance(rng, np.random.Generator):
        raise ValueError(
            f"rng must be a numpy.random.Generator (numpy.random.default_rng(seed)); "
            f"got {type(rng).__name__}"
        )
    sizes = _group_sizes(group_sizes)
    mu = finite_scalar(mu, "mu")
    t2 = nonnegative(tau2, "tau2")
    s2 = _group_variances(sigma2, sizes.size)
    groups = np.repeat(np.arange(sizes.size), sizes)
    theta = mu + np.sqrt(t2) * rng.standard_normal(sizes.size)
    y = theta[groups] + np.sqrt(s2)[groups] * rng.standard_normal(groups.size)
    return y, groups


def within_group_correlation(y: ArrayLike, groups: ArrayLike) -> float:
    """Empirical within-group correlation: Pearson's r over all ordered pairs of distinct
    members of the same group (Fisher's "double-entry" intraclass correlation).

    Every ordered pair :math:`(y_{ij}, y_{i'j})`, :math:`i \\ne i'`, is one point; both
    coordinates have the same mean :math:`c = \\sum_j (n_j - 1) n_j \\bar y_j / P` and variance,
    with :math:`P = \\sum_j n_j (n_j - 1)` pairs, so

    .. math::

        r = \\frac{\\sum_j \\big[ n_j^2 (\\bar y_j - c)^2 - D_j \\big]}{\\sum_j (n_j - 1) D_j},
        \\qquad D_j = \\sum_i (y_{ij} - c)^2 = SS_j + n_j (\\bar y_j - c)^2,

    computed from the group sufficient statistics. Under the two-level model it estimates
    the ICC :func:`icc`.

    Raises
    ------
    ValueError
        On bad input (see :func:`hierlib.data.group_stats`), fewer than two groups, or a
        group with fewer than two members (it has no pairs).
    """
    st = group_stats(y, groups)
    at_least_groups(st.m, 2)
    st.require_min_size(2, "a within-group correlation")
    pairs = st.n * (st.n - 1)
    c = np.sum(pairs * st.ybar) / pairs.sum()
    dev = st.ss + st.n * (st.ybar - c) ** 2
    with np.errstate(over="ignore", invalid="ignore"):
        num = np.sum(st.n**2 * (st.ybar - c) ** 2 - dev)
        den = np.sum((st.n - 1) * dev)
    finite_result([num, den], "the within-group correlation's sums of squares", RESCALE_HINT)
    if den == 0:
        raise ValueError("y is constant within every group: the correlation is undefined")
    return float(num / den)


def plot_covariance(cov: BlockCompoundSymmetry, ax: Axes | None = None) -> Axes:
    """Heat map of a (small) marginal covariance, one cell per pair of observations.

    Shows the block compound symmetry: :math:`\\tau^2 + \\sigma^2` on the diagonal,
    :math:`\\tau^2` within a group, 0 across groups; group boundaries are drawn as lines.
    """
    require_type(cov, BlockCompoundSymmetry, "cov", "from marginal.marginal_cov(...)")
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    dense = cov.to_dense()
    ax = new_axes(ax, (7.5, 5.5))
    im = ax.imshow(dense, cmap="Blues", vmin=0, interpolation="nearest")
    ax.figure.colorbar(im, ax=ax, label="Cov$(Y_a, Y_b)$ (points$^2$)")
    edges = np.cumsum(cov.sizes)[:-1] - 0.5
    for e in edges:
        ax.axhline(e, color="k", lw=1)
        ax.axvline(e, color="k", lw=1)
    if cov.n <= 15:
        for a in range(cov.n):
            for b in range(cov.n):
                v = dense[a, b]
                ax.text(b, a, f"{v:.1f}" if v else "0", ha="center", va="center", fontsize=9,
                        color="white" if v > 0.6 * dense.max() else "k")  # fmt: skip
    ticks = np.arange(cov.n)
    ax.set_xticks(ticks, [str(t + 1) for t in ticks])
    ax.set_yticks(ticks, [str(t + 1) for t in ticks])
    ax.grid(False)
    ax.set_xlabel("observation b (grouped by school)")
    ax.set_ylabel("observation a")
    ax.set_title("Correlated within a school, independent across")
    return ax


def plot_correlation_check(
    r: ArrayLike, rho: float, ax: Axes | None = None, observed: float | None = None
) -> Axes:
    """Histogram of within-group correlations of simulated data sets, against the ICC.

    Parameters
    ----------
    r : array_like
        :func:`within_group_correlation` of each simulated data set.
    rho : float
        The ICC the data were simulated with (vertical line).
    observed : float, optional
        The same statistic on the real data (dashed line).
    """
    from hierlib.plots import new_axes  # lazy: only plotting needs matplotlib

    r_arr = as_finite_1d(r, "r")
    ax = new_axes(ax)
    ax.hist(r_arr, bins=30, color="C0", alpha=0.7,
            label=f"{r_arr.size} simulated data sets (mean {r_arr.mean():.3f})")  # fmt: skip
    ax.axvline(rho, color="C3", lw=2.5, label=f"ICC $\\tau^2/(\\tau^2+\\sigma^2)$ = {rho:.3f}")
    if observed is not None:
        ax.axvline(observed, color="k", ls="--", lw=2, label=f"HSB data: {observed:.3f}")
    ax.set_xlabel("correlation of two students in the same school")
    ax.set_ylabel("number of data sets")
    ax.set_title("Simulated within-school correlations centre on the ICC")
    ax.set_ylim(top=ax.get_ylim()[1] * 1.45)  # headroom for the legend
    ax.legend(loc="upper left", fontsize=11, framealpha=1)
    return ax


def plot_icc_limits(
    rng: np.random.Generator,
    iccs: ArrayLike = (0.01, 0.18, 0.95),
    total: float = 47.76,
    mu: float = 12.64,
    group_sizes: ArrayLike = (25,) * 20,
) -> NDArray:
    """One simulated data set per ICC, side by side, at a fixed total variance.

    Each panel draws from :func:`simulate_two_level` with :math:`\\tau^2 = \\rho\\,V`,
    :math:`\\sigma^2 = (1 - \\rho)\\,V` (``V = total``) and shows every observation and the
    group means, groups ordered by mean (:func:`hierlib.explore.plot_within_spread`).

    Returns
    -------
    ndarray of Axes, one per ICC.
    """
    import matplotlib.pyplot as plt  # lazy: only plotting needs matplotlib

    rhos = as_finite_1d(iccs, "iccs")
    if ((rhos < 0) | (rhos > 1)).any():
        raise ValueError(f"iccs must lie in [0, 1]; got {rhos}")
    v = nonnegative(total, "total")
    fig, axes = plt.subplots(1, rhos.size, figsize=(4.3 * rhos.size, 4.5), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, rho in zip(axes, rhos, strict=True):
        y, g = simulate_two_level(rng, group_sizes, mu, rho * v, (1 - rho) * v)
        plot_within_spread(y, g, ax=ax)
        ax.collections[0].set(sizes=[12], alpha=0.5)
        ax.get_legend().remove()
        ax.set_title(f"ICC = {rho:.2f}")
        ax.set_ylabel("simulated score (points)" if ax is axes[0] else "")
    fig.suptitle("ICC → 0: groups look alike; ICC → 1: members of a group look alike")
    fig.tight_layout()
    return axes


__all__ = [
    "BlockCompoundSymmetry",
    "icc",
    "marginal_cov",
    "marginal_loglik",
    "plot_correlation_check",
    "plot_covariance",
    "plot_icc_limits",
    "simulate_two_level",
    "within_group_correlation",
]
