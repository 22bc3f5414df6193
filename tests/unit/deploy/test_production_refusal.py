"""The gateway in production refuses to start with a development secret, at once and clearly."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest


def run_gateway(**settings: str) -> subprocess.CompletedProcess[str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("ECG_") and name not in {"MONGO_URL", "AMQP_URL"}
    }
    # Unreachable services: were the gateway to get past its settings, it would not exit soon.
    env |= {
        "ECG_ENV": "production",
        "ECG_MONGO_URL": "mongodb://127.0.0.1:9/",
        "ECG_AMQP_URL": "amqp://guest:guest@127.0.0.1:9/",
        **settings,
    }
    return subprocess.run(
        [sys.executable, "-m", "ecg_gateway"], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({}, "ECG_JWT_SECRET"),
        ({"ECG_JWT_SECRET": secrets.token_hex(32)}, "ECG_ADMIN_PASSWORD"),
        (
            {"ECG_JWT_SECRET": secrets.token_hex(32), "ECG_ADMIN_PASSWORD": "adminpass"},
            "ECG_ADMIN_PASSWORD",
        ),
    ],
    ids=["no-secrets", "default-admin-password", "explicit-default-admin-password"],
)
def test_production_without_its_secrets_exits_non_zero_naming_the_setting(
    settings: dict[str, str], named: str
) -> None:
    result = run_gateway(**settings)
    assert result.returncode != 0
    assert named in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
