"""The gateway's AMQP adapters on the shared layer: its publisher, the results consumer and
the status feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aio_pika.abc import AbstractIncomingMessage, AbstractQueue
from ecg_amqp.connection import Session
from ecg_amqp.publishing import EventPublisher
from ecg_amqp.topology import declare_notification_queue
from ecg_contracts import events
from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
    EcgSubmitted,
)
from pydantic import ValidationError

log = logging.getLogger(__name__)

ResultHandler = Callable[[EcgAnalyzed | EcgAnalysisFailed], Awaitable[object]]
FeedHandler = Callable[[EcgStatusChanged | EcgDeleted], None]
STATUS_FEED_TTL_MS = 60_000
STATUS_FEED_MAX_LENGTH = 10_000
RETRY_DELAY_S = 1.0


class AmqpEventPublisher:
    """The gateway's events on the shared confirmed publisher."""

    def __init__(self, publisher: EventPublisher | None = None) -> None:
        self._publisher = publisher or EventPublisher()

    def attach(self, session: Session | None) -> None:
        self._publisher.attach(session)

    @property
    def connected(self) -> bool:
        return self._publisher.connected

    async def queue_depth(self, queue: str) -> int | None:
        return await self._publisher.queue_depth(queue)

    async def publish_submitted(self, event: EcgSubmitted) -> None:
        await self._publisher.publish(event, mandatory=True)

    async def publish_status_changed(self, event: EcgStatusChanged) -> None:
        """Not mandatory: with no gateway listening, nobody needs waking."""
        await self._publisher.publish(event, mandatory=False)

    async def publish_deleted(self, event: EcgDeleted) -> None:
        await self._publisher.publish(event, mandatory=False)


async def consume_results(queue: AbstractQueue, handler: ResultHandler) -> str:
    """Decode each completion event and hand it to ``handler``; ack after it returns.

    Undecodable messages are dead-lettered. A handler failure (the database is away)
    requeues the message after a pause, so no result is lost.
    """

    async def on_message(message: AbstractIncomingMessage) -> None:
        async with message.process(requeue=True, ignore_processed=True):
            try:
                event = events.result_event_adapter.validate_json(message.body)
            except ValidationError as error:
                log.warning(
                    "dead-lettering an undecodable result",
                    extra={"message_id": message.message_id, "error": str(error)[:500]},
                )
                await message.reject(requeue=False)
                return
            log.debug("result received", extra={"ecg_id": event.ecg_id, "type": event.type})
            try:
                await handler(event)
            except Exception:
                log.exception("storing a result failed; requeueing it")
                await asyncio.sleep(RETRY_DELAY_S)
                raise

    return await queue.consume(on_message)


async def consume_status_feed(session: Session, handler: FeedHandler) -> None:
    """This gateway's own view of every stored status and deletion: an exclusive,
    auto-deleted queue (gone with the connection; bounded meanwhile), consumed without
    acks."""
    queue = await declare_notification_queue(
        session,
        (events.STATUS_CHANGED_PATTERN, events.DELETED_PATTERN),
        STATUS_FEED_TTL_MS,
        STATUS_FEED_MAX_LENGTH,
    )

    async def on_message(message: AbstractIncomingMessage) -> None:
        try:
            event = events.feed_event_adapter.validate_json(message.body)
        except ValidationError as error:
            log.warning(
                "ignoring an undecodable status change",
                extra={"message_id": message.message_id, "error": str(error)[:500]},
            )
            return
        handler(event)

    await queue.consume(on_message, no_ack=True)
