"""How often a part of my parts map appears in my journal, week by week.

A question about entries (each entry names the parts it is about), so the journal
answers it: the journal reads the parts map's models, and the parts map never reads
the journal (tests/unit/test_import_graph.py keeps the two from importing each other
in a circle).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import Text, cast

from server import access, localtime
from server.auth.models import User
from server.errors import not_found
from server.extensions import db
from server.journal.models import JournalEntry
from server.parts.models import Part


def part_activity(actor: User, part_id: uuid.UUID) -> dict:
    """How often one of my parts appears in my entries per week, and those entries."""
    part = db.session.scalar(
        access.own_rows(actor, Part).where(Part.id == part_id, Part.deleted.is_(False))
    )
    if part is None:
        raise not_found(_("No such part."))
    marker = str(part.id)
    entries = [
        e
        for e in db.session.scalars(
            access.own_rows(actor, JournalEntry)
            .where(
                JournalEntry.deleted.is_(False), cast(JournalEntry.part_ids, Text).contains(marker)
            )
            .order_by(JournalEntry.written_at.desc())
        )
        if marker in (e.part_ids or [])  # the text match is a prefilter; the list decides
    ]
    days = [localtime.local_date(e.written_at, e.written_offset_minutes) for e in entries]
    weeks = Counter(day - timedelta(days=day.weekday()) for day in days)
    return {
        "part_id": part.id,
        "weeks": [{"week_start": w, "count": n} for w, n in sorted(weeks.items())],
        "entries": [
            {
                "id": e.id,
                "title": e.title,
                "written_at": localtime.local_iso(e.written_at, e.written_offset_minutes),
            }
            for e in entries
        ],
    }
