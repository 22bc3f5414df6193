"""The signal work in worker processes, so the event loop keeps heartbeats and acks flowing;
a pool broken by a dead worker is replaced, and workers end with the analyzer however it
ends (a SIGKILLed parent runs no clean-up, and a worker holding both ends of its pipe would
never notice)."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Final

from ecg_contracts.events import EcgSubmitted
from ecg_contracts.insights import Insights

from ecg_analyzer.worker.allocator import keep_freed_memory

log = logging.getLogger(__name__)
Analyze = Callable[[EcgSubmitted], Insights]
PR_SET_PDEATHSIG: Final = 1
PARENT_CHECK_S: Final = 1.0


def start_worker(parent_pid: int) -> None:
    """Pool initializer: the worker dies with its parent and keeps freed memory."""
    die_with_parent(parent_pid)
    keep_freed_memory()


def die_with_parent(parent_pid: int) -> None:
    """On Linux the kernel kills the worker when its parent dies
    (``PR_SET_PDEATHSIG``); everywhere, a daemon thread checks once a second that the parent
    is still the one that started it, and ends the worker when it is not."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the line above ran
        os._exit(1)
    threading.Thread(
        target=_exit_when_orphaned, args=(parent_pid,), name="parent-watch", daemon=True
    ).start()


def _exit_when_orphaned(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_CHECK_S)
    os._exit(1)


def new_pool(size: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(max_workers=size, initializer=start_worker, initargs=(os.getpid(),))


class AnalysisPool:
    def __init__(self, analyze: Analyze, size: int) -> None:
        self._analyze = analyze
        self._size = size
        self._pool = new_pool(size)

    async def __call__(self, event: EcgSubmitted) -> Insights:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._analyze, event)
        except BrokenProcessPool:
            log.error("a worker process died; replacing the pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = new_pool(self._size)
            raise

    async def close(self) -> None:
        # Joining the worker processes blocks: not on the event loop.
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
