from marshmallow import fields, validate

from server.checkins.instruments import INSTRUMENTS
from server.schemas import PageArgsSchema, StrictSchema

INSTRUMENT_IDS = list(INSTRUMENTS)


class CheckInCreateSchema(StrictSchema):
    id = fields.UUID()
    instrument = fields.String(required=True, validate=validate.OneOf(INSTRUMENT_IDS))
    # checked item by item against the instrument by the service (clear per-item errors)
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 40)),
        required=True,
        validate=validate.Length(max=20),
    )
    answered_at = fields.AwareDateTime(required=True)
    note_private = fields.Boolean(load_default=False)
    session_id = fields.UUID(allow_none=True, load_default=None)


class FlagSchema(StrictSchema):
    id = fields.UUID()
    patient_id = fields.UUID()
    patient_name = fields.String()
    checkin_id = fields.UUID()
    reason = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    acknowledgement_note = fields.String()


class CheckInSchema(StrictSchema):
    id = fields.UUID()
    instrument = fields.String()
    answers = fields.Dict()
    answered_at = fields.String()
    score = fields.Integer(allow_none=True)
    severity = fields.String(allow_none=True)
    complete = fields.Boolean()
    note_private = fields.Boolean()
    session_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    flags = fields.List(fields.Nested(FlagSchema))


class CheckInResultSchema(CheckInSchema):
    """What the patient sees right after answering."""

    crisis_card = fields.Dict(allow_none=True)
    alerted_therapists = fields.Integer()
    message = fields.String(allow_none=True)
    maintenance = fields.Dict()


class CheckInPageSchema(StrictSchema):
    checkins = fields.List(fields.Nested(CheckInSchema))
    next_cursor = fields.String(allow_none=True)


class CheckInQuerySchema(PageArgsSchema):
    instrument = fields.String(load_default=None, validate=validate.OneOf(INSTRUMENT_IDS))
    from_ = fields.AwareDateTime(data_key="from", load_default=None)
    to = fields.AwareDateTime(load_default=None)


class TrendQuerySchema(StrictSchema):
    instrument = fields.String(required=True, validate=validate.OneOf(INSTRUMENT_IDS))
    from_ = fields.AwareDateTime(data_key="from", load_default=None)
    to = fields.AwareDateTime(load_default=None)


class TrendSchema(StrictSchema):
    instrument = fields.String()
    series = fields.List(fields.Dict())
    baseline = fields.Dict(allow_none=True)
    latest = fields.Dict(allow_none=True)
    change = fields.Integer(allow_none=True)
    percent_change = fields.Float(allow_none=True)
    response = fields.Boolean(allow_none=True)
    remission = fields.Boolean(allow_none=True)
    markers = fields.List(fields.Dict())


class AcknowledgeSchema(StrictSchema):
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class FlagQuerySchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "acknowledged"]))
