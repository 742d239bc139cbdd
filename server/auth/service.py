"""Accounts and sign-in sessions. Flushes, never commits; knows no HTTP."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Uuid, bindparam, delete, func, select, update
from sqlalchemy.orm import defer

from config import crisis_lines
from config.crisis_lines import choose_region
from server import events, localtime
from server.auth import passwords
from server.auth.models import PasswordReset, Role, TherapistInvite, User, UserSession
from server.auth.regions import LANGUAGES
from server.db import UTCDateTime, utcnow
from server.errors import ApiError, not_found, validation_error
from server.extensions import db

# Touching last_seen_at on every request would be a write per request.
LAST_SEEN_RESOLUTION = timedelta(seconds=60)


# Bidirectional controls (embeddings, overrides, isolates, marks): in a name they make
# the text around it read backwards ("Sam" + U+202E + "eman" shows as "Samname"), so a
# name could pose as other words on a therapist's caseload.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)


def clean_display_name(name: str) -> str:
    """A display name without bidi controls or surrounding space."""
    return name.translate(_BIDI_CONTROLS).strip()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# A browser's locale and time zone are hints: one the server cannot use becomes the
# default instead of refusing the account (WebKit without a system locale says "C").
DEFAULT_LOCALE = "en-US"
DEFAULT_TIMEZONE = "UTC"
_LOCALE_MAX = 16  # users.locale
# a plausible BCP 47 tag: language, then script, region, variants; extensions are kept
# only when the whole tag fits
_BCP47 = re.compile(
    r"(?P<language>[a-z]{2,3})(?:-(?P<script>[a-z]{4}))?(?:-(?P<region>[a-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*)"
    r"(?P<extensions>(?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*(?:-x(?:-[a-z\d]{1,8})+)?)",
    re.IGNORECASE,
)


def normalise_locale(hint: str | None) -> str:
    """A BCP 47 tag from a browser's or a system's locale; the default when unusable.

    "en_US" and "en_US.UTF-8" become "en-US"; "C", "POSIX" and garbage become the default.
    """
    tag = (hint or "").strip().split(".")[0].split("@")[0].replace("_", "-")
    match = _BCP47.fullmatch(tag)
    if not match:
        return DEFAULT_LOCALE
    core = match["language"].lower()
    if match["script"]:
        core += "-" + match["script"].title()
    if match["region"]:
        core += "-" + match["region"].upper()
    full = core + (match["variants"] + match["extensions"]).lower()
    return full if len(full) <= _LOCALE_MAX else core


def locale_setting(tag: str) -> str | None:
    """A BCP 47 tag a person chose, in its usual case ("es-mx" → "es-MX"); None when it
    is not one or names no language we know (a choice is checked, unlike a device's hint)."""
    match = _BCP47.fullmatch(tag)
    if not match or match["language"].lower() not in LANGUAGES:
        return None
    normal = normalise_locale(tag)
    return normal if normal.lower() == tag.lower() else None


def normalise_timezone(hint: str | None) -> str:
    """An IANA time zone name as given, or the default when the tz database lacks it."""
    return hint if localtime.is_zone(hint) else DEFAULT_TIMEZONE


def get_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(
    *,
    email: str,
    password: str,
    display_name: str,
    role: str,
    timezone: str | None = DEFAULT_TIMEZONE,
    locale: str | None = DEFAULT_LOCALE,
) -> User:
    """Create an account; refuse a taken email or a weak password, never a locale or a
    time zone the server cannot use (those fall back to the defaults)."""
    email = normalise_email(email)
    problems = passwords.password_problems(password, email=email, display_name=display_name)
    if problems:
        raise validation_error({"password": problems})
    if not clean_display_name(display_name):
        raise validation_error({"display_name": [_("Enter a name.")]})
    if db.session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        # Registration has to say so; rate limiting keeps this from being an oracle.
        raise validation_error({"email": [_("An account with this email already exists.")]})
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        display_name=clean_display_name(display_name),
        role=Role(role),
        timezone=normalise_timezone(timezone),
        locale=normalise_locale(locale),
    )
    # the account's region (crisis lines, unless the plan names its own) starts as the
    # country the device is in: its time zone's, or its language's where the zone names
    # none or shares it (an English browser in Madrid is in Spain: config/crisis_lines.py)
    guess = choose_region(user.locale, user.timezone)
    user.region = guess if guess in crisis_lines.countries() else None
    db.session.add(user)
    db.session.flush()
    return user


