"""A gateway and an analyzer as processes on the local services (``deploy/services.py``),
with a database, exchange and queues of their own, removed afterwards: what the scripts that
need a whole stack (``docs/screenshots.py``, ``benchmarks/bench_plot.py --http``) run on."""

from __future__ import annotations

import asyncio
import os
import socket
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

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class LocalStack:
    base_url: str
    env: dict[str, str]
    unique: str


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def services_env() -> dict[str, str]:
    """``MONGO_URL`` and ``AMQP_URL`` as ``deploy/services.py env`` gives them (starting the
    servers when needed)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "services.py"), "env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    found: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            found[name] = value.strip("'")
    return found


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


async def _clean_up(services: dict[str, str], env: dict[str, str]) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(services["MONGO_URL"])
    await client.drop_database(env["ECG_MONGO_DB"])
    await client.close()
    connection = await aio_pika.connect(services["AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        for queue in (env["ECG_RESULTS_QUEUE"], env["ECG_ANALYZER_QUEUE"]):
            await channel.queue_delete(queue)
        await channel.exchange_delete(env["ECG_EXCHANGE"])


@contextmanager
def local_stack(prefix: str) -> Iterator[LocalStack]:
    """Both services running and ready; stopped, and what they made dropped, on exit."""
    services = services_env()
    unique = uuid.uuid4().hex[:8]
    port = free_port()
    env = {
        **os.environ,
        "ECG_MONGO_URL": services["MONGO_URL"],
        "ECG_AMQP_URL": services["AMQP_URL"],
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
        asyncio.run(_clean_up(services, env))
