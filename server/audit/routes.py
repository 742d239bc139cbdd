"""A patient's view of who looked at what."""

from __future__ import annotations

from flask_smorest import Blueprint

from server.audit import schemas, service
from server.auth.session import current_actor, role_required

bp = Blueprint("audit", __name__, url_prefix="/api/v1", description="Access log")


@bp.get("/me/access-log")
@role_required("patient")
@bp.arguments(schemas.AccessLogArgsSchema, location="query")
@bp.response(200, schemas.AccessLogSchema)
def access_log(args):
    """Who looked at or changed what of mine, and when."""
    return service.access_log(current_actor(), args["limit"], args["cursor"])
