"""No accepted ECG is lost: a broker outage and a gateway crash before the publish."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.conftest import Api, Stack
from tests.services import ServiceUrls, broker_control_command

pytestmark = pytest.mark.e2e


@pytest.fixture
def broker_ctl(services: ServiceUrls) -> Iterator[list[str]]:
    command = broker_control_command(services)
    if command is None:
        pytest.skip("the broker of AMQP_URL cannot be stopped from here (not local)")
    yield command
    subprocess.run([*command, "start_app"], capture_output=True, check=False)
    subprocess.run([*command, "await_startup"], capture_output=True, check=False)


def test_ecgs_accepted_while_rabbitmq_is_down_are_all_analyzed(
    stack: Stack, broker_ctl: list[str], unique: str
) -> None:
    stack.start_gateway()
    stack.start("analyzer", "ecg_analyzer")
    api = Api(stack.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"alice-{unique}", "alice-password")
    alice = api.token(f"alice-{unique}", "alice-password")

    subprocess.run([*broker_ctl, "stop_app"], check=True, capture_output=True)
    ids = []
    for index in range(5):
        body = {"id": f"outage-{index}", "leads": [{"name": "I", "signal": [index, -1, 1, -1]}]}
        response = api.http.post("/ecg/", json=body, headers=alice)
        assert response.status_code == 202, response.text
        ids.append(response.json()["id"])
    time.sleep(2)
    for ecg_id in ids:
        assert api.http.get(f"/ecg/{ecg_id}/insights", headers=alice).json()["status"] == "pending"
    subprocess.run([*broker_ctl, "start_app"], check=True, capture_output=True)

    for ecg_id in ids:
        try:
            result = api.wait_done(alice, ecg_id, timeout_s=60)
        except AssertionError:
            queues = subprocess.run(
                [
                    *broker_ctl,
                    "list_queues",
                    "name",
                    "messages_ready",
                    "messages_unacknowledged",
                    "consumers",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            print(queues.stdout, stack.log("gateway"), stack.log("analyzer"))
            raise
        assert result["status"] == "done"
    zero_crossings = [
        api.http.get(f"/ecg/{ecg_id}/insights", headers=alice).json()["insights"]["leads"][0][
            "zero_crossings"
        ]
        for ecg_id in ids
    ]
    assert zero_crossings == [2, 3, 3, 3, 3]


def test_a_gateway_killed_between_the_write_and_the_publish_still_gets_it_analyzed(
    stack: Stack, unique: str
) -> None:
    # The ECG is stored due again after the dispatch timeout: 3 s here, 300 s by default.
    redispatch = {"ECG_DISPATCH_TIMEOUT_S": "3", "ECG_MAX_DISPATCH_ATTEMPTS": "10"}
    crashing = stack.start_gateway("crashing-gateway", "tests.e2e.crashing_gateway", **redispatch)
    api = Api(stack.base_url)
    admin = api.token("admin", "adminpass")
    api.create_user(admin, f"alice-{unique}", "alice-password")
    alice = api.token(f"alice-{unique}", "alice-password")
    response = api.http.post(
        "/ecg/",
        json={"id": "survivor", "leads": [{"name": "I", "signal": [5, -5, 5]}]},
        headers=alice,
    )
    assert response.status_code == 202
    assert crashing.wait(timeout=10) == -9, "the fault hook should SIGKILL the gateway"
    with pytest.raises(httpx.HTTPError):
        api.http.get("/health/live", timeout=1)

    stack.start("analyzer", "ecg_analyzer")
    stack.start_gateway(**redispatch)
    result = api.wait_done(alice, "survivor", timeout_s=60)
    assert result["status"] == "done"
    assert result["insights"]["leads"][0]["zero_crossings"] == 2
