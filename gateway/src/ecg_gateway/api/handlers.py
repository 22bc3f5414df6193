"""HTTP adapters: parse, authorize, call a use case, render. Nothing else."""

from __future__ import annotations

import asyncio
import base64
import json
import math
from datetime import datetime
from typing import Final

from aiohttp import web
from ecg_contracts.rest import (
    EcgAccepted,
    EcgCreate,
    EcgLinks,
    EcgOut,
    EcgPage,
    EcgStatusNotice,
    EcgSummary,
    InsightsOut,
    LeadOut,
    TokenRequest,
    TokenResponse,
    UserCreate,
    UserOut,
    UserPage,
    UserPatch,
)
from ecg_contracts.signal import unpack_samples
from pydantic import BaseModel

from ecg_gateway.api import state
from ecg_gateway.api.observability import render_metrics
from ecg_gateway.api.problems import ProblemError, not_found, unauthorized
from ecg_gateway.api.requests import (
    DECIMAL,
    bad_request,
    decimal_query,
    int_query,
    query_value,
    read_json,
    read_json_or_form,
)
from ecg_gateway.auth.access import Principal, ensure_may_manage_users, ensure_may_use_ecgs
from ecg_gateway.auth.tokens import InvalidToken
from ecg_gateway.messaging.notifications import Resync, StreamClosed
from ecg_gateway.model import StatusChange, UserRecord
from ecg_gateway.plot import (
    DEFAULT_SECONDS,
    MAX_LEADS,
    MAX_SECONDS,
    NotPlottable,
    PlotRequestError,
    Window,
    plot_etag,
    render_ecg_svg,
)

PENDING_RETRY_AFTER_S = "2"
DEFAULT_PAGE = 50
MAX_PAGE = 500
MAX_WAIT_S: Final = 60.0
SSE_RETRY_MS: Final = 2000


def json_response(
    model: BaseModel, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        status=status,
        body=model.model_dump_json().encode(),
        content_type="application/json",
        headers=headers,
    )


