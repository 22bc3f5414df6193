"""The AsyncAPI document's message examples, made for real: ``ecg.analyzed.v1``'s insights
are the analyzer's own, on MIT-BIH record 100's first 10 s (both leads, less the ADC zero).

``python -m tests.event_examples`` rewrites ``contracts/src/ecg_contracts/examples/``
(``make asyncapi`` does, before regenerating the document); a test fails when they are stale.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ecg_analyzer.insights import compute_insights
from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
    EcgSubmitted,
    SubmittedLead,
)
from ecg_contracts.insights import Insights
from ecg_contracts.signal import encode_signal

from tests.mitdb import load_record

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "contracts/src/ecg_contracts/examples"
AT = datetime(2026, 11, 28, 10, 0, 5, tzinfo=UTC)
ADC_ZERO = 1024
"""Record 100's header gives 1024 as both signals' ADC zero: subtracted, so the samples
sent are centred on 0 mV, as a device would send them."""
ECG_ID = "mitdb-100-first-10s"
OWNER_ID = "3f1c9a2e-5b7d-4e8f-9a0b-1c2d3e4f5a6b"


def record_100_insights(seconds: float = 10.0) -> Insights:
    record = load_record("100")
    samples = int(seconds * record.sampling_rate_hz)
    leads = [
        (name, record.signal(name)[:samples].astype("int32") - ADC_ZERO)
        for name in record.signal_names
    ]
    return compute_insights(leads, record.sampling_rate_hz, [MITDB_UNITS_PER_MV] * len(leads))


MITDB_UNITS_PER_MV = 200.0
"""The gain of every MIT-BIH Arrhythmia Database signal (its headers say 200 per mV)."""


def first_samples(count: int) -> dict[str, Any]:
    record = load_record("100")
    return {
        name: record.signal(name)[:count].astype("int32") - ADC_ZERO for name in record.signal_names
    }


def examples() -> dict[str, dict[str, Any]]:
    """Message key (as in the document) to its example payload."""
    insights = record_100_insights()
    common = {"ecg_id": ECG_ID, "owner_id": OWNER_ID, "occurred_at": AT}
    events = {
        "submitted": EcgSubmitted(
            event_id="0b9c1f5e-2d3a-4c6b-8e7f-1a2b3c4d5e6f",
            sampling_rate_hz=360.0,
            attempt=1,
            leads=[
                SubmittedLead(
                    name=name,
                    signal=encode_signal(samples.tolist()),
                    units_per_mv=MITDB_UNITS_PER_MV,
                )
                for name, samples in first_samples(5).items()
            ],
            **common,
        ),
        "analyzed": EcgAnalyzed(
            event_id="6a1e2f3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b", insights=insights, **common
        ),
        "analysisFailed": EcgAnalysisFailed(
            event_id="7b2f3a4c-5d6e-4f7a-9b0c-1d2e3f4a5b6c",
            reason="analysis failed after 4 attempts: MemoryError()",
            **common,
        ),
        "statusChanged": EcgStatusChanged(
            event_id="8c3a4b5d-6e7f-4a8b-9c0d-2e3f4a5b6c7d",
            status="done",
            insights=insights,
            error=None,
            **common,
        ),
        "deleted": EcgDeleted(event_id="9d4b5c6e-7f8a-4b9c-8d0e-3f4a5b6c7d8e", **common),
    }
    return {key: event.model_dump(mode="json") for key, event in events.items()}


def write_examples() -> None:
    EXAMPLES_DIR.mkdir(parents=True, exist_ok=True)
    for key, payload in examples().items():
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        (EXAMPLES_DIR / f"{key}.json").write_text(text)


if __name__ == "__main__":
    write_examples()
