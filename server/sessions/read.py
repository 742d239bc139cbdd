"""Treatment sessions as other features read them: read-only (no writes, no audit, no
events). The brief, check-in trends and the export use these; so does the sessions
service. Reads of a patient's rows take an `access` scope, never a bare patient id.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func

from server import localtime
from server.db import utcnow
from server.extensions import db
from server.sessions.models import SessionKind, SessionStatus, TreatmentSession


def is_past(session: TreatmentSession, now=None) -> bool:
    return session.starts_at <= (now or utcnow())


def status_of(session: TreatmentSession, now=None) -> str:
    """scheduled (upcoming), held (started; the default once the start has passed) or
    did_not_happen (marked so by a therapist)."""
    if session.status is SessionStatus.DID_NOT_HAPPEN:
        return SessionStatus.DID_NOT_HAPPEN.value
    return SessionStatus.HELD.value if is_past(session, now) else SessionStatus.SCHEDULED.value


def local(session: TreatmentSession, instant) -> str:
    """An instant of this session in the offset its start was given in."""
    return localtime.local_iso(instant, session.starts_offset_minutes)


def view(session: TreatmentSession) -> dict:
    ends = session.starts_at + timedelta(minutes=session.duration_minutes)
    return {
        "id": session.id,
        "patient_id": session.patient_id,
        "kind": session.kind,
        "starts_at": local(session, session.starts_at),
        "ends_at": local(session, ends),
        "duration_minutes": session.duration_minutes,
        "route": session.route,
        "title": session.title,
        "note": session.note,
        "version": session.version,
        "deleted": session.deleted,
        "status": status_of(session),
    }


def live(scope):
    """The scope's sessions on the timeline (a cancelled one is off it)."""
    return scope.select(TreatmentSession).where(TreatmentSession.deleted.is_(False))


def held_clause():
    """SQL: a session on the record that was not marked as not happened."""
    return (TreatmentSession.deleted.is_(False)) & (
        TreatmentSession.status != SessionStatus.DID_NOT_HAPPEN
    )


def last_session_end(scope, kind: SessionKind, before=None):
    """When the latest session of this kind that happened ended (at or before
    `before`), or None. A session marked as not happened does not count."""
    query = scope.select(TreatmentSession, func.max(TreatmentSession.ends_at)).where(
        TreatmentSession.kind == kind, held_clause()
    )
    if before is not None:
        query = query.where(TreatmentSession.ends_at <= before)
    return db.session.scalar(query)


def markers(scope, start=None, end=None) -> list[dict]:
    """Sessions in a window, as chart markers."""
    query = live(scope)
    if start:
        query = query.where(TreatmentSession.starts_at >= start)
    if end:
        query = query.where(TreatmentSession.starts_at < end)
    return [
        {
            "id": str(s.id),
            "kind": s.kind.value,
            "starts_at": local(s, s.starts_at),
            "status": status_of(s),
        }
        for s in db.session.scalars(query.order_by(TreatmentSession.starts_at))
    ]
