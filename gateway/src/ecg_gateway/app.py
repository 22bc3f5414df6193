"""Composition root of the gateway: ``create_app(settings)`` wires adapters to use cases."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web
from ecg_amqp.connection import (
    BrokerConfig,
    FatalBrokerError,
    Session,
    Supervisor,
    parse_urls,
)
from ecg_amqp.topology import WorkQueue, declare_work_queue
from ecg_contracts import events
from pymongo import AsyncMongoClient

from ecg_gateway.api import state
from ecg_gateway.api.observability import (
    Failure,
    InFlight,
    Metrics,
    make_observability_middleware,
)
from ecg_gateway.api.openapi import add_docs_routes
from ecg_gateway.api.problems import UndecodableBodyNoise, problem_middleware
from ecg_gateway.api.routes import add_operations
from ecg_gateway.api.viewer import add_viewer_routes
from ecg_gateway.auth.passwords import Passwords
from ecg_gateway.auth.throttle import LoginThrottle
from ecg_gateway.auth.tokens import TokenService
from ecg_gateway.messaging.amqp import AmqpEventPublisher, consume_results, consume_status_feed
from ecg_gateway.messaging.notifications import StatusHub
from ecg_gateway.model import StatusChange, UsernameTaken
from ecg_gateway.relay import OutboxRelay
from ecg_gateway.services import EcgService, UserService
from ecg_gateway.settings import DEV_ADMIN_PASSWORD, DEV_JWT_SECRET, GatewaySettings
from ecg_gateway.store.mongo import (
    STORE_UNAVAILABLE,
    MongoEcgRepository,
    MongoUserRepository,
    create_client,
    create_indexes,
)

log = logging.getLogger(__name__)
MAX_HEAD_LINE_BYTES = 65536
"""Longest request line and header field. aiohttp answers longer ones itself, in plain
text, before the app and its problem+json middleware see the request; 8190 bytes (its
default) is easily passed by a query string."""
MONGO = web.AppKey("mongo", AsyncMongoClient[dict[str, Any]])
PUBLISHER = web.AppKey("publisher", AmqpEventPublisher)
RELAY = web.AppKey("relay", OutboxRelay)
HUB = web.AppKey("hub", StatusHub)
"""Resources only the composition root touches; the HTTP layer reaches them through
:class:`StackHealth` and the use cases."""


class StackHealth:
    """Readiness and backlog gauges from the drivers, behind the HTTP layer's port."""

    def __init__(
        self,
        mongo: AsyncMongoClient[dict[str, Any]],
        publisher: AmqpEventPublisher,
        relay: OutboxRelay,
        results_queue: str,
        failure: Failure,
    ) -> None:
        self._mongo = mongo
        self._publisher = publisher
        self._relay = relay
        self._results_queue = results_queue
        self._failure = failure

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            await self._mongo.admin.command("ping")
            checks["mongo"] = "ok"
        except Exception as error:
            checks["mongo"] = f"down: {type(error).__name__}"
        checks["amqp"] = "ok" if self._publisher.connected else "down"
        if self._failure.reason is not None:
            checks["gateway"] = f"down: {self._failure.reason}"
        return checks

    def outbox_backlog(self) -> int:
        return self._relay.backlog

    async def results_queue_depth(self) -> int | None:
        try:
            return await self._publisher.queue_depth(self._results_queue)
        except Exception:
            return None


def add_routes(app: web.Application) -> None:
    add_operations(app)
    add_docs_routes(app)
    add_viewer_routes(app)


async def ensure_admin(app: web.Application) -> None:
    """Create the configured admin when there is none; warn while the development
    password still opens it, whatever the settings say now."""
    settings = app[state.SETTINGS]
    users = app[state.USER_SERVICE]
    if not await users.admin_exists():
        with contextlib.suppress(UsernameTaken):
            await users.create(
                settings.admin_username, settings.admin_password.get_secret_value(), "admin"
            )
            log.info("admin user created", extra={"username": settings.admin_username})
    if await users.authenticate(settings.admin_username, DEV_ADMIN_PASSWORD):
        log.warning(
            "the admin still has the development default password 'adminpass': change it",
            extra={"username": settings.admin_username},
        )


