"""My data: take it all with me, or delete it all."""

from __future__ import annotations

from flask import make_response, render_template, session
from flask_login import login_required, logout_user
from flask_smorest import Blueprint

from server.auth.session import current_actor, password_checked
from server.extensions import db
from server.privacy import schemas, service

bp = Blueprint("privacy", __name__, url_prefix="/api/v1", description="Export and deletion")


@bp.get("/me/export")
@login_required
@bp.arguments(schemas.ExportArgsSchema, location="query")
@bp.response(200, schemas.ExportSchema)
@bp.alt_response(
    200,
    description="The same, as a printable page (format=html)",
    content_type="text/html",
    success=True,
)
def export(args):
    """Everything I have in Between, as JSON or a printable page (audited)."""
    document = service.export_account(current_actor())
    db.session.commit()
    if args["format"] == "html":
        # a Response passes through flask-smorest untouched
        return make_response(render_template("export.html", doc=document))
    return document


@bp.delete("/me")
@login_required
@password_checked
@bp.arguments(schemas.DeleteAccountSchema)
@bp.response(204)
def delete_me(data):
    """Delete my account and everything in it; answers once it is done."""
    service.delete_account(current_actor(), data["password"])
    db.session.commit()
    logout_user()
    session.clear()
