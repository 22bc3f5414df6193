"""The shared AMQP layer on the real broker: quorum queues, queues left by older versions,
failover across URLs, confirmed publishing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aiormq.abc import FieldTable
from aiormq.exceptions import ChannelPreconditionFailed
from ecg_amqp.connection import BrokerConfig, Session, Supervisor, parse_urls
from ecg_amqp.publishing import EventPublisher
from ecg_amqp.topology import QueueTypeConflict, WorkQueue, declare_work_queue
from ecg_contracts import events
from ecg_contracts.events import EcgDeleted
from ecg_contracts.topology import queue_arguments

from tests.ports import free_port
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration


def config(urls: str, names: dict[str, str]) -> BrokerConfig:
    return BrokerConfig(
        urls=parse_urls(urls),
        exchange=names["exchange"],
        prefetch=4,
        connection_name="test",
        retry_s=0.1,
    )


@pytest.fixture
async def session(services: ServiceUrls, amqp_names: dict[str, str]) -> AsyncIterator[Session]:
    opened = await Supervisor(config(services.amqp_url, amqp_names)).open()
    yield opened
    await opened.connection.close()


@pytest.fixture
async def connection(services: ServiceUrls) -> AsyncIterator[aio_pika.abc.AbstractConnection]:
    opened = await aio_pika.connect(services.amqp_url)
    async with opened:
        yield opened


@pytest.fixture
async def channel(connection: aio_pika.abc.AbstractConnection) -> aio_pika.abc.AbstractChannel:
    return await connection.channel()


async def test_work_queues_and_their_dead_letters_are_quorum_queues(
    session: Session, amqp_names: dict[str, str], connection: aio_pika.abc.AbstractConnection
) -> None:
    name = amqp_names["analyzer_queue"]
    await declare_work_queue(session, WorkQueue(name, (events.SUBMITTED_PATTERN,), 3))
    arguments: dict[str, FieldTable] = {
        name: {**queue_arguments(amqp_names["exchange"], name), "x-delivery-limit": 3},
        f"{name}.dead": {},
    }
    for queue, same_but_classic in arguments.items():
        classic = await connection.channel()
        with pytest.raises(ChannelPreconditionFailed, match="x-queue-type"):
            await classic.declare_queue(queue, durable=True, arguments=same_but_classic)


async def test_an_empty_classic_queue_of_an_older_version_is_replaced(
    session: Session, amqp_names: dict[str, str], channel: aio_pika.abc.AbstractChannel
) -> None:
    name = amqp_names["results_queue"]
    await channel.declare_queue(name, durable=True)
    queue = await declare_work_queue(session, WorkQueue(name, (events.ANALYZED_PATTERN,)))
    assert queue.name == name
    assert (await channel.declare_queue(name, passive=True)).declaration_result.message_count == 0


async def test_a_classic_queue_holding_messages_is_refused_with_what_to_do(
    session: Session, amqp_names: dict[str, str], channel: aio_pika.abc.AbstractChannel
) -> None:
    name = amqp_names["results_queue"]
    await channel.declare_queue(name, durable=True)
    await channel.default_exchange.publish(aio_pika.Message(b"kept"), name)
    with pytest.raises(QueueTypeConflict, match=f"rabbitmqctl delete_queue {name}"):
        await declare_work_queue(session, WorkQueue(name, (events.ANALYZED_PATTERN,)))
    kept = await channel.declare_queue(name, passive=True)
    assert kept.declaration_result.message_count == 1, "nothing was deleted"


async def test_connecting_skips_nodes_that_do_not_answer(
    services: ServiceUrls, amqp_names: dict[str, str]
) -> None:
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}/"
    supervisor = Supervisor(config(f"{dead}, {services.amqp_url}", amqp_names))
    session = await supervisor.open()
    try:
        assert session.url == services.amqp_url
    finally:
        await session.connection.close()


async def test_a_dropped_connection_is_rebuilt_and_the_body_run_again(
    services: ServiceUrls, amqp_names: dict[str, str]
) -> None:
    supervisor = Supervisor(config(services.amqp_url, amqp_names))
    stop = asyncio.Event()
    sessions: list[Session] = []

    async def body(session: Session) -> None:
        sessions.append(session)
        if len(sessions) == 1:
            await session.connection.close()
        if len(sessions) == 2:
            stop.set()
        await session.wait_closed_or(stop)

    await asyncio.wait_for(supervisor.run(body, stop), timeout=20)
    assert len(sessions) == 2
    assert supervisor.reconnects == 1


async def test_published_events_carry_the_contract_properties(
    session: Session, amqp_names: dict[str, str], channel: aio_pika.abc.AbstractChannel
) -> None:
    exchange = await channel.get_exchange(amqp_names["exchange"])
    observer = await channel.declare_queue(amqp_names["observer_queue"], durable=False)
    await observer.bind(exchange, events.DELETED_PATTERN)
    publisher = EventPublisher()
    event = EcgDeleted(ecg_id="e-1", owner_id="o-1")
    with pytest.raises(Exception, match="not connected"):
        await publisher.publish(event, mandatory=False)
    publisher.attach(session)
    await publisher.publish(event, mandatory=True)
    message = await observer.get(timeout=5)
    assert message.message_id == event.event_id
    assert message.correlation_id == "e-1"
    assert message.routing_key == events.routing_key(event)
    assert EcgDeleted.model_validate_json(message.body) == event
