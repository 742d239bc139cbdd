"""The registry of synced types: each feature plugs its objects into the protocol here.

A synced model has `id` (client-made UUID), `patient_id`, `version`, `deleted` and
`change_seq` (the patient's counter at its last change). A type supplies how to
serialise an object and how to apply a pushed upsert or delete; the protocol
(server/sync/service.py) supplies idempotency, locking, ordering and paging.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from server.auth.models import User
from server.extensions import db

APPLIED, CONFLICT, REJECTED = "applied", "conflict", "rejected"


class Deferred(Exception):
    """Raised by an upsert that refers to objects not here yet (a relation whose parts
    come later in the same batch). The protocol retries it after the rest of the batch,
    then once more with `last_chance=True`, when the type must decide for good."""


@dataclass(frozen=True)
class SyncedType:
    name: str
    model: type
    serialize: Callable[[Any], dict]
    # (patient, object id, base version, data, op id, last_chance) -> result
    upsert: Callable[[User, uuid.UUID, int | None, dict, uuid.UUID, bool], dict]
    # (patient, object id, base version) -> result
    delete: Callable[[User, uuid.UUID, int | None], dict]
    # loader options for a page of this type (eager relationships: no query per row)
    load_options: tuple = ()
    # serialise a page of rows at once, when a row's data needs more than its row
    serialize_page: Callable[[list], list[dict]] | None = None
    # the columns of a sync page as a Core select (the protocol adds its where clause):
    # rows, not ORM objects, where building objects is the cost. Its rows carry the
    # model's attribute names (`tags` too, aggregated), so `serialize` reads a row as it
    # reads an object.
    page_select: Callable[[], Any] | None = None

    def serialize_many(self, rows: list) -> list[dict]:
        if self.serialize_page is not None:
            return self.serialize_page(rows)
        return [self.serialize(row) for row in rows]


REGISTRY: dict[str, SyncedType] = {}


def register(synced: SyncedType) -> SyncedType:
    REGISTRY[synced.name] = synced
    return synced


def result(status: str, type_name: str, obj_id, version: int | None = None, **extra) -> dict:
    """One op's outcome. Ids and versions only: devices pull content, logs keep none."""
    out = {"status": status, "type": type_name, "id": str(obj_id), "version": version}
    out.update({k: v for k, v in extra.items() if v is not None})
    return out


# db.session.info keys, set by a push batch while it runs (server/sync/service.py)
BATCHED = "sync_batched"  # the batch's writes go to the database together, at its end
ABSENT = "sync_absent"  # {(model, id)}: looked up at the batch's start and not there


def lookup(model: type, obj_id) -> Any:
    """The object with this id, or None. In a push batch, the ids of all its ops were
    looked up in one query before the first op; those known absent cost no query here."""
    absent = db.session.info.get(ABSENT)
    if absent is not None and (model, obj_id) in absent:
        return None
    return db.session.get(model, obj_id)


def flush() -> None:
    """Flush a type's writes, unless a push batch sends its writes together at its end
    (a failure there replays the batch op by op, each in its own savepoint)."""
    if not db.session.info.get(BATCHED):
        db.session.flush()
