from marshmallow import fields, validate

from server.brief.service import SORTS
from server.journal.schemas import TherapistEntrySchema
from server.schemas import StrictSchema


class CaseloadArgsSchema(StrictSchema):
    sort = fields.String(load_default="flags", validate=validate.OneOf(SORTS))


class CaseloadRowSchema(StrictSchema):
    patient_id = fields.UUID()
    display_name = fields.String()
    linked_at = fields.DateTime()
    last_activity_at = fields.DateTime(allow_none=True)
    next_session_at = fields.DateTime(allow_none=True)
    open_flags = fields.Integer()
    unread_shared_entries = fields.Integer()
    latest_phq9 = fields.Integer(allow_none=True)
    latest_phq9_at = fields.DateTime(allow_none=True)
    phq9_change = fields.Integer(allow_none=True)
    plan_review_due = fields.Boolean()


class BriefArgsSchema(StrictSchema):
    since = fields.AwareDateTime(load_default=None)


class BriefSchema(StrictSchema):
    patient = fields.Dict()
    since = fields.DateTime()
    until = fields.DateTime()
    entries = fields.List(fields.Nested(TherapistEntrySchema))
    unread_entries = fields.Integer()
    bring_to_session = fields.List(fields.Dict())
    scores = fields.List(fields.Dict())
    flags = fields.List(fields.Dict())
    plan = fields.Dict()
    parts = fields.Dict()
    sessions = fields.List(fields.Dict())
    reminders = fields.Dict(allow_none=True)
