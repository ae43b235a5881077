"""Simulation-based calibration (SBC): is a sampler drawing from the right posterior?

Talts, Betancourt, Simpson, Vehtari & Gelman (2018). If
:math:`\\tilde\\vartheta \\sim p(\\vartheta)` and :math:`\\tilde y \\sim p(y \\mid
\\tilde\\vartheta)`, then :math:`\\tilde\\vartheta` is a draw from the posterior
:math:`p(\\vartheta \\mid \\tilde y)`. So if :math:`\\vartheta_1, \\dots, \\vartheta_L` are
independent draws from a *correct* posterior sampler, the rank

.. math::
    r = \\#\\{\\ell : \\vartheta_\\ell < \\tilde\\vartheta\\} \\in \\{0, 1, \\dots, L\\}

is uniform on :math:`\\{0, \\dots, L\\}` over replications, for every scalar quantity.
A posterior that is too narrow gives a U-shaped rank histogram, one too wide a hump, one that
is shifted a slope. MCMC draws are autocorrelated, so the chain is thinned to :math:`L`
roughly independent draws first (autocorrelated draws also give a U shape).

Uniformity is tested with Pearson's chi-square over ``n_bins`` equal bins of ranks
(:math:`(L+1)` divisible by ``n_bins`` so each bin holds the same number of rank values):
:math:`X^2 = \\sum_b (O_b - R/B)^2 / (R/B)` on :math:`B-1` degrees of freedom, for
:math:`R` replications.

:func:`run_sbc` is generic: it takes the prior sampler, the simulator and the posterior
sampler as functions. :func:`gibbs_sbc` wires it to :mod:`hierlib.gibbs` for the course's
models of groups, :func:`mixed_sbc` to :func:`hierlib.gibbs.mixed_model` (covariates, random
intercepts and slopes); a quantity is a scalar, ``"theta[0]"`` or ``"cov_re[0,1]"``.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from hierlib import priors
from hierlib._validate import positive_int

__all__ = [
    "SBCResult",
    "rank_of",
    "thin",
    "chi2_uniformity",
    "run_sbc",
    "simulate_given_theta",
    "NORMAL_PRIOR",
    "UNEQUAL_PRIOR",
    "MODELS",
    "gibbs_sbc",
    "MIXED_PRIOR",
    "MIXED_FORMULA",
    "MIXED_QUANTITIES",
    "mixed_design",
    "simulate_mixed",
    "mixed_sbc",
]

_SELECTOR = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)(\[(?P<index>\d+(\s*,\s*\d+)*)\])?$")


def thin(draws: ArrayLike, n_keep: int) -> NDArray[np.float64]:
    """Keep ``n_keep`` equally spaced draws of a chain (or of chains laid end to end).

    Parameters
    ----------
    draws : array_like, shape (S,) or (chains, S_c)
        Posterior draws of one scalar; several chains are concatenated chain by chain.
    n_keep : int
        :math:`L \\le S`, the number of draws to keep: draws
        :math:`\\lfloor (\\ell + 1/2) S / L \\rfloor`, :math:`\\ell = 0..L-1`.
    """
    flat = np.asarray(draws, dtype=np.float64).reshape(-1)
    n_keep = positive_int(n_keep, "n_keep")
    if flat.size < n_keep:
        raise ValueError(f"cannot keep {n_keep} draws out of {flat.size}")
    idx = ((np.arange(n_keep) + 0.5) * flat.size / n_keep).astype(np.int64)
    return flat[idx]


def rank_of(truth: float, draws: ArrayLike) -> int:
    """Rank statistic :math:`r = \\#\\{\\ell : \\vartheta_\\ell < \\tilde\\vartheta\\}`.

    Ties have probability zero for the continuous quantities of the course's models (a
    discrete quantity would need ties broken at random, which this does not do).
    """
    d = np.asarray(draws, dtype=np.float64)
    t = float(truth)
    if not np.isfinite(t):
        raise ValueError(f"the true value must be finite; got {truth!r}")
    if not np.isfinite(d).all():
        raise ValueError("posterior draws contain NaN or infinite values")
    return int(np.count_nonzero(d < t))


def chi2_uniformity(ranks: ArrayLike, n_posterior: int, n_bins: int = 10) -> tuple[float, float]:
    """Pearson chi-square test that ranks in :math:`\\{0..L\\}` are uniform.

    Parameters
    ----------
    ranks : array_like of int
        One rank per replication, each in ``0..n_posterior``.
    n_posterior : int
        :math:`L`, the number of posterior draws each rank was taken against.
    n_bins : int, default 10
        :math:`B`; :math:`L + 1` must be a multiple of :math:`B`.

    Returns
    -------
    (statistic, p_value) : tuple of float
        :math:`X^2` on :math:`B - 1` degrees of freedom and its upper-tail p-value.
    """
    r = np.asarray(ranks)
    n_posterior = positive_int(n_posterior, "n_posterior")
    n_bins = positive_int(n_bins, "n_bins", minimum=2)
    if (n_posterior + 1) % n_bins:
        raise ValueError(
            f"n_posterior + 1 = {n_posterior + 1} is not a multiple of n_bins = {n_bins}: "
            "the bins would hold different numbers of rank values"
        )
    if r.size == 0 or r.dtype.kind not in "iu" or r.min() < 0 or r.max() > n_posterior:
        raise ValueError(f"ranks must be integers in 0..{n_posterior}")
    counts = bin_counts(r, n_posterior, n_bins)
    res = stats.chisquare(counts)
    return float(res.statistic), float(res.pvalue)


def bin_counts(ranks: ArrayLike, n_posterior: int, n_bins: int) -> NDArray[np.int64]:
    """Counts of ranks in ``n_bins`` equal bins of :math:`\\{0..L\\}`.

    Raises ``ValueError`` for ranks that are not whole numbers in ``0..n_posterior``.
    """
    n_posterior = positive_int(n_posterior, "n_posterior")
    n_bins = positive_int(n_bins, "n_bins")
    raw = np.asarray(ranks)
    if raw.ndim != 1 or raw.size == 0:
        raise ValueError(f"ranks must be a non-empty 1-d array; got shape {raw.shape}")
    if raw.dtype.kind not in "iu" and not (
        raw.dtype.kind == "f" and np.isfinite(raw).all() and (raw == np.round(raw)).all()
    ):
        raise ValueError("ranks must be whole numbers")
    r = raw.astype(np.int64)
    if r.min() < 0 or r.max() > n_posterior:
        raise ValueError(
            f"ranks must lie in 0..{n_posterior} (n_posterior); got {r.min()}..{r.max()}"
        )
    return np.bincount(r * n_bins // (n_posterior + 1), minlength=n_bins)


@dataclass(frozen=True)
class SBCResult:
    """Ranks from :func:`run_sbc` and their uniformity tests.

    Attributes
    ----------
    ranks : pandas.DataFrame
        One row per replication, one integer column per quantity (ranks in ``0..L``).
    n_posterior : int
        :math:`L`, thinned posterior draws per replication.
    n_bins : int
        Bins of the chi-square test.
    seconds : float
        Wall time of the whole run.
    thinned_ess : pandas.DataFrame
        Bulk ESS of the :math:`L` thinned draws per replication and quantity (NaN if not
        computed); well below :math:`L` means the thinning was not enough.
    """

    ranks: pd.DataFrame
    n_posterior: int
    n_bins: int
    seconds: float
    thinned_ess: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def n_reps(self) -> int:
        """Number of replications."""
        return len(self.ranks)

    def test(self) -> pd.DataFrame:
        """Chi-square uniformity test per quantity.

        Returns
        -------
        pandas.DataFrame
            Indexed by quantity: ``chi2``, ``df``, ``p_value``, the smallest and largest bin
            count next to the expected count, and the median thinned ESS as a fraction of
            :math:`L` (1 means independent draws).
        """
        rows = {}
        for name in self.ranks.columns:
            r = self.ranks[name].to_numpy()
            chi2, p = chi2_uniformity(r, self.n_posterior, self.n_bins)
            counts = bin_counts(r, self.n_posterior, self.n_bins)
            ess = self.thinned_ess[name] if name in self.thinned_ess else pd.Series([np.nan])
            rows[name] = {
                "chi2": chi2,
                "df": self.n_bins - 1,
                "p_value": p,
                "min_bin": int(counts.min()),
                "max_bin": int(counts.max()),
                "expected": self.n_reps / self.n_bins,
                "ess_over_L": float(np.nanmedian(ess)) / self.n_posterior
                if np.isfinite(ess).any()
                else np.nan,
            }
        return pd.DataFrame.from_dict(rows, orient="index")

    def plot(self, columns: Sequence[str] | None = None, *, band: float = 0.99) -> np.ndarray:
        """Rank histograms, one panel per quantity, with the ``band`` interval of a bin count
        under uniformity (Binomial(R, 1/B)) shaded: bars outside it are suspicious.

        Returns the array of axes.
        """
        names = list(self.ranks.columns if columns is None else columns)
        fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.4), squeeze=False)
        lo, hi = stats.binom.interval(band, self.n_reps, 1.0 / self.n_bins)
        width = (self.n_posterior + 1) / self.n_bins
        edges = np.arange(self.n_bins) * width
        table = self.test()
        for ax, name in zip(axes[0], names, strict=True):
            counts = bin_counts(self.ranks[name].to_numpy(), self.n_posterior, self.n_bins)
            ax.axhspan(lo, hi, color="grey", alpha=0.25, label=f"{band:.0%} band if uniform")
            ax.bar(edges, counts, width=width, align="edge", edgecolor="white")
            ax.set_xlabel(f"rank of true value among L = {self.n_posterior}")
            ax.set_ylabel("replications")
            ax.set_title(f"{name}: p = {table.loc[name, 'p_value']:.2f}")
        axes[0, 0].legend(loc="lower left", fontsize=9)
        fig.tight_layout()
        return axes[0]


def _parse(selector: str) -> tuple[str, tuple[int, ...] | None]:
    """``"mu"`` -> ("mu", None), ``"theta[0]"`` -> ("theta", (0,)), ``"cov_re[0,1]"`` ->
    ("cov_re", (0, 1))."""
    match = _SELECTOR.match(selector)
    if match is None:
        raise ValueError(
            f"quantity {selector!r} is not of the form 'name', 'name[index]' or 'name[i,j]'"
        )
    index = match.group("index")
    return match.group("name"), None if index is None else tuple(int(i) for i in index.split(","))


def _pick(values: Any, name: str, index: tuple[int, ...] | None, what: str, scalar: bool) -> Any:
    """The element ``name[index]`` of a prior draw (``scalar``) or, over the last axes, of
    posterior draws."""
    if name not in values:
        raise ValueError(f"{what} has no {name!r}; it has {sorted(values)}")
    arr = np.asarray(values[name], dtype=np.float64)
    if index is None:
        if scalar and arr.size != 1:
            example = f"{name}[{', '.join('0' * arr.ndim)}]".replace(" ", "")
            raise ValueError(f"{what}: {name!r} is not a scalar; name one element, e.g. "
                             f"'{example}'")  # fmt: skip
        return float(arr.reshape(-1)[0]) if scalar else arr
    written = ",".join(map(str, index))
    if arr.ndim == 0 or (scalar and arr.ndim != len(index)) or arr.ndim < len(index):
        if arr.ndim == 0:
            raise ValueError(f"{what}: {name!r} is a scalar; drop the index [{written}]")
        raise ValueError(f"{what}: {name!r} needs {arr.ndim} indices, not [{written}]")
    shape = arr.shape[-len(index) :]
    if any(i >= size for i, size in zip(index, shape, strict=True)):
        has = f"{shape[0]} elements" if len(shape) == 1 else f"shape {shape}"
        raise ValueError(f"{what}: {name}[{written}] does not exist ({name} has {has})")
    return float(arr[index]) if scalar else arr[(Ellipsis, *index)]


def run_sbc(
    sample_prior: Callable[[np.random.Generator], Mapping[str, Any]],
    simulate: Callable[[np.random.Generator, Mapping[str, Any]], Any],
    fit: Callable[[Any, int], Mapping[str, ArrayLike]],
    quantities: Sequence[str],
    *,
    n_reps: int = 200,
    n_posterior: int = 99,
    n_bins: int = 10,
    seed: int = 0,
    check_ess: bool = False,
) -> SBCResult:
    """Run simulation-based calibration.

    For replication :math:`r = 1..R` (each with its own stream spawned from
    ``numpy.random.SeedSequence(seed)``):

    1. ``params = sample_prior(rng)`` -- a draw :math:`\\tilde\\vartheta` from the proper prior;
    2. ``data = simulate(rng, params)`` -- :math:`\\tilde y \\sim p(y \\mid \\tilde\\vartheta)`;
    3. ``draws = fit(data, fit_seed)`` -- posterior draws; ``fit_seed`` is an integer
       from the replication's stream;
    4. for each quantity, thin its draws to :math:`L` (:func:`thin`) and record
       :func:`rank_of` the true value among them.

    Parameters
    ----------
    sample_prior, simulate, fit : callables
        As above. ``fit`` returns ``{name: draws}`` with draws of shape ``(S,)``,
        ``(chains, draws)`` or ``(chains, draws, k)`` for a vector quantity.
    quantities : sequence of str
        Scalars to check: ``"mu"`` or an element of a vector, ``"theta[0]"``; each name must
        be a key of both the prior draw and the posterior draws.
    n_reps : int, default 200
        :math:`R`.
    n_posterior : int, default 99
        :math:`L`; the sampler must return at least this many draws. Thin the chain
        enough that the :math:`L` kept draws are roughly independent.
    n_bins : int, default 10
        Chi-square bins (:math:`L + 1` a multiple of it).
    seed : int, default 0
    check_ess : bool, default False
        Also record the bulk ESS (ArviZ) of the thinned draws (costs about a millisecond
        per replication and quantity).

    Returns
    -------
    SBCResult
    """
    n_reps = positive_int(n_reps, "n_reps", minimum=2)
    n_posterior = positive_int(n_posterior, "n_posterior")
    n_bins = positive_int(n_bins, "n_bins", minimum=2)
    if (n_posterior + 1) % n_bins:
        raise ValueError(f"n_posterior + 1 = {n_posterior + 1} must be a multiple of n_bins")
    if isinstance(quantities, str) or not quantities:
        raise ValueError("quantities must be a non-empty list of names such as ['mu', 'theta[0]']")
    parsed = {q: _parse(q) for q in quantities}
    start = time.perf_counter()
    ranks = np.empty((n_reps, len(parsed)), dtype=np.int64)
    ess = np.full((n_reps, len(parsed)), np.nan)
    for r, child in enumerate(np.random.SeedSequence(seed).spawn(n_reps)):
        rng = np.random.default_rng(child)
        params = sample_prior(rng)
        data = simulate(rng, params)
        fit_seed = int(rng.integers(2**31 - 1))
        draws = fit(data, fit_seed)
        for k, (name, index) in enumerate(parsed.values()):
            truth = _pick(params, name, index, "the prior draw", scalar=True)
            kept = thin(_pick(draws, name, index, "the posterior draws", scalar=False), n_posterior)
            ranks[r, k] = rank_of(truth, kept)
            if check_ess:
                ess[r, k] = _ess(kept)
    seconds = time.perf_counter() - start
    columns = list(parsed)
    return SBCResult(
        ranks=pd.DataFrame(ranks, columns=columns),
        n_posterior=n_posterior,
        n_bins=n_bins,
        seconds=seconds,
        thinned_ess=pd.DataFrame(ess, columns=columns) if check_ess else pd.DataFrame(),
    )


def _ess(kept: NDArray[np.float64]) -> float:
    from hierlib._arviz import az

    return float(az.ess(kept[np.newaxis, :], method="bulk"))


# ------------------------------------------------------------------ the course's models
NORMAL_PRIOR = priors.SemiConjugate(mu0=0, g20=4, eta0=4, t20=1, nu0=4, s20=1)
"""Proper prior for SBC of model 1: mu ~ N(0, 4), 1/tau2 ~ Gamma(2, 2), 1/sigma2 ~ Gamma(2, 2).
On groups of 3-10 observations its draws give a mix of regimes: data sometimes informative
about each theta_j (the offset form mixes badly), sometimes not (the centered form does)."""

UNEQUAL_PRIOR = priors.UnequalVariances(mu0=0, g20=4, eta0=4, t20=1, a=4, b=4)
"""Proper prior for SBC of model 2: as :data:`NORMAL_PRIOR` for mu and tau2,
sigma02 ~ Gamma(2, rate 2), and the lecture's nu0 ~ Gamma(2, rate 1/2)."""


