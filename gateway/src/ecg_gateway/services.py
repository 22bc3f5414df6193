"""The gateway's use cases, on top of the storage and messaging ports; no HTTP, no drivers."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Protocol

from ecg_contracts.events import (
    EcgAnalysisFailed,
    EcgAnalyzed,
    EcgDeleted,
    EcgStatusChanged,
)
from ecg_contracts.insights import Insights
from ecg_contracts.rest import EcgCreate, Role, Status
from ecg_contracts.signal import pack_samples

from ecg_gateway.auth.access import Principal, ensure_may_use_ecgs
from ecg_gateway.auth.passwords import Passwords
from ecg_gateway.auth.throttle import LoginThrottle, LoginThrottled, login_keys
from ecg_gateway.batching import Batcher
from ecg_gateway.messaging.notifications import StatusHub, Subscription
from ecg_gateway.messaging.ports import StatusNotifier
from ecg_gateway.model import (
    Clock,
    EcgAlreadyExists,
    EcgRecord,
    EcgStatusRecord,
    EcgSummaryRecord,
    ResultOutcome,
    StatusChange,
    StoredLead,
    UserRecord,
    as_utc,
    utc_now,
)
from ecg_gateway.store.ports import EcgRepository, UserRepository

log = logging.getLogger(__name__)
RESULTS_PER_WRITE: Final = 64
STATUS_READS_AT_ONCE: Final = 8
"""Concurrent status reads per gateway: polling clients queue here, not in the database,
so they cannot crowd out the result writes."""
MAX_LOGINS_AT_ONCE: Final = 16
"""Password checks (argon2, tens of ms of CPU each) in progress per gateway; more logins at
once get 429, so a flood of them cannot queue unbounded CPU work."""


class EcgObserver(Protocol):
    """Told about accepted ECGs and stored results (the gateway's metrics)."""

    def ecg_accepted(self) -> None: ...

    def result_stored(self, status: str, lag_s: float) -> None: ...


class _Unobserved:
    def ecg_accepted(self) -> None:
        pass

    def result_stored(self, status: str, lag_s: float) -> None:
        pass


class EcgNotFound(Exception):
    pass


class EcgConflict(Exception):
    pass


class TooManySamples(Exception):
    def __init__(self, total: int, limit: int) -> None:
        super().__init__(f"the ECG has {total} samples in all; the limit is {limit}")


@dataclass(frozen=True, slots=True)
class Submission:
    ecg_id: str
    status: Status
    created: bool


def content_hash(body: EcgCreate, leads: list[StoredLead]) -> str:
    """Fingerprint of what the client sent, to tell a retry from a different ECG. A lead's
    gain counts only when given, so ECGs stored before it existed keep their fingerprint."""
    digest = hashlib.sha256()
    digest.update(
        repr((body.date.isoformat() if body.date else None, body.sampling_rate_hz)).encode()
    )
    for lead in leads:
        gain = "" if lead.units_per_mv is None else f"{lead.units_per_mv!r}\x00"
        digest.update(f"\x00{lead.name}\x00{lead.dtype}\x00{gain}".encode())
        digest.update(lead.raw)
    return digest.hexdigest()


class EcgService:
    def __init__(
        self,
        ecgs: EcgRepository,
        max_total_samples: int,
        *,
        changes: StatusHub,
        notifier: StatusNotifier,
        dispatch_timeout_s: float,
        on_accepted: Callable[[EcgRecord], None] = lambda record: None,
        observer: EcgObserver | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._ecgs = ecgs
        self._changes = changes
        self._notifier = notifier
        self._dispatch_timeout = timedelta(seconds=dispatch_timeout_s)
        self._observer = observer or _Unobserved()
        self._max_total_samples = max_total_samples
        self._on_accepted = on_accepted
        self._clock = clock
        self._results: Batcher[StatusChange, ResultOutcome] = Batcher(
            ecgs.record_results, RESULTS_PER_WRITE
        )
        self._status_reads = asyncio.Semaphore(STATUS_READS_AT_ONCE)

    async def submit(self, principal: Principal, body: EcgCreate) -> Submission:
        """Store the ECG as dispatched once, due again after the dispatch timeout, and hand
        it to ``on_accepted`` to publish from memory; a retry with the same id and content
        returns the stored ECG instead of starting a second analysis."""
        ensure_may_use_ecgs(principal)
        total = sum(len(lead.signal) for lead in body.leads)
        if total > self._max_total_samples:
            raise TooManySamples(total, self._max_total_samples)
        leads = []
        for lead in body.leads:
            dtype, raw = pack_samples(lead.signal)
            leads.append(StoredLead(lead.name, len(lead.signal), dtype, raw, lead.units_per_mv))
        now = self._clock()
        record = EcgRecord(
            owner_id=principal.user_id,
            ecg_id=body.id or str(uuid.uuid4()),
            date=as_utc(body.date) if body.date else now,
            sampling_rate_hz=body.sampling_rate_hz,
            submitted_at=now,
            content_hash=content_hash(body, leads),
            leads=leads,
            dispatch_attempts=1,
            dispatch_due_at=now + self._dispatch_timeout,
        )
        try:
            await self._ecgs.insert(record)
        except EcgAlreadyExists:
            existing = await self._ecgs.get_head(record.owner_id, record.ecg_id)
            if existing is None or existing.content_hash != record.content_hash:
                raise EcgConflict(record.ecg_id) from None
            return Submission(existing.ecg_id, existing.status, created=False)
        self._changes.remember(
            record.owner_id, EcgStatusRecord(record.ecg_id, "pending", None, None)
        )
        self._on_accepted(record)
        self._observer.ecg_accepted()
        return Submission(record.ecg_id, record.status, created=True)

    async def get(self, principal: Principal, ecg_id: str) -> EcgRecord:
        ensure_may_use_ecgs(principal)
        record = await self._ecgs.get(principal.user_id, ecg_id)
        if record is None:
            raise EcgNotFound(ecg_id)
        return record

    async def status(
        self, principal: Principal, ecg_id: str, wait_s: float = 0.0
    ) -> EcgStatusRecord:
        """The status and insights; with ``wait_s``, a pending ECG's answer comes the moment
        its result is stored (by any gateway), or after ``wait_s`` as it then stands."""
        ensure_may_use_ecgs(principal)
        with self._changes.watch(principal.user_id, ecg_id) as waiter:
            current = await self._read_status(principal.user_id, ecg_id)
            if current.status != "pending" or wait_s <= 0:
                return current
            change = await waiter.result(wait_s)
        if change is not None:
            return change.as_status()
        return await self._read_status(principal.user_id, ecg_id)

    async def _read_status(self, owner_id: str, ecg_id: str) -> EcgStatusRecord:
        """From what the feed says when it knows, else from the database."""
        known = self._changes.known(owner_id, ecg_id)
        if known is not None:
            return known
        async with self._status_reads:
            current = await self._ecgs.get_status(owner_id, ecg_id)
        if current is None:
            raise EcgNotFound(ecg_id)
        self._changes.remember(owner_id, current)
        return current

    def subscribe(self, principal: Principal) -> AbstractContextManager[Subscription]:
        """Status changes of the caller's own ECGs, as they are stored."""
        ensure_may_use_ecgs(principal)
        return self._changes.subscribe(principal.user_id)

    async def list_page(
        self, principal: Principal, limit: int, after: tuple[datetime, str] | None
    ) -> list[EcgSummaryRecord]:
        """The caller's ECGs, newest first, after the (submitted_at, id) of the last seen."""
        ensure_may_use_ecgs(principal)
        return await self._ecgs.list_page(principal.user_id, limit, after)

    async def delete(self, principal: Principal, ecg_id: str) -> None:
        """Every gateway (and any subscriber) learns of it, so none answers for it after."""
        ensure_may_use_ecgs(principal)
        existed = await self._ecgs.delete(principal.user_id, ecg_id)
        self._changes.deleted(principal.user_id, ecg_id)  # gone either way
        if not existed:
            raise EcgNotFound(ecg_id)
        try:
            await self._notifier.publish_deleted(
                EcgDeleted(ecg_id=ecg_id, owner_id=principal.user_id)
            )
        except Exception as error:
            log.warning(
                "could not announce a deletion", extra={"ecg_id": ecg_id, "error": repr(error)}
            )

    async def record_result(self, event: EcgAnalyzed | EcgAnalysisFailed) -> ResultOutcome:
        if isinstance(event, EcgAnalyzed):
            write = StatusChange(
                event.owner_id,
                event.ecg_id,
                "done",
                event.insights.model_dump(mode="json"),
                None,
                event.event_id,
            )
            return await self._store(write, event.occurred_at, event.insights)
        write = StatusChange(
            event.owner_id, event.ecg_id, "failed", None, event.reason, event.event_id
        )
        return await self._store(write, event.occurred_at, None)

    async def give_up(self, owner_id: str, ecg_id: str, reason: str) -> ResultOutcome:
        """No result came after every dispatch: the ECG fails, and waiting clients learn it."""
        write = StatusChange(owner_id, ecg_id, "failed", None, reason, str(uuid.uuid4()))
        return await self._store(write, self._clock(), None)

    async def _store(
        self, write: StatusChange, occurred_at: datetime, insights: Insights | None
    ) -> ResultOutcome:
        outcome = await self._results.submit(write)
        if outcome == "stored":
            self._changes.remember(write.owner_id, write.as_status())
            self._observer.result_stored(
                write.status, (self._clock() - occurred_at).total_seconds()
            )
            log.info("result stored", extra={"ecg_id": write.ecg_id, "status": write.status})
            await self._announce(write, insights)
        elif outcome == "unknown":
            log.warning(
                "result for an unknown ECG dropped",
                extra={"ecg_id": write.ecg_id, "event_id": write.event_id},
            )
        else:
            log.info("duplicate or late result ignored", extra={"ecg_id": write.ecg_id})
        return outcome

    async def _announce(self, write: StatusChange, insights: Insights | None) -> None:
        """Best effort: the database is the record; a waiter that misses this re-reads it
        when its wait ends."""
        assert write.status != "pending"
        try:
            await self._notifier.publish_status_changed(
                EcgStatusChanged(
                    ecg_id=write.ecg_id,
                    owner_id=write.owner_id,
                    status=write.status,
                    insights=insights,
                    error=write.error,
                )
            )
        except Exception as error:
            log.warning(
                "could not announce a stored result",
                extra={"ecg_id": write.ecg_id, "error": repr(error)},
            )

    async def close(self) -> None:
        await self._results.close()


class UserService:
    def __init__(
        self,
        users: UserRepository,
        passwords: Passwords,
        throttle: LoginThrottle,
        clock: Clock = utc_now,
        max_logins_at_once: int = MAX_LOGINS_AT_ONCE,
    ) -> None:
        self._users = users
        self._passwords = passwords
        self._throttle = throttle
        self._clock = clock
        self._max_logins_at_once = max_logins_at_once
        self._logins = 0

    async def create(self, username: str, password: str, role: Role) -> UserRecord:
        """Raises :class:`UsernameTaken`."""
        user = UserRecord(
            id=str(uuid.uuid4()),
            username=username,
            password_hash=await self._passwords.hash(password),
            role=role,
            disabled=False,
            created_at=self._clock(),
        )
        await self._users.insert(user)
        return user

    async def get(self, user_id: str) -> UserRecord | None:
        return await self._users.get(user_id)

    async def list_page(self, limit: int, after_username: str | None) -> list[UserRecord]:
        return await self._users.list_page(limit, after_username)

    async def set_disabled(self, user_id: str, disabled: bool) -> UserRecord | None:
        """Takes effect on the user's existing tokens at once: every request reads it."""
        return await self._users.set_disabled(user_id, disabled)

    async def admin_exists(self) -> bool:
        return await self._users.admin_exists()

    async def authenticate(
        self, username: str, password: str, client: str | None = None
    ) -> UserRecord | None:
        """The user whose password this is, else None. A ``client`` (its address) is a
        login attempt: throttled, and raising :class:`LoginThrottled` when it must wait or
        when too many passwords are being checked at once; without one it is the gateway's
        own check."""
        if client is None:
            return await self._check(username, password)
        if self._logins >= self._max_logins_at_once:
            raise LoginThrottled(1.0)
        keys = login_keys(username, client)
        self._throttle.charge(keys)
        self._logins += 1
        try:
            user = await self._check(username, password)
        finally:
            self._logins -= 1
        if user is not None:
            self._throttle.refund(keys[1:], forget=keys[:1])
        return user

    async def _check(self, username: str, password: str) -> UserRecord | None:
        user = await self._users.get_by_username(username)
        ok = await self._passwords.verify(user.password_hash if user else None, password)
        if not ok or user is None or user.disabled:
            return None
        return user
