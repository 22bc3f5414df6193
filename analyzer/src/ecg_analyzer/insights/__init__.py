"""Pure signal analysis: arrays in, an :class:`~ecg_contracts.insights.Insights` out, no I/O."""

from ecg_analyzer.insights.compute import compute_insights
from ecg_analyzer.insights.zero_crossings import count_zero_crossings

__all__ = ["compute_insights", "count_zero_crossings"]
