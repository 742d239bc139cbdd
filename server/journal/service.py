"""Journal entries: write, edit, share, delete, and what a linked therapist may read.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from server import access, localtime, pagination
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, conflict, not_found, validation_error
from server.extensions import db
from server.journal.models import (
    EntryKind,
    EntryTag,
    JournalEntry,
    JournalPrompt,
    entry_tags_column,
    tag_indexes,
)
from server.journal.prompts import built_in_prompts

# re-exported: the sync protocol, the parts map and the routes still name them here
from server.journal.read import serialize, written_at_local  # noqa: F401
from server.journal.schemas import EntryFieldsSchema, EntrySchema
from server.parts.models import Part
from server.sync import clock
from server.sync.registry import (
    Deferred,
    Push,
    SyncedType,
    dumper,
    flush,
    register,
    tombstone,
)

TYPE = "journal_entry"
# Conflict copies get an id derived from the op, so a replayed op can never make two.
CONFLICT_NAMESPACE = uuid.UUID("5f0c7d1e-3b7a-4f3e-9a51-2c1d8e6b9a40")
EntryOut = EntrySchema()


# -- reading -----------------------------------------------------------------------------


def _own_entry(actor: User, entry_id: uuid.UUID, *, include_deleted: bool = False):
    query = access.own_rows(actor, JournalEntry).where(JournalEntry.id == entry_id)
    if not include_deleted:
        query = query.where(JournalEntry.deleted.is_(False))
    entry = db.session.scalar(query)
    if entry is None:
        raise not_found(_("No such journal entry."))
    return entry


def get_entry(actor: User, entry_id: uuid.UUID) -> JournalEntry:
    """One of my entries."""
    return _own_entry(actor, entry_id)


def _page(query, args: dict, patient_id: uuid.UUID) -> tuple[list[JournalEntry], str | None]:
    """One patient's entries, newest first, by (written_at, id), cursor-paginated."""
    if args.get("from_"):
        query = query.where(JournalEntry.written_at >= args["from_"])
    if args.get("to"):
        query = query.where(JournalEntry.written_at < args["to"])
    if args.get("kind"):
        query = query.where(JournalEntry.kind == args["kind"])
    if args.get("tag"):
        # tags are encrypted: the lookup is by blind index (exact match, as ever)
        tagged = select(EntryTag.entry_id).where(
            EntryTag.tag_hmac.in_(tag_indexes(patient_id, args["tag"]))
        )
        query = query.where(JournalEntry.id.in_(tagged))
    if args.get("shared") is not None:
        query = query.where(JournalEntry.shared.is_(args["shared"]))
    if args.get("cursor"):
        written, entry_id = pagination.decode(args["cursor"])
        query = query.where(tuple_(JournalEntry.written_at, JournalEntry.id) < (written, entry_id))
    limit = args.get("limit", 50)
    rows = list(
        db.session.scalars(
            query.options(selectinload(JournalEntry.tag_rows))
            .order_by(JournalEntry.written_at.desc(), JournalEntry.id.desc())
            .limit(limit + 1)
        )
    )
    next_cursor = (
        pagination.encode(rows[limit - 1].written_at, rows[limit - 1].id)
        if len(rows) > limit
        else None
    )
    return rows[:limit], next_cursor


def list_entries(actor: User, args: dict) -> tuple[list[JournalEntry], str | None]:
    """My entries, newest first."""
    query = access.own_rows(actor, JournalEntry).where(JournalEntry.deleted.is_(False))
    return _page(query, args, actor.id)


def list_shared_entries(scope: access.SharedScope, args: dict):
    """A linked patient's shared entries; every entry read is audited."""
    query = scope.select(JournalEntry)
    entries, next_cursor = _page(query, {**args, "shared": None}, scope.patient_id)
    scope.read(TYPE, [e.id for e in entries])
    return entries, next_cursor


def mark_read(scope: access.SharedScope, entry_id: uuid.UUID) -> JournalEntry:
    """Record that the therapist read a shared entry; the patient sees when."""
    entry = db.session.scalar(scope.select(JournalEntry).where(JournalEntry.id == entry_id))
    if entry is None:
        raise not_found(_("No such journal entry."))
    clock.lock(scope.patient_id)
    if entry.read_by_therapist_at is None:
        entry.read_by_therapist_at = utcnow()
        # a receipt is not an edit: it syncs to the patient's devices, version unchanged
        clock.stamp(entry)
    scope.read(TYPE, [entry.id])
    db.session.flush()
    return entry


# -- writing -----------------------------------------------------------------------------


def _apply_fields(entry: JournalEntry, data: dict) -> None:
    for field, value in _normalised(data).items():
        setattr(entry, field, value)  # tags and parts keep their order, drop repeats
    if "written_at" in data:
        entry.written_at, entry.written_offset_minutes = localtime.split(data["written_at"])


