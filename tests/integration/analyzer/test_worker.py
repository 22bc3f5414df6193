from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from ecg_analyzer.settings import AnalyzerSettings
from ecg_analyzer.worker.consumer import Worker
from ecg_analyzer.worker.pool import Analyze
from ecg_analyzer.worker.tasks import analyze_submitted
from ecg_contracts import events
from ecg_contracts.events import EcgAnalysisFailed, EcgAnalyzed, EcgSubmitted, SubmittedLead
from ecg_contracts.insights import Insights
from ecg_contracts.signal import encode_signal

from tests.services import ServiceUrls

pytestmark = pytest.mark.integration


def always_raises(event: EcgSubmitted) -> Insights:
    raise RuntimeError(f"analysis of {event.ecg_id} exploded")


def three_second_analysis(event: EcgSubmitted) -> Insights:
    time.sleep(3)
    return analyze_submitted(event)


def slow_analysis(event: EcgSubmitted) -> Insights:
    """Holds a worker process for 16 s: three 5 s heartbeats would be missed on the loop."""
    time.sleep(16)
    return analyze_submitted(event)


@dataclass
class Harness:
    worker: Worker
    exchange: aio_pika.abc.AbstractExchange
    results: AbstractQueue
    channel: aio_pika.abc.AbstractChannel
    names: dict[str, str]
    stop: asyncio.Event
    task: asyncio.Task[None]

    async def send(self, body: bytes, routing_key: str = events.SUBMITTED) -> None:
        await self.exchange.publish(
            aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), routing_key
        )

    async def next_result(self, timeout_s: float = 20) -> AbstractIncomingMessage:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            message = await self.results.get(fail=False, no_ack=True)
            if message is not None:
                return message
            await asyncio.sleep(0.05)
        raise AssertionError("no result event arrived")

    async def depth(self, queue: str) -> int:
        declared = await self.channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count or 0


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def start_worker(
    services: ServiceUrls, amqp_names: dict[str, str]
) -> AsyncIterator[HarnessFactory]:
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []
    connection = await aio_pika.connect(services.amqp_url)
    channel = await connection.channel(publisher_confirms=True)

    async def start(analyze: Analyze = analyze_submitted, **overrides: Any) -> Harness:
        settings = AnalyzerSettings(
            amqp_url=services.amqp_url,
            exchange=amqp_names["exchange"],
            analyzer_queue=amqp_names["analyzer_queue"],
            pool_size=1,
            **overrides,
        )
        worker = Worker(settings, analyze=analyze)
        task = asyncio.create_task(worker.run(stop))
        tasks.append(task)
        await asyncio.wait_for(worker.ready.wait(), timeout=20)
        exchange = await channel.get_exchange(amqp_names["exchange"])
        results = await channel.declare_queue(amqp_names["observer_queue"], durable=False)
        await results.bind(exchange, events.ANALYZED_PATTERN)
        await results.bind(exchange, events.ANALYSIS_FAILED_PATTERN)
        return Harness(worker, exchange, results, channel, amqp_names, stop, task)

    yield start
    stop.set()
    for task in tasks:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=30)
    await connection.close()


def submitted(ecg_id: str, *signals: list[int], rate: float | None = None) -> EcgSubmitted:
    return EcgSubmitted(
        ecg_id=ecg_id,
        owner_id="owner-1",
        sampling_rate_hz=rate,
        leads=[
            SubmittedLead(name=f"L{index}", signal=encode_signal(signal))
            for index, signal in enumerate(signals)
        ],
    )


async def test_a_submitted_ecg_comes_back_analyzed(start_worker: HarnessFactory) -> None:
    harness: Harness = await start_worker()
    event = submitted("e-1", [1, 0, -1], [1, 0, 0, 1], [1, -1, 1], [0, 0, 0], [40000, -40000])
    await harness.send(event.model_dump_json().encode())
    message = await harness.next_result()
    result = EcgAnalyzed.model_validate_json(message.body)
    assert (result.ecg_id, result.owner_id) == ("e-1", "owner-1")
    assert [lead.zero_crossings for lead in result.insights.leads] == [1, 0, 2, 0, 1]
    assert message.routing_key == events.ANALYZED
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == result.event_id
    assert message.correlation_id == "e-1"
    assert message.content_type == "application/json"
    assert await harness.depth(harness.names["analyzer_queue"]) == 0


