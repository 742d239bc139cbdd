"""Sign-up, sign-in, sign-out and the devices I am signed in on."""

from __future__ import annotations

import uuid

from flask import current_app, request
from flask_login import login_required
from flask_smorest import Blueprint

from server.auth import schemas, service
from server.auth.session import current_actor, current_session, sign_in, sign_out
from server.errors import ApiError
from server.extensions import db, limiter

bp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Accounts and sessions")


def _login_email_key() -> str:
    # A second limit per account, so many addresses cannot grind one password.
    body = request.get_json(silent=True) or {}
    email = body.get("email") if isinstance(body, dict) else None
    return "login-email:" + (service.normalise_email(email) if isinstance(email, str) else "")


@bp.post("/register")
@limiter.limit(lambda: current_app.config["RATELIMIT_REGISTER"])
@bp.arguments(schemas.RegisterSchema)
@bp.response(201, schemas.UserSchema)
def register(data):
    """Create an account and sign in."""
    user = service.register_user(**data)
    sign_in(user)
    db.session.commit()
    return user


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
        raise ApiError(401, "The email or password is not right.")
    sign_in(user)
    db.session.commit()
    return user


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
    return current_actor()


@bp.post("/password")
@login_required
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
