"""``python -m ecg_gateway``: serve the REST API."""

from __future__ import annotations

import argparse
import asyncio
import sys

from ecg_contracts.logs import configure_logging
from pydantic import ValidationError

from ecg_gateway.app import serve
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
    try:
        settings = GatewaySettings()
    except ValidationError as error:
        problems = "; ".join(
            str(item["msg"]).removeprefix("Value error, ") for item in error.errors()
        )
        sys.exit(f"ecg_gateway: refusing to start: {problems}")
    configure_logging(settings.log_level)
    asyncio.run(serve(settings, args.host or settings.host, args.port or settings.port))


if __name__ == "__main__":
    main()
