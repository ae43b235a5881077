"""The design of a linear mixed model from formulas: the checks of ``formula``, ``data``,
``groups`` and ``re_formula``, the statsmodels ``MixedLM`` that builds :math:`X, Z, y`, and the
checks of that design (terms that cannot be estimated).

Shared by :func:`hierlib.reml.fit_mixed` (REML) and :func:`hierlib.data.mixed_stats` (the
sufficient statistics of the Gibbs sampler), so both accept and refuse the same models and
name the fixed effects alike. Private; statsmodels, patsy and scipy are imported by the
functions that need them.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from hierlib._validate import as_labels, at_least_groups, require_type, same_length


def _rms(a: NDArray) -> NDArray:
    """Root mean square of each column (1 for an all-zero column)."""
    r = np.sqrt(np.mean(np.square(a), axis=0))
    return np.where(r > 0, r, 1.0)


def _group_index(model) -> NDArray[np.int64]:
    """The position of each row's group in ``model.group_labels``."""
    idx = np.empty(model.endog.shape[0], dtype=np.int64)
    for k, g in enumerate(model.group_labels):
        idx[model.row_indices[g]] = k
    return idx


def _qr_pivoted(a: NDArray):
    from scipy.linalg import qr

    return qr(a, mode="economic", pivoting=True)


def _formula_names(formula: str, what: str) -> tuple[list[str], list[str]]:
    """The data columns named on the left and the right of ``formula`` (patsy syntax):
    bare names and ``Q("...")`` strings, not functions (``np.log``, ``C``, ``I``)."""
    import ast

    import patsy  # installed with statsmodels; imported here to keep hierlib.reml light

    try:
        desc = patsy.ModelDesc.from_formula(formula)
    except patsy.PatsyError as err:
        raise ValueError(f"{what} could not be parsed: {err}") from err

    def names(terms) -> list[str]:
        found: list[str] = []
        for term in terms:
            for factor in term.factors:
                code = getattr(factor, "code", None) or factor.name()
                try:
                    tree = ast.parse(code, mode="eval")
                except SyntaxError as err:
                    raise ValueError(f"{what}: {code!r} is not an expression") from err
                skip: set[int] = set()
                for node in ast.walk(tree):
                    if isinstance(node, ast.Call):
                        if isinstance(node.func, ast.Name) and node.func.id == "Q":
                            found += [a.value for a in node.args if isinstance(a, ast.Constant)
                                      and isinstance(a.value, str)]  # fmt: skip
                        skip |= {id(n) for n in ast.walk(node.func)}
                    elif isinstance(node, ast.Attribute):
                        skip |= {id(n) for n in ast.walk(node.value)}
                found += [n.id for n in ast.walk(tree)
                          if isinstance(n, ast.Name) and id(n) not in skip]  # fmt: skip
        return list(dict.fromkeys(found))

    return names(desc.lhs_termlist), names(desc.rhs_termlist)


def _mixed_inputs(formula, data, groups, re_formula) -> tuple[list[str], Any]:
    """Type and value checks of :func:`fit_mixed`'s arguments; returns the used columns and
    the groups to pass on (a column name, or the validated labels)."""
    require_type(data, pd.DataFrame, "data", "one row per observation", label="pandas DataFrame")
    require_type(formula, str, "formula", "such as 'mathach ~ ses'", label="string")
    require_type(re_formula, (str, type(None)), "re_formula", "such as '~cses'",
                 label="string or None")  # fmt: skip
    if "~" not in formula:
        raise ValueError(f"formula needs a '~' between the response and the predictors: "
                         f"{formula!r} (e.g. 'mathach ~ ses')")  # fmt: skip
    if len(data) == 0:
        raise ValueError("data has no rows")
    lhs, rhs = _formula_names(formula, "formula")
    if len(lhs) != 1:
        raise ValueError(f"formula needs one response on the left of '~'; got {lhs or 'none'}")
    re_lhs, re_rhs = _formula_names(re_formula, "re_formula") if re_formula else ([], [])
    if re_lhs:
        raise ValueError(f"re_formula has no response: write '~cses', not {re_formula!r}")
    used = list(dict.fromkeys([*lhs, *rhs, *re_rhs]))
    for where, names in (("formula", [*lhs, *rhs]), ("re_formula", re_rhs)):
        unknown = [c for c in names if c not in data.columns]
        if unknown:
            cols = ", ".join(map(str, list(data.columns)[:12]))
            raise ValueError(f"{where} uses {unknown[0]!r}, which is not a column of data "
                             f"(columns: {cols})")  # fmt: skip
    if isinstance(groups, str):
        if groups not in data.columns:
            raise ValueError(f"groups={groups!r} is not a column of data")
        labels = as_labels(data[groups].to_numpy(), f"groups (column {groups!r})")
        used.append(groups)
        passed: Any = groups
    else:
        labels = as_labels(groups)
        same_length(groups=labels, data=data)
        passed = labels
    at_least_groups(np.unique(labels).size, 2)
    response = data[lhs[0]]
    if not pd.api.types.is_numeric_dtype(response) or pd.api.types.is_bool_dtype(response):
        raise ValueError(f"the response {lhs[0]!r} must be numeric; got {response.dtype}")
    for col in dict.fromkeys(used):
        values = data[col]
        bad = values.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            with np.errstate(invalid="ignore"):
                bad = bad | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            raise ValueError(
                f"column {col!r} (used by the model) has {int(bad.sum())} missing or infinite "
                f"value(s), first in row {data.index[np.flatnonzero(bad)[0]]!r}; drop or fill "
                f"them first, e.g. data.dropna(subset={list(dict.fromkeys(used))})"
            )
    return list(dict.fromkeys(used)), passed


