from flask_babel import gettext as _
from marshmallow import ValidationError, fields, validate, validates_schema

from server.checkins.instruments import INSTRUMENTS
from server.schemas import PageArgsSchema, StrictSchema

INSTRUMENT_IDS = list(INSTRUMENTS)
# what a therapist did about a risk flag ("other" says it in the note)
FLAG_ACTIONS = ["contacted_patient", "reviewed_safety_plan", "seen_in_session", "other"]
NOTE_MAX = 2000


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


class FlagNoteSchema(StrictSchema):
    id = fields.UUID()
    author = fields.String(allow_none=True)  # None once the author's account is gone
    action = fields.String(allow_none=True)
    note = fields.String()
    created_at = fields.DateTime()


class FlagSchema(StrictSchema):
    """A risk flag. `created_at` is when the answer reached the server; `answered_at`
    when the patient gave it (with their UTC offset), which can be days earlier."""

    id = fields.UUID()
    patient_id = fields.UUID()
    patient_name = fields.String()
    checkin_id = fields.UUID()
    reason = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by = fields.String(allow_none=True)
    # the first note's text, as before notes were a list
    acknowledgement_note = fields.String()
    answered_at = fields.String(allow_none=True)
    instrument = fields.String()
    item_value = fields.Raw(allow_none=True)  # PHQ-9 item 9: 0-3; daily safety: true
    item_words = fields.String(allow_none=True)
    total = fields.Integer(allow_none=True)
    severity = fields.String(allow_none=True)
    notes = fields.List(fields.Nested(FlagNoteSchema))


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


def _blank(text: str | None) -> bool:
    return not (text or "").strip()


class AcknowledgeSchema(StrictSchema):
    """What was done (`action`), in words (`note`), or both; `other` needs the words."""

    action = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(FLAG_ACTIONS)
    )
    note = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX))

    @validates_schema
    def _something_said(self, data, **_kwargs):
        if data.get("action") == "other" and _blank(data.get("note")):
            raise ValidationError(_("Say in a note what was done."), "note")
        if data.get("action") is None and _blank(data.get("note")):
            raise ValidationError(_("Choose what you did, or write a note."), "note")


class FlagNoteCreateSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(max=NOTE_MAX))
    action = fields.String(
        load_default=None, allow_none=True, validate=validate.OneOf(FLAG_ACTIONS)
    )

    @validates_schema
    def _something_said(self, data, **_kwargs):
        if _blank(data.get("note")):
            raise ValidationError(_("Write the note."), "note")


class FlagQuerySchema(StrictSchema):
    status = fields.String(load_default=None, validate=validate.OneOf(["open", "acknowledged"]))
