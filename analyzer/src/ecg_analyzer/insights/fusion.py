"""One beat sequence from several leads: per stretch, the best lead that can be trusted there.

A lead can be clean for minutes and then drown in muscle noise or lose contact; another lead
of the same ECG usually stays readable. So the record is cut into stretches of
``SEGMENT_S``, each lead gets a score per stretch (how far its detected QRS complexes rise
above the background of the integral they were found on), and the leads are ranked by their
median score on the standard band, which every lead has, cut down when a lead finds fewer
beats than another (see :func:`lead_preference`).
Each stretch takes its beats from the highest-ranked lead that scores at least
``TRUST_MIN_SCORE`` there and is not silent for over ``SILENCE_S`` in it (when every
trustworthy lead is, the pause is real): a lead that is good overall is kept wherever it is trustworthy,
since switching leads on a small score difference costs more beats at the seams than it
saves. Where no lead reaches the threshold the stretch is reported as unusable and its
detections are dropped rather than guessed at. Then, where one lead alone is unsure, the
other leads vote (see :mod:`ecg_analyzer.insights.vote`): a stitched beat out of step with
the rhythm that is a mere trace on its lead and that no other trustworthy lead shows is
dropped, and a beat that another trustworthy lead found, and the stretch's own lead showed
too small for its threshold, is added where the stitched beats leave too long an interval.
A lead silent for over ``SILENCE_S`` where the fused beats go on is reported as unreadable
there (see :func:`unreadable_stretches`).

The threshold was set on the MIT-BIH training records (both leads, 10 s stretches): those
scoring under 6 had more detection errors than beats, 6-8 about 80 %, 8-10 40 %, over 50
under 10 %. It was set on standard-band scores; on a higher band (see
:func:`ecg_analyzer.insights.qrs.detect_lead`) the background is quieter and the same beats
score higher.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ecg_analyzer.insights.qrs import (
    IRREGULAR_SHARE,
    REFRACTORY_S,
    SILENCE_S,
    LeadDetection,
    detect_lead,
    rhythm_irregularity,
    steady_rhythm,
)
from ecg_analyzer.insights.vote import (
    beats_no_other_lead_confirms,
    beats_the_stretch_lead_missed,
    stretch_scores,
)

SEGMENT_S = 10.0
TRUST_MIN_SCORE = 8.0
STITCH_OVERLAP_S = 0.15
COUNT_PENALTY_POWER = 4
RHYTHM_LEAD_PRIORS = {"II": 2.0, "MLII": 2.0, "V5": 1.5, "I": 1.5}
# Two leads find the same beats when this share of the beats of the one with more of them
# have a beat of the other within AGREEMENT_S.
AGREEMENT_SHARE = 0.9
AGREEMENT_S = 0.1

IndexArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class FusedBeats:
    """Beats of the whole ECG, where they came from, and where no lead could be trusted."""

    r_peaks: IndexArray
    beats_per_lead: list[int]  # beats each input lead supplied
    unusable: list[tuple[int, int]]  # [start, end) sample spans with no trustworthy lead
    unreadable: list[list[tuple[int, int]]]  # per input lead: its silences the others fill


def detect_leads(
    signals: Sequence[npt.NDArray[np.number]], sampling_rate_hz: float
) -> list[LeadDetection]:
    """Each lead's beats; an irregular lead is searched on higher bands too (see
    :func:`ecg_analyzer.insights.qrs.detect_lead`) only where no other lead finds the same
    beats: then the irregularity is the heart's (atrial fibrillation, ectopic beats), not
    the detector's, and the extra searches would cost a 12-lead ECG a third more time.
    """
    if len(signals) == 1:
        return [detect_lead(signals[0], sampling_rate_hz)]
    detections = [detect_lead(s, sampling_rate_hz, higher_bands=False) for s in signals]
    if all(steady_rhythm(detection.qrs_centres) for detection in detections):
        return detections
    confirmed = confirmed_by_another_lead(detections, sampling_rate_hz)
    return [
        detect_lead(signal, sampling_rate_hz)
        if not is_confirmed and rhythm_irregularity(detection.qrs_centres) >= IRREGULAR_SHARE
        else detection
        for signal, detection, is_confirmed in zip(signals, detections, confirmed, strict=True)
    ]


def confirmed_by_another_lead(
    detections: Sequence[LeadDetection], sampling_rate_hz: float
) -> list[bool]:
    """Per lead, whether another lead finds the same beats (see ``AGREEMENT_SHARE``), their
    QRS centres compared: the R wave's own sample differs from lead to lead."""
    confirmed = [False] * len(detections)
    for first, one in enumerate(detections):
        for second in range(first + 1, len(detections)):
            other = detections[second]
            tolerance = AGREEMENT_S * sampling_rate_hz / one.factor
            if agreement(one.qrs_centres, other.qrs_centres, tolerance) >= AGREEMENT_SHARE:
                confirmed[first] = confirmed[second] = True
    return confirmed