def _check_design(model, groups_name: str) -> None:
    """Refuse designs with no estimate: a constant or collinear fixed-effect term, a random
    slope of a variable constant within every group, too few rows, an exact fit."""
    X, Z = np.asarray(model.exog, dtype=np.float64), np.asarray(model.exog_re, dtype=np.float64)
    names, re_names = list(model.exog_names), list(model.data.exog_re_names)
    n, p = X.shape
    const = np.ptp(X, axis=0) == 0
    for j in np.flatnonzero(const):
        if (const.sum() > 1 or not X[0, j]) and names[j] != "Intercept":
            raise ValueError(
                f"the formula term {names[j]!r} is constant (every row is {X[0, j]:g}), so it "
                "cannot be told apart from the intercept: drop it from the formula"
            )
    scaled = X / _rms(X)
    _, r, piv = _qr_pivoted(scaled)
    rank = int(np.sum(np.abs(np.diag(r)) > 1e-10 * np.abs(r[0, 0]))) if r.size else 0
    if rank < p:
        dependent = [names[k] for k in piv[rank:]]
        raise ValueError(f"the formula terms are collinear: {dependent} are linear "
                         "combinations of the others; drop them")  # fmt: skip
    if n <= p:
        raise ValueError(f"data has {n} rows for {p} fixed effects: need more rows than "
                         "fixed effects")  # fmt: skip
    idx = _group_index(model)
    counts = np.bincount(idx)
    for k, name in enumerate(re_names):
        z = Z[:, k]
        if np.ptp(z) == 0:
            continue  # the random intercept (or a constant column: caught by the rank check)
        means = np.bincount(idx, weights=z) / counts
        within = np.bincount(idx, weights=(z - means[idx]) ** 2)
        if within.sum() <= 1e-12 * float(np.sum(z**2)):
            raise ValueError(
                f"re_formula: {name!r} does not vary within any group of {groups_name} (it "
                f"is constant in each), so a random slope of {name!r} cannot be estimated; a "
                "group-level variable belongs in the fixed part of the formula only"
            )
    if counts.max() <= Z.shape[1]:
        raise ValueError(
            f"every group of {groups_name} has at most {Z.shape[1]} row(s), as many as random "
            "effects per group: the residual variance cannot be told apart from the random "
            "effects; need a group with more rows"
        )
    zs = Z / _rms(Z)
    _, rz, pivz = _qr_pivoted(zs)
    rank_z = int(np.sum(np.abs(np.diag(rz)) > 1e-10 * np.abs(rz[0, 0])))
    if rank_z < Z.shape[1]:
        raise ValueError(f"re_formula: the random effects {[re_names[k] for k in pivz[rank_z:]]} "
                         "are linear combinations of the others; drop them")  # fmt: skip
    y = np.asarray(model.endog, dtype=np.float64)
    with np.errstate(all="ignore"):
        ys = y / _rms(y[:, None])[0]
        beta, *_ = np.linalg.lstsq(scaled, ys, rcond=None)
        rss = float(np.sum((ys - scaled @ beta) ** 2))
    if not rss > 1e-20 * max(1.0, float(np.sum(ys**2))):
        raise ValueError(
            f"the response {model.endog_names!r} is fitted exactly by the fixed effects "
            "(residual sum of squares 0): the variances cannot be estimated"
        )


def _build_mixedlm(formula: str, data: pd.DataFrame, groups, re_formula: str | None):
    import patsy
    from statsmodels.regression.mixed_linear_model import MixedLM

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # patsy/pandas deprecations
            return MixedLM.from_formula(formula, data, groups=groups, re_formula=re_formula)
    except (patsy.PatsyError, ValueError, TypeError, KeyError, NameError) as err:
        raise ValueError(f"formula/re_formula could not be turned into design matrices: "
                         f"{err}") from err  # fmt: skip
