"""Measurement plans and homework: set by a therapist, answered by the patient."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server import access
from server.assignments import schemas, service
from server.auth.session import current_actor, role_required
from server.extensions import db
from server.web import base_version

bp = Blueprint(
    "assignments",
    __name__,
    url_prefix="/api/v1",
    description="Measurement plans and homework between sessions",
)


@bp.route("/patients/<uuid:patient_id>/assignments")
class PatientAssignments(MethodView):
    decorators = [role_required("therapist")]

    @bp.response(200, schemas.AssignmentListSchema)
    def get(self, patient_id: uuid.UUID):
        """A linked patient's measurement plans and homework (audited)."""
        items = service.list_for_therapist(access.shared_scope(current_actor(), patient_id))
        db.session.commit()
        return {"items": items}

    @bp.arguments(schemas.AssignmentCreateSchema)
    @bp.response(201, schemas.AssignmentSchema)
    def post(self, data, patient_id: uuid.UUID):
        """Set a measurement plan or homework for a linked patient."""
        item = service.create_assignment(current_actor(), patient_id, data)
        db.session.commit()
        return item


@bp.route("/patients/<uuid:patient_id>/assignments/<uuid:assignment_id>")
class PatientAssignmentById(MethodView):
    decorators = [role_required("therapist")]

    @bp.arguments(schemas.AssignmentUpdateSchema)
    @bp.response(200, schemas.AssignmentSchema)
    def patch(self, data, patient_id: uuid.UUID, assignment_id: uuid.UUID):
        """Change what I set, from the version I started with (409 when stale)."""
        version = base_version(data.pop("version", None))
        item = service.update_assignment(current_actor(), patient_id, assignment_id, data, version)
        db.session.commit()
        return item

    @bp.response(204)
    def delete(self, patient_id: uuid.UUID, assignment_id: uuid.UUID):
        """Take an assignment back (the patient's devices learn of it)."""
        service.delete_assignment(current_actor(), patient_id, assignment_id)
        db.session.commit()


@bp.get("/assignments")
@role_required("patient")
@bp.response(200, schemas.AssignmentListSchema)
def my_assignments():
    """My measurement plans and homework, and who set each."""
    return {"items": service.my_assignments(current_actor())}


@bp.post("/assignments/<uuid:assignment_id>/done")
@role_required("patient")
@bp.arguments(schemas.DoneSchema)
@bp.response(200, schemas.AssignmentSchema)
def done(data, assignment_id: uuid.UUID):
    """I did this homework (naming the journal entry that answered it, if any)."""
    item = service.mark_done(current_actor(), assignment_id, data["entry_id"])
    db.session.commit()
    return item


@bp.post("/assignments/<uuid:assignment_id>/skip")
@role_required("patient")
@bp.arguments(schemas.SkipSchema)
@bp.response(200, schemas.AssignmentSchema)
def skip(data, assignment_id: uuid.UUID):
    """I am skipping this homework, and why (my therapist sees the reason)."""
    item = service.skip(current_actor(), assignment_id, data["reason"])
    db.session.commit()
    return item


@bp.post("/assignments/<uuid:assignment_id>/snooze")
@role_required("patient")
@bp.arguments(schemas.SnoozeSchema)
@bp.response(200, schemas.AssignmentSchema)
def snooze(data, assignment_id: uuid.UUID):
    """Remind me of this homework later."""
    item = service.snooze(current_actor(), assignment_id, data["until"])
    db.session.commit()
    return item


@bp.post("/assignments/<uuid:assignment_id>/pause")
@role_required("patient")
@bp.arguments(schemas.PauseSchema)
@bp.response(200, schemas.AssignmentSchema)
def pause(data, assignment_id: uuid.UUID):
    """Pause a measurement plan, or resume it (my therapist sees that it is paused)."""
    item = service.pause(current_actor(), assignment_id, data["paused"])
    db.session.commit()
    return item
