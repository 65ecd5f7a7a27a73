"""How many CPU threads XLA's CPU client computes with, as the transforms size their work to it."""

from __future__ import annotations

import os


def cpu_threads() -> int:
    """Threads of XLA's CPU intra-op pool: ``PJRT_NPROC`` or ``NPROC`` when set to a positive
    integer, else the CPUs this process may run on (what XLA's CPU client reads).

    Not ``os.cpu_count()``: in a container or under ``taskset`` limited to 2 CPUs of a 64-CPU host,
    that counts the host's 64, and work split for 64 threads would only add programs to compile and
    chunks to dispatch.

    Example:
      >>> cpu_threads() >= 1
      True
    """
    for name in ("PJRT_NPROC", "NPROC"):
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1
