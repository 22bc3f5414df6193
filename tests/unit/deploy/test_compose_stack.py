"""The compose stack for real: both images built, the stack up, one ECG through it, torn down.

Needs a Docker engine with the compose plugin. Without one this test is skipped, and says why
(``pytest -ra`` lists it): that is a NOT RUN, not a pass.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tests.unit.deploy.dockerfiles import COMPOSE_FILE, ENV_EXAMPLE

pytestmark = pytest.mark.e2e
IMAGE_TAG = "e2e-test"
# Variables of this machine that compose would prefer to the env file for its ${...} values.
FOREIGN = re.compile(r"^(ECG_|MONGO_|RABBITMQ_|AMQP_URL$|GATEWAY_PORT$|IMAGE_TAG$|DEPLOY_ENV)")


def docker_or_skip() -> None:
    try:
        info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    except (FileNotFoundError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"no Docker engine: docker info failed: {error}")
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["exit status " + str(info.returncode)])[-1]
        pytest.skip(f"no Docker engine: docker info failed: {reason}")
    plugin = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if plugin.returncode != 0:
        pytest.skip(f"no docker compose plugin: docker compose version failed: {plugin.stderr}")


def filled_env_file(path: Path) -> dict[str, str]:
    """deploy/.env.example with its blanks filled as the operator does; returns the secrets."""
    chosen = {
        "ECG_JWT_SECRET": secrets.token_hex(32),
        "ECG_ADMIN_PASSWORD": secrets.token_hex(12),
        "RABBITMQ_DEFAULT_PASS": secrets.token_hex(12),
        "MONGO_INITDB_ROOT_PASSWORD": secrets.token_hex(12),
    }
    lines = []
    for line in ENV_EXAMPLE.read_text().splitlines():
        name = line.partition("=")[0]
        if name in chosen:
            line = f"{name}={chosen[name]}"
        elif name == "ECG_AMQP_URL":
            line = line.replace("change-me", chosen["RABBITMQ_DEFAULT_PASS"])
        elif name == "ECG_MONGO_URL":
            line = line.replace("change-me", chosen["MONGO_INITDB_ROOT_PASSWORD"])
        lines.append(line)
    lines += ["ECG_POOL_SIZE=1", "ECG_OUTBOX_POLL_S=0.2"]
    path.write_text("\n".join(lines) + "\n")
    return chosen


@dataclass
class Compose:
    project: str
    env_file: Path
    env: dict[str, str]

    def run(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        command = ["docker", "compose", "-p", self.project, "--env-file", str(self.env_file)]
        return subprocess.run(
            [*command, "-f", str(COMPOSE_FILE), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def logs(self) -> str:
        return self.run("logs", "--no-color", "--tail", "60", timeout=120).stdout[-6000:]


@pytest.fixture
def compose(tmp_path: Path) -> Iterator[Compose]:
    docker_or_skip()
    env_file = tmp_path / ".env"
    env = {name: value for name, value in os.environ.items() if not FOREIGN.match(name)}
    env |= {
        "DEPLOY_ENV_FILE": str(env_file),
        "GATEWAY_PORT": str(free_port()),
        "RABBITMQ_MANAGEMENT_PORT": str(free_port()),
        "IMAGE_TAG": IMAGE_TAG,
    }
    stack = Compose(f"ecg-e2e-{uuid.uuid4().hex[:8]}", env_file, env)
    # The example as it is, unfilled: compose refuses it, naming the first missing secret.
    env_file.write_text(ENV_EXAMPLE.read_text())
    refused = stack.run("config", "--quiet", timeout=60)
    assert refused.returncode != 0
    assert "in deploy/.env (see deploy/.env.example)" in refused.stderr, refused.stderr
    yield stack
    stack.run("down", "--volumes", "--remove-orphans", timeout=300)


def in_image(image: str, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "python", image, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.timeout(1800)
def test_the_compose_stack_serves_an_ecg_end_to_end(compose: Compose) -> None:
    chosen = filled_env_file(compose.env_file)

    up = compose.run("up", "--detach", "--build", "--wait", "--wait-timeout", "300", timeout=1500)
    assert up.returncode == 0, f"{up.stderr[-4000:]}\n{compose.logs()}"

    analyzers = compose.run("ps", "--quiet", "analyzer").stdout.split()
    assert len(analyzers) == 2, compose.logs()

    # The images: non-root, and each without the other service's libraries.
    for image, absent in (
        (f"ecg-gateway:{IMAGE_TAG}", "numpy"),
        (f"ecg-analyzer:{IMAGE_TAG}", "aiohttp"),
    ):
        check = in_image(
            image,
            "import importlib.util, os; "
            f"assert os.getuid() != 0; assert importlib.util.find_spec('{absent}') is None",
        )
        assert check.returncode == 0, (image, check.stderr)

    http = httpx.Client(base_url=f"http://127.0.0.1:{compose.env['GATEWAY_PORT']}", timeout=30)
    deadline = time.monotonic() + 120
    while True:
        try:
            if http.get("/health/ready").status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, f"the gateway never became ready\n{compose.logs()}"
        time.sleep(1)

    def token(username: str, password: str) -> dict[str, str]:
        response = http.post("/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    # Production mode: the development admin password is refused, the chosen one works.
    assert (
        http.post("/auth/token", json={"username": "admin", "password": "adminpass"}).status_code
        == 401
    )
    admin = token("admin", chosen["ECG_ADMIN_PASSWORD"])
    created = http.post(
        "/users/", json={"username": "alice", "password": "alice-password"}, headers=admin
    )
    assert created.status_code == 201, created.text
    alice = token("alice", "alice-password")

    body: dict[str, Any] = {
        "id": "compose-1",
        "sampling_rate_hz": 500,
        "leads": [
            {"name": "I", "signal": [1, 0, -1, 2, -3]},
            {"name": "II", "number_of_samples": 4, "signal": [1, 0, 0, 1]},
        ],
    }
    accepted = http.post("/ecg/", json=body, headers=alice)
    assert accepted.status_code == 202, accepted.text

    deadline = time.monotonic() + 120
    while (result := http.get("/ecg/compose-1/insights", headers=alice).json())[
        "status"
    ] == "pending":
        assert time.monotonic() < deadline, f"still pending\n{compose.logs()}"
        time.sleep(0.5)
    assert result["status"] == "done", f"{result}\n{compose.logs()}"
    crossings = {lead["name"]: lead["zero_crossings"] for lead in result["insights"]["leads"]}
    assert crossings == {"I": 3, "II": 0}

    down = compose.run("down", "--volumes", "--remove-orphans", timeout=300)
    assert down.returncode == 0, down.stderr
    assert not compose.run("ps", "--quiet").stdout.strip()
