"""The chain machinery every sampler shares, written once.

- **Streams.** Chain ``c`` draws from ``numpy.random.default_rng(child_c)``, ``child_c`` the
  ``c``-th of ``SeedSequence(seed).spawn(n_chains)`` (:func:`chain_rngs`): the same seed gives
  bit-identical draws, and each chain's draws depend on its own stream only.
- **Threads.** :func:`run_chains` runs the chains on ``cores`` threads (:func:`n_workers`,
  default :func:`available_cores`); the compiled sweeps release the GIL (numba
  ``nogil=True``) and each thread drives its own chain with its own ``Generator`` (numba reads
  and advances that generator's state directly, without numpy's lock, which is safe because
  no other thread touches it), so the draws are those of a sequential run (``cores=1``).
  ``engine="numpy"`` runs its chains one after the other.
- **Warm-up, then sampling, in chunks** of :data:`CHUNK` sweeps (:func:`run_chunks`): a
  sweep called with ``start < 0`` keeps nothing; the progress bar (tqdm on stderr,
  :func:`progress_options`) moves after each chunk, and a failing chain stops the others
  at their next chunk.
- **Memory guard.** :func:`check_memory` refuses, before anything is allocated, a run whose
  kept draws and the chains' work arrays together would exceed the one memory limit of
  :mod:`hierlib._memory` (``hierlib.gibbs.MAX_DRAWS_BYTES``).
- **After the run.** :func:`guarded` turns a kernel's bounded-loop error into a message that
  names the sampler and what to do; :func:`check_finite` refuses draws that left floating
  point; :func:`moments` turns the running sums into means and sds.

Private: :mod:`hierlib.gibbs` is the public face (``gibbs.MAX_DRAWS_BYTES``,
``gibbs.PROGRESS_DELAY`` and ``gibbs.available_cores`` are these). How a model uses this
module: :mod:`hierlib.samplers`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait

import numpy as np
from numpy.typing import NDArray
from tqdm import tqdm

from hierlib import _memory
from hierlib._validate import RESCALE_HINT, positive_int

CHUNK = 1000  # sweeps per kernel call (progress-bar granularity)

ENGINES = ("numba", "numpy")
"""``engine=``: the compiled sweeps, or the textbook numpy loop (sequential chains)."""

SHARED_WORK = 32
"""Arrays of one value per group a run allocates once, whatever its chains: the summed
moments, the posterior means and sds, and the numpy engine's temporaries of one sweep."""

RUN_OVERHEAD = 2**16
"""Bytes a run allocates whatever its size: the progress bar, the posterior object, the
sweep's compiled dispatch."""

FINITE_BLOCK = 2**20
"""Values :func:`check_finite` looks at a time (its temporary: one byte per value)."""

PROGRESS_DELAY = 2.0
"""Seconds a run lasts before ``progress=None`` shows its bar."""


# ----------------------------------------------------------------------- run arguments
def check_run(n_draws, n_warmup, n_chains, seed, progress, engine) -> None:
    """The run arguments every sampler takes: counts, seed, progress and engine (``ValueError``
    naming the bad one)."""
    positive_int(n_draws, "n_draws")
    positive_int(n_warmup, "n_warmup", minimum=0)
    positive_int(n_chains, "n_chains")
    positive_int(seed, "seed", minimum=0)
    if progress is not None and not isinstance(progress, bool | np.bool_):
        raise ValueError(f"progress must be True, False or None; got {progress!r}")
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'numba' or 'numpy'; got {engine!r}")


def n_workers(cores: int | None, n_chains: int, engine: str) -> int:
    """Threads to run the chains on: ``cores`` (``None``: every core this process may use),
    at most one per chain; one for ``engine="numpy"`` (its sweeps hold the GIL)."""
    cores = available_cores() if cores is None else positive_int(cores, "cores")
    return 1 if engine == "numpy" else min(cores, n_chains)


