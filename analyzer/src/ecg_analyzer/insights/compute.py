"""Assembles every insight of one ECG."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from ecg_contracts.insights import Insights, LeadInsights

from ecg_analyzer.insights.qrs import MIN_SAMPLING_RATE_HZ, detect_r_peaks
from ecg_analyzer.insights.quality import NOISE_MIN_DURATION_S, LeadQuality, assess_leads
from ecg_analyzer.insights.rhythm import Rhythm, rhythm_from_r_peaks
from ecg_analyzer.insights.zero_crossings import count_zero_crossings


def leads_insights(
    leads: Sequence[tuple[str, npt.NDArray[np.integer]]], sampling_rate_hz: float | None
) -> tuple[list[LeadInsights], list[LeadQuality]]:
    """Statistics and quality flags of every lead, and the qualities for the lead choice."""
    minima = [int(signal.min()) for _, signal in leads]
    maxima = [int(signal.max()) for _, signal in leads]
    qualities = assess_leads([signal for _, signal in leads], minima, maxima, sampling_rate_hz)
    insights = []
    for (name, signal), minimum, maximum, quality in zip(
        leads, minima, maxima, qualities, strict=True
    ):
        as_float = signal.astype(np.float64)
        mean = float(as_float.mean())
        deviation = as_float - mean
        insights.append(
            LeadInsights(
                name=name,
                number_of_samples=int(signal.size),
                zero_crossings=count_zero_crossings(signal),
                min=minimum,
                max=maximum,
                mean=mean,
                std=float(np.sqrt(np.dot(deviation, deviation) / signal.size)),
                flat_line=quality.flat_line,
                clipping=quality.clipping,
                excessive_noise=quality.excessive_noise,
            )
        )
    return insights, qualities


def choose_r_peak_lead(qualities: Sequence[LeadQuality]) -> tuple[int | None, list[str]]:
    """Index of the lead to detect R peaks on, and notes about the choice.

    Among the leads without quality flags, the one whose power is most concentrated in
    the QRS band (5-15 Hz) has the most prominent QRS complexes. If every lead is flagged,
    the best non-flat one is used anyway and a note says so; flat leads carry no beats.
    """
    usable = [index for index, quality in enumerate(qualities) if quality.usable]
    if usable:
        return max(usable, key=lambda index: qualities[index].qrs_band_share), []
    not_flat = [index for index, quality in enumerate(qualities) if not quality.flat_line]
    if not not_flat:
        return None, [
            "every lead is a flat line: no R peaks, heart-rate and rhythm fields are null"
        ]
    chosen = max(not_flat, key=lambda index: qualities[index].qrs_band_share)
    return chosen, ["every lead has a quality flag: R peaks come from a flagged lead"]


def compute_insights(
    leads: Sequence[tuple[str, npt.NDArray[np.integer]]], sampling_rate_hz: float | None
) -> Insights:
    """Every insight of one ECG; pure and deterministic (same input, same output)."""
    notes: list[str] = []
    arrays = [(name, np.asarray(signal)) for name, signal in leads]
    lead_results, qualities = leads_insights(arrays, sampling_rate_hz)
    if sampling_rate_hz is None:
        notes.append("no sampling_rate_hz given: timing, heart-rate and rhythm fields are null")
        notes.append("no sampling_rate_hz given: excessive_noise is not assessed (false)")
        return Insights(leads=lead_results, sampling_rate_hz=None, notes=notes)

    if any(
        signal.size < NOISE_MIN_DURATION_S * sampling_rate_hz and not lead.flat_line
        for (_, signal), lead in zip(arrays, lead_results, strict=True)
    ):
        notes.append(
            f"leads shorter than {NOISE_MIN_DURATION_S:g} s: excessive_noise is not assessed "
            "for them (false)"
        )
    r_peak_lead: str | None = None
    r_peaks: list[int] | None = None
    rhythm = Rhythm()
    chosen: int | None = None
    if sampling_rate_hz < MIN_SAMPLING_RATE_HZ:
        notes.append(
            f"sampling rate below {MIN_SAMPLING_RATE_HZ:g} Hz is too low to detect QRS "
            "complexes: R-peak, heart-rate and rhythm fields are null"
        )
    else:
        chosen, choice_notes = choose_r_peak_lead(qualities)
        notes.extend(choice_notes)
    if chosen is not None:
        r_peak_lead, signal = arrays[chosen]
        peaks = detect_r_peaks(signal, sampling_rate_hz)
        r_peaks = peaks.tolist()
        rhythm = rhythm_from_r_peaks(peaks, sampling_rate_hz)
        notes.extend(rhythm.notes)
    return Insights(
        leads=lead_results,
        sampling_rate_hz=sampling_rate_hz,
        duration_s=max(signal.size for _, signal in arrays) / sampling_rate_hz,
        r_peak_lead=r_peak_lead,
        r_peaks=r_peaks,
        heart_rate_bpm=rhythm.heart_rate_bpm,
        heart_rate_min_bpm=rhythm.heart_rate_min_bpm,
        heart_rate_max_bpm=rhythm.heart_rate_max_bpm,
        rr_mean_ms=rhythm.rr_mean_ms,
        rr_std_ms=rhythm.rr_std_ms,
        sdnn_ms=rhythm.sdnn_ms,
        rmssd_ms=rhythm.rmssd_ms,
        pnn50_percent=rhythm.pnn50_percent,
        rhythm_regular=rhythm.rhythm_regular,
        bradycardia=rhythm.bradycardia,
        tachycardia=rhythm.tachycardia,
        notes=notes,
    )
