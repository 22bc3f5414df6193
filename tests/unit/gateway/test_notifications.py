"""The in-process status hub and the write batcher: plain asyncio, no services."""

from __future__ import annotations

import asyncio

import pytest
from ecg_gateway.batching import Batcher
from ecg_gateway.messaging.notifications import (
    MAX_QUEUED_PER_STREAM,
    RESYNC,
    KnownStatuses,
    StatusHub,
    StreamClosed,
)
from ecg_gateway.model import EcgStatusRecord, StatusChange


def pending(ecg_id: str) -> EcgStatusRecord:
    return EcgStatusRecord(ecg_id, "pending", None, None)


def change(owner_id: str, ecg_id: str, status: str = "done") -> StatusChange:
    return StatusChange(owner_id, ecg_id, status, None, None, f"event-{owner_id}-{ecg_id}")  # type: ignore[arg-type]


async def test_a_waiter_wakes_on_its_own_ecg_only() -> None:
    hub = StatusHub()
    with hub.watch("alice", "e1") as waiter:
        hub.publish(change("bob", "e1"))
        hub.publish(change("alice", "e2"))
        assert await waiter.result(0.05) is None
        hub.publish(change("alice", "e1"))
        woken = await waiter.result(1)
    assert woken is not None
    assert (woken.owner_id, woken.ecg_id) == ("alice", "e1")
    assert hub.listeners == 0


async def test_a_stream_sees_its_owners_changes_in_order_and_never_anothers() -> None:
    hub = StatusHub()
    with hub.subscribe("alice") as stream:
        hub.publish(change("alice", "e1"))
        hub.publish(change("bob", "e9"))
        hub.resync()
        hub.publish(change("alice", "e2", "failed"))
        seen = [await stream.next(1) for _ in range(3)]
        assert await stream.next(0.01) is None, "then nothing: a keep-alive is due"
    assert [getattr(item, "ecg_id", item) for item in seen] == ["e1", RESYNC, "e2"]


async def test_closing_the_hub_answers_waiters_and_ends_streams() -> None:
    hub = StatusHub()
    with hub.watch("alice", "e1") as waiter, hub.subscribe("alice") as stream:
        pending = asyncio.create_task(waiter.result(30))
        await asyncio.sleep(0)
        hub.close()
        assert await asyncio.wait_for(pending, 1) is None
        with pytest.raises(StreamClosed):
            await stream.next(30)
    with hub.watch("alice", "e2") as late:
        assert await asyncio.wait_for(late.result(30), 1) is None


async def test_a_stream_that_falls_behind_is_closed_not_grown() -> None:
    hub = StatusHub()
    with hub.subscribe("alice") as stream:
        for index in range(MAX_QUEUED_PER_STREAM + 5):
            hub.publish(change("alice", f"e{index}"))
        received = 0

        async def read_to_the_end() -> None:
            nonlocal received
            while True:
                assert await stream.next(1) is not None
                received += 1

        with pytest.raises(StreamClosed):
            await read_to_the_end()
        assert received < MAX_QUEUED_PER_STREAM


async def test_the_batcher_coalesces_concurrent_submissions_and_keeps_order() -> None:
    calls: list[list[int]] = []

    async def double(items: list[int]) -> list[int]:
        calls.append(items)
        await asyncio.sleep(0.01)
        return [2 * item for item in items]

    batcher: Batcher[int, int] = Batcher(double, max_batch=8)
    results = await asyncio.gather(*(batcher.submit(n) for n in range(20)))
    assert results == [2 * n for n in range(20)]
    assert len(calls) < 20
    assert all(len(batch) <= 8 for batch in calls)
    assert sorted(n for batch in calls for n in batch) == list(range(20))


async def test_a_failed_batch_fails_its_callers_and_the_next_batch_still_runs() -> None:
    async def flaky(items: list[int]) -> list[int]:
        if 0 in items:
            raise RuntimeError("database away")
        return items

    batcher: Batcher[int, int] = Batcher(flaky, max_batch=1)
    first, second = await asyncio.gather(
        batcher.submit(0), batcher.submit(1), return_exceptions=True
    )
    assert isinstance(first, RuntimeError)
    assert second == 1


def test_known_statuses_keep_finals_over_pending_and_forget_the_least_recent() -> None:
    known = KnownStatuses(capacity=2)
    known.remember("alice", pending("e1"))
    known.remember("alice", EcgStatusRecord("e1", "done", {"n": 1}, None))
    known.remember("alice", pending("e1"))
    assert known.get("alice", "e1") == EcgStatusRecord("e1", "done", {"n": 1}, None)
    assert known.get("bob", "e1") is None
    known.remember("alice", pending("e2"))
    assert known.get("alice", "e1") is not None
    known.remember("alice", pending("e3"))
    assert known.get("alice", "e2") is None, "the least recently used went"
    known.forget("alice", "e1")
    assert len(known) == 1


def test_the_hub_trusts_what_it_knows_only_while_its_feed_is_up() -> None:
    hub = StatusHub()
    hub.publish(change("alice", "e1"))
    assert hub.known("alice", "e1") is None, "not before the feed is up"
    hub.resync()
    hub.publish(change("alice", "e1"))
    assert hub.known("alice", "e1") == EcgStatusRecord("e1", "done", None, None)
    hub.deleted("alice", "e1")
    assert hub.known("alice", "e1") is None
    hub.publish(change("alice", "e2"))
    hub.feed_down()
    assert hub.known("alice", "e2") is None
    hub.resync()
    assert hub.known("alice", "e2") is None, "forgotten: it may have changed meanwhile"
