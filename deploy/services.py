"""Find or start the real RabbitMQ and MongoDB-wire server the stack and the tests need.

Order of preference:
1. ``MONGO_URL`` / ``AMQP_URL`` set in the environment: use them as they are.
2. A reachable Docker engine: MongoDB 7 and RabbitMQ 3 containers (named, reused).
3. Local servers: Debian's ``rabbitmq-server`` (installed with apt-get when missing and
   running as root) and ``mongod`` when on PATH, else FerretDB v1.24 (built once with the
   Go toolchain when missing) on one of its backends, chosen by ``ECG_FERRETDB_BACKEND``:
   ``postgresql`` (the default: Debian's ``postgresql``, installed with apt-get when missing
   and running as root, its cluster ``main`` started when not running, with a role and a
   database ``ferretdb``) or ``sqlite`` (files under ``.services/mongo-data``).

Idempotent: a second ``up`` reuses whatever answers, except a FerretDB this script started
on the other backend, which it replaces. ``down`` stops only what ``up`` started (recorded
in ``.services/state.json``). Standard library only, so it runs before any project
dependency is installed.

``start_ferretdb`` / ``stop_ferretdb`` run a dedicated FerretDB with data of its own, for
benchmarks.

Usage: ``python deploy/services.py up|down|env``; ``env`` prints ``export`` lines
(``MONGO_URL``, ``AMQP_URL``, ``SERVICES_SOURCE``, and ``ECG_FERRETDB_BACKEND`` when a
FerretDB is used).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE_DIR = ROOT / ".services"
STATE_FILE = STATE_DIR / "state.json"
FERRETDB_VERSION = "v1.24.2"
MONGO_PORT = 27017
AMQP_PORT = 5672
DEFAULT_MONGO_URL = f"mongodb://127.0.0.1:{MONGO_PORT}/"
DEFAULT_AMQP_URL = f"amqp://guest:guest@127.0.0.1:{AMQP_PORT}/"
FERRETDB_BACKENDS = ("postgresql", "sqlite")
DEFAULT_FERRETDB_BACKEND = "postgresql"
# FerretDB keeps a ``state.json`` of its own in its state directory: not ours.
FERRETDB_STATE_DIR = STATE_DIR / "ferretdb"
POSTGRESQL_LIB = Path("/usr/lib/postgresql")
PG_HOST = "127.0.0.1"
PG_PORT = 5432
PG_CLUSTER = "main"
PG_ROLE = "ferretdb"  # also its password and the name of its database
BENCH_NAME = re.compile(r"[a-z0-9_]+")


def log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(check: object, what: str, timeout: float) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise SystemExit(f"[services] {what} not ready after {timeout:.0f} s")


def load_state() -> dict[str, object]:
    if STATE_FILE.exists():
        loaded: dict[str, object] = json.loads(STATE_FILE.read_text())
        return loaded
    return {}


def save_state(state: dict[str, object]) -> None:
    STATE_DIR.mkdir(exist_ok=True)
    STATE_FILE.write_text(json.dumps(state, indent=2))


def docker_available() -> bool:
    if not shutil.which("docker"):
        return False
    try:
        result = subprocess.run(["docker", "info"], capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, check=True, **kwargs)  # type: ignore[call-overload,no-any-return]


# --- Docker ----------------------------------------------------------------------------

DOCKER_CONTAINERS = {
    "ecg-dev-mongo": ["-p", f"127.0.0.1:{MONGO_PORT}:27017", "mongo:7"],
    "ecg-dev-rabbitmq": ["-p", f"127.0.0.1:{AMQP_PORT}:5672", "rabbitmq:3-management"],
}


def docker_up(state: dict[str, object]) -> None:
    started = list(state.get("docker", []))  # type: ignore[call-overload]
    for name, args in DOCKER_CONTAINERS.items():
        inspect = subprocess.run(
            ["docker", "inspect", "-f", "{{.State.Running}}", name],
            capture_output=True,
            check=False,
        )
        if inspect.returncode == 0 and inspect.stdout.strip() == b"true":
            log(f"reusing container {name}")
            continue
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        log(f"starting container {name}")
        run(["docker", "run", "-d", "--name", name, *args], stdout=subprocess.DEVNULL)
        started.append(name)
    state["docker"] = started
    save_state(state)
    wait_for(lambda: port_open(MONGO_PORT), "MongoDB container", 60)
    wait_for(lambda: amqp_ready_docker(), "RabbitMQ container", 90)


def amqp_ready_docker() -> bool:
    result = subprocess.run(
        ["docker", "exec", "ecg-dev-rabbitmq", "rabbitmq-diagnostics", "-q", "check_running"],
        capture_output=True,
        check=False,
    )
    return result.returncode == 0 and port_open(AMQP_PORT)


def apt_install(package: str) -> None:
    log(f"installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
    run(["apt-get", "install", "-y", "-q", package], env=env, stdout=subprocess.DEVNULL)


# --- Local RabbitMQ ----------------------------------------------------------------------


def ensure_rabbitmq(state: dict[str, object]) -> str:
    if port_open(AMQP_PORT):
        log(f"reusing the AMQP server on 127.0.0.1:{AMQP_PORT}")
        return f"the AMQP server already on 127.0.0.1:{AMQP_PORT}"
    if not shutil.which("rabbitmq-server") and not Path("/usr/sbin/rabbitmq-server").exists():
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            raise SystemExit(
                "[services] rabbitmq-server is missing: install it (apt-get install "
                "rabbitmq-server) or set AMQP_URL"
            )
        apt_install("rabbitmq-server")
    log("starting rabbitmq-server (detached)")
    env = {**os.environ, "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1"}
    run(["rabbitmq-server", "-detached"], env=env)
    wait_for(rabbitmq_started, "RabbitMQ", 120)
    wait_for(lambda: port_open(AMQP_PORT), "RabbitMQ", 60)
    state["rabbitmq"] = True
    save_state(state)
    log(f"RabbitMQ ready on 127.0.0.1:{AMQP_PORT}")
    return f"rabbitmq-server started on 127.0.0.1:{AMQP_PORT}"


def rabbitmq_started() -> bool:
    """``await_startup`` fails at once until the detached node registers with epmd."""
    result = subprocess.run(
        ["rabbitmqctl", "--timeout", "30", "await_startup"], capture_output=True, check=False
    )
    return result.returncode == 0


# --- Local MongoDB-wire server ----------------------------------------------------------


def go_bin_dir() -> Path:
    gobin = subprocess.run(["go", "env", "GOBIN"], capture_output=True, text=True, check=True)
    if gobin.stdout.strip():
        return Path(gobin.stdout.strip())
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True, check=True)
    return Path(gopath.stdout.strip().split(os.pathsep)[0]) / "bin"


def runs(binary: Path) -> bool:
    try:
        result = subprocess.run(
            [str(binary), "--version"], capture_output=True, timeout=20, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def ferretdb_binary() -> Path:
    """A working FerretDB binary, built once into ``.services/bin`` when none is found.

    A plain ``go install ...@v1.24.2`` builds a binary that panics at start-up: the module
    zip lacks the generated ``build/version/version.txt``. So the module is fetched with
    the Go toolchain, the file written, and the binary built from that copy.
    """
    local = STATE_DIR / "bin" / "ferretdb"
    on_path = shutil.which("ferretdb")
    for candidate in (local, Path(on_path) if on_path else None):
        if candidate is not None and candidate.exists() and runs(candidate):
            return candidate
    if not shutil.which("go"):
        raise SystemExit("[services] neither mongod, ferretdb nor go found: set MONGO_URL")
    log(f"building FerretDB {FERRETDB_VERSION} with the Go toolchain (takes minutes once)")
    module = f"github.com/FerretDB/FerretDB@{FERRETDB_VERSION}"
    download = subprocess.run(
        ["go", "mod", "download", "-json", module], capture_output=True, text=True, check=True
    )
    source = STATE_DIR / "ferretdb-src"
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(json.loads(download.stdout)["Dir"], source)
    for path in [source, *source.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o200)
    (source / "build" / "version" / "version.txt").write_text(FERRETDB_VERSION + "\n")
    local.parent.mkdir(parents=True, exist_ok=True)
    run(["go", "build", "-o", str(local), "./cmd/ferretdb"], cwd=source)
    shutil.rmtree(source, ignore_errors=True)
    return local


def ferretdb_backend() -> str:
    """The FerretDB backend ``ECG_FERRETDB_BACKEND`` asks for (unset or empty: the default)."""
    backend = os.environ.get("ECG_FERRETDB_BACKEND") or DEFAULT_FERRETDB_BACKEND
    check_backend(backend)
    return backend


def check_backend(backend: str) -> None:
    if backend not in FERRETDB_BACKENDS:
        raise SystemExit(
            f"[services] unknown FerretDB backend {backend!r} (ECG_FERRETDB_BACKEND): "
            f"use one of {', '.join(FERRETDB_BACKENDS)}"
        )


def postgresql_url(database: str) -> str:
    return f"postgres://{PG_ROLE}:{PG_ROLE}@{PG_HOST}:{PG_PORT}/{database}"


def ferretdb_command(
    binary: Path, backend: str, port: int, storage: str, state_dir: Path
) -> list[str]:
    """``storage``: the SQLite directory, or the PostgreSQL database."""
    check_backend(backend)
    if backend == "sqlite":
        handler = ["--handler=sqlite", f"--sqlite-url=file:{storage}/"]
    else:
        handler = ["--handler=postgresql", f"--postgresql-url={postgresql_url(storage)}"]
    return [
        str(binary),
        *handler,
        f"--listen-addr=127.0.0.1:{port}",
        "--debug-addr=127.0.0.1:0",
        f"--state-dir={state_dir}",
        "--telemetry=disable",
        "--log-level=warn",
    ]


def await_listening(process: subprocess.Popen[bytes], port: int, what: str, log_path: Path) -> None:
    """Until ``port`` answers; fails at once when the process exits."""

    def listening() -> bool:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace")[-2000:] if log_path.exists() else ""
            raise SystemExit(
                f"[services] {what} exited with code {process.returncode} ({log_path}):\n{tail}"
            )
        return port_open(port)

    wait_for(listening, what, 60)


# --- Local PostgreSQL (for FerretDB) ------------------------------------------------------


def postgresql_version() -> str | None:
    """The highest major version of the PostgreSQL server installed the Debian way."""
    versions = [path.parent.parent.name for path in POSTGRESQL_LIB.glob("*/bin/postgres")]

    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))

    return max(versions, key=key) if versions else None


def install_postgresql() -> str:
    """The installed PostgreSQL major version; Debian's ``postgresql`` installed if needed."""
    version = postgresql_version()
    if version is not None:
        return version
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise SystemExit(
            "[services] the PostgreSQL server is missing: install it (apt-get install "
            "postgresql), or set ECG_FERRETDB_BACKEND=sqlite, or set MONGO_URL"
        )
    apt_install("postgresql")
    version = postgresql_version()
    if version is None:
        raise SystemExit(f"[services] postgresql installed but no server in {POSTGRESQL_LIB}")
    return version


