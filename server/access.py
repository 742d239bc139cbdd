"""Who may see what: the one place privacy is decided.

- A patient reaches only rows whose owner is themselves (`own_scope`).
- A therapist reaches a patient only through an active care link (`shared_scope`), and
  then only what the patient shared, by the rule `RULES` holds for that model. A model
  without a rule is not readable at all: asking for it raises, it never means
  "everything". Everything else is "not found": existence does not leak.

Services compose these scopes; they never build an ownership or sharing filter of their
own, and a therapist read takes the scope object, not a bare patient id, so a read that
forgot the link check cannot be written by accident. The active-link SQL is here once
(`active_link`), for every feature that asks who is linked to whom.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, exists, select

from server.assignments.models import Assignment
from server.audit import service as audit
from server.auth.models import Role, User
from server.care.models import CareLink
from server.checkins.models import CheckIn, RiskFlag
from server.errors import not_found
from server.extensions import db
from server.journal.models import JournalEntry, JournalPrompt
from server.parts.models import Part, PartChange, PartRelation, PartsMap
from server.plans.models import Plan, PlanRevision
from server.reminders.models import PushDelivery, PushSubscription, ReminderOccurrence
from server.sessions.models import TreatmentSession

# -- the care link -----------------------------------------------------------------------


def active_link(*, therapist_id=None, patient_id=None) -> ColumnElement[bool]:
    """SQL: an active (not ended) care link, for this therapist and/or this patient (an id
    or a column to correlate with). Every "who is linked" question asks this."""
    clauses = [CareLink.ended_at.is_(None)]
    if therapist_id is not None:
        clauses.append(CareLink.therapist_id == therapist_id)
    if patient_id is not None:
        clauses.append(CareLink.patient_id == patient_id)
    return and_(*clauses)


def active_link_clause(therapist_id, patient_id_column) -> ColumnElement[bool]:
    """SQL: an active care link joins this therapist to the row's patient."""
    return exists().where(active_link(therapist_id=therapist_id, patient_id=patient_id_column))


def linked_therapist_ids(patient_id: uuid.UUID) -> Select:
    """The therapists actively linked to a patient, as a select of their ids."""
    return select(CareLink.therapist_id).where(active_link(patient_id=patient_id))


# -- the rules ---------------------------------------------------------------------------


def _map_shared(model) -> ColumnElement[bool]:
    return exists().where(PartsMap.patient_id == model.patient_id, PartsMap.shared.is_(True))


def _plan_shared(model) -> ColumnElement[bool]:
    return exists().where(Plan.patient_id == model.patient_id, Plan.shared.is_(True))


def _nothing_withheld(_row) -> frozenset:
    return frozenset()


@dataclass(frozen=True)
class Rule:
    """What a linked therapist reads of one model.

    `rows(scope, model)` gives the SQL conditions a row must meet; `withheld(row)` the
    answer keys of a readable row the therapist still must not see; `owner` the column
    naming whose row it is."""

    says: str
    rows: Callable[[SharedScope, type], tuple] = lambda scope, model: ()
    withheld: Callable[[object], frozenset] = _nothing_withheld
    owner: str = "patient_id"
    # columns the care team reads whatever the patient shares (`SharedScope.always`)
    always: tuple[str, ...] = ()


def _private_note(checkin: CheckIn) -> frozenset:
    return frozenset({"note"}) if checkin.note_private else frozenset()


# One entry per readable model. What the care team sees, said once: shared entries,
# a shared plan and map, check-in scores (a note kept private stays private), safety
# answers' flags, the sessions they set, and how reminders were followed. Seen whatever
# the patient shares: whether the plan and map are shared, when the plan's review is
# due (`always` below), and whether the plan's own rules suggest a maintenance session
# (a yes/no worked out over the patient's own rows: checkins/read.py).
RULES: dict[type, Rule] = {
    JournalEntry: Rule(
        "entries the patient shared",
        lambda scope, m: (m.shared.is_(True), m.deleted.is_(False)),
    ),
    # whether the plan is shared, and when its review is due, are seen either way
    Plan: Rule(
        "the plan, while the patient shares it",
        lambda scope, m: (m.shared.is_(True),),
        always=("shared", "review_every_days", "last_reviewed_at"),
    ),
    PlanRevision: Rule(
        "the plan's revisions, while the patient shares the plan",
        lambda scope, m: (_plan_shared(m),),
    ),
    PartsMap: Rule(
        "the parts map's setting, while it is shared",
        lambda scope, m: (m.shared.is_(True),),
        always=("shared",),
    ),
    Part: Rule(
        "live parts, while the patient shares the map",
        lambda scope, m: (_map_shared(m), m.deleted.is_(False)),
    ),
    PartRelation: Rule(
        "live relations, while the patient shares the map",
        lambda scope, m: (_map_shared(m), m.deleted.is_(False)),
    ),
    PartChange: Rule(
        "the map's history, while the patient shares the map", lambda s, m: (_map_shared(m),)
    ),
    # a removed check-in is a tombstone: its time stays (a flag it raised shows when),
    # its answers are gone
    CheckIn: Rule(
        "every check-in's answers and scores; its note only when not kept private",
        withheld=_private_note,
    ),
    RiskFlag: Rule("every flag, whatever the patient shares"),
    # what the care team set, and how it was followed (a skip's reason too: it is said
    # to them); the entry that answered homework is read only if the patient shares it
    Assignment: Rule(
        "the measurement plans and homework set for the patient, and how they were followed",
        lambda scope, m: (m.deleted.is_(False),),
    ),
    TreatmentSession: Rule(
        "the sessions on the timeline", lambda scope, m: (m.deleted.is_(False),)
    ),
    JournalPrompt: Rule(
        "the prompts this therapist wrote", lambda scope, m: (m.author_id == scope.therapist.id,)
    ),
    # how reminders were followed through: counts, never what a reminder said
    ReminderOccurrence: Rule("prompts the patient's reminders sent", owner="user_id"),
    PushDelivery: Rule("whether those prompts arrived and were opened", owner="user_id"),
    PushSubscription: Rule("how many devices get the patient's reminders", owner="user_id"),
}


