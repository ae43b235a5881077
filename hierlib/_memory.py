"""One limit on the memory a call allocates, checked before anything is allocated.

Every call of hierlib that allocates in proportion to its arguments (the samplers' draws,
the exact pooling draws, the textbook sampler, an exact grid, the pointwise groups of
``Posterior.to_arviz``, PSIS-LOO) first estimates its peak allocation -- what it keeps
*and* its temporaries: each chain's work arrays, the copies a summary makes, a block of
the pointwise log-likelihood -- and refuses, with a ``ValueError`` that names the setting
and what to pass instead (``draws=``, ``thin=``, ``keep_theta=``, fewer chains), a call
whose estimate exceeds :data:`MAX_BYTES`. The estimates are upper bounds of what numpy
allocates (tests measure the peaks with ``tracemalloc``); they cost a few multiplications.

:data:`MAX_BYTES` is the public setting ``hierlib.gibbs.MAX_DRAWS_BYTES`` (2 GiB; set it
there if the machine has the memory). ``Posterior.to_arviz`` takes its own budget,
``max_bytes=`` (default :data:`MAX_POINTWISE_BYTES`), checked by the same function.

Private: imports no other hierlib module but the input checks.
"""

from __future__ import annotations

from hierlib._validate import positive

MAX_BYTES = 2 * 1024**3
"""Largest memory (bytes) one call may allocate (2 GiB): ``hierlib.gibbs.MAX_DRAWS_BYTES``."""

MAX_POINTWISE_BYTES = 256 * 2**20
"""Default budget of ``Posterior.to_arviz(max_bytes=)``'s pointwise groups (256 MiB)."""

SETTING = "hierlib.gibbs.MAX_DRAWS_BYTES"
"""Where a student changes :data:`MAX_BYTES`."""

ARRAY_OVERHEAD = 112
"""Bytes numpy allocates for an array besides its data (the object and its header)."""

CHAIN_OVERHEAD = 8192
"""Bytes a sampler's chain allocates besides its arrays' data: its generator and seed
sequence, its closure, state, thread future and array headers (measured: about 5 kB)."""


def size_text(n_bytes: float) -> str:
    """``n_bytes`` for a message: GiB from 0.1 GiB up, else MB."""
    if n_bytes >= 0.1 * 1024**3:
        return f"{n_bytes / 1024**3:.1f} GiB"
    return f"{n_bytes / 1e6:.1f} MB"


def budget(value: float, name: str = "max_bytes") -> float:
    """A memory budget given as an argument: a finite positive number of bytes, else a
    ``ValueError`` naming ``name`` (NaN, a negative number, text or ``True``)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a finite positive number of bytes; got {value!r}")
    return positive(value, name)


def check(
    need: float, what: str, instead: str, limit: float | None = None, setting: str = ""
) -> None:
    """Refuse (``ValueError``) a call whose estimated peak allocation ``need`` (bytes) is
    above ``limit`` (default :data:`MAX_BYTES`, named :data:`SETTING`; a caller's own budget
    names its argument, ``setting``). ``what`` says what needs the memory (with the counts
    that make it up), ``instead`` what to pass to need less."""
    cap = MAX_BYTES if limit is None else limit
    if need > cap:
        raise ValueError(
            f"{what} needs {size_text(need)}, above the limit of {size_text(cap)} "
            f"({setting or SETTING}): pass {instead}"
        )
