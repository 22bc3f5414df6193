"""Outbox relay: publishes every accepted ECG, and re-dispatches those whose result is late.

An accepted ECG is stored already counted as dispatched once and due again after
``dispatch_timeout_s``, then published at once from memory, several publishes in flight
(publisher confirms are pipelined): no database round trip on that path. Only what went
wrong goes back through the database:

- a publish that fails (broker outage) makes the ECG due now, and the next scan, kicked
  when the broker is back, dispatches it;
- a gateway that dies before publishing leaves the ECG due after the dispatch timeout;
- an ECG still pending at its due time (a lost analysis) is dispatched again, up to
  ``max_attempts`` times, then failed.

The scan claims each due ECG with a lease (so several gateways never publish one together)
and runs every ``poll_s`` or when kicked, never per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Final

from ecg_gateway.messaging.ports import EventPublisher
from ecg_gateway.model import Clock, EcgRecord, submitted_event, utc_now
from ecg_gateway.store.ports import DispatchQueue

log = logging.getLogger(__name__)
MAX_BACKOFF_S: Final = 10.0
SCAN_BATCH: Final = 100
REDISPATCH_AT_ONCE: Final = 8
GiveUp = Callable[[str, str, str], Awaitable[object]]


def cancelled_from_outside(error: BaseException) -> bool:
    """True when this task itself is being cancelled. A confirm future cancelled by a
    dropped connection raises CancelledError too; that one is a failed publish."""
    task = asyncio.current_task()
    return isinstance(error, asyncio.CancelledError) and task is not None and task.cancelling() > 0


class OutboxRelay:
    def __init__(
        self,
        dispatches: DispatchQueue,
        publisher: EventPublisher,
        give_up: GiveUp,
        *,
        poll_s: float,
        lease_s: float,
        dispatch_timeout_s: float,
        max_attempts: int,
        publishes_in_flight: int = 32,
        clock: Clock = utc_now,
    ) -> None:
        self._dispatches = dispatches
        self._publisher = publisher
        self._give_up = give_up
        self._poll_s = poll_s
        self._lease = timedelta(seconds=lease_s)
        self._dispatch_timeout = timedelta(seconds=dispatch_timeout_s)
        self._max_attempts = max_attempts
        self._clock = clock
        self._wake = asyncio.Event()
        self._scan_requested = True
        self._in_flight = asyncio.Semaphore(publishes_in_flight)
        self._publishing: set[asyncio.Task[None]] = set()
        self._last_due = 0

    def accepted(self, record: EcgRecord) -> None:
        """Publish this just-stored ECG now, from memory."""
        task = asyncio.create_task(self._publish_first(record), name="first-dispatch")
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    def kick(self) -> None:
        """Scan for due ECGs now (the broker is back, or a publish failed)."""
        self._scan_requested = True
        self._wake.set()

    @property
    def backlog(self) -> int:
        """Accepted ECGs not yet published: those being published, and those found due by
        the last scan. Known without a query."""
        return len(self._publishing) + self._last_due

    async def _publish_first(self, record: EcgRecord) -> None:
        async with self._in_flight:
            try:
                await self._publisher.publish_submitted(submitted_event(record, attempt=1))
                log.info("dispatched", extra={"ecg_id": record.ecg_id, "attempt": 1})
                return
            except (Exception, asyncio.CancelledError) as error:
                if cancelled_from_outside(error):
                    raise
                log.warning(
                    "publish failed; the outbox will retry",
                    extra={"ecg_id": record.ecg_id, "error": repr(error)},
                )
        try:
            await self._dispatches.reschedule_dispatch(
                record.owner_id, record.ecg_id, self._clock()
            )
        except Exception as error:
            log.warning(
                "could not reschedule; the dispatch timeout will bring it back",
                extra={"ecg_id": record.ecg_id, "error": repr(error)},
            )
        self.kick()

    async def drain(self) -> int:
        """At shutdown: wait for the publishes in flight, then dispatch what is due."""
        while self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
        return await self.scan()

    async def scan(self) -> int:
        """Dispatch every ECG that is due; returns how many were handled. Skipped while
        the broker is away: claims would only lease what cannot be published."""
        handled = 0
        scan = self._publisher.connected
        while scan:
            now = self._clock()
            due = await self._dispatches.due_dispatches(now, SCAN_BATCH)
            self._last_due = len(due)
            for start in range(0, len(due), REDISPATCH_AT_ONCE):
                chunk = due[start : start + REDISPATCH_AT_ONCE]
                claimed = await asyncio.gather(
                    *(self._redispatch(owner_id, ecg_id) for owner_id, ecg_id in chunk)
                )
                handled += sum(claimed)
                self._last_due = max(len(due) - start - len(chunk), 0)
            scan = len(due) == SCAN_BATCH
        return handled

    async def _redispatch(self, owner_id: str, ecg_id: str) -> bool:
        now = self._clock()
        record = await self._dispatches.claim_dispatch(owner_id, ecg_id, now, now + self._lease)
        if record is None:
            return False
        if record.dispatch_attempts >= self._max_attempts:
            reason = (
                f"no analysis result after {record.dispatch_attempts} dispatches "
                f"of {self._dispatch_timeout.total_seconds():.0f} s each"
            )
            await self._give_up(record.owner_id, record.ecg_id, reason)
            log.warning("ECG analysis gave up", extra={"ecg_id": record.ecg_id})
            return True
        attempt = record.dispatch_attempts + 1
        await self._publisher.publish_submitted(submitted_event(record, attempt))
        await self._dispatches.mark_dispatched(
            record.owner_id, record.ecg_id, attempt, self._clock() + self._dispatch_timeout
        )
        log.info("dispatched", extra={"ecg_id": record.ecg_id, "attempt": attempt})
        return True

    async def run(self) -> None:
        backoff = self._poll_s
        last_scan = -math.inf
        while True:
            self._wake.clear()
            if self._scan_requested or time.monotonic() - last_scan >= self._poll_s:
                self._scan_requested = False
                last_scan = time.monotonic()
                try:
                    await self.scan()
                    backoff = self._poll_s
                except (Exception, asyncio.CancelledError) as error:
                    if cancelled_from_outside(error):
                        raise
                    self._scan_requested = True
                    backoff = min(backoff * 2, MAX_BACKOFF_S)
                    log.warning(
                        "outbox scan failed; retrying",
                        extra={"error": repr(error), "in_s": backoff},
                    )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
