"""One JSON error shape for every 4xx and 5xx the app can answer.

    {"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}

flask-smorest already answers its own aborts in this shape; the handlers here make
everything else (routing 404/405, 413, 415, rate limits, unhandled exceptions) match.

Every answer passes here, so its words are put in the request's language here too
(server/i18n.py): services raise theirs through gettext, and what marshmallow or
werkzeug say in English is translated on the way out. Codes and keys never change.
"""

from __future__ import annotations

import logging
import sqlite3
from http import HTTPStatus

from flask import Flask, g, jsonify
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError, default_exceptions

from server import i18n

log = logging.getLogger(__name__)

# Headers of a werkzeug exception worth keeping on the JSON answer.
_KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


class ApiError(HTTPException):
    """An error a service raises; it knows no Flask request, only a status and words."""

    def __init__(self, code: int, message: str | None = None, errors=None, extra=None):
        super().__init__(description=message)
        self.code = code
        self.errors = errors
        self.extra = extra or {}


def not_found(what: str | None = None) -> ApiError:
    return ApiError(404, what or _("Not found"))


def conflict(message: str, current=None) -> ApiError:
    """409 carrying the server's current copy, so the client can merge."""
    return ApiError(409, message, extra={"current": current} if current is not None else None)


def check_version(version: int, base_version: int | None, current, message: str) -> None:
    """Optimistic concurrency, one rule for every object: no version is 428; a stale one
    is 409 carrying the server's copy (`current` is called only then)."""
    if base_version is None:
        raise ApiError(428, _("Send the version this change started from (If-Match or 'version')."))
    if base_version != version:
        raise conflict(message, current=current())


def validation_error(errors: dict, message: str | None = None) -> ApiError:
    return ApiError(422, message or _("Invalid input"), errors={"json": errors})


def _default_message(code: int) -> str:
    known = default_exceptions.get(code)
    return known.description if known is not None else HTTPStatus(code).description


def error_body(code: int, message: str | None = None, errors=None, extra=None) -> dict:
    """The one shape; its words in the request's language (the status phrase is a
    protocol name, like the code, and stays as HTTP spells it)."""
    status = HTTPStatus(code)
    body = {
        "code": code,
        "status": status.phrase,
        "message": i18n.translated(message or _default_message(code)),
    }
    if errors:
        body["errors"] = i18n.translated(errors)
    if extra:
        body.update(extra)
    return body


def _response(code: int, body: dict, headers=()):
    response = jsonify(body)
    response.status_code = code
    for name, value in headers:
        if name.lower() in _KEPT_HEADERS:
            response.headers[name] = value
    return response


def handle_http_exception(exc: HTTPException):
    code = exc.code or 500
    errors = getattr(exc, "errors", None)
    extra = getattr(exc, "extra", None)
    # flask-smorest / webargs put field errors in exc.data["messages"]
    data = getattr(exc, "data", None) or {}
    if not errors and isinstance(data, dict) and data.get("messages"):
        errors = data["messages"]
    message = exc.description if code < 500 else None
    if isinstance(data, dict) and data.get("message"):
        message = data["message"]
    if isinstance(exc, RateLimitExceeded):
        message = TOO_MANY  # its own description is the limit ("10 per 1 minute")
    headers = exc.get_headers() if code != 500 else ()
    return _response(code, error_body(code, message, errors, extra), headers)


TOO_MANY = _l("Too many tries in a short time. Wait a little, then try again.")
BUSY_RETRY_SECONDS = 1
UNAVAILABLE_RETRY_SECONDS = 5
# SQLite's words for "another writer holds the lock" and "the file is not there"
_SQLITE_BUSY = ("database is locked", "database table is locked")
_SQLITE_GONE = ("unable to open database file", "disk i/o error")


try:  # a driver error SQLAlchemy did not wrap (code using a raw connection)
    from psycopg import InterfaceError as _PgInterfaceError
    from psycopg import OperationalError as _PgOperationalError

    _RAW_DRIVER_ERRORS: tuple[type[Exception], ...] = (_PgOperationalError, _PgInterfaceError)
