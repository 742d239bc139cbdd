"""Measurement plans and homework: a therapist sets them, the patient answers them.

A therapist sets, edits and removes what they assign a linked patient. The patient
answers homework (done, with the journal entry that answered it; skipped, with a reason;
snoozed) and pauses a measurement plan, from the REST routes or from a device's sync
push; everything else of an assignment is the therapist's.

Whatever moves a reminder (a plan set, edited, paused or removed; homework due, done,
skipped or snoozed) sends `schedule_inputs_changed`, so reminders looks again.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError

from server import access, events, localtime
from server.assignments import read
from server.assignments.models import (
    Assignment,
    AssignmentKind,
    HomeworkStatus,
    HomeworkType,
)
from server.assignments.schemas import AssignmentPushSchema, AssignmentSchema
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, not_found, validation_error
from server.extensions import db
from server.journal.models import JournalEntry
from server.sessions.models import TreatmentSession
from server.sessions.read import live as live_sessions
from server.sync import clock
from server.sync.registry import Deferred, Push, SyncedType, dumper, lookup, register, tombstone

TYPE = "assignment"
MEASURE_FIELDS = ("instrument", "schedule", "window_hours")
DUE_FIELDS = ("due_at", "due_session_id", "due_days", "due_time")
HOMEWORK_FIELDS = ("homework_type", "text", *DUE_FIELDS)
NEEDS_TEXT = (HomeworkType.PROMPT, HomeworkType.PARTS_EXERCISE)
# what a patient answers of each kind; the rest of an assignment is the therapist's
PATIENT_FIELDS = {
    AssignmentKind.HOMEWORK: ("status", "done_at", "entry_id", "skip_reason", "snoozed_until"),
    AssignmentKind.MEASURE: ("paused_at",),
}
THERAPISTS_TO_SET = _l("Set by your therapist.")
# a stale status meets the server's: done wins over skipped, skipped over open
RANK = {HomeworkStatus.OPEN: 0, HomeworkStatus.SKIPPED: 1, HomeworkStatus.DONE: 2}
NOT_YOUR_ENTRY = _l("No such entry of yours.")
# whole sentences, not a word put into one: a translation agrees with what it names
NOT_PART_OF = {
    AssignmentKind.MEASURE: _l("Not part of a measurement plan."),
    AssignmentKind.HOMEWORK: _l("Not part of homework."),
}
ONLY_FOR = {
    AssignmentKind.MEASURE: _l("This works for measurement plans only."),
    AssignmentKind.HOMEWORK: _l("This works for homework only."),
}

_dump = dumper(AssignmentSchema())


def _view(item: Assignment) -> dict:
    return read.views([item])[0]


def serialize(item: Assignment) -> dict:
    return _dump(_view(item))


def _changed(item: Assignment) -> None:
    """A new version every device pulls."""
    item.version += 1
    item.updated_at = utcnow()
    clock.stamp(item)


def _reminders_move(patient_id: uuid.UUID) -> None:
    events.send(events.schedule_inputs_changed, patient_id)


# -- what a therapist sets ---------------------------------------------------------------


def _due_fields(scope, item: Assignment, data: dict, errors: dict) -> dict:
    """The due fields after `data`: an instant (`due_at`), or a session and days from it
    (`due_session_id`, `due_days`, `due_time`, with `due_at` worked out); never both.
    Untouched, they stay as they are (a relative date follows its session on its own)."""
    given = {key: data[key] for key in DUE_FIELDS if key in data}
    if not given and item.due_at is not None:
        return {}
    if given.get("due_at") is not None:
        if given.get("due_session_id") is not None:
            errors["due_at"] = [_("Either a due time or a session to count from, not both.")]
            return {}
        due_at, offset = localtime.split(given["due_at"])
        return dict(
            due_at=due_at,
            due_offset_minutes=offset,
            due_session_id=None,
            due_days=None,
            due_time=None,
        )
    merged = {key: given.get(key, getattr(item, key)) for key in DUE_FIELDS[1:]}
    if merged["due_session_id"] is None:
        if merged["due_days"] is not None or merged["due_time"] is not None:
            errors["due_session_id"] = [_("The session the days count from.")]
        else:
            errors["due_at"] = [_("A due time, or a session and the days from it.")]
        return {}
    for key in ("due_days", "due_time"):
        if merged[key] is None:
            errors[key] = [_("Needed with a session to count from.")]
    session = db.session.scalar(
        live_sessions(scope).where(TreatmentSession.id == merged["due_session_id"])
    )
    if session is None:
        errors["due_session_id"] = [_("No such session.")]
    if errors:
        return {}
    due_at, offset = read.relative_due(
        session.starts_at, merged["due_days"], merged["due_time"], scope.patient.timezone
    )
    return {**merged, "due_at": due_at, "due_offset_minutes": offset}


def _apply(scope, item: Assignment, data: dict) -> None:
    """Check what a therapist set against the assignment's kind, then set it (422 with
    every problem at once, nothing set)."""
    measure = item.kind is AssignmentKind.MEASURE
    own, other = (MEASURE_FIELDS, HOMEWORK_FIELDS) if measure else (HOMEWORK_FIELDS, MEASURE_FIELDS)
    errors: dict = {key: [NOT_PART_OF[item.kind]] for key in other if key in data}
    values = {key: data[key] for key in own if key in data and key not in DUE_FIELDS}
    if measure:
        for key in MEASURE_FIELDS:
            if values.get(key, getattr(item, key)) is None:
                errors[key] = [_("Missing data for required field.")]
    else:
        kind = values.get("homework_type", item.homework_type)
        if kind is None:
            errors["homework_type"] = [_("Missing data for required field.")]
        text = values.get("text", item.text) or ""
        if kind in NEEDS_TEXT and not text.strip():
            errors["text"] = [_("Say what to do: this kind of homework needs words.")]
        if "text" in values:
            values["text"] = values["text"].strip()
        values.update(_due_fields(scope, item, data, errors))
    if errors:
        raise validation_error(errors)
    for key, value in values.items():
        setattr(item, key, value)


def list_for_therapist(scope: access.SharedScope) -> list[dict]:
    """A linked patient's assignments, oldest first (audited)."""
    items = list(db.session.scalars(read.live(scope).order_by(Assignment.created_at)))
    scope.read(TYPE, [item.id for item in items])
    return read.views(items)


