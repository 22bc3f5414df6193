"""Where one detection of the beats is unsure, another votes.

The other detection is another lead of the same ECG (see
:func:`ecg_analyzer.insights.fusion.fuse_leads`) or, on one lead, another band its beats were
searched on (see :func:`ecg_analyzer.insights.qrs.detect_lead`). A beat the one shows as a mere
trace, out of step with the rhythm, that the other does not show is dropped; a beat the other
found, in an interval too long for the rhythm, where the one shows a trace of a QRS, is added.
Each detection is judged only in the stretches where its beats can be trusted
(:func:`stretch_scores`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ecg_analyzer.insights.qrs import LeadDetection

# Between beats: at 180 bpm the integral is high for over half of every cycle.
BACKGROUND_PERCENTILE = 20.0
# Where one lead alone is unsure, the others vote (measured in fusion on the 25 MIT-BIH
# records, both leads, before one lead's bands voted too; without either step the fused beats
# miss 174 and invent 129).
# First a stitched beat is dropped (see :func:`beats_no_other_lead_confirms`) when one of its
# intervals is under UNCONFIRMED_RR_SHARE of the local RR, its own lead shows under
# UNCONFIRMED_OWN_SHARE of its median QRS there, and every other lead trustworthy in the
# stretch under UNCONFIRMED_OTHER_SHARE of its own: 11 false beats fewer on 5 records, 1
# true one lost. Own share 0.03-0.07, other 0.2-0.5 and RR share 0.9-1.0 drop 9-12 false and
# 0-1 true; RR share 0.7 drops 6 false; no RR condition, 14 false and 5 true.
UNCONFIRMED_RR_SHARE = 0.9
UNCONFIRMED_OWN_SHARE = 0.05
UNCONFIRMED_OTHER_SHARE = 0.3
# Then a beat of another trustworthy lead is added (see :func:`beats_the_stretch_lead_missed`)
# inside an interval of at least MISSED_RR_FACTOR times the median of the
# MISSED_RR_NEIGHBOURS intervals around it, at least MISSED_SIDE_S from the beats that bound
# it, where the stretch's own lead shows at least MISSED_EVIDENCE_SHARE of its median QRS
# (or, in an interval longer than a lead may be silent, where the other lead shows
# UNCONFIRMED_OTHER_SHARE of its own): 28 beats found on 7 records (16 on 203) for 2 false
# ones, so 147 missed and 120 invented.
# Evidence 0.04-0.16 and 5-20 neighbours move either count by at most 9; factor 1.3-1.5 and
# side 0.25-0.36 s by 6.
MISSED_RR_FACTOR = 1.4
MISSED_RR_NEIGHBOURS = 10
MISSED_SIDE_S = 0.3
MISSED_EVIDENCE_SHARE = 0.08
# How much of a QRS a lead shows at a time: its integral's maximum within QRS_HALF_WIDTH_S.
QRS_HALF_WIDTH_S = 0.075

IndexArray = npt.NDArray[np.int64]


def stretch_scores(
    detection: LeadDetection, starts: IndexArray, length: int, *, standard_band: bool = False
) -> list[float]:
    """Per stretch, median integral at the lead's QRS centres over the integral's background
    (its ``BACKGROUND_PERCENTILE``-th percentile there), on the integral the beats were found
    on or, with ``standard_band``, on the standard band's.

    0 where the lead has no beat in the stretch or no signal at all.
    """
    if starts.size == 0:
        return []
    integral = detection.standard_integral if standard_band else detection.integral
    factor = detection.factor
    firsts = starts // factor
    lasts = np.minimum(starts + length, integral.size * factor) // factor
    sizes = lasts - firsts
    backgrounds = np.zeros(starts.size)
    # The stretches of one size that follow one another (all but the last, usually) take one
    # percentile call: one a stretch costs a 30 min lead 180 calls.
    same = 0
    while (
        same < starts.size
        and sizes[same] == sizes[0]
        and (same == 0 or firsts[same] == lasts[same - 1])
    ):
        same += 1
    if same and sizes[0] >= 2:
        block = integral[firsts[0] : firsts[0] + same * sizes[0]].reshape(same, sizes[0])
        backgrounds[:same] = np.percentile(block, BACKGROUND_PERCENTILE, axis=1)
    for index in range(same if sizes[0] >= 2 else 0, starts.size):
        if sizes[index] >= 2:
            window = integral[firsts[index] : lasts[index]]
            backgrounds[index] = np.percentile(window, BACKGROUND_PERCENTILE)
    # Median integral at each stretch's centres: sorted by stretch, then by value.
    centres = detection.qrs_centres
    stretch = np.searchsorted(firsts, centres, side="right") - 1
    inside = (stretch >= 0) & (centres < lasts[np.maximum(stretch, 0)])
    stretch, values = stretch[inside], integral[centres[inside]]
    order = np.lexsort((values, stretch))
    values = values[order]
    counts = np.bincount(stretch, minlength=starts.size)
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
    counted = counts > 0
    medians = np.zeros(starts.size)
    low = offsets[counted] + (counts[counted] - 1) // 2
    high = offsets[counted] + counts[counted] // 2
    medians[counted] = (values[low] + values[high]) / 2
    scores: list[float] = []
    for size, count, median, background in zip(
        sizes.tolist(), counts.tolist(), medians.tolist(), backgrounds.tolist(), strict=True
    ):
        if size < 2 or count == 0:
            scores.append(0.0)
        elif background <= 0.0:
            scores.append(float("inf"))
        else:
            scores.append(median / background)
    return scores


def qrs_evidence(
    detection: LeadDetection, peaks: IndexArray, sampling_rate_hz: float
) -> npt.NDArray[np.float64]:
    """How much of a QRS the lead shows at each of ``peaks`` (full-rate samples): its
    integral's maximum within ``QRS_HALF_WIDTH_S``, over its median at the lead's own beats
    (0 for a lead without beats)."""
    if detection.qrs_centres.size == 0 or peaks.size == 0:
        return np.zeros(peaks.size)
    typical = float(np.median(detection.integral[detection.qrs_centres]))
    half = round(QRS_HALF_WIDTH_S * sampling_rate_hz / detection.factor)
    last = detection.integral.size - 1
    windows = np.clip(peaks[:, None] // detection.factor + np.arange(-half, half + 1), 0, last)
    evidence: npt.NDArray[np.float64] = detection.integral[windows].max(axis=1) / typical
    return evidence


def local_rr(beats: IndexArray) -> npt.NDArray[np.float64]:
    """Per interval between ``beats``, the median of the ``MISSED_RR_NEIGHBOURS`` + 1
    intervals centred on it, the window shifted inwards near the ends (so an odd first or
    last interval is judged against the rhythm, not against copies of itself); at least two
    beats."""
    rr = np.diff(beats).astype(np.float64)
    width = 2 * min(MISSED_RR_NEIGHBOURS // 2, (rr.size - 1) // 2) + 1
    windows = np.median(np.lib.stride_tricks.sliding_window_view(rr, width), axis=1)
    first = np.clip(np.arange(rr.size) - width // 2, 0, rr.size - width)
    medians: npt.NDArray[np.float64] = windows[first]
    return medians


def beats_the_stretch_lead_missed(
    stitched: IndexArray,
    detections: Sequence[LeadDetection],
    chosen: IndexArray,
    trustworthy: npt.NDArray[np.bool_],
    length: int,
    sampling_rate_hz: float,
    silent_limit: int,
) -> tuple[list[int], list[int]]:
    """Beats of another lead, trustworthy in the stretch, that the stretch's own lead
    (``chosen``, per stretch) saw too small for its threshold; and the leads they came from.

    Two leads' evidence for one beat: the other lead found it, the stretch's lead shows a QRS
    there (see ``MISSED_EVIDENCE_SHARE``), and the stitched beats leave an interval too long
    for the rhythm around it (see ``MISSED_RR_FACTOR``). Either alone is common (a noise
    peak on the other lead, a pause); together they are a beat one lead missed, as a small
    ventricular beat on a lead it hardly projects onto. Through an interval longer than a
    lead may be silent (``silent_limit`` samples) the stretch's lead need show nothing, if
    the other lead shows a QRS of its own size (``UNCONFIRMED_OTHER_SHARE``): a baseline
    leap, say, hid the beat on the one lead.
    """
    if len(detections) < 2 or stitched.size < 3:
        return [], []
    side = round(MISSED_SIDE_S * sampling_rate_hz)
    stretches = trustworthy.shape[1]
    # (peak, lead, the stretch's lead shows a QRS there, the lead shows a full QRS there)
    candidates: list[tuple[int, int, bool, bool]] = []
    for lead, detection in enumerate(detections):
        peaks = detection.r_peaks
        stretch = np.minimum(peaks // length, stretches - 1)
        following = np.searchsorted(stitched, peaks)
        before = stitched[np.clip(following - 1, 0, stitched.size - 1)]
        after = stitched[np.clip(following, 0, stitched.size - 1)]
        inside = (
            (following > 0)
            & (following < stitched.size)
            & (peaks - before >= side)
            & (after - peaks >= side)
            & trustworthy[lead, stretch]
            & (chosen[stretch] != lead)
            & trustworthy[chosen[stretch], stretch]
        )
        found = peaks[inside]
        if found.size == 0:
            continue
        # What the stretch's lead shows there, and whether the other lead shows a QRS of its
        # own size: neither changes as beats are added, unlike the intervals below.
        shown = np.zeros(found.size)
        owners = chosen[stretch[inside]]
        for owner in np.unique(owners).tolist():
            at = owners == owner
            shown[at] = qrs_evidence(detections[owner], found[at], sampling_rate_hz)
        full = qrs_evidence(detection, found, sampling_rate_hz) >= UNCONFIRMED_OTHER_SHARE
        candidates += [
            (peak, lead, there, whole)
            for peak, there, whole in zip(
                found.tolist(),
                (shown >= MISSED_EVIDENCE_SHARE).tolist(),
                full.tolist(),
                strict=True,
            )
        ]
    beats = stitched.tolist()
    added: list[int] = []
    sources: list[int] = []
    for peak, lead, shown_there, full_qrs in sorted(candidates):
        index = bisect.bisect(beats, peak)
        if peak - beats[index - 1] < side or beats[index] - peak < side:
            continue
        around = beats[
            max(0, index - 1 - MISSED_RR_NEIGHBOURS // 2) : index + MISSED_RR_NEIGHBOURS // 2
        ]
        interval = beats[index] - beats[index - 1]
        if interval < MISSED_RR_FACTOR * float(np.median(np.diff(around))):
            continue
        if not shown_there and (interval <= silent_limit or not full_qrs):
            continue
        bisect.insort(beats, peak)
        added.append(peak)
        sources.append(lead)
    return added, sources


def beats_no_other_lead_confirms(
    fused: IndexArray,
    sources: IndexArray,
    detections: Sequence[LeadDetection],
    trustworthy: npt.NDArray[np.bool_],
    length: int,
    sampling_rate_hz: float,
    silent_limit: int | None = None,
) -> npt.NDArray[np.bool_]:
    """Which fused beats to drop: out of step with the rhythm (see ``UNCONFIRMED_RR_SHARE``),
    a mere trace on the lead they came from (``UNCONFIRMED_OWN_SHARE``), and no more than a
    trace (``UNCONFIRMED_OTHER_SHARE``) on every other lead trustworthy in the stretch.

    A lead's threshold, lowered through a silence, takes a noise peak or a T wave's remnant
    for a beat that a lead which sees every beat of the stretch shows nothing of. With
    ``silent_limit``, a beat whose dropping would leave over that many samples without one
    stays: where the other detection is no independent view (another band of the same lead
    misses what this one misses), the beat it stands in for may be missing, not absent.
    """
    doubtful = np.zeros(fused.size, dtype=bool)
    if len(detections) < 2 or fused.size < 3:
        return doubtful
    # Out of step: either interval short for the rhythm around it.
    short = np.diff(fused) < UNCONFIRMED_RR_SHARE * local_rr(fused)
    early = np.zeros(fused.size, dtype=bool)
    early[1:] |= short
    early[:-1] |= short
    stretch = np.minimum(fused // length, trustworthy.shape[1] - 1)
    for lead, detection in enumerate(detections):
        candidates = np.flatnonzero((sources == lead) & early)
        if candidates.size == 0:
            continue
        weak = qrs_evidence(detection, fused[candidates], sampling_rate_hz) < UNCONFIRMED_OWN_SHARE
        candidates = candidates[weak]
        seen = np.zeros(candidates.size, dtype=bool)
        judged = np.zeros(candidates.size, dtype=bool)
        for other, other_detection in enumerate(detections):
            if other == lead:
                continue
            trusted = trustworthy[other, stretch[candidates]]
            judged |= trusted
            evidence = qrs_evidence(other_detection, fused[candidates], sampling_rate_hz)
            seen |= trusted & (evidence >= UNCONFIRMED_OTHER_SHARE)
        doubtful[candidates[judged & ~seen]] = True
    if silent_limit is not None and doubtful.any():
        doubtful &= ~_bridging_a_silence(fused, doubtful, silent_limit)
    return doubtful


def _bridging_a_silence(
    fused: IndexArray, doubtful: npt.NDArray[np.bool_], silent_limit: int
) -> npt.NDArray[np.bool_]:
    """Which doubtful beats lie in a run whose dropping leaves over ``silent_limit`` samples
    between the kept beats around it (or the record's start)."""
    kept = fused[~doubtful]
    after = np.searchsorted(kept, fused[doubtful])
    start = np.where(after > 0, kept[np.maximum(after - 1, 0)], 0)
    end = np.where(after < kept.size, kept[np.minimum(after, kept.size - 1)], fused[-1] + 1)
    bridging = np.zeros(fused.size, dtype=bool)
    bridging[doubtful] = end - start > silent_limit
    return bridging
