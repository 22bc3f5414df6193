"""The CPU work of one message, run in a worker process: picklable, pure."""

from __future__ import annotations

import base64

import numpy as np
from ecg_contracts.events import EcgSubmitted
from ecg_contracts.insights import Insights

from ecg_analyzer.insights import compute_insights

_NUMPY_DTYPES: dict[str, np.dtype[np.signedinteger]] = {
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
}


def analyze_submitted(event: EcgSubmitted) -> Insights:
    leads = [
        (
            lead.name,
            np.frombuffer(
                base64.b64decode(lead.signal.data), dtype=_NUMPY_DTYPES[lead.signal.dtype]
            ),
        )
        for lead in event.leads
    ]
    return compute_insights(
        leads, event.sampling_rate_hz, [lead.units_per_mv for lead in event.leads]
    )
