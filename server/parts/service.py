"""IFS parts maps: parts, relations, the map's sharing, activity and history.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from server import access, events
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, conflict, not_found, validation_error
from server.extensions import db
from server.parts.models import Part, PartChange, PartRelation, PartRole, PartsMap, RelationKind
from server.parts.read import changes_since
from server.parts.schemas import PartFieldsSchema, PartSchema, RelationFieldsSchema, RelationSchema
from server.sync import clock
from server.sync.registry import Deferred, Push, SyncedType, register, tombstone

PART, RELATION = "part", "part_relation"
PART_TEXT_FIELDS = (
    "name",
    "role",
    "description",
    "feelings",
    "body_location",
    "age_sense",
    "positive_intent",
    "burdens",
    "fears",
    "needs",
    "first_noticed_at",
)
# Where a part sits on the map: the last device to move it wins, never a conflict.
LAYOUT_FIELDS = ("x", "y", "color")
KIND_WORDS = {
    RelationKind.PROTECTS: "protects",
    RelationKind.POLARIZED_WITH: "is polarized with",
    RelationKind.ALLIED_WITH: "is allied with",
    RelationKind.BLENDED_WITH: "is blended with",
}
CONFLICT_NAMESPACE = uuid.UUID("8e2b1c44-5d0f-4d7e-b0a3-6f1e2d9c7b15")
PartOut, RelationOut = PartSchema(), RelationSchema()
_part_fields, _relation_fields = PartFieldsSchema(), RelationFieldsSchema()


def serialize_part(part: Part) -> dict:
    return PartOut.dump(part)


def serialize_relation(relation: PartRelation) -> dict:
    return RelationOut.dump(relation)


# what a missing part or relation is called in a 404, by model
_NO_SUCH = {"parts": _l("No such part."), "part_relations": _l("No such relation.")}


def _own(actor: User, model, obj_id: uuid.UUID):
    obj = db.session.scalar(
        access.own_rows(actor, model).where(model.id == obj_id, model.deleted.is_(False))
    )
    if obj is None:
        raise not_found(str(_NO_SUCH[model.__tablename__]))
    return obj


def _check_version(obj, base_version: int | None, serialize) -> None:
    check_version(
        obj.version,
        base_version,
        lambda: serialize(obj),
        _("This changed on another device. Here is the current copy."),
    )


def _history(
    actor: User, patient_id, object_type: str, obj_id, action: str, label: str, fields=()
) -> None:
    db.session.add(
        PartChange(
            patient_id=patient_id,
            actor_id=actor.id,
            object_type=object_type,
            object_id=obj_id,
            action=action,
            label=label[:400],
            fields=sorted(fields),
        )
    )


def _changed_fields(obj, data: dict) -> list[str]:
    return [k for k, v in data.items() if getattr(obj, k) != v]


# -- parts -------------------------------------------------------------------------------


def _new_part(actor: User, part_id, data: dict, conflict_of=None) -> Part:
    now = utcnow()
    part = Part(
        id=part_id or uuid.uuid4(),
        patient_id=actor.id,
        role=PartRole.UNKNOWN,
        feelings=[],
        created_at=now,
        updated_at=now,
        version=1,
        conflict_of=conflict_of,
    )
    for key, value in data.items():
        setattr(part, key, value)
    db.session.add(part)
    clock.stamp(part)
    _history(actor, actor.id, "part", part.id, "added", part.name)
    db.session.flush()
    return part


def _edit_part(actor: User, part: Part, data: dict) -> None:
    changed = _changed_fields(part, data)
    for key in changed:
        setattr(part, key, data[key])
    part.version += 1
    part.updated_at = utcnow()
    clock.stamp(part)
    quiet = set(LAYOUT_FIELDS) | {"conflict_of"}
    if set(changed) - quiet:  # moving a part around is not news for the brief
        _history(
            actor,
            part.patient_id,
            "part",
            part.id,
            "changed",
            part.name,
            set(changed) - quiet,
        )
    db.session.flush()


def _remove_part(actor: User, part: Part) -> None:
    """What goes with a deleted part, in its transaction: its relations end, entries drop
    the link, its words go (the protocol leaves the tombstone: server/sync/registry.py)."""
    for relation in db.session.scalars(
        select(PartRelation).where(
            PartRelation.patient_id == part.patient_id,
            PartRelation.deleted.is_(False),
            or_(PartRelation.source_id == part.id, PartRelation.target_id == part.id),
        )
    ):
        tombstone(RELATIONS, actor, relation)
    # entries that named it drop the link (the journal receives it)
    events.send(events.part_removed, part.patient_id, part_id=part.id)
    _history(actor, part.patient_id, "part", part.id, "removed", part.name)
    for key in PART_TEXT_FIELDS:  # delete means delete
        setattr(part, key, [] if key == "feelings" else None if key == "first_noticed_at" else "")
    part.role = PartRole.UNKNOWN


def list_parts(actor: User) -> list[Part]:
    """My live parts."""
    query = access.own_rows(actor, Part).where(Part.deleted.is_(False))
    return list(db.session.scalars(query.order_by(Part.created_at, Part.id)))


def get_part(actor: User, part_id: uuid.UUID) -> Part:
    """One of my parts."""
    return _own(actor, Part, part_id)


def create_part(actor: User, data: dict) -> Part:
    """Add a part to my map. A retried create (same id, same fields) returns the first."""
    part_id = data.pop("id", None)
    clock.lock(actor.id)
    if part_id is not None:
        existing = db.session.get(Part, part_id)
        if existing is not None:
            if existing.patient_id != actor.id:
                raise ApiError(409, _("This id is already in use."))
            if not existing.deleted and not _changed_fields(existing, data):
                return existing
            raise conflict(
                _("A part with this id already exists."), current=serialize_part(existing)
            )
    return _new_part(actor, part_id, data)


def update_part(actor: User, part_id: uuid.UUID, data: dict, base_version) -> Part:
    """Edit a part from the version I started with; stale is a 409."""
    clock.lock(actor.id)
    part = _own(actor, Part, part_id)
    _check_version(part, base_version, serialize_part)
    _edit_part(actor, part, data)
    return part


def delete_part(actor: User, part_id: uuid.UUID, base_version) -> None:
    """Remove a part; its relations end and entries drop the link."""
    clock.lock(actor.id)
    part = _own(actor, Part, part_id)
    _check_version(part, base_version, serialize_part)
    tombstone(PARTS, actor, part)
    db.session.flush()


# -- relations ---------------------------------------------------------------------------


def _label(relation_or_fields, names: dict) -> str:
    kind = relation_or_fields["kind"]
    return (
        f"{names.get(relation_or_fields['source_id']) or 'a removed part'} {KIND_WORDS[kind]} "
        f"{names.get(relation_or_fields['target_id']) or 'a removed part'}"
    )


def _relation_problems(actor: User, fields: dict, exclude_id=None) -> dict:
    """Field errors for a relation, or {} when it may be written."""
    source_id, target_id, kind = fields["source_id"], fields["target_id"], fields["kind"]
    if source_id == target_id:
        return {"target_id": [_("A part cannot be related to itself.")]}
    parts = {
        p.id: p
        for p in db.session.scalars(
            access.own_rows(actor, Part).where(
                Part.id.in_({source_id, target_id}), Part.deleted.is_(False)
            )
        )
    }
    missing = {}
    for key in ("source_id", "target_id"):
        if fields[key] not in parts:
            # another patient's part, a deleted one or none at all: the same answer
            missing[key] = [_("No such part on your map.")]
    if missing:
        return missing
    pair = [(source_id, target_id)]
    if kind.symmetric:
        pair.append((target_id, source_id))
    duplicate = db.session.scalar(
        access.own_rows(actor, PartRelation).where(
            PartRelation.deleted.is_(False),
            PartRelation.kind == kind,
            or_(*[(PartRelation.source_id == s) & (PartRelation.target_id == t) for s, t in pair]),
            PartRelation.id != (exclude_id or uuid.UUID(int=0)),
        )
    )
    if duplicate is not None:
        return {"kind": [_("These parts already have this relation.")]}
    return {}


def _part_names(actor: User, *ids) -> dict:
    rows = db.session.execute(
        select(Part.id, Part.name).where(Part.patient_id == actor.id, Part.id.in_(set(ids)))
    )
    return dict(rows.all())


def _relation_label(actor: User, relation: PartRelation) -> str:
    fields = {
        "source_id": relation.source_id,
        "target_id": relation.target_id,
        "kind": relation.kind,
    }
    return _label(fields, _part_names(actor, relation.source_id, relation.target_id))


def _new_relation(actor: User, relation_id, fields: dict) -> PartRelation:
    now = utcnow()
    relation = PartRelation(
        id=relation_id or uuid.uuid4(),
        patient_id=actor.id,
        created_at=now,
        updated_at=now,
        version=1,
        **{"note": "", **fields},
    )
    db.session.add(relation)
    clock.stamp(relation)
    _history(actor, actor.id, "relation", relation.id, "added", _relation_label(actor, relation))
    db.session.flush()
    return relation


def _edit_relation(actor: User, relation: PartRelation, data: dict) -> None:
    changed = _changed_fields(relation, data)
    for key in changed:
        setattr(relation, key, data[key])
    relation.version += 1
    relation.updated_at = utcnow()
    clock.stamp(relation)
    if changed:
        _history(
            actor,
            relation.patient_id,
            "relation",
            relation.id,
            "changed",
            _relation_label(actor, relation),
            changed,
        )
    db.session.flush()


def _remove_relation(actor: User, relation: PartRelation) -> None:
    """What goes with an ended relation: its note (the protocol leaves the tombstone)."""
    _history(
        actor,
        relation.patient_id,
        "relation",
        relation.id,
        "ended",
        _relation_label(actor, relation),
    )
    relation.note = ""


def _merged_relation_fields(relation: PartRelation | None, data: dict) -> dict:
    base = (
        {}
        if relation is None
        else {
            "source_id": relation.source_id,
            "target_id": relation.target_id,
            "kind": relation.kind,
            "note": relation.note,
        }
    )
    return {**base, **data}


def list_relations(actor: User) -> list[PartRelation]:
    """My live relations."""
    query = access.own_rows(actor, PartRelation).where(PartRelation.deleted.is_(False))
    return list(db.session.scalars(query.order_by(PartRelation.created_at, PartRelation.id)))


def get_relation(actor: User, relation_id: uuid.UUID) -> PartRelation:
    """One of my relations."""
    return _own(actor, PartRelation, relation_id)


def create_relation(actor: User, data: dict) -> PartRelation:
    """Relate two of my parts."""
    relation_id = data.pop("id", None)
    clock.lock(actor.id)
    if relation_id is not None and db.session.get(PartRelation, relation_id) is not None:
        existing = db.session.get(PartRelation, relation_id)
        if (
            existing.patient_id == actor.id
            and not existing.deleted
            and not _changed_fields(existing, data)
        ):
            return existing
        raise ApiError(409, _("This id is already in use."))
    problems = _relation_problems(actor, data)
    if problems:
        raise validation_error(problems)
    return _new_relation(actor, relation_id, data)


def update_relation(actor: User, relation_id: uuid.UUID, data: dict, base_version):
    """Edit a relation from the version I started with; stale is a 409."""
    clock.lock(actor.id)
    relation = _own(actor, PartRelation, relation_id)
    _check_version(relation, base_version, serialize_relation)
    problems = _relation_problems(actor, _merged_relation_fields(relation, data), relation.id)
    if problems:
        raise validation_error(problems)
    _edit_relation(actor, relation, data)
    return relation


def delete_relation(actor: User, relation_id: uuid.UUID, base_version) -> None:
    """End a relation."""
    clock.lock(actor.id)
    relation = _own(actor, PartRelation, relation_id)
    _check_version(relation, base_version, serialize_relation)
    tombstone(RELATIONS, actor, relation)
    db.session.flush()


# -- the map -----------------------------------------------------------------------------


def _map_settings(patient_id: uuid.UUID) -> PartsMap | None:
    return db.session.get(PartsMap, patient_id)


def get_map(actor: User) -> dict:
    """All my live parts and relations in one answer, with the map's sharing."""
    settings = _map_settings(actor.id)
    return {
        "shared": bool(settings and settings.shared),
        "parts": list_parts(actor),
        "relations": list_relations(actor),
    }


