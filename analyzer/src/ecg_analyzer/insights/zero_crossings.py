"""Zero crossings, the seed's classic insight."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

# Samples per chunk, a multiple of 64: large enough to amortise the per-chunk numpy calls,
# small enough that the packed masks stay in the L2 cache.
CHUNK_SAMPLES = 1 << 20
_BITS = 64
# Up to this many samples, plainly dropping the zeros is cheaper than the packed path's
# fixed cost of a dozen numpy calls.
COMPACT_MAX_SAMPLES = 1 << 16

Bitset = npt.NDArray[np.uint64]


def count_zero_crossings(signal: npt.NDArray[np.integer]) -> int:
    """Number of sign changes between consecutive non-zero samples.

    Samples equal to 0 are dropped first, so a signal that touches zero and returns to
    the same side does not count: ``[1, 0, -1]`` -> 1, ``[1, 0, 0, 1]`` -> 0,
    ``[1, -1, 1]`` -> 2, all zeros -> 0.
    """
    samples = np.asarray(signal).ravel()
    if samples.size <= COMPACT_MAX_SAMPLES:
        negative = np.less(samples[samples != 0], 0)
        return int(np.count_nonzero(negative[1:] != negative[:-1]))
    total = 0
    previous_negative: bool | None = None  # sign of the last non-zero sample so far
    mask = np.empty(min(samples.size, CHUNK_SAMPLES), dtype=np.bool_)
    for start in range(0, samples.size, CHUNK_SAMPLES):
        chunk = samples[start : start + CHUNK_SAMPLES]
        crossings, first_negative, last_negative = _chunk_crossings(chunk, mask[: chunk.size])
        if first_negative is None:
            continue
        total += crossings
        if previous_negative is not None and previous_negative != first_negative:
            total += 1
        previous_negative = last_negative
    return total


def _pack(mask: npt.NDArray[np.bool_]) -> Bitset:
    """Bitset of ``mask``: sample ``i`` is bit ``i % 64`` of word ``i // 64``; padding is 0."""
    packed = np.packbits(mask, bitorder="little")
    padding = -packed.size % (_BITS // 8)
    if padding:
        packed = np.concatenate((packed, np.zeros(padding, dtype=np.uint8)))
    words: Bitset = packed.view("<u8")
    return words


def _shift_up(bits: Bitset, shift: int) -> Bitset:
    """Bitset whose sample ``i`` is sample ``i - shift`` of ``bits`` (0 below ``shift``)."""
    word_shift, bit_shift = divmod(shift, _BITS)
    shifted = np.zeros_like(bits)
    if word_shift >= bits.size:
        return shifted
    source = bits[: bits.size - word_shift]
    if bit_shift == 0:
        shifted[word_shift:] = source
    else:
        shifted[word_shift:] = source << bit_shift
        shifted[word_shift + 1 :] |= source[:-1] >> (_BITS - bit_shift)
    return shifted


def _bit(bits: Bitset, index: int) -> bool:
    return bool((int(bits[index // _BITS]) >> (index % _BITS)) & 1)


def _chunk_crossings(
    chunk: npt.NDArray[np.integer], mask: npt.NDArray[np.bool_]
) -> tuple[int, bool | None, bool | None]:
    """Crossings inside one chunk, and the signs of its first and last non-zero samples.

    Dropping zeros is the same as giving each zero the sign of the last non-zero sample
    before it; the crossings are then the changes of ``sample < 0`` between neighbours.
    The sign and non-zero masks are packed into 64-bit words, so the fill (by doubling:
    shift 1, 2, 4, ... up to the longest zero run) and the count of changes touch 1/8 of
    a byte per sample, and nothing is compacted with a boolean index.
    """
    size = chunk.size
    np.not_equal(chunk, 0, out=mask)
    known = _pack(mask)
    np.less(chunk, 0, out=mask)
    negative = _pack(mask)
    known_count = int(np.bitwise_count(known).sum())
    if known_count == 0:
        return 0, None, None
    first_word = int(np.argmax(known != 0))
    lowest_bit = int(known[first_word]) & -int(known[first_word])
    first = first_word * _BITS + lowest_bit.bit_length() - 1
    padding = np.uint64((1 << (size % _BITS)) - 1 if size % _BITS else (1 << _BITS) - 1)

    # Invariant: where ``known``, ``negative`` holds the sign of the last non-zero
    # sample at or before that position; elsewhere it is 0.
    shift = 1
    while known_count < size - first:
        negative |= _shift_up(negative, shift) & ~known
        known |= _shift_up(known, shift)
        negative[-1] &= padding
        known[-1] &= padding
        known_count = int(np.bitwise_count(known).sum())
        shift *= 2

    changes = negative ^ _shift_up(negative, 1)
    changes[0] &= ~np.uint64(1)  # sample 0 has no predecessor in the chunk
    changes[-1] &= padding
    crossings = int(np.bitwise_count(changes).sum())
    first_negative = _bit(negative, first)
    # Leading zeros read as positive: a negative first non-zero sample is no crossing.
    if first > 0 and first_negative:
        crossings -= 1
    return crossings, first_negative, _bit(negative, size - 1)
