"""``python -m tests.e2e.crashing_gateway``: the real gateway with a test-only fault.

It dies (SIGKILL) where it would publish an accepted ECG, so the only trace of that ECG
is what the database holds: the crash the outbox must survive.
"""

from __future__ import annotations

import asyncio
import os
import signal

from ecg_contracts.events import EcgSubmitted
from ecg_gateway.__main__ import main
from ecg_gateway.messaging.amqp import AmqpEventPublisher


async def die_instead_of_publishing(self: AmqpEventPublisher, event: EcgSubmitted) -> None:
    await asyncio.sleep(0.5)  # let the 202 reach the client first
    os.kill(os.getpid(), signal.SIGKILL)


if __name__ == "__main__":
    AmqpEventPublisher.publish_submitted = die_instead_of_publishing  # type: ignore[method-assign]
    main()
