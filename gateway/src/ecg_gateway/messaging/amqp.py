"""aio-pika adapters: the confirmed publisher, the results consumer and the status feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractConnection,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
)
from aio_pika.connection import make_url
from aiormq.abc import FieldTable
from ecg_contracts import events
from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
    EcgSubmitted,
)
from ecg_contracts.topology import dead_letter_exchange, dead_letter_queue, queue_arguments
from pydantic import ValidationError

log = logging.getLogger(__name__)

ResultHandler = Callable[[EcgAnalyzed | EcgAnalysisFailed], Awaitable[object]]
FeedHandler = Callable[[EcgStatusChanged | EcgDeleted], None]
STATUS_FEED_TTL_MS = 60_000
STATUS_FEED_MAX_LENGTH = 10_000
PUBLISH_TIMEOUT_S = 10.0
RETRY_DELAY_S = 1.0


@dataclass
class AmqpResources:
    connection: AbstractConnection
    channel: AbstractChannel
    exchange: AbstractExchange
    closed: asyncio.Event


@asynccontextmanager
async def open_amqp(url: str, exchange_name: str, prefetch: int) -> AsyncIterator[AmqpResources]:
    """A plain (not robust) connection: when it drops, the caller rebuilds everything,
    declarations and consumers included, so nothing depends on automatic restoration."""
    connection = aio_pika.Connection(
        make_url(url), client_properties={"connection_name": "gateway"}
    )
    closed = asyncio.Event()
    connection.close_callbacks.add(lambda *_: closed.set())
    try:
        await connection.connect()  # inside the try: a cancelled attempt is closed too
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=prefetch)
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        yield AmqpResources(connection, channel, exchange, closed)
    finally:
        await connection.close()


class BrokerUnavailable(Exception):
    pass


class AmqpEventPublisher:
    """Publishes with confirms; usable once :meth:`attach` gave it the exchange."""

    def __init__(self) -> None:
        self._resources: AmqpResources | None = None

    def attach(self, resources: AmqpResources | None) -> None:
        self._resources = resources

    async def queue_depth(self, queue: str) -> int | None:
        """Messages ready in ``queue``, or None while disconnected."""
        if not self.connected or self._resources is None:
            return None
        declared = await self._resources.channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count

    @property
    def connected(self) -> bool:
        return self._resources is not None and not self._resources.connection.is_closed

    async def publish_submitted(self, event: EcgSubmitted) -> None:
        await self._publish(event, mandatory=True)

    async def publish_status_changed(self, event: EcgStatusChanged) -> None:
        """Not mandatory: with no gateway listening, nobody needs waking."""
        await self._publish(event, mandatory=False)

    async def publish_deleted(self, event: EcgDeleted) -> None:
        await self._publish(event, mandatory=False)

    async def _publish(
        self, event: EcgSubmitted | EcgStatusChanged | EcgDeleted, mandatory: bool
    ) -> None:
        if self._resources is None:
            raise BrokerUnavailable("not connected to the broker")
        message = aio_pika.Message(
            event.model_dump_json().encode(), **events.message_properties(event)
        )
        await self._resources.exchange.publish(
            message, events.routing_key(event), mandatory=mandatory, timeout=PUBLISH_TIMEOUT_S
        )


async def declare_consumer_queue(
    channel: AbstractChannel, exchange: AbstractExchange, queue_name: str, patterns: list[str]
) -> AbstractQueue:
    dead_exchange = await channel.declare_exchange(
        dead_letter_exchange(exchange.name), aio_pika.ExchangeType.DIRECT, durable=True
    )
    dead_queue = await channel.declare_queue(dead_letter_queue(queue_name), durable=True)
    await dead_queue.bind(dead_exchange, routing_key=queue_name)
    arguments: FieldTable = {**queue_arguments(exchange.name, queue_name)}
    queue = await channel.declare_queue(queue_name, durable=True, arguments=arguments)
    for pattern in patterns:
        await queue.bind(exchange, routing_key=pattern)
    return queue


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


async def consume_status_feed(
    channel: AbstractChannel, exchange: AbstractExchange, handler: FeedHandler
) -> None:
    """This gateway's own view of every stored status and deletion: an exclusive,
    auto-deleted queue (gone with the connection; bounded meanwhile), consumed without
    acks."""
    queue = await channel.declare_queue(
        exclusive=True,
        auto_delete=True,
        arguments={"x-message-ttl": STATUS_FEED_TTL_MS, "x-max-length": STATUS_FEED_MAX_LENGTH},
    )
    for pattern in (events.STATUS_CHANGED_PATTERN, events.DELETED_PATTERN):
        await queue.bind(exchange, routing_key=pattern)

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