async def mongo_ctx(app: web.Application) -> AsyncIterator[None]:
    client = app[MONGO]
    await client.admin.command("ping")
    await create_indexes(client[app[state.SETTINGS].mongo_db])
    await ensure_admin(app)
    yield
    await client.close()


def server_quirks_ctx(
    ecgs: MongoEcgRepository,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def adapt(app: web.Application) -> AsyncIterator[None]:
        if await ecgs.adapt_to_server():
            log.warning(
                "FerretDB detected: ECG updates are serialized in this gateway, because "
                "FerretDB does not isolate concurrent updates of one document; run one "
                "gateway per FerretDB"
            )
        yield

    return adapt


def feed_hub(hub: StatusHub) -> Callable[[events.EcgStatusChanged | events.EcgDeleted], None]:
    def on_feed_event(event: events.EcgStatusChanged | events.EcgDeleted) -> None:
        if isinstance(event, events.EcgDeleted):
            hub.deleted(event.owner_id, event.ecg_id)
            return
        hub.publish(
            StatusChange(
                owner_id=event.owner_id,
                ecg_id=event.ecg_id,
                status=event.status,
                insights=event.insights.model_dump(mode="json") if event.insights else None,
                error=event.error,
                event_id=event.event_id,
            )
        )

    return on_feed_event


async def maintain_amqp(app: web.Application) -> None:
    """Connect to any node, declare, consume and publish; after any outage, start over.
    Stopped by cancellation; a set-up the broker refuses for good is recorded as the
    gateway's failure and stops it."""
    settings = app[state.SETTINGS]
    publisher = app[PUBLISHER]
    hub = app[HUB]
    supervisor = Supervisor(
        BrokerConfig(
            urls=parse_urls(settings.amqp_url),
            exchange=settings.exchange,
            prefetch=settings.results_prefetch,
            connection_name="gateway",
        )
    )
    results = WorkQueue(
        settings.results_queue, (events.ANALYZED_PATTERN, events.ANALYSIS_FAILED_PATTERN)
    )

    async def serve_session(session: Session) -> None:
        await consume_status_feed(session, feed_hub(hub))
        if settings.consume_results:
            queue = await declare_work_queue(session, results)
            await consume_results(queue, app[state.ECG_SERVICE].record_result)
        publisher.attach(session)
        hub.resync()
        app[RELAY].kick()
        await session.wait_closed_or(asyncio.Event())

    def session_down() -> None:
        publisher.attach(None)
        hub.feed_down()

    try:
        await supervisor.run(serve_session, asyncio.Event(), on_down=session_down)
    except FatalBrokerError as error:
        app[state.FAILURE].fail(str(error))


async def stop_task(task: asyncio.Task[None], timeout_s: float = 10.0) -> None:
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=timeout_s)
    if not done:
        log.warning("a background task did not stop in time", extra={"task": task.get_name()})


