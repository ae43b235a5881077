"""Input checks shared by every hierlib module: bad input raises a ``ValueError`` that names it."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from numpy.typing import ArrayLike, NDArray


def as_finite_1d(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-d float array, or raise ``ValueError`` naming ``name``.

    Rejects: non-numeric entries, more than one dimension, an empty array, NaN and +-inf.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric; got entries that are not numbers") from err
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN or infinite value(s) (first at position {first})"
        )
    return arr


def as_labels(groups: ArrayLike, name: str = "groups") -> NDArray:
    """Return group labels as a 1-d array; reject missing labels and empty input."""
    arr = np.asarray(groups)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} has missing (NaN) labels")
    if arr.dtype.kind == "O" and any(g is None or g != g for g in arr):
        raise ValueError(f"{name} has missing (None/NaN) labels")
    return arr


def same_length(**arrays: Iterable) -> None:
    """Raise ``ValueError`` unless every named array has the same length."""
    lengths = {name: len(a) for name, a in arrays.items()}  # type: ignore[arg-type]
    if len(set(lengths.values())) > 1:
        desc = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise ValueError(f"lengths differ: {desc}")


def _as_float(value: float, name: str) -> float:
    """``float(value)``, or ``ValueError`` naming ``name`` when it is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be a number; got {value!r}") from err


def positive(value: float, name: str) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise ``ValueError``."""
    v = _as_float(value, name)
    if not np.isfinite(v) or v <= 0:
        raise ValueError(f"{name} must be a finite positive number; got {value!r}")
    return v


def positive_int(value: int, name: str, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def at_least_groups(m: int, k: int = 2) -> None:
    """Raise ``ValueError`` unless there are at least ``k`` groups (``m`` of them)."""
    if m < k:
        raise ValueError(f"need at least {k} groups; got {m}")


def finite_scalar(value: float, name: str) -> float:
    """Return ``value`` as a finite float, else raise ``ValueError`` naming ``name``."""
    v = _as_float(value, name)
    if not np.isfinite(v):
        raise ValueError(f"{name} must be finite; got {value!r}")
    return v


def nonnegative(value: float, name: str) -> float:
    """A variance component: a finite float >= 0, else ``ValueError`` naming ``name``."""
    v = finite_scalar(value, name)
    if v < 0:
        raise ValueError(f"{name} is a variance component and must be >= 0; got {v}")
    return v