def pg_tool(tool: str) -> str:
    """The installed server's own client tool, else the one on PATH."""
    version = postgresql_version()
    if version is not None and (POSTGRESQL_LIB / version / "bin" / tool).exists():
        return str(POSTGRESQL_LIB / version / "bin" / tool)
    return tool


def pg_cluster(version: str) -> tuple[int, str] | None:
    """Port and status (``online``, ``down``) of the Debian cluster; None when it is absent."""
    try:
        result = subprocess.run(
            ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0] == version and fields[1] == PG_CLUSTER:
            return int(fields[2]), fields[3]
    return None


def pg_ready() -> bool:
    try:
        result = subprocess.run(
            [pg_tool("pg_isready"), "-q", "-h", PG_HOST, "-p", str(PG_PORT)],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return port_open(PG_PORT, PG_HOST)
    return result.returncode == 0


def admin_psql(sql: str) -> None:
    """Run ``sql`` with psql as the ``postgres`` OS user (peer authentication)."""
    cmd = [pg_tool("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-f", "-"]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    try:
        result = subprocess.run(
            cmd, input=sql, capture_output=True, text=True, cwd="/", timeout=120, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SystemExit(f"[services] psql as the postgres user failed: {error}") from error
    if result.returncode != 0:
        raise SystemExit(
            "[services] psql as the postgres user failed (run as root or as postgres): "
            + result.stderr.strip()
        )


def ensure_postgresql(state: dict[str, object]) -> None:
    """PostgreSQL on 127.0.0.1:5432 with the login role and the database ``ferretdb``.

    Reuses what answers on the port; else starts the Debian cluster ``main`` (created, and
    the server installed, when missing) and records that in ``state`` for ``down``.
    """
    if port_open(PG_PORT, PG_HOST):
        log(f"reusing the PostgreSQL server on {PG_HOST}:{PG_PORT}")
    else:
        # A fresh installation may start the cluster itself: started here too.
        started = postgresql_version() is None
        version = install_postgresql()
        cluster = pg_cluster(version)
        if cluster is None:
            log(f"creating the PostgreSQL {version} cluster {PG_CLUSTER}")
            run(
                ["pg_createcluster", "-p", str(PG_PORT), version, PG_CLUSTER],
                stdout=subprocess.DEVNULL,
            )
            cluster = pg_cluster(version) or (PG_PORT, "down")
        port, status = cluster
        if port != PG_PORT:
            raise SystemExit(
                f"[services] the PostgreSQL {version} cluster {PG_CLUSTER} uses port {port}, "
                f"not {PG_PORT}: change it, or set ECG_FERRETDB_BACKEND=sqlite or MONGO_URL"
            )
        if not status.startswith("online"):
            log(f"starting the PostgreSQL {version} cluster {PG_CLUSTER}")
            run(
                [
                    "pg_ctlcluster",
                    "--skip-systemctl-redirect",
                    version,
                    PG_CLUSTER,
                    "start",
                ]
            )
            started = True
        if started:
            state["postgresql"] = version
            save_state(state)
        wait_for(pg_ready, "PostgreSQL", 60)
        log(f"PostgreSQL {version} ready on {PG_HOST}:{PG_PORT}")
    admin_psql(
        f"""
SELECT 'CREATE ROLE {PG_ROLE}'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{PG_ROLE}')
\\gexec
ALTER ROLE {PG_ROLE} LOGIN PASSWORD '{PG_ROLE}';
SELECT 'CREATE DATABASE {PG_ROLE} OWNER {PG_ROLE}'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '{PG_ROLE}')
\\gexec
ALTER DATABASE {PG_ROLE} OWNER TO {PG_ROLE};
"""
    )
    # FerretDB listens even when it cannot log in, and fails only on the first command.
    login = subprocess.run(
        [pg_tool("psql"), "-X", "-q", "-c", "SELECT 1", postgresql_url(PG_ROLE)],
        capture_output=True,
        text=True,
        env={**os.environ, "PGCONNECT_TIMEOUT": "10"},
        check=False,
    )
    if login.returncode != 0:
        raise SystemExit(
            f"[services] PostgreSQL refuses the login of {PG_ROLE} over TCP "
            f"(check pg_hba.conf): {login.stderr.strip()}"
        )


def stop_postgresql(version: str) -> None:
    log(f"stopping the PostgreSQL {version} cluster {PG_CLUSTER}")
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, PG_CLUSTER, "stop"],
        capture_output=True,
        check=False,
    )


# --- The MongoDB-wire server of ``up`` ----------------------------------------------------


def is_ferretdb_process(pid: int) -> bool:
    try:
        return b"ferretdb" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def started_ferretdb_backend(state: dict[str, object]) -> str | None:
    """The backend of the FerretDB an earlier ``up`` started and which still runs, if any."""
    pid, backend = state.get("mongo_pid"), state.get("mongo_backend")
    if state.get("mongo_kind") != "ferretdb" or backend not in FERRETDB_BACKENDS:
        return None
    if not isinstance(pid, int) or not is_ferretdb_process(pid):
        return None
    return str(backend)


def stop_started_ferretdb(state: dict[str, object], backend: str) -> None:
    pid = state["mongo_pid"]
    assert isinstance(pid, int)
    log(f"stopping ferretdb ({backend} backend, pid {pid}) that an earlier run started")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not port_open(MONGO_PORT), f"stopping ferretdb (pid {pid})", 30)
    for key in ("mongo_pid", "mongo_kind", "mongo_backend"):
        state.pop(key, None)
    save_state(state)