def available_cores() -> int:
    """The number of cores this process may run on (its CPU affinity; ``os.cpu_count()``
    where the platform does not report one): the default ``cores=`` of the samplers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def memory_need(n_chains: int, n_draws: int, kept: int, m: int, work: int) -> tuple[int, int]:
    """Bytes a run allocates: its kept draws (``kept`` values per draw of each chain) and
    everything else (each chain's ``work`` arrays of one value per group -- running sums,
    current state -- and its generator, closure and thread; the arrays of one value per group
    made once; :func:`check_finite`'s block). Returns ``(kept bytes, total bytes)``."""
    draws = 8 * n_chains * n_draws * kept
    chains = n_chains * (_memory.CHAIN_OVERHEAD + 8 * m * work + 4 * _memory.ARRAY_OVERHEAD)
    block = min(FINITE_BLOCK, n_chains * n_draws * max(kept, 1))  # check_finite's temporary
    return draws, draws + chains + 8 * m * SHARED_WORK + block + RUN_OVERHEAD


def check_memory(n_chains: int, n_draws: int, n_scalars: int, n_vectors: int, m: int = 0,
                 work: int = 0, effects: str = "theta") -> None:  # fmt: skip
    """Refuse runs whose kept draws and work arrays (:func:`memory_need`) would need more
    than the memory limit (:data:`hierlib._memory.MAX_BYTES`, ``gibbs.MAX_DRAWS_BYTES``);
    the message names the sampler's argument ``keep_<effects>=``."""
    kept = n_scalars + n_vectors
    draws, need = memory_need(n_chains, n_draws, kept, m, work)
    _memory.check(
        need,
        f"this run ({n_chains} chains x {n_draws} draws x {kept} values x 8 bytes: "
        f"{_memory.size_text(draws)} of kept draws, and {n_chains} chains' work arrays of "
        f"{work} x {m} values)",
        f"keep_{effects}= a few group labels (or [] for none; posterior means and sds of "
        f"every {effects}_j are returned anyway), or fewer n_draws or n_chains",
    )


# ------------------------------------------------------------------------------ chains
def chain_rngs(seed: int, n_chains: int) -> list[np.random.Generator]:
    """One independent generator per chain: ``SeedSequence(seed).spawn(n_chains)``."""
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(n_chains)]


def run_chains(init_chain, n_acc, m, n_chains, n_warmup, n_draws, seed, progress, workers=1):
    """Run the chains, each on its own stream (:func:`chain_rngs`), on ``workers`` threads.

    ``init_chain(c, rng, acc_c)`` sets chain ``c`` up (starting values from ``rng``) and
    returns its ``step(n_iter, start)``, which sweeps, writes the kept draws and adds the
    running sums of the chain's ``n_acc`` moment rows to ``acc_c`` (shape ``(n_acc, m)``).
    A chain touches only its own stream, state and rows of the output, so running chains on
    threads (the numba sweeps release the GIL) gives the same draws as one after the other;
    the sums are added up in chain order either way. The progress bar is moved from this
    (the calling) thread. Returns the sums over all chains and the seconds spent sampling
    (wall clock: with parallel chains, the time they took together).
    """
    accs = [np.zeros((n_acc, m)) for _ in range(n_chains)]
    steps = [init_chain(c, rng, accs[c]) for c, rng in enumerate(chain_rngs(seed, n_chains))]
    for step in steps:
        step(0, -1)  # compile or load from cache outside the timed region
    total = n_chains * (n_warmup + n_draws)
    with tqdm(total=total, desc="Gibbs", **progress_options(progress)) as bar:
        if workers <= 1:
            elapsed = sum(run_chunks(step, n_warmup, n_draws, bar) for step in steps)
        else:
            elapsed = run_threads(steps, n_warmup, n_draws, bar, workers)
    acc = np.zeros((n_acc, m))
    for acc_c in accs:
        acc += acc_c
    return acc, elapsed


