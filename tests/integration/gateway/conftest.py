"""A gateway app per test, on the real services, with names of its own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from ecg_gateway.app import create_app
from ecg_gateway.settings import GatewaySettings

from tests.services import ServiceUrls

JWT_SECRET = "integration-test-secret-" + "s" * 40


@dataclass
class Gateway:
    client: TestClient[web.Request, web.Application]
    settings: GatewaySettings
    unique: str

    async def token(self, username: str, password: str) -> str:
        response = await self.client.post(
            "/auth/token", json={"username": username, "password": password}
        )
        assert response.status == 200, await response.text()
        return str((await response.json())["access_token"])

    async def auth(self, username: str, password: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {await self.token(username, password)}"}

    async def admin(self) -> dict[str, str]:
        return await self.auth("admin", "adminpass")

    async def new_user(self, name: str = "user", role: str = "user") -> tuple[dict[str, str], str]:
        """Headers of a fresh user, and its id."""
        username = f"{name}-{self.unique}"
        response = await self.client.post(
            "/users/",
            json={"username": username, "password": "password-123", "role": role},
            headers=await self.admin(),
        )
        assert response.status == 201, await response.text()
        return await self.auth(username, "password-123"), str((await response.json())["id"])

    async def wait_for_status(
        self, headers: dict[str, str], ecg_id: str, timeout_s: float = 30
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            response = await self.client.get(f"/ecg/{ecg_id}/insights", headers=headers)
            body: dict[str, Any] = await response.json()
            if body["status"] != "pending" or asyncio.get_running_loop().time() > deadline:
                return body
            await asyncio.sleep(0.2)


def gateway_settings(
    services: ServiceUrls, db: str, names: dict[str, str], **overrides: Any
) -> GatewaySettings:
    values: dict[str, Any] = {
        "mongo_url": services.mongo_url,
        "amqp_url": services.amqp_url,
        "mongo_db": db,
        "exchange": names["exchange"],
        "results_queue": names["results_queue"],
        "jwt_secret": JWT_SECRET,
        "admin_username": "admin",
        "admin_password": "adminpass",
        "outbox_poll_s": 0.2,
        "outbox_lease_s": 2,
    }
    return GatewaySettings(**(values | overrides))


GatewayFactory = Callable[..., Awaitable[Gateway]]


@pytest.fixture
async def make_gateway(
    services: ServiceUrls, mongo_db_name: str, amqp_names: dict[str, str], unique: str
) -> AsyncIterator[GatewayFactory]:
    clients: list[TestClient[web.Request, web.Application]] = []

    async def start(**overrides: Any) -> Gateway:
        settings = gateway_settings(services, mongo_db_name, amqp_names, **overrides)
        client = TestClient(TestServer(await create_app(settings)))
        await client.start_server()
        clients.append(client)
        for _ in range(100):
            if (await client.get("/health/ready")).status == 200:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the gateway never became ready")
        return Gateway(client, settings, unique)

    yield start
    for client in clients:
        await client.close()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    return await make_gateway()


@pytest.fixture
async def observer(
    services: ServiceUrls, amqp_names: dict[str, str]
) -> AsyncIterator[Callable[[float], Awaitable[aio_pika.abc.AbstractIncomingMessage]]]:
    """A queue bound to ``ecg.submitted.#``: stands in for the analyzer's input."""
    connection = await aio_pika.connect(services.amqp_url)
    channel = await connection.channel()
    exchange = await channel.declare_exchange(
        amqp_names["exchange"], aio_pika.ExchangeType.TOPIC, durable=True
    )
    queue = await channel.declare_queue(amqp_names["observer_queue"], durable=False)
    await queue.bind(exchange, "ecg.submitted.#")

    async def next_message(timeout_s: float = 10) -> aio_pika.abc.AbstractIncomingMessage:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(fail=False, no_ack=True)
            if message is not None:
                return message
            await asyncio.sleep(0.05)
        raise AssertionError("no ecg.submitted message arrived")

    yield next_message
    await connection.close()