def ensure_mongo(state: dict[str, object]) -> str:
    return start_mongo(state)[0]


def start_mongo(state: dict[str, object]) -> tuple[str, str | None]:
    """A description of the MongoDB-wire server, and the FerretDB backend when known."""
    mongod = shutil.which("mongod")
    backend = None if mongod else ferretdb_backend()
    if port_open(MONGO_PORT):
        running = started_ferretdb_backend(state)
        if backend is None or running is None:
            log(f"reusing the MongoDB-wire server on 127.0.0.1:{MONGO_PORT}")
            return f"the MongoDB-wire server already on 127.0.0.1:{MONGO_PORT}", running
        if running == backend:
            log(f"reusing ferretdb ({backend} backend) on 127.0.0.1:{MONGO_PORT}")
            return f"ferretdb ({backend} backend) already on 127.0.0.1:{MONGO_PORT}", backend
        stop_started_ferretdb(state, running)
    log_path = STATE_DIR / "mongo.log"
    STATE_DIR.mkdir(exist_ok=True)
    if mongod:
        data_dir = STATE_DIR / "mongo-data"
        data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [mongod, "--bind_ip", "127.0.0.1", "--port", str(MONGO_PORT)]
        cmd += ["--dbpath", str(data_dir)]
        kind, label, where = "mongod", "mongod", f"data in {data_dir}"
    else:
        assert backend is not None
        binary = ferretdb_binary()
        if backend == "postgresql":
            ensure_postgresql(state)
            storage, where = PG_ROLE, f"data in PostgreSQL database {PG_ROLE}"
        else:
            data_dir = STATE_DIR / "mongo-data"
            data_dir.mkdir(parents=True, exist_ok=True)
            storage, where = str(data_dir), f"data in {data_dir}"
        FERRETDB_STATE_DIR.mkdir(parents=True, exist_ok=True)
        cmd = ferretdb_command(binary, backend, MONGO_PORT, storage, FERRETDB_STATE_DIR)
        kind, label = "ferretdb", f"ferretdb ({backend} backend)"
    log(f"starting {label}")
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(cmd, stdout=log_file, stderr=log_file, start_new_session=True)
    state["mongo_pid"] = process.pid
    state["mongo_kind"] = kind
    if backend is None:
        state.pop("mongo_backend", None)
    else:
        state["mongo_backend"] = backend
    save_state(state)
    await_listening(process, MONGO_PORT, label, log_path)
    log(f"{label} ready on 127.0.0.1:{MONGO_PORT} (pid {process.pid}, {where})")
    return f"{label} started on 127.0.0.1:{MONGO_PORT}", backend


