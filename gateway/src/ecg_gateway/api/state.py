"""Typed application state the HTTP layer reads: use cases, ports, settings; no drivers."""

from __future__ import annotations

from aiohttp import web

from ecg_gateway.api.observability import Failure, InFlight, Metrics
from ecg_gateway.api.ports import Health
from ecg_gateway.auth.tokens import TokenService
from ecg_gateway.services import EcgService, UserService
from ecg_gateway.settings import GatewaySettings

METRICS = web.AppKey("metrics", Metrics)
IN_FLIGHT = web.AppKey("in_flight", InFlight)
FAILURE = web.AppKey("failure", Failure)
SETTINGS = web.AppKey("settings", GatewaySettings)
TOKENS = web.AppKey("tokens", TokenService)
USER_SERVICE = web.AppKey("user_service", UserService)
ECG_SERVICE = web.AppKey("ecg_service", EcgService)
HEALTH = web.AppKey("health", Health)
