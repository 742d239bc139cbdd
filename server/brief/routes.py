"""The therapist's morning: caseload and pre-session brief."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.brief import schemas, service
from server.extensions import db

bp = Blueprint("brief", __name__, url_prefix="/api/v1", description="Caseload and brief")


@bp.get("/caseload")
@role_required("therapist")
@bp.arguments(schemas.CaseloadArgsSchema, location="query")
@bp.response(200, schemas.CaseloadRowSchema(many=True))
def caseload(args):
    """My patients, open flags first: activity, next session, scores, plan review."""
    rows = service.caseload(current_actor(), args["sort"])
    db.session.commit()
    return rows


@bp.get("/patients/<uuid:patient_id>/brief")
@role_required("therapist")
@bp.arguments(schemas.BriefArgsSchema, location="query")
@bp.response(200, schemas.BriefSchema)
def brief(args, patient_id: uuid.UUID):
    """What happened since the last integration session, as far as the patient shared."""
    answer = service.brief(access.shared_scope(current_actor(), patient_id), args["since"])
    db.session.commit()
    return answer