def simulate_given_theta(
    rng: np.random.Generator, group_sizes: ArrayLike, theta: ArrayLike, sigma2: float | ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Draw :math:`Y_{ij} \\sim N(\\theta_j, \\sigma_j^2)` for given group means.

    The prior draw fixes :math:`\\theta` (its rank is checked too), so the data are
    :func:`hierlib.marginal.simulate_two_level` with :math:`\\mu = 0, \\tau^2 = 0`, shifted by
    :math:`\\theta_j`.
    """
    from hierlib.marginal import simulate_two_level

    th = np.asarray(theta, dtype=np.float64)
    noise, groups = simulate_two_level(rng, group_sizes, 0.0, 0.0, sigma2)
    return th[groups] + noise, groups


MODELS = {
    "hierarchical_normal": ("sigma2", ("mu", "tau2", "sigma2", "theta[0]")),
    "unequal_variances": ("sigma2_j", ("mu", "tau2", "nu0", "sigma02", "theta[0]", "sigma2_j[0]")),
}
"""Each course model: the key of its within-group variance in a prior draw, and the
quantities SBC checks by default."""


def _check_quantities(model: str, quantities: Sequence[str], m: int) -> None:
    """``ValueError`` before any sampling for a quantity the model does not have: a name
    outside its parameters, an index on a scalar, or an index beyond the m groups."""
    if isinstance(quantities, str) or not quantities:
        raise ValueError("quantities must be a non-empty list of names such as ['mu', 'theta[0]']")
    parsed = [_parse(q) for q in MODELS[model][1]]  # the model's quantities, as SBC knows them
    scalars = {name for name, index in parsed if index is None}
    vectors = {name for name, index in parsed if index is not None}
    for q in quantities:
        name, index = _parse(q)
        if name in scalars and index is None or name in vectors and index and len(index) == 1:
            if index is not None and index[0] >= m:
                raise ValueError(
                    f"quantity {q!r} does not exist: there are {m} groups (indices 0..{m - 1})"
                )
            continue
        known = sorted(scalars) + [f"{v}[j]" for v in sorted(vectors)]
        raise ValueError(f"quantity {q!r} is not a quantity of {model}; choose from {known}")


def _group_sizes(group_sizes: ArrayLike) -> NDArray[np.int64]:
    sizes = np.asarray(group_sizes)
    if sizes.ndim != 1 or sizes.size < 2 or sizes.dtype.kind not in "iu" or (sizes < 1).any():
        raise ValueError("group_sizes must list at least two positive integer group sizes")
    return sizes


def _draws_per_chain(n_posterior: int, thin_by: int, n_chains: int) -> int:
    """Draws per chain so that the chains hold at least ``n_posterior * thin_by`` in all."""
    total = positive_int(n_posterior, "n_posterior") * positive_int(thin_by, "thin_by")
    return -(-total // positive_int(n_chains, "n_chains"))


def gibbs_sbc(
    model: str = "hierarchical_normal",
    prior: Any | None = None,
    *,
    parameterization: str = "centered",
    group_sizes: ArrayLike = (3, 4, 5, 6, 8, 10),
    n_reps: int = 200,
    n_posterior: int = 99,
    n_bins: int = 10,
    thin_by: int = 5,
    n_warmup: int = 500,
    n_chains: int = 1,
    seed: int = 0,
    quantities: Sequence[str] | None = None,
    check_ess: bool = False,
    sampler: Callable[..., Any] | None = None,
) -> SBCResult:
    """SBC of a course Gibbs sampler on small simulated data sets.

    Each replication draws every parameter, :math:`\\theta` included, from the proper
    ``prior`` (``prior.sample(rng, m)``), simulates :math:`Y_{ij} \\sim N(\\theta_j,
    \\sigma_j^2)` (:func:`simulate_given_theta`) with the given ``group_sizes``, runs the
    sampler for ``n_posterior * thin_by`` draws in all after ``n_warmup`` warm-up sweeps per
    chain, and ranks the truth among ``n_posterior`` draws thinned by ``thin_by``
    (:func:`run_sbc`).

    Parameters
    ----------
    model : {"hierarchical_normal", "unequal_variances"}
        The sampler of :mod:`hierlib.gibbs` to check.
    prior : proper prior, optional
        Default :data:`NORMAL_PRIOR` or :data:`UNEQUAL_PRIOR`.
    parameterization : {"centered", "offset", "interweaved"}
        Model 1 only. The offset form needs a much larger ``thin_by`` (it mixes slowly when
        the data are informative); check with ``check_ess=True``.
    quantities : sequence of str, optional
        Default: ``mu, tau2, sigma2, theta[0]`` (model 1) or ``mu, tau2, nu0, sigma02,
        theta[0], sigma2_j[0]`` (model 2).
    sampler : callable, optional
        Replaces the :mod:`hierlib.gibbs` function (same signature), e.g. to show that SBC
        rejects a deliberately broken sampler.
    group_sizes, n_reps, n_posterior, n_bins, thin_by, n_warmup, n_chains, seed, check_ess
        As in :func:`run_sbc`; ``n_chains`` chains share the ``n_posterior * thin_by`` draws.
    """
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}; got {model!r}")
    variance_key, default_quantities = MODELS[model]
    if prior is None:
        prior = NORMAL_PRIOR if model == "hierarchical_normal" else UNEQUAL_PRIOR
    if not (hasattr(prior, "sample") and hasattr(prior, "proper")):
        raise TypeError(
            f"prior must be a proper prior of hierlib.priors for model {model!r} (SBC draws "
            f"from it); got {type(prior).__name__}"
        )
    if not prior.proper:
        raise ValueError(f"prior {prior!r} is improper: SBC needs a proper prior to draw from")
    if sampler is None:
        from hierlib import gibbs

        sampler = getattr(gibbs, model)
    extra = {"parameterization": parameterization} if model == "hierarchical_normal" else {}
    sizes = _group_sizes(group_sizes)
    n_draws = _draws_per_chain(n_posterior, thin_by, n_chains)
    _check_quantities(model, default_quantities if quantities is None else quantities, sizes.size)
    trial = prior.sample(np.random.default_rng(0), m=sizes.size)
    if variance_key not in trial or "theta" not in trial:
        raise ValueError(
            f"prior {type(prior).__name__} draws no {variance_key!r}: it is not a prior of "
            f"model {model!r}"
        )

    def sample_prior(rng: np.random.Generator) -> dict:
        return dict(prior.sample(rng, m=sizes.size))

    def simulate(rng: np.random.Generator, p: Mapping[str, Any]) -> tuple:
        return simulate_given_theta(rng, sizes, p["theta"], p[variance_key])

    def fit(data: tuple, fit_seed: int) -> Mapping[str, ArrayLike]:
        y, groups = data
        post = sampler(
            y,
            groups,
            prior=prior,
            n_draws=n_draws,
            n_warmup=n_warmup,
            n_chains=n_chains,
            seed=fit_seed,
            **extra,
        )
        return post.draws

    return run_sbc(
        sample_prior,
        simulate,
        fit,
        default_quantities if quantities is None else quantities,
        n_reps=n_reps,
        n_posterior=n_posterior,
        n_bins=n_bins,
        seed=seed,
        check_ess=check_ess,
    )


# ------------------------------------------------------------------ the mixed model
MIXED_PRIOR = priors.MixedProper(
    beta_mean=np.zeros(3),
    beta_cov=np.diag([4.0, 1.0, 1.0]),
    nu0=4.0,
    sigma02=1.0,
    cov_re=priors.InverseWishart(df=6.0, scale=np.diag([3.0, 0.75])),
)
"""Proper prior for SBC of :func:`hierlib.gibbs.mixed_model` on :data:`MIXED_FORMULA` (p = 3,
q = 2): beta ~ N(0, diag(4, 1, 1)), 1/sigma2 ~ Gamma(2, rate 2), Sigma ~ IW(6, diag(3, 0.75)),
whose mean is diag(1, 0.25) (intercept sd 1, slope sd 0.5) and whose correlation ranges over
(-1, 1) (its 5% and 95% quantiles: -0.66 and 0.67)."""

MIXED_FORMULA = ("y ~ w + x", "~x")
"""The model SBC checks: a school-level predictor ``w`` and a student-level ``x`` in the fixed
part, a random intercept and a random slope of ``x``."""

MIXED_QUANTITIES = (
    "fe[0]", "fe[1]", "fe[2]", "cov_re[0,0]", "cov_re[1,1]", "cov_re[0,1]", "sigma2", "b[0,1]",
)  # fmt: skip
"""Every fixed effect, Sigma's diagonal and off-diagonal, sigma2, and the first school's slope."""


def mixed_design(group_sizes: ArrayLike, seed: int = 0) -> pd.DataFrame:
    """The covariates of SBC's simulated schools (fixed over the replications): ``school``,
    a school-level ``w`` ~ N(0, 1) and a student-level ``x`` ~ N(c_j, 1) whose school mean
    c_j ~ N(0, 0.5^2) is not zero, so that intercepts and slopes are correlated a posteriori
    and, with ``w`` in the fixed part, the fixed effects with the b_j."""
    sizes = _group_sizes(group_sizes)
    rng = np.random.default_rng(seed)
    school = np.repeat(np.arange(sizes.size), sizes)
    w, centre = rng.standard_normal(sizes.size), 0.5 * rng.standard_normal(sizes.size)
    x = centre[school] + rng.standard_normal(school.size)
    return pd.DataFrame({"school": school, "w": w[school], "x": x})


def simulate_mixed(
    rng: np.random.Generator, design: pd.DataFrame, params: Mapping[str, Any]
) -> NDArray[np.float64]:
    """:math:`y_{ij} = x_{ij}^T\\beta + z_{ij}^T b_j + e_{ij}`, :math:`e_{ij} \\sim N(0,
    \\sigma^2)`, with :math:`x_{ij} = (1, w_j, x_{ij})`, :math:`z_{ij} = (1, x_{ij})` and the
    prior draw's ``fe``, ``b`` (m, q) and ``sigma2``."""
    n = len(design)
    x = np.column_stack([np.ones(n), design["w"], design["x"]])
    z = np.column_stack([np.ones(n), design["x"]])
    b = np.asarray(params["b"])[design["school"].to_numpy()]
    noise = math.sqrt(float(params["sigma2"])) * rng.standard_normal(n)
    return x @ np.asarray(params["fe"]) + np.sum(z * b, axis=1) + noise


def mixed_sbc(
    prior: Any | None = None,
    *,
    parameterization: str = "collapsed",
    group_sizes: ArrayLike = (4, 5, 6, 6, 7, 8, 8, 9, 10, 12, 14, 16),
    n_reps: int = 200,
    n_posterior: int = 99,
    n_bins: int = 10,
    thin_by: int = 5,
    n_warmup: int = 300,
    n_chains: int = 1,
    seed: int = 0,
    quantities: Sequence[str] | None = None,
    check_ess: bool = False,
    sampler: Callable[..., Any] | None = None,
) -> SBCResult:
    """SBC of :func:`hierlib.gibbs.mixed_model` on small simulated data sets.

    Each replication draws :math:`\\beta, \\sigma^2, \\Sigma` and the m schools'
    :math:`b_j \\sim N(0, \\Sigma)` from the proper ``prior`` (``prior.sample(rng, p, q,
    m)``), simulates the students' :math:`y` on the fixed covariates of
    :func:`mixed_design` (:func:`simulate_mixed`), fits :data:`MIXED_FORMULA` by the sampler
    for ``n_posterior * thin_by`` draws after ``n_warmup`` warm-up sweeps per chain, and ranks
    the truth among ``n_posterior`` draws thinned by ``thin_by`` (:func:`run_sbc`).

    Parameters
    ----------
    prior : priors.MixedProper, optional
        Default :data:`MIXED_PRIOR`; for p = 3 fixed and q = 2 random effects.
    parameterization : {"collapsed", "interweaved", "blocked"}
        Passed to the sampler (default its default, ``"collapsed"``).
    group_sizes : sequence of int
        Students per school (default: 12 schools of 4 to 16, 105 students).
    quantities : sequence of str, optional
        Default :data:`MIXED_QUANTITIES`; any element of ``fe`` (p,), ``cov_re`` (q, q),
        ``b`` (m, q) or ``sigma2``, e.g. ``"cov_re[0,1]"``.
    sampler : callable, optional
        Replaces :func:`hierlib.gibbs.mixed_model` (same signature), e.g. a deliberately
        broken one.
    n_reps, n_posterior, n_bins, thin_by, n_warmup, n_chains, seed, check_ess
        As in :func:`gibbs_sbc`.
    """
    if prior is None:
        prior = MIXED_PRIOR
    if not isinstance(prior, priors.MixedProper):
        raise TypeError(
            "prior must be a priors.MixedProper (SBC draws from it: a proper prior); got "
            f"{type(prior).__name__}"
        )
    design = mixed_design(group_sizes)
    m = int(design["school"].max()) + 1
    p, q = 3, 2
    prior.check_sizes(p, q)
    n_draws = _draws_per_chain(n_posterior, thin_by, n_chains)
    chosen = list(MIXED_QUANTITIES if quantities is None else quantities)
    if isinstance(quantities, str) or not chosen:
        raise ValueError("quantities must be a non-empty list of names such as ['fe[0]', 'sigma2']")
    trial = _mixed_prior_draw(prior, np.random.default_rng(0), p, q, m)
    for name, index in map(_parse, chosen):  # a bad quantity is named before any sampling
        _pick(trial, name, index, "the mixed model", scalar=True)
    if sampler is None:
        from hierlib import gibbs

        sampler = gibbs.mixed_model
    formula, re_formula = MIXED_FORMULA

    def fit(y: NDArray[np.float64], fit_seed: int) -> Mapping[str, ArrayLike]:
        post = sampler(
            formula, design.assign(y=y), groups="school", re_formula=re_formula, prior=prior,
            n_draws=n_draws, n_warmup=n_warmup, n_chains=n_chains, seed=fit_seed,
            parameterization=parameterization,
        )  # fmt: skip
        return post.draws

    return run_sbc(
        lambda rng: _mixed_prior_draw(prior, rng, p, q, m),
        lambda rng, params: simulate_mixed(rng, design, params),
        fit,
        chosen,
        n_reps=n_reps,
        n_posterior=n_posterior,
        n_bins=n_bins,
        seed=seed,
        check_ess=check_ess,
    )


def _mixed_prior_draw(prior, rng: np.random.Generator, p: int, q: int, m: int) -> dict:
    """A prior draw under the names of the sampler's draws (``fe`` for beta)."""
    draw = dict(prior.sample(rng, p, q, m))
    draw["fe"] = draw.pop("beta")
    return draw
