"""Reminders as other features read them: read-only (no writes, no audit, no events).

How a patient's prompts were followed through, for the brief. A patient's rows are
reached through an `access` scope, never a bare patient id. Counted are the asks: a
nudge or a "Later" re-send (`<slot>:nudge`, `<slot>:later`) asks nothing new.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import and_, func

from server.assignments.models import Assignment, AssignmentKind
from server.checkins.models import CheckIn
from server.extensions import db
from server.reminders import schedule as sched
from server.reminders.models import PushDelivery, PushSubscription, ReminderOccurrence

# a prompt counts as answered by a check-in of its instrument within this time
ANSWER_WINDOW = timedelta(hours=12)
INSTRUMENT_OF = sched.INSTRUMENT_OF


def _asks_only():
    """SQL: occurrences that are asks, not a nudge or a re-send of one."""
    slot = ReminderOccurrence.slot
    return and_(slot.not_like(f"%:{sched.NUDGE}"), slot.not_like(f"%:{sched.LATER}"))


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
            _asks_only(),
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


def measure_follow_through(scope, start: datetime, end: datetime) -> list[dict]:
    """Each measurement plan's asks that went out in [start, end), and how they were
    answered, by a complete check-in of the plan's instrument:

    - on time: answered between the ask and the end of its window;
    - late: answered after the window, before the plan's next ask;
    - open: not answered yet, its window still running (at `end`);
    - missed: neither.

    An ask skipped after the worker's downtime never reached the patient and is not
    counted. Three statements whatever the window's length or the number of plans.
    """
    plans = db.session.execute(
        scope.select(Assignment, Assignment.id, Assignment.instrument)
        .where(Assignment.kind == AssignmentKind.MEASURE, Assignment.deleted.is_(False))
        .order_by(Assignment.created_at, Assignment.id)
    ).all()
    if not plans:
        return []
    # from `start` on without an upper bound: an ask after `end` closes the late
    # window of the one before it
    asks = db.session.execute(
        scope.select(
            ReminderOccurrence,
            ReminderOccurrence.ref_id,
            ReminderOccurrence.fire_at,
            ReminderOccurrence.expires_at,
        )
        .where(
            ReminderOccurrence.kind == sched.MEASURE,
            ReminderOccurrence.skipped.is_(False),
            ReminderOccurrence.fire_at >= start,
            _asks_only(),
        )
        .order_by(ReminderOccurrence.fire_at)
    ).all()
    answers = defaultdict(list)
    for instrument, answered_at in db.session.execute(
        scope.select(CheckIn, CheckIn.instrument, CheckIn.answered_at).where(
            CheckIn.deleted.is_(False),
            CheckIn.complete.is_(True),
            CheckIn.answered_at >= start,
        )
    ):
        answers[instrument].append(answered_at)
    by_plan = defaultdict(list)
    for plan_id, fire_at, window_ends in asks:
        by_plan[plan_id].append((fire_at, window_ends))
    rows = []
    for plan_id, instrument in plans:
        row = {
            "assignment_id": plan_id,
            "instrument": str(instrument),
            "asked": 0,
            "on_time": 0,
            "late": 0,
            "missed": 0,
            "open": 0,
        }
        times = answers.get(str(instrument), [])
        plan_asks = by_plan.get(plan_id, [])
        for i, (fire_at, window_ends) in enumerate(plan_asks):
            if fire_at >= end:
                break
            next_ask = plan_asks[i + 1][0] if i + 1 < len(plan_asks) else None
            row["asked"] += 1
            if any(fire_at <= at <= window_ends for at in times):
                row["on_time"] += 1
            elif window_ends > end:
                row["open"] += 1
            elif any(window_ends < at and (next_ask is None or at < next_ask) for at in times):
                row["late"] += 1
            else:
                row["missed"] += 1
        rows.append(row)
    return rows
