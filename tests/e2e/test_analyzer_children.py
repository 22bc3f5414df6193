"""An analyzer killed with SIGKILL takes its pool workers with it."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import Api, Stack

pytestmark = pytest.mark.e2e


def stat_fields(pid: int) -> list[str] | None:
    """State, parent PID, ... of ``/proc/<pid>/stat`` (after the command name)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat.rsplit(")", 1)[1].split()


def descendants(pid: int) -> set[int]:
    found: set[int] = set()
    parents = {pid}
    while parents:
        children = set()
        for entry in Path("/proc").iterdir():
            fields = stat_fields(int(entry.name)) if entry.name.isdigit() else None
            if fields is not None and int(fields[1]) in parents:
                children.add(int(entry.name))
        found |= children
        parents = children
    return found


def running(pid: int) -> bool:
    """Still there and not a zombie (an exited process its new parent has not reaped)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def test_a_sigkilled_analyzer_leaves_no_worker_behind(stack: Stack, unique: str) -> None:
    stack.start_gateway()
    analyzer = stack.start("analyzer", "ecg_analyzer", ECG_POOL_SIZE="2")
    api = Api(stack.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"alice-{unique}", "alice-password")
    alice = api.token(f"alice-{unique}", "alice-password")
    body = {"id": "before-the-kill", "leads": [{"name": "I", "signal": [1, -1, 1, -1]}]}
    assert api.http.post("/ecg/", json=body, headers=alice).status_code == 202
    assert api.wait_done(alice, "before-the-kill")["status"] == "done"

    children = descendants(analyzer.pid)
    assert len(children) >= 2, f"the pool's workers were not found: {children}"
    analyzer.send_signal(signal.SIGKILL)
    analyzer.wait(timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(running(pid) for pid in children):
        time.sleep(0.1)
    survivors = {pid: stat_fields(pid) for pid in children if running(pid)}
    assert not survivors, f"still running 5 s after the analyzer's SIGKILL: {survivors}"
