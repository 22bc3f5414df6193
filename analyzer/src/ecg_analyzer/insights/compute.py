"""Assembles every insight of one ECG."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from ecg_contracts.insights import Insights, LeadInsights

from ecg_analyzer.insights.zero_crossings import count_zero_crossings


def lead_insights(name: str, signal: npt.NDArray[np.integer]) -> LeadInsights:
    as_float = signal.astype(np.float64)
    return LeadInsights(
        name=name,
        number_of_samples=int(signal.size),
        zero_crossings=count_zero_crossings(signal),
        min=int(signal.min()),
        max=int(signal.max()),
        mean=float(as_float.mean()),
        std=float(as_float.std()),
    )


def compute_insights(
    leads: Sequence[tuple[str, npt.NDArray[np.integer]]], sampling_rate_hz: float | None
) -> Insights:
    notes: list[str] = []
    if sampling_rate_hz is None:
        notes.append("no sampling_rate_hz given: timing, heart-rate and rhythm fields are null")
    return Insights(
        leads=[lead_insights(name, signal) for name, signal in leads],
        sampling_rate_hz=sampling_rate_hz,
        duration_s=(
            max(s.size for _, s in leads) / sampling_rate_hz if sampling_rate_hz else None
        ),
        notes=notes,
    )
