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


def wait_until_ready(urls: ServiceUrls, timeout_s: float = 90.0) -> ServiceUrls:
    """Probe both servers until they answer; the result names what answered."""
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            client: MongoClient[dict[str, object]] = MongoClient(
                urls.mongo_url, serverSelectionTimeoutMS=2000
            )
            with client:
                info = client.admin.command("buildInfo")
            # In a thread of its own: the first request may come from inside a running loop.
            with ThreadPoolExecutor(max_workers=1) as thread:
                broker = thread.submit(asyncio.run, _amqp_probe(urls.amqp_url)).result()
            database = (
                f"FerretDB {info['ferretdbVersion']}"
                if "ferretdbVersion" in info
                else f"MongoDB {info.get('version')}"
            )
            return ServiceUrls(
                urls.mongo_url, urls.amqp_url, f"{urls.source} [{database}, {broker}]"
            )
        except Exception as error:
            last_error = error
            time.sleep(0.5)
    raise RuntimeError(f"services not ready after {timeout_s} s: {last_error!r}")


async def _amqp_probe(url: str) -> str:
    connection = await aio_pika.connect(url, timeout=5)
    transport = connection.transport
    assert transport is not None
    properties = transport.connection.server_properties
    await connection.close()

    def text(value: object) -> str:
        return value.decode() if isinstance(value, bytes) else str(value)

    return f"{text(properties.get('product'))} {text(properties.get('version'))}"


@contextlib.contextmanager
def real_services() -> Iterator[ServiceUrls]:
    services = deploy_services()
    mongo_env, amqp_env = services.urls()
    if os.environ.get("MONGO_URL") and os.environ.get("AMQP_URL"):
        source = os.environ.get("SERVICES_SOURCE") or "MONGO_URL and AMQP_URL from the environment"
        urls = ServiceUrls(mongo_env, amqp_env, source)
        yield wait_until_ready(urls)
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
            yield wait_until_ready(urls)
        return
    mongo_url, amqp_url, source = services.up()
    urls = ServiceUrls(mongo_url, amqp_url, source)
    yield wait_until_ready(urls)


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
