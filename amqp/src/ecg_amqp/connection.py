"""A supervised AMQP session: connect to any node of the cluster, run the caller's
declarations and consumers, and after an outage start over from scratch.

Plain (not robust) connections are used on purpose: when one drops, everything is rebuilt
by the same code that built it first, so nothing depends on automatic restoration.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection, AbstractExchange
from aio_pika.connection import make_url
from yarl import URL

log = logging.getLogger(__name__)


class BrokerUnavailable(Exception):
    """No node of the cluster could be reached."""


class FatalBrokerError(Exception):
    """The broker refuses this service's set-up for a reason retrying cannot fix."""


def parse_urls(setting: str) -> tuple[str, ...]:
    """``amqp://a/,amqp://b/``: the nodes of a cluster, tried in turn."""
    urls = tuple(part.strip() for part in setting.split(",") if part.strip())
    if not urls:
        raise ValueError("no AMQP URL given")
    return urls


def redacted(url: str) -> str:
    return str(URL(url).with_password("***")) if URL(url).password else url


def with_heartbeat(url: str, heartbeat_s: int | None) -> str:
    parsed = URL(url)
    if heartbeat_s is None or "heartbeat" in parsed.query:
        return url
    return str(parsed.update_query(heartbeat=heartbeat_s))


@dataclass(frozen=True)
class BrokerConfig:
    urls: tuple[str, ...]
    exchange: str
    prefetch: int
    connection_name: str
    heartbeat_s: int | None = None
    retry_s: float = 2.0


@dataclass
class Session:
    """One connection's channel (publisher confirms on) and the events exchange."""

    connection: AbstractConnection
    channel: AbstractChannel
    exchange: AbstractExchange
    url: str
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait_closed_or(self, stop: asyncio.Event) -> bool:
        """Wait until the connection drops (False) or ``stop`` is set (True)."""
        stopping = asyncio.ensure_future(stop.wait())
        dropped = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait([stopping, dropped], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            dropped.cancel()
        return stop.is_set() and not self.closed.is_set()


async def _connect(url: str, config: BrokerConfig) -> Session:
    connection = aio_pika.Connection(
        make_url(with_heartbeat(url, config.heartbeat_s)),
        client_properties={"connection_name": config.connection_name},
    )
    closed = asyncio.Event()
    connection.close_callbacks.add(lambda *_: closed.set())
    try:
        await connection.connect()
        channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
        await channel.set_qos(prefetch_count=config.prefetch)
        exchange = await channel.declare_exchange(
            config.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
    except BaseException:
        await connection.close()
        raise
    return Session(connection, channel, exchange, url, closed)


class Supervisor:
    """Keeps one session alive across outages and node failures."""

    def __init__(self, config: BrokerConfig) -> None:
        self.config = config
        self.reconnects = 0
        self._next = 0

    async def open(self) -> Session:
        """A session on the first node that answers, starting with the last one that did."""
        errors = []
        urls = self.config.urls
        for offset in range(len(urls)):
            index = (self._next + offset) % len(urls)
            try:
                session = await _connect(urls[index], self.config)
            except (TimeoutError, OSError, aio_pika.exceptions.AMQPError) as error:
                errors.append(f"{redacted(urls[index])}: {error!r}")
                continue
            self._next = index
            return session
        self._next = (self._next + 1) % len(urls)
        raise BrokerUnavailable("; ".join(errors))

    async def run(
        self,
        body: Callable[[Session], Awaitable[None]],
        stop: asyncio.Event,
        on_down: Callable[[], None] = lambda: None,
    ) -> None:
        """Open a session, run ``body`` on it (declarations and consumers; it returns when
        the session is over: the connection dropped or ``stop`` was set), close it, and
        start over until ``stop`` is set. A :class:`FatalBrokerError` ends the loop."""
        while not stop.is_set():
            try:
                session = await self.open()
            except BrokerUnavailable as error:
                log.warning("broker unavailable; retrying", extra={"error": str(error)[:1000]})
                await self._pause(stop)
                continue
            log.info(
                "connected to the broker",
                extra={"url": redacted(session.url), "connection": self.config.connection_name},
            )
            failed = False
            try:
                await body(session)
            except (FatalBrokerError, asyncio.CancelledError):
                raise
            except Exception as error:
                failed = True
                log.warning("the broker session failed", extra={"error": repr(error)})
            finally:
                on_down()
                with contextlib.suppress(Exception):
                    await session.connection.close()
            if not stop.is_set():
                self.reconnects += 1
                self._next = (self._next + 1) % len(self.config.urls)
                log.warning("lost the broker connection; reconnecting")
                if failed:
                    await self._pause(stop)

    async def _pause(self, stop: asyncio.Event) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=self.config.retry_s)
