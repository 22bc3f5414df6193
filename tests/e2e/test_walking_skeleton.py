"""Issue 2's acceptance: upload -> analyze -> insights through separate processes."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import random
import time

import aio_pika
import jwt
import pytest
from ecg_contracts.events import EcgAnalyzed

from tests.e2e.conftest import Api, Stack
from tests.services import ServiceUrls

pytestmark = pytest.mark.e2e
LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


def reference_zero_crossings(signal: list[int]) -> int:
    """The definition, spelled out: drop zeros, count sign changes."""
    nonzero = [sample for sample in signal if sample != 0]
    return sum(1 for a, b in itertools.pairwise(nonzero) if (a < 0) != (b < 0))


def twelve_lead_ecg(seed: int) -> dict[str, object]:
    rng = random.Random(seed)
    leads = []
    for index, name in enumerate(LEADS):
        length = 5000
        signal = [
            int(rng.gauss(0, 300 + 50 * index)) if rng.random() > 0.05 else 0 for _ in range(length)
        ]
        leads.append({"name": name, "number_of_samples": length, "signal": signal})
    return {"id": f"twelve-{seed}", "sampling_rate_hz": 500, "leads": leads}


async def bind_observer(services: ServiceUrls, exchange_name: str, queue_name: str) -> None:
    connection = await aio_pika.connect(services.amqp_url)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(queue_name, durable=True)
        await queue.bind(exchange, "ecg.analyzed.#")


async def observed_events(services: ServiceUrls, queue_name: str) -> list[EcgAnalyzed]:
    connection = await aio_pika.connect(services.amqp_url)
    found = []
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True)
        while (message := await queue.get(fail=False, no_ack=True)) is not None:
            found.append(EcgAnalyzed.model_validate_json(message.body))
    return found


def test_upload_analyze_and_read_insights_across_processes(
    stack: Stack, services: ServiceUrls, amqp_names: dict[str, str], unique: str
) -> None:
    observer_queue = amqp_names["observer_queue"]
    asyncio.run(bind_observer(services, amqp_names["exchange"], observer_queue))
    gateway = stack.start_gateway()
    analyzer = stack.start("analyzer", "ecg_analyzer")
    assert gateway.pid != analyzer.pid
    api = Api(stack.base_url)

    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"alice-{unique}", "alice-password")
    api.create_user(admin, f"mallory-{unique}", "mallory-password")
    alice = api.token(f"alice-{unique}", "alice-password")
    mallory = api.token(f"mallory-{unique}", "mallory-password")

    body = twelve_lead_ecg(seed=7)
    response = api.http.post("/ecg/", json=body, headers=alice)
    assert response.status_code == 202, response.text
    ecg_id = response.json()["id"]
    assert response.headers["Location"] == f"/ecg/{ecg_id}"

    result = api.wait_done(alice, ecg_id)
    assert result["status"] == "done", stack.log("analyzer")
    expected = {lead["name"]: reference_zero_crossings(lead["signal"]) for lead in body["leads"]}  # type: ignore[attr-defined]
    got = {lead["name"]: lead["zero_crossings"] for lead in result["insights"]["leads"]}
    assert got == expected

    events = []
    for _ in range(40):
        events = asyncio.run(observed_events(services, observer_queue))
        if events:
            break
        time.sleep(0.25)
    assert [event.ecg_id for event in events] == [ecg_id]
    assert events[0].insights.model_dump(mode="json") == result["insights"]

    assert api.http.get(f"/ecg/{ecg_id}", headers=mallory).status_code == 404
    assert api.http.get(f"/ecg/{ecg_id}/insights", headers=mallory).status_code == 404
    for path in ("/ecg/", f"/ecg/{ecg_id}", f"/ecg/{ecg_id}/insights"):
        assert api.http.get(path, headers=admin).status_code == 403
    assert api.http.post("/ecg/", json=body, headers=admin).status_code == 403

    claims = jwt.decode(alice["Authorization"][7:], options={"verify_signature": False})
    expired = jwt.encode(
        claims | {"iat": claims["iat"] - 7200, "exp": claims["iat"] - 3600},
        "e2e-test-secret-" + "e" * 48,
        algorithm="HS256",
    )
    unsigned = (
        ".".join(
            base64.urlsafe_b64encode(json.dumps(part).encode()).decode().rstrip("=")
            for part in ({"alg": "none", "typ": "JWT"}, claims)
        )
        + "."
    )
    for token in (expired, unsigned):
        response = api.http.get(f"/ecg/{ecg_id}", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
