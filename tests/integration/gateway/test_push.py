"""Push, not poll: long-polled insights and the Server-Sent Events stream, on the real
broker and database. Results are injected as the analyzer would publish them."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from aiohttp import ClientResponse
from ecg_contracts import events
from ecg_contracts.events import EcgAnalysisFailed, EcgAnalyzed
from pymongo import AsyncMongoClient

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_results import insights, publish, submit
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration
Observer = Callable[[float], Awaitable[aio_pika.abc.AbstractIncomingMessage]]


async def stored_at(services: ServiceUrls, db: str, key: str) -> float:
    """When the database first shows the ECG's result, on the monotonic clock."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(services.mongo_url)
    try:
        while True:
            doc = await client[db].ecgs.find_one({"_id": key}, {"status": 1})
            if doc is not None and doc["status"] != "pending":
                return time.monotonic()
            await asyncio.sleep(0.005)
    finally:
        await client.close()


async def test_a_long_poll_answers_within_200_ms_of_the_result_being_stored(
    gateway: Gateway, services: ServiceUrls, observer: Observer
) -> None:
    user, user_id = await gateway.new_user()
    await submit(gateway, user, "waited")
    await observer(10)

    async def long_poll() -> tuple[float, dict[str, Any]]:
        response = await gateway.client.get("/ecg/waited/insights?wait=20", headers=user)
        body = await response.json()
        return time.monotonic(), body

    polling = asyncio.create_task(long_poll())
    await asyncio.sleep(0.5)
    assert not polling.done(), "a pending ECG's long poll must wait"
    watching = asyncio.create_task(
        stored_at(services, gateway.settings.mongo_db, f"{user_id}:waited")
    )
    await publish(
        services,
        gateway.settings.exchange,
        EcgAnalyzed(ecg_id="waited", owner_id=user_id, insights=insights(7)),
        events.ANALYZED,
    )
    returned, body = await asyncio.wait_for(polling, 10)
    stored = await asyncio.wait_for(watching, 10)
    assert body["status"] == "done"
    assert body["insights"]["leads"][0]["zero_crossings"] == 7
    assert returned - stored <= 0.2, f"answered {returned - stored:.3f} s after the store"


async def test_a_long_poll_times_out_with_pending(gateway: Gateway, observer: Observer) -> None:
    user, _ = await gateway.new_user()
    await submit(gateway, user, "slow")
    started = time.monotonic()
    response = await gateway.client.get("/ecg/slow/insights?wait=0.6", headers=user)
    assert response.status == 200
    assert (await response.json())["status"] == "pending"
    assert response.headers["Retry-After"]
    assert time.monotonic() - started >= 0.6


async def test_a_finished_ecg_answers_a_long_poll_at_once_and_others_get_404(
    gateway: Gateway, services: ServiceUrls, observer: Observer
) -> None:
    alice, alice_id = await gateway.new_user("alice")
    bob, _ = await gateway.new_user("bob")
    await submit(gateway, alice, "failing")
    await publish(
        services,
        gateway.settings.exchange,
        EcgAnalysisFailed(ecg_id="failing", owner_id=alice_id, reason="unreadable"),
        events.ANALYSIS_FAILED,
    )
    assert (await gateway.wait_for_status(alice, "failing"))["status"] == "failed"
    answer = await asyncio.wait_for(
        gateway.client.get("/ecg/failing/insights?wait=60", headers=alice), 5
    )
    assert (await answer.json())["error"] == "unreadable"
    hidden = await gateway.client.get("/ecg/failing/insights?wait=1", headers=bob)
    assert hidden.status == 404
    assert hidden.content_type == "application/problem+json"


@pytest.mark.parametrize("wait", ["0", "-1", "61", "abc", "nan", "inf", ""])
async def test_a_bad_wait_is_a_400_problem(gateway: Gateway, wait: str) -> None:
    user, _ = await gateway.new_user()
    await submit(gateway, user, "any")
    response = await gateway.client.get(f"/ecg/any/insights?wait={wait}", headers=user)
    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert "wait" in (await response.json())["detail"]


async def read_events(response: ClientResponse, wanted: int) -> list[tuple[str, dict[str, Any]]]:
    """The first ``wanted`` named events of an SSE stream (comments skipped)."""
    found: list[tuple[str, dict[str, Any]]] = []
    name, data = "", ""
    while len(found) < wanted:
        line = (await response.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data = line.removeprefix("data: ")
        elif line == "" and name:
            found.append((name, json.loads(data)))
            name, data = "", ""
    return found


async def test_the_event_stream_delivers_the_callers_own_changes_only(
    gateway: Gateway, services: ServiceUrls, observer: Observer
) -> None:
    alice, alice_id = await gateway.new_user("alice")
    bob, bob_id = await gateway.new_user("bob")
    await submit(gateway, alice, "alice-ecg")
    await submit(gateway, bob, "bob-ecg")
    stream = await gateway.client.get("/ecg/events", headers=alice)
    assert stream.status == 200
    assert stream.content_type == "text/event-stream"
    assert (await stream.content.readline()).startswith(b"retry: ")

    for owner_id, ecg_id in ((bob_id, "bob-ecg"), (alice_id, "alice-ecg")):
        await publish(
            services,
            gateway.settings.exchange,
            EcgAnalyzed(ecg_id=ecg_id, owner_id=owner_id, insights=insights(1)),
            events.ANALYZED,
        )
    assert (await gateway.wait_for_status(bob, "bob-ecg"))["status"] == "done"
    [(name, data)] = await asyncio.wait_for(read_events(stream, 1), 10)
    assert name == "status"
    assert data == {
        "id": "alice-ecg",
        "status": "done",
        "links": {"ecg": "/ecg/alice-ecg", "insights": "/ecg/alice-ecg/insights"},
    }
    stream.close()


async def test_the_event_stream_is_for_users_only_and_keeps_alive(
    make_gateway: Callable[..., Awaitable[Gateway]],
) -> None:
    gateway = await make_gateway(sse_keepalive_s=0.2)
    assert (await gateway.client.get("/ecg/events")).status == 401
    forbidden = await gateway.client.get("/ecg/events", headers=await gateway.admin())
    assert forbidden.status == 403
    assert forbidden.content_type == "application/problem+json"
    user, _ = await gateway.new_user()
    stream = await gateway.client.get("/ecg/events", headers=user)
    lines = [await asyncio.wait_for(stream.content.readline(), 5) for _ in range(5)]
    assert b": keep-alive\n" in lines
    stream.close()


async def test_events_is_a_reserved_ecg_id(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", json={"id": "events", "leads": [{"name": "I", "signal": [1]}]}, headers=user
    )
    assert response.status == 422
    assert "reserved" in json.dumps(await response.json())
