"""AMQP topology shared by every consumer: plain names and arguments, no client library.

Each consumer owns a durable queue whose rejected messages go, through the dead-letter
exchange ``<exchange>.dead``, to ``<queue>.dead`` for inspection.
"""

from __future__ import annotations


def dead_letter_exchange(exchange: str) -> str:
    return f"{exchange}.dead"


def dead_letter_queue(queue: str) -> str:
    return f"{queue}.dead"


def queue_arguments(exchange: str, queue: str) -> dict[str, str]:
    return {
        "x-dead-letter-exchange": dead_letter_exchange(exchange),
        "x-dead-letter-routing-key": queue,
    }
