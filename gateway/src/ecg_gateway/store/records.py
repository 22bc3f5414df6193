"""What the gateway stores, independent of the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ecg_contracts.rest import Role, Status
from ecg_contracts.signal import SignalDtype


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
