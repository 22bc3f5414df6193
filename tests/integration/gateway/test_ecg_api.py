from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aio_pika
import pytest
from ecg_contracts.events import EcgSubmitted
from ecg_contracts.signal import decode_signal

from tests.integration.gateway.conftest import Gateway, GatewayFactory

pytestmark = pytest.mark.integration
Observer = Callable[[float], Awaitable[aio_pika.abc.AbstractIncomingMessage]]


def ecg(ecg_id: str | None = None, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sampling_rate_hz": 500,
        "leads": [
            {"name": "I", "signal": [1, 0, -1, 2, -3]},
            {"name": "II", "number_of_samples": 3, "signal": [70000, -70000, 5]},
        ],
    }
    if ecg_id is not None:
        body["id"] = ecg_id
    return body | overrides


async def test_an_upload_is_stored_and_published_with_its_signals(
    gateway: Gateway, observer: Observer
) -> None:
    user, user_id = await gateway.new_user()
    response = await gateway.client.post("/ecg/", json=ecg("visit-1"), headers=user)
    assert response.status == 202
    assert await response.json() == {"id": "visit-1", "status": "pending"}
    assert response.headers["Location"] == "/ecg/visit-1"

    message = await observer(10)
    event = EcgSubmitted.model_validate_json(message.body)
    assert (event.ecg_id, event.owner_id, event.sampling_rate_hz) == ("visit-1", user_id, 500)
    assert [decode_signal(lead.signal) for lead in event.leads] == [
        [1, 0, -1, 2, -3],
        [70000, -70000, 5],
    ]
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert message.message_id == event.event_id
    assert message.correlation_id == "visit-1"
    assert message.content_type == "application/json"

    stored = await (await gateway.client.get("/ecg/visit-1", headers=user)).json()
    assert stored["id"] == "visit-1"
    assert stored["sampling_rate_hz"] == 500
    assert stored["status"] == "pending"
    assert stored["leads"] == [
        {"name": "I", "number_of_samples": 5, "signal": [1, 0, -1, 2, -3], "units_per_mv": None},
        {"name": "II", "number_of_samples": 3, "signal": [70000, -70000, 5], "units_per_mv": None},
    ]
    insights = await gateway.client.get("/ecg/visit-1/insights", headers=user)
    assert await insights.json() == {
        "ecg_id": "visit-1",
        "status": "pending",
        "insights": None,
        "error": None,
    }
    assert int(insights.headers["Retry-After"]) > 0


async def test_a_leads_gain_is_stored_published_and_part_of_its_identity(
    gateway: Gateway, observer: Observer
) -> None:
    user, _ = await gateway.new_user()
    body = ecg("with-gain")
    body["leads"][0]["units_per_mv"] = 200
    body["leads"][1]["units_per_mv"] = 1000.5
    assert (await gateway.client.post("/ecg/", json=body, headers=user)).status == 202
    event = EcgSubmitted.model_validate_json((await observer(10)).body)
    assert [lead.units_per_mv for lead in event.leads] == [200.0, 1000.5]
    stored = await (await gateway.client.get("/ecg/with-gain", headers=user)).json()
    assert [lead["units_per_mv"] for lead in stored["leads"]] == [200.0, 1000.5]
    retry = await gateway.client.post("/ecg/", json=body, headers=user)
    assert retry.status == 200, "the same ECG with the same gains is a retry"
    body["leads"][0]["units_per_mv"] = 100
    changed = await gateway.client.post("/ecg/", json=body, headers=user)
    assert changed.status == 409, "another gain is another ECG"


@pytest.mark.parametrize("gain", [0, -200, "200", 1e10, True])
async def test_a_gain_that_is_not_a_positive_number_is_refused(
    gateway: Gateway, gain: object
) -> None:
    user, _ = await gateway.new_user()
    body = ecg()
    body["leads"][0]["units_per_mv"] = gain
    response = await gateway.client.post("/ecg/", json=body, headers=user)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert any("units_per_mv" in error["field"] for error in problem["errors"]), problem


