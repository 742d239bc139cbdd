"""Structured JSON logs: one line per request, with a request id, user id, route,
status and timing. Never a body, a query string, free text or a token."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, g, request
from flask_login import current_user

log = logging.getLogger("between.request")
auth_log = logging.getLogger("between.auth")
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# the only extra fields a log line may carry: ids, verbs, numbers — never content
FIELDS = (
    "request_id",
    "user_id",
    "role",
    "method",
    "route",
    "status",
    "ms",
    "event",
    "reason",
    "count",
    "worker",
    "kind",
)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update({k: getattr(record, k) for k in FIELDS if hasattr(record, k)})
        if record.exc_info:
            # the type and the frames, not the message: messages can quote data
            line["error"] = record.exc_info[0].__name__
            line["trace"] = self.formatException(record.exc_info).splitlines()[:-1]
        return json.dumps(line)


def configure(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [
        h
        for h in root.handlers
        if not isinstance(h, logging.StreamHandler) or h.__class__.__module__.startswith("_pytest")
    ]
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _start() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    g.started = time.perf_counter()


def _finish(response):
    user_id = role = None
    if current_user and current_user.is_authenticated:
        user_id, role = str(current_user.id), current_user.role.value
    log.info(
        "request",
        extra={
            "request_id": g.get("request_id"),
            "user_id": user_id,
            "role": role,
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "(no route)",
            "status": response.status_code,
            "ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 1),
        },
    )
    response.headers["X-Request-ID"] = g.get("request_id", "")
    return response


def auth_event(event: str, user_id=None, reason: str | None = None) -> None:
    """Sign-in, sign-out, failures: who (an id, never an email) and what."""
    auth_log.info(
        "auth",
        extra={
            "event": event,
            "user_id": str(user_id) if user_id else None,
            "reason": reason,
            "request_id": g.get("request_id"),
        },
    )


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
