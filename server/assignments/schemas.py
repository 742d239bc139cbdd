"""What a therapist may set, what a patient may answer, and how an assignment reads."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields, validate

from server.assignments.models import AssignmentKind, HomeworkStatus, HomeworkType, Instrument
from server.schemas import StrictSchema
from server.sessions.models import SessionKind

TEXT_MAX = 2000
REASON_MAX = 500
WINDOW_HOURS = (1, 168)  # an hour up to a week to answer
RELATIVE_DAYS = (-14, 28)  # two weeks before a session up to four after
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
HH_MM = validate.Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error=_l("A time of day like 09:00."))


def _distinct(values: list) -> None:
    if len(set(values)) != len(values):
        raise ValidationError(_("Each day once."))


class WeeklyScheduleSchema(StrictSchema):
    """Every week on this day, at this local time."""

    type = fields.String(required=True, validate=validate.Equal("weekly"))
    day = fields.String(required=True, validate=validate.OneOf(WEEKDAYS))
    time = fields.String(required=True, validate=HH_MM)


class SessionsScheduleSchema(StrictSchema):
    """Days before (negative) or after each session of a kind, at this local time, the
    days counted in the patient's own calendar."""

    type = fields.String(required=True, validate=validate.Equal("sessions"))
    session_kind = fields.String(
        required=True, validate=validate.OneOf([k.value for k in SessionKind])
    )
    days = fields.List(
        fields.Integer(strict=True, validate=validate.Range(*RELATIVE_DAYS)),
        required=True,
        validate=[validate.Length(1, 5), _distinct],
    )
    time = fields.String(required=True, validate=HH_MM)


SCHEDULES = {"weekly": WeeklyScheduleSchema(), "sessions": SessionsScheduleSchema()}


class ScheduleField(fields.Dict):
    """One of the schedule shapes, chosen by its `type`; stored as plain JSON."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, dict):
            raise ValidationError(_("A schedule: weekly or relative to sessions."))
        schema = SCHEDULES.get(value.get("type"))
        if schema is None:
            raise ValidationError({"type": [_("One of: weekly, sessions.")]})
        return schema.load(value)


class AssignmentFieldsSchema(StrictSchema):
    """What a therapist sets; which fields a kind needs is checked by the service."""

    instrument = fields.Enum(Instrument, by_value=True)
    schedule = ScheduleField()
    window_hours = fields.Integer(strict=True, validate=validate.Range(*WINDOW_HOURS))
    homework_type = fields.Enum(HomeworkType, by_value=True)
    text = fields.String(validate=validate.Length(max=TEXT_MAX))
    due_at = fields.AwareDateTime(allow_none=True)
    due_session_id = fields.UUID(allow_none=True)
    due_days = fields.Integer(strict=True, allow_none=True, validate=validate.Range(*RELATIVE_DAYS))
    due_time = fields.String(allow_none=True, validate=HH_MM)


class AssignmentCreateSchema(AssignmentFieldsSchema):
    id = fields.UUID()
    kind = fields.Enum(AssignmentKind, by_value=True, required=True)


class AssignmentUpdateSchema(AssignmentFieldsSchema):
    version = fields.Integer(strict=True, validate=validate.Range(min=1))


class DoneSchema(StrictSchema):
    entry_id = fields.UUID(allow_none=True, load_default=None)


class SkipSchema(StrictSchema):
    reason = fields.String(load_default="", validate=validate.Length(max=REASON_MAX))


class SnoozeSchema(StrictSchema):
    until = fields.AwareDateTime(required=True)


class PauseSchema(StrictSchema):
    paused = fields.Boolean(required=True)


class AssignmentPushSchema(StrictSchema):
    """What a patient's device may change of an assignment: its answer (homework) or its
    pause (a measurement plan). Anything else is the therapist's."""

    status = fields.Enum(HomeworkStatus, by_value=True)
    done_at = fields.AwareDateTime(allow_none=True)
    entry_id = fields.UUID(allow_none=True)
    skip_reason = fields.String(validate=validate.Length(max=REASON_MAX))
    snoozed_until = fields.AwareDateTime(allow_none=True)
    paused_at = fields.AwareDateTime(allow_none=True)


class SetBySchema(StrictSchema):
    id = fields.UUID()
    display_name = fields.String()


class AssignmentSchema(StrictSchema):
    """An assignment as the API and the sync feed send it (one shape for both)."""

    id = fields.UUID()
    patient_id = fields.UUID()
    kind = fields.String()
    set_by = fields.Nested(SetBySchema, allow_none=True)
    instrument = fields.String(allow_none=True)
    schedule = fields.Dict(allow_none=True)
    window_hours = fields.Integer(allow_none=True)
    paused_at = fields.DateTime(allow_none=True)
    last_asked_at = fields.DateTime(allow_none=True)
    window_ends_at = fields.DateTime(allow_none=True)
    homework_type = fields.String(allow_none=True)
    text = fields.String()
    # in the offset it is due in (the patient's zone then), like a session's start
    due_at = fields.String(allow_none=True)
    due_session_id = fields.UUID(allow_none=True)
    due_days = fields.Integer(allow_none=True)
    due_time = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    # open / done / late / skipped (read.status_now); None for a measurement plan
    status_now = fields.String(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    entry_id = fields.UUID(allow_none=True)
    skip_reason = fields.String()
    snoozed_until = fields.DateTime(allow_none=True)
    version = fields.Integer()
    deleted = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AssignmentListSchema(StrictSchema):
    items = fields.List(fields.Nested(AssignmentSchema))
