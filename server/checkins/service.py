"""Check-ins, trends, risk flags, and the plan's maintenance rules.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta, timezone

from marshmallow import ValidationError
from sqlalchemy import select, tuple_, update

from server import access, pagination
from server.alerts import service as alerts
from server.audit import service as audit
from server.auth.models import User
from server.care.models import CareLink
from server.checkins import scoring
from server.checkins.instruments import FREQUENCY, INSTRUMENTS
from server.checkins.models import CheckIn, FlagNote, RiskFlag
from server.checkins.schemas import CheckInCreateSchema, CheckInSchema, FlagSchema
from server.db import utcnow
from server.errors import ApiError, conflict, not_found, validation_error
from server.extensions import db
from server.plans import service as plans_service
from server.reminders import service as reminders_service
from server.sessions import service as sessions_service
from server.sync import clock
from server.sync.registry import APPLIED, REJECTED, SyncedType, register, result

TYPE = "checkin"
NOBODY_ALERTED = (
    "You are not connected to a therapist in Between, so nobody was alerted. "
    "Please use your crisis card now."
)
ALERTED = (
    "Your therapist will see this answer, but not in real time. If you are in danger, "
    "use your crisis card now."
)
MAINTENANCE_WORDS = "Your plan says it may be time to ask for a maintenance session."
_create_schema = CheckInCreateSchema()


def list_instruments() -> list[dict]:
    return list(INSTRUMENTS.values())


# -- views -------------------------------------------------------------------------------


def answered_local(checkin: CheckIn) -> str:
    tz = timezone(timedelta(minutes=checkin.answered_offset_minutes))
    return checkin.answered_at.astimezone(tz).isoformat()


def _flags_by_checkin(checkin_ids) -> dict:
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


def view(checkin: CheckIn, flag: RiskFlag | None = None, *, for_therapist=False) -> dict:
    answers = dict(checkin.answers)
    if for_therapist and checkin.note_private:
        answers.pop("note", None)
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


# -- answering ---------------------------------------------------------------------------


def _linked_therapist_count(patient_id: uuid.UUID) -> int:
    return len(
        db.session.scalars(
            select(CareLink.id).where(
                CareLink.patient_id == patient_id, CareLink.ended_at.is_(None)
            )
        ).all()
    )


def _new_checkin(actor: User, checkin_id, data: dict) -> tuple[CheckIn, RiskFlag | None]:
    try:
        scoring.validate_answers(data["instrument"], data["answers"])
    except scoring.AnswerError as exc:
        raise validation_error({"answers": exc.errors}) from exc
    scored = scoring.score(data["instrument"], data["answers"])
    answered = data["answered_at"]
    checkin = CheckIn(
        id=checkin_id or uuid.uuid4(),
        patient_id=actor.id,
        instrument=data["instrument"],
        answers=data["answers"],
        answered_at=answered.astimezone(UTC),
        answered_offset_minutes=int(answered.utcoffset().total_seconds() // 60),
        score=scored.score,
        severity=scored.severity,
        complete=scored.complete,
        note_private=data.get("note_private", False),
        session_id=data.get("session_id"),
        created_at=utcnow(),
        version=1,
    )
    db.session.add(checkin)
    clock.stamp(checkin)
    flag = None
    if scored.risk_reasons:
        # every linked therapist sees it, whatever the patient's sharing settings
        flag = RiskFlag(
            patient_id=actor.id,
            checkin_id=checkin.id,
            reason=scored.risk_reasons[0],
            status="open",
            created_at=utcnow(),
        )
        db.session.add(flag)
    db.session.flush()
    if flag is not None:
        # linked therapists' devices hear "a check-in needs your review": no name, no score
        reminders_service.alert_therapists(actor.id, flag.id)
        # and their mailboxes: the same generic words, one mail per therapist per flag
        alerts.queue_flag_mails(actor.id, flag.id)
    return checkin, flag


def record_checkin(actor: User, data: dict) -> dict:
    """Store my answers, score them, raise a flag for a dangerous answer, and answer
    with what I need right now. The same id sent again changes nothing."""
    checkin_id = data.pop("id", None)
    clock.lock(actor.id)
    if checkin_id is not None and (existing := db.session.get(CheckIn, checkin_id)):
        if existing.patient_id != actor.id:
            raise ApiError(409, "This id is already in use.")
        if existing.answers != data["answers"] or existing.instrument != data["instrument"]:
            raise conflict(
                "A check-in with this id has other answers.",
                current=CheckInSchema().dump(view(existing)),
            )
        checkin, flag = existing, _flags_by_checkin([existing.id]).get(existing.id)
    else:
        checkin, flag = _new_checkin(actor, checkin_id, data)
    return patient_result(actor, checkin, flag)


def patient_result(actor: User, checkin: CheckIn, flag: RiskFlag | None) -> dict:
    answer = view(checkin, flag)
    maintenance = (
        maintenance_status(actor)
        if checkin.complete
        else {"suggested": False, "criteria": [], "message": None}
    )
    answer["maintenance"] = maintenance
    answer["crisis_card"] = None
    answer["alerted_therapists"] = 0
    answer["message"] = None
    if flag is not None:
        therapists = _linked_therapist_count(actor.id)
        card = plans_service.crisis_card(actor)
        card["maintenance_suggested"] = maintenance["suggested"]
        answer.update(
            crisis_card=card,
            alerted_therapists=therapists,
            message=ALERTED if therapists else NOBODY_ALERTED,
        )
    return answer


# -- maintenance rules -------------------------------------------------------------------


def _recent_scores(patient_id: uuid.UUID, instrument: str, n: int) -> list[int]:
    rows = db.session.scalars(
        select(CheckIn.score)
        .where(
            CheckIn.patient_id == patient_id,
            CheckIn.instrument == instrument,
            CheckIn.complete.is_(True),
            CheckIn.deleted.is_(False),
        )
        .order_by(CheckIn.answered_at.desc())
        .limit(n)
    )
    return list(rows)


def maintenance_status(patient: User) -> dict:
    """Which of the plan's score rules are met by the latest scores."""
    plan = plans_service.get_plan(patient)
    met = []
    for criterion in plan.get("maintenance_criteria", []):
        rule = criterion.get("rule")
        if not rule:
            continue
        times = rule.get("times_in_a_row", 1)
        scores = _recent_scores(patient.id, rule["instrument"], times)
        if len(scores) == times and all(s >= rule["at_least"] for s in scores):
            met.append(criterion["text"])
    return {"suggested": bool(met), "criteria": met, "message": MAINTENANCE_WORDS if met else None}


