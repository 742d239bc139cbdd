"""The per-patient change counter (the pull cursor)."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.extensions import db
from server.sync.models import SyncClock


def _ensure_clock(patient_id: uuid.UUID) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SyncClock)
        .values(patient_id=patient_id, counter=0)
        .on_conflict_do_nothing(index_elements=["patient_id"])
    )


def lock(patient_id: uuid.UUID) -> None:
    """Take this patient's change lock for the rest of the transaction.

    An UPDATE holds the row lock until commit on PostgreSQL, and takes SQLite's
    single write lock at once, so writers for one patient queue here, first thing.
    """
    next_seq(patient_id, step=0)


def next_seq(patient_id: uuid.UUID, step: int = 1) -> int:
    """Advance the patient's counter under its row lock and return the new value."""
    stmt = (
        update(SyncClock)
        .where(SyncClock.patient_id == patient_id)
        .values(counter=SyncClock.counter + step)
        .returning(SyncClock.counter)
    )
    value = db.session.execute(stmt).scalar()
    if value is None:
        _ensure_clock(patient_id)
        value = db.session.execute(stmt).scalar_one()
    return value


def current(patient_id: uuid.UUID) -> int:
    return (
        db.session.scalar(select(SyncClock.counter).where(SyncClock.patient_id == patient_id)) or 0
    )


def stamp(obj) -> None:
    """Mark a synced object changed: it gets the next counter value of its patient."""
    obj.change_seq = next_seq(obj.patient_id)
