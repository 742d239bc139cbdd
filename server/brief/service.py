"""The therapist's caseload and pre-session brief.

Both answer in a bounded number of statements, whatever the caseload's size or the
length of a patient's history: per-patient figures come from grouped queries over the
whole caseload, and every window is an index-backed range.

"Since the last session" (the brief's window, and what "not on track" compares) starts
when the patient's latest integration session that happened ended: a session marked
`did_not_happen` does not count, and without one the window is the last 14 days.

A patient is **not on track** while either holds, whatever their flags say
(acknowledging a flag does not clear it):
- PHQ-9 or GAD-7 rose by 5 or more since the last session: the latest complete score
  answered in the window, against the latest complete score answered before it
  (however long before); both must exist.
- Check-ins lapsed: the patient has answered a check-in before (any instrument), and
  none in the last 7 days. Someone who never answered one is not counted as lapsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import selectinload

from server import access
from server.assignments.models import Assignment
from server.assignments.read import (
    STATUSES,
    follow_through_item,
    homework_since,
    since_clause,
    status_clause,
)
from server.auth.models import User
from server.care.models import CareLink
from server.checkins.models import CheckIn, RiskFlag
from server.checkins.read import answered_local, flag_views, maintenance_status, risk_answer
from server.db import UTCDateTime, utcnow
from server.errors import validation_error
from server.extensions import db
from server.journal.models import JournalEntry
from server.journal.read import serialize as serialize_entry
from server.parts.models import PartsMap
from server.parts.read import changes_since
from server.plans.models import Plan, PlanRevision
from server.plans.read import diff_contents
from server.reminders.read import follow_through, measure_follow_through
from server.sessions.models import SessionKind, TreatmentSession
from server.sessions.read import held_clause, last_session_end
from server.sessions.read import view as session_view

DEFAULT_WINDOW = timedelta(days=14)
SORTS = ("flags", "name", "last_activity", "next_session", "phq9")
LABELS = {"phq9": "PHQ-9", "gad7": "GAD-7", "daily": "Daily mood"}
RISE = 5  # points of PHQ-9 or GAD-7 since the last session that mean "not on track"
LAPSE = timedelta(days=7)
WINDOW_KIND = SessionKind.INTEGRATION
PLAN_WORDS = {
    "warning_signs": ("warning sign", "warning signs"),
    "triggers": ("trigger", "triggers"),
    "coping_steps": ("coping step", "coping steps"),
    "distractions": ("distraction", "distractions"),
    "safe_environment": ("step to a safer place", "steps to a safer place"),
    "reasons_for_living": ("reason for living", "reasons for living"),
    "support_contacts": ("support contact", "support contacts"),
    "professional_contacts": ("professional contact", "professional contacts"),
    "crisis_lines": ("crisis line", "crisis lines"),
    "maintenance_criteria": ("maintenance criterion", "maintenance criteria"),
}


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def not_on_track(scores: dict, last_checkin_at, now) -> dict | None:
    """{"reasons": [...]} while a patient is not on track (see the module docstring),
    else None. `scores`: {instrument: (previous, latest)} for PHQ-9 and GAD-7."""
    reasons = []
    for instrument in ("phq9", "gad7"):
        previous, latest = scores.get(instrument, (None, None))
        if previous is not None and latest is not None and latest - previous >= RISE:
            reasons.append(
                f"{LABELS[instrument]} up {latest - previous} since last session "
                f"({previous} → {latest})"
            )
    if last_checkin_at is not None and now - last_checkin_at >= LAPSE:
        reasons.append(f"No check-in for {(now - last_checkin_at).days} days")
    return {"reasons": reasons} if reasons else None


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
    linked = access.caseload_scope(therapist)
    entry_seen = linked.visible(JournalEntry, User.id)
    answered = (*linked.visible(CheckIn, User.id), CheckIn.deleted.is_(False))
    phq9 = (*answered, CheckIn.instrument == "phq9", CheckIn.complete.is_(True))
    # each patient's "since the last session", as SQL (the brief's `_window_start`)
    window = func.coalesce(
        select(func.max(TreatmentSession.ends_at))
        .where(
            *linked.visible(TreatmentSession, User.id),
            TreatmentSession.kind == WINDOW_KIND,
            held_clause(),
            TreatmentSession.ends_at <= now,
        )
        .correlate(User)
        .scalar_subquery(),
        literal(now - DEFAULT_WINDOW, UTCDateTime()),
    )

    def homework(status: str):
        """How many of the patient's homework items since the last session show
        `status` now (read.status_now, in SQL)."""
        return (
            select(func.count())
            .select_from(Assignment)
            .where(
                *linked.visible(Assignment, User.id),
                since_clause(window),
                status_clause(now) == status,
            )
            .correlate(User)
            .scalar_subquery()
            .label(f"homework_{status}")
        )

    def score(instrument: str, in_window: bool):
        scored = (*answered, CheckIn.instrument == instrument, CheckIn.complete.is_(True))
        when = CheckIn.answered_at >= window if in_window else CheckIn.answered_at < window
        return (
            select(CheckIn.score)
            .where(*scored, when)
            .order_by(CheckIn.answered_at.desc())
            .limit(1)
            .correlate(User)
            .scalar_subquery()
        )

    rows = db.session.execute(
        linked.patients(
            User.id,
            User.display_name,
            CareLink.created_at.label("linked_at"),
            _latest(JournalEntry.written_at, *entry_seen).label("last_entry"),
            _latest(CheckIn.answered_at, *answered).label("last_checkin"),
            select(func.min(TreatmentSession.starts_at))
            .where(*linked.visible(TreatmentSession, User.id), TreatmentSession.starts_at > now)
            .correlate(User)
            .scalar_subquery()
            .label("next_session"),
            select(func.count())
            .select_from(RiskFlag)
            .where(*linked.visible(RiskFlag, User.id), RiskFlag.status == "open")
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
            *linked.always(Plan, Plan.review_every_days, Plan.last_reviewed_at),
            score("phq9", False).label("phq9_previous"),
            score("phq9", True).label("phq9_latest"),
            score("gad7", False).label("gad7_previous"),
            score("gad7", True).label("gad7_latest"),
            *(homework(status) for status in STATUSES),
        ).outerjoin(Plan, Plan.patient_id == User.id)
    ).all()
    if not rows:
        return []
    linked.read_each("caseload", [r.id for r in rows])
    open_flags = _newest_open_flags([r.id for r in rows])
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
                "homework": {status: getattr(r, f"homework_{status}") for status in STATUSES},
                "open_flag": open_flags.get(r.id),
                "not_on_track": not_on_track(
                    {
                        "phq9": (r.phq9_previous, r.phq9_latest),
                        "gad7": (r.gad7_previous, r.gad7_latest),
                    },
                    r.last_checkin,
                    now,
                ),
            }
        )
    return _sorted(result, sort)


def _newest_open_flags(patient_ids) -> dict:
    """Each patient's newest open flag, with what was answered and when: one statement
    (open flags are few: acknowledging closes them)."""
    rows = db.session.execute(
        select(RiskFlag, CheckIn)
        .join(CheckIn, CheckIn.id == RiskFlag.checkin_id)
        .where(RiskFlag.patient_id.in_(patient_ids), RiskFlag.status == "open")
        .order_by(RiskFlag.created_at.desc())
    ).all()
    newest: dict = {}
    for flag, checkin in rows:
        if flag.patient_id in newest:
            continue
        answer = risk_answer(checkin)
        newest[flag.patient_id] = {
            "id": flag.id,
            "reason": flag.reason,
            "instrument": answer["instrument"],
            "item_words": answer["item_words"],
            "answered_at": answer["answered_at"],
        }
    return newest


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


def _window_start(scope, since: datetime | None, now: datetime) -> datetime:
    if since is not None:
        if since > now:
            raise validation_error({"since": [_("Must not be in the future.")]}, _("Invalid query"))
        return since
    return last_session_end(scope, WINDOW_KIND, before=now) or now - DEFAULT_WINDOW


def _complete(scope, instrument):
    return scope.select(CheckIn).where(
        CheckIn.instrument == instrument,
        CheckIn.deleted.is_(False),
        CheckIn.complete.is_(True),
    )


def _scores(scope, instrument, start, end) -> list[CheckIn]:
    query = _complete(scope, instrument)
    if start is not None:
        query = query.where(CheckIn.answered_at >= start)
    return list(
        db.session.scalars(query.where(CheckIn.answered_at < end).order_by(CheckIn.answered_at))
    )


def _latest_before(scope, instrument, start) -> CheckIn | None:
    """The newest complete answer before `start`, however long before (an index seek)."""
    return db.session.scalar(
        _complete(scope, instrument)
        .where(CheckIn.answered_at < start)
        .order_by(CheckIn.answered_at.desc())
        .limit(1)
    )


def _baseline(scope, instrument) -> CheckIn | None:
    return db.session.scalar(_complete(scope, instrument).order_by(CheckIn.answered_at).limit(1))


def _value(instrument: str, checkin: CheckIn | None):
    if checkin is None:
        return None
    return checkin.score if instrument != "daily" else checkin.answers.get("mood")


def _direction(instrument: str, change: int | None) -> str | None:
    """worse / better / same; higher is worse for PHQ-9 and GAD-7, better for mood."""
    if change is None:
        return None
    if change == 0:
        return "same"
    higher_is_worse = instrument != "daily"
    return "worse" if (change > 0) == higher_is_worse else "better"


def _score_summary(scope, instrument, start, end) -> dict:
    """Scores in the window; the latest against the latest before the window
    (`previous`, `change`, `direction`) and against the first score ever (baseline).

    `previous_window_latest` and `change_from_previous_window` are the same figures
    under their old names: "before the window" was once a window of the same length,
    which missed the last score before a long gap."""
    in_window = _scores(scope, instrument, start, end)
    previous = _value(instrument, _latest_before(scope, instrument, start))
    baseline = _value(instrument, _baseline(scope, instrument))
    latest = _value(instrument, in_window[-1] if in_window else None)
    change = latest - previous if latest is not None and previous is not None else None
    return {
        "instrument": instrument,
        "label": LABELS[instrument],
        "points": [
            {
                "answered_at": answered_local(c),
                "value": _value(instrument, c),
                "severity": c.severity,
            }
            for c in in_window
        ],
        "previous": previous,
        "latest": latest,
        "change": change,
        "direction": _direction(instrument, change),
        "previous_window_latest": previous,
        "change_from_previous_window": change,
        "baseline": baseline,
        "change_from_baseline": latest - baseline
        if latest is not None and baseline is not None
        else None,
    }


def _revisions_with_diffs(scope, start: datetime) -> list[dict]:
    """Plan revisions in the window, each with what it changed from the one before:
    two statements, however many revisions."""
    in_window = list(
        db.session.scalars(
            scope.select(PlanRevision)
            .where(PlanRevision.created_at >= start)
            .order_by(PlanRevision.number)
        )
    )
    if not in_window:
        return []
    before = db.session.scalar(
        scope.select(PlanRevision)
        .where(PlanRevision.number < in_window[0].number)
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


def _daily_notes(scope, start: datetime, end: datetime) -> list[dict]:
    """Notes of daily check-ins in the window the patient shared (a note kept private
    is withheld by the scope, and never leaves here)."""
    rows = db.session.scalars(
        scope.select(CheckIn)
        .where(
            CheckIn.instrument == "daily",
            CheckIn.deleted.is_(False),
            CheckIn.answered_at >= start,
            CheckIn.answered_at < end,
        )
        .order_by(CheckIn.answered_at)
    )
    return [
        {"checkin_id": c.id, "answered_at": answered_local(c), "note": c.answers["note"]}
        for c in rows
        if "note" not in scope.withheld(c) and (c.answers.get("note") or "").strip()
    ]


def _plan_words(revisions: list[dict]) -> str | None:
    """ "1 coping step added, 2 triggers removed": items, summed over the window's
    revisions (settings and kept conflict copies left out)."""
    added: dict = {}
    removed: dict = {}
    for revision in revisions:
        if revision["conflict"]:
            continue
        for section, change in revision["diff"]["sections"].items():
            added[section] = added.get(section, 0) + len(change["added"])
            removed[section] = removed.get(section, 0) + len(change["removed"])
    words = []
    for section in PLAN_WORDS:
        one, many = PLAN_WORDS[section]
        if added.get(section):
            words.append(f"{_count(added[section], one, many)} added")
        if removed.get(section):
            words.append(f"{_count(removed[section], one, many)} removed")
    return ", ".join(words) or None


def _summary(scores, open_flags, for_session, revisions, lapse) -> str:
    """The brief in one line: score changes since the last session, open flags, entries
    brought to the session, plan changes, and a lapse in check-ins."""
    moves = []
    for card in scores:
        if card["instrument"] == "daily" or card["latest"] is None:
            continue
        if card["previous"] is None:
            moves.append(f"{card['label']} {card['latest']}")
        else:
            change = f"{card['change']:+d}" if card["change"] else "no change"
            moves.append(f"{card['label']} {card['previous']} → {card['latest']} ({change})")
    parts = [", ".join(moves) + " since last session"] if moves else []
    if open_flags:
        parts.append(_count(open_flags, "open flag"))
    if for_session:
        parts.append(_count(for_session, "entry", "entries") + " for the session")
    if plan := _plan_words(revisions):
        parts.append(f"plan: {plan}")
    if lapse:
        parts.append(lapse)
    return " · ".join(parts) or "Nothing new since the last session"


def brief(scope: access.SharedScope, since: datetime | None) -> dict:
    """What happened since the last integration session, as far as the patient shared."""
    patient = scope.patient
    now = utcnow()
    start = _window_start(scope, since, now)

    entries = list(
        db.session.scalars(
            scope.select(JournalEntry)
            .where(JournalEntry.written_at >= start)
            .options(selectinload(JournalEntry.tag_rows))
            .order_by(JournalEntry.written_at.desc())
        )
    )
    flags = list(
        db.session.scalars(
            scope.select(RiskFlag)
            .where((RiskFlag.status == "open") | and_(RiskFlag.created_at >= start))
            .order_by(RiskFlag.created_at.desc())
        )
    )
    # seen whether or not the plan is shared: that it is, and when its review is due
    plan = db.session.execute(
        scope.always(Plan, Plan.shared, Plan.review_every_days, Plan.last_reviewed_at)
    ).first()
    plan_shared = bool(plan and plan.shared)
    revisions = _revisions_with_diffs(scope, start) if plan_shared else []
    maintenance = maintenance_status(patient)
    map_shared = db.session.scalar(scope.select(PartsMap)) is not None
    parts_changes = changes_since(scope, start) if map_shared else None
    # the session that opened the window, and every one since (past ones stay, marked)
    sessions = [
        session_view(s)
        for s in db.session.scalars(
            scope.select(TreatmentSession)
            .where(TreatmentSession.ends_at >= start)
            .order_by(TreatmentSession.starts_at)
        )
    ]
    scores = [_score_summary(scope, i, start, now) for i in ("phq9", "gad7", "daily")]
    if since is None:
        compared = {c["instrument"]: (c["previous"], c["latest"]) for c in scores}
    else:  # "not on track" is always since the last session, whatever window is asked
        usual = _window_start(scope, None, now)
        compared = {
            i: (
                _value(i, _latest_before(scope, i, usual)),
                _value(i, (_scores(scope, i, usual, now) or [None])[-1]),
            )
            for i in ("phq9", "gad7")
        }
    last_checkin = db.session.scalar(
        scope.select(CheckIn, func.max(CheckIn.answered_at)).where(CheckIn.deleted.is_(False))
    )
    off_track = not_on_track(compared, last_checkin, now)
    serialized = [serialize_entry(e) for e in entries]
    for_session = [
        {"id": e["id"], "title": e["title"], "written_at": e["written_at"]}
        for e in serialized
        if e["for_session"]
    ]
    scope.read("brief", [e.id for e in entries])
    lapse = next(
        (r for r in (off_track or {}).get("reasons", []) if r.startswith("No check-in")), None
    )
    return {
        "patient": {"id": patient.id, "display_name": patient.display_name},
        "since": start,
        "until": now,
        "summary": _summary(
            scores, sum(f.status == "open" for f in flags), len(for_session), revisions, lapse
        ),
        "not_on_track": off_track,
        "entries": serialized,
        "unread_entries": sum(1 for e in entries if e.read_by_therapist_at is None),
        "bring_to_session": for_session,
        "scores": scores,
        "daily_notes": _daily_notes(scope, start, now),
        "flags": flag_views([(f, patient.display_name) for f in flags]),
        # free-form dicts: their datetimes leave as ISO 8601 through the app's JSON
        # provider (server/__init__.py), like every other date the API writes
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
        "reminders": follow_through(scope, start, now),
        # what the care team set since the last session, and how it was followed
        "follow_through": {
            "measures": measure_follow_through(scope, start, now),
            "homework": [follow_through_item(h, now) for h in homework_since(scope, start)],
        },
    }
