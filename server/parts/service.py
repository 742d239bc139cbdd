"""IFS parts maps: parts, relations, the map's sharing, activity and history.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta

from marshmallow import ValidationError
from sqlalchemy import Text, cast, or_, select

from server import access
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, conflict, not_found, validation_error
from server.extensions import db
from server.journal.models import JournalEntry
from server.journal.service import keep_words, written_at_local
from server.parts.models import Part, PartChange, PartRelation, PartRole, PartsMap, RelationKind
from server.parts.schemas import PartFieldsSchema, PartSchema, RelationFieldsSchema, RelationSchema
from server.sync import clock
from server.sync.registry import (
    APPLIED,
    CONFLICT,
    REJECTED,
    Deferred,
    SyncedType,
    register,
    result,
)

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


def _own(actor: User, model, obj_id: uuid.UUID, what: str):
    obj = db.session.scalar(
        access.own_rows(actor, model).where(model.id == obj_id, model.deleted.is_(False))
    )
    if obj is None:
        raise not_found(f"No such {what}.")
    return obj


def _check_version(obj, base_version: int | None, serialize) -> None:
    check_version(
        obj.version,
        base_version,
        lambda: serialize(obj),
        "This changed on another device. Here is the current copy.",
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
    """Tombstone a part, end its relations, and unlink it from entries: one transaction."""
    for relation in db.session.scalars(
        select(PartRelation).where(
            PartRelation.patient_id == part.patient_id,
            PartRelation.deleted.is_(False),
            or_(PartRelation.source_id == part.id, PartRelation.target_id == part.id),
        )
    ):
        _remove_relation(actor, relation)
    marker = str(part.id)
    for entry in db.session.scalars(
        select(JournalEntry).where(
            JournalEntry.patient_id == part.patient_id,
            cast(JournalEntry.part_ids, Text).contains(marker),
        )
    ):
        if marker in (entry.part_ids or []):
            # the link goes, the words stay; not an edit, so the version stays too
            entry.part_ids = [p for p in entry.part_ids if p != marker]
            clock.stamp(entry)
    _history(actor, part.patient_id, "part", part.id, "removed", part.name)
    for key in PART_TEXT_FIELDS:  # delete means delete
        setattr(part, key, [] if key == "feelings" else None if key == "first_noticed_at" else "")
    part.role = PartRole.UNKNOWN
    part.deleted = True
    part.deleted_at = part.updated_at = utcnow()
    part.version += 1
    clock.stamp(part)
    db.session.flush()


def list_parts(actor: User) -> list[Part]:
    """My live parts."""
    query = access.own_rows(actor, Part).where(Part.deleted.is_(False))
    return list(db.session.scalars(query.order_by(Part.created_at, Part.id)))


def get_part(actor: User, part_id: uuid.UUID) -> Part:
    """One of my parts."""
    return _own(actor, Part, part_id, "part")


def create_part(actor: User, data: dict) -> Part:
    """Add a part to my map. A retried create (same id, same fields) returns the first."""
    part_id = data.pop("id", None)
    clock.lock(actor.id)
    if part_id is not None:
        existing = db.session.get(Part, part_id)
        if existing is not None:
            if existing.patient_id != actor.id:
                raise ApiError(409, "This id is already in use.")
            if not existing.deleted and not _changed_fields(existing, data):
                return existing
            raise conflict("A part with this id already exists.", current=serialize_part(existing))
    return _new_part(actor, part_id, data)


def update_part(actor: User, part_id: uuid.UUID, data: dict, base_version) -> Part:
    """Edit a part from the version I started with; stale is a 409."""
    clock.lock(actor.id)
    part = _own(actor, Part, part_id, "part")
    _check_version(part, base_version, serialize_part)
    _edit_part(actor, part, data)
    return part


def delete_part(actor: User, part_id: uuid.UUID, base_version) -> None:
    """Remove a part; its relations end and entries drop the link."""
    clock.lock(actor.id)
    part = _own(actor, Part, part_id, "part")
    _check_version(part, base_version, serialize_part)
    _remove_part(actor, part)


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
        return {"target_id": ["A part cannot be related to itself."]}
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
            missing[key] = ["No such part on your map."]
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
        return {"kind": ["These parts already have this relation."]}
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
    _history(
        actor,
        relation.patient_id,
        "relation",
        relation.id,
        "ended",
        _relation_label(actor, relation),
    )
    relation.note = ""
    relation.deleted = True
    relation.deleted_at = relation.updated_at = utcnow()
    relation.version += 1
    clock.stamp(relation)
    db.session.flush()


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
    return _own(actor, PartRelation, relation_id, "relation")


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
        raise ApiError(409, "This id is already in use.")
    problems = _relation_problems(actor, data)
    if problems:
        raise validation_error(problems)
    return _new_relation(actor, relation_id, data)


def update_relation(actor: User, relation_id: uuid.UUID, data: dict, base_version):
    """Edit a relation from the version I started with; stale is a 409."""
    clock.lock(actor.id)
    relation = _own(actor, PartRelation, relation_id, "relation")
    _check_version(relation, base_version, serialize_relation)
    problems = _relation_problems(actor, _merged_relation_fields(relation, data), relation.id)
    if problems:
        raise validation_error(problems)
    _edit_relation(actor, relation, data)
    return relation


def delete_relation(actor: User, relation_id: uuid.UUID, base_version) -> None:
    """End a relation."""
    clock.lock(actor.id)
    relation = _own(actor, PartRelation, relation_id, "relation")
    _check_version(relation, base_version, serialize_relation)
    _remove_relation(actor, relation)


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


def shared_map(therapist: User, patient_id: uuid.UUID) -> dict:
    """A linked patient's map, only while they share it (audited)."""
    patient = access.linked_patient(therapist, patient_id)
    settings = _map_settings(patient_id)
    if settings is None or not settings.shared:
        raise not_found("No shared parts map.")
    answer = get_map(patient)
    audit.record(therapist, "read", patient_id, "parts_map")
    return answer


