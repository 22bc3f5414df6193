from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import aio_pika
import pytest
from ecg_contracts.events import EcgSubmitted
from ecg_contracts.signal import decode_signal
from pymongo import AsyncMongoClient

from tests.integration.gateway.conftest import Gateway
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration
Observer = Callable[[float], Awaitable[aio_pika.abc.AbstractIncomingMessage]]


async def test_an_ecg_over_16_mb_is_stored_transparently(
    gateway: Gateway, services: ServiceUrls, observer: Observer
) -> None:
    samples = 2_500_000
    leads = [
        {"name": name, "signal": [(40_000 + index % 1000) * sign for index in range(samples)]}
        for name, sign in (("I", 1), ("II", -1))
    ]
    body = json.dumps({"id": "holter", "sampling_rate_hz": 250, "leads": leads})
    assert len(body) > 16 * 1024 * 1024
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", data=body, headers={"Content-Type": "application/json", **user}
    )
    assert response.status == 202, await response.text()

    stored = await (await gateway.client.get("/ecg/holter", headers=user)).json()
    assert [lead["signal"] for lead in stored["leads"]] == [lead["signal"] for lead in leads]
    assert [lead["number_of_samples"] for lead in stored["leads"]] == [samples, samples]

    event = EcgSubmitted.model_validate_json((await observer(30)).body)
    assert [decode_signal(lead.signal) for lead in event.leads] == [
        lead["signal"] for lead in leads
    ]

    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(services.mongo_url)
    files = client[gateway.settings.mongo_db]["signals.files"]
    try:
        assert await files.count_documents({}) == 2
        assert (await gateway.client.delete("/ecg/holter", headers=user)).status == 204
        assert await files.count_documents({}) == 0
        assert await client[gateway.settings.mongo_db]["signals.chunks"].count_documents({}) == 0
    finally:
        await client.close()
    assert (await gateway.client.get("/ecg/holter", headers=user)).status == 404
