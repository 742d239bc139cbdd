"""Accounts and sign-in sessions. Flushes, never commits; knows no HTTP."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import joinedload

from server.auth import passwords
from server.auth.models import Role, User, UserSession
from server.db import utcnow
from server.errors import not_found, validation_error
from server.extensions import db

# Touching last_seen_at on every request would be a write per request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _check_timezone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise validation_error({"timezone": ["Unknown time zone."]}) from exc


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(
    *,
    email: str,
    password: str,
    display_name: str,
    role: str,
    timezone: str = "UTC",
    locale: str = "en-US",
) -> User:
    """Create an account; refuse a taken email or a weak password."""
    email = normalise_email(email)
    problems = passwords.password_problems(password, email=email, display_name=display_name)
    if problems:
        raise validation_error({"password": problems})
    _check_timezone(timezone)
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        # Registration has to say so; rate limiting keeps this from being an oracle.
        raise validation_error({"email": ["An account with this email already exists."]})
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        display_name=display_name.strip(),
        role=Role(role),
        timezone=timezone,
        locale=locale,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The user for these credentials, or None; the same work either way."""
    user = get_user_by_email(email)
    if not passwords.verify_password(user.password_hash if user else None, password):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def start_session(user: User, user_agent: str = "") -> tuple[UserSession, str]:
    """A new server-side session; returns it and the token for the cookie."""
    token = secrets.token_urlsafe(32)
    row = UserSession(token_hash=_hash_token(token), user=user, user_agent=(user_agent or "")[:200])
    db.session.add(row)
    db.session.flush()
    return row, token


# Every request runs this: built once (building it cost more CPU than running it).
_RESUME = (
    select(UserSession)
    .options(joinedload(UserSession.user))  # one round trip per request, not two
    .where(UserSession.token_hash == bindparam("token_hash"))
)


def resume_session(token: str | None, timeouts: dict) -> UserSession | None:
    """The live session for this token, or None once ended or timed out."""
    if not token:
        return None
    row = db.session.scalar(_RESUME, {"token_hash": _hash_token(token)})
    if row is None:
        return None
    idle, absolute = timeouts[row.user.role.value]
    now = utcnow()
    if now - row.last_seen_at > timedelta(seconds=idle) or now - row.created_at > timedelta(
        seconds=absolute
    ):
        db.session.delete(row)
        db.session.flush()
        return None
    if now - row.last_seen_at > LAST_SEEN_RESOLUTION:
        row.last_seen_at = now
    return row


def end_session_by_token(token: str | None) -> None:
    if token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash_token(token)))


def list_sessions(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id)
            .order_by(UserSession.last_seen_at.desc())
        )
    )


def end_session(user: User, session_id: uuid.UUID) -> None:
    """Sign out one of my devices."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        raise not_found("No such session.")
    db.session.delete(row)
    db.session.flush()


def change_password(
    user: User, current_password: str, new_password: str, keep_session_id: uuid.UUID | None
) -> None:
    """Set a new password and sign out every other device."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise validation_error({"current_password": ["This is not your current password."]})
    problems = passwords.password_problems(
        new_password, email=user.email, display_name=user.display_name
    )
    if problems:
        raise validation_error({"new_password": problems})
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    db.session.execute(stmt)
    db.session.flush()
