"""Invites, joining a care team, and ending a link. Flushes, never commits."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import timedelta
from urllib.parse import quote

import segno
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from server.auth.models import User
from server.care.models import CareLink, Invite
from server.db import utcnow
from server.errors import ApiError, not_found, validation_error
from server.extensions import db

# No 0/O, 1/I/L: a code read aloud or typed from paper survives.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def create_invite(therapist: User, ttl_days: int) -> tuple[Invite, str]:
    """A new single-use invite; returns it with its code (shown once, stored hashed)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = f"{raw[:4]}-{raw[4:]}"
    invite = Invite(
        code_hash=_hash_code(code),
        therapist_id=therapist.id,
        expires_at=utcnow() + timedelta(days=ttl_days),
    )
    db.session.add(invite)
    db.session.flush()
    return invite, code


def invite_link(public_url: str, code: str) -> dict:
    """The link a therapist shares (account creation with the code filled in), and the
    same link as a QR code to show on screen or print."""
    url = f"{public_url.rstrip('/')}/#/signin/create?code={quote(code)}"
    return {"url": url, "qr_svg_data_uri": segno.make(url, error="m").svg_data_uri(scale=4)}


def join_care_team(patient: User, code: str) -> CareLink:
    """Redeem an invite code: link this patient to the therapist who made it."""
    now = utcnow()
    invite = db.session.scalar(select(Invite).where(Invite.code_hash == _hash_code(code)))
    refused = validation_error(
        {"code": [_("This code is unknown, used or expired. Ask your therapist for a new one.")]}
    )
    if invite is None or invite.redeemed_at is not None or invite.expires_at <= now:
        raise refused
    already = db.session.scalar(
        select(CareLink).where(
            CareLink.therapist_id == invite.therapist_id,
            CareLink.patient_id == patient.id,
            CareLink.ended_at.is_(None),
        )
    )
    if already is not None:
        raise ApiError(409, _("You are already in this therapist's care team."))
    # Claim the code atomically: of two racing redemptions exactly one wins.
    claimed = db.session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.redeemed_at.is_(None))
        .values(redeemed_at=now, redeemed_by_id=patient.id)
    ).rowcount
    if claimed != 1:
        raise refused
    link = CareLink(therapist_id=invite.therapist_id, patient_id=patient.id)
    db.session.add(link)
    db.session.flush()
    return link


def list_care_team(actor: User) -> list[CareLink]:
    """My active links; each side sees the other."""
    return list(
        db.session.scalars(
            select(CareLink)
            .where(
                or_(CareLink.therapist_id == actor.id, CareLink.patient_id == actor.id),
                CareLink.ended_at.is_(None),
            )
            .order_by(CareLink.created_at)
        )
    )


def end_link(actor: User, link_id: uuid.UUID) -> None:
    """Either side ends a link; the therapist's access ends with it."""
    link = db.session.get(CareLink, link_id)
    if (
        link is None
        or link.ended_at is not None
        or actor.id not in (link.therapist_id, link.patient_id)
    ):
        raise not_found(_("No such care-team link."))
    link.ended_at = utcnow()
    link.ended_by_id = actor.id
    db.session.flush()
