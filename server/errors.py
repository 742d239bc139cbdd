"""One JSON error shape for every 4xx and 5xx the app can answer.

    {"code": 422, "status": "Unprocessable Entity", "message": "...", "errors": {...}}

flask-smorest already answers its own aborts in this shape; the handlers here make
everything else (routing 404/405, 413, 415, rate limits, unhandled exceptions) match.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from flask import Flask, jsonify
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

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


def not_found(what: str = "Not found") -> ApiError:
    return ApiError(404, what)


def conflict(message: str, current=None) -> ApiError:
    """409 carrying the server's current copy, so the client can merge."""
    return ApiError(409, message, extra={"current": current} if current is not None else None)


def check_version(version: int, base_version: int | None, current, message: str) -> None:
    """Optimistic concurrency, one rule for every object: no version is 428; a stale one
    is 409 carrying the server's copy (`current` is called only then)."""
    if base_version is None:
        raise ApiError(428, "Send the version this change started from (If-Match or 'version').")
    if base_version != version:
        raise conflict(message, current=current())


def validation_error(errors: dict, message: str = "Invalid input") -> ApiError:
    return ApiError(422, message, errors={"json": errors})


def error_body(code: int, message: str | None = None, errors=None, extra=None) -> dict:
    status = HTTPStatus(code)
    body = {"code": code, "status": status.phrase, "message": message or status.description}
    if errors:
        body["errors"] = errors
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
    headers = exc.get_headers() if code != 500 else ()
    return _response(code, error_body(code, message, errors, extra), headers)


BUSY_RETRY_SECONDS = 1


def handle_database_error(exc: OperationalError):
    """SQLite answers "database is locked" when a write waited out its busy timeout
    behind other writers. Nothing of the request was kept (its transaction rolls back),
    so say so and when to try again: the PWA keeps the change in its outbox and does."""
    if "database is locked" not in str(getattr(exc, "orig", "")):
        return handle_unexpected(exc)
    log.warning("database busy: answered 503")
    body = error_body(
        503, "The server is busy. Nothing from this request was saved; try again in a moment."
    )
    return _response(503, body, [("Retry-After", str(BUSY_RETRY_SECONDS))])


def handle_unexpected(exc: Exception):
    # Log the type and traceback, never request bodies: they may hold health details.
    log.exception("unhandled %s", type(exc).__name__)
    return _response(500, error_body(500, InternalServerError.description))


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
