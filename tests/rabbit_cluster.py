"""A three-node RabbitMQ cluster on one machine, from Debian's ``rabbitmq-server``: distinct
node names, ports and data directories, one Erlang cookie, joined with ``rabbitmqctl
join_cluster``. Used by the failover test; each node can be SIGKILLed and restarted."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.ports import free_port

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
START_TIMEOUT_S = 90


def available() -> str | None:
    """Why a cluster cannot be started here, or None when it can."""
    if not (RABBITMQ_BIN / "rabbitmq-server").exists():
        return "Debian's rabbitmq-server is not installed"
    if os.geteuid() != 0:
        return "starting RabbitMQ nodes needs root (their Erlang runs as the caller)"
    return None


@dataclass
class Node:
    name: str
    amqp_port: int
    dist_port: int
    base: Path
    home: Path
    process: subprocess.Popen[bytes] | None = None
    os_pid: int | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.base / "log"),
            "RABBITMQ_PID_FILE": str(self.base / "pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.base / "rabbitmq"),
        }

    def ctl(self, *args: str, check: bool = True, timeout_s: float = 120) -> str:
        done = subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.name, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: {done.stderr}")
        return done.stdout

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        log = (self.base / "server.out").open("ab")
        self.process = subprocess.Popen(
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.base / "pid").exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{self.name} did not start: {self.tail()}")
            time.sleep(0.2)
        self.ctl("wait", str(self.base / "pid"), "--timeout", str(START_TIMEOUT_S))
        self.os_pid = int(self.ctl("eval", "os:getpid().").strip().strip('"'))

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM: no goodbye to its peers or clients."""
        assert self.os_pid is not None, f"{self.name} is not running"
        os.kill(self.os_pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)
        (self.base / "pid").unlink(missing_ok=True)
        self.os_pid = None

    def stop(self) -> None:
        if self.os_pid is not None:
            self.ctl("stop", check=False, timeout_s=60)
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.os_pid = None

    def tail(self) -> str:
        out = self.base / "server.out"
        return out.read_text(errors="replace")[-2000:] if out.exists() else ""


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    @property
    def amqp_urls(self) -> str:
        return ",".join(node.url for node in self.nodes)

    def node_on_port(self, port: int) -> Node:
        return next(node for node in self.nodes if node.amqp_port == port)

    def running(self) -> list[Node]:
        return [node for node in self.nodes if node.os_pid is not None]

    def queue_leader(self, queue: str) -> Node:
        """The node that leads a quorum queue."""
        lines = self.running()[0].ctl("list_queues", "name", "leader", "--quiet")
        for line in lines.splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[0] == queue:
                return next(node for node in self.nodes if parts[1].startswith(f"{node.name}@"))
        raise AssertionError(f"no leader listed for {queue}: {lines}")

    def connection_node(self, connection_name: str) -> Node:
        """The node a client connection (by its ``connection_name``) is on."""
        lines = self.running()[0].ctl("list_connections", "name", "client_properties", "--quiet")
        for line in lines.splitlines():
            if f'"{connection_name}"' in line or f'<<"{connection_name}">>' in line:
                match = re.search(r"-> 127\.0\.0\.1:(\d+)", line)
                if match:
                    return self.node_on_port(int(match.group(1)))
        raise AssertionError(f"no connection named {connection_name}: {lines}")

    def queue_depths(self) -> dict[str, int]:
        lines = self.running()[0].ctl("list_queues", "name", "messages", "--quiet")
        depths = {}
        for line in lines.splitlines():
            parts = line.split("\t")
            if len(parts) == 2 and parts[1].isdigit():
                depths[parts[0]] = int(parts[1])
        return depths

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def start_cluster(base: Path, unique: str, size: int = 3) -> Cluster:
    home = base / "home"
    home.mkdir(parents=True)
    cookie = home / ".erlang.cookie"
    cookie.write_text(secrets.token_hex(20))
    cookie.chmod(0o400)
    (home / "enabled_plugins").write_text("[].\n")
    cluster = Cluster()
    for index in range(1, size + 1):
        node = Node(f"ecg{index}-{unique}", free_port(), free_port(), base / f"n{index}", home)
        cluster.nodes.append(node)
    try:
        for node in cluster.nodes:
            node.start()
        first = cluster.nodes[0]
        for node in cluster.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", f"{first.name}@{socket.gethostname().split('.')[0]}")
            node.ctl("start_app")
        first.ctl("await_online_nodes", str(size))
    except BaseException:
        cluster.stop()
        shutil.rmtree(base, ignore_errors=True)
        raise
    return cluster
