"""In-memory fakes of the gateway's ports, for unit tests of the service layer.

The contract tests in ``tests/integration/gateway/test_ecg_repository_contract.py`` run the
same assertions against this fake and the MongoDB adapter, so the fake cannot drift.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from ecg_contracts.events import EcgSubmitted
from ecg_contracts.rest import Status
from ecg_gateway.store.records import EcgAlreadyExists, EcgRecord, EcgSummaryRecord, ResultOutcome


class InMemoryEcgRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[EcgRecord, datetime | None]] = {}

    async def insert(self, ecg: EcgRecord) -> None:
        key = (ecg.owner_id, ecg.ecg_id)
        if key in self.rows:
            raise EcgAlreadyExists(ecg.ecg_id)
        self.rows[key] = (ecg, ecg.submitted_at)

    async def get(self, owner_id: str, ecg_id: str) -> EcgRecord | None:
        row = self.rows.get((owner_id, ecg_id))
        return row[0] if row else None

    async def delete(self, owner_id: str, ecg_id: str) -> bool:
        return self.rows.pop((owner_id, ecg_id), None) is not None

    async def list_page(
        self, owner_id: str, limit: int, after: tuple[datetime, str] | None
    ) -> list[EcgSummaryRecord]:
        mine = sorted(
            (record for (owner, _), (record, _) in self.rows.items() if owner == owner_id),
            key=lambda record: (record.submitted_at, f"{owner_id}:{record.ecg_id}"),
            reverse=True,
        )
        if after is not None:
            mine = [
                r
                for r in mine
                if (r.submitted_at, f"{owner_id}:{r.ecg_id}") < (after[0], f"{owner_id}:{after[1]}")
            ]
        return [
            EcgSummaryRecord(
                r.ecg_id,
                r.date,
                r.sampling_rate_hz,
                r.status,
                r.submitted_at,
                [lead.name for lead in r.leads],
            )
            for r in mine[:limit]
        ]

    async def record_result(
        self,
        owner_id: str,
        ecg_id: str,
        status: Status,
        insights: dict[str, Any] | None,
        error: str | None,
    ) -> ResultOutcome:
        row = self.rows.get((owner_id, ecg_id))
        if row is None:
            return "unknown"
        record, _ = row
        if record.status != "pending":
            return "duplicate"
        updated = dataclasses.replace(record, status=status, insights=insights, error=error)
        self.rows[(owner_id, ecg_id)] = (updated, None)
        return "stored"

    def _due(self, now: datetime) -> list[tuple[datetime, tuple[str, str]]]:
        return sorted(
            (due_at, key)
            for key, (record, due_at) in self.rows.items()
            if due_at is not None and due_at <= now and record.status == "pending"
        )

    async def due_dispatches(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        return [key for _, key in self._due(now)[:limit]]

    async def claim_dispatch(
        self, owner_id: str, ecg_id: str, now: datetime, lease_until: datetime
    ) -> EcgRecord | None:
        key = (owner_id, ecg_id)
        if key not in dict((k, d) for d, k in self._due(now)):
            return None
        self.rows[key] = (self.rows[key][0], lease_until)
        return self.rows[key][0]

    async def mark_dispatched(
        self, owner_id: str, ecg_id: str, attempts: int, next_due: datetime
    ) -> None:
        record, _ = self.rows[(owner_id, ecg_id)]
        if record.status == "pending":
            self.rows[(owner_id, ecg_id)] = (
                dataclasses.replace(record, dispatch_attempts=attempts),
                next_due,
            )

    async def mark_dispatch_failed(self, owner_id: str, ecg_id: str, reason: str) -> None:
        await self.record_result(owner_id, ecg_id, "failed", None, reason)

    async def count_due_dispatch(self, now: datetime) -> int:
        return len(self._due(now))


class RecordingPublisher:
    """Records what it publishes; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.published: list[EcgSubmitted] = []
        self.down = False

    async def publish_submitted(self, event: EcgSubmitted) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.published.append(event)
