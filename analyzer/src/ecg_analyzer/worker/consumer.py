"""The analyzer actor: ``ecg.submitted`` in, ``ecg.analyzed`` or ``ecg.analysis_failed`` out.

Signal work runs in a process pool so the event loop keeps heartbeats and acks flowing.
A message is acked only after its result event is confirmed by the broker. An undecodable
message is dead-lettered at once; an analysis that raises is retried ``max_retries`` times
(a retry count in a header, which works on every RabbitMQ version), then dead-lettered with
an ``ecg.analysis_failed`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
)
from aiormq.abc import FieldTable
from ecg_contracts import events
from ecg_contracts.events import EcgAnalysisFailed, EcgAnalyzed, EcgSubmitted
from ecg_contracts.insights import Insights
from ecg_contracts.topology import dead_letter_exchange, dead_letter_queue, queue_arguments
from pydantic import ValidationError
from yarl import URL

from ecg_analyzer.settings import AnalyzerSettings
from ecg_analyzer.worker.tasks import analyze_submitted

log = logging.getLogger(__name__)
RETRY_HEADER = "x-ecg-retries"
PUBLISH_TIMEOUT_S = 30.0
CONNECT_RETRY_S = 2.0
Analyze = Callable[[EcgSubmitted], Insights]


def with_heartbeat(url: str, heartbeat_s: int) -> str:
    parsed = URL(url)
    if "heartbeat" in parsed.query:
        return url
    return str(parsed.update_query(heartbeat=heartbeat_s))


def readable_ids(body: bytes) -> tuple[str, str] | None:
    """The ECG and owner ids of a message that failed validation, when they can be read."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        ecg_id, owner_id = data.get("ecg_id"), data.get("owner_id")
        if isinstance(ecg_id, str) and isinstance(owner_id, str):
            return ecg_id, owner_id
    return None


