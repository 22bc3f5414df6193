"""The outbox relay and the submit use case, on fakes of the ports and a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ecg_contracts.rest import EcgCreate
from ecg_gateway.auth.access import Principal
from ecg_gateway.messaging.relay import OutboxRelay
from ecg_gateway.services import EcgConflict, EcgService, TooManySamples

from tests.fakes import InMemoryEcgRepository, RecordingPublisher

ALICE = Principal("alice-id", "alice", "user")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def body(ecg_id: str, rate: float = 500) -> EcgCreate:
    return EcgCreate.model_validate(
        {"id": ecg_id, "sampling_rate_hz": rate, "leads": [{"name": "I", "signal": [1, -1, 70000]}]}
    )


def relay(repo: InMemoryEcgRepository, publisher: RecordingPublisher, clock: Clock) -> OutboxRelay:
    return OutboxRelay(
        repo, publisher, poll_s=1, lease_s=10, dispatch_timeout_s=60, max_attempts=3, clock=clock
    )


async def test_an_accepted_ecg_is_published_once_with_its_signal(clock: Clock) -> None:
    repo, publisher = InMemoryEcgRepository(), RecordingPublisher()
    service = EcgService(repo, max_total_samples=100, clock=clock)
    await service.submit(ALICE, body("e1"))
    outbox = relay(repo, publisher, clock)
    assert await outbox.drain() == 1
    assert await outbox.drain() == 0
    [event] = publisher.published
    assert (event.ecg_id, event.owner_id, event.attempt) == ("e1", "alice-id", 1)
    assert event.leads[0].signal.dtype == "int32"


async def test_a_broker_outage_only_delays_the_publish(clock: Clock) -> None:
    repo, publisher = InMemoryEcgRepository(), RecordingPublisher()
    await EcgService(repo, 100, clock=clock).submit(ALICE, body("e1"))
    outbox = relay(repo, publisher, clock)
    publisher.down = True
    with pytest.raises(ConnectionError):
        await outbox.drain()
    publisher.down = False
    assert await outbox.drain() == 0, "leased by the failed attempt"
    clock.advance(11)
    assert await outbox.drain() == 1
    assert [event.ecg_id for event in publisher.published] == ["e1"]


async def test_an_unanswered_dispatch_is_repeated_then_failed(clock: Clock) -> None:
    repo, publisher = InMemoryEcgRepository(), RecordingPublisher()
    await EcgService(repo, 100, clock=clock).submit(ALICE, body("e1"))
    outbox = relay(repo, publisher, clock)
    for _ in range(3):
        await outbox.drain()
        clock.advance(61)
    await outbox.drain()
    assert [event.attempt for event in publisher.published] == [1, 2, 3]
    stored = await repo.get("alice-id", "e1")
    assert stored is not None
    assert stored.status == "failed"
    assert stored.error is not None
    assert "3 dispatches" in stored.error


async def test_a_retry_is_recognised_and_a_different_ecg_is_a_conflict(clock: Clock) -> None:
    repo = InMemoryEcgRepository()
    service = EcgService(repo, 100, clock=clock)
    first = await service.submit(ALICE, body("e1"))
    clock.advance(5)
    again = await service.submit(ALICE, body("e1"))
    assert (first.created, again.created) == (True, False)
    assert again.record == first.record
    with pytest.raises(EcgConflict):
        await service.submit(ALICE, body("e1", rate=250))


async def test_the_total_sample_cap_is_enforced(clock: Clock) -> None:
    with pytest.raises(TooManySamples, match="limit is 2"):
        await EcgService(InMemoryEcgRepository(), 2, clock=clock).submit(ALICE, body("big"))


async def test_a_just_accepted_ecg_is_dispatched_without_a_scan(clock: Clock) -> None:
    repo, publisher = InMemoryEcgRepository(), RecordingPublisher()
    outbox = relay(repo, publisher, clock)
    service = EcgService(repo, 100, on_accepted=outbox.kick, clock=clock)
    await service.submit(ALICE, body("e1"))
    await service.submit(ALICE, body("e2"))
    assert await outbox.drain(scan=False) == 2
    assert [event.ecg_id for event in publisher.published] == ["e1", "e2"]
    assert await outbox.drain(scan=False) == 0