def set_map_shared(actor: User, shared: bool) -> dict:
    """Share my map with my therapists, or stop sharing it (at once)."""
    settings = _map_settings(actor.id)
    if settings is None:
        settings = PartsMap(patient_id=actor.id)
        db.session.add(settings)
    settings.shared = shared
    settings.updated_at = utcnow()
    audit.record(actor, "share" if shared else "unshare", actor.id, "parts_map")
    db.session.flush()
    return get_map(actor)


def shared_map(scope: access.SharedScope) -> dict:
    """A linked patient's map, only while they share it (audited)."""
    if db.session.scalar(scope.select(PartsMap)) is None:
        raise not_found(_("No shared parts map."))
    parts = scope.select(Part).order_by(Part.created_at, Part.id)
    relations = scope.select(PartRelation).order_by(PartRelation.created_at, PartRelation.id)
    answer = {
        "shared": True,
        "parts": list(db.session.scalars(parts)),
        "relations": list(db.session.scalars(relations)),
    }
    scope.read("parts_map")
    return answer


# -- history ----------------------------------------------------------------


def list_changes(actor: User, since: datetime | None) -> list[dict]:
    """What changed on my map since a date."""
    return changes_since(access.own_scope(actor), since)


# -- sync --------------------------------------------------------------------------------


