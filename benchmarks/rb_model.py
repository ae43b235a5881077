"""The R&B model both mixed-model benchmarks time, written once (``bench_mixed.py`` and
``bench_peers.py``): its formula, the quantities whose ESS they report, and a data set with
10x the students.

The model (Raudenbush & Bryk, ch. 4; notebook 11): for student i of school j,

    mathach_ij = x_ij' beta + z_ij' b_j + e_ij,   b_j ~ N_2(0, Sigma),   e_ij ~ N(0, sigma^2),

x_ij = (1, sector, mses, cses, sector*cses, mses*cses), z_ij = (1, cses), under hierlib's
default prior: flat beta, p(sigma^2) ∝ 1/sigma^2, p(Sigma) ∝ 1 on the 2x2 covariance.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

FORMULA = "mathach ~ mses * cses + sector * cses"
RE_FORMULA = "~cses"
GROUPS = "school"


def quantities(fe: np.ndarray, cov_re: np.ndarray, fe_names, re_names) -> dict[str, np.ndarray]:
    """The scalars the benchmarks report, each a (chains, draws) array: every fixed effect
    (named as MixedLM names them) and the diagonal of Sigma (``"var <re name>"``).

    Parameters
    ----------
    fe : (chains, draws, p) array
    cov_re : (chains, draws, q, q) array
    fe_names, re_names : sequences of str, of lengths p and q
    """
    out = {name: np.asarray(fe[..., k]) for k, name in enumerate(fe_names)}
    for k, name in enumerate(re_names):
        out[f"var {name}"] = np.asarray(cov_re[..., k, k])
    return out


class Design(NamedTuple):
    """The R&B model's arrays: outcome, fixed- and random-effect columns, school index."""

    y: np.ndarray  # (n,)
    x: np.ndarray  # (n, p)
    z: np.ndarray  # (n, q)
    school: np.ndarray  # (n,) int: index into np.unique of the labels
    fe_names: list[str]  # as patsy (and so MixedLM) names them
    re_names: list[str]  # ["Intercept", "cses"]


def design(frame: pd.DataFrame) -> Design:
    """The arrays of the R&B model on ``frame`` (patsy, as ``MixedLM.from_formula`` builds them)."""
    import patsy

    y, x = patsy.dmatrices(FORMULA, frame, return_type="dataframe")
    z = patsy.dmatrix(RE_FORMULA, frame, return_type="dataframe")
    _, school = np.unique(frame[GROUPS].to_numpy(), return_inverse=True)
    return Design(
        y=y.to_numpy()[:, 0],
        x=x.to_numpy(),
        z=z.to_numpy(),
        school=school,
        fe_names=list(x.columns),
        re_names=list(z.columns),
    )


def simulated_more_students(frame: pd.DataFrame, k: int, seed: int) -> pd.DataFrame:
    """HSB with every school's students ``k`` times over, and new outcomes drawn from the R&B
    model at its REML estimates: the same 160 schools, ``mses`` and ``cses`` unchanged (the
    school mean of a replicated school is the same), ``k`` times the students.

    Each student gets its own e_ij and each school its own b_j ~ N(0, Sigma_hat), so the
    data are those the model describes, with k times the within-school information.
    """
    from hierlib import reml

    fit = reml.fit_mixed(FORMULA, frame, GROUPS, RE_FORMULA)
    big = pd.concat([frame] * k, ignore_index=True)
    d = design(big)
    rng = np.random.default_rng(seed)
    b = rng.multivariate_normal(np.zeros(2), np.asarray(fit.cov_re), size=d.school.max() + 1)
    e = rng.normal(0.0, np.sqrt(fit.scale), size=len(big))
    beta = fit.fe_params[d.fe_names].to_numpy()
    big["mathach"] = d.x @ beta + np.sum(d.z * b[d.school], axis=1) + e
    return big


def bulk_ess(draws: dict[str, np.ndarray]) -> dict[str, float]:
    """ArviZ's bulk ESS of each (chains, draws) array of :func:`quantities`."""
    import arviz as az

    table = az.ess(az.from_dict(posterior=draws), method="bulk")
    return {k: float(table[k]) for k in draws}


def hierlib_quantities(post) -> dict[str, np.ndarray]:
    """:func:`quantities` of a ``gibbs.mixed_model`` posterior."""
    d = post.draws
    return quantities(d["fe"], d["cov_re"], post.fe_names, post.re_names)
