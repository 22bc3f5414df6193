"""Storage ports: what the service layer needs, whatever the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ecg_gateway.model import (
    EcgHeadRecord,
    EcgRecord,
    EcgStatusRecord,
    EcgSummaryRecord,
    ResultOutcome,
    StatusChange,
    UserRecord,
)


class UserRepository(Protocol):
    async def insert(self, user: UserRecord) -> None:
        """Raises :class:`UsernameTaken`."""

    async def get(self, user_id: str) -> UserRecord | None: ...

    async def get_by_username(self, username: str) -> UserRecord | None: ...

    async def admin_exists(self) -> bool: ...

    async def set_disabled(self, user_id: str, disabled: bool) -> UserRecord | None: ...

    async def list_page(self, limit: int, after_username: str | None) -> list[UserRecord]: ...


class EcgRepository(Protocol):
    async def insert(self, ecg: EcgRecord) -> None:
        """Store the ECG with its outbox state (``dispatch_attempts``, ``dispatch_due_at``)
        in one write. Raises :class:`EcgAlreadyExists` when the owner already has this id."""

    async def get(self, owner_id: str, ecg_id: str) -> EcgRecord | None: ...

    async def get_head(self, owner_id: str, ecg_id: str) -> EcgHeadRecord | None:
        """Status and content hash only: a retried upload is told apart without signals."""

    async def get_status(self, owner_id: str, ecg_id: str) -> EcgStatusRecord | None:
        """Status, insights and error only: what polling clients read, never the signals."""

    async def delete(self, owner_id: str, ecg_id: str) -> bool: ...

    async def list_page(
        self, owner_id: str, limit: int, after: tuple[datetime, str] | None
    ) -> list[EcgSummaryRecord]:
        """Newest first; ``after`` is the (submitted_at, id) of the previous page's last."""

    async def record_results(self, results: Sequence[StatusChange]) -> list[ResultOutcome]:
        """Store many results in one round trip; one outcome per result, in order. Only a
        pending ECG changes, so duplicate and late results are harmless."""


class DispatchQueue(Protocol):
    """The outbox as the relay sees it: pending ECGs whose dispatch is due."""

    async def due_dispatches(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """(owner_id, ecg_id) of pending ECGs whose dispatch is due, most overdue first."""

    async def claim_dispatch(
        self, owner_id: str, ecg_id: str, now: datetime, lease_until: datetime
    ) -> EcgRecord | None:
        """Atomically take this ECG if it is pending and its dispatch is due, pushing its
        due time to ``lease_until`` so no other relay takes it meanwhile."""

    async def mark_dispatched(
        self, owner_id: str, ecg_id: str, attempts: int, next_due: datetime
    ) -> None: ...

    async def reschedule_dispatch(self, owner_id: str, ecg_id: str, due: datetime) -> None:
        """A publish failed: make the pending ECG due again at ``due``, as not dispatched."""
