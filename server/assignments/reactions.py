"""What assignments do when something happens elsewhere (the signals of server/events.py)."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server import events
from server.assignments.models import Assignment
from server.assignments.read import relative_due
from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.sessions.models import TreatmentSession
from server.sync import clock


def follow_sessions(patient_id: uuid.UUID, timezone: str | None = None) -> None:
    """A session moved, or the patient's zone changed: homework due relative to a
    session is due at its new instant (the session's local day plus the days, at the
    wall time). A cancelled session leaves the last due time as it was."""
    # each item with its session's start, in one statement (not a lookup per item)
    rows = db.session.execute(
        select(Assignment, TreatmentSession.starts_at)
        .join(TreatmentSession, TreatmentSession.id == Assignment.due_session_id)
        .where(
            Assignment.patient_id == patient_id,
            Assignment.deleted.is_(False),
            TreatmentSession.deleted.is_(False),
        )
    ).all()
    if not rows:
        return
    zone = timezone or db.session.get(User, patient_id).timezone
    for item, starts_at in rows:
        due_at, offset = relative_due(starts_at, item.due_days, item.due_time, zone)
        if (due_at, offset) != (item.due_at, item.due_offset_minutes):
            item.due_at, item.due_offset_minutes = due_at, offset
            item.version += 1
            item.updated_at = utcnow()
            clock.stamp(item)
    db.session.flush()


def connect() -> None:
    """Connect the receivers of assignments; create_app calls this (again is harmless:
    blinker keeps one connection per receiver)."""
    # a session moved or the zone changed (`follow_sessions(patient_id, timezone=…)`)
    events.schedule_inputs_changed.connect(follow_sessions)
