"""The outbox relay and the ECG use cases, on fakes of the ports and a manual clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from ecg_contracts.events import EcgAnalyzed
from ecg_contracts.insights import Insights
from ecg_contracts.rest import EcgCreate
from ecg_gateway.auth.access import Forbidden, Principal
from ecg_gateway.messaging.notifications import StatusHub
from ecg_gateway.model import StatusChange
from ecg_gateway.relay import OutboxRelay
from ecg_gateway.services import EcgConflict, EcgNotFound, EcgService, TooManySamples

from tests.fakes import InMemoryEcgRepository, RecordingPublisher

ALICE = Principal("alice-id", "alice", "user")
ADMIN = Principal("admin-id", "admin", "admin")
TIMEOUT_S = 60


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Gateway:
    repo: InMemoryEcgRepository
    publisher: RecordingPublisher
    hub: StatusHub
    relay: OutboxRelay
    service: EcgService


def gateway(clock: Clock, max_total_samples: int = 100, publish_on_accept: bool = True) -> Gateway:
    repo, publisher, hub = InMemoryEcgRepository(), RecordingPublisher(), StatusHub()

    async def give_up(owner_id: str, ecg_id: str, reason: str) -> object:
        return await service.give_up(owner_id, ecg_id, reason)

    relay = OutboxRelay(
        repo,
        publisher,
        give_up,
        poll_s=1,
        lease_s=10,
        dispatch_timeout_s=TIMEOUT_S,
        max_attempts=3,
        clock=clock,
    )
    service = EcgService(
        repo,
        max_total_samples,
        changes=hub,
        notifier=publisher,
        dispatch_timeout_s=TIMEOUT_S,
        on_accepted=relay.accepted if publish_on_accept else lambda record: None,
        clock=clock,
    )
    return Gateway(repo, publisher, hub, relay, service)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def body(ecg_id: str, rate: float = 500) -> EcgCreate:
    return EcgCreate.model_validate(
        {"id": ecg_id, "sampling_rate_hz": rate, "leads": [{"name": "I", "signal": [1, -1, 70000]}]}
    )


def analyzed(ecg_id: str, owner_id: str = "alice-id") -> EcgAnalyzed:
    insights = Insights.model_validate({"version": 1, "leads": [], "notes": []})
    return EcgAnalyzed(ecg_id=ecg_id, owner_id=owner_id, insights=insights)


async def test_an_accepted_ecg_is_published_from_memory_without_a_scan(clock: Clock) -> None:
    gw = gateway(clock)
    await gw.service.submit(ALICE, body("e1"))
    await gw.service.submit(ALICE, body("e2"))
    await gw.relay.drain()
    assert [(e.ecg_id, e.owner_id, e.attempt) for e in gw.publisher.published] == [
        ("e1", "alice-id", 1),
        ("e2", "alice-id", 1),
    ]
    assert gw.publisher.published[0].leads[0].signal.dtype == "int32"
    assert await gw.relay.scan() == 0, "nothing is due before the dispatch timeout"
    assert gw.relay.backlog == 0


async def test_a_broker_outage_makes_the_ecg_due_at_once_and_the_scan_publishes_it(
    clock: Clock,
) -> None:
    gw = gateway(clock)
    gw.publisher.down = True
    await gw.service.submit(ALICE, body("e1"))
    assert await gw.relay.drain() == 0
    assert gw.publisher.published == []
    gw.publisher.down = False
    assert await gw.relay.scan() == 1
    assert [(e.ecg_id, e.attempt) for e in gw.publisher.published] == [("e1", 1)]


async def test_a_gateway_that_died_before_publishing_is_covered_by_the_dispatch_timeout(
    clock: Clock,
) -> None:
    gw = gateway(clock, publish_on_accept=False)
    await gw.service.submit(ALICE, body("e1"))
    assert await gw.relay.scan() == 0
    clock.advance(TIMEOUT_S + 1)
    assert await gw.relay.scan() == 1
    assert [e.ecg_id for e in gw.publisher.published] == ["e1"]


async def test_an_unanswered_dispatch_is_repeated_then_failed_and_announced(clock: Clock) -> None:
    gw = gateway(clock)
    await gw.service.submit(ALICE, body("e1"))
    await gw.relay.drain()
    for _ in range(3):
        clock.advance(TIMEOUT_S + 1)
        await gw.relay.scan()
    assert [event.attempt for event in gw.publisher.published] == [1, 2, 3]
    stored = await gw.repo.get("alice-id", "e1")
    assert stored is not None
    assert stored.status == "failed"
    assert stored.error is not None
    assert "3 dispatches" in stored.error
    assert [(e.ecg_id, e.type) for e in gw.publisher.announced] == [("e1", "ecg.status_changed.v1")]


async def test_a_retry_is_recognised_and_a_different_ecg_is_a_conflict(clock: Clock) -> None:
    gw = gateway(clock)
    first = await gw.service.submit(ALICE, body("e1"))
    clock.advance(5)
    again = await gw.service.submit(ALICE, body("e1"))
    assert (first.created, again.created) == (True, False)
    assert (again.ecg_id, again.status) == (first.ecg_id, "pending")
    with pytest.raises(EcgConflict):
        await gw.service.submit(ALICE, body("e1", rate=250))
    await gw.relay.drain()
    assert len(gw.publisher.published) == 1


async def test_the_total_sample_cap_is_enforced(clock: Clock) -> None:
    with pytest.raises(TooManySamples, match="limit is 2"):
        await gateway(clock, max_total_samples=2).service.submit(ALICE, body("big"))


async def test_concurrent_results_are_stored_in_fewer_writes_and_each_announced(
    clock: Clock,
) -> None:
    gw = gateway(clock)
    for index in range(20):
        await gw.service.submit(ALICE, body(f"e{index}"))
    outcomes = await asyncio.gather(
        *(gw.service.record_result(analyzed(f"e{index}")) for index in range(20)),
        gw.service.record_result(analyzed("e0")),
        gw.service.record_result(analyzed("ghost")),
    )
    assert outcomes == ["stored"] * 20 + ["duplicate", "unknown"]
    assert gw.repo.result_writes < 5
    assert sorted(e.ecg_id for e in gw.publisher.announced) == sorted(f"e{i}" for i in range(20))


async def test_a_long_poll_answers_when_the_change_arrives(clock: Clock) -> None:
    gw = gateway(clock)
    await gw.service.submit(ALICE, body("e1"))
    waiting = asyncio.create_task(gw.service.status(ALICE, "e1", wait_s=30))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    await gw.service.record_result(analyzed("e1"))
    [event] = gw.publisher.announced
    gw.hub.publish(StatusChange("alice-id", "e1", "done", {"version": 1}, None, event.event_id))
    answer = await asyncio.wait_for(waiting, 1)
    assert (answer.ecg_id, answer.status) == ("e1", "done")


async def test_a_long_poll_times_out_pending_and_a_done_ecg_answers_at_once(clock: Clock) -> None:
    gw = gateway(clock)
    await gw.service.submit(ALICE, body("e1"))
    assert (await gw.service.status(ALICE, "e1", wait_s=0.05)).status == "pending"
    await gw.service.record_result(analyzed("e1"))
    assert (await asyncio.wait_for(gw.service.status(ALICE, "e1", wait_s=30), 1)).status == "done"


async def test_status_is_per_owner_and_not_for_admins(clock: Clock) -> None:
    gw = gateway(clock)
    await gw.service.submit(ALICE, body("e1"))
    with pytest.raises(EcgNotFound):
        await gw.service.status(Principal("bob-id", "bob", "user"), "e1", wait_s=0.01)
    with pytest.raises(Forbidden):
        await gw.service.status(ADMIN, "e1")
    with pytest.raises(Forbidden):
        gw.service.subscribe(ADMIN)


async def test_with_the_feed_up_status_reads_need_no_database_lookup(clock: Clock) -> None:
    gw = gateway(clock)
    gw.hub.resync()
    await gw.service.submit(ALICE, body("e1"))
    assert (await gw.service.status(ALICE, "e1")).status == "pending"
    await gw.service.record_result(analyzed("e1"))
    done = await gw.service.status(ALICE, "e1", wait_s=30)
    assert done.status == "done"
    assert done.insights == analyzed("e1").insights.model_dump(mode="json")
    assert gw.repo.status_reads == 0
    with pytest.raises(EcgNotFound):
        await gw.service.status(Principal("bob-id", "bob", "user"), "e1")
    assert gw.repo.status_reads == 1, "what it does not know, it reads"


async def test_a_deleted_ecg_is_forgotten_and_announced(clock: Clock) -> None:
    gw = gateway(clock)
    gw.hub.resync()
    await gw.service.submit(ALICE, body("e1"))
    await gw.service.record_result(analyzed("e1"))
    await gw.service.delete(ALICE, "e1")
    with pytest.raises(EcgNotFound):
        await gw.service.status(ALICE, "e1")
    assert gw.publisher.announced[-1].type == "ecg.deleted.v1"


async def test_with_the_feed_down_every_status_read_goes_to_the_database(clock: Clock) -> None:
    gw = gateway(clock)
    gw.hub.resync()
    await gw.service.submit(ALICE, body("e1"))
    gw.hub.feed_down()
    await gw.repo.record_results(
        [StatusChange("alice-id", "e1", "failed", None, "stored elsewhere", "x")]
    )
    assert (await gw.service.status(ALICE, "e1")).status == "failed"
    assert gw.repo.status_reads == 1
