"""The WFDB reader, and beat detection and insights on the 25 MIT-BIH records."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pytest
from ecg_analyzer.insights import compute_insights
from ecg_analyzer.insights.qrs import detect_r_peaks
from ecg_analyzer.insights.rhythm import rhythm_from_r_peaks
from ecg_contracts.insights import Insights

from tests.mitdb import (
    EC57_MATCH_WINDOW_S,
    BeatMatch,
    Record,
    decode_format_212,
    in_samples,
    load_record,
    longest_silent_gap_s,
    match_beats,
    pooled,
    record_names,
    score_record,
)


@pytest.fixture(scope="module")
def record() -> Record:
    return load_record("100")


def test_format_212_unpacks_two_twelve_bit_samples_from_three_bytes() -> None:
    # 0x123 and -1 (0xFFF): byte 0 = low 8 bits of the first, byte 1 = high nibbles
    # (second's in the upper half), byte 2 = low 8 bits of the second.
    raw = bytes([0x23, 0xF1, 0xFF, 0x00, 0x08, 0x01])
    assert decode_format_212(raw, 2).tolist() == [[0x123, -2048], [-1, 1]]


def test_header_and_signals(record: Record) -> None:
    """The header's comment and blank lines are skipped; checksums verified on load."""
    assert record.sampling_rate_hz == 360.0
    assert record.signal_names == ["MLII", "V5"]
    assert record.signals.shape == (2, 650_000)
    # First samples equal the header's initial values.
    assert record.signals[:, 0].tolist() == [995, 1011]


def test_reference_beats_match_the_published_counts(record: Record) -> None:
    assert record.beat_samples.size == 2273
    assert Counter(record.beat_symbols) == {"N": 2239, "A": 33, "V": 1}
    assert np.all(np.diff(record.beat_samples) > 0)


def test_match_beats_pairs_one_to_one() -> None:
    reference = np.asarray([100, 400, 700])
    detected = np.asarray([105, 110, 695, 1000])
    match = match_beats(detected, reference, sampling_rate_hz=100.0, tolerance_s=0.075)
    assert (match.true_positives, match.false_negatives, match.false_positives) == (2, 1, 2)
    assert match.mean_absolute_error_s == pytest.approx(0.05)


def test_qrs_detection_on_whole_record_mlii(record: Record) -> None:
    """Se and +P >= 99.9 % and mean timing error <= 10 ms over all 2273 beats."""
    peaks = detect_r_peaks(record.signal("MLII"), record.sampling_rate_hz)
    match = match_beats(peaks, record.beat_samples, record.sampling_rate_hz, tolerance_s=0.075)
    assert match.sensitivity >= 0.999, match
    assert match.positive_predictivity >= 0.999, match
    assert match.mean_absolute_error_s <= 0.010, match


def test_insights_of_whole_record(record: Record) -> None:
    insights = compute_insights(
        [(name, record.signal(name)) for name in record.signal_names], record.sampling_rate_hz
    )
    assert insights.duration_s == pytest.approx(650_000 / 360)
    assert not any(
        lead.flat_line or lead.clipping or lead.excessive_noise for lead in insights.leads
    )
    assert insights.r_peak_lead is not None
    assert insights.r_peaks is not None
    reference_rate = 60.0 * 360.0 / float(np.mean(np.diff(record.beat_samples)))
    assert insights.heart_rate_bpm == pytest.approx(reference_rate, abs=0.5)
    assert insights.bradycardia is False
    assert insights.tachycardia is False
    # Sinus rhythm with 34 premature beats in 30 minutes: regular underlying rhythm.
    assert insights.rhythm_regular is True


# --- The 25 records (issue 9): floors at the figures reached, so a regression fails ---------
# `make validate` prints the per-record table; the targets that are not reached yet
# (99.8 % Se/+P, second lead +P 98 %) are stated in the README.


@dataclass(frozen=True)
class RecordResult:
    name: str
    record: Record
    primary_peaks: np.ndarray
    second_peaks: np.ndarray
    insights: Insights


def primary_lead(record: Record) -> str:
    return "MLII" if "MLII" in record.signal_names else "V5"


def second_lead(record: Record) -> str:
    return next(lead for lead in record.signal_names if lead != primary_lead(record))


@pytest.fixture(scope="module")
def all_records() -> list[RecordResult]:
    results = []
    for name in record_names():
        record = load_record(name)
        primary, second = primary_lead(record), second_lead(record)
        results.append(
            RecordResult(
                name,
                record,
                detect_r_peaks(record.signal(primary), record.sampling_rate_hz),
                detect_r_peaks(record.signal(second), record.sampling_rate_hz),
                compute_insights(
                    [(lead, record.signal(lead)) for lead in record.signal_names],
                    record.sampling_rate_hz,
                ),
            )
        )
    return results


def gross(matches: list[BeatMatch]) -> tuple[float, float, float]:
    total = pooled(matches)
    return total.sensitivity, total.positive_predictivity, total.mean_absolute_error_s


