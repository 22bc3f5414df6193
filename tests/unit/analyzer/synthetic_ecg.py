"""Seeded synthetic ECG: each beat a sum of Gaussian P, Q, R, S and T waves.

Wave times scale with the square root of the RR interval (Bazett-like), so fast rhythms
keep P and T apart from the neighbouring QRS. Baseline wander, white noise and mains hum
are added in millivolts before the gain and offset turn it into integer ADC units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# (centre at RR = 1 s relative to R, amplitude mV, width s); P and T centres scale with
# sqrt(RR), the QRS does not.
WAVES: dict[str, tuple[float, float, float]] = {
    "P": (-0.17, 0.15, 0.025),
    "Q": (-0.028, -0.12, 0.009),
    "R": (0.0, 1.0, 0.010),
    "S": (0.028, -0.25, 0.009),
    "T": (0.30, 0.30, 0.050),
}
SCALED_WAVES = {"P", "T"}


@dataclass(frozen=True)
class SyntheticEcg:
    samples: npt.NDArray[np.integer]
    sampling_rate_hz: float
    r_peaks: npt.NDArray[np.int64]  # sample nearest to each R-wave centre

    @property
    def mean_heart_rate_bpm(self) -> float:
        return 60.0 * self.sampling_rate_hz / float(np.mean(np.diff(self.r_peaks)))


def synthetic_ecg(
    heart_rate_bpm: float,
    sampling_rate_hz: float,
    duration_s: float = 30.0,
    *,
    seed: int = 0,
    gain_adc_per_mv: float = 200.0,
    offset_adc: int = 0,
    baseline_wander_mv: float = 0.3,
    noise_mv: float = 0.02,
    mains_mv: float = 0.0,
    rr_jitter: float = 0.02,
    r_scale: npt.NDArray[np.float64] | None = None,
    t_amplitude_mv: float | None = None,
    t_width_s: float | None = None,
    p_wave: tuple[float, float, float] | None = None,
    rr_intervals_s: npt.NDArray[np.float64] | None = None,
    dtype: type[np.integer] = np.int32,
) -> SyntheticEcg:
    """One lead of ECG; ``r_scale`` multiplies each beat's QRS amplitude (in beat order).

    ``p_wave`` (centre at RR = 1 s, amplitude mV, width s) replaces the P wave of ``WAVES``.

    ``rr_intervals_s`` replaces the jittered constant rhythm with explicit intervals.
    """
    rng = np.random.default_rng(seed)
    length = round(duration_s * sampling_rate_hz)
    time_s = np.arange(length) / sampling_rate_hz
    mean_rr = 60.0 / heart_rate_bpm
    if rr_intervals_s is None:
        count = int(duration_s / mean_rr) + 2
        rr_intervals_s = mean_rr * (1.0 + rr_jitter * rng.standard_normal(count))
    beat_times = 0.4 + rng.uniform(0.0, 0.2) + np.concatenate(([0.0], np.cumsum(rr_intervals_s)))
    beat_times = beat_times[beat_times < duration_s - 0.4]
    rr_per_beat = np.diff(beat_times, append=beat_times[-1] + mean_rr)

    millivolts = np.zeros(length)
    waves = dict(WAVES)
    centre, amplitude, width = waves["T"]
    waves["T"] = (centre, t_amplitude_mv or amplitude, t_width_s or width)
    if p_wave is not None:
        waves["P"] = p_wave
    for index, (beat, rr) in enumerate(zip(beat_times, rr_per_beat, strict=True)):
        start = max(0, int((beat - 0.6) * sampling_rate_hz))
        stop = min(length, int((beat + 0.8) * sampling_rate_hz))
        window = time_s[start:stop] - beat
        qrs_scale = 1.0 if r_scale is None else float(r_scale[index % r_scale.size])
        for name, (centre, amplitude, width) in waves.items():
            scale = np.sqrt(min(rr, 1.2)) if name in SCALED_WAVES else 1.0
            gain = 1.0 if name in SCALED_WAVES else qrs_scale
            millivolts[start:stop] += (
                gain * amplitude * np.exp(-0.5 * ((window - centre * scale) / width) ** 2)
            )

    wander_frequencies = rng.uniform(0.1, 0.45, size=3)
    wander_phases = rng.uniform(0.0, 2 * np.pi, size=3)
    millivolts += (
        baseline_wander_mv
        / 3
        * np.sin(2 * np.pi * wander_frequencies[:, None] * time_s + wander_phases[:, None]).sum(
            axis=0
        )
    )
    millivolts += noise_mv * rng.standard_normal(length)
    millivolts += mains_mv * np.sin(2 * np.pi * 50.0 * time_s)
    samples = np.round(millivolts * gain_adc_per_mv + offset_adc).astype(dtype)
    return SyntheticEcg(
        samples=samples,
        sampling_rate_hz=sampling_rate_hz,
        r_peaks=np.round(beat_times * sampling_rate_hz).astype(np.int64),
    )


def with_tremor(samples: np.ndarray, frequency_hz: float, amplitude_mv: float) -> np.ndarray:
    """``samples`` (360 Hz, 200 ADC units per mV) plus a tremor: a rounded sawtooth whose
    frequency drifts by 5 % (MIT-BIH 101 V1 has one at 5-8 Hz, as large as its QRS)."""
    time_s = np.arange(samples.size) / 360.0
    drifting = frequency_hz * (1 + 0.05 * np.sin(2 * np.pi * 0.05 * time_s))
    phase = 2 * np.pi * np.cumsum(drifting) / 360.0
    tremor = amplitude_mv * (np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase))
    with_it: np.ndarray = samples + np.round(tremor * 200).astype(samples.dtype)
    return with_it
