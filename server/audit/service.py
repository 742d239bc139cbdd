"""Record audit events. Flushes, never commits: an event commits with the work it records."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from server.audit.models import AuditEvent
from server.auth.models import User
from server.extensions import db


def record(
    actor: User,
    action: str,
    patient_id: uuid.UUID | None,
    object_type: str,
    object_ids: Iterable[object] | None = None,
    outcome: str = "ok",
) -> None:
    """One event per object (or one without an object when none is named)."""
    ids = [str(i) for i in object_ids] if object_ids is not None else [None]
    db.session.add_all(
        AuditEvent(
            actor_id=actor.id,
            actor_role=actor.role.value,
            patient_id=patient_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            outcome=outcome,
        )
        for object_id in ids
    )