def crisis_regions() -> list[dict]:
    """The regions whose crisis lines Between knows, by name, for the settings' choice
    (an alias, "UK" for "GB", once)."""
    known: dict[int, dict] = {}
    for code, region in crisis_lines.REGIONS.items():
        if code in crisis_lines.countries() and id(region) not in known:
            known[id(region)] = {"code": code, "name": region.get("name") or code}
    return sorted(known.values(), key=lambda r: r["name"])


def update_me(user: User, data: dict) -> User:
    """Change my name, time zone, language or region; a new time zone moves my reminders
    to the same wall times there."""
    changes, problems = {}, {}
    if "display_name" in data:
        changes["display_name"] = clean_display_name(data["display_name"])
        if not changes["display_name"]:
            problems["display_name"] = [_("Enter a name.")]
    if "timezone" in data:
        changes["timezone"] = data["timezone"]
        if not localtime.is_zone(data["timezone"]):
            problems["timezone"] = [_("Unknown time zone.")]
    if "locale" in data:
        changes["locale"] = locale_setting(data["locale"])
        if changes["locale"] is None:
            problems["locale"] = [_("Not a language tag like en or es-MX.")]
    if "region" in data:
        changes["region"] = data["region"].upper()
        if changes["region"] not in crisis_lines.countries():
            problems["region"] = [_("Not a country code like US or MX.")]
    if problems:
        raise validation_error(problems)
    moved = changes.get("timezone", user.timezone) != user.timezone
    for key, value in changes.items():
        setattr(user, key, value)
    db.session.flush()
    if moved:
        events.send(events.schedule_inputs_changed, user.id, timezone=user.timezone)
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


@dataclass(frozen=True, slots=True)
class LiveSession:
    """A resumed sign-in: which session, since when, last seen when, and whose."""

    id: uuid.UUID
    created_at: datetime
    last_seen_at: datetime
    user: User


# Every request runs this, so it is narrow and built once (building it cost more CPU than
# running it): the user, and only the session's columns the timeouts need, in one round
# trip, with no session object built. A therapist's TOTP secret is left for the few
# routes that read it (it would be decrypted on every request).
_RESUME = (
    select(User, UserSession.id, UserSession.created_at, UserSession.last_seen_at)
    .join(UserSession, UserSession.user_id == User.id)
    .where(UserSession.token_hash == bindparam("token_hash"))
    .options(defer(User.totp_secret))
)
_SESSION_ID = bindparam("session_id", type_=Uuid())
_TIMED_OUT = delete(UserSession).where(UserSession.id == _SESSION_ID)
_SEEN = (
    update(UserSession)
    .where(UserSession.id == _SESSION_ID)
    .values(last_seen_at=bindparam("now", type_=UTCDateTime()))
)


def resume_session(token: str | None, timeouts: dict) -> LiveSession | None:
    """The live session for this token, or None once ended or timed out.

    Read on every request, never cached: a logout, a password change or a deleted
    account anywhere ends it for the very next request."""
    if not token:
        return None
    row = db.session.execute(_RESUME, {"token_hash": _hash_token(token)}).first()
    if row is None:
        return None
    user, session_id, created_at, last_seen_at = row
    idle, absolute = timeouts[user.role.value]
    now = utcnow()
    if now - last_seen_at > timedelta(seconds=idle) or now - created_at > timedelta(
        seconds=absolute
    ):
        _upkeep(_TIMED_OUT, {"session_id": session_id})
        return None
    if now - last_seen_at > LAST_SEEN_RESOLUTION:
        _upkeep(_SEEN, {"session_id": session_id, "now": now})
        last_seen_at = now
    return LiveSession(session_id, created_at, last_seen_at, user)


def _upkeep(statement, params: dict) -> None:
    """A session's upkeep commits on its own, at once: most requests only read and
    commit nothing, yet a therapist reading briefs is active all the same (and a request
    that fails must not keep a timed-out session alive). At most once a minute per
    device, so the extra transaction is rare."""
    with db.engine.begin() as connection:
        connection.execute(statement, params)


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
        raise not_found(_("No such session."))
    db.session.delete(row)
    db.session.flush()


