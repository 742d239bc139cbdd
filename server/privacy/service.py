"""Export everything a person has, and delete an account for good.

Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import delete, or_, select

from server import access
from server.assignments import read as assignments_read
from server.assignments.models import Assignment
from server.assignments.schemas import AssignmentSchema
from server.audit import service as audit
from server.audit.models import AuditEvent
from server.auth import passwords
from server.auth.models import User, UserSession
from server.care.models import CareLink, Invite
from server.checkins import read as checkins_read
from server.checkins.models import CheckIn, RiskFlag
from server.checkins.schemas import CheckInSchema
from server.db import utcnow
from server.errors import validation_error
from server.extensions import db
from server.journal import read as journal_read
from server.journal.models import JournalEntry, JournalPrompt
from server.parts import read as parts_read
from server.parts.models import Part, PartChange, PartRelation, PartsMap
from server.parts.schemas import PartSchema, RelationSchema
from server.plans import read as plans_read
from server.plans.models import Plan, PlanRevision
from server.plans.schemas import PlanSchema
from server.sessions import read as sessions_read
from server.sessions.models import TreatmentSession
from server.sessions.schemas import TreatmentSessionSchema
from server.sync.models import SyncClock, SyncOp

EXPORT_FORMAT = "between-export/1"


def _iso(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _people(ids) -> dict:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(
        db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()
    )


def _access_log(user: User) -> list[dict]:
    rows = db.session.execute(
        select(AuditEvent, User.display_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.patient_id == user.id)
        .order_by(AuditEvent.at)
    ).all()
    return [
        {
            "at": _iso(e.at),
            "actor_name": name,
            "actor_role": e.actor_role,
            "action": e.action,
            "object_type": e.object_type,
            "object_ids": e.object_ids,
            "outcome": e.outcome,
        }
        for e, name in rows
    ]


def _profile(user: User) -> dict:
    return {
        "id": str(user.id),
        "email": user.email,
        "display_name": user.display_name,
        "role": user.role.value,
        "timezone": user.timezone,
        "locale": user.locale,
        "created_at": _iso(user.created_at),
        "totp_enabled": user.totp_enabled,
    }


def _care_team(user: User) -> list[dict]:
    links = db.session.scalars(
        select(CareLink).where(
            or_(CareLink.patient_id == user.id, CareLink.therapist_id == user.id)
        )
    ).all()
    names = _people([x for link in links for x in (link.patient_id, link.therapist_id)])
    return [
        {
            "id": str(link.id),
            "therapist": names.get(link.therapist_id),
            "patient": names.get(link.patient_id),
            "created_at": _iso(link.created_at),
            "ended_at": _iso(link.ended_at),
        }
        for link in links
    ]


def export_patient(user: User) -> dict:
    """Everything of mine, as one JSON document (format `between-export/1`)."""
    own = access.own_scope(user)

    def rows(model, *order):
        return db.session.scalars(own.select(model).order_by(*order)).all()

    entries = rows(JournalEntry, JournalEntry.written_at)
    parts = rows(Part)
    relations = rows(PartRelation)
    parts_map = db.session.get(PartsMap, user.id)
    plan = plans_read.plan_of(own)
    revisions = rows(PlanRevision, PlanRevision.number)
    checkins = rows(CheckIn, CheckIn.answered_at)
    flags = rows(RiskFlag)
    sessions = rows(TreatmentSession)
    prompts = rows(JournalPrompt)
    assignments = [a for a in rows(Assignment, Assignment.created_at) if not a.deleted]
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "profile": _profile(user),
        "care_team": _care_team(user),
        "journal_entries": [
            {
                k: _iso(v) if not hasattr(v, "hex") else str(v)
                for k, v in journal_read.serialize(e).items()
            }
            for e in entries
        ],
        "journal_prompts": [
            {
                "id": str(p.id),
                "context": p.context,
                "text": p.text,
                "created_at": _iso(p.created_at),
            }
            for p in prompts
        ],
        "parts": PartSchema(many=True).dump(parts),
        "part_relations": RelationSchema(many=True).dump(relations),
        "parts_map": {
            "shared": bool(parts_map and parts_map.shared),
            "history": [
                {
                    **c,
                    "at": _iso(c["at"]),
                    "object_id": str(c["object_id"]),
                    "fields": c.pop("fields_"),
                }
                for c in parts_read.changes_since(own, None)
            ],
        },
        "plan": PlanSchema().dump(plans_read.view(plan, user)) if plan else None,
        "plan_revisions": [
            {
                "number": r.number,
                "author_role": r.author_role,
                "author_name": r.author_name,
                "summary": r.summary,
                "conflict": r.conflict,
                "created_at": _iso(r.created_at),
                "content": r.content,
                "settings": r.settings,
            }
            for r in revisions
        ],
        "checkins": CheckInSchema(many=True).dump(checkins_read.page_views(checkins)),
        "risk_flags": [
            {
                k: _iso(v) if not hasattr(v, "hex") else str(v)
                for k, v in checkins_read.flag_view(f).items()
            }
            for f in flags
        ],
        "treatment_sessions": TreatmentSessionSchema(many=True).dump(
            [sessions_read.view(s) for s in sessions]
        ),
        # what my therapist set me (plans, homework) and how I answered: skip reasons are mine
        "assignments": AssignmentSchema(many=True).dump(assignments_read.views(assignments)),
        "access_log": _access_log(user),
    }
    audit.record(user, "export", user.id, "account", [user.id])
    return document


def export_therapist(user: User) -> dict:
    """A therapist's own account data: profile, care team, what they did."""
    actions = db.session.scalars(
        select(AuditEvent).where(AuditEvent.actor_id == user.id).order_by(AuditEvent.at)
    ).all()
    document = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(utcnow()),
        "profile": _profile(user),
        "care_team": _care_team(user),
        "my_actions": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "object_type": e.object_type,
                "patient_id": str(e.patient_id) if e.patient_id else None,
            }
            for e in actions
        ],
    }
    audit.record(user, "export", None, "account", [user.id])
    return document