def _live_part_ids(actor: User, part_ids) -> set[uuid.UUID]:
    """Which of these ids are my own parts, not deleted."""
    if not part_ids:
        return set()
    return set(
        db.session.scalars(
            select(Part.id).where(
                Part.patient_id == actor.id, Part.deleted.is_(False), Part.id.in_(set(part_ids))
            )
        )
    )


def _check_part_ids(actor: User, data: dict) -> None:
    unknown = set(data.get("part_ids") or []) - _live_part_ids(actor, data.get("part_ids"))
    if unknown:
        raise validation_error({"part_ids": [_("Link only your own parts that still exist.")]})


def _audit_share(actor: User, entry: JournalEntry, was_shared: bool) -> None:
    """Sharing and unsharing are recorded, like every change to who may see what."""
    if entry.shared != was_shared:
        action = "share" if entry.shared else "unshare"
        audit.record(actor, action, entry.patient_id, TYPE, [entry.id])


def _new_entry(actor: User, entry_id: uuid.UUID | None, data: dict, **extra) -> JournalEntry:
    now = utcnow()
    entry = JournalEntry(
        id=entry_id or uuid.uuid4(),
        patient_id=actor.id,
        kind=EntryKind.FREE,
        written_at=now,
        written_offset_minutes=0,
        created_at=now,
        updated_at=now,
        emotions=[],
        part_ids=[],
        # set here, not left to the column default: until the INSERT, an unset `shared`
        # reads None, and None != False audited every new private entry as an "unshare"
        shared=False,
        for_session=False,
        version=1,
        **extra,
    )
    entry.tags = []
    _apply_fields(entry, data)
    db.session.add(entry)
    clock.stamp(entry)
    _audit_share(actor, entry, False)
    flush()
    return entry


def _normalised(data: dict) -> dict:
    out = {
        k: data[k]
        for k in (
            "title",
            "body",
            "mood",
            "emotions",
            "kind",
            "shared",
            "for_session",
            "prompt_id",
            "session_id",
            "conflict_of",
        )
        if k in data
    }
    if "tags" in data:
        out["tags"] = list(dict.fromkeys(data["tags"]))
    if "part_ids" in data:
        out["part_ids"] = [str(p) for p in dict.fromkeys(data["part_ids"])]
    return out


def _same_content(entry: JournalEntry, data: dict) -> bool:
    """Would applying `data` change nothing?"""
    return all(getattr(entry, k) == v for k, v in _normalised(data).items())


def create_entry(actor: User, data: dict) -> tuple[JournalEntry, bool]:
    """Write a new entry. A retried create (same id, same text) returns the first one.

    A client-made id is almost always new, so it is written without looking first; the
    database's key refuses it when it is not, and then the transaction starts again
    (releasing the change lock), looks, and answers as a retry or a conflict."""
    entry_id = data.pop("id", None)
    if entry_id is not None:
        try:
            return _create(actor, entry_id, data), True  # its INSERT is flushed in there
        except IntegrityError:
            db.session.rollback()
    clock.lock(actor.id)
    _check_part_ids(actor, data)
    if entry_id is not None:
        existing = db.session.get(JournalEntry, entry_id)
        if existing is not None:
            if existing.patient_id != actor.id:
                raise ApiError(409, _("This id is already in use."))
            if not existing.deleted and _same_content(existing, data):
                return existing, False
            raise conflict(_("An entry with this id already exists."), current=serialize(existing))
    return _new_entry(actor, entry_id, data), True


def _create(actor: User, entry_id: uuid.UUID, data: dict) -> JournalEntry:
    clock.lock(actor.id)
    _check_part_ids(actor, data)
    return _new_entry(actor, entry_id, data)


def _check_version(entry: JournalEntry, base_version: int | None) -> None:
    check_version(
        entry.version,
        base_version,
        lambda: EntryOut.dump(serialize(entry)),
        _("This entry changed on another device. Here is the current copy."),
    )


def update_entry(
    actor: User, entry_id: uuid.UUID, data: dict, base_version: int | None
) -> JournalEntry:
    """Edit one of my entries from the version I started with; stale is a 409."""
    clock.lock(actor.id)
    entry = _own_entry(actor, entry_id)
    _check_version(entry, base_version)
    _check_part_ids(actor, data)
    _edit_entry(actor, entry, data)
    db.session.flush()
    return entry


def _edit_entry(actor: User, entry: JournalEntry, data: dict) -> None:
    """An edit, from the API or a device in step: a new version, a new place in the feed."""
    was_shared = entry.shared
    _apply_fields(entry, data)
    _audit_share(actor, entry, was_shared)
    entry.version += 1
    entry.updated_at = utcnow()
    clock.stamp(entry)


def _forget_words(_actor: User, entry: JournalEntry) -> None:
    """Delete means delete: the words go (the protocol leaves the tombstone)."""
    entry.title = ""
    entry.body = ""
    entry.mood = None
    entry.emotions = []
    entry.part_ids = []
    entry.tags = []
    entry.shared = False
    entry.for_session = False


