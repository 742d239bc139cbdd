"""Settings from environment variables, with safe defaults for the embedded mode.

`BETWEEN_ENV=development` (the default) runs on a SQLite file in the instance folder
with a secret generated on first run. `BETWEEN_ENV=production` refuses to start
without a real `SECRET_KEY` and marks the session cookie `Secure`.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

DEV_SECRET_PREFIX = "dev-"  # a marker production refuses, not a secret  # nosec B105
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


# Push services the worker may POST to (the endpoint of a subscription). A pattern
# "*.example.com" matches any subdomain; a plain name matches itself.
DEFAULT_PUSH_HOSTS = (
    "fcm.googleapis.com",
    "android.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.push.services.mozilla.com",
    "web.push.apple.com",
    "*.push.apple.com",
    "*.notify.windows.com",
)
_VAPID_SUBJECT = re.compile(r"^(mailto:[^@\s]+@[^@\s]+|https://[^/\s]+(/\S*)?)$", re.IGNORECASE)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def new_vapid_private_key() -> str:
    """A fresh P-256 private key as its raw 32-byte scalar, base64url without padding."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value
    return base64.urlsafe_b64encode(scalar.to_bytes(32, "big")).rstrip(b"=").decode()


def _development_vapid_key(instance_path: Path) -> str:
    """A VAPID private key (raw P-256 scalar, base64url) made on first run."""
    path = instance_path / "vapid_private_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = new_vapid_private_key()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it a moment ago
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def _push_settings(env: Mapping[str, str], instance_path: Path, production: bool) -> dict:
    private_key = env.get("VAPID_PRIVATE_KEY", "").strip() or None
    if private_key is None and not production:
        private_key = _development_vapid_key(instance_path)
    subject = env.get("VAPID_SUBJECT", "").strip() or (
        None if production else "mailto:operator@localhost"
    )
    if private_key and not subject:
        raise ConfigError("VAPID_SUBJECT is required with VAPID_PRIVATE_KEY (mailto: or https:)")
    if subject and not _VAPID_SUBJECT.match(subject):
        raise ConfigError("VAPID_SUBJECT must be a mailto: address or an https: URL")
    hosts = env.get("PUSH_ALLOWED_HOSTS")
    return {
        # Without a key (production, not configured) push is off: the API says so (503).
        "VAPID_PRIVATE_KEY": private_key,
        "VAPID_SUBJECT": subject,
        "PUSH_ALLOWED_HOSTS": [h.strip().lower() for h in hosts.split(",") if h.strip()]
        if hosts
        else list(DEFAULT_PUSH_HOSTS),
        # a local push service (http on loopback) for development and tests only
        "PUSH_ALLOW_LOOPBACK": _bool(env.get("PUSH_ALLOW_LOOPBACK"), not production)
        and not production,
        "PUSH_TIMEOUT": _float(env, "PUSH_TIMEOUT", 10.0),  # seconds, connect and read
        "PUSH_THREADS": _int(env, "PUSH_THREADS", 64),
        "PUSH_BATCH_SIZE": _int(env, "PUSH_BATCH_SIZE", 256),
        "PUSH_LEASE_SECONDS": _float(env, "PUSH_LEASE_SECONDS", 120.0),
        "PUSH_MAX_ATTEMPTS": _int(env, "PUSH_MAX_ATTEMPTS", 5),
        "PUSH_RETRY_BASE_SECONDS": _float(env, "PUSH_RETRY_BASE_SECONDS", 30.0),
        "PUSH_RETRY_MAX_SECONDS": _float(env, "PUSH_RETRY_MAX_SECONDS", 1800.0),
        # how often the worker looks again at a schedule whose next reminder is far off,
        # so a dosing session or plan review set meanwhile is seen in time
        "REMINDER_RECHECK_SECONDS": _int(env, "REMINDER_RECHECK_SECONDS", 3600),
        "REMINDER_POLL_SECONDS": _float(env, "REMINDER_POLL_SECONDS", 5.0),
        # schedules made into occurrences per transaction: a short one, few rows locked
        "REMINDER_BATCH_SIZE": _int(env, "REMINDER_BATCH_SIZE", 25),
        # PostgreSQL, the worker only: how long its transaction waits for a lock, and how
        # long the server lets it sit open while the worker is silent (frozen, cut off)
        # before ending it and freeing its locks
        "REMINDER_LOCK_TIMEOUT_SECONDS": _float(env, "REMINDER_LOCK_TIMEOUT_SECONDS", 2.0),
        "REMINDER_IDLE_TIMEOUT_SECONDS": _float(env, "REMINDER_IDLE_TIMEOUT_SECONDS", 5.0),
    }


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: str  # "ssl" (smtps), "starttls" or "none"


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://user:pass@host:587?starttls=1` or `smtps://…`; ValueError when malformed."""
    parts = urlsplit(url)
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://user:pass@host:587?starttls=1")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[0].lower() in {"1", "true", "yes", "on"}
    tls = "ssl" if parts.scheme == "smtps" else "starttls" if starttls else "none"
    return SmtpTarget(
        host=parts.hostname,
        port=parts.port or (465 if tls == "ssl" else 587 if tls == "starttls" else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def _public_url(env: Mapping[str, str], production: bool) -> str:
    """Where people reach the app: every mailed or printed link starts with it."""
    raw = env.get("PUBLIC_URL", "").strip().rstrip("/")
    if not raw:
        if production:
            raise ConfigError(
                "PUBLIC_URL is required in production (e.g. https://between.clinic.example): "
                "it is the origin of every link the app mails"
            )
        return f"http://127.0.0.1:{env.get('PORT') or 5000}"
    parts = urlsplit(raw)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query:
        raise ConfigError("PUBLIC_URL must be an origin like https://between.clinic.example")
    if production and parts.scheme != "https":
        raise ConfigError("PUBLIC_URL must be https in production")
    return raw


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

    public_url = _public_url(env, production)
    smtp_url = env.get("SMTP_URL", "").strip() or None
    if smtp_url:
        try:
            parse_smtp_url(smtp_url)
        except ValueError as exc:
            raise ConfigError(str(exc)) from exc
    elif production:
        raise ConfigError(
            "SMTP_URL is required in production: invitations, password resets and risk "
            "alerts go out by mail (smtp://user:pass@host:587?starttls=1 or smtps://...)"
        )

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'between.db'}"
    redis_url = env.get("REDIS_URL") or None
    session_timeouts = {
        "therapist": (
            _int(env, "THERAPIST_IDLE_TIMEOUT", 30 * 60),
            _int(env, "THERAPIST_ABSOLUTE_TIMEOUT", 12 * 3600),
        ),
        "patient": (
            _int(env, "PATIENT_IDLE_TIMEOUT", 30 * 86400),
            _int(env, "PATIENT_ABSOLUTE_TIMEOUT", 90 * 86400),
        ),
    }

    return {
        "BETWEEN_ENV": between_env,
        "PRODUCTION": production,
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # hide_parameters: a database error names its statement, never the values (a
        # logged traceback would otherwise carry what a patient wrote)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "REDIS_URL": redis_url,
        # kid:base64key,… newest first; generated into the instance folder when absent
        "FIELD_ENCRYPTION_KEYS": field_keys,
        # Cookies: the session id only; HttpOnly, SameSite=Lax, Secure in production.
        "SESSION_COOKIE_NAME": "between_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        # Set at sign-in, expiring with the longest absolute timeout; not re-signed and
        # re-sent on every answer: the server-side idle and absolute timeouts govern.
        "PERMANENT_SESSION_LIFETIME": timedelta(
            seconds=max(absolute for _idle, absolute in session_timeouts.values())
        ),
        "SESSION_REFRESH_EACH_REQUEST": False,
        # Idle and absolute session timeouts per role, in seconds.
        "SESSION_TIMEOUTS": session_timeouts,
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
        # the origin of every link the app prints or mails
        "PUBLIC_URL": public_url,
        "SMTP_URL": smtp_url,
        "MAIL_FROM": env.get("MAIL_FROM", "").strip()
        or f"Between <no-reply@{urlsplit(public_url).hostname or 'localhost'}>",
        "THERAPIST_INVITE_TTL_DAYS": _int(env, "THERAPIST_INVITE_TTL_DAYS", 7),
        "PASSWORD_RESET_TTL_SECONDS": _int(env, "PASSWORD_RESET_TTL_SECONDS", 3600),
        "RATELIMIT_FORGOT": env.get("RATELIMIT_FORGOT", "5 per hour"),
        "RATELIMIT_FORGOT_IP": env.get("RATELIMIT_FORGOT_IP", "10 per minute; 60 per hour"),
        # wrong second-factor codes for one account, after which it must wait
        "RATELIMIT_SECOND_FACTOR": env.get("RATELIMIT_SECOND_FACTOR", "5 per 15 minutes"),
        # production requires therapists to turn on TOTP before reaching patient data
        "REQUIRE_THERAPIST_TOTP": _bool(env.get("REQUIRE_THERAPIST_TOTP"), production),
        **_push_settings(env, instance_path, production),
        # OpenAPI (flask-smorest)
        "API_TITLE": "Between API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
