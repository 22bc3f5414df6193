"""``deploy/services.py``: the FerretDB backend choice and the reuse rules, without servers."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "deploy" / "services.py"


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """A fresh copy of the script whose state lives under ``tmp_path``."""
    spec = importlib.util.spec_from_file_location("deploy_services_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "STATE_DIR", tmp_path)
    monkeypatch.setattr(module, "STATE_FILE", tmp_path / "state.json")
    monkeypatch.setattr(module, "FERRETDB_STATE_DIR", tmp_path / "ferretdb")
    monkeypatch.delenv("ECG_FERRETDB_BACKEND", raising=False)
    return module


def test_postgresql_is_the_default_backend(services: ModuleType) -> None:
    assert services.DEFAULT_FERRETDB_BACKEND == "postgresql"
    assert services.ferretdb_backend() == "postgresql"


def test_sqlite_can_be_chosen(services: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECG_FERRETDB_BACKEND", "sqlite")
    assert services.ferretdb_backend() == "sqlite"


def test_an_unknown_backend_is_refused(
    services: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECG_FERRETDB_BACKEND", "mysql")
    with pytest.raises(SystemExit, match="ECG_FERRETDB_BACKEND"):
        services.ferretdb_backend()


def test_the_ferretdb_command_of_each_backend(services: ModuleType) -> None:
    common = [
        "--listen-addr=127.0.0.1:27017",
        "--debug-addr=127.0.0.1:0",
        "--state-dir=/s",
        "--telemetry=disable",
        "--log-level=warn",
    ]
    assert services.ferretdb_command(Path("/f"), "postgresql", 27017, "ferretdb", Path("/s")) == [
        "/f",
        "--handler=postgresql",
        "--postgresql-url=postgres://ferretdb:ferretdb@127.0.0.1:5432/ferretdb",
        *common,
    ]
    assert services.ferretdb_command(Path("/f"), "sqlite", 27017, "/d", Path("/s")) == [
        "/f",
        "--handler=sqlite",
        "--sqlite-url=file:/d/",
        *common,
    ]


def test_ferretdb_keeps_its_state_file_apart_from_ours(services: ModuleType) -> None:
    """FerretDB rewrites ``<state dir>/state.json`` with keys of its own."""
    assert services.FERRETDB_STATE_DIR / "state.json" != services.STATE_FILE


def test_the_highest_postgresql_version_is_used(
    services: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = tmp_path / "lib"
    for version in ("9.6", "13", "15"):
        (lib / version / "bin").mkdir(parents=True)
        (lib / version / "bin" / "postgres").touch()
    (lib / "16" / "bin").mkdir(parents=True)  # client only: no server
    monkeypatch.setattr(services, "POSTGRESQL_LIB", lib)
    assert services.postgresql_version() == "15"
    monkeypatch.setattr(services, "POSTGRESQL_LIB", tmp_path / "none")
    assert services.postgresql_version() is None


def test_a_missing_postgresql_says_what_to_do_when_it_cannot_install(
    services: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "port_open", lambda *_: False)
    monkeypatch.setattr(services, "postgresql_version", lambda: None)
    monkeypatch.setattr(services.os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit, match=r"apt-get install postgresql.*MONGO_URL"):
        services.ensure_postgresql({})


@pytest.mark.parametrize("name", ["", "Bench", "a-b", "a/b", "x" * 60])
def test_bad_instance_names_are_refused(services: ModuleType, name: str) -> None:
    with pytest.raises(SystemExit, match="name"):
        services.start_ferretdb("sqlite", 1, name)


class FakeProcess:
    pid = 4242
    returncode = None

    def __init__(self, cmd: list[str], **_: Any) -> None:
        self.cmd = cmd

    def poll(self) -> None:
        return None


@pytest.fixture
def local_ferretdb(services: ModuleType, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """No mongod, something on 27017, and the process the state names is a FerretDB."""
    seen: dict[str, Any] = {"stopped": [], "started": [], "postgresql": 0, "open": True}
    monkeypatch.setattr(services.shutil, "which", lambda _: None)
    monkeypatch.setattr(services, "port_open", lambda *_: seen["open"])
    monkeypatch.setattr(services, "is_ferretdb_process", lambda pid: pid == 4242)
    monkeypatch.setattr(services, "ferretdb_binary", lambda: Path("/bin/ferretdb"))

    def kill(pid: int, _: int) -> None:
        seen["stopped"].append(pid)
        seen["open"] = False

    def popen(cmd: list[str], **kwargs: Any) -> FakeProcess:
        seen["started"].append(cmd)
        return FakeProcess(cmd, **kwargs)

    def ensure_postgresql(_: dict[str, object]) -> None:
        seen["postgresql"] += 1

    monkeypatch.setattr(services.os, "kill", kill)
    monkeypatch.setattr(services.subprocess, "Popen", popen)
    monkeypatch.setattr(services, "ensure_postgresql", ensure_postgresql)
    monkeypatch.setattr(services, "await_listening", lambda *_: None)
    return seen


def ferretdb_state(backend: str) -> dict[str, object]:
    return {"mongo_pid": 4242, "mongo_kind": "ferretdb", "mongo_backend": backend}


def test_our_ferretdb_on_the_requested_backend_is_reused(
    services: ModuleType, local_ferretdb: dict[str, Any]
) -> None:
    description, backend = services.start_mongo(ferretdb_state("postgresql"))
    assert (description, backend) == (
        "ferretdb (postgresql backend) already on 127.0.0.1:27017",
        "postgresql",
    )
    assert local_ferretdb["stopped"] == local_ferretdb["started"] == []


def test_an_unknown_server_on_the_port_is_reused(
    services: ModuleType, local_ferretdb: dict[str, Any]
) -> None:
    legacy = {"mongo_pid": 4242, "mongo_kind": "ferretdb"}  # written before backends existed
    for state in ({}, legacy, {**ferretdb_state("sqlite"), "mongo_pid": 1}):
        description, backend = services.start_mongo(state)
        assert description == "the MongoDB-wire server already on 127.0.0.1:27017"
        assert backend is None
    assert local_ferretdb["stopped"] == local_ferretdb["started"] == []


def test_our_ferretdb_on_the_other_backend_is_replaced(
    services: ModuleType, local_ferretdb: dict[str, Any]
) -> None:
    state = ferretdb_state("sqlite")
    description, backend = services.start_mongo(state)
    assert description == "ferretdb (postgresql backend) started on 127.0.0.1:27017"
    assert backend == "postgresql"
    assert local_ferretdb["stopped"] == [4242]
    assert local_ferretdb["postgresql"] == 1
    [cmd] = local_ferretdb["started"]
    assert "--handler=postgresql" in cmd
    assert json.loads(services.STATE_FILE.read_text()) == ferretdb_state("postgresql")


def test_sqlite_is_started_when_asked(
    services: ModuleType, local_ferretdb: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ECG_FERRETDB_BACKEND", "sqlite")
    local_ferretdb["open"] = False
    description, _ = services.start_mongo({})
    assert description == "ferretdb (sqlite backend) started on 127.0.0.1:27017"
    [cmd] = local_ferretdb["started"]
    assert "--handler=sqlite" in cmd
    assert local_ferretdb["postgresql"] == 0
    assert json.loads(services.STATE_FILE.read_text())["mongo_backend"] == "sqlite"
