"""SIGTERM: the gateway stops accepting, finishes what is in flight, and exits cleanly."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.e2e.conftest import Api, Stack

pytestmark = pytest.mark.e2e


def test_sigterm_lets_an_in_flight_upload_finish(stack: Stack, unique: str) -> None:
    gateway = stack.start_gateway()
    api = Api(stack.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"alice-{unique}", "alice-password")
    alice = api.token(f"alice-{unique}", "alice-password")
    body = json.dumps({"id": "in-flight", "leads": [{"name": "I", "signal": [1, -1] * 50_000}]})

    async def slow_upload() -> int:
        sent_half = asyncio.Event()

        async def chunks() -> AsyncIterator[bytes]:
            data = body.encode()
            half = len(data) // 2
            yield data[:half]
            sent_half.set()
            await asyncio.sleep(1.5)
            yield data[half:]

        async with aiohttp.ClientSession() as session:
            upload = asyncio.create_task(
                session.post(
                    f"{stack.base_url}/ecg/",
                    data=chunks(),
                    headers={"Content-Type": "application/json", **alice},
                )
            )
            await sent_half.wait()
            await asyncio.sleep(0.3)
            gateway.send_signal(signal.SIGTERM)
            response = await upload
            return response.status

    assert asyncio.run(slow_upload()) == 202
    assert gateway.wait(timeout=30) == 0, stack.log("gateway")
    restarted = stack.start_gateway("gateway-again")
    assert restarted.poll() is None
    stored = Api(stack.base_url).http.get("/ecg/in-flight", headers=alice)
    assert stored.status_code == 200
    assert stored.json()["leads"][0]["number_of_samples"] == 100_000
