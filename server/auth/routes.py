"""Sign-up, sign-in, sign-out and the devices I am signed in on."""

from __future__ import annotations

import hashlib
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_smorest import Blueprint
from limits import parse as parse_limit

from server import i18n, logs, mail
from server.audit import service as audit
from server.auth import passkeys, passwords, schemas, service, totp
from server.auth.session import (
    current_actor,
    current_session,
    password_checked,
    sign_in,
    sign_out,
)
from server.errors import ApiError, validation_error
from server.extensions import db, limiter


def _me(user):
    """The user as the app sees itself, with this role's idle timeout."""
    user.idle_timeout_seconds = current_app.config["SESSION_TIMEOUTS"][user.role.value][0]
    # still to set up: a registered passkey is a second factor too
    user.totp_required = _totp_required(user) and not passkeys.has_passkey(user)
    return user


def _totp_required(user) -> bool:
    """The clinic requires this account to sign in with two factors."""
    return bool(current_app.config.get("REQUIRE_THERAPIST_TOTP")) and user.is_therapist


bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and sessions")


def _login_email_key() -> str:
    # A second limit per account, so many addresses cannot grind one password.
    body = request.get_json(silent=True) or {}
    email = body.get("email") if isinstance(body, dict) else None
    email = service.normalise_email(email) if isinstance(email, str) else ""
    # hashed: no address sits in Redis, and text that cannot be stored (a lone surrogate,
    # refused by the schema next) still makes a key rather than a 500
    digest = hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return "login-email:" + digest


def _forgot_email_key() -> str:
    return "forgot-" + _login_email_key()


def _second_factor_limit():
    return parse_limit(current_app.config["RATELIMIT_SECOND_FACTOR"])


def _second_factor_slowed(user) -> bool:
    """Too many wrong codes for this account lately (counted across web processes)."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return False
    return not limiter.limiter.test(_second_factor_limit(), "second-factor", str(user.id))


def _second_factor_failed(user) -> None:
    if current_app.config.get("RATELIMIT_ENABLED", True):
        limiter.limiter.hit(_second_factor_limit(), "second-factor", str(user.id))
    audit.record(
        user,
        "sign_in_second_factor",
        user.id if user.is_patient else None,
        "user",
        [user.id],
        outcome="denied",
    )


@bp.post("/register")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"])
@bp.arguments(schemas.RegisterSchema)
@bp.response(201, schemas.UserSchema)
def register(data):
    """Create an account and sign in. A therapist needs the operator's invitation."""
    invite = data.pop("therapist_invite", None)
    if data["role"] == "therapist":
        data.pop("role")
        user = service.register_therapist(therapist_invite=invite, **data)
    else:
        user = service.register_user(**data)
    sign_in(user)
    db.session.commit()
    return _me(user)


@bp.post("/login")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"], key_func=_login_email_key)
@bp.arguments(schemas.LoginSchema)
@bp.response(200, schemas.UserSchema)
def login(data):
    """Sign in with email and password."""
    user = service.authenticate(data["email"], data["password"])
    if user is None:
        # One answer for an unknown email and a wrong password.
        logs.auth_event("login_failed", reason="credentials")
        raise ApiError(401, _("The email or password is not right."))
    if not user.totp_enabled and _totp_required(user) and passkeys.has_passkey(user):
        # the passkey is this account's second factor: a password alone is one
        logs.auth_event("login_failed", user.id, reason="passkey_required")
        db.session.commit()  # keep a rehashed password
        raise ApiError(
            401,
            _("Your clinic requires two-factor sign-in: sign in with your passkey."),
            extra={"passkey_required": True},
        )
    if user.totp_enabled:
        code, recovery = data.get("totp_code"), data.get("recovery_code")
        if not code and not recovery:
            db.session.commit()  # keep a rehashed password
            raise ApiError(
                401,
                _("Enter the code from your authenticator app."),
                errors={"json": {"totp_code": [_("Required.")]}},
                extra={"totp_required": True},
            )
        if _second_factor_slowed(user):
            logs.auth_event("login_failed", user.id, reason="second_factor_slowed")
            db.session.commit()
            raise ApiError(
                429,
                _("Too many wrong codes. Wait a few minutes, then try again."),
                extra={"totp_required": True},
            )
        if not totp.second_factor_ok(user, code, recovery):
            logs.auth_event("login_failed", user.id, reason="second_factor")
            _second_factor_failed(user)
            db.session.commit()
            raise ApiError(401, _("That code is not right."), extra={"totp_required": True})
    sign_in(user)
    db.session.commit()
    logs.auth_event("login", user.id)
    return _me(user)


