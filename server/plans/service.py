"""The relapse-prevention plan, its revisions, and the crisis card.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import timedelta

from marshmallow import ValidationError
from sqlalchemy import func, select

from config.crisis_lines import (
    EMERGENCY_WORDS,
    FALLBACK_EMERGENCY_WORDS,
    REGIONS,
    region_from_locale,
)
from server import access
from server.audit import service as audit
from server.auth.models import User
from server.db import utcnow
from server.errors import ApiError, check_version, not_found
from server.extensions import db
from server.plans.models import Plan, PlanRevision
from server.plans.schemas import CONTACT_SECTIONS, SECTIONS, PlanFieldsSchema, PlanSchema
from server.reminders import service as reminders
from server.sync import clock
from server.sync.registry import APPLIED, CONFLICT, REJECTED, SyncedType, register, result

TYPE = "plan"
# the same words as the app's care-words.js: one story of what the care team sees
NOT_MONITORED = (
    "Between is not monitored in real time. A safety answer alerts your care team at "
    "once, but nobody watches in real time."
)
SETTINGS = ("region", "review_every_days", "last_reviewed_at", "shared")
_fields = PlanFieldsSchema()


def _plan(patient_id: uuid.UUID) -> Plan | None:
    return db.session.scalar(select(Plan).where(Plan.patient_id == patient_id))


def _region(plan: Plan | None, patient: User) -> str | None:
    return (plan.region if plan else None) or region_from_locale(patient.locale)


def default_crisis_lines(region: str | None) -> list[dict]:
    return [dict(line) for line in REGIONS.get(region or "", {}).get("lines", [])]


def tel(phone: str | None) -> str | None:
    """A number as a person typed it, made fit for a tel: or sms: link."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits


def view(plan: Plan | None, patient: User) -> dict:
    """The plan as the API shows it; before the first save, an empty plan with the
    region's crisis lines filled in."""
    region = _region(plan, patient)
    if plan is None:
        content = {s: [] for s in SECTIONS}
        content["crisis_lines"] = default_crisis_lines(region)
        return {
            "id": patient.id,
            **content,
            "region": region,
            "review_every_days": None,
            "last_reviewed_at": None,
            "review_due": False,
            "review_due_at": None,
            "shared": False,
            "updated_at": None,
            "updated_by_role": None,
            "version": 0,
        }
    due_at = None
    if plan.review_every_days and plan.last_reviewed_at:
        due_at = plan.last_reviewed_at + timedelta(days=plan.review_every_days)
    return {
        "id": plan.id,
        **{s: list(plan.content.get(s, [])) for s in SECTIONS},
        "region": region,
        "review_every_days": plan.review_every_days,
        "last_reviewed_at": plan.last_reviewed_at,
        "review_due": bool(due_at and utcnow() >= due_at),
        "review_due_at": due_at,
        "shared": plan.shared,
        "updated_at": plan.updated_at,
        "updated_by_role": plan.updated_by_role,
        "version": plan.version,
    }


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


def _item_key(section: str, item: dict) -> str:
    return json.dumps(item, sort_keys=True)


def diff_contents(old: dict, new: dict, old_settings: dict, new_settings: dict) -> dict:
    """What changed between two plans: items added and removed per section, reorders,
    and settings; with a one-line summary."""
    sections, phrases = {}, []
    for section in SECTIONS:
        before = [_item_key(section, i) for i in old.get(section, [])]
        after = [_item_key(section, i) for i in new.get(section, [])]
        added = list((Counter(after) - Counter(before)).elements())
        removed = list((Counter(before) - Counter(after)).elements())
        reordered = not added and not removed and before != after
        if added or removed or reordered:
            sections[section] = {
                "added": [json.loads(k) for k in added],
                "removed": [json.loads(k) for k in removed],
                "reordered": reordered,
            }
            bits = (
                [f"{len(added)} added"] * bool(added)
                + [f"{len(removed)} removed"] * bool(removed)
                + ["reordered"] * reordered
            )
            phrases.append(f"{section.replace('_', ' ')}: {', '.join(bits)}")
    settings = {
        k: {"from": old_settings.get(k), "to": new_settings.get(k)}
        for k in SETTINGS
        if old_settings.get(k) != new_settings.get(k)
    }
    phrases += [f"{k.replace('_', ' ')} changed" for k in settings]
    return {
        "sections": sections,
        "settings": settings,
        "summary": "; ".join(phrases) or "no changes",
    }


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
    reminders.wake(patient.id)  # a new review cadence moves the review reminder
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
        "Your plan changed elsewhere. Here is the current plan.",
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
        raise not_found("No such revision.")
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


