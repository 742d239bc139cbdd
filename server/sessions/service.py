"""Treatment sessions: therapists set them, patients see them; dosing drives prompts.

A session whose start has passed is history: it cannot be cancelled, moved or given
another kind (its chart marker and its place in "since the last session" stay); its
notes can still be amended, and it can be marked as `did_not_happen`, which keeps it on
the record but no longer lets it end the brief's window.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server import access, events, localtime
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, conflict, not_found, validation_error
from server.extensions import db
from server.sessions.models import SessionKind, SessionStatus, TreatmentSession

# re-exported: the sessions routes and the sync protocol still name them here
from server.sessions.read import (  # noqa: F401
    held_clause,
    is_past,
    last_session_end,
    live,
    markers,
    status_of,
    view,
)
from server.sessions.read import local as _local
from server.sessions.schemas import TreatmentSessionSchema
from server.sync import clock
from server.sync.registry import SyncedType, register

TYPE = "treatment_session"
PAST_IS_RECORD = _l("A past session is part of the record; mark it as not happened instead.")
PAST_STAYS_PUT = _l(
    "A past session is part of the record: its time and kind stay. Mark it as not happened instead."
)


def _apply(session: TreatmentSession, data: dict) -> None:
    for key in ("kind", "duration_minutes", "route", "title", "note"):
        if key in data:
            setattr(session, key, data[key])
    if "starts_at" in data:
        session.starts_at, session.starts_offset_minutes = localtime.split(data["starts_at"])
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
        raise validation_error({"status": [_("A past session was held or did not happen.")]})
    if not past and status is not SessionStatus.SCHEDULED:
        raise validation_error(
            {"status": [_("Only a session whose start has passed can be held or not happen.")]}
        )


def _live(patient_id: uuid.UUID):
    return select(TreatmentSession).where(
        TreatmentSession.patient_id == patient_id, TreatmentSession.deleted.is_(False)
    )


def list_for_therapist(scope: access.SharedScope) -> list[TreatmentSession]:
    """A linked patient's sessions, in time order."""
    sessions = list(db.session.scalars(live(scope).order_by(TreatmentSession.starts_at)))
    scope.read(TYPE, [s.id for s in sessions])
    return sessions


def create_session(therapist: User, patient_id: uuid.UUID, data: dict) -> TreatmentSession:
    """Put a session on a linked patient's timeline."""
    access.shared_scope(therapist, patient_id)
    session_id = data.pop("id", None)
    clock.lock(patient_id)
    if session_id is not None and db.session.get(TreatmentSession, session_id) is not None:
        raise ApiError(409, _("This id is already in use."))
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
    # post-dosing prompts follow the timeline
    events.send(events.schedule_inputs_changed, patient_id)
    db.session.flush()
    return session


def _therapists_session(scope: access.SharedScope, session_id) -> TreatmentSession:
    session = db.session.scalar(live(scope).where(TreatmentSession.id == session_id))
    if session is None:
        raise not_found(_("No such session."))
    return session


def update_session(therapist: User, patient_id, session_id, data: dict, base_version):
    """Move or change a session, from the version I started with."""
    scope = access.shared_scope(therapist, patient_id)  # before the lock: no clock for strangers
    clock.lock(patient_id)
    session = _therapists_session(scope, session_id)
    check_version(
        session.version,
        base_version,
        lambda: TreatmentSessionSchema().dump(view(session)),
        _("This session changed meanwhile."),
    )
    _check_history(session, data)
    _apply(session, data)
    session.version += 1
    session.updated_at = utcnow()
    clock.stamp(session)
    audit.record(therapist, "write", patient_id, TYPE, [session.id])
    events.send(events.schedule_inputs_changed, patient_id)
    db.session.flush()
    return session


def cancel_session(therapist: User, patient_id, session_id) -> None:
    """Take an upcoming session off the timeline (a past one is history: 409)."""
    scope = access.shared_scope(therapist, patient_id)
    clock.lock(patient_id)
    session = _therapists_session(scope, session_id)
    if is_past(session):
        raise conflict(PAST_IS_RECORD, current=TreatmentSessionSchema().dump(view(session)))
    session.deleted = True
    session.version += 1
    session.updated_at = utcnow()
    clock.stamp(session)
    audit.record(therapist, "delete", patient_id, TYPE, [session.id])
    events.send(events.schedule_inputs_changed, patient_id)
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


def next_session(patient_id: uuid.UUID):
    return db.session.scalar(
        _live(patient_id)
        .where(TreatmentSession.starts_at > utcnow())
        .order_by(TreatmentSession.starts_at)
        .limit(1)
    )


def serialize(session: TreatmentSession) -> dict:
    return TreatmentSessionSchema().dump(view(session))


# patients' devices pull sessions (for prompts offline) but cannot push them
register(
    SyncedType(
        TYPE, TreatmentSession, serialize, read_only=_l("Sessions are set by your therapist.")
    )
)
