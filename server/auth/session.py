"""Glue between flask-login and the server-side sessions.

The signed Flask cookie carries only a random session token. Every request looks the
token up, so logout, a password change or account deletion ends a session at once,
and a cookie copied before logout is worthless after.
"""

from __future__ import annotations

from functools import wraps

from flask import current_app, g, request, session
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from server.auth import service
from server.auth.models import User, UserSession
from server.errors import ApiError
from server.extensions import limiter, login_manager

TOKEN_KEY = "sid"  # the name of a session key, not a secret  # nosec B105


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    row = service.resume_session(session.get(TOKEN_KEY), current_app.config["SESSION_TIMEOUTS"])
    if row is None or str(row.user.id) != user_id:
        session.clear()
        return None
    g.user_session = row
    return row.user


@login_manager.unauthorized_handler
def _unauthorized():
    raise ApiError(401, _("Please sign in."))


def sign_in(user: User) -> UserSession:
    """Start a server-side session and bind this browser to it."""
    session.clear()
    row, token = service.start_session(user, request.headers.get("User-Agent", ""))
    session[TOKEN_KEY] = token
    session.permanent = True
    login_user(user)
    g.user_session = row
    return row


def sign_out() -> None:
    service.end_session_by_token(session.get(TOKEN_KEY))
    logout_user()
    session.clear()


def current_session() -> service.LiveSession | UserSession | None:
    return g.get("user_session")


def current_actor() -> User:
    """The signed-in user (routes are guarded, so there always is one)."""
    return current_user._get_current_object()


def role_required(role: str):
    """Only this role may call the route. For the other role it does not exist (404:
    hidden and missing look the same); anonymous gets 401."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                raise ApiError(401, _("Please sign in."))
            if current_user.role.value != role:
                raise ApiError(404, _("Not found."))
            return view(*args, **kwargs)

        return wrapper

    return decorator


def _account_key() -> str:
    """Per signed-in account, for the routes that check a password again."""
    who = current_user.get_id() if current_user.is_authenticated else request.remote_addr
    return f"password-check:{who}"


def password_checked(view):
    """Rate-limited like sign-in: per address and per account, so a stolen session
    cannot grind the password of the account it holds."""
    limit = lambda: current_app.config["RATELIMIT_LOGIN"]  # noqa: E731
    return limiter.limit(limit)(limiter.limit(limit, key_func=_account_key)(view))