def _merge_part(push: Push, part: Part) -> dict:
    """A pushed part. A stale text edit becomes a copy; layout is last-writer-wins."""
    fields = push.fields
    changed = _changed_fields(part, fields)
    if not part.deleted and (push.in_step(part) or set(changed) <= set(LAYOUT_FIELDS)):
        # in step, or only moved on the map (last mover wins): applied. If the server
        # held a newer version, the protocol tells the device it is behind.
        if changed or push.in_step(part):
            _edit_part(push.actor, part, fields)
        return push.applied(part)
    if part.deleted and not set(fields) - set(LAYOUT_FIELDS) - {"conflict_of"}:
        # moved on the map after another device removed it: no words to keep
        return push.conflict(part)
    # Stale text (or an edit of a part removed meanwhile): the server's part stays, the
    # incoming words are kept whole in a copy beside it.
    merged = {k: getattr(part, k) for k in PART_TEXT_FIELDS + LAYOUT_FIELDS}
    merged.update(fields)
    merged.pop("conflict_of", None)  # the copy is this part's conflict copy, whatever came
    merged["name"] = merged["name"] or "Part"
    copy_id = uuid.uuid5(CONFLICT_NAMESPACE, str(push.op_id))
    copy = _new_part(push.actor, copy_id, merged, conflict_of=part.id)
    return push.conflict(part, conflict_copy_id=str(copy.id))


