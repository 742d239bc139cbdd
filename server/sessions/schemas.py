from marshmallow import fields, validate

from server.schemas import StrictSchema
from server.sessions.models import Route, SessionKind, SessionStatus


class TreatmentSessionFieldsSchema(StrictSchema):
    kind = fields.Enum(SessionKind, by_value=True)
    starts_at = fields.AwareDateTime()
    duration_minutes = fields.Integer(strict=True, validate=validate.Range(5, 24 * 60))
    route = fields.Enum(Route, by_value=True, allow_none=True)
    title = fields.String(validate=validate.Length(max=200))
    note = fields.String(validate=validate.Length(max=5000))


class TreatmentSessionCreateSchema(TreatmentSessionFieldsSchema):
    id = fields.UUID()
    kind = fields.Enum(SessionKind, by_value=True, required=True)
    starts_at = fields.AwareDateTime(required=True)


class TreatmentSessionUpdateSchema(TreatmentSessionFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1))
    # a past session: held or did_not_happen; an upcoming one: scheduled
    status = fields.Enum(SessionStatus, by_value=True)


class TreatmentSessionSchema(StrictSchema):
    id = fields.UUID()
    patient_id = fields.UUID()
    kind = fields.Enum(SessionKind, by_value=True)
    starts_at = fields.String()
    ends_at = fields.String()
    duration_minutes = fields.Integer()
    route = fields.Enum(Route, by_value=True, allow_none=True)
    title = fields.String()
    note = fields.String()
    version = fields.Integer()
    deleted = fields.Boolean()
    status = fields.String()  # scheduled, held (a past session), did_not_happen


class MySessionsSchema(StrictSchema):
    upcoming = fields.List(fields.Nested(TreatmentSessionSchema))
    past = fields.List(fields.Nested(TreatmentSessionSchema))
    days_since_last_dosing = fields.Integer(allow_none=True)
    last_dosing_at = fields.String(allow_none=True)
