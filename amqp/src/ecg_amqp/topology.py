"""Declaring the queues: every durable queue is a quorum queue (replicated across the
cluster's nodes), with its rejected messages dead-lettered to a quorum queue of its own."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractQueue
from aiormq.abc import FieldTable
from aiormq.exceptions import ChannelPreconditionFailed
from ecg_contracts.topology import dead_letter_exchange, dead_letter_queue, queue_arguments

from ecg_amqp.connection import FatalBrokerError, Session

log = logging.getLogger(__name__)
QUORUM: FieldTable = {"x-queue-type": "quorum"}


@dataclass(frozen=True)
class WorkQueue:
    name: str
    patterns: tuple[str, ...]
    delivery_limit: int | None = None
    """Deliveries a message may fail (nacked, or its consumer gone) before the broker
    dead-letters it; None for no limit."""


class QueueTypeConflict(FatalBrokerError):
    pass


async def declare_work_queue(session: Session, spec: WorkQueue) -> AbstractQueue:
    """The queue, bound to ``spec.patterns`` on the events exchange, and its dead letters."""
    exchange_name = session.exchange.name
    dead_exchange = await session.channel.declare_exchange(
        dead_letter_exchange(exchange_name), aio_pika.ExchangeType.DIRECT, durable=True
    )
    dead_queue = await _declare_quorum(session, dead_letter_queue(spec.name), dict(QUORUM))
    await dead_queue.bind(dead_exchange, routing_key=spec.name)
    arguments: FieldTable = {**queue_arguments(exchange_name, spec.name), **QUORUM}
    if spec.delivery_limit is not None:
        arguments["x-delivery-limit"] = spec.delivery_limit
    queue = await _declare_quorum(session, spec.name, arguments)
    for pattern in spec.patterns:
        await queue.bind(session.exchange, routing_key=pattern)
    return queue


async def declare_notification_queue(
    session: Session, patterns: tuple[str, ...], ttl_ms: int, max_length: int
) -> AbstractQueue:
    """A consumer's private view of some events: exclusive and auto-deleted (gone with its
    connection, so a classic queue), bounded by age and length meanwhile."""
    queue = await session.channel.declare_queue(
        exclusive=True,
        auto_delete=True,
        arguments={"x-message-ttl": ttl_ms, "x-max-length": max_length},
    )
    for pattern in patterns:
        await queue.bind(session.exchange, routing_key=pattern)
    return queue


async def _declare_quorum(session: Session, name: str, arguments: FieldTable) -> AbstractQueue:
    """Declare; a queue of that name with other arguments (a classic queue of an older
    version, say) is replaced when it is empty and unused, else refused with what to do."""
    try:
        return await session.channel.declare_queue(name, durable=True, arguments=arguments)
    except ChannelPreconditionFailed as error:
        await session.channel.reopen()
        existing = await session.channel.declare_queue(name, passive=True)
        result = existing.declaration_result
        if result.message_count or result.consumer_count:
            raise QueueTypeConflict(
                f"queue {name!r} exists with other arguments than this version declares "
                f"({error}) and holds {result.message_count} messages for "
                f"{result.consumer_count} consumers: drain it and delete it "
                f"(rabbitmqctl delete_queue {name}), then start again"
            ) from None
        await existing.delete(if_unused=True, if_empty=True)
        log.warning(
            "replaced an empty queue declared with other arguments by a quorum queue",
            extra={"queue": name},
        )
        return await session.channel.declare_queue(name, durable=True, arguments=arguments)