def run_chunks(step, n_warmup: int, n_draws: int, bar, stop=None) -> float:
    """Call ``step(n_iter, start)`` over warm-up then sampling in chunks; return seconds.

    ``bar.update(k)`` after each chunk; a set ``stop`` event ends the run between chunks."""
    elapsed = 0.0
    done = 0
    total = n_warmup + n_draws
    while done < total and not (stop is not None and stop.is_set()):
        k = min(CHUNK, (n_warmup - done) if done < n_warmup else total - done)
        start = -1 if done < n_warmup else done - n_warmup
        t0 = time.perf_counter()
        step(k, start)
        elapsed += time.perf_counter() - t0
        done += k
        bar.update(k)
    return elapsed


class _Count:
    """Sweeps a chain's thread has done (read by the main thread to move the progress bar)."""

    def __init__(self) -> None:
        self.n = 0

    def update(self, k: int) -> None:
        self.n += k


def progress_options(progress: bool | None) -> dict:
    """tqdm options: ``True`` shows the bar at once, ``False`` never, and ``None`` (default) only
    for runs longer than :data:`PROGRESS_DELAY` seconds and never inside a Jupyter kernel
    (a bar written to stderr shows as a red box under a notebook cell, and a student does not
    wait there: the course's runs take well under a second)."""
    if progress is None:
        return {"disable": "ipykernel" in sys.modules, "delay": PROGRESS_DELAY}
    return {"disable": not progress}


def run_threads(steps, n_warmup: int, n_draws: int, bar, workers: int) -> float:
    """Run every chain's ``step`` on a pool of ``workers`` threads; poll their counts to
    move ``bar`` from this thread. On an error or Ctrl-C the other chains stop after their
    current chunk. Returns the wall-clock seconds."""
    counts = [_Count() for _ in steps]
    stop = threading.Event()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hierlib-chain") as pool:
        futures = [
            pool.submit(run_chunks, step, n_warmup, n_draws, count, stop)
            for step, count in zip(steps, counts, strict=True)
        ]
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                bar.update(sum(c.n for c in counts) - bar.n)
                for f in done:
                    f.result()  # re-raise a chain's error here
        except BaseException:
            stop.set()
            raise
    return time.perf_counter() - t0


# --------------------------------------------------------------------------- after the run
def guarded(sweeps, model: str):
    """``sweeps`` with its errors explained: a kernel that stops (a named ``ValueError`` from
    a bounded loop, or a division by a variance that underflowed to 0) raises a
    ``ValueError`` that says which sampler, what happened and what to do."""

    def run(*args):
        try:
            return sweeps(*args)
        except (ValueError, ZeroDivisionError) as err:
            what = (
                "a variance or precision reached 0 (underflow)"
                if isinstance(err, ZeroDivisionError)
                else str(err)
            )
            raise ValueError(
                f"{model}: the sampler stopped: {what}. The data are probably (nearly) "
                "constant within or between groups, or extreme in scale, or the prior puts "
                f"its mass at extreme values; check the data, {RESCALE_HINT}, or use a "
                "proper prior"
            ) from err

    return run


def check_finite(draws: dict[str, NDArray[np.float64]], model: str) -> None:
    """``ValueError`` naming the first quantity with a NaN or infinite draw (looked at
    :data:`FINITE_BLOCK` values at a time: no temporary the size of the draws)."""
    for name, arr in draws.items():
        flat = arr.reshape(-1)
        for start in range(0, flat.size, FINITE_BLOCK):
            if not np.isfinite(flat[start : start + FINITE_BLOCK]).all():
                raise ValueError(
                    f"{model}: the draws of {name} are not all finite (overflow or underflow "
                    f"in floating point); {RESCALE_HINT}"
                )


def moments(acc: NDArray[np.float64], count: int, shift: NDArray[np.float64]):
    """Mean and sd from sums of ``x - shift`` and of its squares."""
    mean = acc[0] / count
    var = np.maximum(acc[1] / count - mean**2, 0.0)
    return shift + mean, np.sqrt(var)
