"""The one route table: the app serves it and the OpenAPI document is generated from it,
so every status an operation can answer is documented by the same rule that produces it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from aiohttp.typedefs import Handler
from ecg_contracts.rest import (
    ECG_EXAMPLE,
    EcgAccepted,
    EcgCreate,
    EcgOut,
    EcgPage,
    EcgStatusNotice,
    InsightsOut,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserPage,
    UserPatch,
)
from pydantic import BaseModel

from ecg_gateway.api import handlers
from ecg_gateway.api.problems import ProblemError
from ecg_gateway.plot import DEFAULT_SECONDS, MAX_SECONDS

Access = Literal["public", "anyone signed in", "user", "admin"]
"""Who may call: ``public`` needs no token; the others need one (401 without), and
``user`` / ``admin`` also the role (403 for the other role)."""


@dataclass(frozen=True)
class Reply:
    description: str
    model: type[BaseModel] | None = None
    media_type: str = "application/json"
    example: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    """Header name to description."""
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class Param:
    name: str
    location: Literal["path", "query"]
    schema: Mapping[str, Any]
    description: str = ""


@dataclass(frozen=True)
class Body:
    model: type[BaseModel]
    example: Any
    form: bool = False
    """Also accepted as a form (``application/x-www-form-urlencoded`` or multipart)."""


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    replies: Mapping[int, Reply]
    """The answers particular to this operation; the generic ones (bad request, 401, 403,
    413, 415, 422, 429, 503) follow from ``access``, ``body``, ``params`` and the flags."""
    access: Access = "public"
    body: Body | None = None
    params: tuple[Param, ...] = ()
    description: str | None = None
    throttled: bool = False
    """Answers 429 with ``Retry-After`` (login attempts)."""
    uses_store: bool = True
    """Answers 503 with ``Retry-After`` while the database is unreachable."""

    @property
    def operation_id(self) -> str:
        return self.handler.__name__


ECG_ID = Param("ecg_id", "path", {"type": "string"}, "The ECG's id.")
USER_ID = Param("user_id", "path", {"type": "string"}, "The user's id.")
PAGE = (
    Param(
        "limit",
        "query",
        {"type": "integer", "minimum": 1, "maximum": handlers.MAX_PAGE, "default": 50},
        "Page size (ASCII digits).",
    ),
    Param("cursor", "query", {"type": "string"}, "`next_cursor` of the previous page."),
)
WAIT = Param(
    "wait",
    "query",
    {"type": "number", "exclusiveMinimum": 0, "maximum": handlers.MAX_WAIT_S},
    "Long poll: seconds to wait for the result while pending.",
)
NOT_FOUND_ECG = Reply(
    "No such ECG for this caller (another user's ECG looks exactly the same).",
    media_type="application/problem+json",
)
ECG_LINKS = {
    "GetEcg": {"operationId": "get_ecg", "parameters": {"ecg_id": "$response.body#/id"}},
    "GetInsights": {"operationId": "get_insights", "parameters": {"ecg_id": "$response.body#/id"}},
    "DeleteEcg": {"operationId": "delete_ecg", "parameters": {"ecg_id": "$response.body#/id"}},
}

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "POST",
        "/auth/token",
        handlers.issue_token,
        "Exchange a username and password for a bearer token (OAuth2 password flow)",
        "auth",
        {
            200: Reply(
                "A token.",
                TokenResponse,
                example={"access_token": "eyJ...", "token_type": "bearer", "expires_in": 3600},
            ),
            401: Reply(
                "Wrong username or password, or the user is disabled.",
                media_type="application/problem+json",
                headers={"WWW-Authenticate": "`Bearer`."},
            ),
        },
        body=Body(TokenRequest, {"username": "admin", "password": "adminpass"}, form=True),
        throttled=True,
    ),
    Operation(
        "POST",
        "/users/",
        handlers.create_user,
        "Register a user (admin only)",
        "users",
        {
            201: Reply(
                "Created.",
                UserOut,
                headers={"Location": "The user's path."},
                links={
                    "DisableUser": {
                        "operationId": "patch_user",
                        "parameters": {"user_id": "$response.body#/id"},
                    }
                },
            ),
            409: Reply("The username is taken.", media_type="application/problem+json"),
        },
        access="admin",
        body=Body(UserCreate, {"username": "alice", "password": "alice-password", "role": "user"}),
    ),
    Operation(
        "GET",
        "/users/",
        handlers.list_users,
        "List users by username (admin only)",
        "users",
        {200: Reply("A page of users.", UserPage)},
        access="admin",
        params=PAGE,
    ),
    Operation(
        "GET",
        "/users/me",
        handlers.me,
        "The caller",
        "users",
        {200: Reply("The caller.", UserOut)},
        access="anyone signed in",
    ),
    Operation(
        "PATCH",
        "/users/{user_id}",
        handlers.patch_user,
        "Disable or enable a user (admin only); takes effect on existing tokens at once",
        "users",
        {
            200: Reply("The user after the change.", UserOut),
            404: Reply("No such user.", media_type="application/problem+json"),
        },
        access="admin",
        body=Body(UserPatch, {"disabled": True}),
        params=(USER_ID,),
    ),
    Operation(
        "POST",
        "/ecg/",
        handlers.submit_ecg,
        "Submit an ECG for analysis (user only)",
        "ecg",
        {
            202: Reply(
                "Accepted; analysis pending.",
                EcgAccepted,
                example={"id": "visit-42", "status": "pending"},
                headers={"Location": "The ECG's path."},
                links=ECG_LINKS,
            ),
            200: Reply(
                "An identical retry of an accepted ECG.",
                EcgAccepted,
                headers={"Location": "The ECG's path."},
                links=ECG_LINKS,
            ),
            409: Reply(
                "The id is taken by an ECG with different content.",
                media_type="application/problem+json",
            ),
        },
        access="user",
        body=Body(EcgCreate, ECG_EXAMPLE),
        description="202 with `Location` when accepted; 200 with the same body when the same "
        "id and content were accepted before (an idempotent retry); 409 when the id is taken "
        "by different content.",
    ),
    Operation(
        "GET",
        "/ecg/",
        handlers.list_ecgs,
        "The caller's ECGs, newest first, without signals",
        "ecg",
        {200: Reply("A page of ECGs.", EcgPage)},
        access="user",
        params=PAGE,
    ),
    Operation(
        "GET",
        "/ecg/events",
        handlers.ecg_events,
        "Server-Sent Events: the caller's ECGs' status changes (user only)",
        "ecg",
        {
            200: Reply(
                "The stream.",
                EcgStatusNotice,
                media_type="text/event-stream",
                example="event: status\nid: 5d0c...\ndata: "
                '{"id": "visit-42", "status": "done", "links": '
                '{"ecg": "/ecg/visit-42", "insights": "/ecg/visit-42/insights"}}\n\n',
            )
        },
        access="user",
        description="`text/event-stream`. Each stored result of one of the caller's ECGs "
        "is an `event: status` whose `id` is the event id and whose `data` is an "
        "`EcgStatusNotice`; never another user's. `: keep-alive` comments keep idle "
        "connections open; `event: resync` says changes may have been missed (the "
        "gateway's broker connection was rebuilt): re-read what you wait for.",
    ),
    Operation(
        "GET",
        "/ecg/{ecg_id}",
        handlers.get_ecg,
        "One ECG with its signals (owner only)",
        "ecg",
        {200: Reply("The ECG.", EcgOut), 404: NOT_FOUND_ECG},
        access="user",
        params=(ECG_ID,),
    ),
    Operation(
        "DELETE",
        "/ecg/{ecg_id}",
        handlers.delete_ecg,
        "Delete an ECG with its signals and insights (owner only)",
        "ecg",
        {204: Reply("Deleted."), 404: NOT_FOUND_ECG},
        access="user",
        params=(ECG_ID,),
    ),
    Operation(
        "GET",
        "/ecg/{ecg_id}/insights",
        handlers.get_insights,
        "The analysis status and insights (owner only); `Retry-After` while pending",
        "ecg",
        {
            200: Reply(
                "Status and insights.",
                InsightsOut,
                headers={"Retry-After": "Seconds to wait before asking again, while pending."},
            ),
            404: NOT_FOUND_ECG,
        },
        access="user",
        params=(ECG_ID, WAIT),
        description="With `wait`, a pending ECG's answer comes the moment its result is "
        "stored (by any gateway), or after `wait` seconds with `pending`: no need to poll.",
    ),
    Operation(
        "GET",
        "/ecg/{ecg_id}/plot.svg",
        handlers.get_plot,
        "The ECG drawn on standard ECG paper as SVG, with its R peaks (owner only)",
        "ecg",
        {
            200: Reply(
                "SVG 1.1: one labelled strip per lead; `ETag` to revalidate.",
                media_type="image/svg+xml",
                headers={"ETag": "Changes with the ECG, its analysis and the window."},
            ),
            304: Reply("Not modified (`If-None-Match` matched the `ETag`)."),
            404: NOT_FOUND_ECG,
            409: Reply(
                "The ECG has no sampling rate: it cannot be drawn against time.",
                media_type="application/problem+json",
            ),
        },
        access="user",
        params=(
            ECG_ID,
            Param(
                "leads",
                "query",
                {"type": "string"},
                "Comma-separated lead names to draw, in this order (default: every lead); "
                "400 for a name the ECG lacks.",
            ),
            Param(
                "start_s",
                "query",
                {"type": "number", "minimum": 0, "default": 0},
                "Start of the window, seconds from the first sample.",
            ),
            Param(
                "seconds",
                "query",
                {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "maximum": MAX_SECONDS,
                    "default": DEFAULT_SECONDS,
                },
                "Length of the window (cut at the end of the ECG).",
            ),
        ),
        description="Standard ECG paper: 1 mm and 5 mm grid, 25 mm/s, 10 mm/mV for leads "
        "with `units_per_mv` (a 1 mV calibration pulse beside them), otherwise each lead "
        "scaled to its strip with the scale printed. Windows over 60 s are drawn at a lower "
        "speed (printed in the title) so the page stays about 1.5 m wide; each lead is "
        "decimated per quarter-millimetre column keeping its minimum and maximum, so spikes "
        "stay visible. Once analyzed, R peaks are marked above the strips and the title "
        "gives the heart rate, rhythm and quality flags. Rendered by the gateway from the "
        "stored signal.",
    ),
    Operation(
        "GET",
        "/health/live",
        handlers.live,
        "Liveness",
        "operations",
        {200: Reply("Alive.")},
        uses_store=False,
    ),
    Operation(
        "GET",
        "/health/ready",
        handlers.ready,
        "Readiness: MongoDB answers a ping and the broker is connected",
        "operations",
        {200: Reply("Ready."), 503: Reply("Not ready; `checks` says why.")},
        uses_store=False,
    ),
    Operation(
        "GET",
        "/metrics",
        handlers.metrics,
        "Prometheus metrics",
        "operations",
        {200: Reply("Text exposition format.", media_type="text/plain")},
        uses_store=False,
    ),
)


def method_not_allowed(allowed: list[str]) -> Handler:
    async def refuse(request: web.Request) -> web.StreamResponse:
        raise ProblemError(
            405,
            "Method Not Allowed",
            f"{request.method} is not allowed on {request.path}",
            headers={"Allow": ", ".join(allowed)},
        )

    return refuse


def add_operations(app: web.Application, operations: tuple[Operation, ...] = OPERATIONS) -> None:
    """Each path's operations, then a 405 naming the allowed methods for any other method
    (registered on the same resource, so ``PATCH /users/me`` is not taken for
    ``PATCH /users/{user_id}``)."""
    by_path: dict[str, list[Operation]] = {}
    for operation in operations:
        by_path.setdefault(operation.path, []).append(operation)
    for path, on_path in by_path.items():
        resource = app.router.add_resource(path)
        allowed: list[str] = []
        for operation in on_path:
            resource.add_route(operation.method, operation.handler)
            allowed.append(operation.method)
            if operation.method == "GET":
                resource.add_route("HEAD", operation.handler)
                allowed.append("HEAD")
        resource.add_route("*", method_not_allowed(allowed))
