"""deploy/*.Dockerfile and .dockerignore, checked without a Docker engine.

The builder stage of each image is replayed on this machine: the files its COPY lines take from
the build context (after .dockerignore) go into a scratch directory, and its ``uv sync`` lines
run there, into a scratch virtual environment. What lands in that environment is what lands in
the image, so the images' dependency sets are proven here.
"""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ports import free_port
from tests.unit.deploy.dockerfiles import (
    DEPLOY,
    DOCKERFILES,
    MODULES,
    ROOT,
    Dockerfile,
    context_copies,
    copy_sources,
    dockerignore,
    env_assignments,
    parse,
)

PACKAGES = {"gateway": "ecg-gateway", "analyzer": "ecg-analyzer"}
# Distributions that one image must have and the other must not.
OWN = {
    "gateway": {"aiohttp", "pymongo", "pyjwt", "argon2-cffi", "swagger-ui-py", "prometheus-client"},
    "analyzer": {"numpy", "scipy"},
}
DEV = {"pytest", "mypy", "ruff", "hypothesis", "testcontainers", "coverage", "httpx", "jsonschema"}


# --- static checks -------------------------------------------------------------------------


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_every_copy_source_exists_and_is_in_the_build_context(service: str) -> None:
    ignore = dockerignore()
    copies = context_copies(parse(DOCKERFILES[service]))
    assert copies
    for _stage, instruction in copies:
        sources, _dest = copy_sources(instruction)
        for source in sources:
            where = f"{DOCKERFILES[service].name}:{instruction.line}: {source}"
            assert not source.startswith(("/", "..")), f"{where}: outside the build context"
            if any(char in source for char in "*?["):
                assert list(ROOT.glob(source)), f"{where}: the glob matches nothing"
            else:
                assert (ROOT / source).exists(), f"{where}: no such file in the repository"
            assert ignore.context_files(ROOT, source), f"{where}: excluded by .dockerignore"


def test_the_build_context_leaves_out_the_bulk_and_the_secrets() -> None:
    ignore = dockerignore()
    for path in (
        ".git/HEAD",
        ".venv/bin/python",
        ".services/ferretdb/data.sqlite",
        "tests/data/mitdb/100.dat",
        "tests/unit/test_settings_documented.py",
        "benchmarks/bench_analyzer.py",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache/lastfailed",
        ".ruff_cache/CACHEDIR.TAG",
        ".hypothesis/examples/x",
        "gateway/src/ecg_gateway/__pycache__/app.cpython-311.pyc",
        ".env",
        "deploy/.env",
        "deploy/.env.production",
    ):
        assert ignore.excluded(path), path
    for path in (
        "pyproject.toml",
        "uv.lock",
        ".python-version",
        "contracts/src/ecg_contracts/events.py",
        "gateway/src/ecg_gateway/__main__.py",
        "analyzer/src/ecg_analyzer/__main__.py",
        "deploy/analyzer_healthcheck.py",
    ):
        assert not ignore.excluded(path), path


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_the_image_is_multi_stage_on_python_311_slim_and_runs_as_non_root(service: str) -> None:
    dockerfile = parse(DOCKERFILES[service])
    builder, final = dockerfile.stage("builder"), dockerfile.final
    assert builder is not final
    assert builder.base == final.base == "python:3.11-slim"
    assert any(
        item.args.split() == ["--from=builder", "/opt/venv", "/opt/venv"]
        for item in final.all("COPY")
    ), "the runtime stage takes the virtual environment, and nothing else, from the builder"
    assert not final.all("RUN") or all("uv" not in item.args for item in final.all("RUN"))
    user = final.last("USER")
    assert user is not None
    assert user.args.split(":")[0] not in {"root", "0"}
    assert final.instructions.index(user) > max(
        (final.instructions.index(item) for item in final.all("RUN")), default=-1
    ), "USER comes after the last RUN of the runtime stage"
    assert final.last("HEALTHCHECK") is not None


@pytest.mark.parametrize("service", sorted(DOCKERFILES))
def test_the_builder_installs_only_this_service_from_the_lock_file(service: str) -> None:
    runs = [item.args for item in parse(DOCKERFILES[service]).stage("builder").all("RUN")]
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs
    for run in syncs:
        for flag in ("--locked", "--no-dev", "--no-editable", f"--package {PACKAGES[service]}"):
            assert flag in run, (flag, run)


# --- the builder stage, replayed ------------------------------------------------------------


