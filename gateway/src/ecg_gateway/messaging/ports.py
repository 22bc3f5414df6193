"""Messaging port of the gateway."""

from __future__ import annotations

from typing import Protocol

from ecg_contracts.events import EcgSubmitted


class EventPublisher(Protocol):
    async def publish_submitted(self, event: EcgSubmitted) -> None:
        """Returns once the broker confirmed the event; raises otherwise."""
