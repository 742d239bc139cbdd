"""Treatment sessions: therapists set them, patients see them; dosing drives prompts.

A session whose start has passed is history: it cannot be cancelled, moved or given
another kind (its chart marker and its place in "since the last session" stay); its
notes can still be amended, and it can be marked as `did_not_happen`, which keeps it on
the record but no longer lets it end the brief's window.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta, timezone

from sqlalchemy import func, select

from server import access
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, conflict, not_found, validation_error
from server.extensions import db
from server.reminders import service as reminders
from server.sessions.models import SessionKind, SessionStatus, TreatmentSession
from server.sessions.schemas import TreatmentSessionSchema
from server.sync import clock
from server.sync.registry import REJECTED, SyncedType, register, result

TYPE = "treatment_session"
PAST_IS_RECORD = "A past session is part of the record; mark it as not happened instead."
PAST_STAYS_PUT = (
    "A past session is part of the record: its time and kind stay. Mark it as not happened instead."
)


def is_past(session: TreatmentSession, now=None) -> bool:
    return session.starts_at <= (now or utcnow())


def status_of(session: TreatmentSession, now=None) -> str:
    """scheduled (upcoming), held (started; the default once the start has passed) or
    did_not_happen (marked so by a therapist)."""
    if session.status is SessionStatus.DID_NOT_HAPPEN:
        return SessionStatus.DID_NOT_HAPPEN.value
    return SessionStatus.HELD.value if is_past(session, now) else SessionStatus.SCHEDULED.value


def _local(session: TreatmentSession, instant) -> str:
    return instant.astimezone(
        timezone(timedelta(minutes=session.starts_offset_minutes))
    ).isoformat()


def view(session: TreatmentSession) -> dict:
    ends = session.starts_at + timedelta(minutes=session.duration_minutes)
    return {
        "id": session.id,
        "patient_id": session.patient_id,
        "kind": session.kind,
        "starts_at": _local(session, session.starts_at),
        "ends_at": _local(session, ends),
        "duration_minutes": session.duration_minutes,
        "route": session.route,
        "title": session.title,
        "note": session.note,
        "version": session.version,
        "deleted": session.deleted,
        "status": status_of(session),
    }


def _apply(session: TreatmentSession, data: dict) -> None:
    for key in ("kind", "duration_minutes", "route", "title", "note"):
        if key in data:
            setattr(session, key, data[key])
    if "starts_at" in data:
        session.starts_at = data["starts_at"].astimezone(UTC)
        session.starts_offset_minutes = int(data["starts_at"].utcoffset().total_seconds() // 60)
    if "status" in data:
        session.status = data["status"]
    session.ends_at = session.starts_at + timedelta(minutes=session.duration_minutes)


def _check_history(session: TreatmentSession, data: dict) -> None:
    """A past session keeps its time and kind (sending them unchanged is no change);
    only a past session can be held or not have happened, only an upcoming one be
    scheduled."""
    now = utcnow()
    if is_past(session, now):
        moved = "starts_at" in data and data["starts_at"] != session.starts_at
        retyped = "kind" in data and data["kind"] != session.kind
        if moved or retyped:
            raise conflict(PAST_STAYS_PUT, current=TreatmentSessionSchema().dump(view(session)))
    status = data.get("status")
    if status is None:
        return
    starts = data["starts_at"] if "starts_at" in data else session.starts_at
    past = starts <= now
    if past and status is SessionStatus.SCHEDULED:
        raise validation_error({"status": ["A past session was held or did not happen."]})
    if not past and status is not SessionStatus.SCHEDULED:
        raise validation_error(
            {"status": ["Only a session whose start has passed can be held or not happen."]}
        )


def _live(patient_id: uuid.UUID):
    return select(TreatmentSession).where(
        TreatmentSession.patient_id == patient_id, TreatmentSession.deleted.is_(False)
    )


def list_for_therapist(therapist: User, patient_id: uuid.UUID) -> list[TreatmentSession]:
    """A linked patient's sessions, in time order."""
    access.linked_patient(therapist, patient_id)
    sessions = list(db.session.scalars(_live(patient_id).order_by(TreatmentSession.starts_at)))
    audit.record(therapist, "read", patient_id, TYPE, [s.id for s in sessions])
    return sessions


def create_session(therapist: User, patient_id: uuid.UUID, data: dict) -> TreatmentSession:
    """Put a session on a linked patient's timeline."""
    access.linked_patient(therapist, patient_id)
    session_id = data.pop("id", None)
    clock.lock(patient_id)
    if session_id is not None and db.session.get(TreatmentSession, session_id) is not None:
        raise ApiError(409, "This id is already in use.")
    now = utcnow()
    session = TreatmentSession(
        id=session_id or uuid.uuid4(),
        patient_id=patient_id,
        therapist_id=therapist.id,
        duration_minutes=60,
        title="",
        note="",
        created_at=now,
        updated_at=now,
        version=1,
        status=SessionStatus.SCHEDULED,
    )
    _apply(session, data)
    db.session.add(session)
    clock.stamp(session)
    audit.record(therapist, "write", patient_id, TYPE, [session.id])
    reminders.wake(patient_id)  # post-dosing prompts follow the timeline
    db.session.flush()
    return session


