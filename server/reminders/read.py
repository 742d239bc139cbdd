"""Reminders as other features read them: read-only (no writes, no audit, no events).

How a patient's prompts were followed through, for the brief. A patient's rows are
reached through an `access` scope, never a bare patient id.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import func

from server.checkins.models import CheckIn
from server.extensions import db
from server.reminders import schedule as sched
from server.reminders.models import PushDelivery, PushSubscription, ReminderOccurrence

# a prompt counts as answered by a check-in of its instrument within this time
ANSWER_WINDOW = timedelta(hours=12)
INSTRUMENT_OF = {sched.DAILY: "daily", sched.PHQ9: "phq9", sched.GAD7: "gad7"}


def follow_through(scope, start: datetime, end: datetime) -> dict:
    """Prompts in the window: sent, shown, opened, and check-ins answered after them.

    Three statements whatever the window's length.
    """
    occurrences = db.session.execute(
        scope.select(
            ReminderOccurrence,
            ReminderOccurrence.kind,
            ReminderOccurrence.fire_at,
            ReminderOccurrence.skipped,
            func.count(PushDelivery.sent_at),
            func.count(PushDelivery.shown_at),
            func.count(PushDelivery.opened_at),
        )
        .outerjoin(PushDelivery, PushDelivery.occurrence_id == ReminderOccurrence.id)
        .where(
            ReminderOccurrence.kind.in_(sched.SCHEDULED_KINDS),
            ReminderOccurrence.fire_at >= start,
            ReminderOccurrence.fire_at < end,
        )
        .group_by(
            ReminderOccurrence.id,
            ReminderOccurrence.kind,
            ReminderOccurrence.fire_at,
            ReminderOccurrence.skipped,
        )
        .order_by(ReminderOccurrence.fire_at)
    ).all()
    answers = db.session.execute(
        scope.select(CheckIn, CheckIn.instrument, CheckIn.answered_at)
        .where(
            CheckIn.deleted.is_(False),
            CheckIn.answered_at >= start,
            CheckIn.answered_at < end + ANSWER_WINDOW,
        )
        .order_by(CheckIn.answered_at)
    ).all()
    devices = db.session.scalar(
        scope.select(PushSubscription, func.count()).select_from(PushSubscription)
    )
    by_kind: dict[str, dict] = {}
    sent_prompts = defaultdict(list)  # instrument -> [fire_at] of prompts that went out
    for kind, fire_at, skipped, sent, shown, opened in occurrences:
        row = by_kind.setdefault(
            kind,
            {
                "kind": kind,
                "sent": 0,
                "shown": 0,
                "opened": 0,
                "skipped": 0,
                "answered": 0 if kind in INSTRUMENT_OF else None,
            },
        )
        if skipped:
            row["skipped"] += 1
            continue
        row["sent"] += bool(sent)
        row["shown"] += bool(shown)
        row["opened"] += bool(opened)
        if sent and kind in INSTRUMENT_OF:
            sent_prompts[INSTRUMENT_OF[kind]].append((fire_at, kind))
    # each check-in answers at most one prompt: the latest before it, within the window
    answered = set()
    for instrument, answered_at in answers:
        for fire_at, kind in reversed(sent_prompts.get(instrument, [])):
            if fire_at <= answered_at <= fire_at + ANSWER_WINDOW:
                if (fire_at, kind) not in answered:
                    answered.add((fire_at, kind))
                    by_kind[kind]["answered"] += 1
                break
    kinds = [by_kind[k] for k in sched.SCHEDULED_KINDS if k in by_kind]
    total = {key: sum(k[key] for k in kinds) for key in ("sent", "shown", "opened", "skipped")}
    total["answered"] = sum(k["answered"] or 0 for k in kinds)
    return {"devices": devices or 0, "prompts": total, "by_kind": kinds}
