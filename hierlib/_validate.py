"""Input checks shared by every hierlib module: bad input raises an error that names it.

Conventions (CONTRIBUTING.md, "Input checks"): a bad *value* (NaN, empty, negative variance,
wrong length, improper prior for these data) raises ``ValueError``; the wrong *kind* of object
(a DataFrame where one column is expected, a dict where a ``GroupStats`` is expected, complex
numbers, ``None`` for a required array) raises ``TypeError``. Every message starts with or
contains the argument's name and says what to pass instead. Results that overflow or lose
every digit are refused by :func:`finite_result` instead of being returned as inf or NaN.

This module is the bottom of hierlib: it imports no other hierlib module, so every module may
import it. A check of a hierlib class lives next to the class and calls :func:`require_type`
(``hierlib.data.require_stats`` for a ``GroupStats``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _kind_name(value: Any) -> str:
    """``'DataFrame'``, ``'dict'``, ...: the type of ``value`` for an error message."""
    return type(value).__name__


def _reject_containers(values: Any, name: str, what: str) -> None:
    """``TypeError`` for objects that are not one array of values: None, a DataFrame, a
    mapping, a set, a string; ``what`` says what to pass instead."""
    if values is None:
        raise TypeError(f"{name} is required: pass {what}; got None")
    if _kind_name(values) == "DataFrame":
        cols = list(getattr(values, "columns", []))
        example = f"df[{cols[0]!r}]" if cols else "df['column']"
        raise TypeError(f"{name} must be {what}, not a DataFrame: pass one column, e.g. {example}")
    if isinstance(values, Mapping | set | frozenset | str | bytes):
        raise TypeError(f"{name} must be {what}; got a {_kind_name(values)}")


def as_real_array(values: ArrayLike, name: str, what: str = "an array of numbers") -> NDArray:
    """Return ``values`` as a float array of any shape, or raise naming ``name``: text
    (``ValueError``), complex numbers, None, a mapping (``TypeError``). NaN/inf pass."""
    _reject_containers(values, name, what)
    raw = np.asarray(values)
    kind = raw.dtype.kind
    if kind == "c" or (kind == "O" and any(isinstance(v, complex) for v in raw.ravel())):
        raise TypeError(f"{name} must hold real numbers; got complex values (take .real first?)")
    if kind in "US" or (kind == "O" and any(isinstance(v, str | bytes) for v in raw.ravel())):
        example = next((str(v) for v in raw.ravel() if isinstance(v, str | bytes)), None)
        got = "an empty array of text" if example is None else f"text such as {example!r}"
        raise ValueError(
            f"{name} must be numeric; got {got} (did you pass the group "
            f"labels as {name}? {name} holds the responses, groups the labels)"
        )
    try:
        return np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric; got entries that are not numbers") from err


def as_finite_1d(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """Return ``values`` as a 1-d float array, or raise naming ``name``.

    Rejects (``ValueError``): non-numeric entries (text, such as group labels passed where
    numbers belong), more than one dimension, an empty array, NaN and +-inf. Rejects
    (``TypeError``): None, a DataFrame, a mapping, complex numbers.
    """
    arr = as_real_array(values, name, "a 1-d array of numbers (or a pandas Series)")
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
    """Return group labels as a 1-d array; reject missing labels and empty input.

    Labels may be integers, floats, strings or a pandas Categorical (unused categories are
    ignored: only the labels present count), but one kind only: mixed kinds (``'a'`` and
    ``1``) cannot be sorted and raise ``TypeError``.
    """
    _reject_containers(groups, name, "one group label per observation (a 1-d array)")
    if isinstance(groups, list | tuple):  # numpy would turn ['a', 1] into ['a', '1'] silently
        _same_kind(np.asarray(groups, dtype=object), name)
    arr = np.asarray(groups)
    if arr.ndim == 0:
        raise TypeError(
            f"{name} must be one group label per observation (a 1-d array); got the single "
            f"value {groups!r}"
        )
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"{name} has missing (NaN) labels")
    if arr.dtype.kind == "O" and any(g is None or g != g for g in arr):
        raise ValueError(f"{name} has missing (None/NaN) labels")
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be labels (integers or strings); got complex numbers")
    if arr.dtype.kind == "O":
        _same_kind(arr, name)
        try:
            np.unique(arr)
        except TypeError as err:
            kinds_seen = sorted({_kind_name(g) for g in arr})
            raise TypeError(
                f"{name} holds labels that cannot be sorted ({kinds_seen}); use integers or strings"
            ) from err
    return arr


def _same_kind(arr: NDArray, name: str) -> None:
    """``TypeError`` if the labels in ``arr`` mix text and numbers."""
    kinds = {"text" if isinstance(g, str | bytes) else "number" for g in arr.ravel()}
    if len(kinds) > 1:
        raise TypeError(
            f"{name} mixes text and number labels (e.g. 'a' and 1), which cannot be "
            f"sorted; convert them to one kind, e.g. {name}=np.asarray({name}, dtype=str)"
        )


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


def probability(value: float, name: str = "prob") -> float:
    """An interval's probability: a float strictly between 0 and 1, else ``ValueError``
    naming ``name`` (``prob=1.5``, ``-0.5``, NaN and ``True`` are refused, as is text)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a probability strictly between 0 and 1; got {value!r}")
    v = _as_float(value, name)
    if not 0.0 < v < 1.0:
        raise ValueError(f"{name} must be a probability strictly between 0 and 1; got {value!r}")
    return v


