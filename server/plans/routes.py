"""The relapse-prevention plan and the crisis card."""

from __future__ import annotations

import uuid

from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.extensions import db
from server.plans import schemas, service
from server.web import base_version

bp = Blueprint("plans", __name__, url_prefix="/api/v1", description="Relapse-prevention plan")


@bp.get("/plan")
@role_required("patient")
@bp.response(200, schemas.PlanSchema)
def get_plan():
    """My relapse-prevention plan."""
    return service.get_plan(current_actor())


@bp.put("/plan")
@role_required("patient")
@bp.arguments(schemas.PlanUpdateSchema)
@bp.response(200, schemas.PlanSchema)
def put_plan(data):
    """Save my plan from the version I started with; every save is a revision."""
    version = base_version(data.pop("version", None))
    plan = service.update_plan(current_actor(), data, version)
    db.session.commit()
    return plan


@bp.get("/plan/revisions")
@role_required("patient")
@bp.response(200, schemas.RevisionListItemSchema(many=True))
def revisions():
    """Every revision of my plan, newest first, with who made it."""
    return service.list_revisions(current_actor())


@bp.get("/plan/revisions/<int(max=1000000):number>")
@role_required("patient")
@bp.response(200, schemas.RevisionSchema)
def revision(number: int):
    """One revision of my plan."""
    return service.get_revision(current_actor(), number)


@bp.get("/plan/diff")
@role_required("patient")
@bp.arguments(schemas.DiffArgsSchema, location="query")
@bp.response(200, schemas.DiffSchema)
def diff(args):
    """What changed between two revisions of my plan."""
    return service.diff_revisions(current_actor(), args["from_"], args["to"])


@bp.get("/plan/crisis")
@role_required("patient")
@bp.response(200, schemas.CrisisCardSchema)
def crisis():
    """My crisis card: my signs, steps and people, crisis lines, what to do now."""
    return service.crisis_card(current_actor())


@bp.get("/patients/<uuid:patient_id>/plan")
@role_required("therapist")
@bp.response(200, schemas.PlanSchema)
def therapist_get(patient_id: uuid.UUID):
    """A linked patient's plan, while they share it (audited)."""
    plan = service.therapist_get_plan(access.shared_scope(current_actor(), patient_id))
    db.session.commit()
    return plan


@bp.put("/patients/<uuid:patient_id>/plan")
@role_required("therapist")
@bp.arguments(schemas.PlanUpdateSchema)
@bp.response(200, schemas.PlanSchema)
def therapist_put(data, patient_id: uuid.UUID):
    """Revise a linked patient's shared plan; the patient sees that I changed it."""
    version = base_version(data.pop("version", None))
    plan = service.therapist_update_plan(current_actor(), patient_id, data, version)
    db.session.commit()
    return plan
