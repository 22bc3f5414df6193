"""Analyzer settings, read from the environment (prefix ``ECG_``)."""

from __future__ import annotations

import os

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyzerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ECG_", extra="ignore", populate_by_name=True)

    amqp_url: str = Field(
        default="amqp://guest:guest@127.0.0.1:5672/",
        validation_alias=AliasChoices("ECG_AMQP_URL", "AMQP_URL"),
        description="RabbitMQ connection string; several, comma-separated, for the nodes of a "
        "cluster, tried in turn (`AMQP_URL` also accepted).",
    )
    exchange: str = Field(default="ecg.events", description="Topic exchange of the events.")
    analyzer_queue: str = Field(
        default="ecg.analyzer", description="Durable queue the analyzers share."
    )
    pool_size: int = Field(
        default_factory=lambda: os.cpu_count() or 1,
        ge=1,
        description="Processes doing the signal work (default: the number of cores).",
    )
    analyzer_prefetch: int | None = Field(
        default=None, ge=1, description="Unacked messages in flight (default: 2 x pool size)."
    )
    max_retries: int = Field(
        default=3, ge=0, description="Retries of an analysis that raised, before it fails."
    )
    heartbeat_s: int = Field(default=60, ge=1, description="AMQP heartbeat interval (s).")
    log_level: str = Field(default="INFO", description="Python log level.")

    @property
    def prefetch(self) -> int:
        return self.analyzer_prefetch or 2 * self.pool_size
