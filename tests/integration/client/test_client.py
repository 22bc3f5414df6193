"""The Python client against a gateway on the real services: every operation, both
transports, and the server's refusals as exceptions carrying the problem's fields."""

from __future__ import annotations

import asyncio

import pytest
from ecg_client import ApiError, AsyncEcgClient, EcgClient, Unreachable
from ecg_contracts.rest import EcgCreate, LeadIn

from tests.integration.gateway.conftest import Gateway
from tests.ports import free_port

pytestmark = pytest.mark.integration


def base_url(gateway: Gateway) -> str:
    return str(gateway.client.make_url("/"))


async def test_a_user_uploads_reads_lists_waits_and_deletes(gateway: Gateway) -> None:
    async with AsyncEcgClient(base_url(gateway)) as admin:
        await admin.login("admin", "adminpass")
        alice = await admin.create_user(f"alice-{gateway.unique}", "alice-password")
        assert alice.role == "user"
        names = [user.username async for user in admin.users()]
        assert f"alice-{gateway.unique}" in names

    async with AsyncEcgClient(base_url(gateway)) as client:
        await client.login(f"alice-{gateway.unique}", "alice-password")
        assert (await client.me()).id == alice.id
        body = EcgCreate(id="c-1", leads=[LeadIn(name="I", signal=[1, -1, 2, -2])])
        accepted = await client.upload(body)
        assert (accepted.id, accepted.status) == ("c-1", "pending")
        await client.upload({"id": "c-2", "leads": [{"name": "I", "signal": [3, -3]}]})
        assert (await client.get("c-1")).leads[0].signal == [1, -1, 2, -2]
        assert {ecg.id async for ecg in client.ecgs()} == {"c-1", "c-2"}
        await client.delete("c-2")
        with pytest.raises(ApiError) as missing:
            await client.get("c-2")
        assert missing.value.status == 404
        assert missing.value.title == "Not Found"


async def test_refusals_carry_the_problem_fields(gateway: Gateway) -> None:
    async with AsyncEcgClient(base_url(gateway)) as client:
        with pytest.raises(ApiError) as unauthorized:
            await client.login("nobody", "wrong-password")
        assert unauthorized.value.status == 401
        await client.login("admin", "adminpass")
        with pytest.raises(ApiError) as forbidden:
            await client.upload({"leads": [{"name": "I", "signal": [1]}]})
        assert forbidden.value.status == 403
        with pytest.raises(ApiError) as invalid:
            await client.create_user("x", "short")
        assert invalid.value.status == 422
        assert {error.field for error in invalid.value.errors} == {"username", "password"}


async def test_an_unreachable_server_is_its_own_error() -> None:
    async with AsyncEcgClient(f"http://127.0.0.1:{free_port()}/") as client:
        with pytest.raises(Unreachable):
            await client.login("admin", "adminpass")


async def test_insights_wait_returns_when_the_timeout_passes_while_pending(
    gateway: Gateway,
) -> None:
    """No analyzer runs here, so the ECG stays pending: the long poll ends on its own."""
    headers, _ = await gateway.new_user()
    token = headers["Authorization"].removeprefix("Bearer ")
    async with AsyncEcgClient(base_url(gateway), token=token) as client:
        await client.upload({"id": "slow", "leads": [{"name": "I", "signal": [1, -1]}]})
        started = asyncio.get_running_loop().time()
        result = await client.insights("slow", wait_s=1.0)
        assert result.status == "pending"
        assert asyncio.get_running_loop().time() - started >= 0.9


async def test_the_sync_client_does_the_same(gateway: Gateway) -> None:
    def run() -> list[str]:
        with EcgClient(base_url(gateway)) as admin:
            admin.login("admin", "adminpass")
            admin.create_user(f"bob-{gateway.unique}", "bob-password")
        with EcgClient(base_url(gateway)) as client:
            client.login(f"bob-{gateway.unique}", "bob-password")
            client.upload({"id": "s-1", "leads": [{"name": "I", "signal": [1, -1]}]})
            assert client.insights("s-1").status == "pending"
            return [ecg.id for ecg in client.ecgs()]

    assert await asyncio.to_thread(run) == ["s-1"]