def rule(model) -> Rule:
    """The rule for `model`; a model without one is not readable (never "everything")."""
    try:
        return RULES[model]
    except KeyError:
        raise LookupError(
            f"no access rule for {model.__name__}: a therapist cannot read it"
        ) from None


def _always(model, columns) -> None:
    allowed = rule(model).always
    for column in columns:
        if column.key not in allowed:
            raise LookupError(
                f"{model.__name__}.{column.key} is read only as the patient shares it"
            )


# -- scopes ------------------------------------------------------------------------------


class OwnScope:
    """A patient's own rows: everything of theirs, nothing of anyone else's."""

    def __init__(self, patient: User):
        self.patient = patient
        self.patient_id = patient.id

    def select(self, model, *columns) -> Select:
        """Rows of `model` (or these columns of them) that belong to the patient."""
        owner = getattr(model, RULES[model].owner if model in RULES else "patient_id")
        return select(*(columns or (model,))).where(owner == self.patient_id)

    def withheld(self, row) -> frozenset:
        return frozenset()


class SharedScope:
    """What a linked therapist reads of one patient: each model by its rule, and only
    while the link is active (the link is part of every query, so a link ended a moment
    ago hides everything)."""

    def __init__(self, therapist: User, patient: User):
        self.therapist = therapist
        self.patient = patient
        self.patient_id = patient.id

    def select(self, model, *columns) -> Select:
        """Rows of `model` (or these columns of them) this therapist may read."""
        model_rule = rule(model)
        owner = getattr(model, model_rule.owner)
        return select(*(columns or (model,))).where(
            owner == self.patient_id,
            active_link_clause(self.therapist.id, owner),
            *model_rule.rows(self, model),
        )

    def always(self, model, *columns) -> Select:
        """These columns of the patient's `model` rows, which the care team sees whatever
        the patient shares (only columns the rule lists: whether the plan is shared,
        when its review is due)."""
        _always(model, columns)
        owner = getattr(model, rule(model).owner)
        return select(*columns).where(
            owner == self.patient_id, active_link_clause(self.therapist.id, owner)
        )

    def withheld(self, row) -> frozenset:
        """Answer keys of a readable row the therapist must still not see."""
        return rule(type(row)).withheld(row)

    def read(self, object_type: str, object_ids=()) -> None:
        """The one way to say "this therapist read this of the patient": one audit event,
        in the patient's access log."""
        audit.record(self.therapist, "read", self.patient_id, object_type, object_ids)

    def wrote(self, action: str, object_type: str, object_ids=()) -> None:
        """A therapist's change to the patient's data: one audit event."""
        audit.record(self.therapist, action, self.patient_id, object_type, object_ids)


def own_scope(patient: User) -> OwnScope:
    return OwnScope(patient)


def shared_scope(therapist: User, patient_id: uuid.UUID) -> SharedScope:
    """The therapist's view of a patient they are actively linked to, else 404 (one
    statement; an unlinked patient and no patient at all look the same)."""
    patient = None
    if therapist.role is Role.THERAPIST:
        patient = db.session.scalar(
            select(User).where(User.id == patient_id, active_link_clause(therapist.id, User.id))
        )
    if patient is None:
        raise not_found(_("No such patient."))
    return SharedScope(therapist, patient)


class CaseloadScope:
    """A therapist's whole caseload: rows of every actively linked patient, each model by
    its rule (flags across patients, the caseload's figures)."""

    def __init__(self, therapist: User):
        self.therapist = therapist

    def select(self, model, *columns) -> Select:
        model_rule = rule(model)
        owner = getattr(model, model_rule.owner)
        return select(*(columns or (model,))).where(
            active_link_clause(self.therapist.id, owner), *model_rule.rows(self, model)
        )

    def visible(self, model, owner_column) -> tuple:
        """Conditions on `model` rows readable here, correlated to `owner_column` (for a
        per-patient figure computed inside one caseload statement)."""
        model_rule = rule(model)
        return (getattr(model, model_rule.owner) == owner_column, *model_rule.rows(self, model))

    def always(self, model, *columns) -> tuple:
        """Check that the care team sees these columns of `model` whatever the patient
        shares; the columns, to join per patient."""
        _always(model, columns)
        return columns

    def read(self, patient_id: uuid.UUID, object_type: str, object_ids=()) -> None:
        """This therapist read this of one patient on the caseload: one audit event."""
        audit.record(self.therapist, "read", patient_id, object_type, object_ids)

    def read_each(self, object_type: str, patient_ids) -> None:
        """One read event per patient, in one statement (the caseload's figures)."""
        audit.record_many(self.therapist, "read", object_type, patient_ids)

    def patients(self, *columns) -> Select:
        """These columns for each actively linked patient (User joined to the link)."""
        return select(*columns).join(
            CareLink,
            and_(CareLink.patient_id == User.id, active_link(therapist_id=self.therapist.id)),
        )


def caseload_scope(therapist: User) -> CaseloadScope:
    return CaseloadScope(therapist)


def linked_patient(actor: User, patient_id: uuid.UUID) -> User:
    """The patient behind `patient_id` if this therapist is linked to them, else 404."""
    return shared_scope(actor, patient_id).patient


def own_rows(actor: User, model) -> Select:
    """Rows of `model` that belong to the acting patient."""
    return own_scope(actor).select(model)
