"""An ECG drawn on standard ECG paper as SVG 1.1, without numpy.

User units are millimetres: 1 mm and 5 mm grid lines, 25 mm/s, 10 mm/mV where a lead's gain
(``units_per_mv``) is known, otherwise each lead scaled to its strip with the scale printed.
Each lead is decimated per pixel column (a quarter millimetre), keeping the minimum and
the maximum in the order they occur, so narrow spikes stay visible however long the window:
a window longer than a minute is drawn at a lower speed (printed) so the page stays about
1.5 m wide at most and the document under about 2 MB for any record.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, Final
from xml.sax.saxutils import escape

from ecg_contracts.signal import samples_array

from ecg_gateway.model import EcgRecord, StoredLead

MM_PER_S: Final = 25.0
MM_PER_MV: Final = 10.0
MAX_TRACE_MM: Final = 1500.0
"""Beyond 60 s at 25 mm/s the speed drops so the trace stays this wide."""
COLUMN_MM: Final = 0.25
"""One pixel column at about 100 dpi: min and max of the samples under it are kept."""
STRIP_MM: Final = 25.0
LABEL_MM: Final = 16.0
TITLE_MM: Final = 20.0
MARKER_MM: Final = 4.0
MARGIN_MM: Final = 3.0
DEFAULT_SECONDS: Final = 10.0
MAX_SECONDS: Final = 24 * 3600.0
MAX_LEADS: Final = 64
BASELINE_AT: Final = 0.6
"""Each trace's median sits this far down its strip: R waves mostly rise."""
UNSCALED_FILL: Final = 0.8
"""A lead without a gain spans this share of its strip."""
PLOT_VERSION: Final = "1"
"""Part of the ETag: a change of drawing gives new tags."""


class PlotRequestError(ValueError):
    """The window asked for does not fit the ECG (unknown lead, start past the end)."""


class NotPlottable(ValueError):
    """The ECG cannot be drawn on paper (no sampling rate)."""


@dataclass(frozen=True)
class Window:
    leads: tuple[str, ...] | None = None
    """Lead names in the order to draw; all leads when None."""
    start_s: float = 0.0
    seconds: float = DEFAULT_SECONDS


def plot_etag(record: EcgRecord, window: Window) -> str:
    """Strong validator: the content, the analysis state and the window, nothing else."""
    digest = hashlib.sha256(
        repr(
            (
                PLOT_VERSION,
                record.content_hash,
                record.status,
                window.leads,
                window.start_s,
                window.seconds,
            )
        ).encode()
    ).hexdigest()
    return f'"{digest[:40]}"'


def _chosen_leads(record: EcgRecord, window: Window) -> list[StoredLead]:
    by_name = {lead.name: lead for lead in record.leads}
    if window.leads is None:
        return list(record.leads)
    unknown = [name for name in window.leads if name not in by_name]
    if unknown:
        raise PlotRequestError(
            f"no lead named {', '.join(map(repr, unknown))}: this ECG has {', '.join(by_name)}"
        )
    return [by_name[name] for name in window.leads]