def delete_entry(actor: User, entry_id: uuid.UUID, base_version: int | None) -> None:
    """Delete one of my entries, from the version I last saw."""
    clock.lock(actor.id)
    entry = _own_entry(actor, entry_id)
    _check_version(entry, base_version)
    tombstone(ENTRIES, actor, entry)
    db.session.flush()


# -- sync --------------------------------------------------------------------------------


def _linkable(push: Push) -> dict:
    """The pushed fields, linking only my parts that exist: parts not here yet may come
    later in the batch; at its end, a part deleted meanwhile drops out of the link (the
    words stay)."""
    fields = push.fields
    if fields.get("part_ids"):
        live = _live_part_ids(push.actor, fields["part_ids"])
        if len(live) < len(set(fields["part_ids"])):
            if not push.last_chance:
                raise Deferred
            fields = {**fields, "part_ids": [p for p in fields["part_ids"] if p in live]}
    return fields


def _pushed_entry(push: Push) -> dict:
    """An entry written on a device."""
    return push.applied(_new_entry(push.actor, push.id, _linkable(push)))


def _merge_entry(push: Push, entry: JournalEntry) -> dict:
    """A pushed edit. A stale one never overwrites text: it becomes a copy."""
    fields = _linkable(push)
    if push.in_step(entry):
        _edit_entry(push.actor, entry, fields)
        flush()
        return push.applied(entry)
    if not entry.deleted and _same_content(entry, fields):
        # both devices made the same change: nothing to keep twice
        return push.applied(entry)
    # Stale (or edited after another device deleted it): keep the server's copy and
    # store the incoming text beside it, for the patient to resolve.
    merged = {f: getattr(entry, f) for f in ("title", "body", "mood", "emotions", "kind")}
    merged.update(
        tags=entry.tags,
        part_ids=list(entry.part_ids or []),
        prompt_id=entry.prompt_id,
        session_id=entry.session_id,
        shared=False,
    )
    merged.update(fields)
    merged.pop("conflict_of", None)  # the copy is this entry's conflict copy, whatever came
    if not merged.get("body"):
        merged["body"] = "(empty)"
    copy_id = uuid.uuid5(CONFLICT_NAMESPACE, str(push.op_id))
    written = {"written_at": fields["written_at"]} if "written_at" in fields else {}
    copy = _new_entry(push.actor, copy_id, {**merged, **written}, conflict_of=entry.id)
    if not written:
        copy.written_at = entry.written_at
        copy.written_offset_minutes = entry.written_offset_minutes
    return push.conflict(entry, conflict_copy_id=str(copy.id))


def keep_words(actor: User, op_id, title: str, body: str) -> JournalEntry:
    """Words a synced change carried that no object of their own type can hold any more
    (a note on a relation another device ended meanwhile): kept in full as a private
    entry of mine, so nothing I wrote is lost. Its id comes from the op: a replay cannot
    make two."""
    entry_id = uuid.uuid5(CONFLICT_NAMESPACE, f"kept:{op_id}")
    existing = db.session.get(JournalEntry, entry_id)
    if existing is not None:
        return existing
    return _new_entry(actor, entry_id, {"title": title[:200], "body": body})


_dump_entry = dumper(EntryOut)


def sync_serialize(entry) -> dict:
    """An entry (or a sync page's row of one) as the journal API writes it: the same
    fields (`serialize`), written by the same schema."""
    return _dump_entry(serialize(entry))


def _page_select():
    """A sync page's entries as rows, their tags aggregated into each row."""
    return select(*JournalEntry.__table__.c, entry_tags_column())


# -- prompts -----------------------------------------------------------------------------


def list_prompts(actor: User, context: str | None) -> list[dict]:
    """Built-in prompts and the ones my therapists wrote for me."""
    prompts = built_in_prompts(context)
    query = access.own_rows(actor, JournalPrompt).order_by(JournalPrompt.created_at)
    if context:
        query = query.where(JournalPrompt.context == context)
    prompts += [
        {"id": str(p.id), "context": p.context, "text": p.text, "source": "therapist"}
        for p in db.session.scalars(query)
    ]
    return prompts


def add_prompt(scope: access.SharedScope, data: dict) -> dict:
    """A therapist writes a prompt for one linked patient."""
    # its id now, not at the flush: the audit event names it
    prompt = JournalPrompt(
        id=uuid.uuid4(), patient_id=scope.patient_id, author_id=scope.therapist.id, **data
    )
    db.session.add(prompt)
    scope.wrote("write", "journal_prompt", [prompt.id])
    db.session.flush()
    return {
        "id": str(prompt.id),
        "context": prompt.context,
        "text": prompt.text,
        "source": "therapist",
    }


ENTRIES = register(
    SyncedType(
        name=TYPE,
        model=JournalEntry,
        serialize=sync_serialize,
        load=EntryFieldsSchema().load,
        create=_pushed_entry,
        merge=_merge_entry,
        required=("body",),
        on_delete=_forget_words,
        load_options=(selectinload(JournalEntry.tag_rows),),
        page_select=_page_select,
    )
)
