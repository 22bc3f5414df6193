"""QRS detector behaviour on controlled synthetic leads."""

from __future__ import annotations

import numpy as np
import pytest
from ecg_analyzer.insights.qrs import detect_r_peaks

from tests.mitdb import match_beats
from tests.unit.analyzer.synthetic_ecg import synthetic_ecg


@pytest.mark.parametrize("sampling_rate_hz", [125.0, 250.0, 360.0, 500.0, 1000.0, 2000.0])
def test_peaks_sit_on_the_r_wave(sampling_rate_hz: float) -> None:
    ecg = synthetic_ecg(70, sampling_rate_hz, seed=1, noise_mv=0.01)
    peaks = detect_r_peaks(ecg.samples, sampling_rate_hz)
    assert peaks.size == ecg.r_peaks.size
    error_s = np.abs(peaks - ecg.r_peaks) / sampling_rate_hz
    # One sample of rounding at 125 Hz is 8 ms; at higher rates the error is noise-bound.
    assert error_s.max() <= max(1.0 / sampling_rate_hz, 0.004)


def test_negative_lead_gets_its_dominant_downward_deflection() -> None:
    ecg = synthetic_ecg(80, 500.0, seed=2, noise_mv=0.01)
    inverted = -ecg.samples
    peaks = detect_r_peaks(inverted, 500.0)
    assert peaks.size == ecg.r_peaks.size
    assert np.abs(peaks - ecg.r_peaks).max() <= 2


def test_gain_and_offset_do_not_matter() -> None:
    ecg = synthetic_ecg(90, 360.0, seed=3, gain_adc_per_mv=100.0)
    peaks = detect_r_peaks(ecg.samples, 360.0)
    rescaled = ecg.samples.astype(np.int64) * 64 - 1_000_000
    assert np.array_equal(detect_r_peaks(rescaled, 360.0), peaks)


def test_small_beat_is_recovered_by_search_back() -> None:
    """A QRS at 40 % amplitude (16 % of the integrated energy) sits under the threshold
    but over its half, which search-back uses once the beat is overdue."""
    r_scale = np.ones(40)
    r_scale[12] = 0.4
    ecg = synthetic_ecg(60, 500.0, seed=4, r_scale=r_scale, rr_jitter=0.0)
    peaks = detect_r_peaks(ecg.samples, 500.0)
    match = match_beats(peaks, ecg.r_peaks, 500.0, tolerance_s=0.05)
    assert match.false_negatives == 0
    assert match.false_positives == 0


def test_tall_t_waves_are_not_beats() -> None:
    """T waves taller than the R wave pass the threshold; their gentler slope rejects them."""
    ecg = synthetic_ecg(60, 500.0, seed=5, t_amplitude_mv=1.5, t_width_s=0.04)
    peaks = detect_r_peaks(ecg.samples, 500.0)
    match = match_beats(peaks, ecg.r_peaks, 500.0, tolerance_s=0.05)
    assert (match.false_negatives, match.false_positives) == (0, 0)


def test_premature_beats_and_pauses_are_followed() -> None:
    rr = np.tile([0.8, 0.8, 0.45, 1.15, 0.8, 1.6], 6)  # premature beats and a pause
    ecg = synthetic_ecg(75, 360.0, duration_s=30.0, seed=6, rr_intervals_s=rr)
    peaks = detect_r_peaks(ecg.samples, 360.0)
    match = match_beats(peaks, ecg.r_peaks, 360.0, tolerance_s=0.05)
    assert (match.false_negatives, match.false_positives) == (0, 0)


@pytest.mark.parametrize(
    "signal",
    [np.zeros(5000, dtype=np.int16), np.full(5000, 1234, dtype=np.int32), np.zeros(10, np.int16)],
)
def test_no_beats_in_a_flat_or_tiny_signal(signal: np.ndarray) -> None:
    assert detect_r_peaks(signal, 500.0).size == 0


def test_refuses_rates_too_low_for_the_qrs_band() -> None:
    with pytest.raises(ValueError, match="at least"):
        detect_r_peaks(np.zeros(1000, dtype=np.int16), 20.0)


def test_deterministic() -> None:
    ecg = synthetic_ecg(100, 250.0, seed=7, noise_mv=0.05)
    first = detect_r_peaks(ecg.samples, 250.0)
    assert np.array_equal(first, detect_r_peaks(ecg.samples.copy(), 250.0))
