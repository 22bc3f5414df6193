"""GET /ecg/{id}/plot.svg over HTTP on the real services: the ECG routes' access rules,
the SVG media type, revalidation with the ETag, and refusals as problems."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from ecg_contracts import events
from ecg_contracts.events import EcgAnalyzed
from ecg_contracts.insights import Insights, LeadInsights

from tests.integration.gateway.conftest import Gateway
from tests.integration.gateway.test_results import publish
from tests.services import ServiceUrls

pytestmark = pytest.mark.integration
SVG = "{http://www.w3.org/2000/svg}"


def body(ecg_id: str, rate: float | None = 250) -> dict[str, object]:
    signal = [400 if i % 200 == 50 else 0 for i in range(2500)]
    leads = [
        {"name": "I", "signal": signal, "units_per_mv": 200},
        {"name": "II", "signal": signal},
    ]
    return {"id": ecg_id, "sampling_rate_hz": rate, "leads": leads}


def classes(svg: bytes, name: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter() if e.get("class") == name]


async def test_the_owner_gets_svg_with_beats_once_analyzed_and_revalidates(
    gateway: Gateway, services: ServiceUrls
) -> None:
    user, user_id = await gateway.new_user()
    assert (await gateway.client.post("/ecg/", json=body("drawn"), headers=user)).status == 202
    pending = await gateway.client.get("/ecg/drawn/plot.svg", headers=user)
    assert pending.status == 200
    assert pending.content_type == "image/svg+xml"
    first = await pending.read()
    assert len(classes(first, "trace")) == 2
    assert classes(first, "r-peak") == []
    tag = pending.headers["ETag"]
    unchanged = await gateway.client.get(
        "/ecg/drawn/plot.svg", headers={**user, "If-None-Match": tag}
    )
    assert unchanged.status == 304

    insights = Insights(
        leads=[
            LeadInsights(
                name=name,
                number_of_samples=2500,
                zero_crossings=0,
                min=0,
                max=400,
                mean=2.0,
                std=28.0,
            )
            for name in ("I", "II")
        ],
        sampling_rate_hz=250,
        r_peaks=list(range(50, 2500, 200)),
        heart_rate_bpm=75.0,
    )
    await publish(
        services,
        gateway.settings.exchange,
        EcgAnalyzed(ecg_id="drawn", owner_id=user_id, insights=insights),
        events.ANALYZED,
    )
    await gateway.wait_for_status(user, "drawn")
    done = await gateway.client.get(
        "/ecg/drawn/plot.svg?leads=II&start_s=2&seconds=4", headers={**user, "If-None-Match": tag}
    )
    assert done.status == 200, "analyzed, and another window: a new document"
    svg = await done.read()
    titles = [e.findtext(f"{SVG}title", "") for e in classes(svg, "r-peak")]
    assert [int(title.split()[3]) for title in titles] == [
        p for p in range(50, 2500, 200) if 500 <= p < 1500
    ]
    assert [e.findtext(f"{SVG}title") for e in classes(svg, "trace")] == ["II"]
    assert b"heart rate 75.0 bpm" in svg


async def test_the_ecg_routes_access_rules_hold(gateway: Gateway) -> None:
    owner, _ = await gateway.new_user("owner")
    other, _ = await gateway.new_user("other")
    await gateway.client.post("/ecg/", json=body("private"), headers=owner)
    assert (await gateway.client.get("/ecg/private/plot.svg")).status == 401
    assert (await gateway.client.get("/ecg/private/plot.svg", headers=other)).status == 404
    admin = await gateway.admin()
    assert (await gateway.client.get("/ecg/private/plot.svg", headers=admin)).status == 403


@pytest.mark.parametrize(
    ("query", "status", "detail"),
    [
        ("leads=V9", 400, "no lead named 'V9': this ECG has I, II"),
        ("leads=I,,II", 400, "distinct lead names"),
        ("seconds=0", 400, "seconds must be more than 0"),
        ("seconds=abc", 400, "seconds must be a decimal number"),
        ("start_s=60", 400, "past the end"),
        ("start_s=-1", 400, "start_s must be a decimal number"),
    ],
)
async def test_a_window_that_does_not_fit_is_a_problem(
    gateway: Gateway, query: str, status: int, detail: str
) -> None:
    user, _ = await gateway.new_user()
    await gateway.client.post("/ecg/", json=body("windowed"), headers=user)
    response = await gateway.client.get(f"/ecg/windowed/plot.svg?{query}", headers=user)
    assert response.status == status
    assert response.content_type == "application/problem+json"
    assert detail in (await response.json())["detail"]


async def test_an_ecg_without_a_sampling_rate_cannot_be_drawn(gateway: Gateway) -> None:
    user, _ = await gateway.new_user()
    await gateway.client.post("/ecg/", json=body("timeless", rate=None), headers=user)
    response = await gateway.client.get("/ecg/timeless/plot.svg", headers=user)
    assert response.status == 409
    assert "sampling_rate_hz" in (await response.json())["detail"]
