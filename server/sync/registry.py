"""The registry of synced types: each feature plugs its objects into the protocol here.

A synced model has `id` (client-made UUID), `patient_id`, `version`, `deleted` and
`change_seq` (the patient's counter at its last change). The protocol owns what is the
same for every type: finding a pushed op's object, refusing an id that is not the
patient's to use, tombstones, a stale delete, and the shape of every answer
(server/sync/service.py adds idempotency, locking, ordering and paging). A type declares
its fields (a schema), how to serialise an object, how to make a new one and how to
merge a pushed upsert into the one the server has: its own conflict rule lives there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import Schema

from server import i18n
from server.auth.models import User
from server.db import utcnow
from server.extensions import db
from server.sync import clock

APPLIED, CONFLICT, REJECTED = "applied", "conflict", "rejected"
# the one answer to an id a patient may not use: another patient's object (whether it
# exists is not said), or an id the type does not allow (a plan's is its patient's)
UNUSABLE_ID = _l("This id cannot be used.")


class Deferred(Exception):
    """Raised by an upsert that refers to objects not here yet (a relation whose parts
    come later in the same batch). The protocol retries it after the rest of the batch,
    then once more with `last_chance=True`, when the type must decide for good."""


def result(status: str, type_name: str, obj_id, version: int | None = None, **extra) -> dict:
    """One op's outcome. Ids and versions only: devices pull content, logs keep none.
    Why an op was refused is in the language of the person whose device sent it."""
    out = {"status": status, "type": type_name, "id": str(obj_id), "version": version}
    out.update({k: v for k, v in extra.items() if v is not None})
    if "errors" in out:
        out["errors"] = i18n.translated(out["errors"])
    return out


@dataclass(frozen=True)
class Push:
    """A pushed upsert as the protocol hands it to its type: whose, which object, on top
    of which version, and its data as the type's schema loaded it."""

    type_name: str
    actor: User
    id: uuid.UUID
    base_version: int | None
    fields: dict
    op_id: uuid.UUID
    last_chance: bool

    def in_step(self, obj) -> bool:
        """Was this made on the server's copy: a live object, at the version it had?"""
        return not obj.deleted and self.base_version == obj.version

    def applied(self, obj, **extra) -> dict:
        return result(APPLIED, self.type_name, obj.id, obj.version, **extra)

    def conflict(self, obj, **extra) -> dict:
        """The server keeps its copy (the protocol sends it back to the device)."""
        return result(CONFLICT, self.type_name, obj.id, obj.version, **extra)

    def rejected(self, errors: dict) -> dict:
        return result(REJECTED, self.type_name, self.id, errors=errors)


@dataclass(frozen=True)
class SyncedType:
    """What a type declares: its model and serialiser, what a device may write of it, and
    its merge; everything else of an op is the protocol's."""

    name: str
    model: type
    serialize: Callable[[Any], dict]
    # what a device may write: a schema's `load` (raises ValidationError); None when
    # devices only pull this type, and `read_only` says why a push is refused
    load: Callable[[dict], dict] | None = None
    # an id the server has not seen: make the object, answer the op
    create: Callable[[Push], dict] | None = None
    # an id of the patient's (live or a tombstone): merge the push into it, answer the op;
    # a stale push must keep the server's copy and every word it carried
    merge: Callable[[Push, Any], dict] | None = None
    # fields a new object cannot do without (an edit may leave them out)
    required: tuple[str, ...] = ()
    read_only: str | None = None
    # what goes with an object when it is deleted (its words, its links), before the
    # protocol marks it; `undeletable` says why this type cannot be deleted at all
    on_delete: Callable[[User, Any], None] | None = None
    undeletable: str | None = None
    # False for a type that is never edited (a check-in): no newer copy can exist, so a
    # delete needs no version
    stale_delete_conflicts: bool = True
    # the one id a patient may give this type's object (a plan's is its patient's)
    only_id: Callable[[User], uuid.UUID] | None = None
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


def dumper(schema: Schema) -> Callable[[Mapping], dict]:
    """`schema.dump` of a mapping that holds every field: each value written by its
    field's own `_serialize`, exactly as marshmallow writes it, without marshmallow's
    per-value lookups (most of its cost, which counts on a pull of hundreds of rows). A
    schema this shortcut would not write exactly (dump hooks, a field that reads another
    attribute or the whole object) is dumped by marshmallow itself."""
    hooked = any(tag in schema._hooks for tag in ("pre_dump", "post_dump"))
    fields = schema.dump_fields.values()
    if schema.many or hooked or any(f.attribute or not f._CHECK_ATTRIBUTE for f in fields):
        return schema.dump
    plan = [(name, field.data_key or name, field) for name, field in schema.dump_fields.items()]

    def dump(data: Mapping) -> dict:
        return {key: field._serialize(data[name], name, data) for name, key, field in plan}

    return dump


REGISTRY: dict[str, SyncedType] = {}


def register(synced: SyncedType) -> SyncedType:
    REGISTRY[synced.name] = synced
    return synced


def tombstone(synced: SyncedType, actor: User, obj) -> None:
    """Delete means delete: what goes with the object goes first (the type's
    `on_delete`), then a tombstone stays, at a new version and a new number in the feed,
    so every device learns of it. The REST API's deletes end here too."""
    if synced.on_delete is not None:
        synced.on_delete(actor, obj)
    obj.deleted = True
    if hasattr(obj, "deleted_at"):
        obj.deleted_at = obj.updated_at = utcnow()
    obj.version += 1
    clock.stamp(obj)


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
