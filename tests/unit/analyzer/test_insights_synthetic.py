"""compute_insights end to end on synthetic ECGs across rates, gains and offsets."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from ecg_analyzer.insights import compute_insights

from tests.mitdb import match_beats
from tests.unit.analyzer.synthetic_ecg import synthetic_ecg

HEART_RATES_BPM = [40.0, 55.0, 75.0, 100.0, 130.0, 155.0, 180.0]
SAMPLING_RATES_HZ = [125.0, 250.0, 360.0, 500.0, 1000.0, 2000.0]
# (ADC units per mV, offset, dtype): 11-bit Holter to 24-bit-style recorders.
ADC_SETUPS: list[tuple[float, int, type[np.integer]]] = [
    (200.0, 1024, np.int16),
    (50.0, -300, np.int16),
    (1000.0, 0, np.int32),
    (5000.0, 2_000_000, np.int32),
]
CASES = [
    (heart_rate, sampling_rate, ADC_SETUPS[index % len(ADC_SETUPS)], index)
    for index, (heart_rate, sampling_rate) in enumerate(
        itertools.product(HEART_RATES_BPM, SAMPLING_RATES_HZ)
    )
]


@pytest.mark.parametrize(("heart_rate_bpm", "sampling_rate_hz", "adc", "seed"), CASES)
def test_heart_rate_within_2_bpm(
    heart_rate_bpm: float,
    sampling_rate_hz: float,
    adc: tuple[float, int, type[np.integer]],
    seed: int,
) -> None:
    """With baseline wander, white noise and mains hum, every beat is found."""
    gain, offset, dtype = adc
    ecg = synthetic_ecg(
        heart_rate_bpm,
        sampling_rate_hz,
        duration_s=30.0,
        seed=seed,
        gain_adc_per_mv=gain,
        offset_adc=offset,
        baseline_wander_mv=0.5,
        noise_mv=0.05,
        mains_mv=0.05,
        dtype=dtype,
    )
    insights = compute_insights([("II", ecg.samples)], sampling_rate_hz)
    assert insights.heart_rate_bpm is not None
    assert abs(insights.heart_rate_bpm - ecg.mean_heart_rate_bpm) <= 2.0
    assert abs(insights.heart_rate_bpm - heart_rate_bpm) <= 0.05 * heart_rate_bpm
    assert insights.r_peaks is not None
    match = match_beats(np.asarray(insights.r_peaks), ecg.r_peaks, sampling_rate_hz, 0.05)
    assert (match.false_negatives, match.false_positives) == (0, 0)
    assert insights.bradycardia is (insights.heart_rate_bpm < 60)
    assert insights.tachycardia is (insights.heart_rate_bpm > 100)
    assert insights.rhythm_regular is True


def twelve_lead(sampling_rate_hz: float = 500.0) -> list[tuple[str, np.ndarray]]:
    names = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    gains = [0.6, 1.0, 0.4, -0.8, 0.3, 0.7, -0.9, -1.2, 0.8, 1.4, 1.2, 0.9]
    return [
        (
            name,
            synthetic_ecg(
                72, sampling_rate_hz, 10.0, seed=100 + index, gain_adc_per_mv=1000.0 * gain
            ).samples.astype(np.int16),
        )
        for index, (name, gain) in enumerate(zip(names, gains, strict=True))
    ]


def test_twelve_leads_fill_every_field() -> None:
    leads = twelve_lead()
    insights = compute_insights(leads, 500.0)
    assert [lead.name for lead in insights.leads] == [name for name, _ in leads]
    for lead, (_, signal) in zip(insights.leads, leads, strict=True):
        assert lead.number_of_samples == signal.size
        assert (lead.min, lead.max) == (int(signal.min()), int(signal.max()))
        assert lead.mean == pytest.approx(float(signal.mean()))
        assert lead.std == pytest.approx(float(signal.astype(np.float64).std()))
        assert lead.zero_crossings > 0
    assert insights.duration_s == pytest.approx(10.0)
    assert insights.r_peak_lead in {name for name, _ in leads}
    for field, value in insights.model_dump().items():
        if field != "notes":
            assert value is not None, field
    assert insights.notes == []


def test_same_input_same_insights() -> None:
    leads = twelve_lead()
    first = compute_insights(leads, 500.0)
    copies = [(name, signal.copy()) for name, signal in leads]
    assert compute_insights(copies, 500.0).model_dump_json() == first.model_dump_json()


def test_without_sampling_rate_timing_fields_are_null() -> None:
    insights = compute_insights(twelve_lead(), None)
    dumped = insights.model_dump()
    per_lead_only = {"version", "leads", "notes"}
    assert all(value is None for field, value in dumped.items() if field not in per_lead_only)
    assert any("sampling_rate_hz" in note for note in insights.notes)
    assert all(lead.zero_crossings > 0 for lead in insights.leads)


def test_single_beat_gives_null_rate_with_a_note() -> None:
    ecg = synthetic_ecg(40.0, 500.0, duration_s=1.5, seed=3)
    assert ecg.r_peaks.size == 1
    insights = compute_insights([("II", ecg.samples)], 500.0)
    assert insights.r_peaks is not None
    assert len(insights.r_peaks) == 1
    assert insights.heart_rate_bpm is None
    assert insights.rhythm_regular is None
    assert any("at least 2" in note for note in insights.notes)


def test_sampling_rate_too_low_for_detection() -> None:
    insights = compute_insights([("II", np.arange(200, dtype=np.int16))], 20.0)
    assert insights.duration_s == pytest.approx(10.0)
    assert insights.r_peaks is None
    assert any("too low" in note for note in insights.notes)


def test_noise_is_not_assessed_on_leads_under_a_second() -> None:
    ecg = synthetic_ecg(75.0, 500.0, duration_s=10.0, seed=4, noise_mv=0.5)
    assert compute_insights([("II", ecg.samples)], 500.0).leads[0].excessive_noise
    insights = compute_insights([("II", ecg.samples[:400])], 500.0)
    assert not insights.leads[0].excessive_noise
    assert any("shorter than 1 s" in note for note in insights.notes)


def test_leads_of_different_lengths() -> None:
    long = synthetic_ecg(75.0, 250.0, duration_s=20.0, seed=8)
    short_noisy = synthetic_ecg(75.0, 250.0, duration_s=8.0, seed=9, noise_mv=0.5)
    insights = compute_insights([("II", long.samples), ("V1", short_noisy.samples)], 250.0)
    assert insights.duration_s == pytest.approx(20.0)
    assert [lead.number_of_samples for lead in insights.leads] == [5000, 2000]
    assert [lead.excessive_noise for lead in insights.leads] == [False, True]
    assert insights.r_peak_lead == "II"
    assert insights.heart_rate_bpm == pytest.approx(long.mean_heart_rate_bpm, abs=2.0)
