"""The analyzer actor: ``ecg.submitted`` in, ``ecg.analyzed`` or ``ecg.analysis_failed`` out.

Three parts: the shared supervised connection (``ecg_amqp``), the handler's outcome rules
(:mod:`ecg_analyzer.worker.handling`) and the process pool (:mod:`ecg_analyzer.worker.pool`).
This module decodes each message, calls the handler and applies its outcome: a message is
acked only after its result event is confirmed by the broker; a retry is a nack the quorum
queue counts (``x-delivery-count``), and its ``x-delivery-limit`` dead-letters a message
that keeps killing its consumer.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aio_pika.abc import AbstractIncomingMessage
from ecg_amqp.connection import BrokerConfig, Session, Supervisor, parse_urls
from ecg_amqp.publishing import EventPublisher
from ecg_amqp.topology import WorkQueue, declare_work_queue
from ecg_contracts import events
from ecg_contracts.events import EcgSubmitted
from pydantic import ValidationError

from ecg_analyzer.settings import AnalyzerSettings
from ecg_analyzer.worker.handling import (
    Analyzed,
    DeadLetter,
    Outcome,
    Retry,
    SubmittedHandler,
    undecodable,
)
from ecg_analyzer.worker.pool import AnalysisPool, Analyze
from ecg_analyzer.worker.tasks import analyze_submitted

log = logging.getLogger(__name__)
PUBLISH_TIMEOUT_S = 30.0
DELIVERY_COUNT = "x-delivery-count"


def failed_deliveries(message: AbstractIncomingMessage) -> int:
    """Earlier deliveries of this message that did not end in an ack."""
    headers: dict[str, Any] = dict(message.headers or {})
    count = headers.get(DELIVERY_COUNT, 0)
    return int(count) if isinstance(count, int) else 0


class Worker:
    """Composition root of the analyzer."""

    def __init__(self, settings: AnalyzerSettings, analyze: Analyze = analyze_submitted) -> None:
        self.settings = settings
        self._publisher = EventPublisher(timeout_s=PUBLISH_TIMEOUT_S)
        self._supervisor = Supervisor(
            BrokerConfig(
                urls=parse_urls(settings.amqp_url),
                exchange=settings.exchange,
                prefetch=settings.prefetch,
                connection_name="analyzer",
                heartbeat_s=settings.heartbeat_s,
            )
        )
        self._queue = WorkQueue(
            settings.analyzer_queue,
            (events.SUBMITTED_PATTERN,),
            delivery_limit=settings.max_retries,
        )
        self._pool = AnalysisPool(analyze, settings.pool_size)
        self._handler = SubmittedHandler(self._pool, settings.max_retries)
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.ready = asyncio.Event()
        self.analyzed = 0

    @property
    def in_flight(self) -> int:
        """Messages being handled right now."""
        return self._in_flight

    @property
    def reconnects(self) -> int:
        return self._supervisor.reconnects

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish in-flight work and close."""
        try:
            await self._supervisor.run(
                lambda session: self._serve(session, stop),
                stop,
                on_down=lambda: self._publisher.attach(None),
            )
        finally:
            await self._pool.close()

    async def _serve(self, session: Session, stop: asyncio.Event) -> None:
        queue = await declare_work_queue(session, self._queue)
        self._publisher.attach(session)
        tag = await queue.consume(self._on_message)
        log.info("consuming", extra={"queue": self._queue.name})
        self.ready.set()
        if await session.wait_closed_or(stop):
            log.info("stopping: no new messages, finishing in-flight work")
            await queue.cancel(tag)
            await self._idle.wait()

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        self._in_flight += 1
        self._idle.clear()
        try:
            async with message.process(requeue=False, ignore_processed=True):
                await self._apply(message, await self._decide(message))
        finally:
            self._in_flight -= 1
            if self._in_flight == 0:
                self._idle.set()

    async def _decide(self, message: AbstractIncomingMessage) -> Outcome:
        try:
            event = EcgSubmitted.model_validate_json(message.body)
        except ValidationError as error:
            return undecodable(message.body, error)
        log.info("analyzing", extra={"ecg_id": event.ecg_id, "attempt": event.attempt})
        return await self._handler(event, failed_deliveries(message))

    async def _apply(self, message: AbstractIncomingMessage, outcome: Outcome) -> None:
        if isinstance(outcome, Analyzed):
            await self._publisher.publish(outcome.result, mandatory=False)
            await message.ack()
            self.analyzed += 1
            log.info("analyzed", extra={"ecg_id": outcome.result.ecg_id})
        elif isinstance(outcome, Retry):
            log.warning("analysis raised; retrying", extra={"reason": outcome.reason[:1000]})
            await message.nack(requeue=True)
        elif isinstance(outcome, DeadLetter):
            log.error("dead-lettering a message", extra={"reason": outcome.reason[:1000]})
            if outcome.failure is not None:
                await self._publisher.publish(outcome.failure, mandatory=False)
            await message.reject(requeue=False)
