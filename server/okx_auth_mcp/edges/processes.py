"""Which process this is, and whether another one still runs: what a redirect login's pending record names,
so that a login whose listening process died is reported as ended, never pending forever. psutil reads a
process's start time on every platform; a pid used again by a newer process does not pass for the old one."""

from __future__ import annotations

START_TIME_TOLERANCE = 1.0
"""Seconds two readings of one process's start time may differ by (they are rounded on some systems)."""


def this_process() -> tuple[int, float]:
    """This process's pid and start time."""
    import psutil

    me = psutil.Process()
    return me.pid, me.create_time()


def alive(pid: int, started_at: float) -> bool:
    """Whether the process ``pid`` that started at ``started_at`` still runs (a zombie does not)."""
    import psutil

    try:
        process = psutil.Process(pid)
        return abs(process.create_time() - started_at) <= START_TIME_TOLERANCE and (
            process.status() != psutil.STATUS_ZOMBIE
        )
    except (psutil.NoSuchProcess, psutil.AccessDenied, ProcessLookupError, OSError):
        return False
