"""Settings refuse an unsafe secret outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ocx.config import DEV_SECRET_KEY, Environment, Settings


def test_development_accepts_the_default_secret() -> None:
    settings = Settings()
    assert settings.environment is Environment.DEVELOPMENT
    assert settings.database_url.startswith("sqlite:///var/")
    assert settings.is_sqlite


@pytest.mark.parametrize("env", [Environment.PRODUCTION, Environment.TEST])
def test_default_secret_is_refused_outside_development(env: Environment) -> None:
    with pytest.raises(ValidationError, match="OCX_SECRET_KEY"):
        Settings(environment=env)
    with pytest.raises(ValidationError, match="OCX_SECRET_KEY"):
        Settings(environment=env, secret_key=DEV_SECRET_KEY)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(environment=Environment.PRODUCTION, secret_key="short")


def test_settings_come_from_ocx_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OCX_ENVIRONMENT", "production")
    monkeypatch.setenv("OCX_SECRET_KEY", "a-real-secret-of-enough-length")
    monkeypatch.setenv("OCX_PUBLIC_URL", "https://ocx.example.org")
    monkeypatch.setenv("OCX_DATABASE_URL", "postgresql+psycopg://db/ocx")
    settings = Settings()
    assert settings.environment is Environment.PRODUCTION
    assert not settings.is_sqlite
    assert "a-real-secret" not in repr(settings)
