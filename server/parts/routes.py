"""IFS parts maps for patients, and the shared map for their therapists."""

from __future__ import annotations

import uuid

from flask.views import MethodView
from flask_smorest import Blueprint

from server import access
from server.auth.session import current_actor, role_required
from server.extensions import db
from server.parts import schemas, service
from server.schemas import VersionArgsSchema
from server.web import base_version

bp = Blueprint("parts", __name__, url_prefix="/api/v1", description="IFS parts maps")


@bp.route("/parts")
class Parts(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.PartSchema(many=True))
    def get(self):
        """My parts."""
        return service.list_parts(current_actor())

    @bp.arguments(schemas.PartCreateSchema)
    @bp.response(201, schemas.PartSchema)
    def post(self, data):
        """Add a part to my map."""
        part = service.create_part(current_actor(), data)
        db.session.commit()
        return part


@bp.route("/parts/<uuid:part_id>")
class PartById(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.PartSchema)
    def get(self, part_id: uuid.UUID):
        """One of my parts."""
        return service.get_part(current_actor(), part_id)

    @bp.arguments(schemas.PartUpdateSchema)
    @bp.response(200, schemas.PartSchema)
    def put(self, data, part_id: uuid.UUID):
        """Edit a part from the version I started with; a stale version is 409."""
        version = base_version(data.pop("version", None))
        part = service.update_part(current_actor(), part_id, data, version)
        db.session.commit()
        return part

    @bp.arguments(VersionArgsSchema, location="query")
    @bp.response(204)
    def delete(self, args, part_id: uuid.UUID):
        """Remove a part; its relations end and entries drop the link."""
        service.delete_part(current_actor(), part_id, base_version(args.get("version")))
        db.session.commit()


@bp.route("/parts/relations")
class Relations(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.RelationSchema(many=True))
    def get(self):
        """Relations between my parts."""
        return service.list_relations(current_actor())

    @bp.arguments(schemas.RelationCreateSchema)
    @bp.response(201, schemas.RelationSchema)
    def post(self, data):
        """Relate two of my parts."""
        relation = service.create_relation(current_actor(), data)
        db.session.commit()
        return relation


@bp.route("/parts/relations/<uuid:relation_id>")
class RelationById(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.RelationSchema)
    def get(self, relation_id: uuid.UUID):
        """One relation."""
        return service.get_relation(current_actor(), relation_id)

    @bp.arguments(schemas.RelationUpdateSchema)
    @bp.response(200, schemas.RelationSchema)
    def put(self, data, relation_id: uuid.UUID):
        """Edit a relation from the version I started with."""
        version = base_version(data.pop("version", None))
        relation = service.update_relation(current_actor(), relation_id, data, version)
        db.session.commit()
        return relation

    @bp.arguments(VersionArgsSchema, location="query")
    @bp.response(204)
    def delete(self, args, relation_id: uuid.UUID):
        """End a relation."""
        service.delete_relation(current_actor(), relation_id, base_version(args.get("version")))
        db.session.commit()


@bp.route("/parts/map")
class PartsMap(MethodView):
    decorators = [role_required("patient")]

    @bp.response(200, schemas.MapSchema)
    def get(self):
        """My whole map: live parts and relations, and whether it is shared."""
        return service.get_map(current_actor())

    @bp.arguments(schemas.MapUpdateSchema)
    @bp.response(200, schemas.MapSchema)
    def put(self, data):
        """Share my map with my therapists, or stop sharing it."""
        answer = service.set_map_shared(current_actor(), data["shared"])
        db.session.commit()
        return answer


@bp.get("/parts/changes")
@role_required("patient")
@bp.arguments(schemas.PartChangesArgsSchema, location="query")
@bp.response(200, schemas.PartChangeSchema(many=True))
def changes(args):
    """What changed on my map since a date, as sentences."""
    return service.list_changes(current_actor(), args["since"])


@bp.get("/patients/<uuid:patient_id>/parts/map")
@role_required("therapist")
@bp.response(200, schemas.MapSchema)
def shared_map(patient_id: uuid.UUID):
    """A linked patient's parts map, while they share it (audited)."""
    answer = service.shared_map(access.shared_scope(current_actor(), patient_id))
    db.session.commit()
    return answer
