"""Swagger UI renders in a real headless browser with every outside host unreachable."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise AssertionError("no Chromium on PATH: `make test` installs Debian's chromium as root")


def test_docs_render_offline_in_a_browser(stack: Stack) -> None:
    stack.start_gateway()
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                # Any host but the gateway's fails to resolve: the page must need no network.
                "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
                "--virtual-time-budget=15000",
                "--dump-dom",
                f"{stack.base_url}/docs",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    dom = result.stdout
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ECG gateway" in dom
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert {
        "/auth/token",
        "/users/",
        "/ecg/",
        "/ecg/{ecg_id}",
        "/ecg/{ecg_id}/insights",
    } <= rendered
    assert "Failed to load API definition" not in dom
