"""QRS detection in the style of Pan & Tompkins (1985), vectorised with numpy/scipy.

Pipeline: zero-phase 5-15 Hz band-pass, derivative, squaring, centred moving-window
integration (MWI), then adaptive signal/noise thresholds over the MWI peaks with a
refractory period, T-wave discrimination and search-back for missed beats. The detected
QRS complexes are finally moved onto the R wave itself, so the reported sample is the
fiducial point a cardiologist would mark, not the integrator's maximum.

The thresholds adapt to the signal, so any ADC gain or baseline works, and every time
constant is in seconds, so any sampling rate from 125 Hz to 2000 Hz works. Detection runs
on the signal box-averaged down to 150-300 Hz (QRS energy lies below 40 Hz; inputs below
150 Hz are used as they are), which makes its cost nearly independent of the input rate;
the R wave is then located on the full-rate signal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import signal as sps

from ecg_analyzer.insights.rhythm import near_local_median
from ecg_analyzer.insights.vote import (
    beats_no_other_lead_confirms,
    beats_the_stretch_lead_missed,
    stretch_scores,
)

STANDARD_BAND_HZ = (5.0, 15.0)
# Higher bands, tried in turn: above a tremor (4-8 Hz, MIT-BIH 101 V1), T waves and the
# gentle slopes of large ectopic beats (208 V1, whose small normal beats the standard band
# loses among them). A sharp QRS keeps most of its slope up there.
HIGH_BANDS_HZ = ((10.0, 25.0), (15.0, 35.0))
# Where the beats found on the standard band come irregularly (at least this share of RR
# intervals off by IRREGULAR_RR_DEVIATION from the median of the IRREGULAR_NEIGHBOURS
# around them), the lead is searched on the next higher band, whose beats are kept if under
# HIGH_BAND_GAIN times as many of theirs are off; then on the next one while that holds.
# Missed and invented beats both break the rhythm where the heart does not: an arrhythmia
# is as irregular on either band, so on its own it never moves a lead to another band.
IRREGULAR_SHARE = 0.05
IRREGULAR_RR_DEVIATION = 0.25
IRREGULAR_NEIGHBOURS = 11
HIGH_BAND_GAIN = 0.8
# A band's upper edge must stay under this share of the detection rate (0.8 of Nyquist).
BAND_EDGE_SHARE = 0.4
# Where a lead was searched on a higher band (see IRREGULAR_SHARE), the band not kept votes
# (see _bands_voted) in the BAND_VOTE_STRETCH_S stretches where both bands' beats score at
# least BAND_VOTE_MIN_SCORE (see ecg_analyzer.insights.vote.stretch_scores). On the 25
# MIT-BIH records, before the R waves were paired (PAIRING_S), the primary leads went from
# 171 missed / 128 false beats to 151 / 127 (203 MLII 59 / 21 -> 41 / 22; 116, 201, 207,
# 208 and 106 by 1-2), the second leads from 544 / 1233 to 534 / 1235. Scores of 16 and 40 give the same primary beats and 1242 and 1234 false second
# ones; at 8, the fusion's trust, 522 / 1255: noise on 203 V1 and 106 V1 shows on both bands.
# Without the drop half of the vote: 150 / 132 and 533 / 1242.
BAND_VOTE_STRETCH_S = 10.0
BAND_VOTE_MIN_SCORE = 24.0
INTEGRATION_WINDOW_S = 0.150
REFRACTORY_S = 0.200
# Two QRS complexes this close would be a rate over 240 bpm, which is flutter: of two
# peaks this close, the larger is the QRS (the other a P wave, or noise). The same holds of
# two R waves once the QRS centres are moved onto them (see _located_once): on the 25
# MIT-BIH records that took the primary leads from 151 / 127 missed / false beats to
# 153 / 110 and the second leads from 534 / 1235 to 614 / 1006 (the beats lost are in
# muscle noise, where the noise peak was the larger); at 200 ms, 152 / 119 and 579 / 1135.
PAIRING_S = 0.250
T_WAVE_WINDOW_S = 0.360
# Within T_WAVE_WINDOW_S of a QRS, a peak under this share of its slope is its T wave.
T_WAVE_SLOPE_SHARE = 0.5
SLOPE_WINDOW_S = 0.075
LEARNING_BLOCK_S = 2.0
SEARCH_BACK_RR_FACTOR = 1.66
R_SEARCH_S = 0.075
R_REFINE_S = 0.020
RR_HISTORY = 8
DEFAULT_RR_S = 1.0
# A peak moves the levels as if it were at most this many times the signal level: an
# artefact, or a run of large ectopic beats, would otherwise hold the threshold above the
# normal beats for long.
LEVEL_UPDATE_CAP = 2.0
# Silent for 1.66 RR, but at least TOWERING_AFTER_S and at most TOWERING_BY_S (so that no
# slow rhythm leaves a lead silent for 2 s), a skipped peak that towers over the others
# skipped since the last QRS is a beat the levels were too high for (a drop in amplitude,
# small beats among large ectopic ones, a wide ventricular beat whose gentle slopes leave
# its integral under the threshold: 1.2 s rather than 1.5 s catches those before a short
# compensatory pause ends) ...
TOWERING_AFTER_S = 1.2
TOWERING_BY_S = 1.7
TOWERING_FACTOR = 2.0
# ... if at least this steep relative to the last QRS (P and T waves are gentle) or, once
# silent for TOWERING_ANY_SLOPE_S, towering by TOWERING_GENTLE_FACTOR: the largest of the
# noise peaks in a real pause rarely stands that far out (1 in 50 synthetic pauses at 6) ...
TOWERING_MIN_SLOPE = 0.1
TOWERING_ANY_SLOPE_S = 2.0
TOWERING_GENTLE_FACTOR = 8.0
# ... and not just before the peak at hand: that is the P wave of a late beat.
TOWERING_BEFORE_NEXT_S = 0.3
BASELINE_S = 0.250
PACING_SPIKE_WIDTH_S = 0.010
PACING_SPIKE_SIDE_S = 0.014
PACING_SPIKE_LEAD_S = 0.160
PACING_SPIKE_LEAD_SPREAD_S = 0.030
PACED_LEAD_SHARE = 0.3
PACING_SPIKE_HEIGHT_SHARE = 0.2
PACING_SPIKE_STEADY_SHARE = 0.8
PACING_SPIKE_MIN_LEAD_S = 0.040
# Below this a sample lasts over 4 ms: a pulse under PACING_SPIKE_WIDTH_S spans two samples
# at most, and a narrow QRS or one sharp noise sample looks just as narrow.
PACING_SPIKE_MIN_RATE_HZ = 250.0
# Leads with this many beats or more are first judged on every PACING_SAMPLE_STRIDE-th beat.
PACING_SAMPLE_STRIDE = 8
PACING_SAMPLE_BEATS = 256
DETECTION_RATE_HZ = 150.0
# Of the 90th percentile of a lead's 2 s integral maxima, the smallest true beat found on the
# 50 MIT-BIH leads (116 MLII, inside a saturation) is 6e-5; a flat line's round-off is under
# 1e-8 (see _classify_peaks).
NO_SIGNAL_SHARE = 1e-6
# The 15 Hz band edge needs the Nyquist frequency well above it.
MIN_SAMPLING_RATE_HZ = 50.0
# A lead without a beat for this long is in a pause or lost its beats; the latter when its
# baseline (the median over BASELINE_S, every SILENCE_STEP_S) moves during the silence by
# over ARTEFACT_BASELINE_SHARE of the lead's median QRS amplitude: a saturated amplifier
# recovering, or an electrode moving, hides the beats, while through a real pause the
# baseline stays put. On the 50 MIT-BIH leads, 201's sinus pauses (2.0-3.8 s) move it by
# 0.06-0.23 of the QRS; 116 MLII's saturated amplifier by 1.08, the beats lost to noise on
# 207 MLII, 208 MLII and 208 V1 by 0.9-1.0.
SILENCE_S = 2.0
ARTEFACT_BASELINE_SHARE = 0.5
SILENCE_STEP_S = 0.1

FloatArray = npt.NDArray[np.float64]
IndexArray = npt.NDArray[np.int64]


def decimation_factor(sampling_rate_hz: float) -> int:
    """Samples averaged into one detection sample: keeps the detection rate >= 150 Hz.

    150 Hz rather than 125 Hz keeps the 2nd harmonic of 60 Hz mains out of the QRS band
    after aliasing.
    """
    return max(1, int(sampling_rate_hz // DETECTION_RATE_HZ))


@lru_cache(maxsize=32)
def _bandpass(
    sampling_rate_hz: float, band_hz: tuple[float, float]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Second-order Butterworth band-pass (numerator, denominator, unit initial state).

    Transfer-function form is accurate at the 150-300 Hz detection rates and runs several
    times faster than second-order sections on short signals.
    """
    numerator, denominator = sps.butter(2, list(band_hz), btype="bandpass", fs=sampling_rate_hz)
    initial_state = sps.lfilter_zi(numerator, denominator)
    return numerator, denominator, initial_state