# -- reading -----------------------------------------------------------------------------


def _page(patient_id: uuid.UUID, args: dict, *, for_therapist: bool):
    query = select(CheckIn).where(CheckIn.patient_id == patient_id, CheckIn.deleted.is_(False))
    if args.get("instrument"):
        query = query.where(CheckIn.instrument == args["instrument"])
    if args.get("from_"):
        query = query.where(CheckIn.answered_at >= args["from_"])
    if args.get("to"):
        query = query.where(CheckIn.answered_at < args["to"])
    if args.get("cursor"):
        query = query.where(
            tuple_(CheckIn.answered_at, CheckIn.id) < pagination.decode(args["cursor"])
        )
    limit = args.get("limit", 50)
    rows = list(
        db.session.scalars(
            query.order_by(CheckIn.answered_at.desc(), CheckIn.id.desc()).limit(limit + 1)
        )
    )
    page = rows[:limit]
    flags = _flags_by_checkin([c.id for c in page])
    return (
        [view(c, flags.get(c.id), for_therapist=for_therapist) for c in page],
        pagination.encode(rows[limit - 1].answered_at, rows[limit - 1].id)
        if len(rows) > limit
        else None,
    )


def list_checkins(actor: User, args: dict) -> dict:
    """My check-ins, newest first."""
    checkins, next_cursor = _page(actor.id, args, for_therapist=False)
    return {"checkins": checkins, "next_cursor": next_cursor}


def therapist_checkins(therapist: User, patient_id: uuid.UUID, args: dict) -> dict:
    """A linked patient's check-ins (scores are shared with the care team; audited)."""
    access.linked_patient(therapist, patient_id)
    checkins, next_cursor = _page(patient_id, args, for_therapist=True)
    audit.record(therapist, "read", patient_id, TYPE, [c["id"] for c in checkins])
    return {"checkins": checkins, "next_cursor": next_cursor}


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


def trends(patient_id: uuid.UUID, instrument: str, start=None, end=None) -> dict:
    """A series with baseline, change from baseline, and PHQ-9 response and remission."""
    base_query = select(CheckIn).where(
        CheckIn.patient_id == patient_id,
        CheckIn.instrument == instrument,
        CheckIn.deleted.is_(False),
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
        "markers": sessions_service.markers(patient_id, start, end),
    }


def therapist_trends(therapist: User, patient_id: uuid.UUID, args: dict) -> dict:
    """A linked patient's trend (audited)."""
    access.linked_patient(therapist, patient_id)
    answer = trends(patient_id, args["instrument"], args.get("from_"), args.get("to"))
    audit.record(therapist, "read", patient_id, "checkin_trend")
    return answer


# -- flags -------------------------------------------------------------------------------


def _caseload_flags(therapist: User):
    return (
        select(RiskFlag, User.display_name)
        .join(User, User.id == RiskFlag.patient_id)
        .where(access.active_link_clause(therapist.id, RiskFlag.patient_id))
    )


def list_flags(therapist: User, status: str | None) -> list[dict]:
    """Flags across my caseload: open ones first, newest first within each."""
    query = _caseload_flags(therapist)
    if status:
        query = query.where(RiskFlag.status == status)
    rows = db.session.execute(query).all()
    rows.sort(key=lambda r: (r[0].status != "open", -r[0].created_at.timestamp()))
    by_patient: dict = {}
    for flag, _name in rows:
        by_patient.setdefault(flag.patient_id, []).append(flag.id)
    for patient_id, flag_ids in by_patient.items():  # one event per patient read
        audit.record(therapist, "read", patient_id, "risk_flag", flag_ids)
    return flag_views(rows)


