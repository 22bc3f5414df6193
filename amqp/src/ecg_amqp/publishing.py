"""Publishing events with confirms, their properties and routing keys from the contracts."""

from __future__ import annotations

import aio_pika
from ecg_contracts import events

from ecg_amqp.connection import BrokerUnavailable, Session

PUBLISH_TIMEOUT_S = 10.0


class EventPublisher:
    """Publishes on the session :meth:`attach` gave it; refuses while there is none."""

    def __init__(self, timeout_s: float = PUBLISH_TIMEOUT_S) -> None:
        self._session: Session | None = None
        self._timeout_s = timeout_s

    def attach(self, session: Session | None) -> None:
        self._session = session

    @property
    def connected(self) -> bool:
        return self._session is not None and not self._session.connection.is_closed

    async def publish(self, event: events.EcgEvent, *, mandatory: bool) -> None:
        """Returns once the broker confirmed the message; ``mandatory`` makes an event no
        queue takes an error rather than a silent loss."""
        if self._session is None:
            raise BrokerUnavailable("not connected to the broker")
        message = aio_pika.Message(
            event.model_dump_json().encode(), **events.message_properties(event)
        )
        await self._session.exchange.publish(
            message, events.routing_key(event), mandatory=mandatory, timeout=self._timeout_s
        )

    async def queue_depth(self, queue: str) -> int | None:
        """Messages ready in ``queue``, or None while disconnected."""
        if self._session is None or not self.connected:
            return None
        declared = await self._session.channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count
