"""The analyzer's outcome rules, without a broker: analyzed, retried, dead-lettered."""

from __future__ import annotations

import json

import pytest
from ecg_analyzer.worker.handling import (
    Analyzed,
    DeadLetter,
    Retry,
    SubmittedHandler,
    undecodable,
)
from ecg_analyzer.worker.tasks import analyze_submitted
from ecg_contracts.events import EcgSubmitted, SubmittedLead
from ecg_contracts.insights import Insights
from ecg_contracts.signal import encode_signal
from pydantic import ValidationError


def submitted(ecg_id: str = "e-1") -> EcgSubmitted:
    return EcgSubmitted(
        ecg_id=ecg_id,
        owner_id="owner-1",
        sampling_rate_hz=None,
        leads=[SubmittedLead(name="I", signal=encode_signal([1, -1, 2, -2]))],
    )


async def analyze(event: EcgSubmitted) -> Insights:
    return analyze_submitted(event)


async def explode(event: EcgSubmitted) -> Insights:
    raise RuntimeError(f"{event.ecg_id} exploded")


async def test_an_analysis_gives_its_result_for_the_same_ecg_and_owner() -> None:
    outcome = await SubmittedHandler(analyze, max_retries=3)(submitted(), failed_deliveries=0)
    assert isinstance(outcome, Analyzed)
    assert (outcome.result.ecg_id, outcome.result.owner_id) == ("e-1", "owner-1")
    assert outcome.result.insights.leads[0].zero_crossings == 3


@pytest.mark.parametrize("failed", [0, 1, 2])
async def test_a_raising_analysis_is_retried_while_deliveries_remain(failed: int) -> None:
    outcome = await SubmittedHandler(explode, max_retries=3)(submitted(), failed)
    assert isinstance(outcome, Retry)
    assert "exploded" in outcome.reason


async def test_the_last_attempt_fails_the_ecg_with_the_reason() -> None:
    outcome = await SubmittedHandler(explode, max_retries=3)(submitted("boom"), 3)
    assert isinstance(outcome, DeadLetter)
    assert outcome.failure is not None
    assert outcome.failure.ecg_id == "boom"
    assert "after 4 attempts" in outcome.reason
    assert "exploded" in outcome.failure.reason


async def test_with_no_retries_the_first_failure_is_final() -> None:
    outcome = await SubmittedHandler(explode, max_retries=0)(submitted(), 0)
    assert isinstance(outcome, DeadLetter)


def decoding_error(body: bytes) -> ValidationError:
    try:
        EcgSubmitted.model_validate_json(body)
    except ValidationError as error:
        return error
    raise AssertionError("the body decoded")


@pytest.mark.parametrize(
    ("body", "reported"),
    [
        (b"\x00 not json", False),
        (json.dumps({"ecg_id": "p-1", "owner_id": "o-1", "leads": "nope"}).encode(), True),
        (json.dumps({"ecg_id": 5, "owner_id": "o-1"}).encode(), False),
    ],
)
def test_an_undecodable_message_is_dead_lettered_and_reported_when_its_ecg_is_known(
    body: bytes, reported: bool
) -> None:
    outcome = undecodable(body, decoding_error(body))
    assert "invalid ecg.submitted message" in outcome.reason
    assert (outcome.failure is not None) == reported
    if outcome.failure is not None:
        assert (outcome.failure.ecg_id, outcome.failure.owner_id) == ("p-1", "o-1")