@bp.post("/logout")
@bp.response(204)
def logout():
    """Sign out this device; its session ends on the server at once."""
    sign_out()
    db.session.commit()


@bp.get("/me")
@login_required
@bp.response(200, schemas.UserSchema)
def me():
    """Who I am."""
    return _me(current_actor())


@bp.patch("/me")
@login_required
@bp.arguments(schemas.MeUpdateSchema)
@bp.response(200, schemas.UserSchema)
def update_me(data):
    """Change my name, time zone, language or region."""
    user = service.update_me(current_actor(), data)
    db.session.commit()
    return _me(user)


@bp.get("/regions")
@login_required
@bp.response(200, schemas.RegionSchema(many=True))
def regions():
    """The regions whose crisis lines Between knows, to choose mine from."""
    return service.crisis_regions()


@bp.post("/password")
@login_required
@password_checked
@bp.arguments(schemas.PasswordChangeSchema)
@bp.response(204)
def change_password(data):
    """Change my password; every other device is signed out."""
    service.change_password(
        current_actor(), data["current_password"], data["new_password"], current_session().id
    )
    db.session.commit()


@bp.get("/sessions")
@login_required
@bp.response(200, schemas.SessionSchema(many=True))
def sessions():
    """The devices I am signed in on."""
    mine = current_session()
    rows = service.list_sessions(current_actor())
    return [
        {
            "id": r.id,
            "created_at": r.created_at,
            "last_seen_at": r.last_seen_at,
            "user_agent": r.user_agent,
            "current": r.id == mine.id,
        }
        for r in rows
    ]


@bp.delete("/sessions/<uuid:session_id>")
@login_required
@bp.response(204)
def end_session(session_id: uuid.UUID):
    """Sign out one of my devices."""
    service.end_session(current_actor(), session_id)
    db.session.commit()


@bp.post("/totp/setup")
@login_required
@bp.response(200, schemas.TotpSetupSchema)
def totp_setup():
    """Start two-factor sign-in: a secret and a QR code for an authenticator app."""
    answer = totp.setup(current_actor())
    db.session.commit()
    return answer


@bp.post("/totp/enable")
@login_required
@bp.arguments(schemas.TotpCodeSchema)
@bp.response(200, schemas.RecoveryCodesSchema)
def totp_enable(data):
    """Confirm a code to turn two-factor sign-in on; recovery codes are shown once.
    Every other device of the account is signed out."""
    user = current_actor()
    codes = totp.enable(user, data["code"])
    service.end_other_sessions(user, current_session().id)
    db.session.commit()
    logs.auth_event("totp_enabled", user.id)
    return {"recovery_codes": codes}


@bp.post("/totp/recovery-codes")
@login_required
@password_checked
@bp.arguments(schemas.PasswordConfirmSchema)
@bp.response(200, schemas.RecoveryCodesSchema)
def totp_recovery_codes(data):
    """New recovery codes (the old ones stop working), shown once; asks the password."""
    codes = totp.regenerate_recovery_codes(current_actor(), data["password"])
    db.session.commit()
    return {"recovery_codes": codes}


