"""In-process fan-out of stored status changes to waiting requests and event streams.

Each gateway feeds its hub from an exclusive queue of ``ecg.status_changed`` events, so a
result stored by any gateway wakes the waiting clients of every gateway, without polling
the database. No I/O here: the hub is plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict
from collections.abc import Iterator
from typing import Final

from ecg_gateway.model import EcgStatusRecord, StatusChange

MAX_QUEUED_PER_STREAM: Final = 1000
KNOWN_STATUSES: Final = 20_000


class Resync:
    """Changes may have been missed (the broker connection was rebuilt): re-read."""


RESYNC: Final = Resync()


class KnownStatuses:
    """The last status this gateway knows of recent ECGs, so that status reads need no
    database lookup, which FerretDB answers by scanning the collection.

    Only what stays true until the feed says otherwise is kept: ``pending`` for an ECG
    stored while the feed was up, and final statuses. The feed brings every change and
    every deletion, from every gateway; when it was down, :meth:`clear` forgets it all.
    Bounded: the least recently used entries go first.
    """

    def __init__(self, capacity: int = KNOWN_STATUSES) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[tuple[str, str], EcgStatusRecord] = OrderedDict()

    def get(self, owner_id: str, ecg_id: str) -> EcgStatusRecord | None:
        key = (owner_id, ecg_id)
        known = self._entries.get(key)
        if known is not None:
            self._entries.move_to_end(key)
        return known

    def remember(self, owner_id: str, known: EcgStatusRecord) -> None:
        """A final status always wins; ``pending`` never replaces what is known already
        (a change may have arrived while its reader was on its way back)."""
        key = (owner_id, known.ecg_id)
        if known.status == "pending" and key in self._entries:
            return
        self._entries[key] = known
        self._entries.move_to_end(key)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)

    def forget(self, owner_id: str, ecg_id: str) -> None:
        self._entries.pop((owner_id, ecg_id), None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


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
    def __init__(self) -> None:
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
    def __init__(self, known: KnownStatuses | None = None) -> None:
        self._known = known or KnownStatuses()
        self._feed_up = False
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
        subscription = Subscription()
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
        self.remember(change.owner_id, change.as_status())
        for future in self._waiters.get((change.owner_id, change.ecg_id), ()):
            if not future.done():
                future.set_result(change)
        for subscription in self._subscriptions.get(change.owner_id, ()):
            subscription.offer(change)

    def known(self, owner_id: str, ecg_id: str) -> EcgStatusRecord | None:
        """What the feed says of this ECG; None when unknown or while the feed is down."""
        return self._known.get(owner_id, ecg_id) if self._feed_up else None

    def remember(self, owner_id: str, known: EcgStatusRecord) -> None:
        if self._feed_up:
            self._known.remember(owner_id, known)

    def deleted(self, owner_id: str, ecg_id: str) -> None:
        self._known.forget(owner_id, ecg_id)

    def feed_down(self) -> None:
        """Changes made elsewhere no longer reach this gateway: stop trusting what it knows."""
        self._feed_up = False
        self._known.clear()

    def resync(self) -> None:
        """The feed is up again: start knowing afresh; streams may have missed changes."""
        self._known.clear()
        self._feed_up = True
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