def _zero_phase_bandpass(
    signal: FloatArray, sampling_rate_hz: float, band_hz: tuple[float, float]
) -> FloatArray:
    """Forward-backward band-pass, as ``scipy.signal.filtfilt`` with odd padding.

    Run forwards then backwards the filter has no delay, so band-passed peaks stay aligned
    with the signal; the initial state is cached rather than solved on every call.
    """
    numerator, denominator, initial_state = _bandpass(sampling_rate_hz, band_hz)
    pad = min(3 * numerator.size, signal.size - 1)
    extended = np.concatenate(
        (
            2 * signal[0] - signal[pad:0:-1],
            signal,
            2 * signal[-1] - signal[-2 : -pad - 2 : -1],
        )
    )
    forward, _ = sps.lfilter(numerator, denominator, extended, zi=initial_state * extended[0])
    backward, _ = sps.lfilter(numerator, denominator, forward[::-1], zi=initial_state * forward[-1])
    filtered: FloatArray = backward[::-1][pad : pad + signal.size]
    return filtered


def decimate(signal: npt.NDArray[np.number], sampling_rate_hz: float) -> FloatArray:
    """The signal box-averaged down to the detection rate, relative to its first sample.

    The box average of :func:`decimation_factor` samples is the anti-alias filter: its
    first null sits at the detection rate, where the band-pass rejects anything folded.
    Relative to the first sample, a constant signal is exactly zero after filtering.
    """
    samples = np.asarray(signal)
    factor = decimation_factor(sampling_rate_hz)
    if factor > 1:
        # Converting the strided slices, not the whole signal, saves a full-rate copy.
        usable = samples.size // factor * factor
        decimated: FloatArray = samples[0:usable:factor].astype(np.float64)
        for offset in range(1, factor):
            decimated += samples[offset:usable:factor]
        decimated /= factor
    else:
        decimated = samples.astype(np.float64)
    decimated -= float(samples[0])
    return decimated