def gross_at_ec57s_window(
    peaks: list[np.ndarray], all_records: list[RecordResult]
) -> tuple[float, float, float]:
    """``gross`` of each record's ``peaks``, matched at EC57's window (issue 9's)."""
    return gross(
        [
            score_record(p, r.record, tolerance_s=EC57_MATCH_WINDOW_S)
            for p, r in zip(peaks, all_records, strict=True)
        ]
    )


def unusable_samples(result: RecordResult) -> tuple[tuple[int, int], ...]:
    return in_samples(result.insights.unusable, result.record.sampling_rate_hz)


def test_the_25_records_are_there() -> None:
    assert len(record_names()) == 25


def test_primary_lead_meets_the_targets_at_ec57s_matching_window(
    all_records: list[RecordResult],
) -> None:
    """Issue 9's bars, at the window it measured with: Se and +P 99.8 %, error 8 ms."""
    se, ppv, error = gross_at_ec57s_window([r.primary_peaks for r in all_records], all_records)
    assert se >= 0.998, se
    assert ppv >= 0.998, ppv
    assert error <= 0.008, error


def test_second_lead_meets_the_targets_at_ec57s_matching_window(
    all_records: list[RecordResult],
) -> None:
    se, ppv, _ = gross_at_ec57s_window([r.second_peaks for r in all_records], all_records)
    assert se >= 0.98, se
    assert ppv >= 0.98, ppv


def test_primary_lead_gross(all_records: list[RecordResult]) -> None:
    """At the strict window, over 99.72 % Se since an irregular lead's bands vote (99.70 %
    before: 203 MLII's small beats among large ectopic ones), over 99.8 % +P since no two
    R waves are within 250 ms (99.78 % before)."""
    se, ppv, error = gross([score_record(r.primary_peaks, r.record) for r in all_records])
    assert se >= 0.9972, se
    assert ppv >= 0.9980, ppv
    assert error <= 0.004


def test_second_lead_gross(all_records: list[RecordResult]) -> None:
    """Over 98 % both: no two R waves within 250 ms took its +P from 97.89 to 98.27 %, for
    80 beats lost in noise (Se 99.08 -> 98.94 %)."""
    se, ppv, _ = gross([score_record(r.second_peaks, r.record) for r in all_records])
    assert se >= 0.989, se
    assert ppv >= 0.982, ppv


@pytest.mark.parametrize("name", ["102", "104"])
def test_paced_beats_are_found_at_their_spike_on_both_leads(
    all_records: list[RecordResult], name: str
) -> None:
    """102's and 104's annotations sit on the pacing spikes, up to 130 ms before the paced
    QRS's dominant deflection: only marks on the spike match them. On 102 V2 the spikes
    are a quarter to a third the height of the QRS."""
    [paced] = [r for r in all_records if r.name == name]
    for peaks in (paced.primary_peaks, paced.second_peaks):
        match = score_record(peaks, paced.record)
        assert match.sensitivity >= 0.98, match
        assert match.positive_predictivity >= 0.96, match


def test_insights_gross(all_records: list[RecordResult]) -> None:
    """All leads fused, the leads voting where one is unsure: more sensitive and predictive
    than the primary lead alone (99.70 / 99.78 %), and as well placed; the targets met at
    EC57's window."""
    peaks = [np.asarray(r.insights.r_peaks or [], dtype=np.int64) for r in all_records]
    se, ppv, error = gross(
        [score_record(p, r.record) for p, r in zip(peaks, all_records, strict=True)]
    )
    assert se >= 0.9972, se
    assert ppv >= 0.9980, ppv
    assert error <= 0.0045, error
    se, ppv, error = gross_at_ec57s_window(peaks, all_records)
    assert se >= 0.998, se
    assert ppv >= 0.998, ppv
    assert error <= 0.008, error


@pytest.fixture(scope="module")
def one_lead_insights(all_records: list[RecordResult]) -> dict[tuple[str, str], Insights]:
    """Per record and lead role, the insights given that lead alone (a one-lead device)."""
    results: dict[tuple[str, str], Insights] = {}
    for result in all_records:
        for role, lead in (
            ("primary", primary_lead(result.record)),
            ("second", second_lead(result.record)),
        ):
            results[result.name, role] = compute_insights(
                [(lead, result.record.signal(lead))], result.record.sampling_rate_hz
            )
    return results


def test_a_second_lead_alone_gives_insights_a_one_lead_device_can_trust(
    all_records: list[RecordResult], one_lead_insights: dict[tuple[str, str], Insights]
) -> None:
    """Given only the second lead, the insights drop the stretches they cannot trust (the
    beats missed there count here) and keep those whose beats a higher band found: 101 V1's
    tremor hides its QRS on 5-15 Hz, not on 15-35 Hz (before its stretches were judged on
    their own band, 1566 of its 1805 s were dropped: 94.2 / 98.6 %)."""
    matches = [
        score_record(
            np.asarray(one_lead_insights[r.name, "second"].r_peaks or [], dtype=np.int64),
            r.record,
        )
        for r in all_records
    ]
    se, ppv, _ = gross(matches)
    assert se >= 0.980, se
    assert ppv >= 0.983, ppv


