"""The example subscriber, run as a process, prints the result and the failure of an uploaded
ECG; and a real event of each kind, taken from the broker, matches its payload schema in the
AsyncAPI document."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import aio_pika
import pytest

from tests.asyncapi_document import committed_document, payload_validator
from tests.e2e.conftest import Api, Stack
from tests.event_examples import first_samples
from tests.services import ServiceUrls

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ROUTES = {
    "ecg.submitted.v1": "submitted",
    "ecg.analyzed.v1": "analyzed",
    "ecg.analysis_failed.v1": "analysisFailed",
    "ecg.status_changed.v1": "statusChanged",
    "ecg.deleted.v1": "deleted",
}


def wait_for_line(path: Path, start: str, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith(start):
                return line
        time.sleep(0.1)
    raise AssertionError(f"no line starting {start!r}:\n{path.read_text(errors='replace')}")


def wait_for_text(path: Path, text: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} never appeared in {path}")


async def test_the_example_subscriber_prints_the_result_and_real_events_match_the_schemas(
    stack: Stack,
    services: ServiceUrls,
    amqp_names: dict[str, str],
    unique: str,
    tmp_path: Path,
) -> None:
    stack.start_gateway()
    stack.start("analyzer", "ecg_analyzer")
    connection = await aio_pika.connect(services.amqp_url)
    captured: dict[str, Any] = {}
    subscriber_queue = f"ecg.test.{unique}.subscriber"
    output = tmp_path / "subscriber.out"
    subscriber = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "examples" / "subscriber.py"),
        "--url",
        services.amqp_url,
        "--exchange",
        amqp_names["exchange"],
        "--queue",
        subscriber_queue,
        stdout=output.open("wb"),
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            amqp_names["exchange"], aio_pika.ExchangeType.TOPIC, durable=True
        )
        observer = await channel.declare_queue(amqp_names["observer_queue"], durable=False)
        for routing_key in ROUTES:
            await observer.bind(exchange, routing_key)
        await asyncio.to_thread(wait_for_line, output, "listening on")
        # Until the analyzer has declared its queue, an ecg.submitted would reach only the
        # observer queue below (and wait for the outbox's re-dispatch).
        await asyncio.to_thread(
            wait_for_text, stack.log_dir / "analyzer.log", '"message": "consuming"'
        )

        api = Api(stack.base_url)
        admin = await asyncio.to_thread(api.token, "admin", "adminpass")
        await asyncio.to_thread(api.create_user, admin, f"sub-{unique}", "sub-password")
        user = await asyncio.to_thread(api.token, f"sub-{unique}", "sub-password")
        leads = [
            {"name": name, "signal": samples.tolist()}
            for name, samples in first_samples(3600).items()
        ]
        body = {"id": "for-subscribers", "sampling_rate_hz": 360, "leads": leads}
        response = await asyncio.to_thread(api.http.post, "/ecg/", json=body, headers=user)
        assert response.status_code == 202, response.text

        line = await asyncio.to_thread(wait_for_line, output, "analyzed for-subscribers")
        assert "heart_rate=74.4 bpm" in line, line
        assert len(output.read_text().splitlines()) == 2, "one line per event"
        # A failure: an ecg.submitted the analyzer cannot decode, its ids readable.
        unreadable = {"ecg_id": "fails-for-subscribers", "owner_id": "someone", "leads": "none"}
        await exchange.publish(
            aio_pika.Message(json.dumps(unreadable).encode()), "ecg.submitted.v1"
        )
        failed = await asyncio.to_thread(wait_for_line, output, "failed   fails-for-subscribers")
        assert "invalid ecg.submitted message" in failed
        deleted = await asyncio.to_thread(api.http.delete, "/ecg/for-subscribers", headers=user)
        assert deleted.status_code == 204, deleted.text

        deadline = asyncio.get_running_loop().time() + 30
        while set(captured) != set(ROUTES) and asyncio.get_running_loop().time() < deadline:
            message = await observer.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            body = json.loads(message.body)
            if message.routing_key == "ecg.submitted.v1" and "event_id" not in body:
                continue  # the undecodable one this test sent
            captured.setdefault(str(message.routing_key), message)
        assert set(captured) == set(ROUTES)
        document = committed_document()
        for routing_key, message in captured.items():
            payload_validator(document, ROUTES[routing_key]).validate(json.loads(message.body))
            assert message.type == routing_key
            assert message.correlation_id == json.loads(message.body)["ecg_id"]
    finally:
        subscriber.terminate()
        await asyncio.wait_for(subscriber.wait(), timeout=20)
        async with connection:
            cleanup = await connection.channel()
            await cleanup.queue_delete(subscriber_queue)
