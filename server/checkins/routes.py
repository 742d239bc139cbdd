"""Check-ins, trends and risk flags."""

from __future__ import annotations

import uuid

from flask import make_response
from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.checkins import fhir, schemas, service
from server.extensions import db

bp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Check-ins and flags")


@bp.get("/checkins/instruments")
@role_required("patient")
@bp.response(200)
def instruments():
    """The questionnaires in my language (Content-Language names it): items, answer
    options, time frames."""
    return service.list_instruments()


@bp.post("/checkins")
@role_required("patient")
@bp.arguments(schemas.CheckInCreateSchema)
@bp.response(201, schemas.CheckInResultSchema)
def answer(data):
    """Answer a check-in; a risky answer returns my crisis card at once."""
    outcome = service.record_checkin(current_actor(), data)
    db.session.commit()
    return outcome


@bp.get("/checkins")
@role_required("patient")
@bp.arguments(schemas.CheckInQuerySchema, location="query")
@bp.response(200, schemas.CheckInPageSchema)
def my_checkins(args):
    """My check-ins, newest first."""
    return service.list_checkins(current_actor(), args)


@bp.get("/checkins/trends")
@role_required("patient")
@bp.arguments(schemas.TrendQuerySchema, location="query")
@bp.response(200, schemas.TrendSchema)
def my_trends(args):
    """My scores over time, with baseline and change."""
    return service.trends(
        access.own_scope(current_actor()), args["instrument"], args["from_"], args["to"]
    )


@bp.get("/patients/<uuid:patient_id>/checkins")
@role_required("therapist")
@bp.arguments(schemas.CheckInQuerySchema, location="query")
@bp.response(200, schemas.CheckInPageSchema)
def patient_checkins(args, patient_id: uuid.UUID):
    """A linked patient's check-ins (audited)."""
    answer = service.therapist_checkins(access.shared_scope(current_actor(), patient_id), args)
    db.session.commit()
    return answer


@bp.get("/patients/<uuid:patient_id>/checkins/trends")
@role_required("therapist")
@bp.arguments(schemas.TrendQuerySchema, location="query")
@bp.response(200, schemas.TrendSchema)
def patient_trends(args, patient_id: uuid.UUID):
    """A linked patient's scores over time (audited)."""
    answer = service.therapist_trends(access.shared_scope(current_actor(), patient_id), args)
    db.session.commit()
    return answer


def _fhir(document: str):
    # a Response passes through flask-smorest untouched
    return make_response(document, 200, {"Content-Type": fhir.MEDIA_TYPE})


FHIR_ANSWER = (
    "A FHIR R4B (4.3.0) Bundle, type collection: the PHQ-9 and GAD-7 Questionnaires, one "
    "QuestionnaireResponse per PHQ-9 or GAD-7 (in-progress when unfinished), one "
    "Observation per total score of a complete one, with its severity band, and a Patient "
    "that is only an id. LOINC codes throughout; never the daily check-in's note or any "
    "other words the patient wrote."
)


@bp.get("/me/fhir")
@role_required("patient")
@bp.response(200, content_type="application/fhir+json", description=FHIR_ANSWER)
def my_fhir():
    """My PHQ-9 and GAD-7 answers and scores as a FHIR R4B Bundle (audited)."""
    document = fhir.export_mine(current_actor())
    db.session.commit()
    return _fhir(document)


@bp.get("/patients/<uuid:patient_id>/fhir")
@role_required("therapist")
@bp.response(200, content_type="application/fhir+json", description=FHIR_ANSWER)
def patient_fhir(patient_id: uuid.UUID):
    """A linked patient's PHQ-9 and GAD-7 answers and scores as a FHIR R4B Bundle
    (audited)."""
    document = fhir.export_for_therapist(access.shared_scope(current_actor(), patient_id))
    db.session.commit()
    return _fhir(document)


@bp.get("/flags")
@role_required("therapist")
@bp.arguments(schemas.FlagQuerySchema, location="query")
@bp.response(200, schemas.FlagSchema(many=True))
def flags(args):
    """Risk flags across my caseload, open first."""
    answer = service.list_flags(current_actor(), args["status"])
    db.session.commit()
    return answer


@bp.post("/flags/<uuid:flag_id>/acknowledge")
@role_required("therapist")
@bp.arguments(schemas.AcknowledgeSchema)
@bp.response(200, schemas.FlagSchema)
def acknowledge(data, flag_id: uuid.UUID):
    """Acknowledge a risk flag: what I did, a note, or both (once; then add notes)."""
    answer = service.acknowledge_flag(current_actor(), flag_id, data)
    db.session.commit()
    return answer


@bp.post("/flags/<uuid:flag_id>/notes")
@role_required("therapist")
@bp.arguments(schemas.FlagNoteCreateSchema)
@bp.response(201, schemas.FlagSchema)
def add_note(data, flag_id: uuid.UUID):
    """Add a note to a risk flag, open or acknowledged."""
    answer = service.add_flag_note(current_actor(), flag_id, data)
    db.session.commit()
    return answer
