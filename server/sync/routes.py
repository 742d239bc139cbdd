"""Offline sync for the patient's devices."""

from __future__ import annotations

from flask import current_app
from flask_smorest import Blueprint

from server.auth.session import current_actor, role_required
from server.extensions import db
from server.sync import schemas, service

bp = Blueprint("sync", __name__, url_prefix="/api/v1/sync", description="Offline sync")


@bp.get("/changes")
@role_required("patient")
@bp.arguments(schemas.ChangesArgsSchema, location="query")
@bp.response(200, schemas.ChangesSchema)
def changes(args):
    """Changes to my data after a cursor, oldest first.

    Pass the returned `cursor` as `since` next time: every change up to it has been sent.
    An empty page can still move the cursor on, past numbers that named no change.
    """
    page = service.changes(current_actor(), int(args["since"]), args["limit"])
    # the page is already in its wire form (each type serialises its rows once): answered
    # as it is, not dumped a second time through ChangesSchema, which documents it
    return current_app.json.response(page)


@bp.post("/push")
@role_required("patient")
@bp.arguments(schemas.PushSchema)
@bp.response(200, schemas.PushResultSchema)
def push(data):
    """Apply a batch of changes made on a device; one result per operation."""
    results = service.push(current_actor(), data["ops"])
    db.session.commit()
    return {"results": results}
