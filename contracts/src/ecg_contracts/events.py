"""Events on the ``ecg.events`` topic exchange.

Every body is JSON with ``event_id``, ``type``, ``occurred_at``, ``ecg_id`` and
``owner_id``. AMQP properties: persistent (``ecg.status_changed`` transient),
``message_id`` = event id, ``correlation_id`` = ECG id, ``content_type`` =
application/json, ``type`` = the routing key.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Final, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from ecg_contracts.insights import Insights
from ecg_contracts.signal import EncodedSignal

EXCHANGE: Final = "ecg.events"
SUBMITTED: Final = "ecg.submitted.v1"
ANALYZED: Final = "ecg.analyzed.v1"
ANALYSIS_FAILED: Final = "ecg.analysis_failed.v1"
STATUS_CHANGED: Final = "ecg.status_changed.v1"
DELETED: Final = "ecg.deleted.v1"
CONTENT_TYPE: Final = "application/json"
SUBMITTED_PATTERN: Final = "ecg.submitted.#"
ANALYZED_PATTERN: Final = "ecg.analyzed.#"
ANALYSIS_FAILED_PATTERN: Final = "ecg.analysis_failed.#"
STATUS_CHANGED_PATTERN: Final = "ecg.status_changed.#"
DELETED_PATTERN: Final = "ecg.deleted.#"


def _new_event_id() -> str:
    return str(uuid.uuid4())


def _now() -> datetime:
    return datetime.now(UTC)


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    event_id: str = Field(default_factory=_new_event_id, description="Unique id of this event.")
    occurred_at: datetime = Field(default_factory=_now, description="When it happened (UTC).")
    ecg_id: str = Field(description="The ECG's id, unique per owner.")
    owner_id: str = Field(description="Id of the user who owns the ECG.")


class SubmittedLead(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    signal: EncodedSignal
    units_per_mv: float | None = Field(
        default=None, description="ADC units per millivolt, when the client gave it."
    )


class EcgSubmitted(_Event):
    """An ECG was accepted and awaits analysis."""

    type: Literal["ecg.submitted.v1"] = SUBMITTED
    sampling_rate_hz: float | None = Field(default=None, description="Hz, when known.")
    attempt: int = Field(default=1, description="Dispatch attempt, 1 for the first.")
    leads: list[SubmittedLead] = Field(min_length=1)


class EcgAnalyzed(_Event):
    """The analysis of an ECG finished; carries the full insights."""

    type: Literal["ecg.analyzed.v1"] = ANALYZED
    insights: Insights


class EcgAnalysisFailed(_Event):
    """The analysis of an ECG failed for good."""

    type: Literal["ecg.analysis_failed.v1"] = ANALYSIS_FAILED
    reason: str = Field(description="Why the analysis failed, for humans.")


class EcgStatusChanged(_Event):
    """A gateway stored an ECG's final status: the result as clients now read it.

    Published after the database write, so whoever acts on it reads the same answer
    from the REST API. Transient: it wakes waiting clients of every gateway; the
    database stays the record.
    """

    type: Literal["ecg.status_changed.v1"] = STATUS_CHANGED
    status: Literal["done", "failed"] = Field(description="The stored final status.")
    insights: Insights | None = Field(default=None, description="When done: the insights.")
    error: str | None = Field(default=None, description="When failed: why, for humans.")


class EcgDeleted(_Event):
    """An owner deleted an ECG: its signals and insights are gone."""

    type: Literal["ecg.deleted.v1"] = DELETED


EcgEvent = EcgSubmitted | EcgAnalyzed | EcgAnalysisFailed | EcgStatusChanged | EcgDeleted


PERSISTENT: Final = 2
TRANSIENT: Final = 1


class MessageProperties(TypedDict):
    delivery_mode: int
    content_type: str
    message_id: str
    correlation_id: str
    type: str


def routing_key(event: EcgEvent) -> str:
    """Events are routed by their versioned type."""
    return event.type


def message_properties(event: EcgEvent) -> MessageProperties:
    """The AMQP properties of an event (see the module doc)."""
    return {
        "delivery_mode": TRANSIENT if isinstance(event, EcgStatusChanged) else PERSISTENT,
        "content_type": CONTENT_TYPE,
        "message_id": event.event_id,
        "correlation_id": event.ecg_id,
        "type": event.type,
    }


FeedEvent = Annotated[EcgStatusChanged | EcgDeleted, Field(discriminator="type")]
feed_event_adapter: TypeAdapter[EcgStatusChanged | EcgDeleted] = TypeAdapter(FeedEvent)
ResultEvent = Annotated[EcgAnalyzed | EcgAnalysisFailed, Field(discriminator="type")]
result_event_adapter: TypeAdapter[EcgAnalyzed | EcgAnalysisFailed] = TypeAdapter(ResultEvent)