def test_one_lead_insights_are_never_silent_for_long_outside_unusable_stretches(
    all_records: list[RecordResult], one_lead_insights: dict[tuple[str, str], Insights]
) -> None:
    """116 MLII alone was silent for 6.7 s where its amplifier saturates: its baseline
    moves there as no pause moves it, so the stretch is unusable, not a pause."""
    for result in all_records:
        for role in ("primary", "second"):
            insights = one_lead_insights[result.name, role]
            rate = result.record.sampling_rate_hz
            gap = longest_silent_gap_s(
                np.asarray(insights.r_peaks or [], dtype=np.int64),
                result.record.beat_samples,
                rate,
                excluded=in_samples(insights.unusable, rate) + result.record.flutter,
            )
            assert gap <= 2.0, (result.name, role, gap)


def test_insights_never_silent_for_long_outside_flagged_stretches(
    all_records: list[RecordResult],
) -> None:
    gaps = [
        longest_silent_gap_s(
            np.asarray(r.insights.r_peaks or [], dtype=np.int64),
            r.record.beat_samples,
            r.record.sampling_rate_hz,
            excluded=unusable_samples(r),
        )
        for r in all_records
    ]
    assert max(gaps) <= 2.0, gaps


def test_the_primary_lead_alone_is_silent_for_over_2_s_on_one_record_at_most(
    all_records: list[RecordResult],
) -> None:
    """Not even where its beats come between larger ectopic ones (201, 203, 208) or a run
    of them shrinks (223). The one left: 116's MLII, whose amplifier saturates for 6 s and
    leaves QRS complexes at 3 % of their size, below what a real pause's noise reaches."""
    gaps = {
        r.name: longest_silent_gap_s(
            r.primary_peaks,
            r.record.beat_samples,
            r.record.sampling_rate_hz,
            excluded=r.record.flutter,
        )
        for r in all_records
    }
    assert sum(gap > 2.0 for gap in gaps.values()) <= 1, gaps
    assert max(gaps.values()) <= 7.0, gaps


def test_no_lead_is_silent_for_over_2_s_outside_the_stretches_flagged_unreadable_on_it(
    all_records: list[RecordResult],
) -> None:
    """The issue's rule, lead by lead: where a lead misses beats for over 2 s (116 MLII's
    saturated amplifier, 207 MLII just after its flutter) the insights say so, from the
    other lead's beats. The flags stay few: they are not a way to hide a weak detector."""
    flagged_s = 0.0
    for result in all_records:
        rate = result.record.sampling_rate_hz
        leads = {lead.name: lead for lead in result.insights.leads}
        for name, peaks in (
            (primary_lead(result.record), result.primary_peaks),
            (second_lead(result.record), result.second_peaks),
        ):
            stretches = leads[name].unreadable
            assert stretches is not None
            spans = in_samples(stretches, rate)
            flagged_s += sum(s.end_s - s.start_s for s in stretches)
            gap = longest_silent_gap_s(
                peaks, result.record.beat_samples, rate, excluded=spans + result.record.flutter
            )
            assert gap <= 2.0, (result.name, name, gap)
    assert flagged_s <= 25.0, flagged_s


def test_no_two_r_peaks_are_closer_than_two_qrs_complexes_can_be(
    all_records: list[RecordResult],
) -> None:
    """Moved onto their R waves, two QRS centres could end up under 250 ms apart (371 such
    pairs on the second leads, 59 on the primary ones, mostly a beat and a noise peak in
    muscle noise); the detector keeps the larger of two that close."""
    for result in all_records:
        rate = result.record.sampling_rate_hz
        for peaks in (result.primary_peaks, result.second_peaks):
            assert np.diff(peaks).min() >= 0.25 * rate, result.name


def test_a_lead_recovers_after_an_artefact(all_records: list[RecordResult]) -> None:
    """Every lead of every record, alone: never silent for long (209 V1 was for 351 s)."""
    for result in all_records:
        for peaks in (result.primary_peaks, result.second_peaks):
            gap = longest_silent_gap_s(
                peaks, result.record.beat_samples, result.record.sampling_rate_hz
            )
            assert gap <= 7.0, (result.record.signal_names, gap)


def test_heart_rate_within_2_bpm_or_noted(all_records: list[RecordResult]) -> None:
    for result in all_records:
        reference = rhythm_from_r_peaks(
            result.record.beat_samples, result.record.sampling_rate_hz
        ).heart_rate_bpm
        rate = result.insights.heart_rate_bpm
        assert reference is not None
        assert rate is None or abs(rate - reference) <= 2.0 or result.insights.notes, (
            result.record.signal_names,
            rate,
            reference,
        )


def test_the_rhythm_lead_is_preferred(all_records: list[RecordResult]) -> None:
    """MLII (V5 on 102 and 104) supplies most beats, except where another lead is clearly
    better: 201's V1 has taller QRS complexes than its MLII."""
    chosen = [r.insights.r_peak_lead == primary_lead(r.record) for r in all_records]
    assert sum(chosen) >= 24, [r.insights.r_peak_leads for r in all_records]
