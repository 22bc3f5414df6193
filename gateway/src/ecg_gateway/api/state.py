"""Typed application state of the gateway."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pymongo import AsyncMongoClient

from ecg_gateway.api.observability import Failure, InFlight, Metrics
from ecg_gateway.auth.tokens import TokenService
from ecg_gateway.messaging.amqp import AmqpEventPublisher
from ecg_gateway.messaging.notifications import StatusHub
from ecg_gateway.messaging.relay import OutboxRelay
from ecg_gateway.services import EcgService, UserService
from ecg_gateway.settings import GatewaySettings
from ecg_gateway.store.ports import UserRepository

METRICS = web.AppKey("metrics", Metrics)
IN_FLIGHT = web.AppKey("in_flight", InFlight)
FAILURE = web.AppKey("failure", Failure)
SETTINGS = web.AppKey("settings", GatewaySettings)
MONGO = web.AppKey("mongo", AsyncMongoClient[dict[str, Any]])
PUBLISHER = web.AppKey("publisher", AmqpEventPublisher)
TOKENS = web.AppKey("tokens", TokenService)
USERS = web.AppKey("users", UserRepository)
USER_SERVICE = web.AppKey("user_service", UserService)
ECG_SERVICE = web.AppKey("ecg_service", EcgService)
RELAY = web.AppKey("relay", OutboxRelay)
HUB = web.AppKey("hub", StatusHub)