# --- Dedicated FerretDB instances (benchmarks) --------------------------------------------


def bench_dir(name: str) -> Path:
    if not BENCH_NAME.fullmatch(name) or len(name) > 50:
        raise SystemExit(f"[services] bad FerretDB instance name {name!r}: [a-z0-9_]+ wanted")
    return STATE_DIR / f"bench-{name}"


def start_ferretdb(backend: str, port: int, name: str) -> tuple[str, subprocess.Popen[bytes]]:
    """A FerretDB of its own on 127.0.0.1:``port``, with fresh data, and its mongodb URL.

    SQLite: data in ``.services/bench-<name>/``; PostgreSQL: the cluster as for ``up`` and a
    fresh database ``ferretdb_<name>`` owned by the role ``ferretdb``. Stop it with
    ``stop_ferretdb``, which drops that data.
    """
    check_backend(backend)
    directory = bench_dir(name)
    if port_open(port):
        raise SystemExit(f"[services] port {port} is in use: cannot start FerretDB there")
    binary = ferretdb_binary()
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    if backend == "postgresql":
        ensure_postgresql(load_state())
        database = f"ferretdb_{name}"
        admin_psql(
            f"DROP DATABASE IF EXISTS {database} WITH (FORCE);\n"
            f"CREATE DATABASE {database} OWNER {PG_ROLE};\n"
        )
        storage = database
    else:
        storage = str(directory)
    log_path = directory / "ferretdb.log"
    cmd = ferretdb_command(binary, backend, port, storage, directory)
    log(f"starting ferretdb ({backend} backend) {name!r} on 127.0.0.1:{port}")
    with log_path.open("ab") as log_file:
        process = subprocess.Popen(cmd, stdout=log_file, stderr=log_file)
    try:
        await_listening(process, port, f"ferretdb {name!r}", log_path)
    except BaseException:
        stop_ferretdb(process, backend, name)
        raise
    return f"mongodb://127.0.0.1:{port}/", process


