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
import os
import signal
from datetime import timedelta

from ecg_gateway.messaging.ports import EventPublisher
from ecg_gateway.services import Clock, submitted_event, utc_now
from ecg_gateway.store.ports import EcgRepository

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 10.0


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
        self.published = 0
        self.failed = 0

    def kick(self) -> None:
        """Publish now rather than at the next poll."""
        self._wake.set()

    async def backlog(self) -> int:
        return await self._ecgs.count_due_dispatch(self._clock())

    async def drain(self) -> int:
        """Dispatch everything due now; returns how many ECGs were handled."""
        handled = 0
        while True:
            now = self._clock()
            record = await self._ecgs.claim_due_dispatch(now, now + self._lease)
            if record is None:
                return handled
            handled += 1
            if record.dispatch_attempts >= self._max_attempts:
                reason = (
                    f"no analysis result after {record.dispatch_attempts} dispatches "
                    f"of {self._dispatch_timeout.total_seconds():.0f} s each"
                )
                await self._ecgs.mark_dispatch_failed(record.owner_id, record.ecg_id, reason)
                self.failed += 1
                log.warning("ECG analysis gave up", extra={"ecg_id": record.ecg_id})
                continue
            if self._fault == "kill_before_publish":
                await asyncio.sleep(0.5)  # let the 202 reach the client first
                os.kill(os.getpid(), signal.SIGKILL)
            attempt = record.dispatch_attempts + 1
            await self._publisher.publish_submitted(submitted_event(record, attempt))
            await self._ecgs.mark_dispatched(
                record.owner_id, record.ecg_id, attempt, self._clock() + self._dispatch_timeout
            )
            self.published += 1
            log.info("dispatched", extra={"ecg_id": record.ecg_id, "attempt": attempt})

    async def run(self) -> None:
        backoff = self._poll_s
        while True:
            try:
                await self.drain()
                backoff = self._poll_s
            except (Exception, asyncio.CancelledError) as error:
                task = asyncio.current_task()
                if isinstance(error, asyncio.CancelledError) and task and task.cancelling():
                    raise
                # A confirm future cancelled by a dropped connection raises CancelledError
                # too; that must not end the relay.
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                log.warning(
                    "outbox relay failed; retrying", extra={"error": repr(error), "in_s": backoff}
                )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=backoff)
