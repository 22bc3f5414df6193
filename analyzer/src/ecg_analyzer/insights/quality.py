"""Per-lead signal quality: flat line, clipping (saturation) and excessive noise.

The criteria are deliberately coarse: they flag leads that cannot be trusted, not leads
that are merely imperfect, so a clean recording raises none of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

# At the usual 1-5 uV per ADC unit, 8 units is under 10-40 uV: no QRS (>= 0.3 mV) fits.
FLAT_MAX_RANGE_ADC = 8
# An ECG reaches its extreme values at a handful of samples (one R or S peak); a
# saturated one sits on them for whole stretches of every clipped beat.
CLIPPING_MIN_SHARE = 0.01
# ECG band and the high-frequency band where an ECG has next to no power.
ECG_BAND_HZ = (0.5, 40.0)
NOISE_BAND_LOW_HZ = 40.0
# Noise dominates when the high-frequency power density reaches half the ECG band's, or
# when the high-frequency power outweighs the ECG band's power.
NOISE_MIN_DENSITY_RATIO = 0.5
NOISE_MIN_POWER_RATIO = 1.0
# Spectral estimates need at least this much signal.
NOISE_MIN_DURATION_S = 1.0
# Share of the ECG-band power carried by the QRS detection band, 5-15 Hz.
QRS_BAND_HZ = (5.0, 15.0)


@dataclass(frozen=True)
class LeadQuality:
    """Quality flags of one lead, plus how well its QRS complexes should stand out."""

    flat_line: bool
    clipping: bool
    excessive_noise: bool
    qrs_band_share: float  # 0..1, 0 when unknown

    @property
    def usable(self) -> bool:
        return not (self.flat_line or self.clipping or self.excessive_noise)


def assess_leads(
    signals: Sequence[npt.NDArray[np.integer]],
    minima: Sequence[int],
    maxima: Sequence[int],
    sampling_rate_hz: float | None,
) -> list[LeadQuality]:
    """Flags of each lead; ``minima``/``maxima`` are the leads' already computed extremes.

    * flat_line: ``max - min <= FLAT_MAX_RANGE_ADC``.
    * clipping: not flat, and at least ``CLIPPING_MIN_SHARE`` of the samples equal the
      lead's minimum or maximum.
    * excessive_noise (needs the sampling rate and >= 1 s), from the periodogram, with
      the ECG band 0.5-40 Hz and the noise band above 40 Hz (where an ECG has next to no
      power), either of:

      - the mean power density of the noise band is at least half the ECG band's. White
        noise has the same density everywhere, so the noise left inside the ECG band is
        about as strong as the ECG: filtering cannot rescue the lead.
      - the noise band carries at least as much power as the ECG band: high-frequency
        noise dominates the trace as recorded (this one tells at high sampling rates).
    """
    flat = [high - low <= FLAT_MAX_RANGE_ADC for low, high in zip(minima, maxima, strict=True)]
    clipping = [
        not is_flat
        and int(np.count_nonzero(signal == high) + np.count_nonzero(signal == low))
        >= CLIPPING_MIN_SHARE * signal.size
        for signal, low, high, is_flat in zip(signals, minima, maxima, flat, strict=True)
    ]
    noisy = [False] * len(signals)
    qrs_band_share = [0.0] * len(signals)
    if sampling_rate_hz is not None:
        # Leads of equal length share one batched FFT call.
        by_length: dict[int, list[int]] = {}
        for index, signal in enumerate(signals):
            if not flat[index] and signal.size >= NOISE_MIN_DURATION_S * sampling_rate_hz:
                by_length.setdefault(signal.size, []).append(index)
        for indices in by_length.values():
            stacked = np.stack([signals[index] for index in indices]).astype(np.float64)
            for index, (is_noisy, share) in zip(
                indices, _spectral_quality(stacked, sampling_rate_hz), strict=True
            ):
                noisy[index] = is_noisy
                qrs_band_share[index] = share
    return [
        LeadQuality(
            flat_line=flat[index],
            clipping=clipping[index],
            excessive_noise=noisy[index],
            qrs_band_share=qrs_band_share[index],
        )
        for index in range(len(signals))
    ]


def _spectral_quality(
    signals: npt.NDArray[np.float64], sampling_rate_hz: float
) -> list[tuple[bool, float]]:
    """Noise verdict and QRS-band power share of each row, from one periodogram each."""
    power = np.abs(np.fft.rfft(signals, axis=-1)) ** 2
    frequency_step = sampling_rate_hz / signals.shape[-1]

    def band(low_hz: float, high_hz: float) -> npt.NDArray[np.float64]:
        low = int(np.ceil(low_hz / frequency_step))
        high = int(np.ceil(high_hz / frequency_step))
        selected: npt.NDArray[np.float64] = power[:, low:high]
        return selected

    ecg_band = band(*ECG_BAND_HZ)
    noise_band = band(NOISE_BAND_LOW_HZ, sampling_rate_hz)
    if ecg_band.shape[1] == 0 or noise_band.shape[1] == 0:
        return [(False, 0.0)] * signals.shape[0]
    ecg_power = ecg_band.sum(axis=1)
    noise_power = noise_band.sum(axis=1)
    qrs_power = band(*QRS_BAND_HZ).sum(axis=1)
    results: list[tuple[bool, float]] = []
    for ecg, noise, qrs in zip(
        ecg_power.tolist(), noise_power.tolist(), qrs_power.tolist(), strict=True
    ):
        if ecg <= 0.0:
            results.append((False, 0.0))
            continue
        density_ratio = (noise / noise_band.shape[1]) / (ecg / ecg_band.shape[1])
        noisy = density_ratio >= NOISE_MIN_DENSITY_RATIO or noise >= NOISE_MIN_POWER_RATIO * ecg
        results.append((noisy, qrs / (ecg + noise)))
    return results
