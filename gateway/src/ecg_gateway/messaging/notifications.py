"""In-process fan-out of stored status changes to waiting requests and event streams.

Each gateway feeds its hub from an exclusive queue of ``ecg.status_changed`` events, so a
result stored by any gateway wakes the waiting clients of every gateway, without polling
the database. No I/O here: the hub is plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from ecg_contracts.rest import Status

MAX_QUEUED_PER_STREAM: Final = 1000


@dataclass(frozen=True, slots=True)
class StatusChange:
    owner_id: str
    ecg_id: str
    status: Status
    insights: dict[str, Any] | None
    error: str | None
    event_id: str


class Resync:
    """Changes may have been missed (the broker connection was rebuilt): re-read."""


RESYNC: Final = Resync()


class StreamClosed(Exception):
    """The hub shut down, or the stream fell too far behind and was dropped."""


class Waiter:
    def __init__(self, future: asyncio.Future[StatusChange | None]) -> None:
        self._future = future

    async def result(self, timeout_s: float) -> StatusChange | None:
        """The change, or None after ``timeout_s`` or when the hub closes."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._future), timeout_s)
        except TimeoutError:
            return None


class Subscription:
    def __init__(self, owner_id: str) -> None:
        self.owner_id = owner_id
        self._queue: asyncio.Queue[StatusChange | Resync | None] = asyncio.Queue(
            MAX_QUEUED_PER_STREAM
        )
        self._closed = False

    def offer(self, item: StatusChange | Resync | None) -> None:
        if self._closed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """Ends the stream after what is queued: a slow reader loses its place, not memory."""
        if self._closed:
            return
        self._closed = True
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self, timeout_s: float) -> StatusChange | Resync | None:
        """The next change, :data:`RESYNC`, or None when nothing came for ``timeout_s``."""
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None
        if item is None:
            raise StreamClosed
        return item


class StatusHub:
    def __init__(self) -> None:
        self._waiters: dict[tuple[str, str], set[asyncio.Future[StatusChange | None]]] = {}
        self._subscriptions: dict[str, set[Subscription]] = {}
        self._closed = False

    @contextlib.contextmanager
    def watch(self, owner_id: str, ecg_id: str) -> Iterator[Waiter]:
        """Register before reading the current status, so no change slips in between."""
        future: asyncio.Future[StatusChange | None] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_result(None)
        key = (owner_id, ecg_id)
        self._waiters.setdefault(key, set()).add(future)
        try:
            yield Waiter(future)
        finally:
            waiting = self._waiters.get(key)
            if waiting is not None:
                waiting.discard(future)
                if not waiting:
                    del self._waiters[key]
            future.cancel()

    @contextlib.contextmanager
    def subscribe(self, owner_id: str) -> Iterator[Subscription]:
        """Every change of this owner's ECGs, in arrival order."""
        subscription = Subscription(owner_id)
        if self._closed:
            subscription.close()
        self._subscriptions.setdefault(owner_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            streams = self._subscriptions.get(owner_id)
            if streams is not None:
                streams.discard(subscription)
                if not streams:
                    del self._subscriptions[owner_id]

    def publish(self, change: StatusChange) -> None:
        for future in self._waiters.get((change.owner_id, change.ecg_id), ()):
            if not future.done():
                future.set_result(change)
        for subscription in self._subscriptions.get(change.owner_id, ()):
            subscription.offer(change)

    def resync(self) -> None:
        for streams in self._subscriptions.values():
            for subscription in streams:
                subscription.offer(RESYNC)

    def close(self) -> None:
        """At shutdown: waiters answer at once and streams end, so requests drain."""
        self._closed = True
        for waiting in self._waiters.values():
            for future in waiting:
                if not future.done():
                    future.set_result(None)
        for streams in self._subscriptions.values():
            for subscription in streams:
                subscription.close()

    @property
    def listeners(self) -> int:
        return sum(map(len, self._waiters.values())) + sum(map(len, self._subscriptions.values()))
