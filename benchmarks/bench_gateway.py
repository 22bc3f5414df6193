"""End-to-end throughput of the stack: uploads accepted, ECGs analyzed end to end, time to
insights, and the gateway's CPU per ECG, for polling clients and long-polling clients, with
an empty database and with many ECGs already stored.

For each FerretDB backend asked for (a dedicated FerretDB per backend, started by
deploy/services.py), and for each number of ECGs stored beforehand, it starts the gateway and
one analyzer as separate processes on a database and exchange of their own, then runs:

- accepted: ``--ecgs`` uploads from ``--concurrency`` clients, nothing else (ECGs/s of 202s);
- poll: each client uploads, then polls ``GET /ecg/{id}/insights`` every 100 ms until done
  (what the seed's clients do), then uploads the next;
- wait: the same with ``GET /ecg/{id}/insights?wait=60``.

ECGs are 12 leads x 5000 samples (500 Hz, 10 s; 0.24 MB of JSON). It prints numbers and
asserts no speed. With MONGO_URL set, that server is used instead of dedicated FerretDBs.

    uv run python benchmarks/bench_gateway.py [--backends postgresql,sqlite] [--stored 0,10000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp
import numpy as np
from ecg_analyzer.insights.compute import compute_insights
from ecg_contracts.rest import EcgCreate
from ecg_contracts.signal import pack_samples
from ecg_gateway.model import EcgRecord, StoredLead
from ecg_gateway.services import content_hash
from ecg_gateway.store.mongo import MongoEcgRepository, create_client, create_indexes

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.ports import free_port  # noqa: E402
from tests.services import deploy_services  # noqa: E402

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
POLL_INTERVAL_S = 0.1
TIMEOUT_S = 900.0


def synthetic_body(index: int, rate: int = 500, seconds: int = 10) -> bytes:
    """A 12-lead ECG with R-like spikes at 72 bpm plus noise, as the JSON clients send."""
    rng = random.Random(index)
    beat = int(rate * 60 / 72)
    leads = []
    for lead_index, name in enumerate(LEADS):
        gain = 0.5 + lead_index / 12
        signal = []
        for sample in range(rate * seconds):
            phase = sample % beat
            spike = 1000 * math.exp(-((phase - 20) ** 2) / 8) if phase < 40 else 0
            signal.append(int(gain * spike + rng.gauss(0, 15)))
        leads.append({"name": name, "signal": signal})
    return json.dumps({"id": "bench-0", "sampling_rate_hz": rate, "leads": leads}).encode()


def analyze_body(create: EcgCreate) -> dict[str, Any]:
    """The insights the analyzer gives this ECG, so seeded documents are full size."""
    leads = [(lead.name, np.asarray(lead.signal, dtype=np.int32)) for lead in create.leads]
    return compute_insights(leads, create.sampling_rate_hz).model_dump(mode="json")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _proc_stat(pid_dir: Path) -> tuple[str, int, float] | None:
    try:
        text = (pid_dir / "stat").read_text()
    except OSError:
        return None
    head, tail = text.rsplit(")", 1)
    fields = tail.split()
    return head.split("(", 1)[1], int(fields[1]), (int(fields[11]) + int(fields[12]))


def cpu_by_role(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of every live process, by role: a root process and its descendants
    (``roots``), the store (FerretDB, PostgreSQL), the broker (Erlang), these clients, other.
    Processes that already exited are not counted, so take differences over one phase."""
    stats = {
        int(d.name): stat
        for d in Path("/proc").iterdir()
        if d.name.isdigit() and (stat := _proc_stat(d)) is not None
    }
    role_of_root = {pid: role for role, pid in roots.items()}
    role_of_root[os.getpid()] = "clients"
    totals: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for pid, (comm, _, ticks) in stats.items():
        role, walk = None, pid
        for _ in range(16):
            if walk in role_of_root:
                role = role_of_root[walk]
                break
            parent = stats.get(walk)
            if parent is None or parent[1] <= 1:
                break
            walk = parent[1]
        if role is None:
            role = (
                "store"
                if comm.startswith(("ferretdb", "postgres"))
                else "broker"
                if comm.startswith(("beam", "erl_", "epmd", "inet_gethost"))
                else "other"
            )
        totals[role] = totals.get(role, 0.0) + ticks / tick
    return totals