@bp.post("/totp/disable")
@login_required
@password_checked
@bp.arguments(schemas.TotpDisableSchema)
@bp.response(204)
def totp_disable(data):
    """Turn two-factor sign-in off with my password."""
    user = current_actor()
    if _totp_required(user) and not passkeys.has_passkey(user):
        # it would only lock them out of their patients again
        raise ApiError(409, _("Your clinic requires two-factor sign-in, so it stays on."))
    totp.disable(user, data["password"], data.get("code"))
    db.session.commit()
    logs.auth_event("totp_disabled", user.id)


FORGOT_ANSWER = _l(
    "If an account exists for that address, we have sent a link to reset its password."
)


@bp.post("/password/forgot")
@limiter.limit(lambda: current_app.config["RATELIMIT_FORGOT_IP"])
@limiter.limit(lambda: current_app.config["RATELIMIT_FORGOT"], key_func=_forgot_email_key)
@bp.arguments(schemas.ForgotPasswordSchema)
@bp.response(202, schemas.MessageSchema)
def forgot_password(data):
    """Mail a link to set a new password. The same answer whether or not the address
    has an account, and in the same time: the mail leaves from a thread."""
    found = service.request_password_reset(
        data["email"], timedelta(seconds=current_app.config["PASSWORD_RESET_TTL_SECONDS"])
    )
    db.session.commit()
    if found is not None:
        user, token = found
        mail.send_soon(user.email, *_reset_mail(user, mail.link(f"#/reset/{token}")), kind="reset")
    return {"message": FORGOT_ANSWER}


def _reset_mail(user, link: str) -> tuple[str, str]:
    """The reset mail's subject and words, in the account's language (not the language of
    the browser that asked: that may be anyone's)."""
    with i18n.speaking(user.locale):
        return _("Reset your Between password"), _(
            "Someone asked to reset the password of your Between account.\n\n"
            "To choose a new password, open this link within an hour:\n\n%(link)s\n\n"
            "If it was not you, ignore this mail: your password stays as it is.\n",
            link=link,
        )


@bp.post("/password/reset")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@bp.arguments(schemas.ResetPasswordSchema)
@bp.response(204)
def reset_password(data):
    """Set a new password from a mailed link; every device of the account is signed out."""
    user = service.reset_password(data["token"], data["password"])
    db.session.commit()
    logs.auth_event("password_reset", user.id)


@bp.get("/therapist-invites/<string:token>")
@limiter.limit(lambda: current_app.config["RATELIMIT_JOIN"])
@bp.response(200, schemas.TherapistInviteSchema)
def therapist_invite(token: str):
    """The address and name an operator's invitation is for (to fill in the sign-up)."""
    invite = service.live_therapist_invite(token)
    if invite is None:
        raise ApiError(404, service.INVITE_GONE)
    return invite


@bp.before_app_request
def _second_factor_required():
    """Production can require two-factor sign-in for therapists: until it is on, a
    therapist reaches only the account routes that set it up."""
    if not current_app.config.get("REQUIRE_THERAPIST_TOTP"):
        return
    if not request.path.startswith("/api/v1/") or request.path.startswith("/api/v1/auth/"):
        return
    if (
        current_user.is_authenticated
        and current_user.is_therapist
        and not current_user.totp_enabled
        and not passkeys.has_passkey(current_user)
    ):
        raise ApiError(
            403,
            _("Turn on two-factor sign-in to continue (Account → Security)."),
            extra={"totp_setup_required": True},
        )


# -- passkeys ------------------------------------------------------------------------------


def _relying_party() -> tuple[str, str]:
    """The WebAuthn RP ID and the origin answers must come from. In production the
    public URL says both (never a Host header); elsewhere the address the browser used,
    so development on localhost and tests on any port work (127.0.0.1 is no valid RP ID:
    open the app at http://localhost:PORT to use passkeys there)."""
    origin = (
        current_app.config["PUBLIC_URL"]
        if current_app.config.get("PRODUCTION")
        else request.host_url.rstrip("/")
    )
    return urlsplit(origin).hostname or "", origin