except ImportError:  # the embedded mode needs no PostgreSQL driver
    _RAW_DRIVER_ERRORS = ()


def _unavailable(exc: Exception) -> str | None:
    """Why the database, not the request, made this fail ("busy" or "unreachable"), so
    the same request later works; None when it is a bug (a 500)."""
    if isinstance(exc, PoolTimeoutError):
        return "busy"  # every pooled connection in use past pool_timeout
    if isinstance(exc, DisconnectionError):
        return "unreachable"  # a pooled connection found dead, and no new one
    if isinstance(exc, _RAW_DRIVER_ERRORS):
        return "unreachable"
    if not isinstance(exc, DBAPIError):
        return None
    orig = exc.orig
    if isinstance(orig, sqlite3.Error):
        words = str(orig).lower()
        if any(w in words for w in _SQLITE_BUSY):
            return "busy"
        return "unreachable" if any(w in words for w in _SQLITE_GONE) else None
    if exc.connection_invalidated:
        return "unreachable"
    # psycopg (and PEP 249 drivers): OperationalError is the server gone, shutting down,
    # refusing connections, a failover, a deadlock or serialisation retry; InterfaceError
    # a connection closed under us. Both pass when tried again; IntegrityError and
    # ProgrammingError do not.
    names = {cls.__name__ for cls in type(orig).__mro__}
    if names & {"OperationalError", "InterfaceError"}:
        return "unreachable"
    return None


class _SignedIn:
    """Who asked, kept after the session's objects were thrown away, so the request's
    log line needs no database either."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, user_id, role):
        self.id, self.role = user_id, role

    def get_id(self) -> str:
        return str(self.id)


def _discard_unsaved() -> None:
    """Roll back what this request did, and keep the rest of it (the request log, the
    session cookie) from going back to a database that is not there."""
    from flask_login import AnonymousUserMixin

    from server.extensions import db

    user = g.get("_login_user")
    state = inspect(user, raiseerr=False) if user is not None else None
    stand_in = AnonymousUserMixin()
    if state is not None and state.identity and state.dict.get("role") is not None:
        stand_in = _SignedIn(state.identity[0], state.dict["role"])
    try:
        db.session.rollback()
    except Exception as rollback_error:  # a dead connection can refuse even that
        log.warning("rollback failed: %s", type(rollback_error).__name__)
    # flask-login would load the user again (the loader may be what failed)
    g._login_user = stand_in


def handle_database_error(exc: Exception):
    """The database is busy or out of reach: nothing of the request was kept (its
    transaction rolls back), so say so and when to try again. The PWA keeps the change
    in its outbox and does.
    - SQLite "database is locked": a write waited out its busy timeout behind others.
    - every pooled connection taken past pool_timeout.
    - PostgreSQL down, restarting, failing over, refusing connections.
    Logged by type only: a driver's message can quote the statement and its data."""
    why = _unavailable(exc)
    if why is None:
        return handle_unexpected(exc)
    _discard_unsaved()
    orig = getattr(exc, "orig", None)
    log.warning(
        "database %s: answered 503 (%s%s)",
        why,
        type(exc).__name__,
        f"/{type(orig).__name__}" if orig is not None else "",
    )
    if why == "busy":
        message = _(
            "The server is busy. Nothing from this request was saved; try again in a moment."
        )
        retry = BUSY_RETRY_SECONDS
    else:
        message = _(
            "The database cannot be reached. Nothing from this request was saved; "
            "try again in a moment."
        )
        retry = UNAVAILABLE_RETRY_SECONDS
    return _response(503, error_body(503, message), [("Retry-After", str(retry))])


def handle_unexpected(exc: Exception):
    # Log the type and traceback, never request bodies: they may hold health details.
    log.exception("unhandled %s", type(exc).__name__)
    _discard_unsaved()
    return _response(500, error_body(500, InternalServerError.description))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    for unavailable in (DBAPIError, PoolTimeoutError, DisconnectionError, *_RAW_DRIVER_ERRORS):
        app.register_error_handler(unavailable, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
