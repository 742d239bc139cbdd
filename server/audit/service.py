"""Record audit events. Flushes, never commits: an event commits with the work it records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import insert, or_, select, tuple_

from server import pagination
from server.audit.models import AuditEvent
from server.auth.models import User
from server.db import utcnow
from server.extensions import db


def record(
    actor: User,
    action: str,
    patient_id: uuid.UUID | None,
    object_type: str,
    object_ids: Iterable[object] | None = None,
    outcome: str = "ok",
) -> None:
    """Exactly one event for one act, naming every object it touched."""
    given = list(object_ids or [])
    if any(i is None for i in given):
        # an object not flushed yet has no id: the event would name "None" forever
        raise ValueError(f"audit of {object_type}: an object id is None (give it an id first)")
    ids = [str(i) for i in given]
    db.session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_role=actor.role.value,
            patient_id=patient_id,
            action=action,
            object_type=object_type,
            object_ids=ids,
            outcome=outcome,
        )
    )


def record_many(actor: User, action: str, object_type: str, patient_ids) -> None:
    """One event per patient for an act that touched several (a caseload read), in one
    statement whatever the caseload's size."""
    rows = [
        {
            "id": uuid.uuid4(),
            "at": utcnow(),
            "actor_id": actor.id,
            "actor_role": actor.role.value,
            "patient_id": pid,
            "action": action,
            "object_type": object_type,
            "object_ids": [],
            "outcome": "ok",
        }
        for pid in patient_ids
    ]
    if rows:
        db.session.execute(insert(AuditEvent), rows)


def access_log(patient: User, limit: int, cursor: str | None) -> dict:
    """Who else read, wrote or acknowledged what of mine, and when; newest first."""
    query = (
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.patient_id == patient.id)
        .where(or_(AuditEvent.actor_id.is_(None), AuditEvent.actor_id != patient.id))
    )
    if cursor:
        query = query.where(tuple_(AuditEvent.at, AuditEvent.id) < pagination.decode(cursor))
    rows = db.session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit + 1)
    ).all()
    page = rows[:limit]
    return {
        "events": [
            {
                "at": e.at,
                "actor_name": name,
                "actor_role": e.actor_role,
                "action": e.action,
                "object_type": e.object_type,
                "object_ids": e.object_ids,
                "outcome": e.outcome,
            }
            for e, name in page
        ],
        "next_cursor": pagination.encode(page[-1][0].at, page[-1][0].id)
        if len(rows) > limit
        else None,
    }
