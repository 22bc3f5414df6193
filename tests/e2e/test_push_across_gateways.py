"""Several gateways: a result stored by one wakes the clients waiting on another."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import aio_pika
import httpx
import pytest

from tests.e2e.conftest import Api, Stack
from tests.ports import free_port
from tests.services import ServiceUrls

pytestmark = pytest.mark.e2e


async def queue_exists(amqp_url: str, name: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        try:
            await channel.declare_queue(name, passive=True)
        except aio_pika.exceptions.ChannelClosed:
            return False
        return True


def test_a_result_consumed_by_one_gateway_wakes_a_waiter_and_a_stream_on_another(
    stack: Stack, services: ServiceUrls, amqp_names: dict[str, str], unique: str
) -> None:
    stack.start_gateway("storing-gateway")
    other_port = free_port()
    stack.start_gateway("serving-gateway", ECG_PORT=str(other_port), ECG_CONSUME_RESULTS="false")
    storing, serving = Api(stack.base_url), Api(f"http://127.0.0.1:{other_port}")
    admin = storing.token("admin", "adminpass")
    storing.create_user(admin, f"alice-{unique}", "alice-password")
    alice = storing.token(f"alice-{unique}", "alice-password")

    # The analyzer declares its durable queue, then stops: uploads wait there, so the
    # long poll below starts while the ECG is surely pending.
    analyzer = stack.start("analyzer", "ecg_analyzer")
    deadline = time.monotonic() + 30
    while not asyncio.run(queue_exists(services.amqp_url, amqp_names["analyzer_queue"])):
        assert time.monotonic() < deadline, stack.log("analyzer")
        time.sleep(0.2)
    analyzer.send_signal(signal.SIGTERM)
    assert analyzer.wait(timeout=30) == 0

    body = {"id": "across", "sampling_rate_hz": 250, "leads": [{"name": "I", "signal": [3, -3, 3]}]}
    assert storing.http.post("/ecg/", json=body, headers=alice).status_code == 202

    def long_poll() -> tuple[float, dict[str, object]]:
        response = serving.http.get("/ecg/across/insights?wait=45", headers=alice, timeout=60)
        return time.monotonic(), response.json()

    def first_stream_event() -> dict[str, object]:
        with httpx.stream(
            "GET", f"{serving.http.base_url}/ecg/events", headers=alice, timeout=60
        ) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    event: dict[str, object] = json.loads(line.removeprefix("data: "))
                    return event
        raise AssertionError("the stream ended without an event")

    with ThreadPoolExecutor(max_workers=2) as threads:
        polled = threads.submit(long_poll)
        streamed = threads.submit(first_stream_event)
        time.sleep(1.0)
        assert not polled.done(), "nothing can answer before the analyzer runs"
        started = time.monotonic()
        stack.start("analyzer-again", "ecg_analyzer")
        answered_at, answer = polled.result(timeout=60)
        event = streamed.result(timeout=60)

    assert answer["status"] == "done", (stack.log("storing-gateway"), stack.log("serving-gateway"))
    assert answered_at - started < 45, "woken by the other gateway, not by the timeout"
    assert event == {
        "id": "across",
        "status": "done",
        "links": {"ecg": "/ecg/across", "insights": "/ecg/across/insights"},
    }
    # The serving gateway now answers from what its feed told it; a deletion on the other
    # gateway reaches it the same way, so it never answers for a deleted ECG.
    assert serving.http.get("/ecg/across/insights", headers=alice).json()["status"] == "done"
    assert storing.http.delete("/ecg/across", headers=alice).status_code == 204
    deadline = time.monotonic() + 5
    while serving.http.get("/ecg/across/insights", headers=alice).status_code != 404:
        assert time.monotonic() < deadline, "the serving gateway still answers for it"
        time.sleep(0.05)

    logs = {name: (stack.log_dir / f"{name}.log").read_text() for name in stack.processes}
    assert "result stored" in logs["storing-gateway"]
    assert "result stored" not in logs["serving-gateway"]