def _confirm_for_passkey(user, data: dict) -> None:
    """Adding a way to sign in asks again for the password (or a current code): an
    open session on a borrowed phone is not enough to give someone a key of their own."""
    code, password = data.get("totp_code"), data.get("password")
    if code:
        if not user.totp_enabled or not totp.second_factor_ok(user, code, None):
            raise validation_error({"totp_code": [_("That code is not right.")]})
        return
    if not password:
        raise validation_error({"password": [_("Enter your password.")]})
    if not passwords.verify_password(user.password_hash, password):
        raise validation_error({"password": [_("This is not your password.")]})


def _audit_passkey(user, action: str, passkey_id) -> None:
    audit.record(user, action, user.id if user.is_patient else None, "passkey", [passkey_id])


@bp.post("/passkeys/options")
@login_required
@password_checked
@bp.arguments(schemas.PasskeyConfirmSchema)
@bp.response(200, schemas.PasskeyOptionsSchema)
def passkey_registration_options(data):
    """Start adding a passkey: confirm with my password (or a current code), get the
    options for navigator.credentials.create()."""
    user = current_actor()
    _confirm_for_passkey(user, data)
    options = passkeys.registration_options(user, _relying_party()[0])
    db.session.commit()
    return {"options": options}


@bp.get("/passkeys")
@login_required
@bp.response(200, schemas.PasskeySchema(many=True))
def passkey_list():
    """My passkeys, with their names and when each was last used."""
    return passkeys.list_passkeys(current_actor())


@bp.post("/passkeys")
@login_required
@bp.arguments(schemas.PasskeyAddSchema)
@bp.response(201, schemas.PasskeySchema)
def passkey_add(data):
    """Keep the passkey the browser made for the options I asked for, under a name."""
    user = current_actor()
    rp_id, origin = _relying_party()
    passkey = passkeys.add_passkey(user, data["name"], data["credential"], rp_id, origin)
    _audit_passkey(user, "passkey_add", passkey.id)
    db.session.commit()
    logs.auth_event("passkey_added", user.id)
    return passkey


@bp.patch("/passkeys/<uuid:passkey_id>")
@login_required
@bp.arguments(schemas.PasskeyRenameSchema)
@bp.response(200, schemas.PasskeySchema)
def passkey_rename(data, passkey_id: uuid.UUID):
    """Rename one of my passkeys."""
    passkey = passkeys.rename_passkey(current_actor(), passkey_id, data["name"])
    db.session.commit()
    return passkey


@bp.delete("/passkeys/<uuid:passkey_id>")
@login_required
@bp.response(204)
def passkey_remove(passkey_id: uuid.UUID):
    """Remove one of my passkeys; it no longer signs me in. Not the last second factor
    my clinic requires (409)."""
    user = current_actor()
    passkeys.remove_passkey(user, passkey_id, second_factor_required=_totp_required(user))
    _audit_passkey(user, "passkey_remove", passkey_id)
    db.session.commit()
    logs.auth_event("passkey_removed", user.id)


@bp.post("/login/passkey/options")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@bp.response(200, schemas.PasskeyOptionsSchema)
def passkey_sign_in_options():
    """Start signing in with a passkey: options for navigator.credentials.get()."""
    options = passkeys.sign_in_options(_relying_party()[0])
    db.session.commit()
    return {"options": options}


@bp.post("/login/passkey")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@bp.arguments(schemas.AuthenticationCredentialSchema)
@bp.response(200, schemas.UserSchema)
def passkey_sign_in(data):
    """Sign in with a passkey. It counts as both factors: no code is asked."""
    rp_id, origin = _relying_party()
    user, why = passkeys.authenticate(data, rp_id, origin)
    if user is None:
        db.session.commit()  # the challenge stays spent
        logs.auth_event("login_failed", reason="passkey_" + why)
        raise ApiError(401, _("This passkey did not sign you in. Try again, or use your password."))
    sign_in(user)
    db.session.commit()
    logs.auth_event("login_passkey", user.id)
    return _me(user)