def create_assignment(therapist: User, patient_id: uuid.UUID, data: dict) -> dict:
    """Set a measurement plan or homework for a linked patient."""
    scope = access.shared_scope(therapist, patient_id)  # before the lock: no clock for strangers
    assignment_id = data.pop("id", None)
    kind = data.pop("kind")
    clock.lock(patient_id)
    if assignment_id is not None and db.session.get(Assignment, assignment_id) is not None:
        raise ApiError(409, _("This id is already in use."))
    now = utcnow()
    item = Assignment(
        id=assignment_id or uuid.uuid4(),
        patient_id=patient_id,
        therapist_id=therapist.id,
        kind=kind,
        text="",
        skip_reason="",
        due_offset_minutes=0,
        status=HomeworkStatus.OPEN if kind is AssignmentKind.HOMEWORK else None,
        version=1,
        deleted=False,
        created_at=now,
        updated_at=now,
    )
    _apply(scope, item, data)
    db.session.add(item)
    clock.stamp(item)
    audit.record(therapist, "write", patient_id, TYPE, [item.id])
    _reminders_move(patient_id)
    db.session.flush()
    return _view(item)


def _therapists(scope: access.SharedScope, assignment_id) -> Assignment:
    item = db.session.scalar(read.live(scope).where(Assignment.id == assignment_id))
    if item is None:
        raise not_found(_("No such assignment."))
    return item


def update_assignment(therapist: User, patient_id, assignment_id, data: dict, base_version):
    """Change what I set, from the version I started with."""
    scope = access.shared_scope(therapist, patient_id)
    clock.lock(patient_id)
    item = _therapists(scope, assignment_id)
    check_version(
        item.version,
        base_version,
        lambda: serialize(item),
        _("This assignment changed meanwhile."),
    )
    _apply(scope, item, data)
    _changed(item)
    audit.record(therapist, "write", patient_id, TYPE, [item.id])
    _reminders_move(patient_id)
    db.session.flush()
    return _view(item)