async def test_the_same_ecg_analyzed_twice_gives_identical_insights(
    start_worker: HarnessFactory,
) -> None:
    harness: Harness = await start_worker()
    body = submitted("twice", [3, -2, 5, -7, 0, 1] * 50, rate=250).model_dump_json().encode()
    await harness.send(body)
    await harness.send(body)
    first = EcgAnalyzed.model_validate_json((await harness.next_result()).body)
    second = EcgAnalyzed.model_validate_json((await harness.next_result()).body)
    assert first.insights == second.insights
    assert first.event_id != second.event_id


@pytest.mark.parametrize(
    ("body", "ids_readable"),
    [
        (b"\x00 not json", False),
        (json.dumps({"ecg_id": "p-1", "owner_id": "owner-1", "leads": "nope"}).encode(), True),
        (
            json.dumps(
                {
                    "ecg_id": "p-2",
                    "owner_id": "owner-1",
                    "type": "ecg.submitted.v1",
                    "leads": [{"name": "I", "signal": {"dtype": "int8", "data": ""}}],
                }
            ).encode(),
            True,
        ),
    ],
)
async def test_a_poison_message_is_dead_lettered_once(
    start_worker: HarnessFactory, body: bytes, ids_readable: bool
) -> None:
    harness: Harness = await start_worker()
    await harness.send(body)
    dead = harness.names["analyzer_queue"] + ".dead"
    for _ in range(200):
        if await harness.depth(dead) == 1:
            break
        await asyncio.sleep(0.05)
    assert await harness.depth(dead) == 1
    if ids_readable:
        failure = EcgAnalysisFailed.model_validate_json((await harness.next_result()).body)
        assert failure.ecg_id == json.loads(body)["ecg_id"]
        assert "invalid" in failure.reason
    else:
        with pytest.raises(AssertionError, match="no result"):
            await harness.next_result(timeout_s=1)
    assert await harness.depth(harness.names["analyzer_queue"]) == 0


async def test_an_analysis_that_raises_is_retried_then_failed(start_worker: HarnessFactory) -> None:
    harness: Harness = await start_worker(analyze=always_raises, max_retries=2)
    await harness.send(submitted("boom", [1, -1]).model_dump_json().encode())
    message = await harness.next_result()
    failure = EcgAnalysisFailed.model_validate_json(message.body)
    assert message.routing_key == events.ANALYSIS_FAILED
    assert failure.ecg_id == "boom"
    assert "after 3 attempts" in failure.reason
    assert "exploded" in failure.reason
    assert await harness.depth(harness.names["analyzer_queue"] + ".dead") == 1
    with pytest.raises(AssertionError, match="no result"):
        await harness.next_result(timeout_s=1)


async def test_a_long_analysis_keeps_the_connection_and_is_acked_once(
    start_worker: HarnessFactory,
) -> None:
    harness: Harness = await start_worker(analyze=slow_analysis, heartbeat_s=5)
    await harness.send(submitted("slow", [1, -1, 1]).model_dump_json().encode())
    result = EcgAnalyzed.model_validate_json((await harness.next_result(timeout_s=40)).body)
    assert result.ecg_id == "slow"
    with pytest.raises(AssertionError, match="no result"):
        await harness.next_result(timeout_s=3)
    assert harness.worker.reconnects == 0
    assert harness.worker.analyzed == 1
    assert await harness.depth(harness.names["analyzer_queue"]) == 0


async def test_stopping_finishes_in_flight_work_and_acks_it(start_worker: HarnessFactory) -> None:
    harness: Harness = await start_worker(analyze=three_second_analysis)
    await harness.send(submitted("in-flight", [1, -1, 1]).model_dump_json().encode())
    for _ in range(500):
        if harness.worker.in_flight:
            break
        await asyncio.sleep(0.02)
    assert harness.worker.in_flight == 1
    harness.stop.set()
    await asyncio.wait_for(harness.task, timeout=20)
    await harness.send(submitted("after-stop", [1, -1]).model_dump_json().encode())
    result = EcgAnalyzed.model_validate_json((await harness.next_result()).body)
    assert result.ecg_id == "in-flight"
    assert harness.worker.analyzed == 1
    with pytest.raises(AssertionError, match="no result"):
        await harness.next_result(timeout_s=1)
    await asyncio.sleep(0.5)
    assert await harness.depth(harness.names["analyzer_queue"]) == 1, "nobody consumes any more"