def finite_result(value: Any, what: str, hint: str = "") -> Any:
    """Return ``value`` if every entry is finite, else raise ``ValueError`` saying ``what``
    overflowed (or lost every digit) and, if given, ``hint`` (what to do instead).

    Used where an intermediate result of valid input can still leave floating point (sums
    of squares of numbers near 1e160, differences of numbers near 1e308): better a clear
    error than an ANOVA table of NaN.
    """
    if not np.all(np.isfinite(np.asarray(value, dtype=np.float64))):
        tail = f"; {hint}" if hint else ""
        raise ValueError(f"{what} is not finite (overflow in floating point){tail}")
    return value


RESCALE_HINT = "rescale y (e.g. subtract its mean and divide by its sd) and transform back"
"""What :func:`finite_result` suggests when a computation on ``y`` overflows."""


def _type_label(cls: type) -> str:
    """``data.GroupStats``, ``matplotlib.axes.Axes``: a class as a reader imports it (the
    ``hierlib.`` prefix and private modules left out)."""
    parts = [p for p in cls.__module__.split(".") if not p.startswith("_")]
    return ".".join([*parts[parts[:1] == ["hierlib"] :], cls.__name__])


def require_type(
    value: Any,
    expected: type | tuple[type, ...],
    name: str,
    how: str = "",
    *,
    label: str | None = None,
) -> Any:
    """Return ``value`` if it is an instance of ``expected`` (a class, a tuple of classes or a
    runtime-checkable protocol such as :class:`HasDraws`), else a ``TypeError`` naming
    ``name``, the type expected (``label``, default the class as imported, e.g.
    ``data.GroupStats``) and (``how``) how to get one: the one wording of every wrong-kind
    error in hierlib."""
    if not isinstance(value, expected):
        types = expected if isinstance(expected, tuple) else (expected,)
        label = label or " or ".join(_type_label(t) for t in types)
        article = "an" if label[:1].lower() in "aeiou" else "a"
        tail = f" ({how})" if how else ""
        raise TypeError(f"{name} must be {article} {label}{tail}; got {_kind_name(value)}")
    return value


def require_mapping(value: Any, name: str, what: str) -> Mapping:
    """``value`` if it is a non-empty mapping, else a ``TypeError`` (not a mapping) or a
    ``ValueError`` (empty) naming ``name``; ``what`` says what to pass, e.g. ``"one posterior
    per prior, e.g. {'flat': post}"``."""
    require_type(value, Mapping, name, what, label="dict")
    if not value:
        raise ValueError(f"{name} is empty: give {what}")
    return value


@runtime_checkable
class HasDraws(Protocol):
    """What every posterior of the course has (``hierlib.gibbs.Posterior``, the exact
    posteriors of ``hierlib.exact``): a ``draws`` mapping of names to arrays."""

    draws: Mapping[str, Any]


def require_draws(post: Any, name: str = "post", keys: Iterable[str] = ()) -> Any:
    """``TypeError`` unless ``post`` is a sampler's posterior (:class:`HasDraws`: an object
    with a ``draws`` mapping), and ``ValueError`` naming the missing ``keys``."""
    require_type(post, HasDraws, name, _POSTERIOR_HOW, label="gibbs.Posterior")
    if not isinstance(post.draws, Mapping):
        raise TypeError(
            f"{name}.draws must be a mapping of names to draws; got {_kind_name(post.draws)}"
        )
    missing = [k for k in keys if k not in post.draws]
    if missing:
        raise ValueError(f"{name} has no draws of {', '.join(missing)}")
    return post


_POSTERIOR_HOW = "from gibbs.hierarchical_normal, gibbs.unequal_variances or hierlib.exact"


def spd_matrix(value: Any, name: str, size: int | None = None) -> NDArray[np.float64]:
    """``value`` as a symmetric positive-definite float matrix (``size`` x ``size`` if
    given), else ``ValueError`` naming ``name``: not square, NaN or infinite entries, not
    symmetric (to 1e-10 relative), or not positive definite (its Cholesky factor fails)."""
    arr = np.atleast_2d(as_real_array(value, name, "a square matrix"))
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"{name} must be a square matrix; got shape {arr.shape}")
    if size is not None and arr.shape[0] != size:
        raise ValueError(f"{name} must be {size} x {size}; got {arr.shape[0]} x {arr.shape[1]}")
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} has NaN or infinite entries")
    if not np.allclose(arr, arr.T, rtol=1e-10, atol=1e-12 * float(np.abs(arr).max())):
        raise ValueError(f"{name} must be symmetric")
    try:
        np.linalg.cholesky(arr)
    except np.linalg.LinAlgError as err:
        raise ValueError(f"{name} must be positive definite") from err
    return np.array((arr + arr.T) / 2, dtype=np.float64)