# -- activity and history ----------------------------------------------------------------


def _local_date(entry: JournalEntry) -> date:
    return (entry.written_at + timedelta(minutes=entry.written_offset_minutes)).date()


def part_activity(actor: User, part_id: uuid.UUID) -> dict:
    """How often a part appears in my entries per week, and those entries."""
    part = _own(actor, Part, part_id, "part")
    marker = str(part.id)
    entries = [
        e
        for e in db.session.scalars(
            access.own_rows(actor, JournalEntry)
            .where(
                JournalEntry.deleted.is_(False), cast(JournalEntry.part_ids, Text).contains(marker)
            )
            .order_by(JournalEntry.written_at.desc())
        )
        if marker in (e.part_ids or [])
    ]
    weeks = Counter(_local_date(e) - timedelta(days=_local_date(e).weekday()) for e in entries)
    return {
        "part_id": part.id,
        "weeks": [{"week_start": w, "count": n} for w, n in sorted(weeks.items())],
        "entries": [
            {"id": e.id, "title": e.title, "written_at": written_at_local(e)} for e in entries
        ],
    }


_SENTENCES = {
    ("part", "added"): "added the part '{label}'",
    ("part", "changed"): "changed the part '{label}' ({fields})",
    ("part", "removed"): "removed the part '{label}'",
    ("relation", "added"): "added the relation '{label}'",
    ("relation", "changed"): "changed the relation '{label}' ({fields})",
    ("relation", "ended"): "relation '{label}' ended",
}


def changes_since(patient_id: uuid.UUID, since: datetime | None) -> list[dict]:
    """The map's history after `since`, oldest first, each change as a sentence."""
    query = select(PartChange).where(PartChange.patient_id == patient_id)
    if since is not None:
        query = query.where(PartChange.at > since)
    rows = db.session.scalars(query.order_by(PartChange.at, PartChange.id))
    return [
        {
            "at": c.at,
            "object_type": c.object_type,
            "object_id": c.object_id,
            "action": c.action,
            "fields_": list(c.fields or []),
            "text": _SENTENCES[(c.object_type, c.action)].format(
                label=c.label, fields=", ".join(f.replace("_", " ") for f in c.fields or [])
            ),
        }
        for c in rows
    ]


def list_changes(actor: User, since: datetime | None) -> list[dict]:
    """What changed on my map since a date."""
    return changes_since(actor.id, since)


# -- sync --------------------------------------------------------------------------------


