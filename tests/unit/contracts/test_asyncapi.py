from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from ecg_contracts import asyncapi, events
from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
    EcgSubmitted,
)
from pydantic import BaseModel

from tests.asyncapi_document import COMMITTED, committed_document, payload_validator
from tests.conftest import report_fact
from tests.event_examples import examples

ROOT = Path(__file__).resolve().parents[3]
VALIDATE = ROOT / "contracts" / "validate"
MODELS: dict[str, type[BaseModel]] = {
    "submitted": EcgSubmitted,
    "analyzed": EcgAnalyzed,
    "analysisFailed": EcgAnalysisFailed,
    "statusChanged": EcgStatusChanged,
    "deleted": EcgDeleted,
}


def test_the_committed_asyncapi_document_is_up_to_date() -> None:
    assert COMMITTED.read_text() == asyncapi.render(), "stale: run `make asyncapi` and commit"


def test_every_event_has_a_channel_a_message_and_a_resolvable_schema() -> None:
    document = yaml.safe_load(asyncapi.render())
    assert document["asyncapi"] == "3.1.0"
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


def test_the_official_asyncapi_parser_finds_no_error_and_no_warning(
    request: pytest.FixtureRequest,
) -> None:
    """``@asyncapi/parser``, pinned in contracts/validate and installed by ``make test``."""
    assert shutil.which("node"), "Node.js is needed to run the AsyncAPI parser"
    assert (VALIDATE / "node_modules" / "@asyncapi" / "parser").is_dir(), (
        "run `make test-tools` (npm ci --prefix contracts/validate)"
    )
    done = subprocess.run(
        ["node", str(VALIDATE / "validate.mjs"), str(COMMITTED)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    print(done.stdout, done.stderr)
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    summary = lines[-1]
    counts = summary["summary"]
    report_fact(
        request.config,
        f"@asyncapi/parser on contracts/asyncapi.yaml: {counts['error']} errors, "
        f"{counts['warning']} warnings, parsed: {summary['parsed']}",
    )
    assert summary["parsed"], done.stdout
    assert summary["summary"]["error"] == 0, done.stdout
    assert summary["summary"]["warning"] == 0, done.stdout
    assert done.returncode == 0


def test_the_document_matches_the_asyncapi_json_schema() -> None:
    """A second validator: ``@asyncapi/specs``' JSON Schema of 3.1.0, with Python's jsonschema."""
    schema_path = VALIDATE / "node_modules" / "@asyncapi" / "specs" / "schemas" / "3.1.0.json"
    assert schema_path.is_file(), "run `make test-tools` (npm ci --prefix contracts/validate)"
    schema = json.loads(schema_path.read_text())
    document = committed_document()
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        f"{list(error.absolute_path)}: {error.message}" for error in validator.iter_errors(document)
    ]
    assert not errors


@pytest.mark.parametrize("key", sorted(MODELS))
def test_every_message_has_an_example_its_schema_and_model_accept(key: str) -> None:
    document = committed_document()
    message = document["components"]["messages"][key]
    [example] = message["examples"]
    payload_validator(document, key).validate(example["payload"])
    event = MODELS[key].model_validate(example["payload"])
    assert events.routing_key(event) == message["name"]  # type: ignore[arg-type]


def test_the_examples_are_what_the_analyzer_makes_of_record_100_today() -> None:
    """Stale examples fail: ``make asyncapi`` makes them again."""
    for key, payload in examples().items():
        assert asyncapi.example(key) == payload, f"{key}: run `make asyncapi` and commit"


def test_delivery_mode_is_an_operation_binding_and_the_message_type_a_message_binding() -> None:
    document = committed_document()
    for key, message in document["components"]["messages"].items():
        assert message["bindings"]["amqp"] == {
            "messageType": message["name"],
            "bindingVersion": "0.3.0",
        }
        operation = document["operations"][f"on_{key}"]["bindings"]["amqp"]
        assert operation["deliveryMode"] == (1 if key == "statusChanged" else 2)
