"""Messaging ports of the gateway."""

from __future__ import annotations

from typing import Protocol

from ecg_contracts.events import EcgDeleted, EcgStatusChanged, EcgSubmitted


class EventPublisher(Protocol):
    @property
    def connected(self) -> bool:
        """False while the broker is away: nothing can be published, so no scan runs."""

    async def publish_submitted(self, event: EcgSubmitted) -> None:
        """Returns once the broker confirmed the event; raises otherwise."""


class StatusNotifier(Protocol):
    async def publish_status_changed(self, event: EcgStatusChanged) -> None:
        """Tells every gateway (and any subscriber) that a final status is stored."""

    async def publish_deleted(self, event: EcgDeleted) -> None:
        """Tells every gateway (and any subscriber) that an ECG is gone."""
