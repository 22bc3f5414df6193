"""End-to-end throughput of the stack: uploads accepted per second and time to insights.

Starts the gateway and one analyzer as separate processes on the real services (found or
started by deploy/services.py), with a database and exchange of their own, then sends
12-lead, 10 s, 500 Hz ECGs (60,000 samples each) from ``--concurrency`` clients. Reports
what it measured; it asserts no speed.

    uv run python benchmarks/bench_gateway.py [--ecgs 300] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
import aiohttp
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import deploy_services  # noqa: E402

LEADS = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]


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
    return json.dumps({"id": f"bench-{index}", "sampling_rate_hz": rate, "leads": leads}).encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_ready(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(150):
        try:
            async with session.get(f"{base}/health/ready") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the gateway never became ready")


async def token(session: aiohttp.ClientSession, base: str, username: str, password: str) -> str:
    async with session.post(
        f"{base}/auth/token", json={"username": username, "password": password}
    ) as response:
        return str((await response.json())["access_token"])


async def run(args: argparse.Namespace, base: str, amqp_url: str, exchange: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    results = await channel.declare_queue(exclusive=True)
    await results.bind(
        await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True),
        "ecg.analyzed.#",
    )
    bodies = [synthetic_body(index) for index in range(min(args.ecgs, 20))]
    async with aiohttp.ClientSession() as session:
        await wait_ready(session, base)
        admin = await token(session, base, "admin", "adminpass")
        async with session.post(
            f"{base}/users/",
            json={"username": "bench-user", "password": "bench-password"},
            headers={"Authorization": f"Bearer {admin}"},
        ) as response:
            assert response.status == 201, await response.text()
        user = {
            "Authorization": f"Bearer {await token(session, base, 'bench-user', 'bench-password')}"
        }

        latencies: list[float] = []
        queue: asyncio.Queue[int] = asyncio.Queue()
        for index in range(args.ecgs):
            queue.put_nowait(index)

        async def client() -> None:
            while not queue.empty():
                index = queue.get_nowait()
                body = bodies[index % len(bodies)].replace(
                    b'"id": "bench-', f'"id": "b{index}-'.encode(), 1
                )
                started = time.perf_counter()
                async with session.post(
                    f"{base}/ecg/",
                    data=body,
                    headers={"Content-Type": "application/json", **user},
                ) as response:
                    await response.read()
                    assert response.status == 202, response.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(args.concurrency)))
        accepted_s = time.perf_counter() - started

        # Completion is read off the broker (every result event) and then off the gateway
        # by id: polling /metrics or the listing would make FerretDB scan the collection.
        finished = 0
        while finished < args.ecgs and time.perf_counter() - started < 600:
            message = await results.get(fail=False, no_ack=True)
            if message is None:
                await asyncio.sleep(0.05)
            else:
                finished += 1
        for index in range(args.ecgs):
            ecg_id = f"b{index}-{index % len(bodies)}"
            while time.perf_counter() - started < 600:
                async with session.get(f"{base}/ecg/{ecg_id}/insights", headers=user) as response:
                    if (await response.json())["status"] != "pending":
                        break
                await asyncio.sleep(0.05)
        analyzed_s = time.perf_counter() - started
    await connection.close()

    size_mb = len(bodies[0]) / 1e6
    latencies.sort()
    print(f"python {platform.python_version()}, cpus {os.cpu_count()}")
    print(
        f"{args.ecgs} ECGs of 12 leads x 5000 samples ({size_mb:.2f} MB of JSON each), "
        f"{args.concurrency} concurrent clients"
    )
    print(
        f"  accepted (202): {args.ecgs / accepted_s:7.1f} ECGs/s, "
        f"{args.ecgs * 60_000 / accepted_s / 1e6:5.2f} M samples/s, "
        f"{args.ecgs * size_mb / accepted_s:6.1f} MB/s of JSON"
    )
    print(
        f"  upload latency: p50 {statistics.median(latencies) * 1000:6.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:6.1f} ms"
    )
    if finished < args.ecgs:
        print(f"  {args.ecgs - finished} ECGs still pending after 600 s")
    else:
        print(
            f"  all analyzed after {analyzed_s:.1f} s: {args.ecgs / analyzed_s:.1f} ECGs/s "
            "end to end"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ecgs", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()

    services = deploy_services()
    mongo_url, amqp_url, source = services.up()
    unique = uuid.uuid4().hex[:8]
    port = free_port()
    env = {
        **os.environ,
        "ECG_MONGO_URL": mongo_url,
        "ECG_AMQP_URL": amqp_url,
        "ECG_MONGO_DB": f"ecg_bench_{unique}",
        "ECG_EXCHANGE": f"ecg.bench.{unique}",
        "ECG_RESULTS_QUEUE": f"ecg.bench.{unique}.gateway",
        "ECG_ANALYZER_QUEUE": f"ecg.bench.{unique}.analyzer",
        "ECG_HOST": "127.0.0.1",
        "ECG_PORT": str(port),
        "ECG_LOG_LEVEL": os.environ.get("ECG_LOG_LEVEL", "WARNING"),
    }
    log_dir = Path(tempfile.mkdtemp(prefix="bench-gateway-"))
    print(f"services: {source}")
    print(f"logs: {log_dir}")
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=(log_dir / f"{module}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for module in ("ecg_gateway", "ecg_analyzer")
    ]
    try:
        asyncio.run(run(args, f"http://127.0.0.1:{port}", amqp_url, env["ECG_EXCHANGE"]))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        client: MongoClient[dict[str, object]] = MongoClient(mongo_url)
        with client:
            client.drop_database(f"ecg_bench_{unique}")
        subprocess.run([sys.executable, "-c", _DROP_AMQP, amqp_url, unique], check=False, env=env)


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
