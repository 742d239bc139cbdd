"""Assignments as other features read them: read-only (no writes, no audit, no events).

The one rule for a homework item's status lives here (`status_now`, and `status_clause`,
the same rule in SQL for the caseload's counts); the PWA mirrors it for an offline Today.
A patient's rows are reached through an `access` scope, never a bare patient id.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import and_, case, or_, select

from server import localtime
from server.assignments.models import Assignment, AssignmentKind, HomeworkStatus
from server.auth.models import User
from server.db import utcnow
from server.extensions import db

OPEN, DONE, LATE, SKIPPED = "open", "done", "late", "skipped"
STATUSES = (OPEN, LATE, DONE, SKIPPED)


def status_now(item, now: datetime | None = None) -> str | None:
    """A homework item's status as shown everywhere: `skipped` if skipped; `done` if done
    by its due time; `late` if done after it, or still open past it; else `open`. None
    for a measurement plan (its asks are counted by reminders)."""
    if item.kind != AssignmentKind.HOMEWORK:
        return None
    if item.status == HomeworkStatus.SKIPPED:
        return SKIPPED
    due = item.due_at
    if item.status == HomeworkStatus.DONE:
        return LATE if due is not None and item.done_at and item.done_at > due else DONE
    return LATE if due is not None and (now or utcnow()) > due else OPEN


def status_clause(now: datetime):
    """SQL: `status_now` of a homework row, as of `now`."""
    due = Assignment.due_at
    return case(
        (Assignment.status == HomeworkStatus.SKIPPED, SKIPPED),
        (
            Assignment.status == HomeworkStatus.DONE,
            case((and_(due.is_not(None), Assignment.done_at > due), LATE), else_=DONE),
        ),
        (and_(due.is_not(None), due < now), LATE),
        else_=OPEN,
    )


def relative_due(session_starts_at: datetime, days: int, at: str, zone_name: str):
    """The instant a homework item relative to a session is due, and its UTC offset in
    minutes: the session's day in the patient's zone, `days` later, at `at` there
    (daylight-saving changes in between move neither the day nor the wall time)."""
    tz = localtime.zone(zone_name)
    day = session_starts_at.astimezone(tz).date() + timedelta(days=days)
    instant = localtime.local_instant(day, time.fromisoformat(at), tz)
    return instant, int(instant.astimezone(tz).utcoffset().total_seconds() // 60)


def due_local(item: Assignment) -> str | None:
    """When it is due, in the offset it is due in (the patient's zone then)."""
    if item.due_at is None:
        return None
    return localtime.local_iso(item.due_at, item.due_offset_minutes or 0)


def view(item: Assignment, set_by: dict | None, now: datetime | None = None) -> dict:
    """An assignment as the API and the sync feed send it (`AssignmentSchema`)."""
    return {
        "id": item.id,
        "patient_id": item.patient_id,
        "kind": item.kind.value,
        "set_by": set_by,
        "instrument": item.instrument.value if item.instrument else None,
        "schedule": item.schedule,
        "window_hours": item.window_hours,
        "paused_at": item.paused_at,
        "last_asked_at": item.last_asked_at,
        "window_ends_at": item.window_ends_at,
        "homework_type": item.homework_type.value if item.homework_type else None,
        "text": item.text or "",
        "due_at": due_local(item),
        "due_session_id": item.due_session_id,
        "due_days": item.due_days,
        "due_time": item.due_time,
        "status": item.status.value if item.status else None,
        "status_now": status_now(item, now),
        "done_at": item.done_at,
        "entry_id": item.entry_id,
        "skip_reason": item.skip_reason or "",
        "snoozed_until": item.snoozed_until,
        "version": item.version,
        "deleted": item.deleted,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
    }


def setters(items) -> dict:
    """Who set each of these assignments, by therapist id: one statement for them all."""
    ids = {item.therapist_id for item in items if item.therapist_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {row.id: {"id": row.id, "display_name": row.display_name} for row in rows}


def views(items) -> list[dict]:
    """Each assignment's view, who set it looked up once for them all."""
    names, now = setters(items), utcnow()
    return [view(item, names.get(item.therapist_id), now) for item in items]


def live(scope):
    """The scope's assignments that are not removed."""
    return scope.select(Assignment).where(Assignment.deleted.is_(False))


def since_clause(start):
    """SQL: homework that belongs to "since `start`" (a value or a SQL expression): due
    since then (or still to come), done since then, or still open however long ago it
    was due."""
    return and_(
        Assignment.kind == AssignmentKind.HOMEWORK,
        or_(
            Assignment.due_at >= start,
            Assignment.done_at >= start,
            Assignment.status == HomeworkStatus.OPEN,
        ),
    )


def homework_since(scope, start: datetime) -> list[Assignment]:
    """The scope's homework since `start` (`since_clause`), oldest due first."""
    return list(
        db.session.scalars(
            live(scope)
            .where(since_clause(start))
            .order_by(Assignment.due_at, Assignment.created_at)
        )
    )


def follow_through_item(item: Assignment, now: datetime) -> dict:
    """One homework item as the brief lists it."""
    return {
        "id": item.id,
        "homework_type": item.homework_type.value,
        "text": item.text or "",
        "due_at": due_local(item),
        "status_now": status_now(item, now),
        "done_at": item.done_at,
        "skip_reason": item.skip_reason or "",
    }
