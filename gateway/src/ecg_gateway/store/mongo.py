"""MongoDB adapters of the storage ports (PyMongo's async API).

Kept to what both MongoDB and FerretDB support: single-document atomic writes, no
transactions. The outbox state lives in the ECG document itself (``dispatch_due_at``),
so storing an ECG and queueing its analysis is one write.

Three collections per ECG: ``ecg_signals`` (the samples and the leads' metadata, written
once), ``ecgs`` (a small document: status, outbox state, what listing needs) and
``ecg_results`` (insights or error, written once). FerretDB v1 answers every lookup by
scanning the collection, and on PostgreSQL a row over about 2 kB is stored out of line and
must be fetched whole to be matched: the ``ecgs`` documents, which results update and
status reads look up, are kept small so that scan stays cheap (measured at 10,000 ECGs:
an update by ``_id`` 9 ms with small documents, 78 ms with the insights inline).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bson import Binary, ObjectId
from gridfs import AsyncGridFSBucket
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError

from ecg_gateway.model import (
    EcgAlreadyExists,
    EcgHeadRecord,
    EcgRecord,
    EcgStatusRecord,
    EcgSummaryRecord,
    ResultOutcome,
    StatusChange,
    StoredLead,
    UsernameTaken,
    UserRecord,
)

STORE_UNAVAILABLE: tuple[type[Exception], ...] = (ConnectionFailure,)
"""The driver's errors that mean the server cannot be reached (answered 503, not 500)."""

Document = dict[str, Any]
INLINE_SIGNAL_BYTES = 8 * 1024 * 1024
"""Above this many signal bytes an ECG's leads go to GridFS: a document holds 16 MiB.

Signals never live in the ECG document itself: that one is updated several times
(dispatch, result) and scanned by the outbox relay, and FerretDB rewrites and reads
whole documents.
"""


def ecg_key(owner_id: str, ecg_id: str) -> str:
    """Ids are scoped per owner; ``:`` cannot occur in either part."""
    return f"{owner_id}:{ecg_id}"


DEFAULT_MAX_POOL_SIZE = 32


def create_client(
    url: str, max_pool_size: int = DEFAULT_MAX_POOL_SIZE
) -> AsyncMongoClient[Document]:
    """The client connects lazily: ping it at start-up.

    The pool is bounded below FerretDB's 50 PostgreSQL connections: driven past them (by
    PyMongo's default of 100) FerretDB v1.24 was seen to stall for good, its 50 connections
    checked out and idle; operations beyond the bound wait in the gateway instead.
    """
    return AsyncMongoClient(
        url,
        tz_aware=True,
        serverSelectionTimeoutMS=10_000,
        maxPoolSize=max_pool_size,
        appname="ecg-gateway",
    )


async def create_indexes(db: AsyncDatabase[Document]) -> None:
    await db.users.create_index([("username", ASCENDING)], unique=True, name="username_unique")
    await db.users.create_index([("role", ASCENDING)], name="role")
    await db.ecgs.create_index(
        [("owner_id", ASCENDING), ("submitted_at", DESCENDING), ("_id", DESCENDING)],
        name="owner_newest_first",
    )
    await db.ecgs.create_index([("dispatch_due_at", ASCENDING)], name="dispatch_due")


class MongoUserRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._users: AsyncCollection[Document] = db.users

    async def insert(self, user: UserRecord) -> None:
        try:
            await self._users.insert_one(
                {
                    "_id": user.id,
                    "username": user.username,
                    "password_hash": user.password_hash,
                    "role": user.role,
                    "disabled": user.disabled,
                    "created_at": user.created_at,
                }
            )
        except DuplicateKeyError as error:
            raise UsernameTaken(user.username) from error

    async def get(self, user_id: str) -> UserRecord | None:
        return _user(await self._users.find_one({"_id": user_id}))

    async def get_by_username(self, username: str) -> UserRecord | None:
        return _user(await self._users.find_one({"username": username}))

    async def admin_exists(self) -> bool:
        return await self._users.find_one({"role": "admin"}, {"_id": 1}) is not None

    async def set_disabled(self, user_id: str, disabled: bool) -> UserRecord | None:
        return _user(
            await self._users.find_one_and_update(
                {"_id": user_id},
                {"$set": {"disabled": disabled}},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def list_page(self, limit: int, after_username: str | None) -> list[UserRecord]:
        query = {} if after_username is None else {"username": {"$gt": after_username}}
        cursor = self._users.find(query).sort("username", ASCENDING).limit(limit)
        return [user for doc in await cursor.to_list(None) if (user := _user(doc))]


def _user(doc: Document | None) -> UserRecord | None:
    if doc is None:
        return None
    return UserRecord(
        id=doc["_id"],
        username=doc["username"],
        password_hash=doc["password_hash"],
        role=doc["role"],
        disabled=bool(doc.get("disabled", False)),
        created_at=doc["created_at"],
    )


class MongoEcgRepository:
    """ECG documents: data, status, insights and the outbox's dispatch state.

    MongoDB applies each update to one document atomically. FerretDB v1.24 (SQLite) does
    not isolate concurrent updates of one document: measured here, a conditional
    ``status: done`` update that reported success was overwritten by a concurrent update
    of another field in 103 of 300 tries. On FerretDB the adapter therefore serializes its
    updates (see :meth:`adapt_to_server`); several gateways on one FerretDB stay unsafe.
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._db = db
        self._ecgs: AsyncCollection[Document] = db.ecgs
        self._signals: AsyncCollection[Document] = db.ecg_signals
        self._results: AsyncCollection[Document] = db.ecg_results
        self._files = AsyncGridFSBucket(db, bucket_name="signals")
        self._update_lock: asyncio.Lock | None = None

    async def adapt_to_server(self) -> bool:
        """Serialize updates when the server is FerretDB; True when it does."""
        info = await self._db.client.admin.command("buildInfo")
        if "ferretdbVersion" in info and self._update_lock is None:
            self._update_lock = asyncio.Lock()
        return self._update_lock is not None

    @asynccontextmanager
    async def _updating(self) -> AsyncIterator[None]:
        if self._update_lock is None:
            yield
            return
        async with self._update_lock:
            yield

    async def insert(self, ecg: EcgRecord) -> None:
        """Signals first, in a document (or GridFS files) of their own, then the ECG
        document, which is the commit point: a crash in between leaves only an orphan
        signals document, never an ECG without its signals or its dispatch."""
        key = ecg_key(ecg.owner_id, ecg.ecg_id)
        signals_id = ObjectId()
        stored: list[Document]
        if sum(len(lead.raw) for lead in ecg.leads) > INLINE_SIGNAL_BYTES:
            stored = [
                {
                    **_lead_meta(lead),
                    "gridfs_id": await self._files.upload_from_stream(
                        f"{key}/{lead.name}", lead.raw, metadata={"ecg": key}
                    ),
                }
                for lead in ecg.leads
            ]
        else:
            stored = [{**_lead_meta(lead), "data": Binary(lead.raw)} for lead in ecg.leads]
        await self._signals.insert_one({"_id": signals_id, "ecg": key, "leads": stored})
        doc: Document = {
            "_id": key,
            "owner_id": ecg.owner_id,
            "ecg_id": ecg.ecg_id,
            "date": ecg.date,
            "sampling_rate_hz": ecg.sampling_rate_hz,
            "submitted_at": ecg.submitted_at,
            "content_hash": ecg.content_hash,
            "status": ecg.status,
            "lead_names": [lead.name for lead in ecg.leads],
            "signals_id": signals_id,
            "dispatch_due_at": ecg.dispatch_due_at or ecg.submitted_at,
            "dispatch_attempts": ecg.dispatch_attempts,
        }
        if ecg.status != "pending":
            await self._results.insert_one(_result_doc(key, ecg.status, ecg.insights, ecg.error))
        try:
            await self._ecgs.insert_one(doc)
        except DuplicateKeyError as error:
            await self._delete_signals(signals_id)
            raise EcgAlreadyExists(ecg.ecg_id) from error

    async def get(self, owner_id: str, ecg_id: str) -> EcgRecord | None:
        return await self._load(await self._ecgs.find_one({"_id": ecg_key(owner_id, ecg_id)}))

    async def get_head(self, owner_id: str, ecg_id: str) -> EcgHeadRecord | None:
        doc = await self._ecgs.find_one(
            {"_id": ecg_key(owner_id, ecg_id)}, {"ecg_id": 1, "status": 1, "content_hash": 1}
        )
        if doc is None:
            return None
        return EcgHeadRecord(doc["ecg_id"], doc["status"], doc["content_hash"])

    async def get_status(self, owner_id: str, ecg_id: str) -> EcgStatusRecord | None:
        key = ecg_key(owner_id, ecg_id)
        doc = await self._ecgs.find_one({"_id": key}, {"ecg_id": 1, "status": 1})
        if doc is None:
            return None
        insights, error = await self._result_of(key, doc["status"])
        return EcgStatusRecord(doc["ecg_id"], doc["status"], insights, error)

    async def _result_of(self, key: str, status: str) -> tuple[dict[str, Any] | None, str | None]:
        if status == "pending":
            return None, None
        result = await self._results.find_one({"_id": key})
        if result is None:
            return None, None
        return result.get("insights"), result.get("error")

    async def delete(self, owner_id: str, ecg_id: str) -> bool:
        async with self._updating():
            doc = await self._ecgs.find_one_and_delete({"_id": ecg_key(owner_id, ecg_id)})
        if doc is None:
            return False
        await self._delete_signals(doc["signals_id"])
        await self._results.delete_one({"_id": doc["_id"]})
        return True

    async def _delete_signals(self, signals_id: ObjectId) -> None:
        signals = await self._signals.find_one_and_delete({"_id": signals_id})
        for lead in signals["leads"] if signals else []:
            if "gridfs_id" in lead:
                await self._files.delete(lead["gridfs_id"])

    async def _load(self, doc: Document | None) -> EcgRecord | None:
        """The record with every lead's bytes, wherever they are stored."""
        if doc is None:
            return None
        signals = await self._signals.find_one({"_id": doc["signals_id"]})
        if signals is None:
            raise LookupError(f"the signals of ECG {doc['_id']!r} are missing")
        leads = []
        for stored in signals["leads"]:
            if "gridfs_id" in stored:
                stream = await self._files.open_download_stream(stored["gridfs_id"])
                data = await stream.read()
            else:
                data = stored["data"]
            leads.append(
                StoredLead(
                    stored["name"],
                    stored["number_of_samples"],
                    stored["dtype"],
                    bytes(data),
                    stored.get("units_per_mv"),
                )
            )
        insights, error = await self._result_of(doc["_id"], doc["status"])
        return EcgRecord(
            owner_id=doc["owner_id"],
            ecg_id=doc["ecg_id"],
            date=doc["date"],
            sampling_rate_hz=doc["sampling_rate_hz"],
            submitted_at=doc["submitted_at"],
            content_hash=doc["content_hash"],
            leads=leads,
            status=doc["status"],
            insights=insights,
            error=error,
            dispatch_attempts=doc.get("dispatch_attempts", 0),
        )

    async def list_page(
        self, owner_id: str, limit: int, after: tuple[datetime, str] | None
    ) -> list[EcgSummaryRecord]:
        query: Document = {"owner_id": owner_id}
        if after is not None:
            submitted_at, ecg_id = after
            last_key = ecg_key(owner_id, ecg_id)
            query["$or"] = [
                {"submitted_at": {"$lt": submitted_at}},
                {"submitted_at": submitted_at, "_id": {"$lt": last_key}},
            ]
        cursor = (
            self._ecgs.find(query, {"leads": 0, "insights": 0})
            .sort([("submitted_at", DESCENDING), ("_id", DESCENDING)])
            .limit(limit)
        )
        return [
            EcgSummaryRecord(
                ecg_id=doc["ecg_id"],
                date=doc["date"],
                sampling_rate_hz=doc["sampling_rate_hz"],
                status=doc["status"],
                submitted_at=doc["submitted_at"],
                lead_names=doc["lead_names"],
            )
            for doc in await cursor.to_list(None)
        ]

    async def record_results(self, results: Sequence[StatusChange]) -> list[ResultOutcome]:
        """The results' documents first, then the ECGs' status, which is the commit point:
        a crash in between leaves a result document that the redelivered message finds in
        place. An existing result document is never replaced (only a pending ECG takes a
        result). The update stamps what it changed, so when not every ECG was pending,
        reads by ``_id`` tell stored from duplicate and unknown."""
        if not results:
            return []
        keys = [ecg_key(result.owner_id, result.ecg_id) for result in results]
        firsts: dict[str, StatusChange] = {}
        for key, result in zip(keys, results, strict=True):
            firsts.setdefault(key, result)
        try:
            await self._results.insert_many(
                [_result_doc(key, r.status, r.insights, r.error) for key, r in firsts.items()],
                ordered=False,
            )
        except BulkWriteError as error:
            if any(e.get("code") != DUPLICATE_KEY for e in error.details.get("writeErrors", [])):
                raise
        # One update per final status, not per ECG: FerretDB v1 pushes the status filter
        # down and scans only the pending ECGs, where an update by _id scans them all.
        stamp = uuid.uuid4().hex
        firsts_by_status: dict[str, list[str]] = {}
        for key, result in firsts.items():
            firsts_by_status.setdefault(result.status, []).append(key)
        modified = 0
        async with self._updating():
            for status, group in firsts_by_status.items():
                written = await self._ecgs.update_many(
                    {"_id": {"$in": group}, "status": "pending"},
                    {
                        "$set": {
                            "status": status,
                            "dispatch_due_at": None,
                            "result_stamp": f"{stamp}:{status}",
                        }
                    },
                )
                modified += written.modified_count
        outcomes: list[ResultOutcome] = []
        if modified == len(firsts):
            for key, result in zip(keys, results, strict=True):
                first = firsts[key] is result
                outcomes.append("stored" if first else "duplicate")
            return outcomes
        stamps: dict[str, str | None] = {}
        for key in firsts:
            doc = await self._ecgs.find_one({"_id": key}, {"result_stamp": 1})
            if doc is not None:
                stamps[key] = doc.get("result_stamp")
            else:
                await self._results.delete_one({"_id": key})
        for key, result in zip(keys, results, strict=True):
            if key not in stamps:
                outcomes.append("unknown")
            elif firsts[key] is result and stamps[key] == f"{stamp}:{result.status}":
                outcomes.append("stored")
            else:
                outcomes.append("duplicate")
        return outcomes

    async def due_dispatches(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        cursor = (
            self._ecgs.find(
                {"dispatch_due_at": {"$lte": now}, "status": "pending"},
                {"owner_id": 1, "ecg_id": 1},
            )
            .sort("dispatch_due_at", ASCENDING)
            .limit(limit)
        )
        return [(doc["owner_id"], doc["ecg_id"]) for doc in await cursor.to_list(None)]

    async def claim_dispatch(
        self, owner_id: str, ecg_id: str, now: datetime, lease_until: datetime
    ) -> EcgRecord | None:
        async with self._updating():
            claimed = await self._ecgs.find_one_and_update(
                {
                    "_id": ecg_key(owner_id, ecg_id),
                    "dispatch_due_at": {"$lte": now},
                    "status": "pending",
                },
                {"$set": {"dispatch_due_at": lease_until}},
                return_document=ReturnDocument.AFTER,
            )
        return await self._load(claimed)

    async def mark_dispatched(
        self, owner_id: str, ecg_id: str, attempts: int, next_due: datetime
    ) -> None:
        async with self._updating():
            await self._ecgs.update_one(
                {"_id": ecg_key(owner_id, ecg_id), "status": "pending"},
                {"$set": {"dispatch_attempts": attempts, "dispatch_due_at": next_due}},
            )

    async def reschedule_dispatch(self, owner_id: str, ecg_id: str, due: datetime) -> None:
        async with self._updating():
            await self._ecgs.update_one(
                {"_id": ecg_key(owner_id, ecg_id), "status": "pending"},
                {"$set": {"dispatch_attempts": 0, "dispatch_due_at": due}},
            )


DUPLICATE_KEY = 11000


def _lead_meta(lead: StoredLead) -> Document:
    meta: Document = {
        "name": lead.name,
        "number_of_samples": lead.number_of_samples,
        "dtype": lead.dtype,
    }
    if lead.units_per_mv is not None:
        meta["units_per_mv"] = lead.units_per_mv
    return meta


def _result_doc(
    key: str, status: str, insights: dict[str, Any] | None, error: str | None
) -> Document:
    return {"_id": key, "status": status, "insights": insights, "error": error}
