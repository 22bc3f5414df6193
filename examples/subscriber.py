"""A subscriber of the ECG service's results, as an alerting or records system would write one.

It binds a durable queue of its own to ``ecg.analyzed.#`` and ``ecg.analysis_failed.#`` on
the ``ecg.events`` exchange, acks each event after handling it, skips an ECG it has already
handled (delivery is at least once), and prints one line per event:

    analyzed visit-42 heart_rate=74.4 bpm flags=rhythm_irregular
    failed   visit-43 reason=analysis failed after 4 attempts: ...

Run it beside the stack (``AMQP_URL`` defaults to the local broker)::

    uv run python examples/subscriber.py [--queue my-alerts] [--exchange ecg.events]

It needs aio-pika only; the event's fields are those of ``contracts/asyncapi.yaml``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from typing import Any

import aio_pika

FLAGS = ("bradycardia", "tachycardia")


def describe(event: dict[str, Any]) -> str:
    ecg_id = event["ecg_id"]
    if event["type"].startswith("ecg.analysis_failed."):
        return f"failed   {ecg_id} reason={' '.join(event['reason'].split())}"
    insights = event["insights"]
    rate = insights.get("heart_rate_bpm")
    flags = [flag for flag in FLAGS if insights.get(flag)]
    if insights.get("rhythm_regular") is False:
        flags.append("rhythm_irregular")
    for lead in insights.get("leads", []):
        flags += [f"{lead['name']}:{k}" for k in ("flat_line", "clipping") if lead.get(k)]
    shown_rate = "unknown" if rate is None else f"{rate:.1f} bpm"
    return f"analyzed {ecg_id} heart_rate={shown_rate} flags={','.join(flags) or 'none'}"


async def subscribe(url: str, exchange_name: str, queue_name: str, stop: asyncio.Event) -> None:
    connection = await aio_pika.connect_robust(
        url, client_properties={"connection_name": queue_name}
    )
    seen: set[str] = set()
    async with connection:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=16)
        exchange = await channel.declare_exchange(
            exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )
        queue = await channel.declare_queue(
            queue_name, durable=True, arguments={"x-queue-type": "quorum"}
        )
        for pattern in ("ecg.analyzed.#", "ecg.analysis_failed.#"):
            await queue.bind(exchange, routing_key=pattern)

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            async with message.process(requeue=False):
                event = json.loads(message.body)
                if event["ecg_id"] in seen:
                    return
                seen.add(event["ecg_id"])
                print(describe(event), flush=True)

        await queue.consume(on_message)
        print(f"listening on {queue_name}", flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--url", default=os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    )
    parser.add_argument("--exchange", default="ecg.events")
    parser.add_argument("--queue", default="ecg.example.subscriber")
    args = parser.parse_args()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await subscribe(args.url, args.exchange, args.queue, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
