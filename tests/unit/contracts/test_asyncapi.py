from __future__ import annotations

from pathlib import Path

import yaml
from ecg_contracts import asyncapi, events

COMMITTED = Path(__file__).resolve().parents[3] / "contracts" / "asyncapi.yaml"


def test_the_committed_asyncapi_document_is_up_to_date() -> None:
    assert COMMITTED.read_text() == asyncapi.render(), "stale: run `make asyncapi` and commit"


def test_every_event_has_a_channel_a_message_and_a_resolvable_schema() -> None:
    document = yaml.safe_load(asyncapi.render())
    assert document["asyncapi"] == "3.0.0"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {
        events.SUBMITTED,
        events.ANALYZED,
        events.ANALYSIS_FAILED,
        events.STATUS_CHANGED,
        events.DELETED,
    }
    schemas = document["components"]["schemas"]
    for message in document["components"]["messages"].values():
        name = message["payload"]["$ref"].rsplit("/", 1)[1]
        assert {"event_id", "type", "occurred_at", "ecg_id", "owner_id"} <= set(
            schemas[name]["properties"]
        )
    insights = schemas["Insights"]["properties"]
    assert "heart_rate_bpm" in insights
    assert "description" in insights["heart_rate_bpm"]
