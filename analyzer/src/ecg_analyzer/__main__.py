"""``python -m ecg_analyzer``: consume ``ecg.submitted`` events until SIGTERM or Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from ecg_amqp.connection import FatalBrokerError
from ecg_contracts.logs import configure_logging
from pydantic import ValidationError

from ecg_analyzer.settings import AnalyzerSettings
from ecg_analyzer.worker.consumer import Worker


async def serve(settings: AnalyzerSettings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Worker(settings).run(stop)
    except FatalBrokerError as error:
        sys.exit(f"ecg_analyzer: refusing to run: {error}")


def main() -> None:
    argparse.ArgumentParser(
        prog="python -m ecg_analyzer",
        description="ECG analyzer: consumes ecg.submitted events from RabbitMQ and publishes "
        "ecg.analyzed / ecg.analysis_failed. Settings come from ECG_* variables (see the README).",
    ).parse_args()
    try:
        settings = AnalyzerSettings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, item['loc']))}: {item['msg']}" for item in error.errors()
        )
        sys.exit(f"ecg_analyzer: refusing to start: {problems}")
    configure_logging(settings.log_level)
    asyncio.run(serve(settings))


if __name__ == "__main__":
    main()
