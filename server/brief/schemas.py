from marshmallow import fields, validate

from server.brief.service import SORTS
from server.checkins.schemas import FlagSchema
from server.journal.schemas import TherapistEntrySchema
from server.schemas import StrictSchema


class CaseloadArgsSchema(StrictSchema):
    sort = fields.String(load_default="flags", validate=validate.OneOf(SORTS))


class OpenFlagSchema(StrictSchema):
    """A caseload row's newest open flag: why, and when the patient answered."""

    id = fields.UUID()
    reason = fields.String()
    instrument = fields.String(allow_none=True)
    item_words = fields.String(allow_none=True)
    answered_at = fields.String(allow_none=True)


class NotOnTrackSchema(StrictSchema):
    reasons = fields.List(fields.String())


class DailyNoteSchema(StrictSchema):
    checkin_id = fields.UUID()
    answered_at = fields.String()
    note = fields.String()


class HomeworkCountsSchema(StrictSchema):
    """A patient's homework since the last session, by the status it shows now."""

    open = fields.Integer()
    late = fields.Integer()
    done = fields.Integer()
    skipped = fields.Integer()


class MeasureFollowThroughSchema(StrictSchema):
    """One measurement plan's asks in the window, and how each was answered."""

    assignment_id = fields.UUID()
    instrument = fields.String()
    asked = fields.Integer()
    on_time = fields.Integer()
    late = fields.Integer()
    missed = fields.Integer()
    open = fields.Integer()


class HomeworkFollowThroughSchema(StrictSchema):
    id = fields.UUID()
    homework_type = fields.String()
    text = fields.String()
    due_at = fields.String(allow_none=True)
    status_now = fields.String()
    done_at = fields.DateTime(allow_none=True)
    skip_reason = fields.String()


class FollowThroughSchema(StrictSchema):
    measures = fields.List(fields.Nested(MeasureFollowThroughSchema))
    homework = fields.List(fields.Nested(HomeworkFollowThroughSchema))


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
    open_flag = fields.Nested(OpenFlagSchema, allow_none=True)
    not_on_track = fields.Nested(NotOnTrackSchema, allow_none=True)
    homework = fields.Nested(HomeworkCountsSchema)


class BriefArgsSchema(StrictSchema):
    since = fields.AwareDateTime(load_default=None)


class BriefSchema(StrictSchema):
    patient = fields.Dict()
    since = fields.DateTime()
    until = fields.DateTime()
    summary = fields.String()
    not_on_track = fields.Nested(NotOnTrackSchema, allow_none=True)
    entries = fields.List(fields.Nested(TherapistEntrySchema))
    unread_entries = fields.Integer()
    bring_to_session = fields.List(fields.Dict())
    scores = fields.List(fields.Dict())
    daily_notes = fields.List(fields.Nested(DailyNoteSchema))
    flags = fields.List(fields.Nested(FlagSchema))
    plan = fields.Dict()
    parts = fields.Dict()
    sessions = fields.List(fields.Dict())
    reminders = fields.Dict(allow_none=True)
    follow_through = fields.Nested(FollowThroughSchema)
