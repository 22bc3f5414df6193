"""AsyncAPI 3.1 document of the events, generated from the pydantic models, with the
examples of ``examples/`` (real ones: see ``tests/event_examples.py``).

``python -m ecg_contracts.asyncapi > contracts/asyncapi.yaml`` rewrites the committed copy;
a test fails when that copy is stale, and the AsyncAPI initiative's own parser validates it.
"""

from __future__ import annotations

import json
import sys
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ecg_contracts import events
from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
    EcgSubmitted,
)

_MESSAGES: list[tuple[str, type[BaseModel], str, str]] = [
    (
        events.SUBMITTED,
        EcgSubmitted,
        "submitted",
        "An ECG was accepted by the gateway; the analyzer consumes it. Signals are base64 "
        "of little-endian integers of the given dtype.",
    ),
    (
        events.ANALYZED,
        EcgAnalyzed,
        "analyzed",
        "The analysis finished; carries the full insights. Bind a queue to `ecg.analyzed.#` "
        "to receive every result.",
    ),
    (
        events.ANALYSIS_FAILED,
        EcgAnalysisFailed,
        "analysisFailed",
        "The analysis failed for good (invalid message or repeated errors).",
    ),
    (
        events.STATUS_CHANGED,
        EcgStatusChanged,
        "statusChanged",
        "A gateway stored an ECG's final status (done or failed), after the database write: "
        "what the REST API now answers. Transient (delivery mode 1): gateways bind exclusive "
        "queues to it to wake their waiting clients; bind a queue to `ecg.status_changed.#` "
        "to learn when results are readable.",
    ),
    (
        events.DELETED,
        EcgDeleted,
        "deleted",
        "An owner deleted an ECG with its signals and insights (records systems should "
        "delete their copies). Gateways also use it to forget what they know of the ECG.",
    ),
]


AMQP_BINDING_VERSION = "0.3.0"


def example(key: str) -> dict[str, Any]:
    text = resources.files("ecg_contracts").joinpath("examples", f"{key}.json").read_text()
    payload: dict[str, Any] = json.loads(text)
    return payload


def build_document() -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(model, "serialization") for _, model, _, _ in _MESSAGES],
        ref_template="#/components/schemas/{model}",
    )
    schemas: dict[str, Any] = definitions.get("$defs", {})
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for routing_key, model, key, description in _MESSAGES:
        messages[key] = {
            "name": routing_key,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "description": description,
            "contentType": events.CONTENT_TYPE,
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
            "correlationId": {
                "description": "The AMQP correlation_id is the ECG id.",
                "location": "$message.payload#/ecg_id",
            },
            "bindings": {
                "amqp": {"messageType": routing_key, "bindingVersion": AMQP_BINDING_VERSION}
            },
            "examples": [
                {
                    "name": key,
                    "summary": f"A `{routing_key}` event as published.",
                    "payload": example(key),
                }
            ],
        }
        channels[key] = {
            "address": routing_key,
            "description": f"Routing key `{routing_key}` on the `{events.EXCHANGE}` exchange.",
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
            "bindings": {
                "amqp": {
                    "is": "routingKey",
                    "exchange": {
                        "name": events.EXCHANGE,
                        "type": "topic",
                        "durable": True,
                        "autoDelete": False,
                        "vhost": "/",
                    },
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
        operations[f"on_{key}"] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{key}"},
            "summary": f"Receive `{routing_key}` events.",
            "messages": [{"$ref": f"#/channels/{key}/messages/{key}"}],
            "bindings": {
                "amqp": {
                    "deliveryMode": 1 if model is EcgStatusChanged else 2,
                    "ack": True,
                    "bindingVersion": AMQP_BINDING_VERSION,
                }
            },
        }
    return {
        "asyncapi": "3.1.0",
        "info": {
            "title": "ECG service events",
            "version": "1.0.0",
            "description": (
                "Events of the ECG ingestion and analysis service. Every body is JSON with "
                "event_id, type, occurred_at, ecg_id and owner_id. AMQP properties: persistent "
                "(ecg.status_changed: transient), type = the routing key, "
                "message_id = event id, correlation_id = ECG id, content_type = application/json. "
                "Delivery is at least once: deduplicate on event_id or on the ECG id."
            ),
        },
        "defaultContentType": events.CONTENT_TYPE,
        "servers": {
            "rabbitmq": {
                "host": "localhost:5672",
                "protocol": "amqp",
                "protocolVersion": "0.9.1",
                "description": "The compose stack's RabbitMQ.",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True, width=100)


if __name__ == "__main__":
    sys.stdout.write(render())
