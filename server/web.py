"""Request guards and response headers that every route shares.

- Unsafe methods carry JSON or nothing: another content type is 415.
- CSRF: an unsafe request from another site is 403, by Fetch Metadata and Origin.
- A strict CSP, nosniff, no referrer; API answers are never cached.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _

from server.errors import ApiError

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def _has_body() -> bool:
    if request.content_length:
        return True
    # chunked uploads carry no Content-Length
    return request.headers.get("Transfer-Encoding", "").lower() == "chunked"


MAX_JSON_DEPTH = 16


def _depth(value, limit: int) -> bool:
    """Is this JSON nested no deeper than `limit`? (iterative: no recursion to exhaust)"""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > limit:
            return False
        if isinstance(item, dict):
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
    return True


def require_json_body() -> None:
    if request.method not in UNSAFE_METHODS or not _has_body():
        return
    if request.mimetype != "application/json":
        raise ApiError(415, _("Send the request body as application/json."))
    # Parsed once, here (Flask caches it for the schemas). A body Python's parser refuses
    # (ValueError: malformed, or an integer over 4,300 digits) is Flask's 400; nesting
    # past the interpreter's recursion limit is one too, never a 500.
    try:
        body = request.get_json()
    except RecursionError:
        raise ApiError(
            400, _("JSON nested deeper than %(count)s levels.", count=MAX_JSON_DEPTH)
        ) from None
    if body is not None and not _depth(body, MAX_JSON_DEPTH):
        raise ApiError(400, _("JSON nested deeper than %(count)s levels.", count=MAX_JSON_DEPTH))


def refuse_cross_site() -> None:
    if request.method not in UNSAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in {"same-origin", "none"}:
        raise ApiError(403, _("Cross-site requests are not allowed."))
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = set(current_app.config["ALLOWED_ORIGINS"])
    if origin in allowed:
        return
    parts = urlsplit(origin)
    if origin == "null" or parts.netloc != request.host:
        raise ApiError(403, _("Cross-site requests are not allowed."))


VERSION_TAG = re.compile(r"[0-9]{1,18}")


def base_version(body_version: int | None) -> int | None:
    """The version an edit started from: If-Match ("3" or W/"3") or the body/query.
    ASCII digits only: str.isdigit() also takes "²" or "٣", which int() refuses or reads
    as another number."""
    header = request.headers.get("If-Match")
    if header:
        tag = header.strip().removeprefix("W/").strip('"')
        if not VERSION_TAG.fullmatch(tag):
            raise ApiError(422, _("If-Match must carry the version this change started from."))
        return int(tag)
    return body_version


def set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault(
        "Permissions-Policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    )
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["PRODUCTION"]:
        headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
    if request.path.startswith("/api/") or request.path == "/healthz":
        headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    # CSRF before content type: a cross-site form post is refused as such.
    app.before_request(refuse_cross_site)
    app.before_request(require_json_body)
    app.after_request(set_security_headers)