def _my_flag(therapist: User, flag_id: uuid.UUID) -> tuple[RiskFlag, str]:
    """A flag of a patient on my caseload, else 404 (hidden and missing look alike)."""
    row = db.session.execute(_caseload_flags(therapist).where(RiskFlag.id == flag_id)).first()
    if row is None:
        raise not_found("No such flag.")
    return row[0], row[1]


def _add_note(therapist: User, flag: RiskFlag, data: dict, now) -> None:
    db.session.add(
        FlagNote(
            flag_id=flag.id,
            author_id=therapist.id,
            action=data.get("action"),
            note=(data.get("note") or "").strip(),
            created_at=now,
        )
    )


def acknowledge_flag(therapist: User, flag_id: uuid.UUID, data: dict) -> dict:
    """Acknowledge a flag with what I did, a note, or both; it becomes the flag's first
    note. Once only: a flag already acknowledged is 409 with the flag as it is (notes
    go to `add_flag_note`)."""
    flag, name = _my_flag(therapist, flag_id)
    now = utcnow()
    note = (data.get("note") or "").strip()
    # of two therapists acknowledging at once, exactly one wins; the other hears 409
    claimed = db.session.execute(
        update(RiskFlag)
        .where(RiskFlag.id == flag.id, RiskFlag.status == "open")
        .values(
            status="acknowledged",
            acknowledged_at=now,
            acknowledged_by_id=therapist.id,
            acknowledgement_note=note,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(flag)
    if claimed != 1:
        raise conflict(
            "This flag is already acknowledged. Add a note to it instead.",
            current=FlagSchema().dump(flag_views([(flag, name)])[0]),
        )
    _add_note(therapist, flag, data, now)
    audit.record(therapist, "acknowledge", flag.patient_id, "risk_flag", [flag.id])
    db.session.flush()
    return flag_views([(flag, name)])[0]


def add_flag_note(therapist: User, flag_id: uuid.UUID, data: dict) -> dict:
    """Add a note to a flag on my caseload, open or acknowledged; an open one stays open."""
    flag, name = _my_flag(therapist, flag_id)
    _add_note(therapist, flag, data, utcnow())
    # the patient's access log reads it as follow-up of their safety answer
    audit.record(therapist, "acknowledge", flag.patient_id, "risk_flag", [flag.id])
    db.session.flush()
    return flag_views([(flag, name)])[0]


# -- sync --------------------------------------------------------------------------------


def serialize(checkin: CheckIn) -> dict:
    return serialize_page([checkin])[0]


def serialize_page(checkins: list[CheckIn]) -> list[dict]:
    flags = _flags_by_checkin([c.id for c in checkins])
    return CheckInSchema(many=True).dump([view(c, flags.get(c.id)) for c in checkins])


def sync_upsert(actor, checkin_id, base_version, data, op_id, last_chance=True) -> dict:
    """Apply a check-in answered offline; its time is when it was answered."""
    try:
        fields = _create_schema.load({**data, "id": str(checkin_id)})
    except ValidationError as exc:
        return result(REJECTED, TYPE, checkin_id, errors={"data": exc.messages})
    fields.pop("id")
    existing = db.session.get(CheckIn, checkin_id)
    if existing is not None:
        if existing.patient_id != actor.id:
            return result(REJECTED, TYPE, checkin_id, errors={"id": ["This id cannot be used."]})
        if existing.answers == fields["answers"]:
            return result(APPLIED, TYPE, existing.id, existing.version)
        return result(
            REJECTED,
            TYPE,
            checkin_id,
            errors={"answers": ["A check-in cannot be changed once answered."]},
        )
    try:
        checkin, flag = _new_checkin(actor, checkin_id, fields)
    except ApiError as exc:
        return result(REJECTED, TYPE, checkin_id, errors={"data": exc.errors["json"]})
    return result(
        APPLIED, TYPE, checkin.id, checkin.version, flag_id=str(flag.id) if flag else None
    )


def sync_delete(actor, checkin_id, base_version) -> dict:
    """Remove a check-in from my history; a flag it raised stays for my therapist."""
    checkin = db.session.get(CheckIn, checkin_id)
    if checkin is None:
        return result(APPLIED, TYPE, checkin_id, None)
    if checkin.patient_id != actor.id:
        return result(REJECTED, TYPE, checkin_id, errors={"id": ["This id cannot be used."]})
    if not checkin.deleted:
        checkin.deleted = True
        checkin.answers = {}
        checkin.version += 1
        clock.stamp(checkin)
        db.session.flush()
    return result(APPLIED, TYPE, checkin.id, checkin.version)


register(
    SyncedType(TYPE, CheckIn, serialize, sync_upsert, sync_delete, serialize_page=serialize_page)
)
