"""Invites and the care team."""

from __future__ import annotations

import uuid

from flask import current_app
from flask_login import login_required
from flask_smorest import Blueprint

from server.auth.session import current_actor, role_required
from server.care import schemas, service
from server.extensions import db, limiter

bp = Blueprint("care", __name__, url_prefix="/api/v1", description="Care team")


@bp.post("/invites")
@role_required("therapist")
@bp.response(201, schemas.InviteSchema)
def create_invite():
    """Make a single-use invite code for a new patient (valid 7 days)."""
    invite, code = service.create_invite(current_actor(), current_app.config["INVITE_TTL_DAYS"])
    db.session.commit()
    return {
        "code": code,
        "expires_at": invite.expires_at,
        **service.invite_link(current_app.config["PUBLIC_URL"], code),
    }


@bp.post("/care-team/join")
@limiter.limit(lambda: current_app.config["RATELIMIT_JOIN"])
@role_required("patient")
@bp.arguments(schemas.JoinSchema)
@bp.response(201, schemas.CareLinkSchema)
def join(data):
    """Join my therapist's care team with the code they gave me."""
    link = service.join_care_team(current_actor(), data["code"])
    db.session.commit()
    return link


@bp.get("/care-team")
@login_required
@bp.response(200, schemas.CareLinkSchema(many=True))
def care_team():
    """My care team: my therapists, or my patients."""
    return service.list_care_team(current_actor())


@bp.delete("/care-team/<uuid:link_id>")
@login_required
@bp.response(204)
def leave(link_id: uuid.UUID):
    """End a care-team link; the therapist's access ends at once."""
    service.end_link(current_actor(), link_id)
    db.session.commit()
