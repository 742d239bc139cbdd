"""The relapse-prevention plan, its revisions, and the crisis card.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import json
import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from server import access, events
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, not_found
from server.extensions import db
from server.plans.models import Plan, PlanRevision
from server.plans.read import (  # crisis_card: re-exported for the plans routes
    SETTINGS,
    crisis_card,  # noqa: F401
    diff_contents,
    plan_of,
    view,
)
from server.plans.schemas import SECTIONS, PlanFieldsSchema, PlanSchema
from server.sync import clock
from server.sync.registry import CONFLICT, Push, SyncedType, register, result

TYPE = "plan"
_fields = PlanFieldsSchema()


def _plan(patient_id: uuid.UUID) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.patient_id == patient_id))


def _jsonable(data: dict) -> dict:
    """Sections as stored: plain JSON (UUIDs as strings), phones kept as typed."""
    return json.loads(json.dumps({s: data[s] for s in SECTIONS if s in data}, default=str))


def _settings_of(plan: Plan | None) -> dict:
    if plan is None:
        return {
            "region": None,
            "review_every_days": None,
            "last_reviewed_at": None,
            "shared": False,
        }
    return {
        "region": plan.region,
        "review_every_days": plan.review_every_days,
        "last_reviewed_at": plan.last_reviewed_at.isoformat() if plan.last_reviewed_at else None,
        "shared": plan.shared,
    }


def _merged(plan: Plan | None, data: dict) -> tuple[dict, dict]:
    """Sections and settings after applying `data` (missing keys keep their value)."""
    content = {s: [] for s in SECTIONS} if plan is None else dict(plan.content)
    content.update(_jsonable(data))
    settings = _settings_of(plan)
    for key in SETTINGS:
        if key in data:
            value = data[key]
            settings[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return content, settings


def _next_number(patient_id: uuid.UUID) -> int:
    current = db.session.scalar(
        select(func.max(PlanRevision.number)).where(PlanRevision.patient_id == patient_id)
    )
    return (current or 0) + 1


def _save(author: User, patient: User, plan: Plan | None, data: dict, summary: str | None):
    content, settings = _merged(plan, data)
    if plan is None:
        plan = Plan(id=patient.id, patient_id=patient.id, content={}, version=0, shared=False)
        db.session.add(plan)
    auto = diff_contents(plan.content or {}, content, _settings_of(plan), settings)["summary"]
    db.session.add(
        PlanRevision(
            patient_id=patient.id,
            number=_next_number(patient.id),
            content=content,
            settings=settings,
            author_id=author.id,
            author_role=author.role.value,
            author_name=author.display_name,
            summary=(summary or auto)[:500],
        )
    )
    if settings["shared"] != plan.shared and plan.shared is not None:
        audit.record(
            author, "share" if settings["shared"] else "unshare", patient.id, TYPE, [patient.id]
        )
    plan.content = content
    for key in ("region", "review_every_days", "shared"):
        setattr(plan, key, settings[key])
    if "last_reviewed_at" in data:
        plan.last_reviewed_at = data["last_reviewed_at"]
    plan.version += 1
    plan.updated_at = utcnow()
    plan.updated_by_role = author.role.value
    clock.stamp(plan)
    # a new review cadence moves the review reminder
    events.send(events.schedule_inputs_changed, patient.id)
    db.session.flush()
    return plan


def get_plan(actor: User) -> dict:
    """My plan (an empty one with my region's crisis lines before I first save)."""
    return view(_plan(actor.id), actor)


def update_plan(actor: User, data: dict, base_version: int | None) -> dict:
    """Save my plan from the version I started with; stale is a 409 with the current plan."""
    summary = data.pop("summary", None)
    clock.lock(actor.id)
    plan = _plan(actor.id)
    check_version(
        plan.version if plan else 0,
        base_version,
        lambda: _dump(view(plan, actor)),
        _("Your plan changed elsewhere. Here is the current plan."),
    )
    return view(_save(actor, actor, plan, data, summary), actor)


def _revisions(patient_id: uuid.UUID):
    return select(PlanRevision).where(PlanRevision.patient_id == patient_id)


def list_revisions(actor: User) -> list[PlanRevision]:
    """Every revision of my plan, newest first, with who made it."""
    return list(db.session.scalars(_revisions(actor.id).order_by(PlanRevision.number.desc())))


def get_revision(actor: User, number: int) -> dict:
    """One revision of my plan, whole."""
    revision = db.session.scalar(_revisions(actor.id).where(PlanRevision.number == number))
    if revision is None:
        raise not_found(_("No such revision."))
    return {
        **revision.content,
        "number": revision.number,
        "author_role": revision.author_role,
        "author_name": revision.author_name,
        "summary": revision.summary,
        "conflict": revision.conflict,
        "created_at": revision.created_at,
        "settings": revision.settings,
    }


def diff_revisions(actor: User, first: int, second: int) -> dict:
    """What changed from revision `first` to revision `second`."""
    old, new = get_revision(actor, first), get_revision(actor, second)
    return {
        "from_": first,
        "to": second,
        **diff_contents(old, new, old["settings"], new["settings"]),
    }


def _shared_plan(scope: access.SharedScope) -> Plan:
    plan = plan_of(scope)
    if plan is None:
        raise not_found(_("No shared plan."))
    return plan


def therapist_get_plan(scope: access.SharedScope) -> dict:
    """A linked patient's plan, while they share it (audited)."""
    plan = _shared_plan(scope)
    scope.read(TYPE, [plan.id])
    return view(plan, scope.patient)


def therapist_update_plan(therapist: User, patient_id: uuid.UUID, data: dict, base_version):
    """Revise a linked patient's shared plan; the revision names the therapist."""
    summary = data.pop("summary", None)
    if "shared" in data:
        raise ApiError(
            422,
            _("Only the patient decides whether the plan is shared."),
            errors={"json": {"shared": [_("Only the patient can change this.")]}},
        )
    scope = access.shared_scope(therapist, patient_id)  # before the lock: no clock for strangers
    clock.lock(patient_id)
    patient, plan = scope.patient, _shared_plan(scope)
    check_version(
        plan.version,
        base_version,
        lambda: _dump(view(plan, patient)),
        _("The plan changed meanwhile. Here is the current plan."),
    )
    _save(therapist, patient, plan, data, summary)
    audit.record(therapist, "write", patient_id, TYPE, [plan.id])
    return view(plan, patient)


# -- sync --------------------------------------------------------------------------------


def _dump(plan_view: dict) -> dict:
    return PlanSchema().dump(plan_view)


def serialize(plan: Plan) -> dict:
    return _dump(view(plan, db.session.get(User, plan.patient_id)))


def _pushed_plan(push: Push, plan: Plan | None = None) -> dict:
    """A plan saved on a device (its first, or over the one here). A stale one is kept
    whole as a conflict revision, never lost and never applied over the newer plan."""
    actor = push.actor
    current = plan.version if plan else 0
    if (push.base_version or 0) == current:  # a device with no plan yet sends no version
        return push.applied(_save(actor, actor, plan, push.fields, None))
    content, settings = _merged(plan, push.fields)
    number = _next_number(actor.id)
    db.session.add(
        PlanRevision(
            patient_id=actor.id,
            number=number,
            content=content,
            settings=settings,
            author_id=actor.id,
            author_role=actor.role.value,
            author_name=actor.display_name,
            summary="Edited on another device at the same time: compare and merge.",
            conflict=True,
        )
    )
    db.session.flush()
    return result(CONFLICT, TYPE, push.id, current, conflict_revision=number)


register(
    SyncedType(
        TYPE,
        Plan,
        serialize,
        load=_fields.load,
        create=_pushed_plan,
        merge=_pushed_plan,
        undeletable=_l("A plan cannot be deleted."),
        only_id=lambda actor: actor.id,  # a plan's id is its patient's
    )
)
