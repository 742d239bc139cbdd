"""Check-ins, trends, risk flags, and the plan's maintenance rules.

Flushes, never commits; knows no HTTP. Patient data is reached only through `access`.
"""

from __future__ import annotations

import uuid

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import tuple_, update

from server import access, events, i18n, localtime, pagination
from server.audit import service as audit
from server.auth.models import User
from server.checkins import instruments, scoring
from server.checkins.models import CheckIn, FlagNote, RiskFlag
from server.checkins.read import (  # re-exported: the check-in routes and the sync protocol
    answered_local,  # noqa: F401
    flag_view,  # noqa: F401
    flag_views,
    maintenance_status,
    risk_answer,  # noqa: F401
    trends,
    view,
)
from server.checkins.read import flags_by_checkin as _flags_by_checkin
from server.checkins.schemas import CheckInCreateSchema, CheckInSchema, FlagSchema
from server.db import utcnow
from server.errors import ApiError, conflict, not_found, validation_error
from server.extensions import db
from server.plans import read as plans_read
from server.sync import clock
from server.sync.registry import Push, SyncedType, register

TYPE = "checkin"
NOBODY_ALERTED = _l(
    "You are not connected to a therapist in Between, so nobody was alerted. "
    "Please use your crisis card now."
)
ALERTED = _l(
    "Your therapist will see this answer, but not in real time. If you are in danger, "
    "use your crisis card now."
)
_create_schema = CheckInCreateSchema()


def list_instruments() -> list[dict]:
    """The questionnaires in the language of the request (the PHQ-9 and GAD-7 only in
    their published translations)."""
    return list(instruments.for_language(i18n.language()))


# -- answering ---------------------------------------------------------------------------


def _linked_therapist_count(patient_id: uuid.UUID) -> int:
    return len(db.session.scalars(access.linked_therapist_ids(patient_id)).all())


def _new_checkin(actor: User, checkin_id, data: dict) -> tuple[CheckIn, RiskFlag | None]:
    try:
        scoring.validate_answers(data["instrument"], data["answers"])
    except scoring.AnswerError as exc:
        raise validation_error({"answers": exc.errors}) from exc
    scored = scoring.score(data["instrument"], data["answers"])
    answered_at, answered_offset_minutes = localtime.split(data["answered_at"])
    checkin = CheckIn(
        id=checkin_id or uuid.uuid4(),
        patient_id=actor.id,
        instrument=data["instrument"],
        answers=data["answers"],
        answered_at=answered_at,
        answered_offset_minutes=answered_offset_minutes,
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
        # linked therapists hear "a check-in needs your review" on their devices and by
        # mail (reminders and alerts receive it): no name, no score
        events.send(events.risk_flagged, actor.id, flag_id=flag.id)
    return checkin, flag


def record_checkin(actor: User, data: dict) -> dict:
    """Store my answers, score them, raise a flag for a dangerous answer, and answer
    with what I need right now. The same id sent again changes nothing."""
    checkin_id = data.pop("id", None)
    clock.lock(actor.id)
    if checkin_id is not None and (existing := db.session.get(CheckIn, checkin_id)):
        if existing.patient_id != actor.id:
            raise ApiError(409, _("This id is already in use."))
        if existing.answers != data["answers"] or existing.instrument != data["instrument"]:
            raise conflict(
                _("A check-in with this id has other answers."),
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
        card = plans_read.crisis_card(actor)
        card["maintenance_suggested"] = maintenance["suggested"]
        answer.update(
            crisis_card=card,
            alerted_therapists=therapists,
            message=ALERTED if therapists else NOBODY_ALERTED,
        )
    return answer


# -- maintenance rules -------------------------------------------------------------------


# -- reading -----------------------------------------------------------------------------


def _page(scope, args: dict):
    query = scope.select(CheckIn).where(CheckIn.deleted.is_(False))
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
        [view(c, flags.get(c.id), withheld=scope.withheld(c)) for c in page],
        pagination.encode(rows[limit - 1].answered_at, rows[limit - 1].id)
        if len(rows) > limit
        else None,
    )


def list_checkins(actor: User, args: dict) -> dict:
    """My check-ins, newest first."""
    checkins, next_cursor = _page(access.own_scope(actor), args)
    return {"checkins": checkins, "next_cursor": next_cursor}


def therapist_checkins(scope: access.SharedScope, args: dict) -> dict:
    """A linked patient's check-ins (scores are shared with the care team; audited)."""
    checkins, next_cursor = _page(scope, args)
    scope.read(TYPE, [c["id"] for c in checkins])
    return {"checkins": checkins, "next_cursor": next_cursor}


def therapist_trends(scope: access.SharedScope, args: dict) -> dict:
    """A linked patient's trend (audited)."""
    answer = trends(scope, args["instrument"], args.get("from_"), args.get("to"))
    scope.read("checkin_trend")
    return answer


# -- flags -------------------------------------------------------------------------------


def _caseload_flags(therapist: User):
    return (
        access.caseload_scope(therapist)
        .select(RiskFlag, RiskFlag, User.display_name)
        .join(User, User.id == RiskFlag.patient_id)
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
    caseload = access.caseload_scope(therapist)
    for patient_id, flag_ids in by_patient.items():  # one event per patient read
        caseload.read(patient_id, "risk_flag", flag_ids)
    return flag_views(rows)


def _my_flag(therapist: User, flag_id: uuid.UUID) -> tuple[RiskFlag, str]:
    """A flag of a patient on my caseload, else 404 (hidden and missing look alike)."""
    row = db.session.execute(_caseload_flags(therapist).where(RiskFlag.id == flag_id)).first()
    if row is None:
        raise not_found(_("No such flag."))
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
            _("This flag is already acknowledged. Add a note to it instead."),
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


def _load_pushed(data: dict) -> dict:
    """A check-in's answers as a device sends them; its id is the op's, not the data's."""
    fields = _create_schema.load(data)
    fields.pop("id", None)
    return fields


def _pushed_checkin(push: Push) -> dict:
    """A check-in answered offline; its time is when it was answered."""
    try:
        checkin, flag = _new_checkin(push.actor, push.id, push.fields)
    except ApiError as exc:
        return push.rejected({"data": exc.errors["json"]})
    return push.applied(checkin, flag_id=str(flag.id) if flag else None)


def _merge_checkin(push: Push, checkin: CheckIn) -> dict:
    """A check-in sent again: the same answers are the same check-in; other answers are
    refused, as answers cannot change."""
    if checkin.answers == push.fields["answers"]:
        return push.applied(checkin)
    return push.rejected({"answers": [_("A check-in cannot be changed once answered.")]})


def _forget_answers(_actor: User, checkin: CheckIn) -> None:
    """Removed from my history, its answers go; a flag it raised stays for my therapist."""
    checkin.answers = {}


register(
    SyncedType(
        TYPE,
        CheckIn,
        serialize,
        load=_load_pushed,
        create=_pushed_checkin,
        merge=_merge_checkin,
        on_delete=_forget_answers,
        stale_delete_conflicts=False,  # answers never change: no newer copy to keep
        serialize_page=serialize_page,
    )
)
