"""count_zero_crossings against a plain loop over its definition."""

from __future__ import annotations

import itertools
from unittest.mock import patch

import numpy as np
import numpy.typing as npt
import pytest
from ecg_analyzer.insights import count_zero_crossings, zero_crossings
from hypothesis import given, settings
from hypothesis import strategies as st

SIGNED_DTYPES: list[type[np.signedinteger]] = [np.int8, np.int16, np.int32, np.int64]


def crossings_by_definition(signal: npt.NDArray[np.integer]) -> int:
    """Drop the zeros, then count neighbours of opposite sign, one sample at a time."""
    non_zero = [int(value) for value in signal if value != 0]
    return sum(1 for before, after in itertools.pairwise(non_zero) if (before < 0) != (after < 0))


@st.composite
def signals(draw: st.DrawFn, max_run: int = 1) -> npt.NDArray[np.signedinteger]:
    """Signed integer arrays rich in zeros, sign changes and dtype extremes.

    With ``max_run > 1`` values come in runs, so zero runs of every length occur.
    """
    dtype = draw(st.sampled_from(SIGNED_DTYPES))
    info = np.iinfo(dtype)
    value = st.one_of(
        st.integers(-2, 2),
        st.sampled_from([int(info.min), int(info.max), -1, 1]),
        st.integers(int(info.min), int(info.max)),
    )
    runs = draw(st.lists(st.tuples(value, st.integers(1, max_run)), max_size=60))
    values = [item for item, length in runs for _ in range(length)]
    return np.asarray(values, dtype=dtype)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 0, -1], 1), ([1, 0, 0, 1], 0), ([1, -1, 1], 2), ([0, 0, 0], 0), ([], 0), ([-5], 0)],
)
def test_docstring_examples(values: list[int], expected: int) -> None:
    assert count_zero_crossings(np.asarray(values, dtype=np.int16)) == expected


@settings(max_examples=400, deadline=None)
@given(signals())
def test_matches_definition(signal: npt.NDArray[np.signedinteger]) -> None:
    assert count_zero_crossings(signal) == crossings_by_definition(signal)


@settings(max_examples=400, deadline=None)
@given(signals(max_run=150))
def test_chunked_bit_packed_path_matches_definition(
    signal: npt.NDArray[np.signedinteger],
) -> None:
    """Tiny chunks force the large-array path, runs of zeros across chunk boundaries."""
    with (
        patch.object(zero_crossings, "CHUNK_SAMPLES", 64),
        patch.object(zero_crossings, "COMPACT_MAX_SAMPLES", 0),
    ):
        assert count_zero_crossings(signal) == crossings_by_definition(signal)


@pytest.mark.parametrize("dtype", [np.int16, np.int32])
def test_large_signal_spanning_chunks_matches_definition(dtype: type[np.integer]) -> None:
    """More than one default chunk, ECG-like: slow waves with zero runs at each crossing."""
    rng = np.random.default_rng(7)
    size = zero_crossings.CHUNK_SAMPLES + 250_000
    wave = 40 * np.sin(np.linspace(0, 900 * np.pi, size)) + rng.normal(0, 1.5, size)
    signal = np.round(wave).astype(dtype)
    signal[zero_crossings.CHUNK_SAMPLES - 300 : zero_crossings.CHUNK_SAMPLES + 500] = 0
    assert count_zero_crossings(signal) == crossings_by_definition(signal)


def test_unsigned_signal_never_crosses() -> None:
    assert count_zero_crossings(np.asarray([3, 0, 7, 0, 0, 1], dtype=np.uint16)) == 0
