"""TOTP two-factor sign-in (RFC 6238) with single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp
import segno
from flask_babel import gettext as _
from sqlalchemy import delete, or_, update
from sqlalchemy.orm.attributes import set_committed_value

from server.auth import passwords
from server.auth.models import RecoveryCode, User
from server.db import utcnow
from server.errors import ApiError, validation_error
from server.extensions import db

ISSUER = "Between"
RECOVERY_CODES = 10
STEP = 30


def _hash(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").strip().lower().encode()).hexdigest()


def setup(user: User) -> dict:
    """A new secret to scan; it counts only once a code from it is confirmed."""
    if user.totp_enabled:
        raise ApiError(409, _("Two-factor sign-in is already on. Turn it off first to reset it."))
    user.totp_secret = pyotp.random_base32()
    uri = pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    qr = segno.make(uri, error="m")
    db.session.flush()
    return {
        "secret": user.totp_secret,
        "otpauth_uri": uri,
        "qr_svg_data_uri": qr.svg_data_uri(scale=4),
    }


def _spend_step(user: User, step: int) -> bool:
    """Record `step` as used, only if no code of it or a later step was used before.

    One conditional UPDATE: six sign-ins racing with the same code reach the row one at a
    time (its lock), and only the first still finds the step unused.
    """
    spent = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if spent.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _step_ok(user: User, code: str) -> bool:
    """A current code, not used before (a code seen once is spent)."""
    if not user.totp_secret or not code or not code.isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now_step = int(time.time()) // STEP
    for step in (now_step - 1, now_step, now_step + 1):  # allow one step of clock drift
        if secrets.compare_digest(totp.at(step * STEP), code):
            return _spend_step(user, step)
    return False


def _new_recovery_codes(user: User) -> list[str]:
    codes = [f"{secrets.token_hex(3)}-{secrets.token_hex(3)}" for _ in range(RECOVERY_CODES)]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash(c)) for c in codes)
    db.session.flush()
    return codes


def enable(user: User, code: str) -> list[str]:
    """Confirm the authenticator works; returns recovery codes, shown this once."""
    if user.totp_enabled:
        raise ApiError(409, _("Two-factor sign-in is already on."))
    if not _step_ok(user, code):
        raise validation_error({"code": [_("That code is not right. Try the newest one.")]})
    user.totp_enabled = True
    return _new_recovery_codes(user)


def regenerate_recovery_codes(user: User, password: str) -> list[str]:
    """A new set of recovery codes (the old ones stop working); asks for the password."""
    if not user.totp_enabled:
        raise ApiError(409, _("Two-factor sign-in is off."))
    if not passwords.verify_password(user.password_hash, password):
        raise validation_error({"password": [_("This is not your password.")]})
    return _new_recovery_codes(user)


def disable(user: User, password: str, code: str | None = None) -> None:
    """Turn two-factor sign-in off with the password (and a code, when one is given)."""
    if not passwords.verify_password(user.password_hash, password):
        raise validation_error({"password": [_("This is not your password.")]})
    if code and not _step_ok(user, code):
        raise validation_error({"code": [_("That code is not right.")]})
    reset(user)


def reset(user: User) -> None:
    """Two-factor off: no secret, no recovery codes (an operator's reset, or disable)."""
    user.totp_enabled = False
    user.totp_secret = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()


def second_factor_ok(user: User, totp_code: str | None, recovery_code: str | None) -> bool:
    """Check the second factor at sign-in; a recovery code works once, also when the
    same code arrives in several requests at the same moment (a conditional update)."""
    if totp_code:
        return _step_ok(user, totp_code)
    if recovery_code:
        spent = db.session.execute(
            update(RecoveryCode)
            .where(
                RecoveryCode.user_id == user.id,
                RecoveryCode.code_hash == _hash(recovery_code),
                RecoveryCode.used_at.is_(None),
            )
            .values(used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return spent.rowcount == 1
    return False