def agreement(beats: IndexArray, others: IndexArray, tolerance: float) -> float:
    """Share of the longer sequence's beats with a beat of the other within ``tolerance``."""
    if beats.size == 0 or others.size == 0:
        return 0.0
    shorter, longer = (beats, others) if beats.size <= others.size else (others, beats)
    index = np.searchsorted(shorter, longer)
    before = shorter[np.clip(index - 1, 0, shorter.size - 1)]
    after = shorter[np.clip(index, 0, shorter.size - 1)]
    nearest = np.minimum(np.abs(longer - before), np.abs(longer - after))
    return float(np.count_nonzero(nearest <= tolerance)) / longer.size


def longest_silences(r_peaks: IndexArray, starts: IndexArray, length: int, end: int) -> IndexArray:
    """Per stretch, the longest interval without a beat of this lead that overlaps it."""
    bounds = np.concatenate(([0], r_peaks, [end]))
    gaps = np.diff(bounds)
    # Interval i runs from bounds[i] to bounds[i + 1]; those overlapping [start, start+length).
    first = np.searchsorted(bounds, starts, side="right") - 1
    last = np.searchsorted(bounds, np.minimum(starts + length, end), side="left") - 1
    longest = np.asarray(
        [
            int(gaps[a : max(a, b) + 1].max())
            for a, b in zip(first.tolist(), last.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    return longest


def rhythm_lead_prior(name: str) -> float:
    """Weight of a lead by its name: II (MLII on Holter recordings) is the conventional
    rhythm lead, V5 and I the usual alternatives. Another lead must stand out clearly more
    to be preferred: reference annotations, and readers, time beats on the rhythm lead."""
    return RHYTHM_LEAD_PRIORS.get(name.strip().upper(), 1.0)


def lead_preference(
    detections: Sequence[LeadDetection],
    comparable_scores: npt.NDArray[np.float64],
    scores: npt.NDArray[np.float64],
    starts: IndexArray,
    priors: Sequence[float],
) -> npt.NDArray[np.float64]:
    """How much each lead is preferred: its median stretch score on the standard band times
    its name's prior, cut down steeply when it finds fewer beats (in its trustworthy
    stretches, judged on its own band's ``scores``) than the lead that finds most.

    A lead that sees only the large ectopic beats scores well on what it finds; the beats it
    misses show only as a lower count than another lead's.
    """
    counts = np.zeros(len(detections))
    for lead, detection in enumerate(detections):
        stretch = np.searchsorted(starts, detection.r_peaks, side="right") - 1
        counts[lead] = np.count_nonzero(scores[lead][stretch] >= TRUST_MIN_SCORE)
    share = counts / counts.max() if counts.max() > 0 else np.ones(len(detections))
    preference: npt.NDArray[np.float64] = (
        np.median(comparable_scores, axis=1) * np.asarray(priors) * share**COUNT_PENALTY_POWER
    )
    return preference


def fuse_leads(
    detections: Sequence[LeadDetection],
    number_of_samples: int,
    sampling_rate_hz: float,
    priors: Sequence[float] | None = None,
) -> FusedBeats:
    """Stitch the leads' beats stretch by stretch (see the module docstring).

    Each stretch takes its best lead's beats up to ``STITCH_OVERLAP_S`` beyond its ends, so
    a beat on a boundary is not lost when the lead changes; two beats closer than the
    refractory period are one beat, and the stretch's own lead keeps it.
    """
    if not detections or number_of_samples == 0:
        return FusedBeats(
            np.empty(0, dtype=np.int64), [0] * len(detections), [], [[] for _ in detections]
        )
    length = max(1, round(SEGMENT_S * sampling_rate_hz))
    starts = np.arange(0, number_of_samples, length, dtype=np.int64)
    scores = np.asarray([stretch_scores(d, starts, length) for d in detections])
    # Leads are ranked on the band they all share: a higher band's quieter background would
    # otherwise rank a lead moved there above the rest. Trust is judged on each lead's own.
    comparable = np.asarray(
        [
            scores[lead]
            if d.standard_integral is d.integral
            else stretch_scores(d, starts, length, standard_band=True)
            for lead, d in enumerate(detections)
        ]
    )
    weights = priors if priors is not None else [1.0] * len(detections)
    preference = np.argsort(
        -lead_preference(detections, comparable, scores, starts, weights), kind="stable"
    )
    trustworthy = scores[preference] >= TRUST_MIN_SCORE
    trusted: npt.NDArray[np.bool_] = np.asarray(trustworthy.any(axis=0), dtype=bool)
    # A lead silent for longer than SILENCE_S in a stretch lost its beats there (contact,
    # saturation) unless every trustworthy lead is: then it is a real pause.
    silent_limit = round(SILENCE_S * sampling_rate_hz)
    silent = np.asarray(
        [
            longest_silences(detections[lead].r_peaks, starts, length, number_of_samples)
            > silent_limit
            for lead in preference.tolist()
        ]
    )
    covering = trustworthy & ~silent
    best = preference[
        np.where(covering.any(axis=0), covering.argmax(axis=0), trustworthy.argmax(axis=0))
    ]
    overlap = round(STITCH_OVERLAP_S * sampling_rate_hz)

    positions: list[int] = []
    owned: list[bool] = []
    sources: list[int] = []
    for index, start in enumerate(starts.tolist()):
        if not trusted[index]:
            continue
        lead = int(best[index])
        peaks = detections[lead].r_peaks
        end = start + length
        taken = peaks[(peaks >= start - overlap) & (peaks < end + overlap)].tolist()
        positions += taken
        owned += [start <= peak < end for peak in taken]
        sources += [lead] * len(taken)

    refractory = round(REFRACTORY_S * sampling_rate_hz)
    kept: list[int] = []
    kept_owned: list[bool] = []
    kept_sources: list[int] = []
    for position, is_owned, source in sorted(zip(positions, owned, sources, strict=True)):
        if kept and position - kept[-1] < refractory:
            if is_owned and not kept_owned[-1]:
                kept[-1], kept_owned[-1], kept_sources[-1] = position, is_owned, source
            continue
        kept.append(position)
        kept_owned.append(is_owned)
        kept_sources.append(source)

    unusable: list[tuple[int, int]] = []
    for index, start in enumerate(starts.tolist()):
        if trusted[index]:
            continue
        end = min(start + length, number_of_samples)
        if unusable and unusable[-1][1] == start:
            unusable[-1] = (unusable[-1][0], end)
        else:
            unusable.append((start, end))
    stitched = np.asarray(kept, dtype=np.int64)
    stitched_sources = np.asarray(kept_sources, dtype=np.int64)
    trustworthy_there = scores >= TRUST_MIN_SCORE
    # Another lead is an independent view: where dropping a beat leaves a long silence, the
    # other lead's own beat fills it (see beats_the_stretch_lead_missed), or it is a pause.
    doubtful = beats_no_other_lead_confirms(
        stitched, stitched_sources, detections, trustworthy_there, length, sampling_rate_hz
    )
    stitched, stitched_sources = stitched[~doubtful], stitched_sources[~doubtful]
    added, added_sources = beats_the_stretch_lead_missed(
        stitched, detections, best, trustworthy_there, length, sampling_rate_hz, silent_limit
    )
    unordered = np.concatenate((stitched, np.asarray(added, dtype=np.int64)))
    order = np.argsort(unordered, kind="stable")
    fused = unordered[order]
    fused_sources = np.concatenate((stitched_sources, np.asarray(added_sources, np.int64)))[order]
    counts = np.bincount(fused_sources, minlength=len(detections))
    unusable = merged(
        unusable + artefact_pauses(fused, detections, number_of_samples, silent_limit)
    )
    unreadable = [
        unreadable_stretches(detection.r_peaks, fused, number_of_samples, silent_limit, refractory)
        for detection in detections
    ]
    return FusedBeats(fused, counts.tolist(), unusable, unreadable)


def artefact_pauses(
    fused: IndexArray, detections: Sequence[LeadDetection], end: int, silent_limit: int
) -> list[tuple[int, int]]:
    """The fused beats' silences over ``silent_limit`` that every lead shows as an artefact
    (its baseline moving as no pause moves it, see ``qrs.ARTEFACT_BASELINE_SHARE``).

    One lead that stays readable through a silence shows it is a real pause; where none
    does, nobody can tell, and the stretch is unusable rather than a pause.
    """
    if not any(detection.artefact_silences for detection in detections):
        return []
    bounds = np.concatenate(([0], fused, [end]))
    long = np.flatnonzero(np.diff(bounds) > silent_limit)
    pauses: list[tuple[int, int]] = []
    for index in long.tolist():
        start, stop = int(bounds[index]), int(bounds[index + 1])
        middle = (start + stop) // 2
        if all(
            any(first <= middle < last for first, last in detection.artefact_silences)
            for detection in detections
        ):
            # From just after the beat that opens the silence (bounds[0] is none) to the
            # beat that closes it: neither beat is in the unusable span.
            pauses.append((start + 1 if index else start, stop))
    return pauses


def merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The union of [start, end) spans, as disjoint spans in time order."""
    union: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if union and start <= union[-1][1]:
            union[-1] = (union[-1][0], max(union[-1][1], end))
        else:
            union.append((start, end))
    return union


def unreadable_stretches(
    r_peaks: IndexArray, fused: IndexArray, end: int, silent_limit: int, refractory: int
) -> list[tuple[int, int]]:
    """The lead's silences longer than ``silent_limit`` samples (between its beats, or
    before the first and after the last) in which the fused beats of the other leads go on.

    Such a lead did not see the beats there (lost contact, saturation, noise), and says
    so, rather than look like a pause. A fused beat within ``refractory`` of the silence's
    edges is the edge beat itself, seen on another lead, so it does not count. Where every
    lead is silent the pause is real and nothing is flagged.
    """
    # The usual case, no long silence, in a few microseconds.
    if (
        r_peaks.size
        and max(int(r_peaks[0]), end - int(r_peaks[-1])) <= silent_limit
        and (r_peaks.size < 2 or int(np.diff(r_peaks).max()) <= silent_limit)
    ):
        return []
    bounds = np.concatenate(([0], r_peaks, [end]))
    long = np.flatnonzero(np.diff(bounds) > silent_limit)
    starts, ends = bounds[long], bounds[long + 1]
    inside = np.searchsorted(fused, ends - refractory, side="left") - np.searchsorted(
        fused, starts + refractory, side="right"
    )
    return [
        (int(start), int(stop))
        for start, stop, count in zip(starts.tolist(), ends.tolist(), inside.tolist(), strict=True)
        if count > 0
    ]


def intervals_outside(
    r_peaks: IndexArray, unusable: Sequence[tuple[int, int]]
) -> npt.NDArray[np.bool_]:
    """Which RR intervals (between consecutive peaks) span no unusable stretch."""
    usable = np.ones(max(0, r_peaks.size - 1), dtype=bool)
    for start, end in unusable:
        # An interval spans [start, end) when its first beat is before end and its second
        # beat after start.
        usable &= ~((r_peaks[:-1] < end) & (r_peaks[1:] > start))
    return usable