def cpu_breakdown(before: dict[str, float], after: dict[str, float], ecgs: int) -> str:
    """Milliseconds of CPU per ECG by role over a phase."""
    roles = ["gateway", "analyzer", "store", "broker", "clients", "other"]
    return ", ".join(
        f"{role} {(after.get(role, 0.0) - before.get(role, 0.0)) / ecgs * 1000:.1f}"
        for role in roles
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))]


@dataclass
class Row:
    backend: str
    stored: int
    phase: str
    ecgs_per_s: float
    p50_s: float | None
    p99_s: float | None
    cpu_s_per_ecg: float
    ok: bool


async def seed(mongo_url: str, db_name: str, owner_id: str, count: int, body: bytes) -> float:
    """``count`` analyzed ECGs stored as the gateway stores them (signals, then the document,
    here already done), 8 at a time; returns the seconds it took."""
    if count == 0:
        return 0.0
    create = EcgCreate.model_validate_json(body)
    leads = [
        StoredLead(lead.name, len(lead.signal), *pack_samples(lead.signal)) for lead in create.leads
    ]
    digest = content_hash(create, leads)
    insights = analyze_body(create)
    client = create_client(mongo_url)
    started = time.perf_counter()
    try:
        db = client[db_name]
        await create_indexes(db)
        repository = MongoEcgRepository(db)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(count):
            queue.put_nowait(index)

        async def worker() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                now = datetime.now(UTC)
                ecg_id = f"seed-{index}"
                await repository.insert(
                    EcgRecord(owner_id, ecg_id, now, 500.0, now, digest, leads, "done", insights)
                )
                if index % 1000 == 999:
                    print(
                        f"    seeded {index + 1} in {time.perf_counter() - started:.0f} s",
                        flush=True,
                    )

        await asyncio.gather(*(worker() for _ in range(8)))
    finally:
        await client.close()
    return time.perf_counter() - started


class Client:
    def __init__(self, session: aiohttp.ClientSession, base: str, headers: dict[str, str]) -> None:
        self.session = session
        self.base = base
        self.headers = headers

    async def upload(self, body: bytes) -> None:
        async with self.session.post(
            f"{self.base}/ecg/",
            data=body,
            headers={"Content-Type": "application/json", **self.headers},
        ) as response:
            await response.read()
            assert response.status == 202, (response.status, await response.text())

    async def status(self, ecg_id: str, wait_s: float | None) -> str:
        query = f"?wait={wait_s:g}" if wait_s else ""
        async with self.session.get(
            f"{self.base}/ecg/{ecg_id}/insights{query}", headers=self.headers
        ) as response:
            return str((await response.json())["status"])

    async def until_done(self, ecg_id: str, wait: bool) -> str:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            status = await self.status(ecg_id, 60 if wait else None)
            if status != "pending":
                return status
            if not wait:
                await asyncio.sleep(POLL_INTERVAL_S)
        return "pending"


async def run_clients(concurrency: int, count: int, job: Callable[[int], Awaitable[None]]) -> float:
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def client() -> None:
        while not queue.empty():
            await job(queue.get_nowait())

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - started


async def analyzer_queue_declared(amqp_url: str, queue: str) -> None:
    """Uploads before the analyzer declared its queue would be unroutable and take the
    outbox's recovery path; the benchmark measures the normal one."""
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        for _ in range(300):
            channel = await connection.channel()
            try:
                await channel.declare_queue(queue, passive=True)
                return
            except aio_pika.exceptions.ChannelClosed:
                await asyncio.sleep(0.2)
    raise SystemExit("the analyzer never declared its queue")


