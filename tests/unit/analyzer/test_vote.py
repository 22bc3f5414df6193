"""The vote's building blocks: stretch scores against their plain definition (the code takes
one percentile call for all equal stretches and the medians from one sort), and the local
RR."""

from __future__ import annotations

import numpy as np
from ecg_analyzer.insights.qrs import LeadDetection
from ecg_analyzer.insights.vote import BACKGROUND_PERCENTILE, local_rr, stretch_scores
from hypothesis import given, settings
from hypothesis import strategies as st


def scores_by_definition(detection: LeadDetection, starts: np.ndarray, length: int) -> list[float]:
    """Stretch by stretch: median integral at the centres inside over the background."""
    scores = []
    for start in starts.tolist():
        first = start // detection.factor
        last = min(start + length, detection.integral.size * detection.factor) // detection.factor
        centres = detection.qrs_centres[
            (detection.qrs_centres >= first) & (detection.qrs_centres < last)
        ]
        if last - first < 2 or centres.size == 0:
            scores.append(0.0)
            continue
        background = float(np.percentile(detection.integral[first:last], BACKGROUND_PERCENTILE))
        median = float(np.median(detection.integral[centres]))
        scores.append(float("inf") if background <= 0.0 else median / background)
    return scores


@settings(max_examples=200, deadline=None)
@given(
    size=st.integers(1, 400),
    factor=st.integers(1, 4),
    length=st.integers(1, 300),
    beats=st.integers(0, 60),
    zeros=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_stretch_scores_follow_their_definition(
    size: int, factor: int, length: int, beats: int, zeros: bool, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    integral = rng.exponential(1.0, size)
    if zeros:
        integral[rng.random(size) < 0.5] = 0.0
    centres = np.unique(rng.integers(0, size, beats)).astype(np.int64)
    detection = LeadDetection(centres * factor, centres, integral, factor, integral, [])
    starts = np.arange(0, size * factor, length, dtype=np.int64)
    assert stretch_scores(detection, starts, length) == scores_by_definition(
        detection, starts, length
    )


@given(
    rr=st.integers(100, 1000),
    count=st.integers(2, 40),
    odd=st.integers(0, 39),
    factor=st.floats(0.3, 3.0),
)
def test_the_local_rr_is_the_rhythm_not_the_odd_interval(
    rr: int, count: int, odd: int, factor: float
) -> None:
    """One interval off (a pause, a missed or a premature beat) in a steady rhythm leaves
    the local RR of every interval at the rhythm's, when there are three or more."""
    intervals = np.full(count, rr, dtype=np.int64)
    intervals[odd % count] = max(1, round(rr * factor))
    beats = np.concatenate(([0], np.cumsum(intervals)))
    medians = local_rr(beats)
    assert medians.size == count
    if count >= 3:
        assert np.all(medians == rr)
