"""Keep freed memory in the process for the next block (glibc's malloc only).

A check allocates and frees arrays of about a megabyte on every block of points (numpy
makes a new array for each f(x ± h), each derivative, each temporary), thousands of times
per run. glibc serves such sizes with fresh ``mmap`` pages or hands the top of its heap
back to the system as soon as it is free, so the next block faults the same memory back
in one zeroed page at a time: that costs as much as the arithmetic, and how much depends
on the process's allocation history (the same check ran 30 % slower or faster from one
process to the next). Two ``mallopt`` settings make it steady: blocks up to
``MMAP_THRESHOLD`` come from the heap, and up to ``TRIM_THRESHOLD`` of free heap is kept
for reuse instead of being returned. Measured in docs/benchmarks.md ("Memory reuse").

``actcheck.gradcheck`` (and so ``actcheck gradcheck``) applies them on its first call,
unless ``ACTCHECK_MALLOC=system`` is set in the environment. They are process-wide and
only decide when memory goes back to the system (the process keeps up to
``TRIM_THRESHOLD`` of free memory after a big check); no result depends on them.
"""

from __future__ import annotations

import ctypes
import os
import platform

MMAP_THRESHOLD = 32 << 20  # glibc's largest: a 4-million-point array still comes from mmap
TRIM_THRESHOLD = 128 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's malloc.h
ENV = "ACTCHECK_MALLOC"

_applied: bool | None = None


def keep_freed_memory() -> bool:
    """Apply the settings once per process; True when they are in force."""
    global _applied
    if _applied is None:
        _applied = _apply()
    return _applied


def _apply() -> bool:
    if os.environ.get(ENV, "").strip().lower() == "system":
        return False
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)  # the running program's symbols, glibc's mallopt among them
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
