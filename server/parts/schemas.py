from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate

from server.parts.models import PartRole, RelationKind
from server.schemas import StrictSchema

_text = {"validate": validate.Length(max=5000)}
_coord = {"allow_nan": False, "validate": validate.Range(-100_000, 100_000)}


def _only_null(value) -> None:
    if value is not None:
        raise ValidationError(_("Only null: it marks a conflict copy as resolved."))


class PartFieldsSchema(StrictSchema):
    """What a patient may write on a part: the allowlist."""

    name = fields.String(validate=validate.Length(1, 100))
    role = fields.Enum(PartRole, by_value=True)
    description = fields.String(**_text)
    feelings = fields.List(
        fields.String(validate=validate.Length(1, 40)), validate=validate.Length(max=30)
    )
    body_location = fields.String(validate=validate.Length(max=200))
    age_sense = fields.String(validate=validate.Length(max=100))
    positive_intent = fields.String(**_text)
    burdens = fields.String(**_text)
    fears = fields.String(**_text)
    needs = fields.String(**_text)
    first_noticed_at = fields.Date(allow_none=True)
    x = fields.Float(**_coord)
    y = fields.Float(**_coord)
    color = fields.String(validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"))
    # a kept conflict copy becomes an ordinary one once the patient resolves it
    conflict_of = fields.UUID(allow_none=True, validate=_only_null)


class PartCreateSchema(PartFieldsSchema):
    id = fields.UUID()
    name = fields.String(required=True, validate=validate.Length(1, 100))


class PartUpdateSchema(PartFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class PartSchema(StrictSchema):
    id = fields.UUID()
    name = fields.String()
    role = fields.Enum(PartRole, by_value=True)
    description = fields.String()
    feelings = fields.List(fields.String())
    body_location = fields.String()
    age_sense = fields.String()
    positive_intent = fields.String()
    burdens = fields.String()
    fears = fields.String()
    needs = fields.String()
    first_noticed_at = fields.Date(allow_none=True)
    x = fields.Float()
    y = fields.Float()
    color = fields.String()
    conflict_of = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    deleted = fields.Boolean()


class RelationFieldsSchema(StrictSchema):
    source_id = fields.UUID()
    target_id = fields.UUID()
    kind = fields.Enum(RelationKind, by_value=True)
    note = fields.String(validate=validate.Length(max=2000))


class RelationCreateSchema(RelationFieldsSchema):
    id = fields.UUID()
    source_id = fields.UUID(required=True)
    target_id = fields.UUID(required=True)
    kind = fields.Enum(RelationKind, by_value=True, required=True)


class RelationUpdateSchema(RelationFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class RelationSchema(StrictSchema):
    id = fields.UUID()
    source_id = fields.UUID()
    target_id = fields.UUID()
    kind = fields.Enum(RelationKind, by_value=True)
    note = fields.String()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    deleted = fields.Boolean()


class MapSchema(StrictSchema):
    shared = fields.Boolean()
    parts = fields.List(fields.Nested(PartSchema))
    relations = fields.List(fields.Nested(RelationSchema))


class MapUpdateSchema(StrictSchema):
    shared = fields.Boolean(required=True)


class ActivityWeekSchema(StrictSchema):
    week_start = fields.Date()
    count = fields.Integer()


class ActivityEntrySchema(StrictSchema):
    id = fields.UUID()
    title = fields.String()
    written_at = fields.String()


class ActivitySchema(StrictSchema):
    part_id = fields.UUID()
    weeks = fields.List(fields.Nested(ActivityWeekSchema))
    entries = fields.List(fields.Nested(ActivityEntrySchema))


class PartChangeSchema(StrictSchema):
    at = fields.DateTime()
    object_type = fields.String()
    object_id = fields.UUID()
    action = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields")
    text = fields.String()
    by = fields.String()


class PartChangesArgsSchema(StrictSchema):
    since = fields.AwareDateTime(load_default=None)
