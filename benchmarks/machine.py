"""The machine a benchmark ran on, as the printed figures state it."""

from __future__ import annotations

import platform


def cpu_model() -> str:
    """The CPU's model name (as ``lscpu`` prints it)."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"
