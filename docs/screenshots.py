"""The README's pictures, made by the headless Chromium the tests use: the plot of MIT-BIH
record 100's first 10 s (``GET /ecg/{id}/plot.svg``) and the viewer page with that ECG open.

It starts a gateway and an analyzer on the local services (``deploy/services.py``) with a
database and exchange of their own, uploads the whole 30-minute record as a user, and
writes ``docs/plot-100.png``, ``docs/plot-100.svg`` and ``docs/viewer.png``.

    uv run python docs/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aio_pika
import httpx
from ecg_client import EcgClient
from ecg_client.readers import read_file
from playwright.sync_api import expect, sync_playwright
from pymongo import AsyncMongoClient

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RECORD_100 = ROOT / "tests" / "data" / "mitdb" / "100.hea"
CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def services_env() -> dict[str, str]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "deploy" / "services.py"), "env"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    env: dict[str, str] = {}
    for line in out.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value.strip("'")
    return env


def wait_ready(base: str, processes: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes):
            raise SystemExit("the gateway or the analyzer stopped: see their logs")
        try:
            if httpx.get(f"{base}/health/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit("the gateway never became ready")


def main() -> None:
    services = services_env()
    unique = uuid.uuid4().hex[:8]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "ECG_MONGO_URL": services["MONGO_URL"],
        "ECG_AMQP_URL": services["AMQP_URL"],
        "ECG_MONGO_DB": f"ecg_screenshots_{unique}",
        "ECG_EXCHANGE": f"ecg.screenshots.{unique}",
        "ECG_RESULTS_QUEUE": f"ecg.screenshots.{unique}.gateway",
        "ECG_ANALYZER_QUEUE": f"ecg.screenshots.{unique}.analyzer",
        "ECG_HOST": "127.0.0.1",
        "ECG_PORT": str(port),
        "ECG_LOG_LEVEL": "WARNING",
    }
    logs = Path(tempfile.mkdtemp(prefix="screenshots-"))
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", module],
            env=env,
            stdout=(logs / f"{module}.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        for module in ("ecg_gateway", "ecg_analyzer")
    ]
    try:
        wait_ready(base, processes)
        with EcgClient(base) as admin:
            admin.login("admin", "adminpass")
            admin.create_user(f"clinician-{unique}", "clinician-password")
        with EcgClient(base) as user:
            user.login(f"clinician-{unique}", "clinician-password")
            user.upload(read_file(RECORD_100, "mitdb-100"))
            result = user.insights("mitdb-100", wait_s=120)
            print(
                f"record 100: {result.status}, {result.insights and result.insights.heart_rate_bpm} bpm"
            )
            token = user.token
        svg = httpx.get(
            f"{base}/ecg/mitdb-100/plot.svg",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        svg.raise_for_status()
        DOCS.mkdir(exist_ok=True)
        (DOCS / "plot-100.svg").write_bytes(svg.content)
        executable = next((path for path in CHROMIUM if Path(path).exists()), None)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"],
            )
            plot = browser.new_page(viewport={"width": 1000, "height": 400}, device_scale_factor=2)
            plot.goto((DOCS / "plot-100.svg").as_uri())
            plot.locator("svg").screenshot(path=str(DOCS / "plot-100.png"))

            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/app/")
            page.fill("#username", f"clinician-{unique}")
            page.fill("#password", "clinician-password")
            page.keyboard.press("Enter")
            page.get_by_role("button", name="Open ECG mitdb-100").click()
            expect(page.locator("#plot svg path.trace")).to_have_count(2)
            page.screenshot(path=str(DOCS / "viewer.png"))
            browser.close()
        for name in ("plot-100.png", "plot-100.svg", "viewer.png"):
            print(f"wrote docs/{name} ({(DOCS / name).stat().st_size} bytes)")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        asyncio.run(clean_up(services, env))


async def clean_up(services: dict[str, str], env: dict[str, str]) -> None:
    """Drop what the run made: its database, queues and exchange."""
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(services["MONGO_URL"])
    await client.drop_database(env["ECG_MONGO_DB"])
    await client.close()
    connection = await aio_pika.connect(services["AMQP_URL"])
    async with connection:
        channel = await connection.channel()
        for queue in (env["ECG_RESULTS_QUEUE"], env["ECG_ANALYZER_QUEUE"]):
            await channel.queue_delete(queue)
        await channel.exchange_delete(env["ECG_EXCHANGE"])


if __name__ == "__main__":
    main()
