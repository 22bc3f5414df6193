"""Quality flags: silent on clean record 100, raised on constructed faulty leads."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from ecg_analyzer.insights import compute_insights
from ecg_contracts.insights import LeadInsights

from tests.mitdb import load_record
from tests.unit.analyzer.synthetic_ecg import synthetic_ecg


def flags(lead: LeadInsights) -> tuple[bool, bool, bool]:
    return lead.flat_line, lead.clipping, lead.excessive_noise


def only_lead(signal: npt.NDArray[np.integer], sampling_rate_hz: float | None) -> LeadInsights:
    return compute_insights([("II", signal)], sampling_rate_hz).leads[0]


@pytest.mark.parametrize("lead_name", ["MLII", "V5"])
@pytest.mark.parametrize("window", [slice(None), slice(0, 3600), slice(400_000, 403_600)])
def test_clean_record_100_raises_no_flag(lead_name: str, window: slice) -> None:
    signal = load_record("100").signal(lead_name)[window]
    assert flags(only_lead(signal, 360.0)) == (False, False, False)


@pytest.mark.parametrize("sampling_rate_hz", [125.0, 500.0, 2000.0])
def test_clean_synthetic_raises_no_flag(sampling_rate_hz: float) -> None:
    ecg = synthetic_ecg(75, sampling_rate_hz, duration_s=10.0, seed=11, noise_mv=0.02)
    assert flags(only_lead(ecg.samples, sampling_rate_hz)) == (False, False, False)


@pytest.mark.parametrize(
    "signal",
    [
        np.zeros(5000, dtype=np.int16),
        np.full(5000, -1024, dtype=np.int32),
        # A disconnected lead at 1024 with +-2 units of converter noise.
        1024 + np.random.default_rng(0).integers(-2, 3, 5000).astype(np.int16),
    ],
)
def test_flat_line(signal: npt.NDArray[np.integer]) -> None:
    assert flags(only_lead(signal, 500.0)) == (True, False, False)


def test_clipping_when_r_waves_saturate() -> None:
    ecg = synthetic_ecg(75, 500.0, duration_s=10.0, seed=12, gain_adc_per_mv=1000.0)
    ceiling = int(np.percentile(ecg.samples, 99.5) * 0.5)
    clipped = np.clip(ecg.samples, None, ceiling)
    assert flags(only_lead(clipped, 500.0)) == (False, True, False)
    assert flags(only_lead(ecg.samples, 500.0)) == (False, False, False)


def test_clipping_when_the_lead_sits_on_both_rails() -> None:
    ecg = synthetic_ecg(75, 360.0, duration_s=10.0, seed=13, baseline_wander_mv=6.0)
    rails = np.clip(ecg.samples, -300, 300)
    assert only_lead(rails, 360.0).clipping


@pytest.mark.parametrize("sampling_rate_hz", [125.0, 360.0, 1000.0])
def test_excessive_noise_from_white_noise(sampling_rate_hz: float) -> None:
    """Noise as strong as the ECG in the ECG band: 0.4 mV white noise."""
    ecg = synthetic_ecg(75, sampling_rate_hz, duration_s=10.0, seed=14, noise_mv=0.4)
    assert flags(only_lead(ecg.samples, sampling_rate_hz)) == (False, False, True)


def test_excessive_noise_from_mains_hum() -> None:
    ecg = synthetic_ecg(75, 500.0, duration_s=10.0, seed=15, mains_mv=1.0)
    assert only_lead(ecg.samples, 500.0).excessive_noise


def test_noise_needs_a_sampling_rate() -> None:
    ecg = synthetic_ecg(75, 500.0, duration_s=10.0, seed=14, noise_mv=0.4)
    insights = compute_insights([("II", ecg.samples)], None)
    assert not insights.leads[0].excessive_noise
    assert any("excessive_noise" in note for note in insights.notes)


def test_r_peaks_come_from_a_lead_without_flags() -> None:
    ecg = synthetic_ecg(75, 500.0, duration_s=10.0, seed=16)
    noisy = synthetic_ecg(75, 500.0, duration_s=10.0, seed=17, noise_mv=0.5)
    flat = np.zeros_like(ecg.samples)
    clipped = np.clip(ecg.samples, None, int(np.percentile(ecg.samples, 99.5) * 0.5))
    insights = compute_insights(
        [("I", flat), ("II", noisy.samples), ("III", clipped), ("V1", ecg.samples)], 500.0
    )
    assert insights.r_peak_lead == "V1"
    assert [flags(lead) for lead in insights.leads] == [
        (True, False, False),
        (False, False, True),
        (False, True, False),
        (False, False, False),
    ]


def test_all_leads_flagged_still_reports_beats_with_a_note() -> None:
    ecg = synthetic_ecg(75, 500.0, duration_s=10.0, seed=18)
    clipped = np.clip(ecg.samples, None, int(np.percentile(ecg.samples, 99.5) * 0.5))
    insights = compute_insights([("II", clipped), ("I", np.zeros_like(clipped))], 500.0)
    assert insights.r_peak_lead == "II"
    assert insights.heart_rate_bpm == pytest.approx(ecg.mean_heart_rate_bpm, abs=2.0)
    assert any("quality flag" in note for note in insights.notes)


def test_all_leads_flat_gives_no_beats() -> None:
    insights = compute_insights([("I", np.zeros(5000, dtype=np.int16))], 500.0)
    assert insights.r_peak_lead is None
    assert insights.r_peaks is None
    assert insights.heart_rate_bpm is None
    assert any("flat" in note for note in insights.notes)
