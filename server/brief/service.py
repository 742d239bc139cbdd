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
from server.plans.service import diff_contents
from server.reminders.service import follow_through
from server.sessions.models import SessionKind, TreatmentSession
from server.sessions.service import last_session_end
from server.sessions.service import view as session_view

DEFAULT_WINDOW = timedelta(days=14)
SORTS = ("flags", "name", "last_activity", "next_session", "phq9")


def _grouped(query) -> dict:
    return {row[0]: row[1] for row in db.session.execute(query)}


def _latest(column, *where, offset: int = 0):
    """A correlated scalar: this patient's newest value of `column` (index-backed:
    an ordered range read that stops at the first row, not a scan of all history)."""
    return (
        select(column)
        .where(*where)
        .order_by(column.desc())
        .offset(offset)
        .limit(1)
        .correlate(User)
        .scalar_subquery()
    )


def caseload(therapist: User, sort: str = "flags") -> list[dict]:
    """Every linked patient with what matters before a session; open flags first.

    One statement for the figures, whatever the caseload's size, and each figure an
    index seek per patient, whatever the length of their history. "Last activity"
    counts only what the therapist may see: shared entries and check-ins.
    """
    now = utcnow()
    entry_seen = (
        JournalEntry.patient_id == User.id,
        JournalEntry.shared.is_(True),
        JournalEntry.deleted.is_(False),
    )
    answered = (CheckIn.patient_id == User.id, CheckIn.deleted.is_(False))
    phq9 = (*answered, CheckIn.instrument == "phq9", CheckIn.complete.is_(True))
    rows = db.session.execute(
        select(
            User.id,
            User.display_name,
            CareLink.created_at.label("linked_at"),
            _latest(JournalEntry.written_at, *entry_seen).label("last_entry"),
            _latest(CheckIn.answered_at, *answered).label("last_checkin"),
            select(func.min(TreatmentSession.starts_at))
            .where(
                TreatmentSession.patient_id == User.id,
                TreatmentSession.deleted.is_(False),
                TreatmentSession.starts_at > now,
            )
            .correlate(User)
            .scalar_subquery()
            .label("next_session"),
            select(func.count())
            .select_from(RiskFlag)
            .where(RiskFlag.patient_id == User.id, RiskFlag.status == "open")
            .correlate(User)
            .scalar_subquery()
            .label("open_flags"),
            select(func.count())
            .select_from(JournalEntry)
            .where(*entry_seen, JournalEntry.read_by_therapist_at.is_(None))
            .correlate(User)
            .scalar_subquery()
            .label("unread"),
            _latest(CheckIn.answered_at, *phq9).label("phq9_at"),
            select(CheckIn.score)
            .where(*phq9)
            .order_by(CheckIn.answered_at.desc())
            .limit(1)
            .correlate(User)
            .scalar_subquery()
            .label("phq9"),
            select(CheckIn.score)
            .where(*phq9)
            .order_by(CheckIn.answered_at.desc())
            .offset(1)
            .limit(1)
            .correlate(User)
            .scalar_subquery()
            .label("phq9_before"),
            Plan.review_every_days,
            Plan.last_reviewed_at,
        )
        .join(CareLink, CareLink.patient_id == User.id)
        .outerjoin(Plan, Plan.patient_id == User.id)
        .where(CareLink.therapist_id == therapist.id, CareLink.ended_at.is_(None))
    ).all()
    if not rows:
        return []
    audit.record_many(therapist, "read", "caseload", [r.id for r in rows])
    result = []
    for r in rows:
        due = bool(
            r.review_every_days
            and r.last_reviewed_at
            and now >= r.last_reviewed_at + timedelta(days=r.review_every_days)
        )
        activity = [t for t in (r.last_entry, r.last_checkin) if t is not None]
        result.append(
            {
                "patient_id": r.id,
                "display_name": r.display_name,
                "linked_at": r.linked_at,
                "last_activity_at": max(activity) if activity else None,
                "next_session_at": r.next_session,
                "open_flags": r.open_flags,
                "unread_shared_entries": r.unread,
                "latest_phq9": r.phq9,
                "latest_phq9_at": r.phq9_at,
                "phq9_change": r.phq9 - r.phq9_before if r.phq9_before is not None else None,
                "plan_review_due": due,
            }
        )
    return _sorted(result, sort)


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


def _revisions_with_diffs(patient_id: uuid.UUID, start: datetime) -> list[dict]:
    """Plan revisions in the window, each with what it changed from the one before:
    two statements, however many revisions."""
    in_window = list(
        db.session.scalars(
            select(PlanRevision)
            .where(PlanRevision.patient_id == patient_id, PlanRevision.created_at >= start)
            .order_by(PlanRevision.number)
        )
    )
    if not in_window:
        return []
    before = db.session.scalar(
        select(PlanRevision)
        .where(PlanRevision.patient_id == patient_id, PlanRevision.number < in_window[0].number)
        .order_by(PlanRevision.number.desc())
        .limit(1)
    )
    answer = []
    previous = before
    for r in in_window:
        diff = diff_contents(
            previous.content if previous else {},
            r.content,
            previous.settings if previous else {},
            r.settings,
        )
        answer.append(
            {
                "number": r.number,
                "author_role": r.author_role,
                "author_name": r.author_name,
                "summary": r.summary,
                "conflict": r.conflict,
                "created_at": r.created_at,
                "diff": diff,
            }
        )
        if not r.conflict:  # a kept conflict was never applied: diff against the real plan
            previous = r
    return answer


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
    revisions = _revisions_with_diffs(patient_id, start) if plan_shared else []
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
        "reminders": follow_through(patient_id, start, now),
    }