async def measure(
    args: argparse.Namespace,
    base: str,
    pids: dict[str, int],
    bodies: list[bytes],
    backend: str,
    stored: int,
) -> list[Row]:
    rows: list[Row] = []
    unique = uuid.uuid4().hex[:6]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for _ in range(300):
            try:
                async with session.get(f"{base}/health/ready") as response:
                    if response.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        else:
            raise SystemExit("the gateway never became ready")
        admin = await token(session, base, "admin", "adminpass")
        async with session.post(
            f"{base}/users/",
            json={"username": f"bench-{unique}", "password": "bench-password"},
            headers={"Authorization": f"Bearer {admin}"},
        ) as response:
            assert response.status == 201, await response.text()
        user = {
            "Authorization": f"Bearer {await token(session, base, f'bench-{unique}', 'bench-password')}"
        }
        client = Client(session, base, user)

        def body(phase: str, index: int) -> bytes:
            return bodies[index % len(bodies)].replace(
                b'"id": "bench-0"', f'"id": "{phase}-{index}"'.encode(), 1
            )

        # accepted: uploads only; then wait until they are all analyzed before the next phase
        gateway_pid = pids["gateway"]
        cpu_before, roles_before = cpu_seconds(gateway_pid), cpu_by_role(pids)
        elapsed = await run_clients(
            args.concurrency, args.ecgs, lambda i: client.upload(body("up", i))
        )
        cpu, roles = cpu_seconds(gateway_pid) - cpu_before, cpu_by_role(pids)
        statuses = await asyncio.gather(
            *(client.until_done(f"up-{i}", wait=True) for i in range(args.ecgs))
        )
        rows.append(
            Row(
                backend,
                stored,
                "accepted",
                args.ecgs / elapsed,
                None,
                None,
                cpu / args.ecgs,
                all(s == "done" for s in statuses),
            )
        )
        print(f"  accepted: {args.ecgs / elapsed:.1f} ECGs/s", flush=True)
        print(f"    CPU ms/ECG: {cpu_breakdown(roles_before, roles, args.ecgs)}", flush=True)

        for phase in ("poll", "wait"):
            latencies: list[float] = []
            failures: list[str] = []

            async def upload_then_wait(
                index: int,
                phase: str = phase,
                latencies: list[float] = latencies,
                failures: list[str] = failures,
            ) -> None:
                started = time.perf_counter()
                await client.upload(body(phase, index))
                status = await client.until_done(f"{phase}-{index}", wait=phase == "wait")
                latencies.append(time.perf_counter() - started)
                if status != "done":
                    failures.append(status)

            cpu_before, roles_before = cpu_seconds(gateway_pid), cpu_by_role(pids)
            elapsed = await run_clients(args.concurrency, args.ecgs, upload_then_wait)
            cpu, roles = cpu_seconds(gateway_pid) - cpu_before, cpu_by_role(pids)
            rows.append(
                Row(
                    backend,
                    stored,
                    phase,
                    args.ecgs / elapsed,
                    statistics.median(latencies),
                    percentile(latencies, 0.99),
                    cpu / args.ecgs,
                    not failures,
                )
            )
            print(f"  {phase}: {args.ecgs / elapsed:.1f} ECGs/s end to end", flush=True)
            print(f"    CPU ms/ECG: {cpu_breakdown(roles_before, roles, args.ecgs)}", flush=True)
    return rows


