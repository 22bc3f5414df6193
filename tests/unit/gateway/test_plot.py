"""The ECG plot: SVG that parses, one trace per lead, R-peak markers where the insights put
them, standard paper scales, spikes kept by the per-column decimation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from ecg_client.readers import read_file
from ecg_contracts.signal import pack_samples
from ecg_gateway.model import EcgRecord, StoredLead
from ecg_gateway.plot import (
    NotPlottable,
    PlotRequestError,
    Window,
    plot_etag,
    render_ecg_svg,
)
from lxml import etree

SVG = "{http://www.w3.org/2000/svg}"
MITDB = Path(__file__).resolve().parents[2] / "data" / "mitdb"
AT = datetime(2026, 12, 6, tzinfo=UTC)


def record(
    leads: list[tuple[str, list[int], float | None]],
    rate: float | None = 500.0,
    insights: dict[str, Any] | None = None,
) -> EcgRecord:
    return EcgRecord(
        owner_id="owner",
        ecg_id="plotted",
        date=AT,
        sampling_rate_hz=rate,
        submitted_at=AT,
        content_hash="hash",
        leads=[
            StoredLead(name, len(signal), *pack_samples(signal), gain)
            for name, signal, gain in leads
        ],
        status="done" if insights is not None else "pending",
        insights=insights,
    )


SVG11_DTD = etree.DTD(str(Path(__file__).resolve().parents[2] / "data" / "svg11-dtd" / "svg11.dtd"))


def parse(svg: str) -> ET.Element:
    """The document, once it is valid SVG 1.1 (the W3C's DTD) and XML."""
    document = etree.fromstring(svg.encode())
    assert SVG11_DTD.validate(document), str(SVG11_DTD.error_log)[:600]
    root = ET.fromstring(svg.encode())
    assert root.tag == f"{SVG}svg"
    assert root.get("version") == "1.1"
    return root


def lead_of(trace: ET.Element) -> str | None:
    return trace.findtext(f"{SVG}title")


def traces(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}path") if e.get("class") == "trace"]


def points(trace: ET.Element) -> list[tuple[float, float]]:
    numbers = [float(n) for n in re.findall(r"-?[0-9.]+", trace.get("d", ""))]
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def markers(root: ET.Element) -> list[int]:
    """The R-peak markers' samples, from their titles (``R peak, sample 1234 (3.428 s)``)."""
    return [
        int(re.findall(r"sample ([0-9]+)", e.findtext(f"{SVG}title", ""))[0])
        for e in root.iter(f"{SVG}path")
        if e.get("class") == "r-peak"
    ]


def beats(count: int = 5000, every: int = 400, height: int = 1000) -> list[int]:
    return [height if i % every == 200 else 0 for i in range(count)]


def test_one_labelled_trace_per_lead_in_the_order_asked() -> None:
    ecg = record([("I", beats(), 1000.0), ("II", beats(), 1000.0), ("V1", beats(), None)])
    root = parse(render_ecg_svg(ecg, Window(leads=("V1", "I"))))
    assert [lead_of(t) for t in traces(root)] == ["V1", "I"]
    labels = [e.text for e in root.iter(f"{SVG}text") if e.get("class") == "lead-label"]
    assert labels == ["V1", "I"]
    assert len(traces(parse(render_ecg_svg(ecg, Window())))) == 3


def test_r_peak_markers_are_the_insights_r_peaks_within_the_window() -> None:
    r_peaks = list(range(200, 5000, 400))
    ecg = record([("I", beats(), 1000.0)], insights={"r_peaks": r_peaks, "leads": []})
    assert markers(parse(render_ecg_svg(ecg, Window()))) == r_peaks
    window = Window(start_s=2.0, seconds=4.0)
    assert markers(parse(render_ecg_svg(ecg, window))) == [p for p in r_peaks if 1000 <= p < 3000]
    pending = replace(ecg, status="pending", insights=None)
    assert markers(parse(render_ecg_svg(pending, Window()))) == []


def test_the_title_names_each_lead_s_flags_and_silences_and_the_unusable_time() -> None:
    insights = {
        "r_peaks": [200, 600],
        "heart_rate_bpm": 75.0,
        "leads": [
            {"name": "I", "clipping": True, "unreadable": [{"start_s": 1.0, "end_s": 3.5}]},
            {"name": "II", "unreadable": []},
        ],
        "unusable": [{"start_s": 5.0, "end_s": 8.0}],
    }
    ecg = record([("I", beats(), 1000.0), ("II", beats(), 1000.0)], insights=insights)
    texts = " ".join(e.text or "" for e in parse(render_ecg_svg(ecg, Window())).iter(f"{SVG}text"))
    assert "quality: I clipped/no QRS for 2.5 s, 3.0 s unusable" in texts, texts


def test_paper_speed_and_gain_are_standard() -> None:
    ecg = record([("I", beats(height=1000), 1000.0)])
    root = parse(render_ecg_svg(ecg, Window()))
    [trace] = traces(root)
    xs = [x for x, _ in points(trace)]
    assert max(xs) - min(xs) == pytest.approx(250, abs=0.3), "10 s at 25 mm/s, within a column"
    ys = [y for _, y in points(trace)]
    assert max(ys) - min(ys) == pytest.approx(10, abs=0.01), "1 mV at 10 mm/mV"
    assert any(e.get("class") == "calibration" for e in root.iter(f"{SVG}path"))
    unscaled = parse(render_ecg_svg(record([("I", beats(height=37), None)]), Window()))
    scale = [e.text for e in unscaled.iter(f"{SVG}text") if e.get("class") == "lead-scale"]
    assert scale == ["10 mm = 18.5 units"], "scaled to the strip, the scale printed"


def test_a_long_record_keeps_every_spike_and_stays_small() -> None:
    body = read_file(MITDB / "100.hea")
    signal = body.leads[0].signal
    spiked = list(signal)
    spiked[123_457] = 2000

    def drawn(mlii: list[int]) -> tuple[str, ET.Element]:
        ecg = record([("MLII", mlii, 200.0), ("V5", body.leads[1].signal, 200.0)], rate=360.0)
        svg = render_ecg_svg(ecg, Window(seconds=1800))
        return svg, traces(parse(svg))[0]

    svg, with_spike = drawn(spiked)
    _, without = drawn(signal)
    assert len(svg.encode()) < 2_000_000
    assert len(points(with_spike)) <= 2 * 6000, "at most two points per quarter-mm column"
    width = float(parse(svg).get("viewBox", "").split()[2])
    assert width < 1600, "a 30-minute window is drawn slower, not 45 m wide"
    rise_mm = (2000 - max(signal)) / 200 * 10
    highest = min(y for _, y in points(with_spike))
    assert highest < min(y for _, y in points(without)) - 0.95 * rise_mm, "the spike is drawn"


def test_lead_names_and_ids_are_escaped() -> None:
    ecg = replace(record([('<b>&"x', beats(), None)]), ecg_id="a&b")
    root = parse(render_ecg_svg(ecg, Window()))
    assert [lead_of(t) for t in traces(root)] == ['<b>&"x']


def test_windows_that_do_not_fit_are_refused() -> None:
    ecg = record([("I", beats(), None)])
    with pytest.raises(PlotRequestError, match="no lead named 'II': this ECG has I"):
        render_ecg_svg(ecg, Window(leads=("II",)))
    with pytest.raises(PlotRequestError, match="past the end"):
        render_ecg_svg(ecg, Window(start_s=10.0))
    with pytest.raises(NotPlottable, match="sampling_rate_hz"):
        render_ecg_svg(record([("I", beats(), None)], rate=None), Window())


def test_the_etag_changes_with_the_analysis_and_the_window_only() -> None:
    ecg = record([("I", beats(), None)])
    tag = plot_etag(ecg, Window())
    assert plot_etag(ecg, Window()) == tag
    assert plot_etag(ecg, Window(seconds=5)) != tag
    assert plot_etag(replace(ecg, status="done", insights={}), Window()) != tag
