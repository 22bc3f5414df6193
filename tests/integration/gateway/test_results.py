from __future__ import annotations

import asyncio
import logging

import aio_pika
import pytest
from ecg_contracts import events
from ecg_contracts.events import EcgAnalysisFailed, EcgAnalyzed
from ecg_contracts.insights import Insights, LeadInsights
from pydantic import BaseModel

from tests.integration.gateway.conftest import Gateway
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration


def insights(zero_crossings: int) -> Insights:
    return Insights(
        leads=[
            LeadInsights(
                name="I",
                number_of_samples=3,
                zero_crossings=zero_crossings,
                min=-1,
                max=1,
                mean=0.0,
                std=1.0,
            )
        ]
    )


async def publish(services: ServiceUrls, exchange_name: str, event: BaseModel, key: str) -> None:
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(exchange_name)
        await exchange.publish(
            aio_pika.Message(
                event.model_dump_json().encode(), delivery_mode=aio_pika.DeliveryMode.PERSISTENT
            ),
            key,
        )


async def queue_depth(services: ServiceUrls, queue: str) -> int:
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


async def submit(gateway: Gateway, headers: dict[str, str], ecg_id: str) -> None:
    response = await gateway.client.post(
        "/ecg/",
        json={"id": ecg_id, "leads": [{"name": "I", "signal": [1, -1, 1]}]},
        headers=headers,
    )
    assert response.status == 202


async def test_a_duplicate_result_is_stored_once(gateway: Gateway, services: ServiceUrls) -> None:
    user, user_id = await gateway.new_user()
    await submit(gateway, user, "dup")
    first = EcgAnalyzed(ecg_id="dup", owner_id=user_id, insights=insights(2))
    await publish(services, gateway.settings.exchange, first, events.ANALYZED)
    stored = await gateway.wait_for_status(user, "dup")
    assert stored["status"] == "done"
    assert stored["insights"]["leads"][0]["zero_crossings"] == 2

    late = EcgAnalyzed(ecg_id="dup", owner_id=user_id, insights=insights(99))
    await publish(services, gateway.settings.exchange, first, events.ANALYZED)
    await publish(services, gateway.settings.exchange, late, events.ANALYZED)
    failure = EcgAnalysisFailed(ecg_id="dup", owner_id=user_id, reason="late failure")
    await publish(services, gateway.settings.exchange, failure, events.ANALYSIS_FAILED)
    for _ in range(50):
        if await queue_depth(services, gateway.settings.results_queue) == 0:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.3)
    again = await (await gateway.client.get("/ecg/dup/insights", headers=user)).json()
    assert again == stored


async def test_a_failure_event_marks_the_ecg_failed_with_its_reason(
    gateway: Gateway, services: ServiceUrls
) -> None:
    user, user_id = await gateway.new_user()
    await submit(gateway, user, "doomed")
    failure = EcgAnalysisFailed(ecg_id="doomed", owner_id=user_id, reason="the signal is garbage")
    await publish(services, gateway.settings.exchange, failure, events.ANALYSIS_FAILED)
    stored = await gateway.wait_for_status(user, "doomed")
    assert stored == {
        "ecg_id": "doomed",
        "status": "failed",
        "insights": None,
        "error": "the signal is garbage",
    }


async def test_a_result_for_an_unknown_ecg_is_acked_and_dropped(
    gateway: Gateway, services: ServiceUrls, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    ghost = EcgAnalyzed(ecg_id="ghost", owner_id="nobody", insights=insights(1))
    await publish(services, gateway.settings.exchange, ghost, events.ANALYZED)
    for _ in range(100):
        if any("unknown ECG" in record.getMessage() for record in caplog.records):
            break
        await asyncio.sleep(0.05)
    assert any("unknown ECG" in record.getMessage() for record in caplog.records)
    await asyncio.sleep(0.2)
    assert await queue_depth(services, gateway.settings.results_queue) == 0
    assert await queue_depth(services, gateway.settings.results_queue + ".dead") == 0


async def test_an_undecodable_result_is_dead_lettered(
    gateway: Gateway, services: ServiceUrls
) -> None:
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(gateway.settings.exchange)
        await exchange.publish(aio_pika.Message(b"{not json"), events.ANALYZED)
    dead = gateway.settings.results_queue + ".dead"
    for _ in range(100):
        if await queue_depth(services, dead) == 1:
            break
        await asyncio.sleep(0.05)
    assert await queue_depth(services, dead) == 1
