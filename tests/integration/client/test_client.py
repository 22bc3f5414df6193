"""The Python client against a gateway on the real services: every operation, both
transports, and the server's refusals as exceptions carrying the problem's fields."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from ecg_client import ApiError, AsyncEcgClient, EcgClient, StreamEvent, Unreachable
from ecg_contracts import events
from ecg_contracts.events import EcgAnalyzed
from ecg_contracts.rest import EcgCreate, LeadIn

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_results import insights, publish
from tests.ports import free_port
from tests.services import ServiceUrls

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


async def first_event(stream: AsyncIterator[StreamEvent]) -> StreamEvent:
    return await anext(stream)


async def test_the_event_stream_delivers_the_users_own_status_changes(
    gateway: Gateway, services: ServiceUrls
) -> None:
    _, user_id = await gateway.new_user("stream")
    async with AsyncEcgClient(base_url(gateway)) as client:
        await client.login(f"stream-{gateway.unique}", "password-123")
        await client.upload({"id": "streamed", "leads": [{"name": "I", "signal": [1, -1]}]})
        stream = client.events()
        first = asyncio.create_task(first_event(stream))
        await asyncio.sleep(0.5)
        await publish(
            services,
            gateway.settings.exchange,
            EcgAnalyzed(ecg_id="streamed", owner_id=user_id, insights=insights(1)),
            events.ANALYZED,
        )
        event = await asyncio.wait_for(first, 10)
        await stream.aclose()
    assert event.kind == "status"
    assert event.notice is not None
    assert (event.notice.id, event.notice.status) == ("streamed", "done")
    assert event.notice.links.insights == "/ecg/streamed/insights"


class DroppingProxy:
    """Forwards to the gateway, except that the first connection's answer is dropped after
    the gateway has begun sending it: the request was handled, the client never hears."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.connections = 0
        self.server: asyncio.Server | None = None

    async def __aenter__(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port: int = self.server.sockets[0].getsockname()[1]
        return port

    async def __aexit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        drop = self.connections == 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()

        forward = asyncio.create_task(pipe(reader, up_writer))
        try:
            if drop:
                await up_reader.read(1)
            else:
                await pipe(up_reader, writer)
        finally:
            forward.cancel()
            for end in (writer, up_writer):
                end.close()


async def test_an_upload_whose_answer_is_lost_is_retried_as_the_same_ecg(
    gateway: Gateway,
) -> None:
    await gateway.new_user("retry")
    port = gateway.client.port
    assert port is not None
    async with AsyncEcgClient(base_url(gateway)) as direct:
        token = await direct.login(f"retry-{gateway.unique}", "password-123")
        proxy = DroppingProxy(port)
        async with (
            proxy as proxy_port,
            AsyncEcgClient(f"http://127.0.0.1:{proxy_port}", token=token) as client,
        ):
            accepted = await client.upload({"leads": [{"name": "I", "signal": [5, -5, 5]}]})
        stored = [ecg.id async for ecg in direct.ecgs()]
    assert proxy.connections == 2, "the dropped upload was sent again"
    assert stored == [accepted.id], "one ECG, under the id the client gave it"
    assert accepted.status == "pending"