def _relation_ready(push: Push, fields: dict) -> dict:
    """The relation's fields, once both its parts exist: a relation whose parts come
    later in the batch waits for them (then the answer says which part is missing)."""
    if not push.last_chance:
        ends = {fields["source_id"], fields["target_id"]}
        if ends - set(db.session.scalars(select(Part.id).where(Part.id.in_(ends)))):
            raise Deferred
    return fields


def _pushed_relation(push: Push) -> dict:
    """A relation made on a device."""
    fields = _relation_ready(push, push.fields)
    problems = _relation_problems(push.actor, fields)
    if problems:
        return push.rejected({"data": problems})
    return push.applied(_new_relation(push.actor, push.id, fields))


def _merge_relation(push: Push, relation: PartRelation) -> dict:
    """A pushed edit of a relation. Stale, or ended meanwhile (by another device, or with
    a part at one end): the server's relation stays. A note that differs is kept whole,
    never cut or dropped: a relation cannot have a copy (it would duplicate itself), so
    the words go to my journal, naming the relation they were about."""
    fields = push.fields
    merged = _relation_ready(push, _merged_relation_fields(relation, fields))
    if not push.in_step(relation):
        note = fields.get("note") or ""
        if note.strip() and note != relation.note:
            events.send(
                events.words_to_keep,
                push.actor,
                op_id=push.op_id,
                title="Kept from another device: a note on your parts map",
                body=f"A note on '{_relation_label(push.actor, relation)}', written on another "
                f"device while this relation changed:\n\n{note}",
            )
        return push.conflict(relation)
    problems = _relation_problems(push.actor, merged, relation.id)
    if problems:
        return push.rejected({"data": problems})
    _edit_relation(push.actor, relation, fields)
    return push.applied(relation)


PARTS = register(
    SyncedType(
        PART,
        Part,
        serialize_part,
        load=_part_fields.load,
        create=lambda push: push.applied(_new_part(push.actor, push.id, push.fields)),
        merge=_merge_part,
        required=("name",),
        on_delete=_remove_part,
    )
)
RELATIONS = register(
    SyncedType(
        RELATION,
        PartRelation,
        serialize_relation,
        load=_relation_fields.load,
        create=_pushed_relation,
        merge=_merge_relation,
        required=("source_id", "target_id", "kind"),
        on_delete=_remove_relation,
    )
)
