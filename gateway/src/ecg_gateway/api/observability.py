"""Request ids, access logs and Prometheus metrics of the gateway.

Each app owns its registry (no process-global state), so several apps can live in one
process, as they do in the tests.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler
from ecg_contracts.logs import request_id
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

log = logging.getLogger("ecg_gateway.access")
REQUEST_ID = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class InFlight:
    """Counts requests being handled, so shutdown can wait for them.

    aiohttp's own graceful shutdown stops reading from connections first, which cuts off
    an upload whose body is still arriving; the gateway drains before that.
    """

    def __init__(self) -> None:
        self.count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def enter(self) -> None:
        self.count += 1
        self._idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if self.count == 0:
            self._idle.set()

    async def wait_idle(self, timeout_s: float) -> bool:
        try:
            await asyncio.wait_for(self._idle.wait(), timeout=timeout_s)
        except TimeoutError:
            return False
        return True


class Failure:
    """Why a background part cannot go on (the broker refuses the queues, say): ``serve``
    stops the gateway on it and exits with the reason."""

    def __init__(self) -> None:
        self.reason: str | None = None
        self.happened = asyncio.Event()

    def fail(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
            logging.getLogger("ecg_gateway").critical("cannot go on", extra={"reason": reason})
        self.happened.set()


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ecg_http_requests",
            "HTTP requests by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ecg_http_request_duration_seconds",
            "HTTP request latency by route and method.",
            ["route", "method"],
            registry=self.registry,
        )
        self.accepted = Counter(
            "ecg_ecgs_accepted", "ECGs accepted for analysis.", registry=self.registry
        )
        self.results = Counter(
            "ecg_ecgs_results",
            "Analysis results stored, by final status (done or failed).",
            ["status"],
            registry=self.registry,
        )
        self.result_lag = Histogram(
            "ecg_result_consumer_lag_seconds",
            "Time from a result event's occurred_at to its storage by the gateway.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "ecg_outbox_backlog",
            "Accepted ECGs whose dispatch is due but not yet published.",
            registry=self.registry,
        )
        self.results_queue_depth = Gauge(
            "ecg_results_queue_depth",
            "Completion events waiting in the gateway's results queue (-1 when unknown).",
            registry=self.registry,
        )

    def ecg_accepted(self) -> None:
        self.accepted.inc()

    def result_stored(self, status: str, lag_s: float) -> None:
        self.results.labels(status=status).inc()
        self.result_lag.observe(max(lag_s, 0.0))


def make_observability_middleware(
    metrics: Metrics, in_flight: InFlight
) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def observe(request: web.Request, handler: Handler) -> web.StreamResponse:
        incoming = request.headers.get(REQUEST_ID, "")
        rid = incoming if _VALID_REQUEST_ID.match(incoming) else str(uuid.uuid4())
        token = request_id.set(rid)
        started = time.perf_counter()
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "unmatched"
        status = 500
        in_flight.enter()
        try:
            response = await handler(request)
            status = response.status
            response.headers[REQUEST_ID] = rid
            return response
        except web.HTTPException as error:
            status = error.status
            error.headers[REQUEST_ID] = rid
            raise
        finally:
            in_flight.leave()
            elapsed = time.perf_counter() - started
            metrics.requests.labels(route=route, method=request.method, status=str(status)).inc()
            metrics.latency.labels(route=route, method=request.method).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id.reset(token)

    return observe


async def render_metrics(metrics: Metrics) -> web.Response:
    return web.Response(
        body=generate_latest(metrics.registry),
        headers={"Content-Type": CONTENT_TYPE_LATEST},
    )
