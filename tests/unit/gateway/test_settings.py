from __future__ import annotations

import pytest
from ecg_gateway.settings import GatewaySettings
from pydantic import ValidationError


def test_development_falls_back_to_dev_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECG_JWT_SECRET", raising=False)
    monkeypatch.delenv("ECG_ADMIN_PASSWORD", raising=False)
    settings = GatewaySettings(env="development")
    assert settings.admin_username == "admin"
    assert settings.admin_password.get_secret_value() == "adminpass"


def test_production_refuses_to_start_without_a_jwt_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECG_JWT_SECRET", raising=False)
    monkeypatch.setenv("ECG_ADMIN_PASSWORD", "a-real-admin-password")
    with pytest.raises(ValidationError, match="ECG_JWT_SECRET"):
        GatewaySettings(env="production")


def test_production_refuses_the_default_admin_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECG_JWT_SECRET", "a-real-secret-of-some-length")
    monkeypatch.delenv("ECG_ADMIN_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="ECG_ADMIN_PASSWORD"):
        GatewaySettings(env="production")


def test_production_starts_with_explicit_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ECG_JWT_SECRET", "a-real-secret-of-some-length")
    monkeypatch.setenv("ECG_ADMIN_PASSWORD", "a-real-admin-password")
    assert GatewaySettings(env="production").env == "production"


def test_the_generic_service_urls_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ECG_MONGO_URL", raising=False)
    monkeypatch.setenv("MONGO_URL", "mongodb://db.example:27017/")
    assert GatewaySettings().mongo_url == "mongodb://db.example:27017/"
