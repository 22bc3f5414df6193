"""A typed client of the ECG service's REST API, built on the contracts' models."""

from ecg_client.calls import ApiError, StreamEvent, Unreachable
from ecg_client.client import AsyncEcgClient, EcgClient

__all__ = ["ApiError", "AsyncEcgClient", "EcgClient", "StreamEvent", "Unreachable"]