def sync_upsert_part(actor, part_id, base_version, data, op_id, last_chance=True) -> dict:
    """Apply a pushed part. A stale text edit becomes a copy; layout is last-writer-wins."""
    try:
        fields = _part_fields.load(data)
    except ValidationError as exc:
        return result(REJECTED, PART, part_id, errors={"data": exc.messages})
    part = db.session.get(Part, part_id)
    if part is not None and part.patient_id != actor.id:
        return result(REJECTED, PART, part_id, errors={"id": ["This id cannot be used."]})
    if part is None:
        if "name" not in fields:
            return result(
                REJECTED,
                PART,
                part_id,
                errors={"data": {"name": ["Missing data for required field."]}},
            )
        part = _new_part(actor, part_id, fields)
        return result(APPLIED, PART, part.id, part.version)
    changed = _changed_fields(part, fields)
    if not part.deleted and (base_version == part.version or set(changed) <= set(LAYOUT_FIELDS)):
        # in step, or only moved on the map (last mover wins): applied. If the server
        # held a newer version, the protocol tells the device it is behind.
        if changed or base_version == part.version:
            _edit_part(actor, part, fields)
        return result(APPLIED, PART, part.id, part.version)
    if part.deleted and not set(fields) - set(LAYOUT_FIELDS) - {"conflict_of"}:
        # moved on the map after another device removed it: no words to keep
        return result(CONFLICT, PART, part.id, part.version)
    # Stale text (or an edit of a part removed meanwhile): the server's part stays, the
    # incoming words are kept whole in a copy beside it.
    merged = {k: getattr(part, k) for k in PART_TEXT_FIELDS + LAYOUT_FIELDS}
    merged.update(fields)
    merged.pop("conflict_of", None)  # the copy is this part's conflict copy, whatever came
    merged["name"] = merged["name"] or "Part"
    copy = _new_part(actor, uuid.uuid5(CONFLICT_NAMESPACE, str(op_id)), merged, conflict_of=part.id)
    return result(CONFLICT, PART, part.id, part.version, conflict_copy_id=str(copy.id))


def sync_delete_part(actor, part_id, base_version) -> dict:
    part = db.session.get(Part, part_id)
    if part is None:
        return result(APPLIED, PART, part_id, None)
    if part.patient_id != actor.id:
        return result(REJECTED, PART, part_id, errors={"id": ["This id cannot be used."]})
    if part.deleted:
        return result(APPLIED, PART, part.id, part.version)
    if base_version != part.version:  # stale: the newer words stay, and travel back
        return result(CONFLICT, PART, part.id, part.version)
    _remove_part(actor, part)
    return result(APPLIED, PART, part.id, part.version)


def sync_upsert_relation(actor, relation_id, base_version, data, op_id, last_chance=True):
    """Apply a pushed relation; one whose parts come later in the batch waits for them."""
    try:
        fields = _relation_fields.load(data)
    except ValidationError as exc:
        return result(REJECTED, RELATION, relation_id, errors={"data": exc.messages})
    relation = db.session.get(PartRelation, relation_id)
    if relation is not None and relation.patient_id != actor.id:
        return result(REJECTED, RELATION, relation_id, errors={"id": ["This id cannot be used."]})
    merged = _merged_relation_fields(relation, fields)
    missing = [k for k in ("source_id", "target_id", "kind") if k not in merged]
    if missing:
        return result(
            REJECTED,
            RELATION,
            relation_id,
            errors={"data": {k: ["Missing data for required field."] for k in missing}},
        )
    if not last_chance:
        known = set(
            db.session.scalars(
                select(Part.id).where(Part.id.in_({merged["source_id"], merged["target_id"]}))
            )
        )
        if {merged["source_id"], merged["target_id"]} - known:
            raise Deferred
    if relation is not None and (relation.deleted or base_version != relation.version):
        # Stale, or ended meanwhile (by another device, or with a part at one end): the
        # server's relation stays. A note that differs is kept whole, never cut or
        # dropped: a relation cannot have a copy (it would duplicate itself), so the
        # words go to my journal, naming the relation they were about.
        note = fields.get("note") or ""
        if note.strip() and note != relation.note:
            keep_words(
                actor,
                op_id,
                "Kept from another device: a note on your parts map",
                f"A note on '{_relation_label(actor, relation)}', written on another "
                f"device while this relation changed:\n\n{note}",
            )
        return result(CONFLICT, RELATION, relation.id, relation.version)
    problems = _relation_problems(actor, merged, relation.id if relation else None)
    if problems:
        return result(REJECTED, RELATION, relation_id, errors={"data": problems})
    if relation is None:
        relation = _new_relation(actor, relation_id, merged)
    else:
        _edit_relation(actor, relation, fields)
    return result(APPLIED, RELATION, relation.id, relation.version)


def sync_delete_relation(actor, relation_id, base_version) -> dict:
    relation = db.session.get(PartRelation, relation_id)
    if relation is None:
        return result(APPLIED, RELATION, relation_id, None)
    if relation.patient_id != actor.id:
        return result(REJECTED, RELATION, relation_id, errors={"id": ["This id cannot be used."]})
    if relation.deleted:
        return result(APPLIED, RELATION, relation.id, relation.version)
    if base_version != relation.version:
        return result(CONFLICT, RELATION, relation.id, relation.version)
    _remove_relation(actor, relation)
    return result(APPLIED, RELATION, relation.id, relation.version)


register(SyncedType(PART, Part, serialize_part, sync_upsert_part, sync_delete_part))
register(
    SyncedType(
        RELATION, PartRelation, serialize_relation, sync_upsert_relation, sync_delete_relation
    )
)