def export_account(user: User) -> dict:
    return export_patient(user) if user.is_patient else export_therapist(user)


def delete_account(user: User, password: str) -> None:
    """Delete me: every row that is mine, in this transaction; sessions end with it.

    A patient's data goes whole, including the audit trail about them: it would show
    they were in treatment. A therapist's account goes and their care links end; what
    their patients hold (revisions they wrote, sessions they set, the patients' own
    access logs naming a now-deleted therapist) stays with the patients.
    """
    if not passwords.verify_password(user.password_hash, password):
        raise validation_error({"password": [_("This is not your password.")]})
    uid = user.id
    if user.is_patient:
        # children first, so it reads the same with or without database cascades
        db.session.execute(delete(RiskFlag).where(RiskFlag.patient_id == uid))
        db.session.execute(delete(PartRelation).where(PartRelation.patient_id == uid))
        for model in (
            JournalEntry,
            Part,
            PartChange,
            PlanRevision,
            Plan,
            CheckIn,
            Assignment,  # before the sessions its due dates follow
            TreatmentSession,
            JournalPrompt,
        ):
            db.session.execute(delete(model).where(model.patient_id == uid))
        db.session.execute(delete(PartsMap).where(PartsMap.patient_id == uid))
        db.session.execute(
            delete(AuditEvent).where(or_(AuditEvent.patient_id == uid, AuditEvent.actor_id == uid))
        )
    else:
        db.session.execute(delete(Invite).where(Invite.therapist_id == uid))
    for model, column in ((UserSession, UserSession.user_id),):
        db.session.execute(delete(model).where(column == uid))
    db.session.execute(
        delete(CareLink).where(or_(CareLink.patient_id == uid, CareLink.therapist_id == uid))
    )
    db.session.execute(delete(SyncOp).where(SyncOp.patient_id == uid))
    db.session.execute(delete(SyncClock).where(SyncClock.patient_id == uid))
    db.session.expunge_all()
    db.session.execute(delete(User).where(User.id == uid))
    db.session.flush()
