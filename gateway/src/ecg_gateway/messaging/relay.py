"""Outbox relay: publishes every accepted ECG whose dispatch is due, until it is analyzed.

An ECG is stored with its dispatch due at once. The relay claims it (a lease, so several
gateways never publish it together), publishes ``ecg.submitted`` with publisher confirms,
and sets the next due time to ``dispatch_timeout_s`` later: if no result arrives by then,
it is dispatched again, up to ``max_dispatch_attempts``, then marked failed. A broker
outage only delays publishing; a gateway crash only delays it by the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import signal
import time
from collections import deque
from datetime import timedelta

from ecg_gateway.messaging.ports import EventPublisher
from ecg_gateway.services import Clock, submitted_event, utc_now
from ecg_gateway.store.ports import EcgRepository
from ecg_gateway.store.records import EcgRecord

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 10.0
SCAN_BATCH = 100


class OutboxRelay:
    def __init__(
        self,
        ecgs: EcgRepository,
        publisher: EventPublisher,
        *,
        poll_s: float,
        lease_s: float,
        dispatch_timeout_s: float,
        max_attempts: int,
        fault: str = "",
        clock: Clock = utc_now,
    ) -> None:
        self._ecgs = ecgs
        self._publisher = publisher
        self._poll_s = poll_s
        self._lease = timedelta(seconds=lease_s)
        self._dispatch_timeout = timedelta(seconds=dispatch_timeout_s)
        self._max_attempts = max_attempts
        self._fault = fault
        self._clock = clock
        self._wake = asyncio.Event()
        self._accepted: deque[tuple[str, str]] = deque()
        self._scan_requested = True

    def kick(self, owner_id: str | None = None, ecg_id: str | None = None) -> None:
        """Dispatch this just-accepted ECG now, or, without one, scan for due ECGs now."""
        if owner_id is not None and ecg_id is not None:
            self._accepted.append((owner_id, ecg_id))
        else:
            self._scan_requested = True
        self._wake.set()

    async def backlog(self) -> int:
        return await self._ecgs.count_due_dispatch(self._clock())

    async def drain(self, scan: bool = True) -> int:
        """Dispatch the ECGs just accepted, then (with ``scan``) every other one that is
        due; returns how many were handled.

        Just-accepted ECGs are claimed by id, which stays cheap however many ECGs are
        stored; the scan (crash recovery, broker outages, lost analyses) runs once per
        poll interval.
        """
        handled = 0
        while self._accepted:
            owner_id, ecg_id = self._accepted[0]
            now = self._clock()
            record = await self._ecgs.claim_dispatch(owner_id, ecg_id, now, now + self._lease)
            self._accepted.popleft()
            if record is not None:
                await self._dispatch(record)
                handled += 1
        while scan:
            now = self._clock()
            due = await self._ecgs.due_dispatches(now, SCAN_BATCH)
            for owner_id, ecg_id in due:
                record = await self._ecgs.claim_dispatch(owner_id, ecg_id, now, now + self._lease)
                if record is not None:
                    await self._dispatch(record)
                    handled += 1
            scan = len(due) == SCAN_BATCH
        return handled

    async def _dispatch(self, record: EcgRecord) -> None:
        if record.dispatch_attempts >= self._max_attempts:
            reason = (
                f"no analysis result after {record.dispatch_attempts} dispatches "
                f"of {self._dispatch_timeout.total_seconds():.0f} s each"
            )
            await self._ecgs.mark_dispatch_failed(record.owner_id, record.ecg_id, reason)
            log.warning("ECG analysis gave up", extra={"ecg_id": record.ecg_id})
            return
        if self._fault == "kill_before_publish":
            await asyncio.sleep(0.5)  # let the 202 reach the client first
            os.kill(os.getpid(), signal.SIGKILL)
        attempt = record.dispatch_attempts + 1
        await self._publisher.publish_submitted(submitted_event(record, attempt))
        await self._ecgs.mark_dispatched(
            record.owner_id, record.ecg_id, attempt, self._clock() + self._dispatch_timeout
        )
        log.info("dispatched", extra={"ecg_id": record.ecg_id, "attempt": attempt})

    async def run(self) -> None:
        backoff = self._poll_s
        last_scan = -math.inf
        while True:
            self._wake.clear()
            scan = self._scan_requested or time.monotonic() - last_scan >= self._poll_s
            try:
                if scan:
                    self._scan_requested = False
                    last_scan = time.monotonic()
                await self.drain(scan=scan)
                backoff = self._poll_s
            except (Exception, asyncio.CancelledError) as error:
                task = asyncio.current_task()
                if isinstance(error, asyncio.CancelledError) and task and task.cancelling():
                    raise
                # A confirm future cancelled by a dropped connection raises CancelledError
                # too; that must not end the relay. What failed is found again by a scan.
                self._scan_requested = True
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                log.warning(
                    "outbox relay failed; retrying", extra={"error": repr(error), "in_s": backoff}
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
