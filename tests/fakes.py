"""In-memory fakes of the gateway's ports, for unit tests of the service layer.

The contract tests in ``tests/integration/gateway/test_ecg_repository_contract.py`` run the
same assertions against this fake and the MongoDB adapter, so the fake cannot drift.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from ecg_contracts.events import EcgDeleted, EcgStatusChanged, EcgSubmitted
from ecg_gateway.model import (
    EcgAlreadyExists,
    EcgHeadRecord,
    EcgRecord,
    EcgStatusRecord,
    EcgSummaryRecord,
    ResultOutcome,
    StatusChange,
)


class InMemoryEcgRepository:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], tuple[EcgRecord, datetime | None]] = {}
        self.result_writes = 0
        self.status_reads = 0

    async def insert(self, ecg: EcgRecord) -> None:
        key = (ecg.owner_id, ecg.ecg_id)
        if key in self.rows:
            raise EcgAlreadyExists(ecg.ecg_id)
        self.rows[key] = (ecg, ecg.dispatch_due_at or ecg.submitted_at)

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

    async def get_head(self, owner_id: str, ecg_id: str) -> EcgHeadRecord | None:
        row = self.rows.get((owner_id, ecg_id))
        if row is None:
            return None
        return EcgHeadRecord(row[0].ecg_id, row[0].status, row[0].content_hash)

    async def get_status(self, owner_id: str, ecg_id: str) -> EcgStatusRecord | None:
        self.status_reads += 1
        row = self.rows.get((owner_id, ecg_id))
        if row is None:
            return None
        record = row[0]
        return EcgStatusRecord(record.ecg_id, record.status, record.insights, record.error)

    async def record_results(self, results: Sequence[StatusChange]) -> list[ResultOutcome]:
        self.result_writes += 1
        outcomes: list[ResultOutcome] = []
        for result in results:
            key = (result.owner_id, result.ecg_id)
            row = self.rows.get(key)
            if row is None:
                outcomes.append("unknown")
            elif row[0].status != "pending":
                outcomes.append("duplicate")
            else:
                updated = dataclasses.replace(
                    row[0], status=result.status, insights=result.insights, error=result.error
                )
                self.rows[key] = (updated, None)
                outcomes.append("stored")
        return outcomes

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

    async def reschedule_dispatch(self, owner_id: str, ecg_id: str, due: datetime) -> None:
        record, _ = self.rows[(owner_id, ecg_id)]
        if record.status == "pending":
            self.rows[(owner_id, ecg_id)] = (dataclasses.replace(record, dispatch_attempts=0), due)


class RecordingPublisher:
    """Records what it publishes; fails while ``down`` is set."""

    def __init__(self) -> None:
        self.published: list[EcgSubmitted] = []
        self.announced: list[EcgStatusChanged | EcgDeleted] = []
        self.down = False

    @property
    def connected(self) -> bool:
        return not self.down

    async def publish_status_changed(self, event: EcgStatusChanged) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.announced.append(event)

    async def publish_deleted(self, event: EcgDeleted) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.announced.append(event)

    async def publish_submitted(self, event: EcgSubmitted) -> None:
        if self.down:
            raise ConnectionError("broker down")
        self.published.append(event)
