"""Docker HEALTHCHECK of the analyzer image (standard library only, no process list tools).

Healthy when PID 1 is ``python -m ecg_analyzer`` and its network namespace holds an established
TCP connection to the broker's port (from ``ECG_AMQP_URL``, else ``AMQP_URL``, else 5672). So the
container turns unhealthy while the worker is disconnected (a broker outage, a wrong URL), not
only when it is gone. Exit 0 healthy, 1 unhealthy (with the reason on stdout, which
``docker inspect`` shows).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

ESTABLISHED = "01"
DEFAULT_PORTS = {"amqp": 5672, "amqps": 5671}


def broker_port(environ: dict[str, str]) -> int:
    url = environ.get("ECG_AMQP_URL") or environ.get("AMQP_URL") or "amqp://127.0.0.1:5672/"
    parts = urlsplit(url)
    return parts.port or DEFAULT_PORTS.get(parts.scheme, 5672)


def established_remote_ports(table: str) -> set[int]:
    """Remote ports of the ESTABLISHED sockets in a ``/proc/<pid>/net/tcp{,6}`` table."""
    ports: set[int] = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) > 3 and fields[3] == ESTABLISHED:
            ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def check(proc: Path, pid: int, environ: dict[str, str]) -> str | None:
    """None when healthy, else the reason."""
    try:
        argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
    except OSError as error:
        return f"cannot read the command line of PID {pid}: {error}"
    if b"ecg_analyzer" not in argv:
        return f"PID {pid} is not the analyzer: {b' '.join(argv).decode(errors='replace')}"
    port = broker_port(environ)
    connected: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            connected |= established_remote_ports((proc / str(pid) / "net" / name).read_text())
        except OSError:
            continue
    if port not in connected:
        return f"no established connection to the broker's port {port}"
    return None


def main() -> int:
    problem = check(Path("/proc"), 1, dict(os.environ))
    if problem is not None:
        print(f"unhealthy: {problem}")
        return 1
    print("healthy: the analyzer is connected to the broker")
    return 0


if __name__ == "__main__":
    sys.exit(main())
