"""A gateway and an analyzer as processes on the local services (``deploy/services.py``, or
``MONGO_URL``/``AMQP_URL``),
with a database, exchange and queues of their own, removed afterwards: what the scripts that
need a whole stack (``docs/screenshots.py``, ``benchmarks/bench_plot.py --http``) run on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import httpx
from pymongo import AsyncMongoClient

from tests.ports import free_port
from tests.services import deploy_services


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    env: dict[str, str]
    unique: str


def _wait_ready(base: str, processes: list[subprocess.Popen[bytes]], logs: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise SystemExit(f"the gateway or the analyzer stopped: see the logs in {logs}")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"the gateway never became ready: see the logs in {logs}")


async def _clean_up(env: dict[str, str]) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(env["ECG_MONGO_URL"])
    await client.drop_database(env["ECG_MONGO_DB"])
    await client.close()
    connection = await aio_pika.connect(env["ECG_AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        for queue in (env["ECG_RESULTS_QUEUE"], env["ECG_ANALYZER_QUEUE"]):
            await channel.queue_delete(queue)
        await channel.exchange_delete(env["ECG_EXCHANGE"])


@contextmanager
def local_stack(prefix: str) -> Iterator[LocalStack]:
    """Both services running and ready; stopped, and what they made dropped, on exit."""
    mongo_url, amqp_url, _ = deploy_services().up()
    unique = uuid.uuid4().hex[:8]
    port = free_port()
    env = {
        **os.environ,
        "ECG_MONGO_URL": mongo_url,
        "ECG_AMQP_URL": amqp_url,
        "ECG_MONGO_DB": f"ecg_{prefix}_{unique}",
        "ECG_EXCHANGE": f"ecg.{prefix}.{unique}",
        "ECG_RESULTS_QUEUE": f"ecg.{prefix}.{unique}.gateway",
        "ECG_ANALYZER_QUEUE": f"ecg.{prefix}.{unique}.analyzer",
        "ECG_HOST": "127.0.0.1",
        "ECG_PORT": str(port),
        "ECG_LOG_LEVEL": "WARNING",
    }
    logs = Path(tempfile.mkdtemp(prefix=f"{prefix}-"))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=(logs / f"{module}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for module in ("ecg_gateway", "ecg_analyzer")
    ]
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, processes, logs)
        yield LocalStack(base, env, unique)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        asyncio.run(_clean_up(env))
