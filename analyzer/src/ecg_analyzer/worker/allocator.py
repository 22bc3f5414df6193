"""glibc malloc settings for the signal work: keep freed large blocks for the next analysis.

A 30-minute lead makes numpy temporaries of a few MB each. By default glibc serves such
blocks from fresh mappings (over its mmap threshold, which it raises only as blocks are
freed) and hands the top of its heap back to the kernel (over its trim threshold), so every
analysis touches tens of MB of new pages again: ``compute_insights`` on both leads of
MIT-BIH 100 (30 minutes) took 5,361 page faults and 85.6 ms a call with glibc's defaults,
432 (the first call's pages, averaged in) and 74.5 ms with these settings (item 4 of
``make bench-analyzer``, 2-core VM). The price: a worker keeps up to its peak heap.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from typing import Final

M_TRIM_THRESHOLD: Final = -1
M_MMAP_THRESHOLD: Final = -3
MMAP_THRESHOLD_BYTES: Final = 32 * 1024 * 1024  # glibc's ceiling on 64-bit systems
TRIM_THRESHOLD_BYTES: Final = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Apply the settings; whether the C library took them (glibc does, others may not)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
    except OSError:
        return False
    mallopt = getattr(libc, "mallopt", None)
    if mallopt is None:
        return False
    mmap_set = mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    trim_set = mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    return bool(mmap_set) and bool(trim_set)
