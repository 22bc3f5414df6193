"""Events on the ``ecg.events`` topic exchange.

Every body is JSON with ``event_id``, ``type``, ``occurred_at``, ``ecg_id`` and
``owner_id``. AMQP properties: persistent, ``message_id`` = event id,
``correlation_id`` = ECG id, ``content_type`` = application/json.
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
CONTENT_TYPE: Final = "application/json"
SUBMITTED_PATTERN: Final = "ecg.submitted.#"
ANALYZED_PATTERN: Final = "ecg.analyzed.#"
ANALYSIS_FAILED_PATTERN: Final = "ecg.analysis_failed.#"


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


EcgEvent = EcgSubmitted | EcgAnalyzed | EcgAnalysisFailed


class MessageProperties(TypedDict):
    content_type: str
    message_id: str
    correlation_id: str
    type: str


def message_properties(event: EcgEvent) -> MessageProperties:
    """The AMQP properties of an event, besides persistent delivery (see the module doc)."""
    return {
        "content_type": CONTENT_TYPE,
        "message_id": event.event_id,
        "correlation_id": event.ecg_id,
        "type": event.type,
    }


ResultEvent = Annotated[EcgAnalyzed | EcgAnalysisFailed, Field(discriminator="type")]
result_event_adapter: TypeAdapter[EcgAnalyzed | EcgAnalysisFailed] = TypeAdapter(ResultEvent)