async def authenticate(request: web.Request) -> Principal:
    """The caller from its bearer token; the role and the disabled flag come from the
    database, so disabling a user or changing a role takes effect at once."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("a bearer token is required")
    try:
        claims = request.app[state.TOKENS].verify(token.strip())
    except InvalidToken:
        raise unauthorized("the token is invalid or expired") from None
    user = await request.app[state.USER_SERVICE].get(claims.subject)
    if user is None or user.disabled:
        raise unauthorized("the token's user is unknown or disabled")
    return Principal(user_id=user.id, username=user.username, role=user.role)


def page_limit(request: web.Request) -> int:
    return int_query(request, "limit", DEFAULT_PAGE, 1, MAX_PAGE)


def encode_cursor(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, arity: int) -> list[str] | None:
    if raw is None:
        return None
    try:
        parts = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, TypeError):
        parts = None
    if (
        not isinstance(parts, list)
        or len(parts) != arity
        or not all(isinstance(p, str) for p in parts)
    ):
        raise bad_request("the cursor is malformed")
    return parts


# --- auth ----------------------------------------------------------------------------------


async def issue_token(request: web.Request) -> web.Response:
    """JSON or form body; values must be strings (never query operators). Failed
    attempts are throttled per username and per client address."""
    credentials = await read_json_or_form(request, TokenRequest, ("username", "password"))
    user = await request.app[state.USER_SERVICE].authenticate(
        credentials.username, credentials.password, client=request.remote or "unknown"
    )
    if user is None:
        raise unauthorized("wrong username or password")
    tokens = request.app[state.TOKENS]
    return json_response(
        TokenResponse(access_token=tokens.issue(user.id, user.role), expires_in=tokens.ttl_s)
    )


# --- users ---------------------------------------------------------------------------------


def user_out(user: UserRecord) -> UserOut:
    return UserOut(id=user.id, username=user.username, role=user.role, disabled=user.disabled)


async def create_user(request: web.Request) -> web.Response:
    ensure_may_manage_users(await authenticate(request))
    body = await read_json(request, UserCreate)
    user = await request.app[state.USER_SERVICE].create(body.username, body.password, body.role)
    return json_response(user_out(user), status=201, headers={"Location": f"/users/{user.id}"})


async def me(request: web.Request) -> web.Response:
    principal = await authenticate(request)
    user = await request.app[state.USER_SERVICE].get(principal.user_id)
    if user is None:
        raise unauthorized("the token's user is unknown")
    return json_response(user_out(user))


async def list_users(request: web.Request) -> web.Response:
    ensure_may_manage_users(await authenticate(request))
    limit = page_limit(request)
    cursor = decode_cursor(query_value(request, "cursor"), 1)
    users = await request.app[state.USER_SERVICE].list_page(
        limit + 1, cursor[0] if cursor else None
    )
    more = len(users) > limit
    users = users[:limit]
    return json_response(
        UserPage(
            items=[user_out(u) for u in users],
            next_cursor=encode_cursor(users[-1].username) if more else None,
        )
    )


async def patch_user(request: web.Request) -> web.Response:
    ensure_may_manage_users(await authenticate(request))
    body = await read_json(request, UserPatch)
    user = await request.app[state.USER_SERVICE].set_disabled(
        request.match_info["user_id"], body.disabled
    )
    if user is None:
        raise not_found("no such user")
    return json_response(user_out(user))


# --- ECGs ----------------------------------------------------------------------------------


async def submit_ecg(request: web.Request) -> web.Response:
    principal = await authenticate(request)
    ensure_may_use_ecgs(principal)  # before reading a body an admin may not send
    body = await read_json(request, EcgCreate)
    submission = await request.app[state.ECG_SERVICE].submit(principal, body)
    return json_response(
        EcgAccepted(id=submission.ecg_id, status=submission.status),
        status=202 if submission.created else 200,
        headers={"Location": f"/ecg/{submission.ecg_id}"},
    )


async def get_ecg(request: web.Request) -> web.Response:
    principal = await authenticate(request)
    record = await request.app[state.ECG_SERVICE].get(principal, request.match_info["ecg_id"])
    return json_response(
        EcgOut(
            id=record.ecg_id,
            date=record.date,
            sampling_rate_hz=record.sampling_rate_hz,
            status=record.status,
            submitted_at=record.submitted_at,
            leads=[
                LeadOut(
                    name=lead.name,
                    number_of_samples=lead.number_of_samples,
                    signal=unpack_samples(lead.dtype, lead.raw),
                    units_per_mv=lead.units_per_mv,
                )
                for lead in record.leads
            ],
        )
    )


def wait_seconds(request: web.Request) -> float:
    raw = query_value(request, "wait")
    if raw is None:
        return 0.0
    wait_s = float(raw) if DECIMAL.fullmatch(raw) else math.nan
    if not 0 < wait_s <= MAX_WAIT_S:
        raise bad_request(f"wait must be a number of seconds in (0, {MAX_WAIT_S:.0f}]")
    return wait_s


async def get_insights(request: web.Request) -> web.Response:
    """With ``?wait=N``, a pending ECG's answer comes when its result is stored."""
    principal = await authenticate(request)
    wait_s = wait_seconds(request)
    current = await request.app[state.ECG_SERVICE].status(
        principal, request.match_info["ecg_id"], wait_s
    )
    body = InsightsOut.model_validate(
        {
            "ecg_id": current.ecg_id,
            "status": current.status,
            "insights": current.insights,
            "error": current.error,
        }
    )
    headers = {"Retry-After": PENDING_RETRY_AFTER_S} if current.status == "pending" else None
    return json_response(body, headers=headers)


def plot_window(request: web.Request) -> Window:
    raw_leads = query_value(request, "leads")
    leads = None
    if raw_leads is not None:
        leads = tuple(name.strip() for name in raw_leads.split(","))
        if not all(leads) or len(leads) > MAX_LEADS or len(set(leads)) != len(leads):
            raise bad_request(
                f"leads must be up to {MAX_LEADS} distinct lead names separated by commas"
            )
    seconds = decimal_query(request, "seconds", DEFAULT_SECONDS, MAX_SECONDS)
    if seconds <= 0:
        raise bad_request("seconds must be more than 0")
    return Window(leads, decimal_query(request, "start_s", 0.0, MAX_SECONDS), seconds)


