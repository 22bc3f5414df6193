"""Assembles every insight of one ECG."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from ecg_contracts.insights import Insights, LeadInsights, Stretch

from ecg_analyzer.insights.amplitude import r_amplitudes
from ecg_analyzer.insights.fusion import (
    FusedBeats,
    detect_leads,
    fuse_leads,
    intervals_outside,
    rhythm_lead_prior,
)
from ecg_analyzer.insights.qrs import MIN_SAMPLING_RATE_HZ
from ecg_analyzer.insights.quality import NOISE_MIN_DURATION_S, LeadQuality, assess_leads
from ecg_analyzer.insights.rhythm import Rhythm, rhythm_from_r_peaks
from ecg_analyzer.insights.zero_crossings import count_zero_crossings

MAX_FUSED_LEADS = 3


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


def choose_r_peak_leads(qualities: Sequence[LeadQuality]) -> tuple[list[int], list[str]]:
    """Indices of the leads to detect R peaks on, best first, and notes about the choice.

    Up to ``MAX_FUSED_LEADS`` non-flat leads: those without quality flags first, then by how
    concentrated their power is in the QRS band (5-15 Hz), where QRS complexes stand out.
    Flat leads carry no beats; flagged leads are fused only when no clean lead is left.
    """
    not_flat = [index for index, quality in enumerate(qualities) if not quality.flat_line]
    if not not_flat:
        return [], ["every lead is a flat line: no R peaks, heart-rate and rhythm fields are null"]
    ranked = sorted(
        not_flat,
        key=lambda index: (qualities[index].usable, qualities[index].qrs_band_share),
        reverse=True,
    )[:MAX_FUSED_LEADS]
    if not any(qualities[index].usable for index in ranked):
        return ranked, ["every lead has a quality flag: R peaks come from flagged leads"]
    return ranked, []


def unusable_note(unusable_s: float, duration_s: float) -> str:
    return (
        f"{unusable_s:.1f} s of {duration_s:.1f} s had no lead with trustworthy beats (noise, "
        "flat or clipped): no R peaks are reported there, and heart rate, RR and HRV leave "
        "it out"
    )


def with_amplitudes(
    lead: LeadInsights, amplitude: float | None, units_per_mv: float | None
) -> LeadInsights:
    """The lead's R amplitude (ADC units) and, with its gain, its amplitudes in mV."""
    update: dict[str, float | None] = {"r_amplitude": amplitude}
    if units_per_mv is not None:
        update |= {
            "units_per_mv": units_per_mv,
            "min_mv": lead.min / units_per_mv,
            "max_mv": lead.max / units_per_mv,
            "r_amplitude_mv": None if amplitude is None else amplitude / units_per_mv,
        }
    return lead.model_copy(update=update)


def in_seconds(spans: Sequence[tuple[int, int]], sampling_rate_hz: float) -> list[Stretch]:
    """``[start, end)`` sample spans as stretches in seconds."""
    return [
        Stretch(start_s=start / sampling_rate_hz, end_s=end / sampling_rate_hz)
        for start, end in spans
    ]


def with_unreadable(
    leads: list[LeadInsights], chosen: Sequence[int], fused: FusedBeats, sampling_rate_hz: float
) -> list[LeadInsights]:
    """The fused leads, each with the stretches in which the others saw beats it did not."""
    updated = list(leads)
    for index, spans in zip(chosen, fused.unreadable, strict=True):
        updated[index] = leads[index].model_copy(
            update={"unreadable": in_seconds(spans, sampling_rate_hz)}
        )
    return updated


def compute_insights(
    leads: Sequence[tuple[str, npt.NDArray[np.integer]]],
    sampling_rate_hz: float | None,
    units_per_mv: Sequence[float | None] | None = None,
) -> Insights:
    """Every insight of one ECG; pure and deterministic (same input, same output).

    ``units_per_mv``, one per lead (None where unknown), adds amplitudes in millivolts."""
    notes: list[str] = []
    arrays = [(name, np.asarray(signal)) for name, signal in leads]
    gains = list(units_per_mv) if units_per_mv is not None else [None] * len(arrays)
    if len(gains) != len(arrays):
        raise ValueError(f"{len(gains)} gains for {len(arrays)} leads")
    lead_results, qualities = leads_insights(arrays, sampling_rate_hz)
    if sampling_rate_hz is None:
        notes.append("no sampling_rate_hz given: timing, heart-rate and rhythm fields are null")
        notes.append("no sampling_rate_hz given: excessive_noise is not assessed (false)")
        return Insights(
            leads=[
                with_amplitudes(lead, None, gain)
                for lead, gain in zip(lead_results, gains, strict=True)
            ],
            sampling_rate_hz=None,
            notes=notes,
        )

    if any(
        signal.size < NOISE_MIN_DURATION_S * sampling_rate_hz and not lead.flat_line
        for (_, signal), lead in zip(arrays, lead_results, strict=True)
    ):
        notes.append(
            f"leads shorter than {NOISE_MIN_DURATION_S:g} s: excessive_noise is not assessed "
            "for them (false)"
        )
    r_peak_lead: str | None = None
    r_peak_leads: list[str] | None = None
    r_peaks: list[int] | None = None
    unusable: list[Stretch] | None = None
    rhythm = Rhythm()
    chosen: list[int] = []
    if sampling_rate_hz < MIN_SAMPLING_RATE_HZ:
        notes.append(
            f"sampling rate below {MIN_SAMPLING_RATE_HZ:g} Hz is too low to detect QRS "
            "complexes: R-peak, heart-rate and rhythm fields are null"
        )
    else:
        chosen, choice_notes = choose_r_peak_leads(qualities)
        notes.extend(choice_notes)
    duration = max(signal.size for _, signal in arrays)
    if chosen:
        fused = fuse_leads(
            detect_leads([arrays[index][1] for index in chosen], sampling_rate_hz),
            duration,
            sampling_rate_hz,
            [rhythm_lead_prior(arrays[index][0]) for index in chosen],
        )
        counts = fused.beats_per_lead
        supplying = sorted(
            (rank for rank, count in enumerate(counts) if count), key=lambda r: (-counts[r], r)
        )
        r_peak_leads = [arrays[chosen[rank]][0] for rank in supplying]
        r_peak_lead = r_peak_leads[0] if r_peak_leads else arrays[chosen[0]][0]
        r_peaks = fused.r_peaks.tolist()
        unusable = in_seconds(fused.unusable, sampling_rate_hz)
        rhythm = rhythm_from_r_peaks(
            fused.r_peaks, sampling_rate_hz, intervals_outside(fused.r_peaks, fused.unusable)
        )
        if unusable:
            notes.append(
                unusable_note(
                    sum(s.end_s - s.start_s for s in unusable), duration / sampling_rate_hz
                )
            )
        notes.extend(rhythm.notes)
        if len(chosen) > 1:
            lead_results = with_unreadable(lead_results, chosen, fused, sampling_rate_hz)
    amplitudes = (
        [None] * len(arrays)
        if r_peaks is None
        else r_amplitudes(
            [signal for _, signal in arrays], np.asarray(r_peaks, np.int64), sampling_rate_hz
        )
    )
    return Insights(
        leads=[
            with_amplitudes(lead, amplitude, gain)
            for lead, amplitude, gain in zip(lead_results, amplitudes, gains, strict=True)
        ],
        sampling_rate_hz=sampling_rate_hz,
        duration_s=duration / sampling_rate_hz,
        r_peak_lead=r_peak_lead,
        r_peak_leads=r_peak_leads,
        r_peaks=r_peaks,
        unusable=unusable,
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
