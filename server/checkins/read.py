"""Check-ins as other features read them: read-only (no writes, no audit, no events).

Views of check-ins and flags, trends, and the plan's maintenance rules; the brief, the
export and the check-ins service use them. A patient's rows are reached through an
`access` scope, never a bare patient id.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from server import access, localtime
from server.auth.models import User
from server.checkins import scoring
from server.checkins.instruments import FREQUENCY
from server.checkins.models import CheckIn, FlagNote, RiskFlag
from server.extensions import db
from server.plans import read as plans_read
from server.sessions import read as sessions_read

MAINTENANCE_WORDS = _l("Your plan says it may be time to ask for a maintenance session.")


def answered_local(checkin: CheckIn) -> str:
    """The instant in the offset the patient answered in."""
    return localtime.local_iso(checkin.answered_at, checkin.answered_offset_minutes)


def flags_by_checkin(checkin_ids) -> dict:
    if not checkin_ids:
        return {}
    rows = db.session.scalars(select(RiskFlag).where(RiskFlag.checkin_id.in_(checkin_ids)))
    return {f.checkin_id: f for f in rows}


def flag_view(flag: RiskFlag, patient_name: str = "", *, acknowledged_by=False) -> dict:
    """A flag's own fields (what the patient's check-in carries); `flag_views` adds the
    answer and the notes for a therapist."""
    if acknowledged_by is False:
        acknowledged_by = None
        if flag.acknowledged_by_id:
            who = db.session.get(User, flag.acknowledged_by_id)
            acknowledged_by = who.display_name if who else None
    return {
        "id": flag.id,
        "patient_id": flag.patient_id,
        "patient_name": patient_name,
        "checkin_id": flag.checkin_id,
        "reason": flag.reason,
        "status": flag.status,
        "created_at": flag.created_at,
        "acknowledged_at": flag.acknowledged_at,
        "acknowledged_by": acknowledged_by,
        "acknowledgement_note": flag.acknowledgement_note,
    }


# the item whose answer raises a flag, per instrument, and its words (the published ones)
RISK_ITEMS = {"phq9": "phq9_9", "daily": "safety"}
_FREQUENCY_WORDS = {o["value"]: o["label"].lower() for o in FREQUENCY}


def _item_words(instrument: str, value) -> str | None:
    if value is None:
        return None
    if instrument == "daily":
        return "yes" if value is True else "no"
    return _FREQUENCY_WORDS.get(value)


def risk_answer(checkin: CheckIn | None) -> dict:
    """What the patient answered that raised the flag, when, and the check-in's total.
    A check-in the patient removed from their history keeps only its time."""
    if checkin is None:
        return {
            "answered_at": None,
            "instrument": None,
            "item_value": None,
            "item_words": None,
            "total": None,
            "severity": None,
        }
    value = None if checkin.deleted else checkin.answers.get(RISK_ITEMS.get(checkin.instrument))
    return {
        "answered_at": answered_local(checkin),
        "instrument": checkin.instrument,
        "item_value": value,
        "item_words": _item_words(checkin.instrument, value),
        "total": None if checkin.deleted else checkin.score,
        "severity": None if checkin.deleted else checkin.severity,
    }


def flag_views(rows) -> list[dict]:
    """Flags as a therapist reads them, from (flag, patient name) pairs: what was answered
    and when, and every note, oldest first. Three statements however many flags."""
    rows = list(rows)
    if not rows:
        return []
    flag_ids = [f.id for f, _ in rows]
    checkins = {
        c.id: c
        for c in db.session.scalars(
            select(CheckIn).where(CheckIn.id.in_([f.checkin_id for f, _ in rows]))
        )
    }
    notes: dict = {}
    for note, author in db.session.execute(
        select(FlagNote, User.display_name)
        .outerjoin(User, User.id == FlagNote.author_id)
        .where(FlagNote.flag_id.in_(flag_ids))
        .order_by(FlagNote.created_at, FlagNote.id)
    ):
        notes.setdefault(note.flag_id, []).append(
            {
                "id": note.id,
                "author": author,
                "action": note.action,
                "note": note.note,
                "created_at": note.created_at,
            }
        )
    who = {f.acknowledged_by_id for f, _ in rows if f.acknowledged_by_id}
    names = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(who))).all())
        if who
        else {}
    )
    answer = []
    for flag, patient_name in rows:
        view_ = flag_view(flag, patient_name, acknowledged_by=names.get(flag.acknowledged_by_id))
        flag_notes = notes.get(flag.id, [])
        view_.update(risk_answer(checkins.get(flag.checkin_id)), notes=flag_notes)
        if flag_notes:
            view_["acknowledgement_note"] = flag_notes[0]["note"]
        answer.append(view_)
    return answer


def view(checkin: CheckIn, flag: RiskFlag | None = None, *, withheld=frozenset()) -> dict:
    """A check-in as the API shows it, less the answers the reader may not see
    (`withheld`: what the reader's `access` scope withholds of this row)."""
    answers = {k: v for k, v in checkin.answers.items() if k not in withheld}
    return {
        "id": checkin.id,
        "instrument": checkin.instrument,
        "answers": answers,
        "answered_at": answered_local(checkin),
        "score": checkin.score,
        "severity": checkin.severity,
        "complete": checkin.complete,
        "note_private": checkin.note_private,
        "session_id": checkin.session_id,
        "created_at": checkin.created_at,
        "flags": [flag_view(flag)] if flag is not None else [],
    }


def _recent_scores(scope, instrument: str, n: int) -> list[int]:
    rows = db.session.scalars(
        scope.select(CheckIn, CheckIn.score)
        .where(
            CheckIn.instrument == instrument,
            CheckIn.complete.is_(True),
            CheckIn.deleted.is_(False),
        )
        .order_by(CheckIn.answered_at.desc())
        .limit(n)
    )
    return list(rows)


def maintenance_status(patient: User) -> dict:
    """Which of the plan's score rules are met by the latest scores.

    Worked out over the patient's own plan and scores, whoever asks: a therapist's brief
    shows the yes/no even while the plan is unshared, and the rules' words only when it
    is shared (server/brief/service.py)."""
    own = access.own_scope(patient)
    plan = plans_read.view(plans_read.plan_of(own), patient)
    met = []
    for criterion in plan.get("maintenance_criteria", []):
        rule = criterion.get("rule")
        if not rule:
            continue
        times = rule.get("times_in_a_row", 1)
        scores = _recent_scores(own, rule["instrument"], times)
        if len(scores) == times and all(s >= rule["at_least"] for s in scores):
            met.append(criterion["text"])
    return {"suggested": bool(met), "criteria": met, "message": MAINTENANCE_WORDS if met else None}


def _point(checkin: CheckIn) -> dict:
    point = {
        "id": str(checkin.id),
        "answered_at": answered_local(checkin),
        "score": checkin.score,
        "severity": checkin.severity,
    }
    if checkin.instrument == "daily":
        point.update(
            {
                k: checkin.answers.get(k)
                for k in ("mood", "anxiety", "sleep_quality", "sleep_hours", "rumination")
            }
        )
    return point


def trends(scope, instrument: str, start=None, end=None) -> dict:
    """A series with baseline, change from baseline, and PHQ-9 response and remission."""
    base_query = scope.select(CheckIn).where(
        CheckIn.instrument == instrument, CheckIn.deleted.is_(False)
    )
    query = base_query
    if start:
        query = query.where(CheckIn.answered_at >= start)
    if end:
        query = query.where(CheckIn.answered_at < end)
    series = list(db.session.scalars(query.order_by(CheckIn.answered_at)))
    scored = [c for c in series if c.score is not None]
    baseline = db.session.scalar(
        base_query.where(CheckIn.complete.is_(True), CheckIn.score.is_not(None))
        .order_by(CheckIn.answered_at)
        .limit(1)
    )
    latest = scored[-1] if scored else None
    change = percent = responded = remitted = None
    if baseline is not None and latest is not None:
        change = latest.score - baseline.score
        percent = round(100 * change / baseline.score, 1) if baseline.score else None
    if instrument == "phq9" and baseline is not None and latest is not None:
        responded, remitted = scoring.response_and_remission(baseline.score, latest.score)
    return {
        "instrument": instrument,
        "series": [_point(c) for c in series],
        "baseline": _point(baseline) if baseline is not None else None,
        "latest": _point(latest) if latest is not None else None,
        "change": change,
        "percent_change": percent,
        "response": responded,
        "remission": remitted,
        "markers": sessions_read.markers(scope, start, end),
    }


def page_views(checkins: list[CheckIn]) -> list[dict]:
    """Check-ins with the flags they raised, as their owner sees them (one statement for
    the flags, however many check-ins)."""
    flags = flags_by_checkin([c.id for c in checkins])
    return [view(c, flags.get(c.id)) for c in checkins]
