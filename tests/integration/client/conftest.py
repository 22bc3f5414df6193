"""The client's tests run against the same per-test gateway as the gateway's own."""

from tests.integration.gateway.conftest import gateway, make_gateway

__all__ = ["gateway", "make_gateway"]
