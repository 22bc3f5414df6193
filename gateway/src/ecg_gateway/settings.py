"""Gateway settings, read from the environment (prefix ``ECG_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-insecure-jwt-secret-change-me"
DEV_ADMIN_PASSWORD = "adminpass"


class GatewaySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECG_", extra="ignore", populate_by_name=True)

    env: Literal["development", "production"] = Field(
        default="development",
        description="In production the gateway refuses development secrets.",
    )
    host: str = Field(default="0.0.0.0", description="Interface the HTTP server binds.")
    port: int = Field(default=8000, description="HTTP port.")
    mongo_url: str = Field(
        default="mongodb://127.0.0.1:27017/",
        validation_alias=AliasChoices("ECG_MONGO_URL", "MONGO_URL"),
        description="MongoDB connection string (`MONGO_URL` also accepted).",
    )
    mongo_db: str = Field(default="ecg", description="Database name.")
    mongo_max_pool_size: int = Field(
        default=32,
        ge=1,
        description="Most MongoDB connections (so operations) at once; keep the sum over "
        "gateways under FerretDB's 50 PostgreSQL connections.",
    )
    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("ECG_AMQP_URL", "AMQP_URL"),
        description="RabbitMQ connection string; several, comma-separated, for the nodes of a "
        "cluster, tried in turn (`AMQP_URL` also accepted).",
    )
    exchange: str = Field(default="ecg.events", description="Topic exchange of the events.")
    results_queue: str = Field(
        default="ecg.gateway.results", description="Durable queue of completion events."
    )
    results_prefetch: int = Field(
        default=64, ge=1, description="Unacked completion events the gateway takes at once."
    )
    consume_results: bool = Field(
        default=True,
        description="Store completion events; `false` for a gateway that only serves "
        "requests while others store the results.",
    )
    sse_keepalive_s: float = Field(
        default=15.0, gt=0, description="Keep-alive comment interval of `GET /ecg/events` (s)."
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr(DEV_JWT_SECRET), description="HS256 signing key of access tokens."
    )
    jwt_ttl_s: int = Field(default=3600, ge=1, description="Access token lifetime (s).")
    admin_username: str = Field(default="admin", description="Admin created at start-up.")
    admin_password: SecretStr = Field(
        default=SecretStr(DEV_ADMIN_PASSWORD), description="Its password (first start only)."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed logins per username, and per client address, before each further "
        "attempt must wait (1 s, then doubling; 429 with `Retry-After`).",
    )
    login_window_s: float = Field(
        default=900.0,
        gt=0,
        description="A username's or address's failures are forgotten "
        "this long after its last one (s).",
    )
    login_max_backoff_s: float = Field(
        default=900.0, gt=0, description="The longest wait between throttled attempts (s)."
    )
    max_body_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="413 above this.")
    max_total_samples: int = Field(
        default=20_000_000, ge=1, description="Samples over all leads of one ECG."
    )
    outbox_poll_s: float = Field(
        default=5.0,
        gt=0,
        description="How often the relay scans for overdue dispatches (s); failed publishes "
        "trigger a scan at once.",
    )
    outbox_lease_s: float = Field(
        default=30.0, gt=0, description="A relay's claim on an ECG lapses after this (s)."
    )
    dispatch_timeout_s: float = Field(
        default=300.0, gt=0, description="An ECG still pending this long is dispatched again (s)."
    )
    max_dispatch_attempts: int = Field(
        default=3, ge=1, description="Dispatches before a pending ECG is marked failed."
    )
    shutdown_timeout_s: float = Field(
        default=30.0, gt=0, description="On SIGTERM, how long in-flight requests may take (s)."
    )
    log_level: str = Field(default="INFO", description="Python log level.")

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> GatewaySettings:
        if self.env != "production":
            return self
        missing = []
        if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
            missing.append("ECG_JWT_SECRET must be set in production")
        if self.admin_password.get_secret_value() == DEV_ADMIN_PASSWORD:
            missing.append("ECG_ADMIN_PASSWORD must be set (not the default) in production")
        if missing:
            raise ValueError("; ".join(missing))
        return self
