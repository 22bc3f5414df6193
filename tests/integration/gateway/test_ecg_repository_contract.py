"""The EcgRepository and DispatchQueue contracts, run against the in-memory fake and the
MongoDB adapter (each implements both)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import pytest
from ecg_gateway.model import (
    EcgAlreadyExists,
    EcgHeadRecord,
    EcgRecord,
    EcgStatusRecord,
    ResultOutcome,
    StatusChange,
    StoredLead,
)
from ecg_gateway.store.mongo import MongoEcgRepository, create_client, create_indexes
from ecg_gateway.store.ports import DispatchQueue, EcgRepository

from tests.fakes import InMemoryEcgRepository
from tests.services import ServiceUrls

T0 = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


class EcgStore(EcgRepository, DispatchQueue, Protocol):
    """Both ports, as each adapter under test implements them."""


async def record(
    repository: EcgStore,
    ecg_id: str,
    status: str,
    insights: dict[str, object] | None,
    error: str | None = None,
    event_id: str = "event-1",
) -> ResultOutcome:
    write = StatusChange("owner-a", ecg_id, status, insights, error, event_id)  # type: ignore[arg-type]
    [outcome] = await repository.record_results([write])
    return outcome


def ecg(ecg_id: str, owner: str = "owner-a", at: datetime = T0) -> EcgRecord:
    return EcgRecord(
        owner_id=owner,
        ecg_id=ecg_id,
        date=at,
        sampling_rate_hz=250.0,
        submitted_at=at,
        content_hash=f"hash-{ecg_id}",
        leads=[StoredLead("I", 3, "int16", b"\x01\x00\xff\xff\x02\x00")],
    )


@pytest.fixture(params=["in-memory", "mongo"])
async def repository(
    request: pytest.FixtureRequest, services: ServiceUrls, mongo_db_name: str
) -> AsyncIterator[EcgStore]:
    if request.param == "in-memory":
        yield InMemoryEcgRepository()
        return
    db_name = mongo_db_name
    client = create_client(services.mongo_url)
    await create_indexes(client[db_name])
    repository = MongoEcgRepository(client[db_name])
    await repository.adapt_to_server()
    yield repository
    await client.close()


async def test_a_stored_ecg_reads_back_with_its_bytes(repository: EcgStore) -> None:
    await repository.insert(ecg("e1"))
    stored = await repository.get("owner-a", "e1")
    assert stored == ecg("e1")
    assert await repository.get("owner-b", "e1") is None


async def test_a_leads_gain_reads_back_and_none_stays_none(repository: EcgStore) -> None:
    leads = [
        StoredLead("I", 3, "int16", b"\x01\x00\xff\xff\x02\x00", 200.0),
        StoredLead("II", 1, "int32", b"\x01\x00\x00\x00"),
    ]
    await repository.insert(replace(ecg("gains"), leads=leads))
    stored = await repository.get("owner-a", "gains")
    assert stored is not None
    assert [lead.units_per_mv for lead in stored.leads] == [200.0, None]
    assert stored.leads == leads


async def test_ids_are_unique_per_owner_only(repository: EcgStore) -> None:
    await repository.insert(ecg("same"))
    with pytest.raises(EcgAlreadyExists):
        await repository.insert(ecg("same"))
    await repository.insert(ecg("same", owner="owner-b"))


async def test_listing_is_newest_first_and_resumes_after_a_cursor(
    repository: EcgStore,
) -> None:
    for minute in range(5):
        await repository.insert(ecg(f"m{minute}", at=T0 + timedelta(minutes=minute)))
    await repository.insert(ecg("twin", at=T0 + timedelta(minutes=4)))
    await repository.insert(ecg("foreign", owner="owner-b"))
    first = await repository.list_page("owner-a", 3, None)
    assert [row.ecg_id for row in first] == ["twin", "m4", "m3"]
    last = first[-1]
    rest = await repository.list_page("owner-a", 10, (last.submitted_at, last.ecg_id))
    assert [row.ecg_id for row in rest] == ["m2", "m1", "m0"]
    assert rest[0].lead_names == ["I"]


async def test_only_a_pending_ecg_takes_a_result(repository: EcgStore) -> None:
    await repository.insert(ecg("r"))
    assert await record(repository, "r", "done", {"version": 1}) == "stored"
    assert await record(repository, "r", "failed", None, "late", "event-2") == "duplicate"
    assert await record(repository, "ghost", "done", {}) == "unknown"
    stored = await repository.get("owner-a", "r")
    assert stored is not None
    assert (stored.status, stored.insights, stored.error) == ("done", {"version": 1}, None)


async def test_a_batch_of_results_gets_one_outcome_each_in_order(
    repository: EcgStore,
) -> None:
    for ecg_id in ("b1", "b2", "b3"):
        await repository.insert(ecg(ecg_id))
    await record(repository, "b2", "done", {"early": True}, event_id="early")
    writes = [
        StatusChange("owner-a", "b1", "done", {"n": 1}, None, "x1"),
        StatusChange("owner-a", "b2", "done", {"n": 2}, None, "x2"),
        StatusChange("owner-a", "ghost", "done", {"n": 0}, None, "x0"),
        StatusChange("owner-a", "b3", "failed", None, "broken", "x3"),
        StatusChange("owner-a", "b1", "failed", None, "second", "x4"),
    ]
    assert await repository.record_results(writes) == [
        "stored",
        "duplicate",
        "unknown",
        "stored",
        "duplicate",
    ]
    assert await repository.record_results([]) == []
    assert await repository.get_status("owner-a", "b1") == EcgStatusRecord(
        "b1", "done", {"n": 1}, None
    )
    assert await repository.get_status("owner-a", "b3") == EcgStatusRecord(
        "b3", "failed", None, "broken"
    )
    assert await repository.get_status("owner-b", "b3") is None
    early = await repository.get_status("owner-a", "b2")
    assert early is not None
    assert early.insights == {"early": True}, "a stored result is never replaced"


async def test_status_reads_say_pending_before_a_result(repository: EcgStore) -> None:
    await repository.insert(ecg("s"))
    assert await repository.get_head("owner-a", "s") == EcgHeadRecord("s", "pending", "hash-s")
    assert await repository.get_head("owner-b", "s") is None
    assert await repository.get_status("owner-a", "s") == EcgStatusRecord(
        "s", "pending", None, None
    )
    assert await repository.get_status("owner-a", "missing") is None


async def test_the_outbox_state_is_stored_with_the_ecg_and_rescheduled_after_a_failed_publish(
    repository: EcgStore,
) -> None:
    due = T0 + timedelta(minutes=5)
    await repository.insert(replace(ecg("o"), dispatch_attempts=1, dispatch_due_at=due))
    assert await repository.due_dispatches(due - timedelta(seconds=1), 10) == []
    assert await repository.due_dispatches(due, 10) == [("owner-a", "o")]
    await repository.reschedule_dispatch("owner-a", "o", T0)
    assert await repository.due_dispatches(T0, 10) == [("owner-a", "o")]
    claimed = await repository.claim_dispatch("owner-a", "o", T0, T0 + timedelta(seconds=30))
    assert claimed is not None
    assert claimed.dispatch_attempts == 0, "the failed publish does not count"


async def test_dispatch_claims_are_leased_and_stop_once_analyzed(repository: EcgStore) -> None:
    await repository.insert(ecg("d"))
    await repository.insert(ecg("later", at=T0 + timedelta(seconds=5)))
    assert await repository.due_dispatches(T0, 10) == [("owner-a", "d")]
    assert await repository.due_dispatches(T0 + timedelta(seconds=5), 10) == [
        ("owner-a", "d"),
        ("owner-a", "later"),
    ]
    assert await repository.due_dispatches(T0 + timedelta(seconds=5), 1) == [("owner-a", "d")]
    assert await repository.claim_dispatch("owner-a", "later", T0, T0) is None, "not due yet"

    claimed = await repository.claim_dispatch("owner-a", "d", T0, T0 + timedelta(seconds=30))
    assert claimed is not None
    assert claimed.leads == ecg("d").leads
    assert await repository.due_dispatches(T0 + timedelta(seconds=10), 10) == [("owner-a", "later")]
    assert await repository.claim_dispatch("owner-a", "d", T0 + timedelta(seconds=10), T0) is None
    again = await repository.claim_dispatch(
        "owner-a", "d", T0 + timedelta(seconds=31), T0 + timedelta(minutes=1)
    )
    assert again is not None, "the lease lapsed"
    await repository.mark_dispatched("owner-a", "d", 1, T0 + timedelta(minutes=5))
    assert await repository.claim_dispatch("owner-a", "d", T0 + timedelta(minutes=4), T0) is None
    redo = await repository.claim_dispatch(
        "owner-a", "d", T0 + timedelta(minutes=5), T0 + timedelta(minutes=6)
    )
    assert redo is not None
    assert redo.dispatch_attempts == 1
    await record(repository, "d", "done", {})
    assert await repository.claim_dispatch("owner-a", "d", T0 + timedelta(days=1), T0) is None
    assert await repository.due_dispatches(T0 + timedelta(days=1), 10) == [("owner-a", "later")]


async def test_delete_removes_the_ecg(repository: EcgStore) -> None:
    await repository.insert(ecg("gone"))
    assert await record(repository, "gone", "done", {"old": True}) == "stored"
    assert await repository.delete("owner-a", "gone") is True
    assert await repository.get("owner-a", "gone") is None
    assert await repository.delete("owner-a", "gone") is False
    assert await record(repository, "gone", "done", {"late": True}) == "unknown"
    await repository.insert(ecg("gone"))
    assert await repository.get_status("owner-a", "gone") == EcgStatusRecord(
        "gone", "pending", None, None
    ), "a new ECG under a deleted one's id starts afresh"
    assert await record(repository, "gone", "done", {"new": True}, event_id="new") == "stored"
    fresh = await repository.get_status("owner-a", "gone")
    assert fresh is not None
    assert fresh.insights == {"new": True}


async def test_a_stored_result_survives_concurrent_dispatch_updates(
    repository: EcgStore,
) -> None:
    """FerretDB loses one of two concurrent updates of a document unless the adapter
    serializes them; a result reported as stored must stay stored."""
    for index in range(40):
        ecg_id = f"race-{index}"
        await repository.insert(ecg(ecg_id))
        outcomes = await asyncio.gather(
            repository.claim_dispatch("owner-a", ecg_id, T0, T0 + timedelta(seconds=30)),
            record(repository, ecg_id, "done", {"n": index}),
            repository.mark_dispatched("owner-a", ecg_id, 1, T0 + timedelta(minutes=5)),
        )
        stored = await repository.get("owner-a", ecg_id)
        assert stored is not None
        if outcomes[1] == "stored":
            assert (stored.status, stored.insights) == ("done", {"n": index}), ecg_id