async def token(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(
        f"{base}/auth/token", json={"username": username, "password": password}
    ) as response:
        return str((await response.json())["access_token"])


def run_stack(
    args: argparse.Namespace,
    mongo_url: str,
    amqp_url: str,
    backend: str,
    stored: int,
    bodies: list[bytes],
) -> list[Row]:
    unique = uuid.uuid4().hex[:8]
    db_name = f"ecg_bench_{unique}"
    if stored:
        print(f"  seeding {stored} analyzed ECGs of 12 x 5000 samples", flush=True)
        took = asyncio.run(seed(mongo_url, db_name, "seed-owner", stored, bodies[0]))
        print(f"  seeded in {took:.0f} s ({stored / took:.0f} ECGs/s)", flush=True)
    port = free_port()
    env = {
        **os.environ,
        "ECG_MONGO_URL": mongo_url,
        "ECG_AMQP_URL": amqp_url,
        "ECG_MONGO_DB": db_name,
        "ECG_EXCHANGE": f"ecg.bench.{unique}",
        "ECG_RESULTS_QUEUE": f"ecg.bench.{unique}.gateway",
        "ECG_ANALYZER_QUEUE": f"ecg.bench.{unique}.analyzer",
        "ECG_HOST": "127.0.0.1",
        "ECG_PORT": str(port),
        "ECG_LOG_LEVEL": os.environ.get("ECG_LOG_LEVEL", "WARNING"),
    }
    log_dir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    processes = {
        module: subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=(log_dir / f"{module}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for module in ("ecg_gateway", "ecg_analyzer")
    }
    try:
        asyncio.run(analyzer_queue_declared(amqp_url, env["ECG_ANALYZER_QUEUE"]))
        return asyncio.run(
            measure(
                args,
                f"http://127.0.0.1:{port}",
                {
                    "gateway": processes["ecg_gateway"].pid,
                    "analyzer": processes["ecg_analyzer"].pid,
                },
                bodies,
                backend,
                stored,
            )
        )
    finally:
        for process in processes.values():
            process.terminate()
        for process in processes.values():
            process.wait(timeout=60)
        from pymongo import MongoClient

        client: MongoClient[dict[str, object]] = MongoClient(mongo_url)
        with client:
            client.drop_database(db_name)
        subprocess.run([sys.executable, "-c", _DROP_AMQP, amqp_url, unique], check=False, env=env)


def table(rows: list[Row]) -> str:
    lines = [
        "| store | ECGs stored before | clients | ECGs/s | upload→insights p50 | p99 | gateway CPU s/ECG |",
        "|---|---|---|---|---|---|---|",
    ]
    names = {
        "accepted": "uploads only (accepted/s)",
        "poll": "poll every 100 ms (end to end/s)",
        "wait": "`?wait=` (end to end/s)",
    }
    for row in rows:
        p50 = f"{row.p50_s * 1000:.0f} ms" if row.p50_s is not None else "-"
        p99 = f"{row.p99_s * 1000:.0f} ms" if row.p99_s is not None else "-"
        flag = "" if row.ok else " (not all done!)"
        lines.append(
            f"| {row.backend} | {row.stored:,} | {names[row.phase]} | {row.ecgs_per_s:.1f}{flag} | {p50} | {p99} | {row.cpu_s_per_ecg:.4f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ecgs", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--stored", default="0,10000", help="ECGs stored beforehand, comma-separated"
    )
    parser.add_argument(
        "--backends", default="", help="FerretDB backends (default: the default one)"
    )
    args = parser.parse_args()

    services = deploy_services()
    _, amqp_url, source = services.up()
    print(
        f"python {platform.python_version()}, cpus {os.cpu_count()}, {platform.processor() or platform.machine()}"
    )
    print(f"services: {source}")
    print(
        f"{args.ecgs} ECGs of 12 leads x 5000 samples per phase, {args.concurrency} concurrent clients"
    )
    bodies = [synthetic_body(index) for index in range(min(args.ecgs, 20))]
    stored_counts = [int(part) for part in args.stored.split(",") if part]
    rows: list[Row] = []
    if os.environ.get("MONGO_URL"):
        for stored in stored_counts:
            print(f"MONGO_URL, {stored} stored:", flush=True)
            rows += run_stack(args, os.environ["MONGO_URL"], amqp_url, "MONGO_URL", stored, bodies)
    else:
        backends = [b for b in args.backends.split(",") if b] or [services.DEFAULT_FERRETDB_BACKEND]
        for backend in backends:
            name = f"bench_{backend}_{uuid.uuid4().hex[:6]}"
            mongo_url, process = services.start_ferretdb(backend, free_port(), name)
            try:
                for stored in stored_counts:
                    print(f"FerretDB {backend}, {stored} stored:", flush=True)
                    rows += run_stack(
                        args, mongo_url, amqp_url, f"FerretDB/{backend}", stored, bodies
                    )
            finally:
                services.stop_ferretdb(process, backend, name)
    print()
    print(f"{datetime.now(UTC):%Y-%m-%d}, {args.ecgs} ECGs per row, {args.concurrency} clients")
    print(table(rows))


_DROP_AMQP = """
import asyncio, sys, aio_pika
async def drop(url, unique):
    connection = await aio_pika.connect(url)
    async with connection:
        channel = await connection.channel()
        for queue in ("gateway", "analyzer"):
            for name in (f"ecg.bench.{unique}.{queue}", f"ecg.bench.{unique}.{queue}.dead"):
                await channel.queue_delete(name)
        for exchange in (f"ecg.bench.{unique}", f"ecg.bench.{unique}.dead"):
            await channel.exchange_delete(exchange)
asyncio.run(drop(sys.argv[1], sys.argv[2]))
"""


if __name__ == "__main__":
    main()
