"""Journal entries for patients, and the shared ones for their therapists."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.extensions import db
from server.journal import activity, schemas, service
from server.parts import schemas as parts_schemas
from server.web import base_version

bp = Blueprint("journal", __name__, url_prefix="/api/v1", description="Journal")


@bp.route("/journal/entries")
class Entries(MethodView):
    decorators = [role_required("patient")]

    @bp.arguments(schemas.EntryQuerySchema, location="query")
    @bp.response(200, schemas.EntryPageSchema)
    def get(self, args):
        """My journal entries, newest first."""
        entries, next_cursor = service.list_entries(current_actor(), args)
        return {"entries": [service.serialize(e) for e in entries], "next_cursor": next_cursor}

    @bp.arguments(schemas.EntryCreateSchema)
    @bp.response(201, schemas.EntrySchema)
    def post(self, data):
        """Write a new entry (private unless I share it)."""
        entry, _created = service.create_entry(current_actor(), data)
        db.session.commit()
        return service.serialize(entry)


@bp.route("/journal/entries/<uuid:entry_id>")
class EntryById(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.EntrySchema)
    def get(self, entry_id: uuid.UUID):
        """One of my entries."""
        return service.serialize(service.get_entry(current_actor(), entry_id))

    @bp.arguments(schemas.EntryUpdateSchema)
    @bp.response(200, schemas.EntrySchema)
    def put(self, data, entry_id: uuid.UUID):
        """Edit an entry from the version I started with; a stale version is 409."""
        base = base_version(data.pop("version", None))
        entry = service.update_entry(current_actor(), entry_id, data, base)
        db.session.commit()
        return service.serialize(entry)

    @bp.arguments(schemas.VersionArgsSchema, location="query")
    @bp.response(204)
    def delete(self, args, entry_id: uuid.UUID):
        """Delete an entry (from the version I last saw); it syncs as a tombstone."""
        service.delete_entry(current_actor(), entry_id, base_version(args.get("version")))
        db.session.commit()


@bp.get("/journal/prompts")
@role_required("patient")
@bp.arguments(schemas.PromptQuerySchema, location="query")
@bp.response(200, schemas.PromptSchema(many=True))
def prompts(args):
    """Integration prompts by context, with those my therapist wrote for me."""
    return service.list_prompts(current_actor(), args["context"])


@bp.get("/patients/<uuid:patient_id>/journal/entries")
@role_required("therapist")
@bp.arguments(schemas.EntryQuerySchema, location="query")
@bp.response(200, schemas.TherapistEntryPageSchema)
def shared_entries(args, patient_id: uuid.UUID):
    """A linked patient's shared entries, newest first (audited)."""
    entries, next_cursor = service.list_shared_entries(
        access.shared_scope(current_actor(), patient_id), args
    )
    db.session.commit()
    return {"entries": [service.serialize(e) for e in entries], "next_cursor": next_cursor}


@bp.post("/patients/<uuid:patient_id>/journal/entries/<uuid:entry_id>/read")
@role_required("therapist")
@bp.response(200, schemas.TherapistEntrySchema)
def mark_read(patient_id: uuid.UUID, entry_id: uuid.UUID):
    """Mark a shared entry as read; the patient sees when."""
    entry = service.mark_read(access.shared_scope(current_actor(), patient_id), entry_id)
    db.session.commit()
    return service.serialize(entry)


@bp.post("/patients/<uuid:patient_id>/journal/prompts")
@role_required("therapist")
@bp.arguments(schemas.PromptCreateSchema)
@bp.response(201, schemas.PromptSchema)
def add_prompt(data, patient_id: uuid.UUID):
    """Write a journal prompt for one of my patients."""
    prompt = service.add_prompt(access.shared_scope(current_actor(), patient_id), data)
    db.session.commit()
    return prompt


@bp.get("/parts/<uuid:part_id>/activity")
@role_required("patient")
@bp.response(200, parts_schemas.ActivitySchema)
def part_activity(part_id: uuid.UUID):
    """How often a part appears in my entries, per week, and those entries."""
    return activity.part_activity(current_actor(), part_id)
