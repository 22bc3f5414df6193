"""What the HTTP layer needs from the rest of the gateway besides its use cases: small
ports, implemented by the composition root, so ``api/`` names no driver."""

from __future__ import annotations

from typing import Protocol


class Health(Protocol):
    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: ``ok``, or ``down`` with why."""
        ...

    def outbox_backlog(self) -> int:
        """ECGs the relay knows are waiting for a (re)dispatch."""
        ...

    async def results_queue_depth(self) -> int | None:
        """Completion events waiting in the results queue; None when unknown."""
        ...