def replay_builder(dockerfile: Dockerfile, scratch: Path) -> Path:
    """Run the builder stage's COPY and RUN lines here; return the virtual environment."""
    ignore = dockerignore()
    builder = dockerfile.stage("builder")
    workdir: str | None = None
    src = scratch / "src"
    venv = scratch / "venv"
    src.mkdir(parents=True)
    env = {
        name: value
        for name, value in os.environ.items()
        if name != "VIRTUAL_ENV" and not (name.startswith("UV_") and name != "UV_CACHE_DIR")
    }
    for item in builder.instructions:
        if item.keyword == "WORKDIR":
            workdir = item.args
        elif item.keyword == "ENV":
            env |= env_assignments(item)
        elif item.keyword in {"COPY", "ADD"} and item.flags_and_operands()[0].get("from"):
            continue  # from another stage or image: the uv binary
        elif item.keyword in {"COPY", "ADD"}:
            assert workdir is not None, "COPY before WORKDIR"
            sources, dest = copy_sources(item)
            if dest.startswith("/"):
                assert dest.startswith(workdir), f"{item}: outside WORKDIR"
                dest = dest.removeprefix(workdir).lstrip("/") or "."
            into_dir = dest.endswith("/") or dest in {".", "./"} or len(sources) > 1
            for source in sources:
                for match in sorted(ROOT.glob(source)):
                    for file in ignore.context_files(ROOT, match.relative_to(ROOT).as_posix()):
                        if match.is_dir():
                            target = src / dest / file.relative_to(match)
                        elif into_dir:
                            target = src / dest / file.name
                        else:
                            target = src / dest
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(file, target)
        elif item.keyword == "RUN":
            command = re.sub(r"^(--[a-z]+=\S+\s+)+", "", item.args)
            assert command.startswith("uv "), f"{item}: the replay runs uv commands only"
            uv = shutil.which("uv")
            assert uv is not None, "uv is on PATH wherever the suite runs (make install)"
            result = subprocess.run(
                [uv, *command.split()[1:]],
                cwd=src,
                env=env | {"UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON": sys.executable},
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert result.returncode == 0, f"{command}\n{result.stderr}"
        else:
            raise AssertionError(f"the replay does not know {item.keyword} ({item})")
    return venv


@pytest.fixture(scope="module", params=sorted(DOCKERFILES))
def built(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    service: str = request.param
    scratch = tmp_path_factory.mktemp(f"image-{service}")
    venv = replay_builder(parse(DOCKERFILES[service]), scratch)
    yield service, venv
    shutil.rmtree(scratch, ignore_errors=True)


def venv_python(venv: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("ECG_")}
    return subprocess.run(
        [str(venv / "bin" / "python"), *args],
        cwd=venv.parent,  # not the repository: nothing may come from its sources
        env=clean | {"PYTHONNOUSERSITE": "1"} | env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def locked_closure(package: str) -> set[str]:
    """The package's dependencies, transitively, per uv.lock (markers ignored: a superset)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    depends = {
        entry["name"]: {dep["name"] for dep in entry.get("dependencies", [])}
        for entry in lock["package"]
    }
    found: set[str] = set()
    todo = [package]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo += sorted(depends.get(name, set()))
    return found


def test_the_image_environment_holds_this_service_and_only_its_dependencies(
    built: tuple[str, Path],
) -> None:
    service, venv = built
    result = venv_python(
        venv,
        "-c",
        "import importlib.metadata as m, json; "
        "print(json.dumps(sorted({d.metadata['Name'] for d in m.distributions()})))",
    )
    assert result.returncode == 0, result.stderr
    installed = {re.sub(r"[-_.]+", "-", name).lower() for name in json.loads(result.stdout)}
    other = "analyzer" if service == "gateway" else "gateway"
    assert {PACKAGES[service], "ecg-contracts"} | OWN[service] <= installed
    assert not installed & (OWN[other] | {PACKAGES[other]}), installed & OWN[other]
    assert not installed & DEV
    assert installed <= locked_closure(PACKAGES[service]), installed - locked_closure(
        PACKAGES[service]
    )


def test_the_image_environment_does_not_import_the_other_services_libraries(
    built: tuple[str, Path],
) -> None:
    service, venv = built
    other = "analyzer" if service == "gateway" else "gateway"
    for module in {"gateway": ["aiohttp", "pymongo"], "analyzer": ["numpy", "scipy"]}[other]:
        result = venv_python(venv, "-c", f"import {module}")
        assert result.returncode != 0, f"{module} is importable in the {service} image"
        assert "ModuleNotFoundError" in result.stderr


def test_the_service_is_installed_as_a_wheel_not_linked_to_the_sources(
    built: tuple[str, Path],
) -> None:
    service, venv = built
    module = MODULES[service]
    result = venv_python(venv, "-c", f"import {module}, ecg_contracts; print({module}.__file__)")
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()).is_relative_to(venv)
    assert not list(venv.glob("lib/python3.11/site-packages/*.pth")) or all(
        "src" not in pth.read_text() for pth in venv.glob("lib/python3.11/site-packages/*.pth")
    )


def test_the_image_entry_point_runs_in_the_image_environment(built: tuple[str, Path]) -> None:
    service, venv = built
    final = parse(DOCKERFILES[service]).final
    entrypoint = final.last("ENTRYPOINT")
    assert entrypoint is not None
    program, *args = entrypoint.words()
    assert program == "python"
    result = venv_python(venv, *args, "--help")
    assert result.returncode == 0, result.stderr
    assert f"python -m {MODULES[service]}" in result.stdout


# --- the healthchecks -----------------------------------------------------------------------


def healthcheck_command(service: str) -> list[str]:
    healthcheck = parse(DOCKERFILES[service]).final.last("HEALTHCHECK")
    assert healthcheck is not None
    options, _, command = healthcheck.args.partition("CMD ")
    assert re.search(r"--interval=\S+", options)
    assert re.search(r"--start-period=\S+", options)
    words = json.loads(command)
    assert isinstance(words, list)
    return [str(word) for word in words]


class Answer(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/health/live" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_gateway_healthcheck_fetches_the_liveness_endpoint(status: int, healthy: bool) -> None:
    handler = type("Handler", (Answer,), {"status": status})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        program, *args = healthcheck_command("gateway")
        assert program == "python"
        env = dict(os.environ) | {"ECG_PORT": str(server.server_address[1])}
        result = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, timeout=30, check=False
        )
        assert (result.returncode == 0) is healthy, result.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_the_gateway_healthcheck_fails_when_nothing_listens() -> None:
    port = free_port()
    _program, *args = healthcheck_command("gateway")
    env = dict(os.environ) | {"ECG_PORT": str(port)}
    result = subprocess.run([sys.executable, *args], env=env, capture_output=True, timeout=30)
    assert result.returncode != 0


def analyzer_healthcheck_script() -> Path:
    """The repository file that the analyzer image's HEALTHCHECK runs."""
    program, script = healthcheck_command("analyzer")
    assert program == "python"
    for _stage, instruction in context_copies(parse(DOCKERFILES["analyzer"])):
        sources, dest = copy_sources(instruction)
        if dest == script:
            assert len(sources) == 1
            return ROOT / sources[0]
    raise AssertionError(f"no COPY puts {script} into the analyzer image")


def test_the_analyzer_healthcheck_is_the_script_in_deploy() -> None:
    assert analyzer_healthcheck_script() == DEPLOY / "analyzer_healthcheck.py"


@pytest.fixture
def broker() -> Iterator[socket.socket]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server


def run_holding_a_connection(port: int, *argv: str) -> subprocess.Popen[str]:
    """A process with ``argv`` in its command line, connected to ``port`` (a stand-in worker)."""
    code = (
        "import socket, sys, time\n"
        "connection = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
        "print('connected', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(port), *argv], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "connected"
    return process


def healthcheck(pid: int, amqp_url: str) -> subprocess.CompletedProcess[str]:
    """The script as the image runs it, pointed at ``pid`` instead of PID 1."""
    code = (
        "import runpy, sys\n"
        "from pathlib import Path\n"
        "module = runpy.run_path(sys.argv[1])\n"
        "problem = module['check'](Path('/proc'), int(sys.argv[2]), {'ECG_AMQP_URL': sys.argv[3]})\n"
        "print(problem)\n"
        "sys.exit(problem is not None)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(analyzer_healthcheck_script()), str(pid), amqp_url],
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="Linux /proc only")
def test_the_analyzer_healthcheck_sees_the_workers_broker_connection(
    broker: socket.socket,
) -> None:
    port = broker.getsockname()[1]
    worker = run_holding_a_connection(port, "-m", "ecg_analyzer")
    try:
        assert healthcheck(worker.pid, f"amqp://u:p@127.0.0.1:{port}/").returncode == 0
        other_port = healthcheck(worker.pid, "amqp://u:p@rabbitmq:1/")
        assert other_port.returncode == 1
        assert "no established connection to the broker's port 1" in other_port.stdout
    finally:
        worker.kill()
        worker.wait()


@pytest.mark.skipif(not Path("/proc/self/net/tcp").exists(), reason="Linux /proc only")
def test_the_analyzer_healthcheck_wants_the_analyzer_as_the_process(
    broker: socket.socket,
) -> None:
    port = broker.getsockname()[1]
    stranger = run_holding_a_connection(port, "something-else")
    try:
        result = healthcheck(stranger.pid, f"amqp://u:p@127.0.0.1:{port}/")
        assert result.returncode == 1
        assert "is not the analyzer" in result.stdout
    finally:
        stranger.kill()
        stranger.wait()


def test_the_analyzer_healthcheck_reads_the_broker_port_and_the_tcp_tables() -> None:
    spec = importlib.util.spec_from_file_location(
        "analyzer_healthcheck", analyzer_healthcheck_script()
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.broker_port({}) == 5672
    assert module.broker_port({"AMQP_URL": "amqps://u:p@broker/"}) == 5671
    assert module.broker_port({"ECG_AMQP_URL": "amqp://u:p@rabbitmq:5673/vhost"}) == 5673
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid\n"
        "   0: 0B00007F:8A2E 0100007F:1628 01 00000000:00000000 00:00000000 00000000 10001\n"
        "   1: 0B00007F:8A2F 0100007F:1629 06 00000000:00000000 00:00000000 00000000 10001\n"
        "   2: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 10001\n"
    )
    assert module.established_remote_ports(table) == {5672}
