"""R-wave amplitudes, per lead, at the beats the fusion chose."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ecg_analyzer.insights.qrs import BASELINE_S, R_SEARCH_S, IndexArray

BASELINE_RATE_HZ = 125.0
"""The baseline's median takes the window's samples at about this rate: as robust as all of
them, and a quarter of the work at 500 Hz."""
MAX_BEATS = 512
"""The median of this many beats, evenly spread, is as good as of all and keeps the cost
of a 24-hour record bounded."""


def r_amplitudes(
    signals: Sequence[npt.NDArray[np.integer]], r_peaks: IndexArray, sampling_rate_hz: float
) -> list[float | None]:
    """Per lead, the median over beats of the QRS's dominant deflection from the local
    baseline.

    The baseline is the median over +-250 ms (the QRS is too short to move it); the
    deflection is the sample within +-75 ms of the R peak furthest from it, signed, so a
    lead whose QRS is mainly negative gets a negative amplitude. None for a lead without
    beats (R peaks beyond its end are left out). Leads of one length are done together.
    """
    amplitudes: list[float | None] = [None] * len(signals)
    by_length: dict[int, list[int]] = {}
    for index, signal in enumerate(signals):
        by_length.setdefault(int(signal.size), []).append(index)
    stride = max(1, int(sampling_rate_hz // BASELINE_RATE_HZ))
    half_baseline = max(1, round(BASELINE_S * sampling_rate_hz / stride))
    half_search = max(1, round(R_SEARCH_S * sampling_rate_hz))
    baseline_offsets = stride * np.arange(-half_baseline, half_baseline + 1)
    search_offsets = np.arange(-half_search, half_search + 1)
    for length, indices in by_length.items():
        beats = r_peaks[r_peaks < length]
        if beats.size == 0:
            continue
        if beats.size > MAX_BEATS:
            beats = beats[np.linspace(0, beats.size - 1, MAX_BEATS).astype(np.int64)]
        leads = np.stack([np.asarray(signals[index]) for index in indices])
        around = np.clip(beats[:, None] + baseline_offsets, 0, length - 1)
        baseline = np.median(leads[:, around], axis=2)
        near = np.clip(beats[:, None] + search_offsets, 0, length - 1)
        deviation = leads[:, near] - baseline[:, :, None]
        dominant = np.take_along_axis(
            deviation, np.abs(deviation).argmax(axis=2)[:, :, None], axis=2
        )[:, :, 0]
        for index, value in zip(indices, np.median(dominant, axis=1), strict=True):
            amplitudes[index] = float(value)
    return amplitudes
