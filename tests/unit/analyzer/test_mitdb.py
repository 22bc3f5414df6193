"""The WFDB reader and the QRS detector's accuracy on MIT-BIH record 100."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from ecg_analyzer.insights import compute_insights
from ecg_analyzer.insights.qrs import detect_r_peaks

from tests.mitdb import Record, decode_format_212, load_record, match_beats


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
