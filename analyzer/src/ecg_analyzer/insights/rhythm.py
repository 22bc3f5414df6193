"""Heart rate, RR statistics, HRV and rhythm flags from R-peak positions."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.ndimage import median_filter

BRADYCARDIA_BELOW_BPM = 60.0
TACHYCARDIA_ABOVE_BPM = 100.0
# An interval further than this from the median of its neighbours is not normal-to-normal
# (it borders an ectopic beat, a missed or a false detection).
NN_MAX_DEVIATION = 0.20
NN_NEIGHBOURHOOD = 11
PNN_THRESHOLD_MS = 50.0
# Regular rhythm: nearly every RR interval close to the median RR. Sinus rhythm with the
# odd premature beat passes; atrial fibrillation does not.
REGULAR_MAX_DEVIATION = 0.15
REGULAR_MIN_SHARE = 0.90
REGULAR_MIN_INTERVALS = 3
# Premature beats rarely come before half the usual RR; more than a few such intervals
# point at extra detections (P or T waves, artefacts) rather than at the heart.
SHORT_RR_FRACTION = 0.5
SHORT_RR_MAX_SHARE = 0.02
# Likewise an RR near twice the usual is a pause or a missed beat, rarely more than a few.
LONG_RR_FRACTION = 1.8
LONG_RR_MAX_SHARE = 0.01


@dataclass(frozen=True)
class Rhythm:
    """The rate and rhythm fields of :class:`~ecg_contracts.insights.Insights`."""

    heart_rate_bpm: float | None = None
    heart_rate_min_bpm: float | None = None
    heart_rate_max_bpm: float | None = None
    rr_mean_ms: float | None = None
    rr_std_ms: float | None = None
    sdnn_ms: float | None = None
    rmssd_ms: float | None = None
    pnn50_percent: float | None = None
    rhythm_regular: bool | None = None
    bradycardia: bool | None = None
    tachycardia: bool | None = None
    notes: list[str] = field(default_factory=list)


def near_local_median(
    rr: npt.NDArray[np.float64], max_deviation: float, neighbourhood: int = NN_NEIGHBOURHOOD
) -> npt.NDArray[np.bool_]:
    """Which RR intervals lie within ``max_deviation`` (a share) of the median of the
    ``neighbourhood`` intervals around them: a local median follows rate changes while
    rejecting isolated odd intervals."""
    local_median = median_filter(rr, size=neighbourhood, mode="nearest")
    near: npt.NDArray[np.bool_] = np.abs(rr - local_median) <= max_deviation * local_median
    return near


def normal_intervals(rr_ms: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
    """Which RR intervals count as normal-to-normal: within 20% of their local median.

    Beats are not classified, so this stands in for "both beats are normal".
    """
    return near_local_median(rr_ms, NN_MAX_DEVIATION)


def rhythm_from_r_peaks(
    r_peaks: npt.NDArray[np.integer],
    sampling_rate_hz: float,
    usable_intervals: npt.NDArray[np.bool_] | None = None,
) -> Rhythm:
    """Rate, RR and HRV statistics; fields that need more beats are null, with a note.

    ``usable_intervals`` (one per pair of consecutive peaks) leaves out RR intervals that
    span a stretch where beats could not be trusted. Standard deviations are population
    ones (``ddof=0``), like the leads' ``std``.
    """
    if r_peaks.size < 2:
        return Rhythm(
            notes=[
                f"{r_peaks.size} R peak(s) detected, at least 2 are needed: heart-rate, "
                "RR, HRV and rhythm fields are null"
            ]
        )
    rr_ms = np.diff(r_peaks).astype(np.float64) * (1000.0 / sampling_rate_hz)
    if usable_intervals is not None:
        rr_ms = rr_ms[usable_intervals]
        if rr_ms.size == 0:
            return Rhythm(
                notes=[
                    "no RR interval between trustworthy beats: heart-rate, RR, HRV and rhythm "
                    "fields are null"
                ]
            )
    rr_mean_ms = float(rr_ms.mean())
    heart_rate_bpm = 60000.0 / rr_mean_ms
    notes: list[str] = []

    normal = normal_intervals(rr_ms)
    sdnn_ms = float(rr_ms[normal].std()) if np.any(normal) else None
    successive_normal = normal[1:] & normal[:-1]
    rmssd_ms: float | None = None
    pnn50_percent: float | None = None
    if np.any(successive_normal):
        differences = np.abs(np.diff(rr_ms))[successive_normal]
        rmssd_ms = float(np.sqrt(np.mean(np.square(differences))))
        pnn50_percent = 100.0 * float(np.mean(differences > PNN_THRESHOLD_MS))
    else:
        notes.append("no two successive normal RR intervals: RMSSD and pNN50 are null")

    rhythm_regular: bool | None = None
    if rr_ms.size >= REGULAR_MIN_INTERVALS:
        median_rr = float(np.median(rr_ms))
        close = np.abs(rr_ms - median_rr) <= REGULAR_MAX_DEVIATION * median_rr
        rhythm_regular = bool(np.mean(close) >= REGULAR_MIN_SHARE)
    else:
        notes.append(f"fewer than {REGULAR_MIN_INTERVALS} RR intervals: rhythm regularity is null")

    short = int(np.count_nonzero(rr_ms < SHORT_RR_FRACTION * float(np.median(rr_ms))))
    if short > SHORT_RR_MAX_SHARE * rr_ms.size:
        notes.append(
            f"{short} of {rr_ms.size} RR intervals are under half the median RR: some "
            "detections may be tall P or T waves or artefacts, which would inflate the heart "
            "rate"
        )
    long = int(np.count_nonzero(rr_ms > LONG_RR_FRACTION * float(np.median(rr_ms))))
    if long > LONG_RR_MAX_SHARE * rr_ms.size:
        notes.append(
            f"{long} of {rr_ms.size} RR intervals are over {LONG_RR_FRACTION:g} times the "
            "median RR: pauses, or beats too small to detect, which would lower the heart rate"
        )
    return Rhythm(
        heart_rate_bpm=heart_rate_bpm,
        heart_rate_min_bpm=60000.0 / float(rr_ms.max()),
        heart_rate_max_bpm=60000.0 / float(rr_ms.min()),
        rr_mean_ms=rr_mean_ms,
        rr_std_ms=float(rr_ms.std()),
        sdnn_ms=sdnn_ms,
        rmssd_ms=rmssd_ms,
        pnn50_percent=pnn50_percent,
        rhythm_regular=rhythm_regular,
        bradycardia=heart_rate_bpm < BRADYCARDIA_BELOW_BPM,
        tachycardia=heart_rate_bpm > TACHYCARDIA_ABOVE_BPM,
        notes=notes,
    )