def delete_assignment(therapist: User, patient_id, assignment_id) -> None:
    """Take an assignment back: a tombstone, which the patient's devices pull."""
    scope = access.shared_scope(therapist, patient_id)
    clock.lock(patient_id)
    item = _therapists(scope, assignment_id)
    item.updated_at = utcnow()
    tombstone(SYNCED, therapist, item)
    audit.record(therapist, "delete", patient_id, TYPE, [item.id])
    _reminders_move(patient_id)
    db.session.flush()


# -- what the patient answers ------------------------------------------------------------


def _refused_for_kind(item: Assignment, fields: dict) -> dict:
    allowed = PATIENT_FIELDS[item.kind]
    return {key: [NOT_PART_OF[item.kind]] for key in fields if key not in allowed}


def _both(kept: str, new: str) -> str:
    """Two reasons for one skip: both kept, the server's first."""
    kept, new = (kept or "").strip(), (new or "").strip()
    if not kept:
        return new
    if not new or new in kept:  # nothing new to say: the kept reasons stay whole
        return kept
    return f"{kept}\n\n{new}"


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((x for x in (a, b) if x is not None), default=None)


def _status(item: Assignment, fields: dict, in_step: bool, now: datetime) -> bool:
    """Apply a pushed status; False when the server keeps a stronger one (a stale push:
    done wins over skipped, skipped over open)."""
    status = fields["status"]
    if not in_step and RANK[status] < RANK[item.status]:
        return False
    if status is HomeworkStatus.DONE:
        done_at = min(fields.get("done_at") or now, now)  # never done in the future
        entry_id = fields.get("entry_id")
        if in_step or item.status is not HomeworkStatus.DONE:
            item.done_at, item.entry_id = done_at, entry_id
        else:  # two devices said done: the earlier time, and an entry if either named one
            item.done_at = min(item.done_at or done_at, done_at)
            item.entry_id = item.entry_id or entry_id
    else:
        item.done_at = item.entry_id = None
    item.status = status
    if status is not HomeworkStatus.OPEN:
        item.snoozed_until = None
    return True


def _answer(item: Assignment, fields: dict, in_step: bool) -> bool:
    """Apply what the patient answered. In step (made on the server's copy) it applies
    as sent; stale, it merges: the stronger status stays, a skip's reason is never lost,
    the later snooze holds. Whether all of it applied."""
    now = utcnow()
    applied = True
    if "status" in fields:
        applied = _status(item, fields, in_step, now)
    elif "entry_id" in fields and item.status is HomeworkStatus.DONE:
        if in_step or item.entry_id is None:
            item.entry_id = fields["entry_id"]
    if "skip_reason" in fields:
        reason = fields["skip_reason"].strip()
        item.skip_reason = reason if in_step else _both(item.skip_reason, reason)
    if "snoozed_until" in fields:
        until = fields["snoozed_until"]
        item.snoozed_until = until if in_step else _later(item.snoozed_until, until)
    if "paused_at" in fields:
        # the latest choice holds, on any device; a pause keeps when it began
        paused = fields["paused_at"]
        item.paused_at = (item.paused_at or min(paused, now)) if paused else None
    return applied


def _mine(patient: User, assignment_id, kind: AssignmentKind) -> Assignment:
    item = db.session.scalar(
        read.live(access.own_scope(patient)).where(Assignment.id == assignment_id)
    )
    if item is None:
        raise not_found(_("No such assignment."))
    if item.kind is not kind:
        raise validation_error({"id": [ONLY_FOR[kind]]})
    return item


def _own_entry(patient: User, entry_id) -> JournalEntry | None:
    entry = lookup(JournalEntry, entry_id)
    return entry if entry is not None and entry.patient_id == patient.id else None


