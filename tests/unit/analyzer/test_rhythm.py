"""Rate, RR, HRV and rhythm flags from known R-peak positions."""

from __future__ import annotations

import numpy as np
import pytest
from ecg_analyzer.insights.rhythm import normal_intervals, rhythm_from_r_peaks


def peaks_from_rr_ms(rr_ms: list[float], sampling_rate_hz: float = 1000.0) -> np.ndarray:
    return (
        np.round(np.concatenate(([0.0], np.cumsum(rr_ms))) * sampling_rate_hz / 1000).astype(
            np.int64
        )
        + 500
    )


def test_constant_rhythm() -> None:
    rhythm = rhythm_from_r_peaks(peaks_from_rr_ms([800.0] * 20), 1000.0)
    assert rhythm.heart_rate_bpm == pytest.approx(75.0)
    assert rhythm.heart_rate_min_bpm == pytest.approx(75.0)
    assert rhythm.heart_rate_max_bpm == pytest.approx(75.0)
    assert rhythm.rr_mean_ms == pytest.approx(800.0)
    assert rhythm.rr_std_ms == pytest.approx(0.0)
    assert rhythm.sdnn_ms == pytest.approx(0.0)
    assert rhythm.rmssd_ms == pytest.approx(0.0)
    assert rhythm.pnn50_percent == 0.0
    assert rhythm.rhythm_regular is True
    assert (rhythm.bradycardia, rhythm.tachycardia) == (False, False)
    assert rhythm.notes == []


def test_alternating_rhythm_hrv_by_hand() -> None:
    """RR 700/800 ms alternating: successive differences all 100 ms."""
    rr = [700.0, 800.0] * 10
    rhythm = rhythm_from_r_peaks(peaks_from_rr_ms(rr), 1000.0)
    assert rhythm.rr_mean_ms == pytest.approx(750.0)
    assert rhythm.heart_rate_bpm == pytest.approx(80.0)
    assert rhythm.heart_rate_min_bpm == pytest.approx(75.0)
    assert rhythm.heart_rate_max_bpm == pytest.approx(60000 / 700)
    assert rhythm.rr_std_ms == pytest.approx(50.0)
    assert rhythm.sdnn_ms == pytest.approx(50.0)
    assert rhythm.rmssd_ms == pytest.approx(100.0)
    assert rhythm.pnn50_percent == pytest.approx(100.0)
    assert rhythm.rhythm_regular is True


def test_premature_beat_is_left_out_of_nn_statistics() -> None:
    rr = [1000.0] * 10 + [600.0, 1400.0] + [1000.0] * 10
    rhythm = rhythm_from_r_peaks(peaks_from_rr_ms(rr), 1000.0)
    normal = normal_intervals(np.asarray(rr))
    assert normal.tolist() == [True] * 10 + [False, False] + [True] * 10
    assert rhythm.sdnn_ms == pytest.approx(0.0)
    assert rhythm.rmssd_ms == pytest.approx(0.0)
    assert rhythm.rr_std_ms == pytest.approx(float(np.std(rr)))
    assert rhythm.heart_rate_max_bpm == pytest.approx(100.0)


def test_irregular_rhythm() -> None:
    rr = np.random.default_rng(3).uniform(450.0, 1100.0, 40).tolist()
    assert rhythm_from_r_peaks(peaks_from_rr_ms(rr), 1000.0).rhythm_regular is False


@pytest.mark.parametrize(
    ("rr_ms", "bradycardia", "tachycardia"),
    [(1100.0, True, False), (1000.0, False, False), (600.0, False, False), (550.0, False, True)],
)
def test_rate_flags(rr_ms: float, bradycardia: bool, tachycardia: bool) -> None:
    rhythm = rhythm_from_r_peaks(peaks_from_rr_ms([rr_ms] * 10), 1000.0)
    assert (rhythm.bradycardia, rhythm.tachycardia) == (bradycardia, tachycardia)


def test_sampling_rate_converts_samples_to_milliseconds() -> None:
    rhythm = rhythm_from_r_peaks(np.arange(0, 3600, 360), 360.0)
    assert rhythm.rr_mean_ms == pytest.approx(1000.0)
    assert rhythm.heart_rate_bpm == pytest.approx(60.0)


@pytest.mark.parametrize("peaks", [[], [1234]])
def test_fewer_than_two_beats(peaks: list[int]) -> None:
    rhythm = rhythm_from_r_peaks(np.asarray(peaks, dtype=np.int64), 500.0)
    assert rhythm.heart_rate_bpm is None
    assert rhythm.rr_mean_ms is None
    assert rhythm.rhythm_regular is None
    assert rhythm.bradycardia is None
    assert len(rhythm.notes) == 1


def test_two_beats_give_a_rate_but_no_successive_differences() -> None:
    rhythm = rhythm_from_r_peaks(np.asarray([100, 600]), 500.0)
    assert rhythm.heart_rate_bpm == pytest.approx(60.0)
    assert rhythm.rmssd_ms is None
    assert rhythm.pnn50_percent is None
    assert rhythm.rhythm_regular is None
    assert len(rhythm.notes) == 2
