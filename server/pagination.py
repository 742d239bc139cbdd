"""Opaque keyset cursors: (instant, id) of the last row of a page, newest-first order."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from flask_babel import gettext as _

from server.errors import ApiError


def encode(at: datetime, row_id) -> str:
    raw = f"{at.isoformat()}|{row_id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        at, row_id = base64.urlsafe_b64decode(padded).decode().split("|")
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(
            422, _("Invalid cursor."), errors={"query": {"cursor": [_("Invalid.")]}}
        ) from exc
