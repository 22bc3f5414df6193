"""The signal work in worker processes, so the event loop keeps heartbeats and acks flowing;
a pool broken by a dead worker is replaced."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ecg_contracts.events import EcgSubmitted
from ecg_contracts.insights import Insights

log = logging.getLogger(__name__)
Analyze = Callable[[EcgSubmitted], Insights]


class AnalysisPool:
    def __init__(self, analyze: Analyze, size: int) -> None:
        self._analyze = analyze
        self._size = size
        self._pool = ProcessPoolExecutor(max_workers=size)

    async def __call__(self, event: EcgSubmitted) -> Insights:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._analyze, event)
        except BrokenProcessPool:
            log.error("a worker process died; replacing the pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = ProcessPoolExecutor(max_workers=self._size)
            raise

    async def close(self) -> None:
        # Joining the worker processes blocks: not on the event loop.
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
