from __future__ import annotations

import pytest
from ecg_contracts.signal import (
    INT16_MAX,
    INT16_MIN,
    INT32_MAX,
    INT32_MIN,
    decode_signal,
    encode_signal,
    narrowest_dtype,
    pack_samples,
    sample_count,
    unpack_samples,
)
from hypothesis import given
from hypothesis import strategies as st

int32s = st.integers(min_value=INT32_MIN, max_value=INT32_MAX)


@given(st.lists(int32s, min_size=1, max_size=300))
def test_encode_then_decode_returns_the_samples(samples: list[int]) -> None:
    encoded = encode_signal(samples)
    assert decode_signal(encoded) == samples
    assert sample_count(encoded) == len(samples)


@pytest.mark.parametrize(
    ("samples", "dtype"),
    [
        ([0, 1, -1], "int16"),
        ([INT16_MIN, INT16_MAX], "int16"),
        ([INT16_MAX + 1], "int32"),
        ([INT16_MIN - 1, 0], "int32"),
        ([INT32_MIN, INT32_MAX], "int32"),
    ],
)
def test_the_narrowest_dtype_that_holds_every_sample_is_chosen(
    samples: list[int], dtype: str
) -> None:
    assert narrowest_dtype(samples) == dtype
    assert encode_signal(samples).dtype == dtype


def test_packed_samples_are_little_endian() -> None:
    assert pack_samples([1, -2], "int16") == ("int16", b"\x01\x00\xfe\xff")
    assert pack_samples([1], "int32") == ("int32", b"\x01\x00\x00\x00")


def test_a_truncated_buffer_is_refused() -> None:
    with pytest.raises(ValueError, match="whole number"):
        unpack_samples("int32", b"\x00\x00\x00")
