"""The async and the sync client: the same operations (``calls``), two transports."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterator, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx
from ecg_contracts.rest import (
    EcgAccepted,
    EcgCreate,
    EcgOut,
    EcgSummary,
    InsightsOut,
    Role,
    UserOut,
)

from ecg_client import calls
from ecg_client.calls import (
    EVENTS_PATH,
    RETRY_DELAYS_S,
    Call,
    Item,
    Page,
    SseDecoder,
    StreamEvent,
    Unreachable,
)

T = TypeVar("T")
PAGE = 100


def _request(call: Call[Any], token: str | None) -> dict[str, Any]:
    request: dict[str, Any] = {"headers": _auth(token), "params": dict(call.params)}
    if call.json is not None:
        request["json"] = call.json
    if call.timeout_s is not None:
        request["timeout"] = call.timeout_s
    return request


def _auth(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


class AsyncEcgClient:
    """``async with AsyncEcgClient(url) as ecg: await ecg.login(...)``."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 30) -> None:
        self.token = token
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout_s)

    async def __aenter__(self) -> AsyncEcgClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _run(self, call: Call[T]) -> T:
        delays = RETRY_DELAYS_S if call.idempotent else ()
        for attempt in range(len(delays) + 1):
            try:
                response = await self._http.request(
                    call.method, call.path, **_request(call, self.token)
                )
            except httpx.TransportError as error:
                if attempt == len(delays):
                    raise Unreachable(f"{self._http.base_url}: {error!r}") from error
                await asyncio.sleep(delays[attempt])
            else:
                return calls.answer(call, response)
        raise AssertionError("unreachable")

    async def events(self) -> AsyncGenerator[StreamEvent, None]:
        """The caller's ECGs' status changes, live (``GET /ecg/events``), until closed. A
        dropped stream is opened again, after a ``resync`` event: changes in between may
        have been missed."""
        connected = False
        while True:
            try:
                async with self._http.stream(
                    "GET", EVENTS_PATH, headers=_auth(self.token), timeout=httpx.Timeout(None)
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise calls.ApiError.from_response(response)
                    if connected:
                        yield StreamEvent("resync")
                    connected = True
                    decoder = SseDecoder()
                    async for line in response.aiter_lines():
                        if (event := decoder.feed(line)) is not None:
                            yield event
            except httpx.TransportError as error:
                if not connected:
                    raise Unreachable(f"{self._http.base_url}: {error!r}") from error
            await asyncio.sleep(RETRY_DELAYS_S[0])

    async def login(self, username: str, password: str) -> str:
        """Keeps the token for the calls that follow, and returns it."""
        self.token = (await self._run(calls.login(username, password))).access_token
        return self.token

    async def me(self) -> UserOut:
        return await self._run(calls.me())

    async def create_user(self, username: str, password: str, role: Role = "user") -> UserOut:
        return await self._run(calls.create_user(username, password, role))

    async def _follow(self, page: Callable[[str | None], Call[Page[Item]]]) -> AsyncIterator[Item]:
        """Every item of a listing, page after page."""
        cursor = None
        while True:
            result = await self._run(page(cursor))
            for item in result.items:
                yield item
            if result.next_cursor is None:
                return
            cursor = result.next_cursor

    def users(self) -> AsyncIterator[UserOut]:
        return self._follow(lambda cursor: calls.users_page(cursor, PAGE))

    async def set_user_disabled(self, user_id: str, disabled: bool) -> UserOut:
        return await self._run(calls.set_user_disabled(user_id, disabled))

    async def upload(self, ecg: EcgCreate | Mapping[str, Any]) -> EcgAccepted:
        return await self._run(calls.upload(ecg))

    async def get(self, ecg_id: str) -> EcgOut:
        return await self._run(calls.get_ecg(ecg_id))

    def ecgs(self) -> AsyncIterator[EcgSummary]:
        return self._follow(lambda cursor: calls.ecgs_page(cursor, PAGE))

    async def delete(self, ecg_id: str) -> None:
        await self._run(calls.delete_ecg(ecg_id))

    async def insights(self, ecg_id: str, wait_s: float | None = None) -> InsightsOut:
        """With ``wait_s``, long-polls (in 60 s steps) until done, failed or the time is up."""
        deadline = time.monotonic() + (wait_s or 0)
        while True:
            remaining = deadline - time.monotonic()
            result = await self._run(calls.insights(ecg_id, remaining if remaining > 0 else None))
            if result.status != "pending" or remaining <= calls.MAX_WAIT_S:
                return result


class EcgClient:
    """The same operations, blocking: ``with EcgClient(url) as ecg: ecg.login(...)``."""

    def __init__(self, base_url: str, token: str | None = None, timeout_s: float = 30) -> None:
        self.token = token
        self._http = httpx.Client(base_url=base_url, timeout=timeout_s)

    def __enter__(self) -> EcgClient:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _run(self, call: Call[T]) -> T:
        delays = RETRY_DELAYS_S if call.idempotent else ()
        for attempt in range(len(delays) + 1):
            try:
                response = self._http.request(call.method, call.path, **_request(call, self.token))
            except httpx.TransportError as error:
                if attempt == len(delays):
                    raise Unreachable(f"{self._http.base_url}: {error!r}") from error
                time.sleep(delays[attempt])
            else:
                return calls.answer(call, response)
        raise AssertionError("unreachable")

    def events(self) -> Generator[StreamEvent, None, None]:
        """As :meth:`AsyncEcgClient.events`, blocking."""
        connected = False
        while True:
            try:
                with self._http.stream(
                    "GET", EVENTS_PATH, headers=_auth(self.token), timeout=httpx.Timeout(None)
                ) as response:
                    if response.status_code >= 400:
                        response.read()
                        raise calls.ApiError.from_response(response)
                    if connected:
                        yield StreamEvent("resync")
                    connected = True
                    decoder = SseDecoder()
                    for line in response.iter_lines():
                        if (event := decoder.feed(line)) is not None:
                            yield event
            except httpx.TransportError as error:
                if not connected:
                    raise Unreachable(f"{self._http.base_url}: {error!r}") from error
            time.sleep(RETRY_DELAYS_S[0])

    def login(self, username: str, password: str) -> str:
        self.token = self._run(calls.login(username, password)).access_token
        return self.token

    def me(self) -> UserOut:
        return self._run(calls.me())

    def create_user(self, username: str, password: str, role: Role = "user") -> UserOut:
        return self._run(calls.create_user(username, password, role))

    def _follow(self, page: Callable[[str | None], Call[Page[Item]]]) -> Iterator[Item]:
        cursor = None
        while True:
            result = self._run(page(cursor))
            yield from result.items
            if result.next_cursor is None:
                return
            cursor = result.next_cursor

    def users(self) -> Iterator[UserOut]:
        return self._follow(lambda cursor: calls.users_page(cursor, PAGE))

    def set_user_disabled(self, user_id: str, disabled: bool) -> UserOut:
        return self._run(calls.set_user_disabled(user_id, disabled))

    def upload(self, ecg: EcgCreate | Mapping[str, Any]) -> EcgAccepted:
        return self._run(calls.upload(ecg))

    def get(self, ecg_id: str) -> EcgOut:
        return self._run(calls.get_ecg(ecg_id))

    def ecgs(self) -> Iterator[EcgSummary]:
        return self._follow(lambda cursor: calls.ecgs_page(cursor, PAGE))

    def delete(self, ecg_id: str) -> None:
        self._run(calls.delete_ecg(ecg_id))

    def insights(self, ecg_id: str, wait_s: float | None = None) -> InsightsOut:
        deadline = time.monotonic() + (wait_s or 0)
        while True:
            remaining = deadline - time.monotonic()
            result = self._run(calls.insights(ecg_id, remaining if remaining > 0 else None))
            if result.status != "pending" or remaining <= calls.MAX_WAIT_S:
                return result
