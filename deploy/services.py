"""Find or start the real RabbitMQ and MongoDB-wire server the stack and the tests need.

Order of preference:
1. ``MONGO_URL`` / ``AMQP_URL`` set in the environment: use them as they are.
2. A reachable Docker engine: MongoDB 7 and RabbitMQ 3 containers (named, reused).
3. Local servers: Debian's ``rabbitmq-server`` (installed with apt-get when missing and
   running as root) and ``mongod`` when on PATH, else FerretDB v1.24 with its SQLite
   backend (installed with ``go install`` when missing).

Idempotent: a second ``up`` reuses whatever answers. ``down`` stops only what ``up``
started (recorded under ``.services/``). Standard library only, so it runs before any
project dependency is installed.

Usage: ``python deploy/services.py up|down|env``; ``env`` prints ``export`` lines.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import shutil
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
        log("installing rabbitmq-server with apt-get")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run(["apt-get", "update", "-q"], env=env, stdout=subprocess.DEVNULL)
        run(
            ["apt-get", "install", "-y", "-q", "rabbitmq-server"],
            env=env,
            stdout=subprocess.DEVNULL,
        )
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


def ensure_mongo(state: dict[str, object]) -> str:
    if port_open(MONGO_PORT):
        log(f"reusing the MongoDB-wire server on 127.0.0.1:{MONGO_PORT}")
        return f"the MongoDB-wire server already on 127.0.0.1:{MONGO_PORT}"
    data_dir = STATE_DIR / "mongo-data"
    data_dir.mkdir(parents=True, exist_ok=True)
    log_file = (STATE_DIR / "mongo.log").open("ab")
    mongod = shutil.which("mongod")
    if mongod:
        cmd = [
            mongod,
            "--bind_ip",
            "127.0.0.1",
            "--port",
            str(MONGO_PORT),
            "--dbpath",
            str(data_dir),
        ]
        kind = "mongod"
    else:
        cmd = [
            str(ferretdb_binary()),
            "--handler=sqlite",
            f"--sqlite-url=file:{data_dir}/",
            f"--listen-addr=127.0.0.1:{MONGO_PORT}",
            "--debug-addr=127.0.0.1:0",
            f"--state-dir={STATE_DIR}",
            "--telemetry=disable",
            "--log-level=warn",
        ]
        kind = "ferretdb"
    log(f"starting {kind}")
    process = subprocess.Popen(cmd, stdout=log_file, stderr=log_file, start_new_session=True)
    state["mongo_pid"] = process.pid
    state["mongo_kind"] = kind
    save_state(state)
    wait_for(lambda: port_open(MONGO_PORT), kind, 60)
    log(f"{kind} ready on 127.0.0.1:{MONGO_PORT} (pid {process.pid}, data in {data_dir})")
    return f"{kind} started on 127.0.0.1:{MONGO_PORT}"


# --- Commands ----------------------------------------------------------------------------


def urls() -> tuple[str, str]:
    return (
        os.environ.get("MONGO_URL") or DEFAULT_MONGO_URL,
        os.environ.get("AMQP_URL") or DEFAULT_AMQP_URL,
    )


def up() -> tuple[str, str, str]:
    """The MongoDB and AMQP URLs, and a description of where they come from."""
    state = load_state()
    if os.environ.get("MONGO_URL") and os.environ.get("AMQP_URL"):
        log("using MONGO_URL and AMQP_URL from the environment")
        return (*urls(), "MONGO_URL and AMQP_URL from the environment")
    if docker_available():
        log("Docker engine reachable: using containers")
        docker_up(state)
        return (*urls(), "Docker containers mongo:7 and rabbitmq:3-management")
    log("no Docker engine: using local servers")
    parts = []
    if not os.environ.get("AMQP_URL"):
        parts.append(ensure_rabbitmq(state))
    if not os.environ.get("MONGO_URL"):
        parts.append(ensure_mongo(state))
    return (*urls(), "local servers: " + ", ".join(parts))


def down() -> None:
    state = load_state()
    for name in state.get("docker", []):  # type: ignore[attr-defined]
        log(f"removing container {name}")
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
    pid = state.get("mongo_pid")
    if isinstance(pid, int):
        log(f"stopping {state.get('mongo_kind')} (pid {pid})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
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
        mongo_url, amqp_url, source = up()
        print(f"export MONGO_URL={mongo_url}\nexport AMQP_URL={amqp_url}")
        print(f"export SERVICES_SOURCE={shlex.quote(source)}")
    elif command == "down":
        down()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
