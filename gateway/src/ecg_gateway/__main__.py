"""``python -m ecg_gateway``: serve the REST API."""

from __future__ import annotations

import argparse
import asyncio

from ecg_gateway.app import serve
from ecg_gateway.logs import configure_logging
from ecg_gateway.settings import GatewaySettings


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m ecg_gateway",
        description="ECG gateway: REST API on aiohttp. Settings come from ECG_* variables "
        "(see the README); flags override host and port.",
    )
    parser.add_argument("--host", help="interface to bind (ECG_HOST)")
    parser.add_argument("--port", type=int, help="port to listen on (ECG_PORT)")
    args = parser.parse_args()
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    asyncio.run(serve(settings, args.host or settings.host, args.port or settings.port))


if __name__ == "__main__":
    main()