def change_password(
    user: User, current_password: str, new_password: str, keep_session_id: uuid.UUID | None
) -> None:
    """Set a new password and sign out every other device."""
    if not passwords.verify_password(user.password_hash, current_password):
        raise validation_error({"current_password": [_("This is not your current password.")]})
    problems = passwords.password_problems(
        new_password, email=user.email, display_name=user.display_name
    )
    if problems:
        raise validation_error({"new_password": problems})
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    _end_sessions(user.id, keep_session_id)
    db.session.flush()


def _end_sessions(user_id: uuid.UUID, keep_session_id: uuid.UUID | None = None) -> None:
    stmt = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_session_id is not None:
        stmt = stmt.where(UserSession.id != keep_session_id)
    db.session.execute(stmt)


def end_other_sessions(user: User, keep_session_id: uuid.UUID | None) -> None:
    """Sign out every device of this account but the one asking."""
    _end_sessions(user.id, keep_session_id)
    db.session.flush()


# -- therapists are invited by an operator ------------------------------------------------

THERAPIST_INVITE_REQUIRED = _l(
    "Therapist accounts are made by invitation from your clinic's administrator."
)
INVITE_GONE = _l(
    "This invitation has expired or was already used. "
    "Ask your clinic's administrator for a new one."
)


def create_therapist_invite(
    email: str, display_name: str = "", ttl: timedelta = timedelta(days=7)
) -> tuple[TherapistInvite, str]:
    """A single-use sign-up token for one therapist's address; returns it and the token."""
    token = secrets.token_urlsafe(32)
    invite = TherapistInvite(
        token_hash=_hash_token(token),
        email=normalise_email(email),
        display_name=clean_display_name(display_name)[:100],
        expires_at=utcnow() + ttl,
    )
    db.session.add(invite)
    db.session.flush()
    return invite, token


_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")


def live_therapist_invite(token: str | None) -> TherapistInvite | None:
    """The live invite for this token: unused and unexpired, or None."""
    if not token or not _TOKEN.fullmatch(token):
        return None  # not one we made (and never text that cannot be hashed)
    invite = db.session.scalar(
        select(TherapistInvite).where(TherapistInvite.token_hash == _hash_token(token))
    )
    if invite is None or invite.used_at is not None or invite.expires_at <= utcnow():
        return None
    return invite


def register_therapist(*, therapist_invite: str | None, **fields) -> User:
    """A therapist's account, only with a live invite for that address; the invite is
    spent in the same transaction (a conditional update: two sign-ups racing on one
    token cannot both win)."""
    invite = live_therapist_invite(therapist_invite)
    if invite is None:
        raise ApiError(403, INVITE_GONE if therapist_invite else THERAPIST_INVITE_REQUIRED)
    if normalise_email(fields["email"]) != invite.email:
        raise ApiError(403, _("This invitation is for another email address."))
    user = register_user(**fields, role=Role.THERAPIST.value)
    spent = db.session.execute(
        update(TherapistInvite)
        .where(TherapistInvite.id == invite.id, TherapistInvite.used_at.is_(None))
        .values(used_at=utcnow(), used_by_id=user.id)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise ApiError(403, INVITE_GONE)
    return user


# -- password recovery --------------------------------------------------------------------


def request_password_reset(email: str, ttl: timedelta) -> tuple[User, str] | None:
    """A reset token for this address's account, or None when there is no account."""
    user = get_user_by_email(email)
    if user is None:
        return None
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(token_hash=_hash_token(token), user_id=user.id, expires_at=utcnow() + ttl)
    )
    db.session.flush()
    return user, token


RESET_GONE = _l("This link has expired or was already used. Ask for a new one.")


def reset_password(token: str, new_password: str) -> User:
    """Set a new password from a mailed link; the link works once, and every session of
    the account ends (whoever was signed in with the old password is out)."""
    row = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == _hash_token(token))
    )
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise validation_error({"token": [RESET_GONE]})
    user = db.session.get(User, row.user_id)
    problems = passwords.password_problems(
        new_password, email=user.email, display_name=user.display_name
    )
    if problems:
        raise validation_error({"password": problems})
    spent = db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == row.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        raise validation_error({"token": [RESET_GONE]})
    # every other link for this account dies with this one
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    _end_sessions(user.id)
    db.session.flush()
    return user
