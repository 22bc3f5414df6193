"""The committed AsyncAPI document, and a validator of one message's payload schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import yaml

COMMITTED = Path(__file__).resolve().parents[1] / "contracts" / "asyncapi.yaml"


def committed_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMMITTED.read_text())
    return document


def payload_validator(document: dict[str, Any], message_key: str) -> jsonschema.Validator:
    schemas = document["components"]["schemas"]
    name = document["components"]["messages"][message_key]["payload"]["$ref"].rsplit("/", 1)[1]
    schema = {**schemas[name], "components": {"schemas": schemas}}
    return jsonschema.Draft202012Validator(schema)