async def get_plot(request: web.Request) -> web.Response:
    """The ECG on standard paper; revalidated with its ETag (304 when unchanged)."""
    principal = await authenticate(request)
    window = plot_window(request)
    record = await request.app[state.ECG_SERVICE].get(principal, request.match_info["ecg_id"])
    etag = plot_etag(record, window)
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
        return web.Response(status=304, headers=headers)
    try:
        # Pure Python over every sample in the window: in a thread, the event loop keeps
        # getting the interpreter between its slices instead of waiting out the whole plot.
        svg = await asyncio.to_thread(render_ecg_svg, record, window)
    except PlotRequestError as error:
        raise bad_request(str(error)) from None
    except NotPlottable as error:
        raise ProblemError(409, "Conflict", str(error)) from None
    return web.Response(
        body=svg.encode(), content_type="image/svg+xml", charset="utf-8", headers=headers
    )


def status_event(change: StatusChange) -> bytes:
    notice = EcgStatusNotice(
        id=change.ecg_id,
        status=change.status,
        links=EcgLinks(ecg=f"/ecg/{change.ecg_id}", insights=f"/ecg/{change.ecg_id}/insights"),
    )
    return f"event: status\nid: {change.event_id}\ndata: {notice.model_dump_json()}\n\n".encode()


async def ecg_events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: the caller's ECGs' status changes as they are stored."""
    principal = await authenticate(request)
    keepalive_s = request.app[state.SETTINGS].sse_keepalive_s
    with request.app[state.ECG_SERVICE].subscribe(principal) as changes:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        try:
            await response.write(f"retry: {SSE_RETRY_MS}\n: connected\n\n".encode())
            while True:
                try:
                    change = await changes.next(keepalive_s)
                except StreamClosed:
                    break
                if change is None:
                    await response.write(b": keep-alive\n\n")
                elif isinstance(change, Resync):
                    await response.write(b"event: resync\ndata: {}\n\n")
                else:
                    await response.write(status_event(change))
        except (ConnectionResetError, ConnectionError):
            pass
    return response


async def list_ecgs(request: web.Request) -> web.Response:
    principal = await authenticate(request)
    limit = page_limit(request)
    cursor = decode_cursor(query_value(request, "cursor"), 2)
    after = None
    if cursor:
        try:
            after = (datetime.fromisoformat(cursor[0]), cursor[1])
        except ValueError:
            raise bad_request("the cursor is malformed") from None
    rows = await request.app[state.ECG_SERVICE].list_page(principal, limit + 1, after)
    more = len(rows) > limit
    rows = rows[:limit]
    return json_response(
        EcgPage(
            items=[
                EcgSummary(
                    id=r.ecg_id,
                    date=r.date,
                    sampling_rate_hz=r.sampling_rate_hz,
                    status=r.status,
                    submitted_at=r.submitted_at,
                    lead_names=r.lead_names,
                )
                for r in rows
            ],
            next_cursor=(
                encode_cursor(rows[-1].submitted_at.isoformat(), rows[-1].ecg_id) if more else None
            ),
        )
    )


async def delete_ecg(request: web.Request) -> web.Response:
    principal = await authenticate(request)
    await request.app[state.ECG_SERVICE].delete(principal, request.match_info["ecg_id"])
    return web.Response(status=204)


# --- health --------------------------------------------------------------------------------


async def live(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    checks = await request.app[state.HEALTH].readiness()
    ok = all(v == "ok" for v in checks.values())
    return web.json_response(
        {"status": "ok" if ok else "unavailable", "checks": checks}, status=200 if ok else 503
    )


async def metrics(request: web.Request) -> web.Response:
    registry = request.app[state.METRICS]
    health = request.app[state.HEALTH]
    registry.outbox_backlog.set(health.outbox_backlog())
    depth = await health.results_queue_depth()
    registry.results_queue_depth.set(-1 if depth is None else depth)
    return await render_metrics(registry)
