from __future__ import annotations

import asyncio
import re

import pytest
from aiohttp.test_utils import TestClient, TestServer
from ecg_gateway.app import create_app
from openapi_spec_validator import OpenAPIV31SpecValidator

from tests.integration.gateway.conftest import Gateway, GatewayFactory
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration


async def test_openapi_is_a_valid_3_1_document_with_examples(gateway: Gateway) -> None:
    response = await gateway.client.get("/openapi.json")
    document = await response.json()
    assert document["openapi"] == "3.1.0"
    await asyncio.to_thread(OpenAPIV31SpecValidator(document).validate)  # reads schema files
    for path in (
        "/ecg/",
        "/ecg/{ecg_id}",
        "/ecg/{ecg_id}/insights",
        "/ecg/events",
        "/users/",
        "/auth/token",
    ):
        assert path in document["paths"]
    insights = document["paths"]["/ecg/{ecg_id}/insights"]["get"]
    assert "wait" in [parameter["name"] for parameter in insights["parameters"]]
    stream = document["paths"]["/ecg/events"]["get"]["responses"]["200"]["content"]
    assert "text/event-stream" in stream
    create = document["paths"]["/ecg/"]["post"]
    assert create["requestBody"]["content"]["application/json"]["example"]["leads"]
    assert "application/problem+json" in create["responses"]["422"]["content"]


async def test_docs_render_from_local_assets_only(gateway: Gateway) -> None:
    page = await gateway.client.get("/docs")
    assert page.status == 200
    html = await page.text()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    assert not [asset for asset in assets if not asset.startswith("/")], "no external assets"
    for asset in assets:
        response = await gateway.client.get(asset)
        assert response.status == 200, asset
        assert len(await response.read()) > 100, asset
    init = await (await gateway.client.get("/docs/init.js")).text()
    assert "/openapi.json" in init
    assert "validatorUrl: null" in init
    assert "http" not in init


async def test_request_ids_are_echoed_or_made(gateway: Gateway) -> None:
    given = await gateway.client.get("/health/live", headers={"X-Request-ID": "trace-123"})
    assert given.headers["X-Request-ID"] == "trace-123"
    made = await gateway.client.get("/ecg/nope")
    assert made.status == 401
    assert len(made.headers["X-Request-ID"]) == 36
    hostile = await gateway.client.get("/health/live", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500


async def test_metrics_count_requests_and_ecgs(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", json={"leads": [{"name": "I", "signal": [1, -1]}]}, headers=user
    )
    assert response.status == 202
    await gateway.client.get("/no/such/route")
    text = await (await gateway.client.get("/metrics")).text()
    assert 'ecg_http_requests_total{method="POST",route="/ecg/",status="202"} 1.0' in text
    assert 'route="unmatched",status="404"' in text
    assert (
        'ecg_http_request_duration_seconds_bucket{le="0.005",method="POST",route="/ecg/"}' in text
    )
    assert "ecg_ecgs_accepted_total 1.0" in text
    assert re.search(r"^ecg_outbox_backlog \d", text, flags=re.MULTILINE)
    assert re.search(r"^ecg_results_queue_depth \d", text, flags=re.MULTILINE)
    assert "ecg_result_consumer_lag_seconds_bucket" in text


async def test_readiness_is_503_while_the_broker_is_unreachable(
    make_gateway: GatewayFactory, services: ServiceUrls
) -> None:
    gateway = await make_gateway()
    assert (await gateway.client.get("/health/ready")).status == 200
    broken = gateway.settings.model_copy(update={"amqp_url": "amqp://guest:guest@127.0.0.1:1/"})
    client = TestClient(TestServer(await create_app(broken)))
    await client.start_server()
    try:
        response = await client.get("/health/ready")
        body = await response.json()
        assert response.status == 503
        assert body["checks"] == {"mongo": "ok", "amqp": "down"}
        assert (await client.get("/health/live")).status == 200
    finally:
        await client.close()