async def test_without_an_id_the_server_makes_one(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    response = await gateway.client.post("/ecg/", json=ecg(), headers=user)
    assert response.status == 202
    made = (await response.json())["id"]
    assert len(made) == 36
    assert (await gateway.client.get(f"/ecg/{made}", headers=user)).status == 200


async def test_ids_are_scoped_per_owner_and_others_get_404(gateway: Gateway) -> None:
    alice, _ = await gateway.new_user("alice")
    bob, _ = await gateway.new_user("bob")
    first = await gateway.client.post("/ecg/", json=ecg("shared"), headers=alice)
    second = await gateway.client.post(
        "/ecg/", json=ecg("shared", sampling_rate_hz=250), headers=bob
    )
    assert (first.status, second.status) == (202, 202)
    alice_view = await (await gateway.client.get("/ecg/shared", headers=alice)).json()
    bob_view = await (await gateway.client.get("/ecg/shared", headers=bob)).json()
    assert (alice_view["sampling_rate_hz"], bob_view["sampling_rate_hz"]) == (500, 250)

    await gateway.client.post("/ecg/", json=ecg("alice-only"), headers=alice)
    for path in ("/ecg/alice-only", "/ecg/alice-only/insights", "/ecg/never-existed"):
        response = await gateway.client.get(path, headers=bob)
        assert response.status == 404, path
        assert response.content_type == "application/problem+json"
    missing = await (await gateway.client.get("/ecg/never-existed", headers=bob)).json()
    foreign = await (await gateway.client.get("/ecg/alice-only", headers=bob)).json()
    assert missing.keys() == foreign.keys()
    assert (await gateway.client.delete("/ecg/alice-only", headers=bob)).status == 404


async def test_the_admin_gets_403_on_every_ecg_route(gateway: Gateway) -> None:
    admin = await gateway.admin()
    for method, path in [
        ("POST", "/ecg/"),
        ("GET", "/ecg/"),
        ("GET", "/ecg/x"),
        ("GET", "/ecg/x/insights"),
        ("DELETE", "/ecg/x"),
    ]:
        body = ecg("x") if method == "POST" else None
        response = await gateway.client.request(method, path, json=body, headers=admin)
        assert response.status == 403, (method, path)
        assert response.content_type == "application/problem+json"


async def test_a_retry_returns_the_stored_ecg_and_starts_no_second_analysis(
    gateway: Gateway, observer: Observer
) -> None:
    user, _ = await gateway.new_user()
    first = await gateway.client.post("/ecg/", json=ecg("retry-me"), headers=user)
    again = await gateway.client.post("/ecg/", json=ecg("retry-me"), headers=user)
    assert (first.status, again.status) == (202, 200)
    assert await first.json() == await again.json()
    await observer(10)
    with pytest.raises(AssertionError, match=r"no ecg\.submitted"):
        await observer(1.5)

    different = await gateway.client.post(
        "/ecg/", json=ecg("retry-me", sampling_rate_hz=1000), headers=user
    )
    assert different.status == 409
    assert different.content_type == "application/problem+json"


async def test_listing_in_pages_newest_first_and_delete(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    ids = [f"list-{index}" for index in range(7)]
    for ecg_id in ids:
        assert (await gateway.client.post("/ecg/", json=ecg(ecg_id), headers=user)).status == 202
    other, _ = await gateway.new_user("other")
    await gateway.client.post("/ecg/", json=ecg("not-mine"), headers=other)

    seen: list[str] = []
    pages = 0
    cursor = None
    while True:
        params = {"limit": "3"} | ({"cursor": cursor} if cursor else {})
        response = await gateway.client.get("/ecg/", params=params, headers=user)
        assert response.status == 200
        page = await response.json()
        pages += 1
        assert all("leads" not in item for item in page["items"])
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(ids))

    assert (await gateway.client.delete("/ecg/list-3", headers=user)).status == 204
    assert (await gateway.client.get("/ecg/list-3", headers=user)).status == 404
    assert (await gateway.client.get("/ecg/list-3/insights", headers=user)).status == 404
    assert (await gateway.client.delete("/ecg/list-3", headers=user)).status == 404


BAD_INPUT: list[tuple[str, bytes | str, dict[str, str], int, str | None]] = [
    ("malformed json", b'{"leads": [', {"Content-Type": "application/json"}, 400, None),
    ("not json at all", b"\xff\xfe", {"Content-Type": "application/json"}, 400, None),
    ("empty body", b"", {"Content-Type": "application/json"}, 400, None),
    ("json array", b"[]", {}, 422, None),
    ("no leads", json.dumps({"leads": []}), {}, 422, "leads"),
    (
        "empty lead name",
        json.dumps({"leads": [{"name": "", "signal": [1]}]}),
        {},
        422,
        "leads.0.name",
    ),
    (
        "control character in a lead name",
        json.dumps({"leads": [{"name": "I\u0000", "signal": [1]}]}),
        {},
        422,
        "leads.0.name",
    ),
    (
        "long lead name",
        json.dumps({"leads": [{"name": "x" * 33, "signal": [1]}]}),
        {},
        422,
        "leads.0.name",
    ),
    (
        "duplicate lead names",
        json.dumps({"leads": [{"name": "I", "signal": [1]}, {"name": "I", "signal": [2]}]}),
        {},
        422,
        "leads",
    ),
    (
        "count mismatch",
        json.dumps({"leads": [{"name": "I", "number_of_samples": 2, "signal": [1]}]}),
        {},
        422,
        "leads.0",
    ),
    (
        "empty signal",
        json.dumps({"leads": [{"name": "I", "signal": []}]}),
        {},
        422,
        "leads.0.signal",
    ),
    (
        "float sample",
        json.dumps({"leads": [{"name": "I", "signal": [1.5]}]}),
        {},
        422,
        "leads.0.signal.0",
    ),
    (
        "boolean sample",
        json.dumps({"leads": [{"name": "I", "signal": [True]}]}),
        {},
        422,
        "leads.0.signal.0",
    ),
    (
        "string sample",
        json.dumps({"leads": [{"name": "I", "signal": ["1"]}]}),
        {},
        422,
        "leads.0.signal.0",
    ),
    (
        "beyond int32",
        json.dumps({"leads": [{"name": "I", "signal": [2**31]}]}),
        {},
        422,
        "leads.0.signal.0",
    ),
    (
        "zero sampling rate",
        json.dumps({"sampling_rate_hz": 0, "leads": [{"name": "I", "signal": [1]}]}),
        {},
        422,
        "sampling_rate_hz",
    ),
    (
        "sampling rate too high",
        json.dumps({"sampling_rate_hz": 100001, "leads": [{"name": "I", "signal": [1]}]}),
        {},
        422,
        "sampling_rate_hz",
    ),
    ("bad id", json.dumps({"id": "a/b", "leads": [{"name": "I", "signal": [1]}]}), {}, 422, "id"),
    (
        "long id",
        json.dumps({"id": "a" * 129, "leads": [{"name": "I", "signal": [1]}]}),
        {},
        422,
        "id",
    ),
    (
        "bad date",
        json.dumps({"date": "soon", "leads": [{"name": "I", "signal": [1]}]}),
        {},
        422,
        "date",
    ),
    (
        "too many samples",
        json.dumps({"leads": [{"name": "I", "signal": [1] * 1001}]}),
        {},
        422,
        "leads",
    ),
]


@pytest.mark.parametrize(
    ("case", "body", "headers", "status", "field"), BAD_INPUT, ids=[row[0] for row in BAD_INPUT]
)
async def test_bad_input_gets_a_clear_problem(
    make_gateway: GatewayFactory,
    case: str,
    body: bytes | str,
    headers: dict[str, str],
    status: int,
    field: str | None,
) -> None:
    gateway = await make_gateway(max_total_samples=1000)
    user, _ = await gateway.new_user()
    response = await gateway.client.post(
        "/ecg/", data=body, headers={"Content-Type": "application/json", **headers, **user}
    )
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    problem = await response.json()
    assert problem["status"] == status
    assert problem["title"]
    assert "Traceback" not in json.dumps(problem)
    if field is not None:
        assert field in {error["field"] for error in problem["errors"]}
        assert all(error["message"] for error in problem["errors"])
    listing = await (await gateway.client.get("/ecg/", headers=user)).json()
    assert listing["items"] == []


async def test_a_body_over_the_limit_gets_413_without_being_buffered(
    make_gateway: GatewayFactory,
) -> None:
    gateway = await make_gateway()
    assert gateway.settings.max_body_bytes == 64 * 1024 * 1024
    user, _ = await gateway.new_user()
    sent = 0
    chunk = b"1," * 32768

    async def hundred_megabytes() -> Any:
        nonlocal sent
        yield b'{"leads": [{"name": "I", "signal": ['
        while sent < 100 * 1024 * 1024:
            sent += len(chunk)
            yield chunk
            await asyncio.sleep(0)
        yield b"1]}]}"

    response = await gateway.client.post(
        "/ecg/", data=hundred_megabytes(), headers={"Content-Type": "application/json", **user}
    )
    assert response.status == 413
    assert response.content_type == "application/problem+json"
    assert sent < 100 * 1024 * 1024, "the whole body was read before the answer"
