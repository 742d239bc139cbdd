"""The therapist's caseload and pre-session brief.

Both answer in a bounded number of statements, whatever the caseload's size or the
length of a patient's history: per-patient figures come from grouped queries over the
whole caseload, and every window is an index-backed range.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from server import access
from server.audit import service as audit
from server.auth.models import User
from server.care.models import CareLink
from server.checkins.models import CheckIn, RiskFlag
from server.checkins.service import flag_view, maintenance_status
from server.db import utcnow
from server.errors import validation_error
from server.extensions import db
from server.journal.models import JournalEntry
from server.journal.service import serialize as serialize_entry
from server.parts.models import PartsMap
from server.parts.service import changes_since
from server.plans.models import Plan, PlanRevision
from server.sessions.models import SessionKind, TreatmentSession
from server.sessions.service import last_session_end
from server.sessions.service import view as session_view

DEFAULT_WINDOW = timedelta(days=14)
SORTS = ("flags", "name", "last_activity", "next_session", "phq9")


def _grouped(query) -> dict:
    return {row[0]: row[1] for row in db.session.execute(query)}


def caseload(therapist: User, sort: str = "flags") -> list[dict]:
    """Every linked patient with what matters before a session; open flags first."""
    now = utcnow()
    patients = db.session.execute(
        select(User.id, User.display_name, CareLink.created_at)
        .join(CareLink, CareLink.patient_id == User.id)
        .where(CareLink.therapist_id == therapist.id, CareLink.ended_at.is_(None))
    ).all()
    ids = [p.id for p in patients]
    if not ids:
        return []
    last_entry = _grouped(
        select(JournalEntry.patient_id, func.max(JournalEntry.updated_at))
        .where(JournalEntry.patient_id.in_(ids))
        .group_by(JournalEntry.patient_id)
    )
    last_checkin = _grouped(
        select(CheckIn.patient_id, func.max(CheckIn.created_at))
        .where(CheckIn.patient_id.in_(ids))
        .group_by(CheckIn.patient_id)
    )
    next_session = _grouped(
        select(TreatmentSession.patient_id, func.min(TreatmentSession.starts_at))
        .where(
            TreatmentSession.patient_id.in_(ids),
            TreatmentSession.deleted.is_(False),
            TreatmentSession.starts_at > now,
        )
        .group_by(TreatmentSession.patient_id)
    )
    open_flags = _grouped(
        select(RiskFlag.patient_id, func.count())
        .where(RiskFlag.patient_id.in_(ids), RiskFlag.status == "open")
        .group_by(RiskFlag.patient_id)
    )
    unread = _grouped(
        select(JournalEntry.patient_id, func.count())
        .where(
            JournalEntry.patient_id.in_(ids),
            JournalEntry.shared.is_(True),
            JournalEntry.deleted.is_(False),
            JournalEntry.read_by_therapist_at.is_(None),
        )
        .group_by(JournalEntry.patient_id)
    )
    # the latest two complete PHQ-9 scores per patient, in one windowed query
    ranked = (
        select(
            CheckIn.patient_id,
            CheckIn.score,
            CheckIn.answered_at,
            func.row_number()
            .over(partition_by=CheckIn.patient_id, order_by=CheckIn.answered_at.desc())
            .label("n"),
        )
        .where(
            CheckIn.patient_id.in_(ids),
            CheckIn.instrument == "phq9",
            CheckIn.complete.is_(True),
            CheckIn.deleted.is_(False),
        )
        .subquery()
    )
    phq9: dict = {}
    for row in db.session.execute(select(ranked).where(ranked.c.n <= 2).order_by(ranked.c.n)):
        phq9.setdefault(row.patient_id, []).append(row)
    plans = {
        p.patient_id: p for p in db.session.scalars(select(Plan).where(Plan.patient_id.in_(ids)))
    }
    audit.record_many(therapist, "read", "caseload", ids)

    rows = []
    for patient in patients:
        scores = phq9.get(patient.id, [])
        plan = plans.get(patient.id)
        due = bool(
            plan
            and plan.review_every_days
            and plan.last_reviewed_at
            and now >= plan.last_reviewed_at + timedelta(days=plan.review_every_days)
        )
        activity = [t for t in (last_entry.get(patient.id), last_checkin.get(patient.id)) if t]
        rows.append(
            {
                "patient_id": patient.id,
                "display_name": patient.display_name,
                "linked_at": patient.created_at,
                "last_activity_at": max(activity) if activity else None,
                "next_session_at": next_session.get(patient.id),
                "open_flags": open_flags.get(patient.id, 0),
                "unread_shared_entries": unread.get(patient.id, 0),
                "latest_phq9": scores[0].score if scores else None,
                "latest_phq9_at": scores[0].answered_at if scores else None,
                "phq9_change": scores[0].score - scores[1].score if len(scores) == 2 else None,
                "plan_review_due": due,
            }
        )
    return _sorted(rows, sort)


def _sorted(rows: list[dict], sort: str) -> list[dict]:
    never = datetime.min.replace(tzinfo=utcnow().tzinfo)
    far = datetime.max.replace(tzinfo=utcnow().tzinfo)
    keys = {
        "flags": lambda r: (-r["open_flags"], -(r["last_activity_at"] or never).timestamp()),
        "name": lambda r: r["display_name"].lower(),
        "last_activity": lambda r: -(r["last_activity_at"] or never).timestamp(),
        "next_session": lambda r: r["next_session_at"] or far,
        "phq9": lambda r: -(r["latest_phq9"] if r["latest_phq9"] is not None else -1),
    }
    return sorted(rows, key=keys[sort])


# -- the brief ---------------------------------------------------------------------------


def _window_start(patient_id: uuid.UUID, since: datetime | None, now: datetime) -> datetime:
    if since is not None:
        if since > now:
            raise validation_error({"since": ["Must not be in the future."]}, "Invalid query")
        return since
    return last_session_end(patient_id, SessionKind.INTEGRATION, before=now) or now - (
        DEFAULT_WINDOW
    )


def _scores(patient_id, instrument, start, end) -> list[CheckIn]:
    query = select(CheckIn).where(
        CheckIn.patient_id == patient_id,
        CheckIn.instrument == instrument,
        CheckIn.deleted.is_(False),
        CheckIn.complete.is_(True),
    )
    if start is not None:
        query = query.where(CheckIn.answered_at >= start)
    return list(
        db.session.scalars(query.where(CheckIn.answered_at < end).order_by(CheckIn.answered_at))
    )


def _baseline(patient_id, instrument) -> CheckIn | None:
    return db.session.scalar(
        select(CheckIn)
        .where(
            CheckIn.patient_id == patient_id,
            CheckIn.instrument == instrument,
            CheckIn.deleted.is_(False),
            CheckIn.complete.is_(True),
        )
        .order_by(CheckIn.answered_at)
        .limit(1)
    )


def _score_summary(patient_id, instrument, start, end) -> dict:
    """Scores in the window; change from the window before (same length) and baseline."""
    in_window = _scores(patient_id, instrument, start, end)
    before = _scores(patient_id, instrument, start - (end - start), start)
    baseline = _baseline(patient_id, instrument)

    def value(c: CheckIn | None):
        if c is None:
            return None
        return c.score if instrument != "daily" else c.answers.get("mood")

    latest = in_window[-1] if in_window else None
    previous = before[-1] if before else None
    return {
        "instrument": instrument,
        "points": [
            {"answered_at": c.answered_at, "value": value(c), "severity": c.severity}
            for c in in_window
        ],
        "latest": value(latest),
        "previous_window_latest": value(previous),
        "change_from_previous_window": value(latest) - value(previous)
        if latest and previous and value(latest) is not None and value(previous) is not None
        else None,
        "baseline": value(baseline),
        "change_from_baseline": value(latest) - value(baseline)
        if latest and baseline and value(latest) is not None and value(baseline) is not None
        else None,
    }


def brief(therapist: User, patient_id: uuid.UUID, since: datetime | None) -> dict:
    """What happened since the last integration session, as far as the patient shared."""
    patient = access.linked_patient(therapist, patient_id)
    now = utcnow()
    start = _window_start(patient_id, since, now)

    entries = list(
        db.session.scalars(
            access.shared_rows(therapist, JournalEntry, patient_id)
            .where(JournalEntry.deleted.is_(False), JournalEntry.written_at >= start)
            .options(selectinload(JournalEntry.tag_rows))
            .order_by(JournalEntry.written_at.desc())
        )
    )
    flags = list(
        db.session.scalars(
            select(RiskFlag)
            .where(
                RiskFlag.patient_id == patient_id,
                (RiskFlag.status == "open") | and_(RiskFlag.created_at >= start),
            )
            .order_by(RiskFlag.created_at.desc())
        )
    )
    plan = db.session.scalar(select(Plan).where(Plan.patient_id == patient_id))
    plan_shared = bool(plan and plan.shared)
    revisions = []
    if plan_shared:
        revisions = [
            {
                "number": r.number,
                "author_role": r.author_role,
                "author_name": r.author_name,
                "summary": r.summary,
                "conflict": r.conflict,
                "created_at": r.created_at,
            }
            for r in db.session.scalars(
                select(PlanRevision)
                .where(PlanRevision.patient_id == patient_id, PlanRevision.created_at >= start)
                .order_by(PlanRevision.number)
            )
        ]
    maintenance = maintenance_status(patient)
    parts_map = db.session.get(PartsMap, patient_id)
    parts_changes = changes_since(patient_id, start) if parts_map and parts_map.shared else None
    sessions = [
        session_view(s)
        for s in db.session.scalars(
            select(TreatmentSession)
            .where(
                TreatmentSession.patient_id == patient_id,
                TreatmentSession.deleted.is_(False),
                TreatmentSession.starts_at >= start,
            )
            .order_by(TreatmentSession.starts_at)
        )
    ]
    serialized = [serialize_entry(e) for e in entries]
    audit.record(therapist, "read", patient_id, "brief", [e.id for e in entries])
    return {
        "patient": {"id": patient.id, "display_name": patient.display_name},
        "since": start,
        "until": now,
        "entries": serialized,
        "unread_entries": sum(1 for e in entries if e.read_by_therapist_at is None),
        "bring_to_session": [
            {"id": e["id"], "title": e["title"], "written_at": e["written_at"]}
            for e in serialized
            if e["for_session"]
        ],
        "scores": [_score_summary(patient_id, i, start, now) for i in ("phq9", "gad7", "daily")],
        "flags": [flag_view(f, patient.display_name) for f in flags],
        "plan": {
            "shared": plan_shared,
            "revisions": revisions,
            "review_due": bool(
                plan
                and plan.review_every_days
                and plan.last_reviewed_at
                and now >= plan.last_reviewed_at + timedelta(days=plan.review_every_days)
            ),
            # the criteria's words are the plan's; unshared, only that one is met
            "maintenance_suggested": maintenance["suggested"],
            "maintenance_criteria_met": maintenance["criteria"] if plan_shared else [],
        },
        "parts": {"shared": parts_changes is not None, "changes": parts_changes or []},
        "sessions": sessions,
        "reminders": None,  # follow-through arrives with push reminders
    }
