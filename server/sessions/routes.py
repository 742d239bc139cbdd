"""The treatment timeline."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.extensions import db
from server.sessions import schemas, service
from server.web import base_version

bp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Treatment sessions")


@bp.get("/sessions")
@role_required("patient")
@bp.response(200, schemas.MySessionsSchema)
def my_sessions():
    """My sessions, upcoming and past."""
    return service.my_sessions(current_actor())


@bp.route("/patients/<uuid:patient_id>/sessions")
class PatientSessions(MethodView):
    decorators = [role_required("therapist")]

    @bp.response(200, schemas.TreatmentSessionSchema(many=True))
    def get(self, patient_id: uuid.UUID):
        """A linked patient's sessions (audited)."""
        sessions = service.list_for_therapist(access.shared_scope(current_actor(), patient_id))
        db.session.commit()
        return [service.view(s) for s in sessions]

    @bp.arguments(schemas.TreatmentSessionCreateSchema)
    @bp.response(201, schemas.TreatmentSessionSchema)
    def post(self, data, patient_id: uuid.UUID):
        """Schedule a session for a linked patient."""
        session = service.create_session(current_actor(), patient_id, data)
        db.session.commit()
        return service.view(session)


@bp.route("/patients/<uuid:patient_id>/sessions/<uuid:session_id>")
class PatientSessionById(MethodView):
    decorators = [role_required("therapist")]

    @bp.arguments(schemas.TreatmentSessionUpdateSchema)
    @bp.response(200, schemas.TreatmentSessionSchema)
    def put(self, data, patient_id: uuid.UUID, session_id: uuid.UUID):
        """Change a session from the version I started with."""
        version = base_version(data.pop("version", None))
        session = service.update_session(current_actor(), patient_id, session_id, data, version)
        db.session.commit()
        return service.view(session)

    @bp.response(204)
    def delete(self, patient_id: uuid.UUID, session_id: uuid.UUID):
        """Cancel a session."""
        service.cancel_session(current_actor(), patient_id, session_id)
        db.session.commit()