def _columns(values: Sequence[int], first: int, last: int, count: int) -> list[tuple[float, int]]:
    """(sample position, value) pairs: every sample when there are few, else each column's
    minimum and maximum in the order they occur."""
    span = last - first
    if span <= 0:
        return []
    if span <= 2 * count:
        return [(float(i), values[i]) for i in range(first, last)]
    points: list[tuple[float, int]] = []
    append = points.append
    edges = [first + span * column // count for column in range(count + 1)]
    for start, stop in pairwise(edges):
        chunk = values[start:stop]
        low, high = min(chunk), max(chunk)
        at_low, at_high = start + chunk.index(low), start + chunk.index(high)
        if at_low == at_high:
            append((float(at_low), low))
        elif at_low < at_high:
            append((float(at_low), low))
            append((float(at_high), high))
        else:
            append((float(at_high), high))
            append((float(at_low), low))
    return points


def _median(values: Sequence[int]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return (
        float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    )


def _title_lines(
    record: EcgRecord, rate: float, speed: float, insights: dict[str, Any] | None
) -> list[str]:
    first = (
        f"ECG {record.ecg_id} · {record.date.isoformat(timespec='seconds')} · "
        f"{rate:g} Hz · {speed:.3g} mm/s"
    )
    if record.status == "pending":
        return [first, "Analysis pending: R peaks, heart rate and flags appear when it is done"]
    if record.status == "failed" or insights is None:
        return [first, f"Analysis failed: {record.error or 'no insights'}"]
    rate_text = (
        "heart rate n/a"
        if insights.get("heart_rate_bpm") is None
        else f"heart rate {insights['heart_rate_bpm']:.1f} bpm"
    )
    rhythm = {True: "regular rhythm", False: "irregular rhythm", None: "rhythm n/a"}[
        insights.get("rhythm_regular")
    ]
    flags = [name for name in ("bradycardia", "tachycardia") if insights.get(name)]
    second = " · ".join([rate_text, rhythm, *flags])
    quality = []
    for lead in insights.get("leads", []):
        found = [
            text
            for key, text in (
                ("flat_line", "flat"),
                ("clipping", "clipped"),
                ("excessive_noise", "noisy"),
            )
            if lead.get(key)
        ]
        lost = sum(
            stretch["end_s"] - stretch["start_s"] for stretch in lead.get("unreadable") or []
        )
        if lost:
            found.append(f"no QRS for {lost:.1f} s")
        if found:
            quality.append(f"{lead['name']} {'/'.join(found)}")
    unusable = insights.get("unusable") or []
    if unusable:
        total = sum(stretch["end_s"] - stretch["start_s"] for stretch in unusable)
        quality.append(f"{total:.1f} s unusable")
    third = "quality: " + (", ".join(quality) if quality else "no flags")
    return [first, second, third]


def _number(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def render_ecg_svg(record: EcgRecord, window: Window) -> str:
    """The SVG document of ``window`` of ``record``, with its R peaks when analyzed."""
    if record.sampling_rate_hz is None:
        raise NotPlottable("the ECG has no sampling_rate_hz: it cannot be drawn against time")
    rate = record.sampling_rate_hz
    leads = _chosen_leads(record, window)
    longest = max(lead.number_of_samples for lead in record.leads)
    first = int(window.start_s * rate)
    if first >= longest:
        raise PlotRequestError(
            f"start_s {window.start_s:g} is past the end of the ECG ({longest / rate:g} s)"
        )
    last = min(longest, first + max(1, round(window.seconds * rate)))
    seconds = (last - first) / rate
    speed = min(MM_PER_S, MAX_TRACE_MM / seconds) if seconds > 0 else MM_PER_S
    trace_mm = seconds * speed
    mm_per_sample = speed / rate
    columns = max(1, math.ceil(trace_mm / COLUMN_MM))
    insights = record.insights if record.status == "done" else None
    title = _title_lines(record, rate, speed, insights)
    grid_top = TITLE_MM + MARKER_MM
    width = LABEL_MM + trace_mm + MARGIN_MM
    height = grid_top + STRIP_MM * len(leads) + MARGIN_MM

    parts: list[str] = [
        '<?xml version="1.0" encoding="UTF-8"?>\n',
        '<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{_number(width)}mm" height="{_number(height)}mm" '
        f'viewBox="0 0 {_number(width)} {_number(height)}" '
        'font-family="Helvetica, Arial, sans-serif">\n',
        f"<title>{escape(title[0])}</title>\n",
        "<defs>"
        '<pattern id="grid-1mm" width="1" height="1" patternUnits="userSpaceOnUse">'
        '<path d="M 1 0 L 0 0 0 1" fill="none" stroke="#f6c4c4" stroke-width="0.06"/>'
        "</pattern>"
        '<pattern id="grid-5mm" width="5" height="5" patternUnits="userSpaceOnUse">'
        '<rect width="5" height="5" fill="url(#grid-1mm)"/>'
        '<path d="M 5 0 L 0 0 0 5" fill="none" stroke="#e58f8f" stroke-width="0.18"/>'
        "</pattern>"
        "</defs>\n",
        f'<rect width="{_number(width)}" height="{_number(height)}" fill="#ffffff"/>\n',
        f'<rect class="paper" x="{_number(LABEL_MM)}" y="{_number(grid_top)}" '
        f'width="{_number(trace_mm)}" height="{_number(STRIP_MM * len(leads))}" '
        'fill="url(#grid-5mm)" stroke="#e58f8f" stroke-width="0.18"/>\n',
        '<g class="title" font-size="3.2" fill="#222222">\n',
    ]
    for line_number, line in enumerate(title):
        parts.append(
            f'<text x="{_number(MARGIN_MM)}" y="{_number(5 + 5 * line_number)}">'
            f"{escape(line)}</text>\n"
        )
    parts.append("</g>\n")

    parts.append('<g class="leads">\n')
    for index, lead in enumerate(leads):
        values = samples_array(lead.dtype, lead.raw)
        top = grid_top + STRIP_MM * index
        middle = top + STRIP_MM * BASELINE_AT
        lead_last = min(last, len(values))
        shown = values[first:lead_last]
        if lead.units_per_mv:
            mm_per_unit = MM_PER_MV / lead.units_per_mv
            scale = "10 mm/mV"
        else:
            low, high = (min(shown), max(shown)) if shown else (0, 0)
            mm_per_unit = UNSCALED_FILL * STRIP_MM / max(1, high - low)
            scale = f"10 mm = {_number(10 / mm_per_unit)} units"
        centre = _median(shown[:: max(1, len(shown) // 2000)]) if shown else 0.0
        parts.append(f'<g class="lead"><title>Lead {escape(lead.name)}</title>\n')
        parts.append(
            f'<text class="lead-label" x="{_number(MARGIN_MM)}" y="{_number(top + 6)}" '
            f'font-size="3.5" font-weight="bold" fill="#111111">{escape(lead.name)}</text>\n'
            f'<text class="lead-scale" x="{_number(MARGIN_MM)}" '
            f'y="{_number(top + STRIP_MM - 2)}" '
            f'font-size="2.2" fill="#555555">{escape(scale)}</text>\n'
        )
        if lead.units_per_mv:
            pulse_x = LABEL_MM - 7
            parts.append(
                f'<path class="calibration" d="M {_number(pulse_x - 2)} {_number(middle + 5)} '
                f'h 2 v -10 h 5 v 10 h 2" fill="none" stroke="#111111" '
                'stroke-width="0.25"/>\n'
            )
        points = _columns(values, first, lead_last, columns)
        if points:
            x0 = LABEL_MM - first * mm_per_sample
            y0 = middle + centre * mm_per_unit
            commands = " ".join(
                [
                    f"{x0 + position * mm_per_sample:.2f} {y0 - value * mm_per_unit:.2f}"
                    for position, value in points
                ]
            )
            parts.append(
                f'<path class="trace" d="M {commands}" fill="none" stroke="#111111" '
                'stroke-width="0.22" stroke-linejoin="round">'
                f"<title>{escape(lead.name)}</title></path>\n"
            )
        parts.append("</g>\n")
    parts.append("</g>\n")

    parts.append('<g class="r-peaks" fill="#1f5fbf">\n')
    for peak in (insights or {}).get("r_peaks") or []:
        if first <= peak < last:
            x = LABEL_MM + (peak - first) * mm_per_sample
            parts.append(
                f'<path class="r-peak" d="M {x - 1:.2f} {TITLE_MM:.2f} h 2 '
                f'l -1 {MARKER_MM - 0.8:.2f} z"><title>R peak, sample {peak} '
                f"({peak / rate:.3f} s)</title></path>\n"
            )
    parts.append("</g>\n</svg>\n")
    return "".join(parts)
