"""What becomes of a message: analyzed, retried or dead-lettered. Plain rules on decoded
events, no broker: the AMQP adapter applies the outcome."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ecg_contracts.events import EcgAnalysisFailed, EcgAnalyzed, EcgSubmitted
from ecg_contracts.insights import Insights

MAX_REASON = 2000


@dataclass(frozen=True)
class Analyzed:
    """Publish the result, then ack."""

    result: EcgAnalyzed


@dataclass(frozen=True)
class Retry:
    """Give the message back to the queue; the broker counts the delivery."""

    reason: str


@dataclass(frozen=True)
class DeadLetter:
    """Publish the failure when the ECG is known, then reject to the dead-letter queue."""

    reason: str
    failure: EcgAnalysisFailed | None


Outcome = Analyzed | Retry | DeadLetter
AnalyzeAsync = Callable[[EcgSubmitted], Awaitable[Insights]]


def readable_ids(body: bytes) -> tuple[str, str] | None:
    """The ECG and owner ids of a message that failed validation, when they can be read."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict):
        ecg_id, owner_id = data.get("ecg_id"), data.get("owner_id")
        if isinstance(ecg_id, str) and isinstance(owner_id, str):
            return ecg_id, owner_id
    return None


def undecodable(body: bytes, error: Exception) -> DeadLetter:
    """A message that is no ``ecg.submitted`` event: retrying cannot help."""
    reason = f"invalid ecg.submitted message: {error}"[:MAX_REASON]
    ids = readable_ids(body)
    failure = EcgAnalysisFailed(ecg_id=ids[0], owner_id=ids[1], reason=reason) if ids else None
    return DeadLetter(reason, failure)


class SubmittedHandler:
    """Analyze; an analysis that raises is retried until ``max_retries`` deliveries have
    failed, then reported as failed."""

    def __init__(self, analyze: AnalyzeAsync, max_retries: int) -> None:
        self._analyze = analyze
        self._max_retries = max_retries

    async def __call__(self, event: EcgSubmitted, failed_deliveries: int) -> Outcome:
        try:
            insights = await self._analyze(event)
        except Exception as error:
            if failed_deliveries < self._max_retries:
                return Retry(repr(error))
            reason = f"analysis failed after {failed_deliveries + 1} attempts: {error!r}"
            reason = reason[:MAX_REASON]
            return DeadLetter(
                reason,
                EcgAnalysisFailed(ecg_id=event.ecg_id, owner_id=event.owner_id, reason=reason),
            )
        return Analyzed(
            EcgAnalyzed(ecg_id=event.ecg_id, owner_id=event.owner_id, insights=insights)
        )