def _shared_plan(therapist: User, patient_id: uuid.UUID) -> tuple[User, Plan]:
    patient = access.linked_patient(therapist, patient_id)
    plan = db.session.scalar(access.shared_rows(therapist, Plan, patient_id))
    if plan is None:
        raise not_found("No shared plan.")
    return patient, plan


def therapist_get_plan(therapist: User, patient_id: uuid.UUID) -> dict:
    """A linked patient's plan, while they share it (audited)."""
    patient, plan = _shared_plan(therapist, patient_id)
    audit.record(therapist, "read", patient_id, TYPE, [plan.id])
    return view(plan, patient)


def therapist_update_plan(therapist: User, patient_id: uuid.UUID, data: dict, base_version):
    """Revise a linked patient's shared plan; the revision names the therapist."""
    summary = data.pop("summary", None)
    if "shared" in data:
        raise ApiError(
            422,
            "Only the patient decides whether the plan is shared.",
            errors={"json": {"shared": ["Only the patient can change this."]}},
        )
    access.linked_patient(therapist, patient_id)  # before the lock: no clock for strangers
    clock.lock(patient_id)
    patient, plan = _shared_plan(therapist, patient_id)
    check_version(
        plan.version,
        base_version,
        lambda: _dump(view(plan, patient)),
        "The plan changed meanwhile. Here is the current plan.",
    )
    _save(therapist, patient, plan, data, summary)
    audit.record(therapist, "write", patient_id, TYPE, [plan.id])
    return view(plan, patient)


# -- the crisis card ---------------------------------------------------------------------


def crisis_card(patient: User, plan: Plan | None = None) -> dict:
    """What a patient needs in a bad moment: their own signs, steps and people first,
    then their crisis lines and the region's, and what to do in an emergency."""
    plan = plan or _plan(patient.id)
    content = plan.content if plan else {}
    region = _region(plan, patient)
    emergency = REGIONS.get(region or "", {}).get("emergency")
    contacts = [
        {**c, "tel": tel(c.get("phone")), "kind": section.split("_")[0]}
        for section in CONTACT_SECTIONS
        for c in content.get(section, [])
        if c.get("phone")
    ]
    lines, seen = [], set()
    for line in list(content.get("crisis_lines", [])) + default_crisis_lines(region):
        key = (tel(line.get("phone")), tel(line.get("sms")))
        if key in seen:
            continue
        seen.add(key)
        lines.append({**line, "tel": tel(line.get("phone")), "sms_to": tel(line.get("sms"))})
    return {
        "region": region,
        "emergency_number": emergency,
        "emergency_words": EMERGENCY_WORDS.format(emergency=emergency)
        if emergency
        else FALLBACK_EMERGENCY_WORDS,
        "not_monitored": NOT_MONITORED,
        "warning_signs": [i["text"] for i in content.get("warning_signs", [])],
        "coping_steps": [i["text"] for i in content.get("coping_steps", [])][:5],
        "contacts": contacts,
        "crisis_lines": lines,
        "maintenance_suggested": False,
    }


# -- sync --------------------------------------------------------------------------------


def _dump(plan_view: dict) -> dict:
    return PlanSchema().dump(plan_view)


def serialize(plan: Plan) -> dict:
    return _dump(view(plan, db.session.get(User, plan.patient_id)))


def sync_upsert(actor, plan_id, base_version, data, op_id, last_chance=True) -> dict:
    """Apply a pushed plan. A stale one is kept whole as a conflict revision, never lost
    and never applied over the newer plan."""
    if plan_id != actor.id:
        return result(REJECTED, TYPE, plan_id, errors={"id": ["A plan's id is its patient's."]})
    try:
        fields = _fields.load(data)
    except ValidationError as exc:
        return result(REJECTED, TYPE, plan_id, errors={"data": exc.messages})
    plan = _plan(actor.id)
    current = plan.version if plan else 0
    if (base_version or 0) == current:
        plan = _save(actor, actor, plan, fields, None)
        return result(APPLIED, TYPE, plan.id, plan.version)
    content, settings = _merged(plan, fields)
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
    return result(CONFLICT, TYPE, plan_id, current, conflict_revision=number)


def sync_delete(actor, plan_id, base_version) -> dict:
    return result(REJECTED, TYPE, plan_id, errors={"action": ["A plan cannot be deleted."]})


register(SyncedType(TYPE, Plan, serialize, sync_upsert, sync_delete))