def fail_on_crash(app: web.Application) -> Callable[[asyncio.Task[None]], None]:
    """A background task that dies of a bug must not leave a gateway that looks alive."""

    def check(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("a background task crashed", exc_info=error, extra={"task": task.get_name()})
            app[state.FAILURE].fail(f"the {task.get_name()} task crashed: {error!r}")

    return check


async def background_ctx(app: web.Application) -> AsyncIterator[None]:
    amqp_task = asyncio.create_task(maintain_amqp(app), name="amqp")
    relay_task = asyncio.create_task(app[RELAY].run(), name="outbox-relay")
    for task in (amqp_task, relay_task):
        task.add_done_callback(fail_on_crash(app))
    yield
    app[HUB].close()
    await stop_task(relay_task)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(app[RELAY].drain(), timeout=5)
    await app[state.ECG_SERVICE].close()
    await stop_task(amqp_task)


def warn_about_dev_defaults(settings: GatewaySettings) -> None:
    if settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
        log.warning("ECG_JWT_SECRET is the development default: set it outside development")


async def create_app(settings: GatewaySettings) -> web.Application:
    """Build the application; connections open at start-up and close at shutdown."""
    warn_about_dev_defaults(settings)
    metrics = Metrics()
    in_flight = InFlight()
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        handler_args={"max_line_size": MAX_HEAD_LINE_BYTES, "max_field_size": MAX_HEAD_LINE_BYTES},
        middlewares=[
            make_observability_middleware(metrics, in_flight),
            problem_middleware(unavailable=STORE_UNAVAILABLE),
        ],
    )
    mongo = create_client(settings.mongo_url, settings.mongo_max_pool_size)
    db = mongo[settings.mongo_db]
    users = MongoUserRepository(db)
    ecgs = MongoEcgRepository(db)
    publisher = AmqpEventPublisher()
    hub = StatusHub()

    async def give_up(owner_id: str, ecg_id: str, reason: str) -> object:
        return await service.give_up(owner_id, ecg_id, reason)

    relay = OutboxRelay(
        ecgs,
        publisher,
        give_up,
        poll_s=settings.outbox_poll_s,
        lease_s=settings.outbox_lease_s,
        dispatch_timeout_s=settings.dispatch_timeout_s,
        max_attempts=settings.max_dispatch_attempts,
    )
    service = EcgService(
        ecgs,
        settings.max_total_samples,
        changes=hub,
        notifier=publisher,
        dispatch_timeout_s=settings.dispatch_timeout_s,
        on_accepted=relay.accepted,
        observer=metrics,
    )
    app[state.METRICS] = metrics
    app[state.IN_FLIGHT] = in_flight
    app[state.SETTINGS] = settings
    app[MONGO] = mongo
    app[PUBLISHER] = publisher
    app[RELAY] = relay
    app[HUB] = hub
    app[state.FAILURE] = failure = Failure()
    app[state.HEALTH] = StackHealth(mongo, publisher, relay, settings.results_queue, failure)
    app[state.TOKENS] = TokenService(settings.jwt_secret.get_secret_value(), settings.jwt_ttl_s)
    throttle = LoginThrottle(
        settings.login_max_failures, settings.login_window_s, settings.login_max_backoff_s
    )
    app[state.USER_SERVICE] = UserService(users, Passwords(), throttle)
    app[state.ECG_SERVICE] = service
    app.cleanup_ctx.append(mongo_ctx)
    app.cleanup_ctx.append(server_quirks_ctx(ecgs))
    app.cleanup_ctx.append(background_ctx)
    add_routes(app)
    return app


async def serve(settings: GatewaySettings, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then shut down gracefully: stop accepting
    connections, let in-flight requests finish (uploads included), flush the outbox
    and close the connections."""
    logging.getLogger("aiohttp.server").addFilter(UndecodableBodyNoise())
    app = await create_app(settings)
    runner = web.AppRunner(
        app, access_log=None, handle_signals=False, shutdown_timeout=settings.shutdown_timeout_s
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("serving", extra={"host": host, "port": port})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    failure = app[state.FAILURE]
    try:
        await asyncio.wait(
            [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(failure.happened.wait())],
            return_when=asyncio.FIRST_COMPLETED,
        )
        log.info("shutting down: no new connections, draining in-flight requests")
        await site.stop()
        app[HUB].close()
        drained = await app[state.IN_FLIGHT].wait_idle(settings.shutdown_timeout_s)
        if not drained:
            log.warning("shutdown timeout: cancelling the requests still in flight")
    finally:
        await runner.cleanup()
    log.info("stopped")
    if failure.reason is not None:
        sys.exit(f"ecg_gateway: refusing to run: {failure.reason}")
