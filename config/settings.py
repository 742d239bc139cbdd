"""Settings from environment variables, with safe defaults for the embedded mode.

`BETWEEN_ENV=development` (the default) runs on a SQLite file in the instance folder
with a secret generated on first run. `BETWEEN_ENV=production` refuses to start
without a real `SECRET_KEY` and marks the session cookie `Secure`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

DEV_SECRET_PREFIX = "dev-"  # generated secrets carry it, so production can refuse them
MIN_SECRET_LENGTH = 32


class ConfigError(RuntimeError):
    """The configuration would run the app unsafely; refuse to start."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _development_secret(instance_path: Path) -> str:
    """A random secret kept in the instance folder, made on first run."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    secret = DEV_SECRET_PREFIX + secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(secret)
    return secret


def normalise_database_url(url: str) -> str:
    """Point plain `postgres://` URLs (as Heroku-style hosts give them) at psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def load_settings(env: Mapping[str, str], instance_path: str | Path) -> dict:
    """Build the Flask config mapping from `env` (normally `os.environ`)."""
    instance_path = Path(instance_path)
    between_env = env.get("BETWEEN_ENV", "development").strip().lower()
    if between_env not in {"development", "production", "test"}:
        raise ConfigError("BETWEEN_ENV must be 'development' or 'production'")
    production = between_env == "production"

    secret = env.get("SECRET_KEY", "")
    if production:
        if not secret:
            raise ConfigError("SECRET_KEY is required in production")
        if secret.startswith(DEV_SECRET_PREFIX) or len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} "
                "characters, not a development secret"
            )
    elif not secret:
        secret = _development_secret(instance_path)

    field_keys = env.get("FIELD_ENCRYPTION_KEYS") or None
    if production and not field_keys:
        raise ConfigError(
            "FIELD_ENCRYPTION_KEYS is required in production "
            "(make one with: flask --app server keys generate)"
        )

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'between.db'}"
    redis_url = env.get("REDIS_URL") or None

    return {
        "BETWEEN_ENV": between_env,
        "PRODUCTION": production,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        # kid:base64key,… newest first; generated into the instance folder when absent
        "FIELD_ENCRYPTION_KEYS": field_keys,
        # Cookies: the session id only; HttpOnly, SameSite=Lax, Secure in production.
        "SESSION_COOKIE_NAME": "between_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "PERMANENT_SESSION_LIFETIME": timedelta(days=90),
        # Idle and absolute session timeouts per role, in seconds.
        "SESSION_TIMEOUTS": {
            "therapist": (
                _int(env, "THERAPIST_IDLE_TIMEOUT", 30 * 60),
                _int(env, "THERAPIST_ABSOLUTE_TIMEOUT", 12 * 3600),
            ),
            "patient": (
                _int(env, "PATIENT_IDLE_TIMEOUT", 30 * 86400),
                _int(env, "PATIENT_ABSOLUTE_TIMEOUT", 90 * 86400),
            ),
        },
        "MAX_CONTENT_LENGTH": _int(env, "MAX_CONTENT_LENGTH", 4 * 1024 * 1024),
        # Extra origins allowed to make unsafe requests (the app's own always is).
        "ALLOWED_ORIGINS": [o for o in env.get("ALLOWED_ORIGINS", "").split(",") if o],
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Rate limits (flask-limiter); memory by default, Redis when REDIS_URL is set.
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_LOGIN": env.get("RATELIMIT_LOGIN", "10 per minute; 50 per hour"),
        "RATELIMIT_REGISTER": env.get("RATELIMIT_REGISTER", "5 per minute; 30 per hour"),
        "RATELIMIT_JOIN": env.get("RATELIMIT_JOIN", "10 per minute; 30 per hour"),
        "INVITE_TTL_DAYS": _int(env, "INVITE_TTL_DAYS", 7),
        # OpenAPI (flask-smorest)
        "API_TITLE": "Between API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