def _samples(seconds: float, sampling_rate_hz: float) -> int:
    return max(1, round(seconds * sampling_rate_hz))


def _moving_window_integral(squared_slope: FloatArray, window: int) -> FloatArray:
    """Centred moving sum via a cumulative sum: O(n) whatever the window length."""
    half = window // 2
    cumulative = np.zeros(squared_slope.size + window + 1)
    np.cumsum(squared_slope, out=cumulative[half + 1 : half + 1 + squared_slope.size])
    cumulative[half + 1 + squared_slope.size :] = cumulative[half + squared_slope.size]
    integral: FloatArray = (
        cumulative[window : window + squared_slope.size] - cumulative[: squared_slope.size]
    )
    return integral


def _window_indices(centres: IndexArray, half_width: int, length: int) -> IndexArray:
    """Row per centre of the indices ``centre - half_width .. centre + half_width``."""
    offsets = np.arange(-half_width, half_width + 1, dtype=np.int64)
    indices: IndexArray = np.clip(centres[:, None] + offsets, 0, length - 1)
    return indices


def _classify_peaks(
    peak_positions: IndexArray,
    peak_heights: FloatArray,
    peak_slopes: FloatArray,
    integral: FloatArray,
    sampling_rate_hz: float,
) -> list[int]:
    """Adaptive-threshold decision over the MWI peaks; returns the positions that are QRS.

    SPKI/NPKI track signal and noise peak levels; a peak is QRS above
    ``NPKI + 0.25 (SPKI - NPKI)`` and outside the refractory period. A peak within 360 ms
    of the previous QRS whose slope is under half of that QRS's is a T wave. A larger
    peak within ``PAIRING_S`` of the previous QRS, at least half as steep, takes its place:
    that one was a tall P wave or noise just before the beat. When no QRS
    came for 1.66 mean RR (of the last 8), the largest skipped peak above half the
    threshold is taken back as a QRS. Silent for 1.66 RR clipped to 1.2-1.7 s, a skipped
    peak (or the peak at hand) that towers over the other skipped peaks is taken too,
    whatever the threshold (see ``TOWERING_*``): that keeps a lead from going silent for
    over 2 s when its beats shrink or small beats come between large ectopic ones. When
    even that finds nothing, both levels halve for every further 1.66 RR of silence, and
    no peak moves a level as if it were over ``LEVEL_UPDATE_CAP`` times the signal level,
    so an artefact (or a drop in amplitude) cannot silence the detector for long. One
    Python step per MWI peak.
    """
    refractory = _samples(REFRACTORY_S, sampling_rate_hz)
    pairing = _samples(PAIRING_S, sampling_rate_hz)
    t_wave_window = _samples(T_WAVE_WINDOW_S, sampling_rate_hz)
    learning_block = _samples(LEARNING_BLOCK_S, sampling_rate_hz)
    first_gap = _samples(SEARCH_BACK_RR_FACTOR * DEFAULT_RR_S, sampling_rate_hz)
    towering_after = _samples(TOWERING_AFTER_S, sampling_rate_hz)
    towering_by = _samples(TOWERING_BY_S, sampling_rate_hz)
    any_slope_after = _samples(TOWERING_ANY_SLOPE_S, sampling_rate_hz)
    before_next = _samples(TOWERING_BEFORE_NEXT_S, sampling_rate_hz)

    # Learning phase: the median over 2 s blocks of the block maximum is a typical QRS
    # peak, robust to a few artefacts; half the mean integral (clipped at that peak, so an
    # artefact cannot inflate it) stands for the noise level.
    blocks = integral.size // learning_block
    if blocks >= 1:
        block_maxima = np.sort(integral[: blocks * learning_block].reshape(blocks, -1).max(axis=1))
        signal_level = 0.5 * float(block_maxima[(blocks - 1) // 2] + block_maxima[blocks // 2])
        # Nearest-rank 90th percentile: a QRS level that a flat half of the lead cannot
        # pull down.
        high_level = float(block_maxima[(9 * (blocks - 1)) // 10])
    else:
        signal_level = high_level = float(integral.max())
    noise_level = 0.5 * float(np.minimum(integral, signal_level).mean())
    # Under the floor a peak is round-off or filter ringing, not a beat: the levels, halving
    # through a flat line, would end up taking it for one.
    real = peak_heights >= NO_SIGNAL_SHARE * high_level
    if not real.all():
        peak_positions, peak_heights, peak_slopes = (
            peak_positions[real],
            peak_heights[real],
            peak_slopes[real],
        )

    positions: list[int] = peak_positions.tolist()
    heights: list[float] = peak_heights.tolist()
    slopes: list[float] = peak_slopes.tolist()

    qrs: list[int] = []
    accepted: list[int] = []  # peak indices of ``qrs``
    recent_rr: deque[int] = deque(maxlen=RR_HISTORY)
    last_qrs = -t_wave_window
    last_slope = 0.0
    missed_beat_gap = float(first_gap)
    # Silence after which towering peaks are taken back, and the recovery starts.
    towering_gap = min(max(missed_beat_gap, towering_after), towering_by)
    recovery_gap = min(missed_beat_gap, towering_by)
    halvings = 0  # threshold halvings since the last QRS
    skipped: list[int] = []  # peaks classified as noise since the last QRS

    rr_sum = 0  # of recent_rr

    def follow_rr() -> None:
        nonlocal missed_beat_gap, towering_gap, recovery_gap
        missed_beat_gap = (
            SEARCH_BACK_RR_FACTOR * rr_sum / len(recent_rr) if recent_rr else first_gap
        )
        towering_gap = min(max(missed_beat_gap, towering_after), towering_by)
        recovery_gap = min(missed_beat_gap, towering_by)

    def accept(index: int) -> None:
        nonlocal last_qrs, last_slope, halvings, rr_sum
        nonlocal missed_beat_gap, towering_gap, recovery_gap
        position = positions[index]
        if qrs:
            if len(recent_rr) == RR_HISTORY:
                rr_sum -= recent_rr[0]
            rr = position - last_qrs
            recent_rr.append(rr)
            rr_sum += rr
            missed_beat_gap = SEARCH_BACK_RR_FACTOR * rr_sum / len(recent_rr)
            # min() and max() spelled out: this runs once a beat.
            towering_gap = missed_beat_gap if missed_beat_gap > towering_after else towering_after
            towering_gap = towering_gap if towering_gap < towering_by else towering_by
            recovery_gap = missed_beat_gap if missed_beat_gap < towering_by else towering_by
        qrs.append(position)
        accepted.append(index)
        last_qrs = position
        last_slope = slopes[index]
        halvings = 0

    def retract_last() -> None:
        """Undo the last QRS: a larger peak came too soon after it."""
        nonlocal last_qrs, last_slope, rr_sum
        qrs.pop()
        accepted.pop()
        if recent_rr and qrs:
            rr_sum -= recent_rr.pop()
            follow_rr()
        last_qrs = qrs[-1] if qrs else -t_wave_window
        last_slope = slopes[accepted[-1]] if accepted else 0.0

    def candidates(until: int) -> list[int]:
        """Skipped peaks that can follow the last QRS: past the refractory period and,
        within the T-wave window, at least half as steep; none within
        ``TOWERING_BEFORE_NEXT_S`` of ``until`` unless ``until`` ends the signal."""
        latest = until - before_next if until < integral.size else until
        return [
            index
            for index in skipped
            if refractory <= positions[index] - last_qrs
            and positions[index] <= latest
            and (
                positions[index] - last_qrs >= t_wave_window
                or slopes[index] >= T_WAVE_SLOPE_SHARE * last_slope
            )
        ]

    def search_back(until: int) -> None:
        """Recover missed beats while the gap since the last QRS is too long."""
        nonlocal signal_level, skipped
        while until - last_qrs > missed_beat_gap:
            half_threshold = 0.5 * (noise_level + 0.25 * (signal_level - noise_level))
            eligible = [index for index in candidates(until) if heights[index] > half_threshold]
            if not eligible:
                return
            best = max(eligible, key=heights.__getitem__)
            signal_level = 0.25 * heights[best] + 0.75 * signal_level
            accept(best)
            skipped = [index for index in skipped if index > best]

    def towers(height: float, slope: float, others: list[float], silence: int) -> bool:
        """Whether a peak stands out from the ``others`` skipped in a silence that long."""
        if not others or height < max(others):
            return False
        factor = height / max(float(np.median(others)), 1e-300)
        return factor >= TOWERING_FACTOR and (
            slope >= TOWERING_MIN_SLOPE * last_slope
            or (silence >= any_slope_after and factor >= TOWERING_GENTLE_FACTOR)
        )

    def take_back_towering(until: int) -> None:
        """While silent too long, take back skipped peaks that tower over the rest.

        The levels stay as they are: one small beat, or a stretch of them, must not lower
        the threshold for the large beats around it. Its search-back having failed, a lead
        would otherwise stay silent until the levels have halved enough.
        """
        nonlocal skipped
        while until - last_qrs > towering_gap:
            eligible = candidates(until)
            if len(eligible) < 2:
                return
            best = max(eligible, key=heights.__getitem__)
            others = [heights[index] for index in eligible if index != best]
            if not towers(heights[best], slopes[best], others, until - last_qrs):
                return
            accept(best)
            skipped = [index for index in skipped if index > best]

    def recover(until: int) -> None:
        """Search back, take back towering peaks; while still silent past the towering
        gap, halve the levels once per overdue gap."""
        nonlocal signal_level, noise_level, halvings
        search_back(until)
        take_back_towering(until)
        if until - last_qrs <= towering_gap:
            return
        while until - last_qrs > (halvings + 2) * missed_beat_gap:
            signal_level *= 0.5
            noise_level *= 0.5
            halvings += 1
            search_back(until)

    def towers_over_silence(index: int) -> bool:
        """Whether the peak at hand, past the towering gap, towers over the peaks skipped
        since the last QRS and is not the P wave of a larger peak just after it."""
        following = index + 1
        while following < len(positions) and positions[following] - positions[index] < before_next:
            if heights[following] > heights[index]:
                return False
            following += 1
        others = [heights[skip] for skip in skipped if positions[skip] - last_qrs >= refractory]
        return towers(heights[index], slopes[index], others, positions[index] - last_qrs)

    for index, position in enumerate(positions):
        if position - last_qrs > recovery_gap:
            recover(position)
        height = heights[index]
        steep = slopes[index] >= T_WAVE_SLOPE_SHARE * last_slope
        since_last = position - last_qrs
        if since_last < pairing and qrs and height > heights[accepted[-1]] and steep:
            retract_last()
            since_last = position - last_qrs
            steep = slopes[index] >= T_WAVE_SLOPE_SHARE * last_slope
        ceiling = LEVEL_UPDATE_CAP * signal_level
        capped = height if height <= ceiling else ceiling
        if (
            height > noise_level + 0.25 * (signal_level - noise_level)
            and since_last >= refractory
            and (since_last >= t_wave_window or steep)
        ) or (since_last > towering_gap and towers_over_silence(index)):
            signal_level = 0.125 * capped + 0.875 * signal_level
            accept(index)
            skipped = []
        else:
            noise_level = 0.125 * capped + 0.875 * noise_level
            skipped.append(index)
    recover(integral.size)
    return qrs


def _window_medians(values: FloatArray, centres: IndexArray, half_width: int) -> FloatArray:
    """Median of ``values`` within ``centres +- half_width``, row by row."""
    # 2 half_width + 1 values a row: the median is the middle one, no mean of two needed.
    windows = values[_window_indices(centres, half_width, values.size)]
    medians: FloatArray = np.partition(windows, half_width, axis=1)[:, half_width]
    return medians


def _locate_r_waves(
    signal: npt.NDArray[np.number],
    sampling_rate_hz: float,
    decimated: FloatArray,
    qrs_centres: IndexArray,
) -> IndexArray:
    """Move each QRS centre (detection-rate index) onto its own R wave in ``signal``.

    Beat by beat, the R wave is the QRS's dominant deflection, up or down: the sample
    within +-75 ms that lies furthest from the local baseline (the median over +-250 ms,
    which the QRS is too short to move), found on the decimated signal, then refined on
    the full-rate signal within +-20 ms with that beat's polarity. Paced, ventricular and
    bundle-branch-block beats each get their own polarity.
    """
    factor = decimation_factor(sampling_rate_hz)
    detection_rate_hz = sampling_rate_hz / factor
    search = _samples(R_SEARCH_S, detection_rate_hz)
    refine = _samples(R_REFINE_S, sampling_rate_hz)
    baseline = _window_medians(decimated, qrs_centres, _samples(BASELINE_S, detection_rate_hz))
    indices = _window_indices(qrs_centres, search, decimated.size)
    deviation = decimated[indices] - baseline[:, None]
    rows = np.arange(qrs_centres.size)
    choice = np.abs(deviation).argmax(axis=1)
    polarity = np.where(deviation[rows, choice] >= 0, 1.0, -1.0)
    coarse = indices[rows, choice] * factor + factor // 2
    samples = np.asarray(signal)
    full = _window_indices(coarse, refine, samples.size)
    signed = samples[full].astype(np.float64) * polarity[:, None]
    located: IndexArray = full[rows, signed.argmax(axis=1)]
    # ``decimated`` is relative to the first sample: its baseline, shifted back, is the
    # full-rate signal's baseline at each beat.
    full_rate_baseline = baseline + float(samples[0])
    return _onto_pacing_spikes(samples, sampling_rate_hz, located, full_rate_baseline)


def _narrow_pulses(
    values: npt.NDArray[np.number],
    centres: IndexArray,
    baseline: FloatArray,
    sampling_rate_hz: float,
) -> npt.NDArray[np.bool_]:
    """Whether the deflection at each centre is at most ``PACING_SPIKE_WIDTH_S`` wide at
    half its height above the baseline."""
    half = max(1, round(PACING_SPIKE_WIDTH_S * sampling_rate_hz / 2)) + 1
    height = values[centres].astype(np.float64) - baseline
    around = np.clip(centres[:, None] + np.arange(-half, half + 1), 0, values.size - 1)
    above = (values[around].astype(np.float64) - baseline[:, None]) * np.sign(height)[:, None] >= (
        np.abs(height)[:, None] / 2
    )
    left = np.logical_and.accumulate(above[:, half::-1], axis=1).sum(axis=1)
    right = np.logical_and.accumulate(above[:, half:], axis=1).sum(axis=1)
    narrow: npt.NDArray[np.bool_] = (
        (left + right - 1 <= 2 * half - 2) & (left <= half) & (right <= half)
    )
    return narrow


def _onto_pacing_spikes(
    signal: npt.NDArray[np.number],
    sampling_rate_hz: float,
    located: IndexArray,
    baseline: FloatArray,
) -> IndexArray:
    """On a paced lead, each paced beat is marked at its pacing spike, as annotators do.

    A spike is a pulse at most ``PACING_SPIKE_WIDTH_S`` wide at half height, at least
    ``PACING_SPIKE_HEIGHT_SHARE`` of the beat's dominant deflection, within
    ``PACING_SPIKE_LEAD_S`` before it. A pacemaker fires at a fixed delay before the QRS it
    causes, so a lead is paced when at least ``PACED_LEAD_SHARE`` of its beats are marked
    on such a pulse, or are marked on one or have one at a steady delay (within
    ``PACING_SPIKE_LEAD_SPREAD_S`` of the median) and ``PACING_SPIKE_STEADY_SHARE`` of the
    spike-preceded beats have it there, with the polarity most of them have: a pacemaker's
    spike keeps one sign on a lead, since its electrodes' vector does not change, so a
    narrow pulse of the other sign at that delay is noise (MIT-BIH 104's fusion beats).
    Narrow noise (MIT-BIH 101 V1) comes at any delay, so its lead keeps its marks; on a
    paced lead, the steady-delay beats whose dominant deflection is not itself narrow (a
    paced QRS is wide) move onto their spike. Below
    ``PACING_SPIKE_MIN_RATE_HZ`` no spike can be told apart and the marks stay.
    """
    if located.size == 0 or sampling_rate_hz < PACING_SPIKE_MIN_RATE_HZ:
        return located
    if located.size >= PACING_SAMPLE_STRIDE * PACING_SAMPLE_BEATS:
        # Most leads are not paced, and every PACING_SAMPLE_STRIDE-th beat shows it: a share
        # of spike-marked or spike-preceded beats under half of PACED_LEAD_SHARE among
        # PACING_SAMPLE_BEATS or more beats is five standard errors or more below the bar.
        _, preceded, on_spike, _ = _pacing_spikes(
            signal,
            sampling_rate_hz,
            located[::PACING_SAMPLE_STRIDE],
            baseline[::PACING_SAMPLE_STRIDE],
        )
        if np.mean(preceded | on_spike) < PACED_LEAD_SHARE / 2:
            return located
    spike, preceded, on_spike, spike_sign = _pacing_spikes(
        signal, sampling_rate_hz, located, baseline
    )
    delay = located - spike
    typical = np.median(delay[preceded]) if preceded.any() else 0.0
    usual_sign = np.sign(np.sum(spike_sign[preceded]))
    steady = (
        preceded
        & (spike_sign == usual_sign)
        & (np.abs(delay - typical) <= PACING_SPIKE_LEAD_SPREAD_S * sampling_rate_hz)
    )
    paced = np.mean(on_spike) >= PACED_LEAD_SHARE or (
        np.mean(steady | on_spike) >= PACED_LEAD_SHARE
        and steady.sum() >= PACING_SPIKE_STEADY_SHARE * preceded.sum()
    )
    if not paced:
        return located
    moved: IndexArray = np.where(steady & ~on_spike, spike, located)
    return moved


def _pacing_spikes(
    signal: npt.NDArray[np.number],
    sampling_rate_hz: float,
    located: IndexArray,
    baseline: FloatArray,
) -> tuple[IndexArray, npt.NDArray[np.bool_], npt.NDArray[np.bool_], FloatArray]:
    """Per beat, the most prominent sample back from its mark, whether that is a pacing
    spike there, whether the mark is itself on one (see :func:`_onto_pacing_spikes`), and
    the sign of that sample's deflection."""
    before = max(2, round(PACING_SPIKE_LEAD_S * sampling_rate_hz))
    rows = np.arange(located.size)
    # One gather serves the window back from the mark and the samples ``side`` either side
    # of each of its samples: column c is ``c + 1 - side`` samples before the mark.
    side = max(1, round(PACING_SPIKE_SIDE_S * sampling_rate_hz)) + 1
    last = signal.size - 1
    block = signal[
        np.clip(located[:, None] - np.arange(1 - side, before + side + 1), 0, last)
    ].astype(np.float64)
    # Back from the mark, nearest first; the QRS's own flank (its deflection's sign, above a
    # quarter of its height, unbroken from the mark) is not a spike before it.
    values = block[:, side : side + before]
    deviation = values - baseline[:, None]
    dominant = signal[located].astype(np.float64) - baseline
    flank = np.logical_and.accumulate(
        deviation * np.sign(dominant)[:, None] >= np.abs(dominant)[:, None] / 4, axis=1
    )
    # A spike stands out from the signal just around it (a T wave, a Q wave or the foot of
    # the QRS does not).
    around = block[:, 2 * side : 2 * side + before] + block[:, :before]
    around *= 0.5
    prominence = np.subtract(values, around)
    np.abs(prominence, out=prominence)
    prominence[flank] = 0.0
    prominence[:, :2] = 0.0
    choice = prominence.argmax(axis=1)
    spike = np.clip(located - choice - 1, 0, last)
    local = around[rows, choice]
    tall = np.abs(signal[spike] - local) >= PACING_SPIKE_HEIGHT_SHARE * np.abs(dominant)
    far = located - spike >= round(PACING_SPIKE_MIN_LEAD_S * sampling_rate_hz)
    preceded = tall & far & _narrow_pulses(signal, spike, local, sampling_rate_hz)
    on_spike = _narrow_pulses(signal, located, baseline, sampling_rate_hz)
    return spike, preceded, on_spike, np.sign(signal[spike] - local)


@dataclass(frozen=True)
class LeadDetection:
    """One lead's beats, and what fusing several leads needs to judge them."""

    r_peaks: IndexArray  # full-rate sample indices, ascending
    qrs_centres: IndexArray  # detection-rate indices of the same beats
    integral: FloatArray  # the moving-window integral they were found on, at the detection rate
    factor: int  # full-rate samples per detection-rate sample
    # The standard band's integral: the one every lead has, so leads compare on it. The same
    # array as ``integral`` unless the beats came from a higher band.
    standard_integral: FloatArray
    # Full-rate [start, end) spans of the silences over SILENCE_S that are artefacts.
    artefact_silences: list[tuple[int, int]]


def _empty_detection(factor: int) -> LeadDetection:
    empty = np.empty(0, dtype=np.int64)
    nothing = np.zeros(0)
    return LeadDetection(empty, empty, nothing, factor, nothing, [])


def _find_qrs(
    decimated: FloatArray, detection_rate_hz: float, band_hz: tuple[float, float]
) -> tuple[FloatArray, IndexArray]:
    """The moving-window integral of one band, and the QRS centres found on it."""
    filtered = _zero_phase_bandpass(decimated, detection_rate_hz, band_hz)
    slope = np.zeros_like(filtered)
    np.subtract(filtered[2:], filtered[:-2], out=slope[1:-1])
    integral = _moving_window_integral(
        np.square(slope), _samples(INTEGRATION_WINDOW_S, detection_rate_hz)
    )
    if not np.any(integral > 0):
        return integral, np.empty(0, dtype=np.int64)

    peak_positions, _ = sps.find_peaks(integral, distance=_samples(REFRACTORY_S, detection_rate_hz))
    # Within half a window of either end the integral sees a truncated, filter-edge
    # signal; peaks there are artefacts more often than beats.
    margin = _samples(INTEGRATION_WINDOW_S, detection_rate_hz) // 2
    peak_positions = peak_positions[
        (peak_positions >= margin) & (peak_positions < integral.size - margin)
    ].astype(np.int64)
    slope_windows = _window_indices(
        peak_positions, _samples(SLOPE_WINDOW_S, detection_rate_hz), slope.size
    )
    peak_slopes = np.abs(slope[slope_windows]).max(axis=1)
    qrs_centres = np.asarray(
        _classify_peaks(
            peak_positions, integral[peak_positions], peak_slopes, integral, detection_rate_hz
        ),
        dtype=np.int64,
    )
    return integral, qrs_centres


def steady_rhythm(beats: IndexArray) -> bool:
    """Whether every RR interval is within ``IRREGULAR_RR_DEVIATION`` of every other (or
    there are under three): every median lies between the shortest and the longest, so none
    is off and the irregularity is 0 (the usual 10 s ECG, in a few microseconds)."""
    rr = np.diff(beats)
    return bool(rr.size < 3 or rr.max() <= (1 + IRREGULAR_RR_DEVIATION) * rr.min())


def rhythm_irregularity(beats: IndexArray) -> float:
    """Share of RR intervals off by over ``IRREGULAR_RR_DEVIATION`` from the median of the
    ``IRREGULAR_NEIGHBOURS`` around them (0 with under three intervals)."""
    if steady_rhythm(beats):
        return 0.0
    rr = np.diff(beats).astype(np.float64)
    neighbours = min(IRREGULAR_NEIGHBOURS, rr.size - 1 + rr.size % 2)
    return float(np.mean(~near_local_median(rr, IRREGULAR_RR_DEVIATION, neighbours)))


def detect_lead(
    signal: npt.NDArray[np.number], sampling_rate_hz: float, *, higher_bands: bool = True
) -> LeadDetection:
    """The beats of one ECG lead, with the integral they were found on.

    The beats come from the standard band or, with ``higher_bands``, from a higher band where
    they are far more regular (see ``IRREGULAR_SHARE``); the band searched and not kept then
    votes where the kept one is unsure (see ``BAND_VOTE_MIN_SCORE``).

    Validated from 125 Hz to 2000 Hz; below ``MIN_SAMPLING_RATE_HZ`` it refuses.
    """
    if sampling_rate_hz < MIN_SAMPLING_RATE_HZ:
        raise ValueError(f"QRS detection needs at least {MIN_SAMPLING_RATE_HZ} Hz")
    samples = np.asarray(signal)
    factor = decimation_factor(sampling_rate_hz)
    if samples.size < _samples(2 * REFRACTORY_S, sampling_rate_hz):
        return _empty_detection(factor)
    detection_rate_hz = sampling_rate_hz / factor
    decimated = decimate(samples, sampling_rate_hz)
    standard_integral, qrs_centres = _find_qrs(decimated, detection_rate_hz, STANDARD_BAND_HZ)
    if not np.any(standard_integral > 0):
        return _empty_detection(factor)
    integral = standard_integral
    irregularity = rhythm_irregularity(qrs_centres) if higher_bands else 0.0
    # The last band searched and not kept: its beats vote where the kept band's are unsure.
    passed_over: tuple[FloatArray, IndexArray] | None = None
    for band_hz in HIGH_BANDS_HZ:
        if irregularity < IRREGULAR_SHARE or band_hz[1] >= BAND_EDGE_SHARE * detection_rate_hz:
            break
        band_integral, band_centres = _find_qrs(decimated, detection_rate_hz, band_hz)
        band_irregularity = rhythm_irregularity(band_centres)
        if band_irregularity >= HIGH_BAND_GAIN * irregularity:
            passed_over = band_integral, band_centres
            break
        passed_over = integral, qrs_centres
        integral, qrs_centres, irregularity = band_integral, band_centres, band_irregularity
    if qrs_centres.size == 0:
        return LeadDetection(qrs_centres, qrs_centres, integral, factor, standard_integral, [])
    r_peaks, qrs_centres = _located_once(
        samples, sampling_rate_hz, decimated, integral, qrs_centres
    )
    if passed_over is not None and passed_over[1].size:
        other_peaks, other_centres = _located_once(
            samples, sampling_rate_hz, decimated, passed_over[0], passed_over[1]
        )
        r_peaks, qrs_centres = _bands_voted(
            LeadDetection(r_peaks, qrs_centres, integral, factor, standard_integral, []),
            LeadDetection(
                other_peaks, other_centres, passed_over[0], factor, standard_integral, []
            ),
            samples.size,
            sampling_rate_hz,
        )
    artefacts = _artefact_silences(decimated, sampling_rate_hz, r_peaks, samples.size)
    return LeadDetection(r_peaks, qrs_centres, integral, factor, standard_integral, artefacts)


def _located_once(
    samples: npt.NDArray[np.number],
    sampling_rate_hz: float,
    decimated: FloatArray,
    integral: FloatArray,
    qrs_centres: IndexArray,
) -> tuple[IndexArray, IndexArray]:
    """The R waves of the QRS centres, and the centres, in time order and no two R waves
    closer than ``PAIRING_S``.

    Moved onto their R waves (up to ``R_SEARCH_S`` either way), two centres can settle on one
    R wave, or closer than two QRS complexes can be: one QRS seen twice, or a QRS and a noise
    peak beside it. Of two that close, the one with the larger integral peak is the QRS, as
    between the integral's own peaks (see ``_classify_peaks``).
    """
    r_peaks = _locate_r_waves(samples, sampling_rate_hz, decimated, qrs_centres)
    order = np.argsort(r_peaks, kind="stable")
    r_peaks, qrs_centres = r_peaks[order], qrs_centres[order]
    pairing = _samples(PAIRING_S, sampling_rate_hz)
    if r_peaks.size < 2 or int(np.diff(r_peaks).min()) >= pairing:
        return r_peaks, qrs_centres
    peaks = r_peaks.tolist()
    heights = integral[qrs_centres].tolist()
    kept: list[int] = []
    for index, peak in enumerate(peaks):
        if kept and peak - peaks[kept[-1]] < pairing:
            if heights[index] > heights[kept[-1]]:
                kept[-1] = index
            continue
        kept.append(index)
    return r_peaks[kept], qrs_centres[kept]


def _bands_voted(
    kept: LeadDetection, passed_over: LeadDetection, length: int, sampling_rate_hz: float
) -> tuple[IndexArray, IndexArray]:
    """The kept band's beats, with the band passed over voting as another lead would (see
    :mod:`ecg_analyzer.insights.vote`), in the stretches where both score at least
    ``BAND_VOTE_MIN_SCORE``: noise shows on every band of a lead, so two bands of one lead
    must each stand out more clearly than two leads."""
    stretch = max(1, round(BAND_VOTE_STRETCH_S * sampling_rate_hz))
    starts = np.arange(0, length, stretch, dtype=np.int64)
    silent_limit = round(SILENCE_S * sampling_rate_hz)
    trustworthy = (
        np.asarray([stretch_scores(d, starts, stretch) for d in (kept, passed_over)])
        >= BAND_VOTE_MIN_SCORE
    )
    doubtful = beats_no_other_lead_confirms(
        kept.r_peaks,
        np.zeros(kept.r_peaks.size, dtype=np.int64),
        [kept, passed_over],
        trustworthy,
        stretch,
        sampling_rate_hz,
        silent_limit=silent_limit,
    )
    r_peaks, qrs_centres = kept.r_peaks[~doubtful], kept.qrs_centres[~doubtful]
    added, _ = beats_the_stretch_lead_missed(
        r_peaks,
        [kept, passed_over],
        np.zeros(starts.size, dtype=np.int64),
        trustworthy,
        stretch,
        sampling_rate_hz,
        silent_limit,
    )
    if not added:
        return r_peaks, qrs_centres
    found = np.asarray(added, dtype=np.int64)
    found_centres = passed_over.qrs_centres[np.searchsorted(passed_over.r_peaks, found)]
    unordered = np.concatenate((r_peaks, found))
    order = np.argsort(unordered, kind="stable")
    return unordered[order], np.concatenate((qrs_centres, found_centres))[order]


def _artefact_silences(
    decimated: FloatArray, sampling_rate_hz: float, r_peaks: IndexArray, length: int
) -> list[tuple[int, int]]:
    """The lead's silences over ``SILENCE_S`` (between beats, or before the first and after
    the last) through which its baseline moves too far for a pause (see
    ``ARTEFACT_BASELINE_SHARE``), as full-rate [start, end) spans."""
    bounds = np.concatenate(([0], r_peaks, [length]))
    long = np.flatnonzero(np.diff(bounds) > SILENCE_S * sampling_rate_hz)
    if long.size == 0:
        return []
    factor = decimation_factor(sampling_rate_hz)
    detection_rate_hz = sampling_rate_hz / factor
    half = _samples(BASELINE_S, detection_rate_hz)
    beats = np.minimum(r_peaks // factor, decimated.size - 1)
    amplitude = float(np.median(np.abs(decimated[beats] - _window_medians(decimated, beats, half))))
    step = _samples(SILENCE_STEP_S, detection_rate_hz)
    artefacts: list[tuple[int, int]] = []
    for start, end in zip(bounds[long].tolist(), bounds[long + 1].tolist(), strict=True):
        # A window's width from the beats at either end, whose T and P waves it would see.
        points = np.arange(start // factor + half, end // factor - half, step, dtype=np.int64)
        if points.size < 2:
            continue
        baseline = _window_medians(decimated, points, half)
        if float(np.ptp(baseline)) > ARTEFACT_BASELINE_SHARE * amplitude:
            artefacts.append((start, end))
    return artefacts


def detect_r_peaks(signal: npt.NDArray[np.number], sampling_rate_hz: float) -> IndexArray:
    """Sample indices of the R peaks of one ECG lead, ascending.

    Validated from 125 Hz to 2000 Hz; below ``MIN_SAMPLING_RATE_HZ`` it refuses.
    """
    return detect_lead(signal, sampling_rate_hz).r_peaks
