"""The real RabbitMQ and MongoDB-wire server for integration and e2e tests.

``MONGO_URL``/``AMQP_URL`` win; else testcontainers when a Docker engine answers; else the
project's deploy script starts (or reuses) local servers. Each is probed until ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import aio_pika
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServiceUrls:
    mongo_url: str
    amqp_url: str
    source: str


def deploy_services() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "deploy_services", ROOT / "deploy" / "services.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def wait_until_ready(urls: ServiceUrls, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client: MongoClient[dict[str, object]] = MongoClient(
                urls.mongo_url, serverSelectionTimeoutMS=2000
            )
            with client:
                client.admin.command("ping")
            # In a thread of its own: the first request may come from inside a running loop.
            with ThreadPoolExecutor(max_workers=1) as thread:
                thread.submit(asyncio.run, _amqp_probe(urls.amqp_url)).result()
            return
        except Exception as error:
            last_error = error
            time.sleep(0.5)
    raise RuntimeError(f"services not ready after {timeout_s} s: {last_error!r}")


async def _amqp_probe(url: str) -> None:
    connection = await aio_pika.connect(url, timeout=5)
    await connection.close()


@contextlib.contextmanager
def real_services() -> Iterator[ServiceUrls]:
    services = deploy_services()
    mongo_env, amqp_env = services.urls()
    if os.environ.get("MONGO_URL") and os.environ.get("AMQP_URL"):
        urls = ServiceUrls(mongo_env, amqp_env, "environment (MONGO_URL, AMQP_URL)")
        wait_until_ready(urls)
        yield urls
        return
    if services.docker_available():
        from testcontainers.core.container import DockerContainer

        with (
            DockerContainer("mongo:7").with_exposed_ports(27017) as mongo,
            DockerContainer("rabbitmq:3-management").with_exposed_ports(5672) as rabbit,
        ):
            urls = ServiceUrls(
                f"mongodb://{mongo.get_container_host_ip()}:{mongo.get_exposed_port(27017)}/",
                f"amqp://guest:guest@{rabbit.get_container_host_ip()}:{rabbit.get_exposed_port(5672)}/",
                "testcontainers (mongo:7, rabbitmq:3-management)",
            )
            wait_until_ready(urls)
            yield urls
        return
    mongo_url, amqp_url = services.up()
    state = services.load_state()
    kind = state.get("mongo_kind", "already running")
    urls = ServiceUrls(
        mongo_url, amqp_url, f"local servers (rabbitmq-server, MongoDB-wire: {kind})"
    )
    wait_until_ready(urls)
    yield urls


def broker_control_command(urls: ServiceUrls) -> list[str] | None:
    """How to stop and start the broker's app for fault tests, when this run can."""
    import shutil
    import subprocess
    from urllib.parse import urlparse

    if urlparse(urls.amqp_url).hostname not in ("127.0.0.1", "localhost"):
        return None
    if shutil.which("rabbitmqctl"):
        probe = subprocess.run(["rabbitmqctl", "-q", "status"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["rabbitmqctl"]
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "exec", "ecg-dev-rabbitmq", "rabbitmqctl", "-q", "status"],
            capture_output=True,
            check=False,
        )
        if probe.returncode == 0:
            return ["docker", "exec", "ecg-dev-rabbitmq", "rabbitmqctl"]
    return None