def stop_ferretdb(process: subprocess.Popen[bytes], backend: str, name: str) -> None:
    """Stop a FerretDB of ``start_ferretdb`` and drop its data."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    directory = bench_dir(name)
    if backend == "postgresql":
        try:
            admin_psql(f"DROP DATABASE IF EXISTS ferretdb_{name} WITH (FORCE);")
        except SystemExit as error:  # a clean-up: say so, but do not hide an earlier error
            log(f"could not drop the database ferretdb_{name}: {error}")
    shutil.rmtree(directory, ignore_errors=True)


# --- Commands ----------------------------------------------------------------------------


def urls() -> tuple[str, str]:
    return (
        os.environ.get("MONGO_URL") or DEFAULT_MONGO_URL,
        os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL,
    )


def up() -> tuple[str, str, str]:
    """The MongoDB and AMQP URLs, and a description of where they come from."""
    mongo_url, amqp_url, source, _ = start_services()
    return mongo_url, amqp_url, source


def start_services() -> tuple[str, str, str, str | None]:
    """As ``up``, and the backend of the FerretDB used, when one is and it is known."""
    state = load_state()
    if os.environ.get("MONGO_URL") and os.environ.get("AMQP_URL"):
        log("using MONGO_URL and AMQP_URL from the environment")
        return (*urls(), "MONGO_URL and AMQP_URL from the environment", None)
    if docker_available():
        log("Docker engine reachable: using containers")
        docker_up(state)
        return (*urls(), "Docker containers mongo:7 and rabbitmq:3-management", None)
    log("no Docker engine: using local servers")
    parts = []
    backend = None
    if not os.environ.get("AMQP_URL"):
        parts.append(ensure_rabbitmq(state))
    if not os.environ.get("MONGO_URL"):
        mongo, backend = start_mongo(state)
        parts.append(mongo)
    return (*urls(), "local servers: " + ", ".join(parts), backend)


def down() -> None:
    state = load_state()
    for name in state.get("docker", []):  # type: ignore[attr-defined]
        log(f"removing container {name}")
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    pid = state.get("mongo_pid")
    if isinstance(pid, int):
        log(f"stopping {state.get('mongo_kind')} (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    postgresql = state.get("postgresql")
    if isinstance(postgresql, str):
        if isinstance(pid, int):  # let FerretDB close its connections first
            with contextlib.suppress(SystemExit):
                wait_for(lambda: not port_open(MONGO_PORT), "stopping the MongoDB-wire server", 15)
        stop_postgresql(postgresql)
    if state.get("rabbitmq"):
        log("stopping rabbitmq-server")
        subprocess.run(["rabbitmqctl", "stop"], capture_output=True, check=False)
    STATE_FILE.unlink(missing_ok=True)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "up"
    if command == "up":
        mongo_url, amqp_url, _ = up()
        log(f"MONGO_URL={mongo_url}")
        log(f"AMQP_URL={amqp_url}")
    elif command == "env":
        mongo_url, amqp_url, source, backend = start_services()
        print(f"export MONGO_URL={mongo_url}\nexport AMQP_URL={amqp_url}")
        print(f"export SERVICES_SOURCE={shlex.quote(source)}")
        if backend is not None:
            print(f"export ECG_FERRETDB_BACKEND={backend}")
    elif command == "down":
        down()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
