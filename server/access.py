"""Who may see what: the one place privacy is decided.

- A patient reaches only rows whose `patient_id` is their own.
- A therapist reaches a patient only through an active care link, and then only rows
  the patient shared. Everything else is "not found": existence does not leak.

Services ask here; they never build an ownership filter of their own.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, select

from server.auth.models import Role, User
from server.care.models import CareLink
from server.errors import not_found
from server.extensions import db


def active_link_clause(therapist_id, patient_id_column):
    """SQL: an active care link joins this therapist to the row's patient."""
    return exists().where(
        CareLink.therapist_id == therapist_id,
        CareLink.patient_id == patient_id_column,
        CareLink.ended_at.is_(None),
    )


def is_linked(therapist: User, patient_id: uuid.UUID) -> bool:
    if therapist.role is not Role.THERAPIST:
        return False
    return bool(db.session.scalar(select(active_link_clause(therapist.id, patient_id))))


def linked_patient(actor: User, patient_id: uuid.UUID) -> User:
    """The patient behind `patient_id` if this therapist is linked to them, else 404."""
    if not is_linked(actor, patient_id):
        raise not_found("No such patient.")
    patient = db.session.get(User, patient_id)
    if patient is None:
        raise not_found("No such patient.")
    return patient


def own_rows(actor: User, model) -> Select:
    """Rows of `model` that belong to the acting patient."""
    return select(model).where(model.patient_id == actor.id)


def shared_rows(actor: User, model, patient_id: uuid.UUID) -> Select:
    """Rows of `model` a linked therapist may read: shared ones of a linked patient.

    The link is part of the query, so a link ended a moment ago hides everything.
    """
    query = select(model).where(
        model.patient_id == patient_id,
        active_link_clause(actor.id, model.patient_id),
    )
    if hasattr(model, "shared"):
        query = query.where(model.shared.is_(True))
    return query
