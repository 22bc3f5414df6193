"""deploy/.env.example lists every setting the services read, once, and nothing else ECG_*.

Its convention (stated in its header): ``NAME=value`` is set for the stack; ``# NAME=value``
shows the service's default, which applies while the line stays commented.
"""

from __future__ import annotations

import os
import re
import secrets
from typing import Any

import pytest
from ecg_analyzer.settings import AnalyzerSettings
from ecg_gateway.settings import GatewaySettings
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from tests.unit.deploy.dockerfiles import ENV_EXAMPLE
from tests.unit.test_settings_documented import settings_variables

LINE = re.compile(r"^(?P<comment>#\s*)?(?P<name>ECG_[A-Z0-9_]+)=(?P<value>.*)$")
REQUIRED = {"ECG_JWT_SECRET", "ECG_ADMIN_PASSWORD", "ECG_AMQP_URL", "ECG_MONGO_URL", "ECG_ENV"}


def example_lines() -> list[re.Match[str]]:
    return [
        match
        for line in ENV_EXAMPLE.read_text().splitlines()
        if (match := LINE.match(line.strip()))
    ]


def set_values() -> dict[str, str]:
    return {match["name"]: match["value"] for match in example_lines() if not match["comment"]}


def commented_values() -> dict[str, str]:
    return {match["name"]: match["value"] for match in example_lines() if match["comment"]}


def field_of(variable: str) -> tuple[type[BaseSettings], str]:
    name = variable.removeprefix("ECG_").lower()
    for settings in (GatewaySettings, AnalyzerSettings):
        if name in settings.model_fields:
            return settings, name
    raise AssertionError(f"{variable} is no setting")


def test_the_env_example_lists_exactly_the_settings_each_once() -> None:
    names = [match["name"] for match in example_lines()]
    assert sorted(set(names)) == sorted(names), "a setting is listed twice"
    assert set(names) == settings_variables()
    # No ECG_* variable elsewhere in the file (prose mentions included) that is not a setting.
    mentioned = set(re.findall(r"\bECG_[A-Z0-9_]+", ENV_EXAMPLE.read_text()))
    assert mentioned <= settings_variables()


def test_the_settings_without_a_safe_default_are_set_and_the_rest_commented() -> None:
    assert set(set_values()) == REQUIRED
    assert set_values()["ECG_ENV"] == "production"
    # Secrets are empty placeholders: compose refuses to start until the operator sets them.
    assert set_values()["ECG_JWT_SECRET"] == ""
    assert set_values()["ECG_ADMIN_PASSWORD"] == ""
    assert "change-me" in set_values()["ECG_AMQP_URL"]
    assert "change-me" in set_values()["ECG_MONGO_URL"]
    assert "CHANGE ME" in ENV_EXAMPLE.read_text()


@pytest.mark.parametrize("variable", sorted(commented_values()))
def test_a_commented_line_shows_the_real_default(variable: str) -> None:
    settings, name = field_of(variable)
    field = settings.model_fields[name]
    value = commented_values()[variable]
    if field.default_factory is not None or field.default is None:
        assert value == "", f"{variable}: a computed default is described in a comment instead"
    else:
        default: Any = field.default
        if isinstance(default, SecretStr):
            default = default.get_secret_value()
        assert value == str(default), variable


def test_the_filled_in_example_is_valid_for_both_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example with its blanks filled as the operator would: both settings classes accept
    it, in production, and the URLs point at the compose services."""
    for name in list(os.environ):
        if name.startswith("ECG_") or name in {"MONGO_URL", "AMQP_URL"}:
            monkeypatch.delenv(name)
    values = set_values() | {
        "ECG_JWT_SECRET": secrets.token_hex(32),
        "ECG_ADMIN_PASSWORD": secrets.token_hex(16),
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value.replace("change-me", "s3cret"))
    gateway = GatewaySettings()
    analyzer = AnalyzerSettings()
    assert gateway.env == "production"
    assert gateway.mongo_url.startswith("mongodb://ecg:s3cret@mongo:27017/")
    assert gateway.amqp_url == analyzer.amqp_url == "amqp://ecg:s3cret@rabbitmq:5672/"
