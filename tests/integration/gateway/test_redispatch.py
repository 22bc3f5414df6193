from __future__ import annotations

from collections.abc import Awaitable, Callable

import aio_pika
import pytest
from ecg_contracts.events import EcgSubmitted

from tests.integration.gateway.conftest import GatewayFactory

pytestmark = pytest.mark.integration
Observer = Callable[[float], Awaitable[aio_pika.abc.AbstractIncomingMessage]]


async def test_a_lost_analysis_is_dispatched_again_then_failed_with_a_reason(
    make_gateway: GatewayFactory, observer: Observer
) -> None:
    gateway = await make_gateway(dispatch_timeout_s=1.0, max_dispatch_attempts=2)
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", json={"id": "lost", "leads": [{"name": "I", "signal": [1, -1]}]}, headers=user
    )
    assert response.status == 202

    first = EcgSubmitted.model_validate_json((await observer(10)).body)
    second = EcgSubmitted.model_validate_json((await observer(10)).body)
    assert (first.ecg_id, first.attempt) == ("lost", 1)
    assert (second.ecg_id, second.attempt) == ("lost", 2)
    assert first.event_id != second.event_id

    result = await gateway.wait_for_status(user, "lost", timeout_s=15)
    assert result["status"] == "failed"
    assert "no analysis result after 2 dispatches" in result["error"]
    with pytest.raises(AssertionError, match="no ecg"):
        await observer(2)
    metrics = await (await gateway.client.get("/metrics")).text()
    assert "ecg_outbox_backlog 0.0" in metrics