def _therapists_session(therapist, patient_id, session_id) -> TreatmentSession:
    access.linked_patient(therapist, patient_id)
    session = db.session.scalar(_live(patient_id).where(TreatmentSession.id == session_id))
    if session is None:
        raise not_found("No such session.")
    return session


def update_session(therapist: User, patient_id, session_id, data: dict, base_version):
    """Move or change a session, from the version I started with."""
    access.linked_patient(therapist, patient_id)  # before the lock: no clock for strangers
    clock.lock(patient_id)
    session = _therapists_session(therapist, patient_id, session_id)
    check_version(
        session.version,
        base_version,
        lambda: TreatmentSessionSchema().dump(view(session)),
        "This session changed meanwhile.",
    )
    _check_history(session, data)
    _apply(session, data)
    session.version += 1
    session.updated_at = utcnow()
    clock.stamp(session)
    audit.record(therapist, "write", patient_id, TYPE, [session.id])
    reminders.wake(patient_id)
    db.session.flush()
    return session


def cancel_session(therapist: User, patient_id, session_id) -> None:
    """Take an upcoming session off the timeline (a past one is history: 409)."""
    access.linked_patient(therapist, patient_id)
    clock.lock(patient_id)
    session = _therapists_session(therapist, patient_id, session_id)
    if is_past(session):
        raise conflict(PAST_IS_RECORD, current=TreatmentSessionSchema().dump(view(session)))
    session.deleted = True
    session.version += 1
    session.updated_at = utcnow()
    clock.stamp(session)
    audit.record(therapist, "delete", patient_id, TYPE, [session.id])
    reminders.wake(patient_id)
    db.session.flush()


def my_sessions(patient: User) -> dict:
    """My sessions, upcoming and past, and days since my last dosing session."""
    rows = list(
        db.session.scalars(
            access.own_rows(patient, TreatmentSession)
            .where(TreatmentSession.deleted.is_(False))
            .order_by(TreatmentSession.starts_at)
        )
    )
    now = utcnow()
    past = [s for s in rows if s.starts_at <= now]
    dosing = [
        s
        for s in past
        if s.kind is SessionKind.DOSING and s.status is not SessionStatus.DID_NOT_HAPPEN
    ]
    last = dosing[-1] if dosing else None
    return {
        "upcoming": [view(s) for s in rows if s.starts_at > now],
        "past": [view(s) for s in reversed(past)],
        "days_since_last_dosing": (now - last.starts_at).days if last else None,
        "last_dosing_at": _local(last, last.starts_at) if last else None,
    }


def held_clause():
    """SQL: a session on the record that was not marked as not happened."""
    return (TreatmentSession.deleted.is_(False)) & (
        TreatmentSession.status != SessionStatus.DID_NOT_HAPPEN
    )


def last_session_end(patient_id: uuid.UUID, kind: SessionKind, before=None):
    """When the latest session of this kind that happened ended (at or before
    `before`), or None. A session marked as not happened does not count."""
    query = select(func.max(TreatmentSession.ends_at)).where(
        TreatmentSession.patient_id == patient_id,
        TreatmentSession.kind == kind,
        held_clause(),
    )
    if before is not None:
        query = query.where(TreatmentSession.ends_at <= before)
    return db.session.scalar(query)


def next_session(patient_id: uuid.UUID):
    return db.session.scalar(
        _live(patient_id)
        .where(TreatmentSession.starts_at > utcnow())
        .order_by(TreatmentSession.starts_at)
        .limit(1)
    )


def markers(patient_id: uuid.UUID, start=None, end=None) -> list[dict]:
    """Sessions in a window, as chart markers."""
    query = _live(patient_id)
    if start:
        query = query.where(TreatmentSession.starts_at >= start)
    if end:
        query = query.where(TreatmentSession.starts_at < end)
    return [
        {
            "id": str(s.id),
            "kind": s.kind.value,
            "starts_at": _local(s, s.starts_at),
            "status": status_of(s),
        }
        for s in db.session.scalars(query.order_by(TreatmentSession.starts_at))
    ]


def serialize(session: TreatmentSession) -> dict:
    return TreatmentSessionSchema().dump(view(session))


def _read_only(actor, session_id, *_args) -> dict:
    return result(
        REJECTED, TYPE, session_id, errors={"type": ["Sessions are set by your therapist."]}
    )


# patients' devices pull sessions (for prompts offline) but cannot push them
register(SyncedType(TYPE, TreatmentSession, serialize, _read_only, _read_only))
