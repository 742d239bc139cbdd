import re

from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate, validates_schema

from server.schemas import StrictSchema

MAX_ITEMS = 100  # per section
MAX_TEXT = 2000  # per item
PHONE = re.compile(r"^\+?[0-9 ()\-.]{2,31}$")

ITEM_SECTIONS = (
    "warning_signs",
    "triggers",
    "coping_steps",
    "distractions",
    "safe_environment",
    "reasons_for_living",
)
CONTACT_SECTIONS = ("support_contacts", "professional_contacts")
SECTIONS = ITEM_SECTIONS + CONTACT_SECTIONS + ("crisis_lines", "maintenance_criteria")


def _phone(value: str) -> None:
    """Lenient: digits, spaces, +, -, dots and parentheses, with at least two digits."""
    if not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 2:
        raise ValidationError(_("Use digits, spaces, +, - or parentheses."))


def _section(nested) -> fields.List:
    return fields.List(fields.Nested(nested), validate=validate.Length(max=MAX_ITEMS))


class ItemSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, MAX_TEXT))
    part_id = fields.UUID(allow_none=True)  # a trigger may name an IFS part


class ContactSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    relation = fields.String(load_default="", validate=validate.Length(max=100))
    phone = fields.String(allow_none=True, validate=_phone)
    note = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))


class CrisisLineSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    phone = fields.String(allow_none=True, validate=_phone)
    sms = fields.String(allow_none=True, validate=_phone)
    note = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))

    @validates_schema
    def _reachable(self, data, **_kw):
        if not data.get("phone") and not data.get("sms"):
            raise ValidationError(_("Give a number to call or to text."), "phone")


class ScoreRuleSchema(StrictSchema):
    """e.g. PHQ-9 ≥ 10 twice in a row."""

    instrument = fields.String(required=True, validate=validate.OneOf(["phq9", "gad7"]))
    at_least = fields.Integer(required=True, strict=True, validate=validate.Range(0, 27))
    times_in_a_row = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 10))


class CriterionSchema(StrictSchema):
    text = fields.String(required=True, validate=validate.Length(1, MAX_TEXT))
    rule = fields.Nested(ScoreRuleSchema, allow_none=True, load_default=None)


class PlanFieldsSchema(StrictSchema):
    warning_signs = _section(ItemSchema)
    triggers = _section(ItemSchema)
    coping_steps = _section(ItemSchema)
    distractions = _section(ItemSchema)
    support_contacts = _section(ContactSchema)
    professional_contacts = _section(ContactSchema)
    crisis_lines = _section(CrisisLineSchema)
    safe_environment = _section(ItemSchema)
    reasons_for_living = _section(ItemSchema)
    maintenance_criteria = _section(CriterionSchema)
    region = fields.String(allow_none=True, validate=validate.Regexp(r"^[A-Z]{2}$"))
    review_every_days = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(1, 365)
    )
    last_reviewed_at = fields.AwareDateTime(allow_none=True)
    shared = fields.Boolean()


class PlanUpdateSchema(PlanFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=0))
    summary = fields.String(validate=validate.Length(max=500))


class _PlanBody(StrictSchema):
    warning_signs = fields.List(fields.Dict())
    triggers = fields.List(fields.Dict())
    coping_steps = fields.List(fields.Dict())
    distractions = fields.List(fields.Dict())
    support_contacts = fields.List(fields.Dict())
    professional_contacts = fields.List(fields.Dict())
    crisis_lines = fields.List(fields.Dict())
    safe_environment = fields.List(fields.Dict())
    reasons_for_living = fields.List(fields.Dict())
    maintenance_criteria = fields.List(fields.Dict())


class PlanSchema(_PlanBody):
    id = fields.UUID()
    region = fields.String(allow_none=True)
    review_every_days = fields.Integer(allow_none=True)
    last_reviewed_at = fields.DateTime(allow_none=True)
    review_due = fields.Boolean()
    review_due_at = fields.DateTime(allow_none=True)
    shared = fields.Boolean()
    updated_at = fields.DateTime(allow_none=True)
    updated_by_role = fields.String(allow_none=True)
    version = fields.Integer()


class RevisionSchema(_PlanBody):
    number = fields.Integer()
    author_role = fields.String()
    author_name = fields.String()
    summary = fields.String()
    conflict = fields.Boolean()
    created_at = fields.DateTime()
    settings = fields.Dict()


class RevisionListItemSchema(StrictSchema):
    number = fields.Integer()
    author_role = fields.String()
    author_name = fields.String()
    summary = fields.String()
    conflict = fields.Boolean()
    created_at = fields.DateTime()


class DiffArgsSchema(StrictSchema):
    from_ = fields.Integer(data_key="from", required=True, validate=validate.Range(1, 10**6))
    to = fields.Integer(required=True, validate=validate.Range(1, 10**6))


class DiffSchema(StrictSchema):
    from_ = fields.Integer(data_key="from")
    to = fields.Integer()
    sections = fields.Dict()
    settings = fields.Dict()
    summary = fields.String()


class CrisisCardSchema(StrictSchema):
    region = fields.String(allow_none=True)
    emergency_number = fields.String(allow_none=True)
    emergency_words = fields.String()
    not_monitored = fields.String()
    warning_signs = fields.List(fields.String())
    coping_steps = fields.List(fields.String())
    contacts = fields.List(fields.Dict())
    crisis_lines = fields.List(fields.Dict())
    maintenance_suggested = fields.Boolean()
