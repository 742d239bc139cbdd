"""The per-patient change counter (the pull cursor).

Every change to a synced object takes the next value of its patient's counter, under the
counter row's lock, in the same transaction as the change: changes commit in counter
order, which is what lets a pull bound its reads by the counter (server/sync/service.py).

`lock()` is the first statement of every write: it takes the lock and reserves the next
number (or the next few) in one UPDATE, and the transaction's `stamp()`s use that
reservation first, so a write costs one clock statement, not one more per stamp. A
reservation nobody uses is a gap in the numbers, which pulls do not mind (they ask for
"after n", not "n + 1").
"""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, Uuid, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from server.extensions import db
from server.sync.models import SyncClock

# db.session.info key: (transaction, patient, next reserved number, last reserved number)
_RESERVED = "sync_clock_reserved"


def _ensure_clock(patient_id: uuid.UUID) -> None:
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(SyncClock)
        .values(patient_id=patient_id, counter=0)
        .on_conflict_do_nothing(index_elements=["patient_id"])
    )


# Built once, with bound parameters: a statement costs more CPU to build than to run.
# The parameters carry their types: at import, a foreign key column's type may not be
# known yet, and an untyped UUID reaches SQLite unconverted.
_PATIENT = bindparam("patient", type_=Uuid())
_ADVANCE = (
    update(SyncClock)
    .where(SyncClock.patient_id == _PATIENT)
    .values(counter=SyncClock.counter + bindparam("step", type_=BigInteger()))
    .returning(SyncClock.counter)
)
_CURRENT = select(SyncClock.counter).where(SyncClock.patient_id == _PATIENT)


def _advance(patient_id: uuid.UUID, step: int) -> int:
    params = {"patient": patient_id, "step": step}
    # The counter is not an ORM object, so nothing pending needs flushing first; leaving
    # the object being stamped unflushed lets it be INSERTed with its number, rather than
    # INSERTed with 0 and UPDATEd.
    with db.session.no_autoflush:
        value = db.session.execute(_ADVANCE, params).scalar()
        if value is None:
            _ensure_clock(patient_id)
            value = db.session.execute(_ADVANCE, params).scalar_one()
    return value


def lock(patient_id: uuid.UUID, reserve: int = 1) -> None:
    """Take this patient's change lock for the rest of the transaction.

    An UPDATE holds the row lock until commit on PostgreSQL, and takes SQLite's single
    write lock at once, so writers for one patient queue here, first thing. It reserves
    the next `reserve` numbers in the same statement (a push reserves one per op, so its
    stamps cost no more statements); they belong to this transaction only, and a later
    transaction takes its own lock.
    """
    last = _advance(patient_id, reserve)
    db.session.info[_RESERVED] = (
        db.session().get_transaction(),
        patient_id,
        last - reserve + 1,
        last,
    )


def next_seq(patient_id: uuid.UUID, step: int = 1) -> int:
    """Advance the patient's counter under its row lock and return the new value."""
    reserved = db.session.info.get(_RESERVED)
    if (
        step == 1
        and reserved is not None
        and reserved[0] is db.session().get_transaction()
        and reserved[1] == patient_id
    ):
        _, _, value, last = reserved
        if value == last:
            del db.session.info[_RESERVED]
        else:
            db.session.info[_RESERVED] = (*reserved[:2], value + 1, last)
        return value
    return _advance(patient_id, step)


def current(patient_id: uuid.UUID) -> int:
    return db.session.scalar(_CURRENT, {"patient": patient_id}) or 0


def stamp(obj) -> None:
    """Mark a synced object changed: it gets the next counter value of its patient."""
    obj.change_seq = next_seq(obj.patient_id)
