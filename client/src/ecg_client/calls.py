"""Each API operation as a request to build and an answer to decode, written once for the
async and the sync client."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

import httpx
from ecg_contracts.rest import (
    EcgAccepted,
    EcgCreate,
    EcgOut,
    EcgPage,
    EcgStatusNotice,
    FieldError,
    InsightsOut,
    Problem,
    Role,
    TokenResponse,
    UserOut,
    UserPage,
)
from pydantic import BaseModel, ValidationError

T = TypeVar("T")
Item = TypeVar("Item", covariant=True)
Answer = TypeVar("Answer", covariant=True)
MAX_WAIT_S = 60.0
RETRY_DELAYS_S = (0.5, 2.0)
"""Pauses before the retries of an idempotent call whose connection dropped."""
EVENTS_PATH = "/ecg/events"


class ApiError(Exception):
    """The server refused: its problem+json answer, field by field."""

    def __init__(self, status: int, title: str, detail: str | None, errors: list[FieldError]):
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors

    @classmethod
    def from_response(cls, response: httpx.Response) -> ApiError:
        try:
            problem = Problem.model_validate_json(response.content)
        except ValidationError:
            return cls(response.status_code, response.reason_phrase, response.text[:500], [])
        return cls(problem.status, problem.title, problem.detail, problem.errors or [])


class Page(Protocol[Item]):
    """A listing's page: its items and the cursor of the next one (None at the end)."""

    @property
    def items(self) -> Sequence[Item]: ...

    @property
    def next_cursor(self) -> str | None: ...


class Unreachable(Exception):
    """No answer from the server (connection refused, timeout, DNS)."""


@dataclass(frozen=True)
class Call(Generic[Answer]):
    method: str
    path: str
    decode: Callable[[httpx.Response], Answer]
    json: Any = None
    params: Mapping[str, str | float] = field(default_factory=dict)
    timeout_s: float | None = None
    idempotent: bool = False
    """Sent again when the connection drops: the server gives the same answer twice."""


def model(cls: type[BaseModel]) -> Callable[[httpx.Response], Any]:
    return lambda response: cls.model_validate_json(response.content)


def nothing(response: httpx.Response) -> None:
    return None


def answer(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        raise ApiError.from_response(response)
    return call.decode(response)


def login(username: str, password: str) -> Call[TokenResponse]:
    return Call(
        "POST",
        "/auth/token",
        model(TokenResponse),
        json={"username": username, "password": password},
    )


def me() -> Call[UserOut]:
    return Call("GET", "/users/me", model(UserOut))


def create_user(username: str, password: str, role: Role = "user") -> Call[UserOut]:
    body = {"username": username, "password": password, "role": role}
    return Call("POST", "/users/", model(UserOut), json=body)


def page_params(cursor: str | None, limit: int) -> dict[str, str | float]:
    return {"limit": limit, **({"cursor": cursor} if cursor else {})}


def users_page(cursor: str | None, limit: int) -> Call[UserPage]:
    return Call("GET", "/users/", model(UserPage), params=page_params(cursor, limit))


def set_user_disabled(user_id: str, disabled: bool) -> Call[UserOut]:
    return Call("PATCH", f"/users/{user_id}", model(UserOut), json={"disabled": disabled})


def upload(ecg: EcgCreate | Mapping[str, Any]) -> Call[EcgAccepted]:
    """An ECG without an id gets one here, so that sending it again after a dropped
    connection is a retry the server recognises (same id, same content), not a second ECG."""
    body = dict(
        ecg.model_dump(mode="json", exclude_none=True) if isinstance(ecg, EcgCreate) else ecg
    )
    body.setdefault("id", str(uuid.uuid4()))
    return Call("POST", "/ecg/", model(EcgAccepted), json=body, idempotent=True)


def get_ecg(ecg_id: str) -> Call[EcgOut]:
    return Call("GET", f"/ecg/{ecg_id}", model(EcgOut), idempotent=True)


def ecgs_page(cursor: str | None, limit: int) -> Call[EcgPage]:
    return Call("GET", "/ecg/", model(EcgPage), params=page_params(cursor, limit), idempotent=True)


def delete_ecg(ecg_id: str) -> Call[None]:
    return Call("DELETE", f"/ecg/{ecg_id}", nothing)


def insights(ecg_id: str, wait_s: float | None = None) -> Call[InsightsOut]:
    """With ``wait_s``, the server answers when the result is stored (at most 60 s)."""
    params: dict[str, str | float] = {}
    timeout_s = None
    if wait_s and wait_s >= 0.001:
        wait = min(wait_s, MAX_WAIT_S)
        params["wait"] = f"{wait:.3f}"
        timeout_s = wait + 10
    return Call(
        "GET", f"/ecg/{ecg_id}/insights", model(InsightsOut), params=params, timeout_s=timeout_s
    )


@dataclass(frozen=True)
class StreamEvent:
    """One event of ``GET /ecg/events``: a status change, or ``resync`` (changes may have
    been missed: list the ECGs again)."""

    kind: Literal["status", "resync"]
    notice: EcgStatusNotice | None = None


class SseDecoder:
    """Server-Sent Events, line by line (the WHATWG event-stream format): comments and
    keep-alives are dropped, events other than ``status`` and ``resync`` ignored."""

    def __init__(self) -> None:
        self._kind = "message"
        self._data: list[str] = []

    def feed(self, line: str) -> StreamEvent | None:
        line = line.rstrip("\r\n")
        if line:
            if not line.startswith(":"):
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "event":
                    self._kind = value
                elif name == "data":
                    self._data.append(value)
            return None
        kind, data = self._kind, "\n".join(self._data)
        self._kind, self._data = "message", []
        if kind == "status" and data:
            return StreamEvent("status", EcgStatusNotice.model_validate_json(data))
        if kind == "resync":
            return StreamEvent("resync")
        return None
