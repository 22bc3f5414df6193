"""Zero crossings, the seed's classic insight."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def count_zero_crossings(signal: npt.NDArray[np.integer]) -> int:
    """Number of sign changes between consecutive non-zero samples.

    Samples equal to 0 are dropped first, so a signal that touches zero and returns to
    the same side does not count: ``[1, 0, -1]`` -> 1, ``[1, 0, 0, 1]`` -> 0,
    ``[1, -1, 1]`` -> 2, all zeros -> 0.
    """
    negative = np.signbit(signal[signal != 0])
    if negative.size < 2:
        return 0
    return int(np.count_nonzero(negative[1:] != negative[:-1]))
