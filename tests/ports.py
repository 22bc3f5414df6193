"""A TCP port nothing listens on (free when asked; a test may bind it, or use it as the
address of a server that is not there)."""

from __future__ import annotations

import socket


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