def _answered(patient: User, assignment_id, kind, fields: dict) -> dict:
    clock.lock(patient.id)
    item = _mine(patient, assignment_id, kind)
    _answer(item, fields, in_step=True)
    _changed(item)
    _reminders_move(patient.id)
    db.session.flush()
    return _view(item)


def my_assignments(patient: User) -> list[dict]:
    """My measurement plans and homework, who set each, oldest first."""
    scope = access.own_scope(patient)
    return read.views(db.session.scalars(read.live(scope).order_by(Assignment.created_at)).all())


def mark_done(patient: User, assignment_id, entry_id) -> dict:
    """I did this homework (with the journal entry that answered it, if any)."""
    if entry_id is not None and _own_entry(patient, entry_id) is None:
        raise validation_error({"entry_id": [NOT_YOUR_ENTRY]})
    fields = {"status": HomeworkStatus.DONE, "entry_id": entry_id}
    return _answered(patient, assignment_id, AssignmentKind.HOMEWORK, fields)


def skip(patient: User, assignment_id, reason: str) -> dict:
    """I am not doing this homework, and (if I say) why; an earlier reason stays."""
    fields = {"status": HomeworkStatus.SKIPPED}
    if reason.strip():
        fields["skip_reason"] = reason
    return _answered(patient, assignment_id, AssignmentKind.HOMEWORK, fields)


def snooze(patient: User, assignment_id, until: datetime) -> dict:
    """Remind me of this homework later."""
    if until <= utcnow():
        raise validation_error({"until": [_("A time still to come.")]})
    fields = {"snoozed_until": until}
    return _answered(patient, assignment_id, AssignmentKind.HOMEWORK, fields)


def pause(patient: User, assignment_id, paused: bool) -> dict:
    """Pause a measurement plan (nothing is asked while it is paused), or resume it."""
    fields = {"paused_at": utcnow() if paused else None}
    return _answered(patient, assignment_id, AssignmentKind.MEASURE, fields)


# -- sync --------------------------------------------------------------------------------

_push_fields = AssignmentPushSchema()
_ALL_PATIENT_FIELDS = {key for keys in PATIENT_FIELDS.values() for key in keys}


def _answers_of(item: Assignment) -> tuple:
    return tuple(getattr(item, key) for key in sorted(_ALL_PATIENT_FIELDS))


def _load(data: dict) -> dict:
    """What a device may write: the patient's answer; the therapist's fields are refused
    by name."""
    if isinstance(data, dict):
        theirs = {key: [THERAPISTS_TO_SET] for key in data if key not in _ALL_PATIENT_FIELDS}
        if theirs:
            raise ValidationError(theirs)
    return _push_fields.load(data)


def _pushed(push: Push, item: Assignment) -> dict:
    """A device's answer to an assignment (or its pause). A stale one merges (see
    `_answer`); one for an assignment the therapist took back keeps the tombstone."""
    if item.deleted:
        return push.conflict(item)
    refused = _refused_for_kind(item, push.fields)
    if refused:
        return push.rejected({"data": refused})
    entry_id = push.fields.get("entry_id")
    if entry_id is not None and _own_entry(push.actor, entry_id) is None:
        if lookup(JournalEntry, entry_id) is None and not push.last_chance:
            raise Deferred  # the entry may come later in this batch
        return push.rejected({"data": {"entry_id": [NOT_YOUR_ENTRY]}})
    before = _answers_of(item)
    applied = _answer(item, push.fields, push.in_step(item))
    if _answers_of(item) != before:
        _changed(item)
        _reminders_move(item.patient_id)
    if not applied:
        return push.conflict(item)
    return push.applied(item)


def _refuse_new(push: Push) -> dict:
    return push.rejected({"id": [THERAPISTS_TO_SET]})


SYNCED = register(
    SyncedType(
        TYPE,
        Assignment,
        serialize,
        load=_load,
        create=_refuse_new,
        merge=_pushed,
        undeletable=_l("Your therapist takes assignments back; you can skip or pause them."),
        serialize_page=lambda rows: [_dump(view) for view in read.views(rows)],
    )
)
