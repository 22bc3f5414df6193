"""Beats from several leads: a lead that drops out, stretches no lead can be trusted in,
beats of either polarity, recovery after an artefact, and an honest heart rate."""

from __future__ import annotations

import numpy as np
import pytest
from ecg_analyzer.insights import compute_insights
from ecg_analyzer.insights.fusion import agreement, detect_leads
from ecg_analyzer.insights.qrs import detect_r_peaks
from ecg_analyzer.insights.rhythm import rhythm_from_r_peaks
from ecg_contracts.insights import Stretch

from tests.mitdb import longest_silent_gap_s, match_beats
from tests.unit.analyzer.synthetic_ecg import synthetic_ecg, with_tremor

RATE = 360.0


def two_leads(seconds: float = 60.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lead II and V1 of one heart: same beats, different shapes and gains."""
    ecg = synthetic_ecg(72, RATE, seconds, seed=11, noise_mv=0.01)
    v1 = -0.6 * ecg.samples.astype(np.float64)
    return ecg.samples.astype(np.int32), v1.astype(np.int32), ecg.r_peaks


def test_a_lead_that_loses_contact_hands_over_to_another() -> None:
    lead_ii, v1, beats = two_leads()
    lost = slice(int(22 * RATE), int(27 * RATE))
    lead_ii[lost] = lead_ii[lost.start]  # electrode off: a flat stretch in a live lead
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    peaks = np.asarray(insights.r_peaks)
    match = match_beats(peaks, beats, RATE, tolerance_s=0.05)
    assert (match.false_negatives, match.false_positives) == (0, 0), match
    assert insights.r_peak_lead == "II"
    assert insights.r_peak_leads == ["II", "V1"]
    assert insights.unusable == []
    assert longest_silent_gap_s(peaks, beats, RATE) == 0.0
    # The silent lead says where it saw nothing while the other went on.
    [flagged] = insights.leads[0].unreadable or []
    assert 21.0 < flagged.start_s < 22.0, flagged
    assert 26.0 < flagged.end_s < 28.0, flagged
    assert insights.leads[1].unreadable == []


def test_a_pause_on_every_lead_is_not_flagged_unreadable() -> None:
    lead_ii, v1, _ = two_leads()
    pause = slice(int(22 * RATE), int(25 * RATE))
    for lead in (lead_ii, v1):
        lead[pause] = lead[pause.start]
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    assert [lead.unreadable for lead in insights.leads] == [[], []]
    assert insights.r_peaks is not None
    peaks = np.asarray(insights.r_peaks)
    assert not np.any((peaks > pause.start + 0.1 * RATE) & (peaks < pause.stop - 0.1 * RATE))


def test_unreadable_is_null_without_another_lead() -> None:
    lead_ii, _, _ = two_leads(10.0)
    [lead] = compute_insights([("II", lead_ii)], RATE).leads
    assert lead.unreadable is None


def test_stretches_no_lead_can_be_trusted_in_are_flagged_and_left_out() -> None:
    lead_ii, v1, beats = two_leads()
    rng = np.random.default_rng(3)
    noisy = slice(int(30 * RATE), int(40 * RATE))
    for lead in (lead_ii, v1):
        lead[noisy] += (400 * rng.standard_normal(noisy.stop - noisy.start)).astype(np.int32)
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    assert insights.unusable == [Stretch(start_s=30.0, end_s=40.0)]
    peaks = np.asarray(insights.r_peaks)
    # A neighbouring stretch lends its beats up to 0.15 s into it, for beats on the seam.
    seam = int(0.15 * RATE)
    assert not np.any((peaks >= noisy.start + seam) & (peaks < noisy.stop - seam))
    outside = beats[(beats < noisy.start - 0.1 * RATE) | (beats >= noisy.stop + 0.1 * RATE)]
    assert match_beats(peaks, outside, RATE, 0.05).false_negatives == 0
    assert any("10.0 s of 60.0 s had no lead with trustworthy beats" in n for n in insights.notes)
    # The interval across the flagged stretch is not an RR interval of the rate.
    assert insights.heart_rate_min_bpm is not None
    assert insights.heart_rate_min_bpm > 60


def test_every_beat_gets_its_own_polarity() -> None:
    """Upright and inverted QRS complexes (ventricular or paced beats) in one lead."""
    r_scale = np.where(np.arange(80) % 3 == 2, -1.5, 1.0)
    ecg = synthetic_ecg(70, RATE, 40.0, seed=5, r_scale=r_scale, noise_mv=0.01)
    peaks = detect_r_peaks(ecg.samples, RATE)
    assert peaks.size == ecg.r_peaks.size
    assert np.abs(peaks - ecg.r_peaks).max() / RATE <= 0.01


def test_detection_resumes_soon_after_a_huge_artefact() -> None:
    """An artefact 40 times the QRS inflates the levels; they decay instead of staying up."""
    ecg = synthetic_ecg(75, RATE, 60.0, seed=9, noise_mv=0.01)
    samples = ecg.samples.astype(np.int64)
    burst = slice(int(20 * RATE), int(21 * RATE))
    samples[burst] += (8000 * np.sign(np.sin(np.arange(burst.stop - burst.start) / 3))).astype(
        np.int64
    )
    peaks = detect_r_peaks(samples, RATE)
    after = ecg.r_peaks[ecg.r_peaks > burst.stop + 2 * RATE]
    assert match_beats(peaks, after, RATE, 0.05).false_negatives == 0
    kept = ecg.r_peaks[(ecg.r_peaks < burst.start) | (ecg.r_peaks > burst.stop)]
    assert longest_silent_gap_s(peaks, kept, RATE) <= 2.0


@pytest.mark.parametrize(
    ("rr_s", "note"),
    [
        ([0.8, 0.25] * 20, "under half the median RR"),
        ([0.8] * 30 + [1.6] * 3, "over 1.8 times the median RR"),
    ],
)
def test_suspicious_rr_intervals_are_noted(rr_s: list[float], note: str) -> None:
    peaks = np.round(np.concatenate(([0.0], np.cumsum(rr_s))) * RATE).astype(np.int64)
    rhythm = rhythm_from_r_peaks(peaks, RATE)
    assert any(note in n for n in rhythm.notes), rhythm.notes


def test_intervals_marked_unusable_are_left_out_of_the_rate() -> None:
    peaks = np.asarray([0, 360, 720, 5000, 5360], dtype=np.int64)
    usable = np.asarray([True, True, False, True])
    rhythm = rhythm_from_r_peaks(peaks, RATE, usable)
    assert rhythm.heart_rate_bpm == pytest.approx(60.0)
    assert rhythm.heart_rate_min_bpm == pytest.approx(60.0)
    nothing = rhythm_from_r_peaks(peaks[:2], RATE, np.asarray([False]))
    assert nothing.heart_rate_bpm is None
    assert nothing.notes


def saturated_amplifier(seconds: float = 60.0) -> tuple[np.ndarray, np.ndarray, slice]:
    """One lead whose amplifier saturates at 22 s (MIT-BIH 116 MLII): the baseline leaps by
    four times the QRS and decays over seconds, and until 29 s no beat shows through the
    noise."""
    ecg = synthetic_ecg(72, RATE, seconds, seed=11, noise_mv=0.01)
    samples = ecg.samples.astype(np.float64)
    blocked = slice(int(22 * RATE), int(29 * RATE))
    time_s = np.arange(blocked.stop - blocked.start) / RATE
    noise = 4 * np.random.default_rng(2).standard_normal(time_s.size)
    samples[blocked] = samples[blocked.start] + 800 * np.exp(-time_s / 2.0) + noise
    return samples.astype(np.int32), ecg.r_peaks, blocked


def test_a_saturated_amplifier_on_the_only_lead_is_unusable_not_a_pause() -> None:
    lead_ii, beats, blocked = saturated_amplifier()
    insights = compute_insights([("II", lead_ii)], RATE)
    [span] = insights.unusable or []
    assert blocked.start / RATE - 1.0 < span.start_s < blocked.start / RATE + 0.2, span
    assert blocked.stop / RATE - 0.2 < span.end_s < blocked.stop / RATE + 1.0, span
    peaks = np.asarray(insights.r_peaks)
    excluded = ((round(span.start_s * RATE), round(span.end_s * RATE)),)
    assert longest_silent_gap_s(peaks, beats, RATE, excluded=excluded) <= 1.0
    assert any("had no lead with trustworthy beats" in note for note in insights.notes)
    # The 7 s across it is no RR interval: the slowest rate is the ECG's own.
    assert insights.heart_rate_min_bpm is not None
    assert insights.heart_rate_min_bpm > 60


def test_a_pause_on_the_only_lead_stays_a_pause() -> None:
    """Through a real pause the baseline only wanders (here by a quarter of the QRS; up to
    0.23 of it in MIT-BIH 201's pauses): no stretch is unusable."""
    ecg = synthetic_ecg(72, RATE, 60.0, seed=11, noise_mv=0.01, baseline_wander_mv=0.3)
    samples = ecg.samples.astype(np.int32)
    pause = slice(int(22 * RATE), int(25 * RATE))
    time_s = np.arange(samples.size) / RATE
    wander = np.round(25 * np.sin(2 * np.pi * 0.25 * time_s)).astype(np.int32)
    samples[pause] = samples[pause.start] + wander[pause] - wander[pause.start]
    insights = compute_insights([("II", samples)], RATE)
    assert insights.unusable == []
    peaks = np.asarray(insights.r_peaks)
    assert not np.any((peaks > pause.start + 0.1 * RATE) & (peaks < pause.stop - 0.1 * RATE))


def test_a_lead_that_stays_readable_through_a_pause_shows_it_is_one() -> None:
    """Lead II saturates while V1, quiet, shows no beat either: the pause is real, and only
    the lead that could not show it says so."""
    lead_ii, _, blocked = saturated_amplifier()
    _, v1, _ = two_leads()
    v1[blocked] = v1[blocked.start]
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    assert insights.unusable == []
    peaks = np.asarray(insights.r_peaks)
    assert not np.any((peaks > blocked.start + 0.3 * RATE) & (peaks < blocked.stop - 0.3 * RATE))


def test_a_lead_is_searched_on_higher_bands_only_where_no_other_lead_finds_its_beats() -> None:
    """V1 drowned in a tremor breaks the rhythm that lead II keeps: V1 alone moves to a
    higher band (on 5-15 Hz it has 131 false beats in 60 s). With the same irregular beats on
    both leads (atrial fibrillation), the rhythm is the heart's, and neither lead is searched
    again."""
    lead_ii, v1, beats = two_leads()
    tremulous = with_tremor((0.25 * v1).astype(np.int32), 6.5, 0.1)
    ii, noisy_v1 = detect_leads([lead_ii, tremulous], RATE)
    assert ii.integral is ii.standard_integral
    assert noisy_v1.integral is not noisy_v1.standard_integral
    assert match_beats(noisy_v1.r_peaks, beats, RATE, 0.05).false_positives <= 20

    rng = np.random.default_rng(8)
    ecg = synthetic_ecg(80, RATE, 60.0, seed=8, rr_intervals_s=rng.uniform(0.45, 1.2, 90))
    irregular = [ecg.samples.astype(np.int32), (-0.6 * ecg.samples).astype(np.int32)]
    for detection in detect_leads(irregular, RATE):
        assert detection.integral is detection.standard_integral
        match = match_beats(detection.r_peaks, ecg.r_peaks, RATE, 0.05)
        assert (match.false_negatives, match.false_positives) == (0, 0)


def small_premature_beats(scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Lead II where every 7th beat comes early and shows a QRS ``scale`` times the others
    (a ventricular beat that hardly projects onto it, as on MIT-BIH 203 MLII), and V1, which
    shows every beat in full; and how many small beats there are."""
    pattern = [0.8] * 5 + [0.45, 0.75]
    rr_s = np.tile(pattern, 20)
    small = np.arange(rr_s.size + 1) % len(pattern) == len(pattern) - 1
    full = synthetic_ecg(72, RATE, 60.0, seed=11, noise_mv=0.01, rr_intervals_s=rr_s)
    ii = synthetic_ecg(
        72,
        RATE,
        60.0,
        seed=11,
        noise_mv=0.01,
        rr_intervals_s=rr_s,
        r_scale=np.where(small, scale, 1),
    )
    v1 = (-0.6 * full.samples).astype(np.int32)
    count = int(np.count_nonzero(small[: ii.r_peaks.size]))
    return ii.samples.astype(np.int32), v1, ii.r_peaks, count


def test_a_beat_the_rhythm_lead_shows_too_small_is_taken_from_another_lead() -> None:
    """Lead II alone misses the small beats (their interval is too short for its search
    back); V1 finds them, II shows a small QRS there: two leads' evidence for one beat."""
    lead_ii, v1, beats, small = small_premature_beats(0.35)
    alone = match_beats(detect_r_peaks(lead_ii, RATE), beats, RATE, 0.05)
    assert (alone.false_negatives, alone.false_positives) == (small, 0)
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    fused = match_beats(np.asarray(insights.r_peaks), beats, RATE, 0.05)
    assert (fused.false_negatives, fused.false_positives) == (0, 0)
    assert insights.r_peak_leads == ["II", "V1"]


def test_a_beat_of_another_lead_where_the_rhythm_lead_shows_nothing_is_not_taken() -> None:
    """In a 1.6 s pause on both leads, V1 alone has an artefact it takes for a beat; lead
    II, which the stretch relies on, shows nothing there, so the pause stays a pause."""
    rr_s = np.asarray([0.8] * 30 + [1.6] + [0.8] * 40)
    ecg = synthetic_ecg(72, RATE, 60.0, seed=11, noise_mv=0.01, rr_intervals_s=rr_s)
    lead_ii = ecg.samples.astype(np.int32)
    v1 = (-0.6 * ecg.samples).astype(np.int32)
    middle = int(ecg.r_peaks[30] + 0.8 * RATE)
    v1[middle : middle + 8] -= 400
    assert np.any(np.abs(detect_r_peaks(v1, RATE) - middle) < 0.05 * RATE)
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    fused = match_beats(np.asarray(insights.r_peaks), ecg.r_peaks, RATE, 0.05)
    assert (fused.false_negatives, fused.false_positives) == (0, 0)
    assert insights.r_peak_leads == ["II"]


def test_a_trace_in_a_pause_that_no_other_lead_shows_is_not_a_beat() -> None:
    """In a 2 s pause, lead II has a bump a sixth of its QRS, 0.6 s after the last beat
    (a T wave's remnant, MIT-BIH 201 MLII): its threshold, lowered through the silence,
    takes it; V1 sees every beat of the stretch and nothing there, so it is dropped."""
    rr_s = np.asarray([0.8] * 30 + [2.0] + [0.8] * 45)
    ecg = synthetic_ecg(72, RATE, 60.0, seed=11, noise_mv=0.01, rr_intervals_s=rr_s)
    lead_ii = ecg.samples.astype(np.int32)
    v1 = (-0.6 * ecg.samples).astype(np.int32)
    time_s = np.arange(lead_ii.size) / RATE
    bump_s = ecg.r_peaks[30] / RATE + 0.6
    lead_ii += np.round(30 * np.exp(-0.5 * ((time_s - bump_s) / 0.02) ** 2)).astype(np.int32)
    alone = match_beats(detect_r_peaks(lead_ii, RATE), ecg.r_peaks, RATE, 0.05)
    assert (alone.false_negatives, alone.false_positives) == (0, 1)
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    fused = match_beats(np.asarray(insights.r_peaks), ecg.r_peaks, RATE, 0.05)
    assert (fused.false_negatives, fused.false_positives) == (0, 0)


def test_a_beat_lead_ii_lost_behind_a_trace_is_taken_from_the_lead_that_shows_it() -> None:
    """At 55 bpm lead II loses one QRS (MIT-BIH 108 MLII, in a baseline leap) and takes a
    trace 0.5 s after the beat before for one. V1 shows neither the trace nor a gap: the
    trace is dropped, and the 2.15 s left without a beat on II, longer than a lead may be
    silent, takes V1's beat though II shows nothing of it."""
    full = synthetic_ecg(55, RATE, 60.0, seed=11, noise_mv=0.01)
    lost = np.ones(60)
    lost[30] = 0.0
    lead_ii = synthetic_ecg(55, RATE, 60.0, seed=11, noise_mv=0.01, r_scale=lost).samples
    lead_ii = lead_ii.astype(np.int32)
    v1 = (-0.6 * full.samples).astype(np.int32)
    time_s = np.arange(lead_ii.size) / RATE
    trace_s = full.r_peaks[29] / RATE + 0.5
    lead_ii += np.round(30 * np.exp(-0.5 * ((time_s - trace_s) / 0.02) ** 2)).astype(np.int32)
    alone = match_beats(detect_r_peaks(lead_ii, RATE), full.r_peaks, RATE, 0.05)
    assert alone.false_negatives == 1
    assert alone.false_positives >= 1
    insights = compute_insights([("II", lead_ii), ("V1", v1)], RATE)
    fused = match_beats(np.asarray(insights.r_peaks), full.r_peaks, RATE, 0.05)
    assert (fused.false_negatives, fused.false_positives) == (0, 0)
    assert insights.r_peak_leads == ["II", "V1"]


def test_leads_agree_when_they_find_the_same_beats() -> None:
    beats = np.arange(100, 5000, 150, dtype=np.int64)
    assert agreement(beats, beats + 5, tolerance=10) == 1.0
    doubled = np.sort(np.concatenate((beats, beats + 70)))
    assert agreement(beats, doubled, tolerance=10) == 0.5
    assert agreement(beats, np.empty(0, dtype=np.int64), tolerance=10) == 0.0
