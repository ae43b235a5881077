"""Running a student's function safely: a time limit, hidden prints, untouched global state.

:mod:`hierlib.checks` calls a student's update thousands of times. Whatever that code does --
never return, print a million lines, call ``sys.exit()``, reseed numpy's global generator --
the check must come back with a plain message and the notebook must carry on. :class:`Guard`
is the context in which every call runs:

- **Time.** A deadline for the whole check. Where the platform allows stopping a running call
  (``signal.setitimer``, i.e. Linux and macOS, and only in the main thread, which is where a
  Jupyter kernel runs cells), a timer raises :class:`Timeout` inside the student's code when the
  deadline passes, and again every half second if that code catches it. Elsewhere (Windows, a
  worker thread) the deadline is checked between calls only, so a single call that never
  returns cannot be stopped there.
- **Output.** ``sys.stdout`` and ``sys.stderr`` go to a sink that counts what was printed and
  keeps only the first :data:`KEEP_CHARS` characters.
- **Global random state.** numpy's legacy global generator (``np.random.seed``,
  ``np.random.normal``) and Python's ``random`` are saved before and restored after; the guard
  says whether the student's code touched them.
"""

from __future__ import annotations

import random
import signal
import sys
import threading
import time
import traceback
from typing import Any

import numpy as np

KEEP_CHARS = 2000
"""Characters of a student's printed output kept for the message (the rest is only counted)."""

_REPEAT = 0.5  # seconds between repeated timer signals once the deadline has passed


class Timeout(BaseException):
    """Raised inside the student's code when the deadline passes (a ``BaseException``, so an
    ``except Exception`` in that code does not swallow it)."""


class _Sink:
    """A text stream that counts what is written and keeps the first ``KEEP_CHARS``."""

    encoding = "utf-8"

    def __init__(self) -> None:
        self.chars = 0
        self.lines = 0
        self.kept: list[str] = []
        self._room = KEEP_CHARS

    def write(self, text: Any) -> int:
        text = str(text)
        self.chars += len(text)
        self.lines += text.count("\n")
        if self._room > 0:
            self.kept.append(text[: self._room])
            self._room -= len(self.kept[-1])
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def _same_np_state(a: tuple, b: tuple) -> bool:
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and tuple(a[2:]) == tuple(b[2:])


def can_stop_a_call() -> bool:
    """True where a running call can be interrupted at the deadline (SIGALRM timer, main
    thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class Guard:
    """Context for running untrusted calls until ``deadline`` (a ``time.monotonic()`` value).

    Attributes after the ``with`` block: ``printed_chars``, ``printed_lines``, ``printed``
    (the kept text), ``touched_global_rng`` (numpy's or Python's global generator changed).
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.sink = _Sink()
        self.touched_global_rng = False

    # ------------------------------------------------------------------ context
    def __enter__(self) -> Guard:
        self._np_state = np.random.get_state()  # noqa: NPY002 - saved, never drawn from
        self._py_state = random.getstate()
        self._streams = sys.stdout, sys.stderr
        self._alarm = can_stop_a_call()
        if self._alarm:
            self._old_handler = signal.signal(signal.SIGALRM, self._on_alarm)
            wait = max(self.deadline - time.monotonic(), 1e-3)
            self._old_timer = signal.setitimer(signal.ITIMER_REAL, wait, _REPEAT)
            self._armed_at = time.monotonic()
        sys.stdout = sys.stderr = self.sink  # type: ignore[assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        sys.stdout, sys.stderr = self._streams
        if self._alarm:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_handler)
            left, interval = self._old_timer
            if left > 0:  # someone else's timer was running: give it back what is left
                spent = time.monotonic() - self._armed_at
                signal.setitimer(signal.ITIMER_REAL, max(left - spent, 1e-3), interval)
        if not _same_np_state(np.random.get_state(), self._np_state):  # noqa: NPY002
            self.touched_global_rng = True
            np.random.set_state(self._np_state)  # noqa: NPY002 - restore what it was
        if random.getstate() != self._py_state:
            self.touched_global_rng = True
            random.setstate(self._py_state)

    def _on_alarm(self, signum: int, frame: Any) -> None:
        raise Timeout

    # ------------------------------------------------------------------ between calls
    def expired(self) -> bool:
        """True once the deadline has passed (the between-calls check)."""
        return time.monotonic() >= self.deadline

    @property
    def printed_chars(self) -> int:
        return self.sink.chars

    @property
    def printed_lines(self) -> int:
        return self.sink.lines

    @property
    def printed(self) -> str:
        return "".join(self.sink.kept)


def where(err: BaseException, skip: tuple[str, ...] = ()) -> str:
    """``' (in f, line 3: `code`)'``: the innermost frame of the traceback outside hierlib's
    checking modules (``skip``: their file names), or ``''``."""
    frames = [
        f
        for f in traceback.extract_tb(err.__traceback__)
        if f.filename != __file__ and f.filename not in skip
    ]
    if not frames:
        return ""
    f = frames[-1]
    code = f" `{f.line.strip()}`" if f.line else ""
    return f" (in {f.name}, line {f.lineno}:{code})"


def describe_exception(err: BaseException) -> str:
    """What a student's exception means, in words (SystemExit and KeyboardInterrupt too)."""
    if isinstance(err, SystemExit):
        return "called sys.exit() or exit() (SystemExit): a function should return its result"
    if isinstance(err, KeyboardInterrupt):
        return "was interrupted (KeyboardInterrupt)"
    if isinstance(err, ValueError) and "read-only" in str(err):
        return (
            "tried to change one of its input arrays in place (ValueError: "
            f"{err}): the arguments belong to the caller, so compute into a new array "
            "instead (e.g. d = ybar - theta, not ybar -= theta)"
        )
    return f"raised {type(err).__name__}: {err}"


def read_only(value: Any) -> Any:
    """A read-only view of an array argument (other values unchanged): the student's code
    cannot change the caller's data in place, not even by ``setflags(write=True)``."""
    if not isinstance(value, np.ndarray):
        return value
    base = np.array(value, copy=True)
    base.flags.writeable = False
    return base[...]
