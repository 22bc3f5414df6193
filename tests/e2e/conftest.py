"""The gateway and the analyzer as separate OS processes, on the real services."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tests.services import ServiceUrls

JWT_SECRET = "e2e-test-secret-" + "e" * 48


@dataclass
class Stack:
    base_url: str
    env: dict[str, str]
    log_dir: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, module: str, **extra_env: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", module],
            env={**self.env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes[name] = process
        return process

    def start_gateway(
        self, name: str = "gateway", module: str = "ecg_gateway", **extra_env: str
    ) -> subprocess.Popen[bytes]:
        """On the stack's port, or on ``ECG_PORT`` when given."""
        process = self.start(name, module, **extra_env)
        base_url = f"http://127.0.0.1:{extra_env['ECG_PORT']}" if "ECG_PORT" in extra_env else None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, self.log(name)
            try:
                ready = f"{base_url or self.base_url}/health/ready"
                if httpx.get(ready, timeout=1).status_code == 200:
                    return process
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"the gateway never became ready:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop_all(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def stack(
    services: ServiceUrls, mongo_db_name: str, amqp_names: dict[str, str], tmp_path: Path
) -> Iterator[Stack]:
    port = free_port()
    env = {
        **os.environ,
        "ECG_MONGO_URL": services.mongo_url,
        "ECG_AMQP_URL": services.amqp_url,
        "ECG_MONGO_DB": mongo_db_name,
        "ECG_EXCHANGE": amqp_names["exchange"],
        "ECG_RESULTS_QUEUE": amqp_names["results_queue"],
        "ECG_ANALYZER_QUEUE": amqp_names["analyzer_queue"],
        "ECG_HOST": "127.0.0.1",
        "ECG_PORT": str(port),
        "ECG_JWT_SECRET": JWT_SECRET,
        "ECG_ADMIN_USERNAME": "admin",
        "ECG_ADMIN_PASSWORD": "adminpass",
        "ECG_POOL_SIZE": "1",
        "ECG_OUTBOX_POLL_S": "0.2",
        "ECG_OUTBOX_LEASE_S": "2",
        "ECG_LOG_LEVEL": "DEBUG",
    }
    stack = Stack(base_url=f"http://127.0.0.1:{port}", env=env, log_dir=tmp_path)
    yield stack
    stack.stop_all()


class Api:
    """A thin REST client of the running stack."""

    def __init__(self, base_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def token(self, username: str, password: str) -> dict[str, str]:
        response = self.http.post("/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def create_user(self, admin: dict[str, str], username: str, password: str) -> dict[str, Any]:
        response = self.http.post(
            "/users/", json={"username": username, "password": password}, headers=admin
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait_done(
        self, headers: dict[str, str], ecg_id: str, timeout_s: float = 60
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            body: dict[str, Any] = self.http.get(f"/ecg/{ecg_id}/insights", headers=headers).json()
            if body["status"] != "pending":
                return body
            time.sleep(0.25)
        raise AssertionError(f"ECG {ecg_id} still pending after {timeout_s} s")
