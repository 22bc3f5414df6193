"""schemathesis against the running gateway and analyzer on the real services: every
operation, as a user and as an admin, with generated valid and invalid requests, the
OpenAPI links followed statefully. Any 5xx, an undocumented status, content type or
header, a response off its schema, or invalid data accepted fails the suite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import report_fact
from tests.e2e.conftest import Api, Stack

pytestmark = pytest.mark.e2e

CHECKS = "all"
NOT_APPLICABLE = ",".join(
    [
        # schema-valid bodies can still be refused: an id taken (409), samples over the
        # total, number_of_samples not the signal's length, a lead name given twice
        "positive_data_acceptance",
        # needs a second user's credentials per operation; pinned by the access tests
        "object_level_authorization",
    ]
)
EXAMPLES_PER_OPERATION = 25
SECONDS = {"user": 100, "admin": 60}
"""Per role: the pass stays under three minutes."""
NEVER_ENDS = {"user": ["--exclude-path", "/ecg/events"], "admin": []}
"""A user's event stream is open until the client leaves, so no response to it completes
(its behaviour is pinned in tests/integration/gateway/test_push.py); the admin's is 403."""


def schemathesis_run(
    stack: Stack, token: str, role: str, report_dir: Path, config: pytest.Config
) -> dict[str, Any]:
    report = report_dir / f"schemathesis-{role}.json"
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{stack.base_url}/openapi.json",
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--exclude-checks",
        NOT_APPLICABLE,
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--max-time",
        str(SECONDS[role]),
        *NEVER_ENDS[role],
        "--max-failures",
        "1",
        # `?wait=` may hold a request up to 60 s by design
        "--request-timeout",
        "65",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        "--no-color",
    ]
    finished = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=SECONDS[role] + 120,
        check=False,
        cwd=report_dir,  # schemathesis keeps a cache in its working directory
    )
    print(finished.stdout[-6000:])
    print(finished.stderr[-2000:])
    summary: dict[str, Any] = json.loads(report.read_text())
    counts = summary.get("test_cases", {})
    line = (
        f"schemathesis as {role}: {counts}, failures {len(summary.get('failures') or [])}, "
        f"{summary.get('running_time', 0):.0f} s, stop reason {summary.get('stop_reason')}"
    )
    print(line)
    report_fact(config, line)
    assert finished.returncode == 0, f"schemathesis found failures as {role} (output above)"
    return summary


@pytest.fixture
def running(stack: Stack) -> Stack:
    stack.start_gateway()
    stack.start("analyzer", "ecg_analyzer")
    return stack


@pytest.mark.timeout(sum(SECONDS.values()) + 240)
def test_no_request_gets_a_5xx_or_an_answer_off_the_contract(
    running: Stack, unique: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    api = Api(running.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"fuzz-{unique}", "fuzz-password")
    user = api.token(f"fuzz-{unique}", "fuzz-password")
    tokens = {"user": user, "admin": admin}
    for role, headers in tokens.items():
        token = headers["Authorization"].removeprefix("Bearer ")
        summary = schemathesis_run(running, token, role, tmp_path, request.config)
        assert summary["test_cases"], "schemathesis generated nothing"
