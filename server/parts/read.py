"""The parts map as other features read it: read-only (no writes, no audit, no events).

The brief and the export use these; so does the parts service. A patient's rows are
reached through an `access` scope, never a bare patient id.
"""

from __future__ import annotations

from datetime import datetime

from server.extensions import db
from server.parts.models import PartChange

_SENTENCES = {
    ("part", "added"): "added the part '{label}'",
    ("part", "changed"): "changed the part '{label}' ({fields})",
    ("part", "removed"): "removed the part '{label}'",
    ("relation", "added"): "added the relation '{label}'",
    ("relation", "changed"): "changed the relation '{label}' ({fields})",
    ("relation", "ended"): "relation '{label}' ended",
}


def changes_since(scope, since: datetime | None) -> list[dict]:
    """The map's history after `since`, oldest first, each change as a sentence."""
    query = scope.select(PartChange)
    if since is not None:
        query = query.where(PartChange.at > since)
    rows = db.session.scalars(query.order_by(PartChange.at, PartChange.id))
    return [
        {
            "at": c.at,
            "object_type": c.object_type,
            "object_id": c.object_id,
            "action": c.action,
            "fields_": list(c.fields or []),
            "text": _SENTENCES[(c.object_type, c.action)].format(
                label=c.label, fields=", ".join(f.replace("_", " ") for f in c.fields or [])
            ),
        }
        for c in rows
    ]
