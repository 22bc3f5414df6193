"""The gateway's model: what it stores and passes between its use cases and adapters,
independent of the database and of HTTP; the clock; the event an ECG is dispatched as."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from ecg_contracts.events import EcgSubmitted, SubmittedLead
from ecg_contracts.rest import Role, Status
from ecg_contracts.signal import EncodedSignal, SignalDtype

__all__ = [
    "Clock",
    "EcgAlreadyExists",
    "EcgHeadRecord",
    "EcgRecord",
    "EcgStatusRecord",
    "EcgSummaryRecord",
    "ResultOutcome",
    "Role",
    "Status",
    "StatusChange",
    "StoredLead",
    "UserRecord",
    "UsernameTaken",
    "as_utc",
    "submitted_event",
    "utc_now",
]


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: str
    username: str
    password_hash: str
    role: Role
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class StoredLead:
    name: str
    number_of_samples: int
    dtype: SignalDtype
    raw: bytes = field(repr=False)
    units_per_mv: float | None = None


@dataclass(frozen=True, slots=True)
class EcgRecord:
    owner_id: str
    ecg_id: str
    date: datetime
    sampling_rate_hz: float | None
    submitted_at: datetime
    content_hash: str
    leads: list[StoredLead]
    status: Status = "pending"
    insights: dict[str, Any] | None = None
    error: str | None = None
    dispatch_attempts: int = 0
    dispatch_due_at: datetime | None = None
    """When the outbox scan should (re)dispatch it; the submission time when None."""


@dataclass(frozen=True, slots=True)
class EcgHeadRecord:
    """What telling a retry from a conflict needs: never the signals."""

    ecg_id: str
    status: Status
    content_hash: str


@dataclass(frozen=True, slots=True)
class EcgStatusRecord:
    """What a status read returns: never the signals."""

    ecg_id: str
    status: Status
    insights: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A final status of an ECG and the event that brought it: stored only while the ECG
    is pending, then announced to every gateway."""

    owner_id: str
    ecg_id: str
    status: Status
    insights: dict[str, Any] | None
    error: str | None
    event_id: str

    def as_status(self) -> EcgStatusRecord:
        return EcgStatusRecord(self.ecg_id, self.status, self.insights, self.error)


@dataclass(frozen=True, slots=True)
class EcgSummaryRecord:
    ecg_id: str
    date: datetime
    sampling_rate_hz: float | None
    status: Status
    submitted_at: datetime
    lead_names: list[str]


ResultOutcome = Literal["stored", "duplicate", "unknown"]


class UsernameTaken(Exception):
    pass


class EcgAlreadyExists(Exception):
    pass


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Millisecond precision: what BSON dates keep, so cursors compare exactly."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def as_utc(moment: datetime) -> datetime:
    """A date without an offset is taken as UTC."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def submitted_event(record: EcgRecord, attempt: int) -> EcgSubmitted:
    return EcgSubmitted(
        ecg_id=record.ecg_id,
        owner_id=record.owner_id,
        sampling_rate_hz=record.sampling_rate_hz,
        attempt=attempt,
        leads=[
            SubmittedLead(
                name=lead.name,
                signal=EncodedSignal(dtype=lead.dtype, data=base64.b64encode(lead.raw).decode()),
                units_per_mv=lead.units_per_mv,
            )
            for lead in record.leads
        ],
    )