class Worker:
    """Composition root of the analyzer."""

    def __init__(self, settings: AnalyzerSettings, analyze: Analyze = analyze_submitted) -> None:
        self.settings = settings
        self._analyze = analyze
        self._pool: Executor | None = None
        self._exchange: AbstractExchange | None = None
        self._channel: AbstractChannel | None = None
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.ready = asyncio.Event()
        self.analyzed = 0
        self.reconnects = 0

    @property
    def in_flight(self) -> int:
        """Messages being handled right now."""
        return self._in_flight

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish in-flight work and close.

        A plain connection is used and, when it drops, rebuilt from scratch with its
        declarations and consumer, rather than relying on automatic restoration.
        """
        self._pool = ProcessPoolExecutor(max_workers=self.settings.pool_size)
        try:
            while not stop.is_set():
                connection = await self._connect(stop)
                if connection is None:
                    return
                try:
                    await self._consume_until(stop, connection)
                finally:
                    await connection.close()
                if not stop.is_set():
                    self.reconnects += 1
                    log.warning("lost the broker connection; reconnecting")
        finally:
            # Joining the worker processes blocks: not on the event loop.
            await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

    async def _consume_until(self, stop: asyncio.Event, connection: AbstractConnection) -> None:
        settings = self.settings
        closed = asyncio.Event()
        connection.close_callbacks.add(lambda *_: closed.set())
        channel = await connection.channel(publisher_confirms=True, on_return_raises=False)
        self._channel = channel
        await channel.set_qos(prefetch_count=settings.prefetch)
        exchange = await channel.declare_exchange(
            settings.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        self._exchange = exchange
        dead_exchange = await channel.declare_exchange(
            dead_letter_exchange(settings.exchange), aio_pika.ExchangeType.DIRECT, durable=True
        )
        dead_queue = await channel.declare_queue(
            dead_letter_queue(settings.analyzer_queue), durable=True
        )
        await dead_queue.bind(dead_exchange, routing_key=settings.analyzer_queue)
        arguments: FieldTable = {**queue_arguments(settings.exchange, settings.analyzer_queue)}
        queue = await channel.declare_queue(
            settings.analyzer_queue, durable=True, arguments=arguments
        )
        await queue.bind(exchange, routing_key=events.SUBMITTED_PATTERN)
        tag = await queue.consume(self._on_message)
        log.info("consuming", extra={"queue": settings.analyzer_queue})
        self.ready.set()
        stopping = asyncio.ensure_future(stop.wait())
        dropped = asyncio.ensure_future(closed.wait())
        await asyncio.wait([stopping, dropped], return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        dropped.cancel()
        if stop.is_set() and not closed.is_set():
            log.info("stopping: no new messages, finishing in-flight work")
            await queue.cancel(tag)
            await self._idle.wait()

    async def _connect(self, stop: asyncio.Event) -> AbstractConnection | None:
        """A connection, retried while the broker is away; None once stopped."""
        url = with_heartbeat(self.settings.amqp_url, self.settings.heartbeat_s)
        while not stop.is_set():
            try:
                return await aio_pika.connect(
                    url, client_properties={"connection_name": "analyzer"}
                )
            except (OSError, aio_pika.exceptions.AMQPError) as error:
                log.warning("broker unavailable; retrying", extra={"error": repr(error)})
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=CONNECT_RETRY_S)
        return None

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            await self._handle(message)
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _handle(self, message: AbstractIncomingMessage) -> None:
        async with message.process(requeue=False, ignore_processed=True):
            try:
                event = EcgSubmitted.model_validate_json(message.body)
            except ValidationError as error:
                await self._dead_letter(message, f"invalid ecg.submitted message: {error}")
                return
            log.info("analyzing", extra={"ecg_id": event.ecg_id, "attempt": event.attempt})
            try:
                insights = await self._run_analysis(event)
            except Exception as error:
                await self._retry_or_fail(message, event, error)
                return
            await self._publish(
                EcgAnalyzed(ecg_id=event.ecg_id, owner_id=event.owner_id, insights=insights)
            )
            self.analyzed += 1
            log.info("analyzed", extra={"ecg_id": event.ecg_id})

    async def _run_analysis(self, event: EcgSubmitted) -> Insights:
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, self._analyze, event)
        except BrokenProcessPool:
            log.error("a worker process died; replacing the pool")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = ProcessPoolExecutor(max_workers=self.settings.pool_size)
            raise

    async def _retry_or_fail(
        self, message: AbstractIncomingMessage, event: EcgSubmitted, error: Exception
    ) -> None:
        headers: dict[str, Any] = dict(message.headers or {})
        retries = int(headers.get(RETRY_HEADER, 0) or 0)
        if retries < self.settings.max_retries:
            log.warning(
                "analysis raised; retrying",
                extra={"ecg_id": event.ecg_id, "retry": retries + 1, "error": repr(error)},
            )
            assert self._channel is not None
            retry = aio_pika.Message(
                body=message.body,
                headers={**headers, RETRY_HEADER: retries + 1},
                content_type=message.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message.message_id,
                correlation_id=message.correlation_id,
                type=message.type,
            )
            await self._channel.default_exchange.publish(
                retry, self.settings.analyzer_queue, timeout=PUBLISH_TIMEOUT_S
            )
            await message.ack()
            return
        await self._dead_letter(
            message, f"analysis failed after {retries + 1} attempts: {error!r}", event
        )

    async def _dead_letter(
        self, message: AbstractIncomingMessage, reason: str, event: EcgSubmitted | None = None
    ) -> None:
        ids = (event.ecg_id, event.owner_id) if event else readable_ids(message.body)
        log.error("dead-lettering a message", extra={"reason": reason[:1000], "ids": ids})
        if ids is not None:
            await self._publish(
                EcgAnalysisFailed(ecg_id=ids[0], owner_id=ids[1], reason=reason[:2000])
            )
        await message.reject(requeue=False)

    async def _publish(self, event: EcgAnalyzed | EcgAnalysisFailed) -> None:
        assert self._exchange is not None
        message = aio_pika.Message(
            event.model_dump_json().encode(), **events.message_properties(event)
        )
        await self._exchange.publish(message, events.routing_key(event), timeout=PUBLISH_TIMEOUT_S)
