"""R amplitudes per lead, in ADC units and, with the lead's gain, in millivolts."""

from __future__ import annotations

import numpy as np
import pytest
from ecg_analyzer.insights import compute_insights

from tests.unit.analyzer.synthetic_ecg import synthetic_ecg


def test_amplitudes_are_in_millivolts_where_the_gain_is_known() -> None:
    upright = synthetic_ecg(72, 500, 20, seed=3, gain_adc_per_mv=200)
    inverted = -synthetic_ecg(72, 500, 20, seed=3, gain_adc_per_mv=1000).samples
    insights = compute_insights(
        [("II", upright.samples), ("aVR", inverted), ("V1", upright.samples)],
        500,
        [200.0, 1000.0, None],
    )
    ii, avr, v1 = insights.leads
    assert ii.r_amplitude_mv == pytest.approx(1.0, abs=0.1)
    assert ii.r_amplitude == pytest.approx(200, abs=20)
    assert avr.r_amplitude_mv == pytest.approx(-1.0, abs=0.1), "a negative QRS is negative"
    assert ii.min_mv == ii.min / 200
    assert ii.max_mv == ii.max / 200
    assert ii.units_per_mv == 200.0
    assert v1.r_amplitude == pytest.approx(200, abs=20)
    assert (v1.units_per_mv, v1.min_mv, v1.max_mv, v1.r_amplitude_mv) == (None,) * 4


def test_without_gains_or_beats_the_millivolt_fields_are_null() -> None:
    ecg = synthetic_ecg(60, 360, 10, seed=1)
    plain = compute_insights([("MLII", ecg.samples)], 360)
    assert plain.leads[0].min_mv is None
    assert plain.leads[0].r_amplitude_mv is None
    assert plain.leads[0].r_amplitude is not None
    flat = compute_insights([("I", np.zeros(3600, dtype=np.int16))], 360, [200.0])
    assert flat.leads[0].r_amplitude is None
    assert flat.leads[0].r_amplitude_mv is None
    assert flat.leads[0].min_mv == 0.0
    no_rate = compute_insights([("I", ecg.samples)], None, [200.0])
    assert no_rate.leads[0].r_amplitude is None
    assert no_rate.leads[0].max_mv == no_rate.leads[0].max / 200


def test_one_gain_per_lead_is_required() -> None:
    with pytest.raises(ValueError, match="2 gains for 1 leads"):
        compute_insights([("I", np.arange(100))], 100, [1.0, 2.0])
